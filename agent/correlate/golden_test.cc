// Golden files: for every scenario of tests/data/postfix-lab/scenarios.tsv, the exact hop events
// both lab MTAs' logs must yield, one per line, with a one-line justification after '#'.
//
// The events of both logs are assigned to scenarios by following queue ids from the scenario's
// queue id at A: next hops ("queued as"), local forwards ("forwarded as") and bounce(8)
// notifications (client "bounce:<qid>"), in both directions. Each golden line is compared field
// by field. MTRK_UPDATE_GOLDEN=1 rewrites the files from what the code does, keeping the "# why"
// of lines that still match; a new line gets a generated reason to be reviewed by hand, since the
// golden must say what is RIGHT (RFC 3886, DIGEST §3), not what the code happens to do.
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "agent/correlate/correlator.h"
#include "agent/parse/postfix/postfix_parser.h"
#include "gtest/gtest.h"

namespace mtrk::agent::correlate {
namespace {

using model::HopEvent;

constexpr char kDir[] = "agent/correlate/testdata/golden/";

// Roots the scenarios table cannot give ("NOQUEUE", "(see log...)"): found in the logs by hand.
const std::map<std::string, std::vector<std::string>> kExtraRoots = {
    // B's smtpd notifies the postmaster of the RCPT reject (notify_classes): a message from
    // double-bounce@ that no queue id of the scenario leads to.
    {"b1-unknown-user-rejected-at-rcpt", {"4jXwvt04KZz1bcJ5"}},
    {"h7-double-bounce", {"4jXwwM2tJ2z1bc5x"}},
    {"g3-header-reject", {"9402AA74264"}},           // cleanup "reject: header" after client=
    {"h6-client-quit-after-rcpt", {"4D179A74001"}},  // client= only, then QUIT
    {"h8-sendmail-pickup", {"3CA89A74156"}},         // pickup uid=0
};

// Why a scenario has no events at all.
const std::map<std::string, std::string> kNoEvents = {
    {"g1-relay-denied",
     "smtpd NOQUEUE reject: RCPT 554 5.7.1 relay access denied: no queue file, the client got the "
     "refusal itself, so no MTA holds the message (nothing to track)."},
    {"g2-unknown-local-recipient",
     "smtpd NOQUEUE reject: RCPT 550 5.1.1: never accepted, the client reports its own failure."},
    {"g3-header-reject",
     "cleanup header_checks REJECT after DATA: queue id 9402AA74264 was assigned, but the client "
     "got 5.7.1 at end of DATA and no queue file remains (MessageRejected: forgotten)."},
    {"h6-client-quit-after-rcpt",
     "client QUIT after RCPT: queue id 4D179A74001 has only client=, no message was accepted "
     "(stays open until Flush/EvictIdle, which emit nothing)."},
};

std::vector<HopEvent> RunLog(const char* path, CorrelatorOptions options) {
  const parse::SyslogHeaderParser headers(
      {.reference = absl::FromCivil(absl::CivilDay(2026, 11, 24), absl::UTCTimeZone())});
  const std::unique_ptr<parse::LineParser> parser = parse::NewPostfixParser();
  Correlator correlator(std::move(options));
  std::vector<HopEvent> events;
  std::ifstream in(path);
  EXPECT_TRUE(in.is_open()) << path;
  for (std::string raw; std::getline(in, raw);) {
    absl::StatusOr<parse::LogLine> line = headers.Parse(raw);
    if (!line.ok()) continue;
    absl::StatusOr<parse::LineFact> fact = parser->Parse(*line);
    if (!fact.ok()) continue;
    for (HopEvent& e : correlator.Add(*line, *fact)) events.push_back(std::move(e));
  }
  for (HopEvent& e : correlator.Flush()) events.push_back(std::move(e));
  return events;
}

std::string Clock(absl::Time t) {
  return t == absl::InfinitePast() ? "-" : absl::FormatTime("%H:%M:%S", t, absl::UTCTimeZone());
}

// The compared part of a golden line: key=value fields separated by single spaces.
std::string Fields(const HopEvent& e) {
  const auto or_dash = [](const std::string& s) { return s.empty() ? std::string("-") : s; };
  return absl::StrCat(
      "host=", e.reporting_host, " qid=", e.queue_id, " at=", Clock(e.event_time),
      " action=", model::ActionName(e.action), " status=", e.status,
      " final=", or_dash(e.final_recipient), " orig=", or_dash(e.original_recipient),
      " remote=", or_dash(e.remote_mta), " next=", or_dash(e.next_queue_id),
      " member=", e.expansion_member ? "yes" : "no", " envid=", or_dash(e.envid),
      " certified=", e.certifier.empty() ? "no" : "yes", " sender=", or_dash(e.sender),
      " client=", or_dash(e.client), " retry_until=", Clock(e.will_retry_until),
      " last_attempt=", Clock(e.last_attempt_time));
}

// A first draft of the reason, for a human to check and improve.
std::string DraftWhy(const HopEvent& e) {
  const std::string diag = e.diagnostic.substr(0, 60);
  switch (e.action) {
    case model::DsnAction::kTransferred:
      return absl::StrCat("status=sent to ", e.remote_mta,
                          ", a hop with its own agent -> transferred (RFC 3886 3.3.3)");
    case model::DsnAction::kRelayed:
      return absl::StrCat("status=sent to ", e.remote_mta,
                          ", not known to track -> relayed, 2.1.9 (RFC 3886 3.3.4)");
    case model::DsnAction::kDelivered:
      return absl::StrCat(
          e.expansion_member ? "list member, no envid/certifier (RFC 3885 3.3); " : "",
          "final hand-off (", diag, ") -> delivered");
    case model::DsnAction::kExpanded:
      return absl::StrCat("several recipients from ", e.original_recipient,
                          " -> expanded; members not shown (RFC 3886 4.2)");
    case model::DsnAction::kDelayed:
      return absl::StrCat("still in our queue (", diag, ") -> delayed");
    case model::DsnAction::kFailed:
      return absl::StrCat(absl::StartsWith(e.status, "4") ? "still deferred when it left the queue"
                                                          : "permanent error",
                          " (", diag, ") -> failed");
    default:
      return "?";
  }
}

// queue id -> queue ids it leads to (both directions, so a scenario is a connected component).
std::map<std::string, std::set<std::string>> Links(const std::vector<HopEvent>& events) {
  std::map<std::string, std::set<std::string>> links;
  const auto link = [&](const std::string& a, const std::string& b) {
    links[a].insert(b);
    links[b].insert(a);
  };
  for (const HopEvent& e : events) {
    if (!e.next_queue_id.empty()) link(e.queue_id, e.next_queue_id);
    if (absl::StartsWith(e.client, "bounce:")) link(e.queue_id, e.client.substr(7));
  }
  return links;
}

struct GoldenLine {
  std::string fields;
  std::string why;
};

std::vector<GoldenLine> ReadGolden(const std::string& path) {
  std::vector<GoldenLine> lines;
  std::ifstream in(path);
  for (std::string raw; std::getline(in, raw);) {
    if (raw.empty() || raw[0] == '#') continue;
    const size_t hash = raw.find("  # ");
    GoldenLine g;
    g.fields = std::string(absl::StripTrailingAsciiWhitespace(raw.substr(0, hash)));
    if (hash != std::string::npos) g.why = raw.substr(hash + 4);
    lines.push_back(std::move(g));
  }
  return lines;
}

std::map<std::string, std::string> Split(const std::string& fields) {
  std::map<std::string, std::string> m;
  for (absl::string_view kv : absl::StrSplit(fields, ' ', absl::SkipEmpty())) {
    const size_t eq = kv.find('=');
    m[std::string(kv.substr(0, eq))] =
        eq == absl::string_view::npos ? "" : std::string(kv.substr(eq + 1));
  }
  return m;
}

TEST(GoldenTest, EveryScenarioYieldsExactlyItsGoldenEvents) {
  CorrelatorOptions a;
  // B runs an agent behind ports 2526 and 2528; its "legacy" listener 2527 drops the DSN
  // keywords (as a hop without MTRK would), so what goes there is relayed.
  a.tracked_next_hops = {"127.0.0.2:2526", "127.0.0.2:2528"};
  CorrelatorOptions b;
  b.tracked_next_hops = {"127.0.0.1"};  // A runs an agent
  std::vector<HopEvent> all = RunLog("tests/data/postfix-lab/postfix-a.maillog", a);
  for (HopEvent& e : RunLog("tests/data/postfix-lab/postfix-b.maillog", b)) {
    all.push_back(std::move(e));
  }
  const auto links = Links(all);

  std::ifstream tsv("tests/data/postfix-lab/scenarios.tsv");
  ASSERT_TRUE(tsv.is_open());
  std::string header;
  std::getline(tsv, header);
  std::set<std::string> assigned_ids;
  int scenarios = 0;
  const bool update = std::getenv("MTRK_UPDATE_GOLDEN") != nullptr;
  for (std::string row; std::getline(tsv, row);) {
    const std::vector<std::string> cols = absl::StrSplit(row, '\t');
    ASSERT_GE(cols.size(), 5u) << row;
    const std::string& name = cols[0];
    SCOPED_TRACE(name);
    ++scenarios;
    std::vector<std::string> roots;
    if (auto it = kExtraRoots.find(name); it != kExtraRoots.end()) roots = it->second;
    if (parse::IsPostfixQueueId(cols[3])) roots.push_back(cols[3]);
    std::set<std::string> ids(roots.begin(), roots.end());
    for (std::vector<std::string> todo = roots; !todo.empty();) {
      const std::string id = todo.back();
      todo.pop_back();
      if (auto it = links.find(id); it != links.end()) {
        for (const std::string& next : it->second) {
          if (ids.insert(next).second) todo.push_back(next);
        }
      }
    }
    std::vector<const HopEvent*> mine;
    for (const HopEvent& e : all) {
      if (ids.contains(e.queue_id)) {
        mine.push_back(&e);
        EXPECT_TRUE(assigned_ids.insert(e.event_id).second) << "event in two scenarios";
      }
    }
    const std::string path = absl::StrCat(kDir, name, ".events");
    const std::vector<GoldenLine> golden = ReadGolden(path);
    if (update) {
      std::map<std::string, std::string> why;
      for (const GoldenLine& g : golden) why[g.fields] = g.why;
      std::ofstream out(path);
      out << "# " << name << ": " << cols[4] << "\n"
          << "# One hop event per line (A's log, then B's); compared field by field by\n"
          << "# agent/correlate/golden_test.cc. After '#': why this event is right.\n";
      if (mine.empty()) {
        auto it = kNoEvents.find(name);
        out << "# No events. "
            << (it != kNoEvents.end() ? it->second : "TODO: say why nothing was accepted") << "\n";
      }
      for (const HopEvent* e : mine) {
        const std::string f = Fields(*e);
        auto it = why.find(f);
        out << f << "  # " << (it != why.end() && !it->second.empty() ? it->second : DraftWhy(*e))
            << "\n";
      }
      continue;
    }
    if (mine.empty()) {
      EXPECT_TRUE(kNoEvents.contains(name)) << "no events and no reason";
    }
    ASSERT_EQ(mine.size(), golden.size()) << "event count differs from " << path;
    for (size_t i = 0; i < mine.size(); ++i) {
      SCOPED_TRACE(absl::StrCat(path, " event ", i + 1));
      EXPECT_FALSE(golden[i].why.empty()) << "golden line without a reason";
      const auto want = Split(golden[i].fields);
      const auto got = Split(Fields(*mine[i]));
      for (const auto& [key, value] : want) {
        auto it = got.find(key);
        EXPECT_TRUE(it != got.end()) << "unknown field " << key;
        if (it != got.end()) {
          EXPECT_EQ(it->second, value) << "field " << key;
        }
      }
      EXPECT_EQ(got.size(), want.size()) << "field set differs";
    }
  }
  EXPECT_EQ(scenarios, 29);
  // Every event of the lab logs belongs to a scenario, except the ones listed here.
  std::vector<std::string> orphans;
  for (const HopEvent& e : all) {
    if (!assigned_ids.contains(e.event_id)) orphans.push_back(Fields(e));
  }
  EXPECT_TRUE(orphans.empty()) << absl::StrJoin(orphans, "\n");
}

}  // namespace
}  // namespace mtrk::agent::correlate
