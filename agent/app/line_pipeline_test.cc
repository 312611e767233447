#include "agent/app/line_pipeline.h"

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mtrk::agent::app {
namespace {

// Three messages interleaved, so that every line boundary has one open or spanning message. The
// i-th line is stamped stamp(i) ("Nov 23 10:00:05" by default).
std::vector<std::string> InterleavedLog(
    const std::function<std::string(int)>& stamp =
        [](int i) { return absl::StrFormat("Nov 23 10:00:%02d", i); },
    int first_queue_id = 0) {
  std::vector<std::string> lines;
  const auto line = [&](const std::string& text) {
    lines.push_back(absl::StrCat(stamp(static_cast<int>(lines.size())), " mta-a postfix/", text));
  };
  const auto q = [&](int i) { return absl::StrFormat("C%09X", first_queue_id + i); };
  for (int i = 0; i < 3; ++i) line(absl::StrCat("smtpd[1]: ", q(i), ": client=h[1.2.3.4]"));
  for (int i = 0; i < 3; ++i) {
    line(absl::StrCat("qmgr[2]: ", q(i), ": from=<s@a>, size=1, nrcpt=1 (queue active)"));
  }
  for (int i = 0; i < 3; ++i) {
    line(absl::StrCat("smtp[3]: ", q(i), ": to=<r", i,
                      "@b>, relay=x[1.1.1.1]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, "
                      "status=sent (250 ok)"));
    line(absl::StrCat("qmgr[2]: ", q(i), ": removed"));
  }
  return lines;
}

std::set<std::string> Ids(const std::vector<model::HopEvent>& events) {
  std::set<std::string> ids;
  for (const auto& e : events) ids.insert(e.event_id);
  return ids;
}

// A crash after each line: the events so far are spooled with the checkpoint; the replay starts
// there and must add exactly the missing events (nothing lost, no fragment with another id).
// Returns the events of one uninterrupted run.
std::vector<model::HopEvent> ExpectReplayFromAnyCheckpointRebuildsTheSameEvents(
    const std::vector<std::string>& lines, const RunConfig& config, absl::Time reference) {
  AgentMetrics metrics;
  std::vector<model::HopEvent> all;
  {
    LinePipeline full(config, reference, metrics);
    for (size_t i = 0; i < lines.size(); ++i) full.Feed(lines[i], i, &all);
  }
  for (size_t crash = 1; crash <= lines.size(); ++crash) {
    SCOPED_TRACE(absl::StrCat("crash after line ", crash));
    std::vector<model::HopEvent> before;
    LinePipeline first(config, reference, metrics);
    for (size_t i = 0; i < crash; ++i) first.Feed(lines[i], i, &before);
    const LinePipeline::Checkpoint cp = first.SafeCheckpoint(crash);
    LinePipeline second(config, reference, metrics);
    second.Resume(cp);
    std::vector<model::HopEvent> after;
    for (size_t i = cp.position; i < lines.size(); ++i) second.Feed(lines[i], i, &after);
    second.Flush(&after);
    std::set<std::string> got = Ids(before);
    for (const auto& id : Ids(after)) got.insert(id);
    EXPECT_EQ(got, Ids(all));
  }
  return all;
}

TEST(LinePipelineTest, ReplayFromAnyCheckpointRebuildsTheSameEventsAndNoFragments) {
  const std::vector<model::HopEvent> all = ExpectReplayFromAnyCheckpointRebuildsTheSameEvents(
      InterleavedLog(), RunConfig{},
      absl::FromCivil(absl::CivilDay(2026, 11, 23), absl::UTCTimeZone()));
  EXPECT_EQ(all.size(), 3u);
}

// Event ids include the log times, so a replay that read the repeated hour at the end of daylight
// saving time otherwise than the first run did would make events with other ids. Europe/Berlin,
// 2026-10-25: three messages in the first pass of 02:00-02:59, three in the second; a replay
// from inside the second pass has none of the first pass's lines to go by.
TEST(LinePipelineTest, ReplayInsideTheRepeatedLocalHourDatesLinesAsTheFirstRunDid) {
  RunConfig config;
  config.timezone = "Europe/Berlin";
  ASSERT_TRUE(absl::LoadTimeZone(config.timezone, &config.zone));
  std::vector<std::string> lines =
      InterleavedLog([](int i) { return absl::StrFormat("Oct 25 02:59:%02d", 40 + i); });
  for (const std::string& line :
       InterleavedLog([](int i) { return absl::StrFormat("Oct 25 02:00:%02d", 10 + i); }, 3)) {
    lines.push_back(line);
  }
  const std::vector<model::HopEvent> all = ExpectReplayFromAnyCheckpointRebuildsTheSameEvents(
      lines, config, absl::FromCivil(absl::CivilDay(2026, 11, 23), absl::UTCTimeZone()));
  ASSERT_EQ(all.size(), 6u);
  const auto utc = [](int h, int mi, int s) {
    return absl::FromCivil(absl::CivilSecond(2026, 10, 25, h, mi, s), absl::UTCTimeZone());
  };
  EXPECT_EQ(all[0].queue_first_seen, utc(0, 59, 40));  // first pass: CEST
  EXPECT_EQ(all[3].queue_first_seen, utc(1, 0, 10));   // second pass: CET
}

TEST(LinePipelineTest, SkippedLinesAreCountedByProgramAndKind) {
  const struct {
    absl::string_view line;
    absl::string_view program, kind;  // labels it is counted under; empty: not skipped
  } kCases[] = {
      {"Nov 23 10:00:00 mta-a postfix/smtpd[1]: connect from h[1.2.3.4]", "smtpd", "no-queue-id"},
      {"Nov 23 10:00:01 mta-a postfix/smtpd[1]: NOQUEUE: reject: RCPT from h[1.2.3.4]: 554 5.7.1 "
       "<x@b>: Relay access denied; from=<s@a> to=<x@b> proto=ESMTP helo=<h>",
       "smtpd", "noqueue-reject"},
      {"Nov 23 10:00:02 mta-a dovecot[7]: imap-login: Login: user=<u>", "other", "not-postfix"},
      {"Nov 23 10:00:03 mta-a amavis[8]: (08-01) Passed CLEAN {RelayedInbound}", "other",
       "not-postfix"},
      {"Nov 23 10:00:04 mta-a postfix/smtp[3]: C000000001: to=<r@b>, status=deferred (no dsn)",
       "smtp", "malformed"},
      {"Nov 23 10:00:05 mta-a postfix/qmgr[2]: C000000001: something new", "qmgr", "unrecognised"},
      {"Nov 23 10:00:06 mta-a postfix/smtpd[1]: C000000001: client=h[1.2.3.4]", "", ""},
      {"not a syslog line", "", ""},  // bad header: counted by reason only
  };
  AgentMetrics metrics;
  const absl::Time reference = absl::FromCivil(absl::CivilDay(2026, 11, 23), absl::UTCTimeZone());
  LinePipeline pipeline(RunConfig{}, reference, metrics, {.checkpoints = false});
  std::vector<model::HopEvent> events;
  for (size_t i = 0; i < std::size(kCases); ++i) pipeline.Feed(kCases[i].line, i, &events);
  for (const auto& c : kCases) {
    if (c.program.empty()) continue;
    SCOPED_TRACE(c.line);
    EXPECT_GE(metrics.skipped_by_kind.Get(c.program, c.kind), 1);
  }
  EXPECT_EQ(metrics.skipped_by_kind.Get("other", "not-postfix"), 2);
  EXPECT_EQ(metrics.skipped_by_kind.Get("smtp", "malformed"), 1);
  EXPECT_EQ(metrics.skipped_unrelated.load(), 5);
  EXPECT_EQ(metrics.skipped_malformed.load(), 1);
  EXPECT_EQ(metrics.skipped_bad_header.load(), 1);
  const std::string text = metrics.Render();
  EXPECT_THAT(text, testing::HasSubstr("# TYPE mtrk_agent_lines_skipped_by_kind_total counter\n"));
  EXPECT_THAT(text, testing::HasSubstr(
                        "mtrk_agent_lines_skipped_by_kind_total{program=\"smtpd\",kind=\"no-queue-"
                        "id\"} 1\n"));
  EXPECT_THAT(text, testing::HasSubstr(
                        "mtrk_agent_lines_skipped_by_kind_total{program=\"other\",kind=\"not-"
                        "postfix\"} 2\n"));
  EXPECT_THAT(text, testing::Not(testing::HasSubstr("program=\"dovecot\"")));
}

TEST(SkippedLineCountsTest, LabelsAreBounded) {
  SkippedLineCounts counts;
  counts.Add("smtpd", "no-queue-id");
  counts.Add("x-unknown-program", "no-queue-id");  // any program name a log may hold
  counts.Add("smtpd", "a kind the parser does not name");
  counts.Add("", "");
  EXPECT_EQ(counts.Get("smtpd", "no-queue-id"), 1);
  EXPECT_EQ(counts.Get("other", "no-queue-id"), 1);
  EXPECT_EQ(counts.Get("smtpd", "other"), 1);
  EXPECT_EQ(counts.Get("other", ""), 1);
  std::string text;
  counts.Render(&text);
  EXPECT_EQ(text,
            "mtrk_agent_lines_skipped_by_kind_total{program=\"smtpd\",kind=\"no-queue-id\"} 1\n"
            "mtrk_agent_lines_skipped_by_kind_total{program=\"smtpd\",kind=\"other\"} 1\n"
            "mtrk_agent_lines_skipped_by_kind_total{program=\"other\",kind=\"no-queue-id\"} 1\n"
            "mtrk_agent_lines_skipped_by_kind_total{program=\"other\",kind=\"unclassified\"} 1\n");
}

TEST(LinePipelineTest, EightBitLogTextIsRepairedNotLost) {
  // A Latin-1 sender and server reply. Protobuf and PostgreSQL take only UTF-8: one such byte
  // used to make the whole batch fail (gRPC could not parse it), losing every event in it.
  const std::vector<std::string> lines = {
      "Nov 23 06:27:12 mta-a postfix/smtpd[100]: 1A2B3C4D5E: client=localhost[127.0.0.1]",
      "Nov 23 06:27:12 mta-a postfix/qmgr[102]: 1A2B3C4D5E: from=<j\xfcrgen@a.example>, "
      "size=300, nrcpt=2 (queue active)",
      "Nov 23 06:27:13 mta-a postfix/smtp[103]: 1A2B3C4D5E: to=<bob@b.example>, "
      "relay=mx.b.example[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=5.1.1, status=bounced "
      "(host mx.b.example[192.0.2.1] said: 550 5.1.1 utilisateur inconnu \xe9t\xe9 (in reply "
      "to RCPT TO command))",
      "Nov 23 06:27:13 mta-a postfix/smtp[103]: 1A2B3C4D5E: to=<carol@b.example>, "
      "relay=mx.b.example[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 "
      "2.0.0 Ok)",
      "Nov 23 06:27:13 mta-a postfix/qmgr[102]: 1A2B3C4D5E: removed",
  };
  AgentMetrics metrics;
  const absl::Time reference = absl::FromCivil(absl::CivilDay(2026, 11, 23), absl::UTCTimeZone());
  LinePipeline pipeline(RunConfig{}, reference, metrics);
  std::vector<model::HopEvent> events;
  for (size_t i = 0; i < lines.size(); ++i) pipeline.Feed(lines[i], i, &events);
  ASSERT_EQ(events.size(), 2u);
  for (const model::HopEvent& e : events) {
    EXPECT_TRUE(model::ValidateHopEvent(e).ok()) << model::ValidateHopEvent(e);
    EXPECT_TRUE(model::ValidateHopEventText(e).ok()) << model::ValidateHopEventText(e);
    EXPECT_EQ(e.sender, "j\xc3\xbcrgen@a.example");  // as staff would type it
  }
  EXPECT_THAT(events[0].diagnostic,
              ::testing::HasSubstr("utilisateur inconnu \xc3\xa9t\xc3\xa9 (in reply"));
  EXPECT_EQ(events[0].action, model::DsnAction::kFailed);
  EXPECT_EQ(metrics.events_text_repaired.load(), 2);
  EXPECT_EQ(metrics.invalid_events.load(), 0);
  // The ids come from the logged bytes: the same line gives the same id again.
  LinePipeline again(RunConfig{}, reference, metrics);
  std::vector<model::HopEvent> replay;
  for (size_t i = 0; i < lines.size(); ++i) again.Feed(lines[i], i, &replay);
  EXPECT_EQ(Ids(replay), Ids(events));
}

TEST(LinePipelineTest, YearReferenceFollowsTheClockOfATail) {
  // An agent started on 24 November and still running at Christmas and after New Year: with the
  // reference fixed at the start, "Dec 26" lines (more than 31 days after it) became last year's.
  const auto utc = [](int y, int mo, int d, int h) {
    return absl::FromCivil(absl::CivilSecond(y, mo, d, h, 0, 0), absl::UTCTimeZone());
  };
  const auto message = [](absl::string_view stamp, absl::string_view qid) {
    return std::vector<std::string>{
        absl::StrCat(stamp, " mta-a postfix/smtpd[1]: ", qid, ": client=h[192.0.2.1]"),
        absl::StrCat(stamp, " mta-a postfix/qmgr[2]: ", qid,
                     ": from=<s@a.example>, size=1, nrcpt=1 (queue active)"),
        absl::StrCat(stamp, " mta-a postfix/local[3]: ", qid,
                     ": to=<r@a.example>, relay=local, delay=1, delays=0/0/0/1, dsn=2.0.0, "
                     "status=sent (delivered to mailbox)"),
        absl::StrCat(stamp, " mta-a postfix/qmgr[2]: ", qid, ": removed"),
    };
  };
  AgentMetrics metrics;
  LinePipeline pipeline(RunConfig{}, utc(2026, 11, 24, 12), metrics);
  std::vector<model::HopEvent> events;
  uint64_t position = 0;
  const auto feed = [&](const std::vector<std::string>& lines) {
    for (const std::string& line : lines) pipeline.Feed(line, position++, &events);
  };
  pipeline.SetYearReference(utc(2026, 12, 26, 10));
  feed(message("Dec 26 10:00:00", "1A2B3C4D5E"));
  pipeline.SetYearReference(utc(2027, 1, 5, 10));
  feed(message("Jan  5 10:00:00", "2A2B3C4D5E"));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event_time, utc(2026, 12, 26, 10));
  EXPECT_EQ(events[1].event_time, utc(2027, 1, 5, 10));

  // What the fixed reference did (and a file read whole still does, from its mtime).
  LinePipeline fixed(RunConfig{}, utc(2026, 11, 24, 12), metrics);
  std::vector<model::HopEvent> old;
  for (const std::string& line : message("Dec 26 10:00:00", "3A2B3C4D5E")) {
    fixed.Feed(line, position++, &old);
  }
  ASSERT_EQ(old.size(), 1u);
  EXPECT_EQ(old[0].event_time, utc(2025, 12, 26, 10));
}

// A tail keeps one pipeline and moves its year reference every minute: a message logged in the
// second pass of the hour repeated at the end of daylight saving time (Europe/Berlin,
// 2026-10-25, 02:00-02:59 local twice) is dated in it, after the messages of the first pass.
TEST(LinePipelineTest, RepeatedLocalHourIsReadInOrderAcrossYearReferenceMoves) {
  RunConfig config;
  config.timezone = "Europe/Berlin";
  ASSERT_TRUE(absl::LoadTimeZone(config.timezone, &config.zone));
  AgentMetrics metrics;
  const auto utc = [](int h, int mi, int s) {
    return absl::FromCivil(absl::CivilSecond(2026, 10, 25, h, mi, s), absl::UTCTimeZone());
  };
  LinePipeline pipeline(config, utc(0, 30, 0), metrics);
  std::vector<model::HopEvent> events;
  uint64_t position = 0;
  // First pass (CEST): lines at 02:59:40-02:59:51, 00:59:40-00:59:51 UTC.
  for (const std::string& line :
       InterleavedLog([](int i) { return absl::StrFormat("Oct 25 02:59:%02d", 40 + i); })) {
    pipeline.Feed(line, position++, &events);
  }
  pipeline.SetYearReference(utc(1, 5, 0));
  // Second pass (CET): lines at 02:00:10-02:00:21, 01:00:10-01:00:21 UTC.
  for (const std::string& line :
       InterleavedLog([](int i) { return absl::StrFormat("Oct 25 02:00:%02d", 10 + i); }, 3)) {
    pipeline.Feed(line, position++, &events);
  }
  pipeline.Flush(&events);
  ASSERT_EQ(events.size(), 6u);
  EXPECT_EQ(events[0].queue_first_seen, utc(0, 59, 40));
  EXPECT_EQ(events[0].event_time, utc(0, 59, 46));  // its delivery, the 7th line
  EXPECT_EQ(events[3].queue_first_seen, utc(1, 0, 10));
  EXPECT_EQ(events[3].event_time, utc(1, 0, 16));
}

}  // namespace
}  // namespace mtrk::agent::app
