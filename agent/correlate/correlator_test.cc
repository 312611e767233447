#include "agent/correlate/correlator.h"

#include <fstream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agent/parse/postfix/postfix_parser.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace mtrk::agent::correlate {
namespace {

using model::DsnAction;
using model::HopEvent;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr char kLabA[] = "tests/data/postfix-lab/postfix-a.maillog";
constexpr char kLabB[] = "tests/data/postfix-lab/postfix-b.maillog";
const std::string kB = absl::HexStringToBytes("3a213f661481c4791bf083f200afd6324f948d57");

absl::Time Lab(int h, int m, int s) {
  return absl::FromCivil(absl::CivilSecond(2026, 11, 23, h, m, s), absl::UTCTimeZone());
}

std::vector<std::string> ReadLines(const char* path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Inserts `extra` right after the first line containing `after`.
std::vector<std::string> InsertAfter(std::vector<std::string> lines, absl::string_view after,
                                     std::string extra) {
  for (auto it = lines.begin(); it != lines.end(); ++it) {
    if (absl::StrContains(*it, after)) {
      lines.insert(it + 1, std::move(extra));
      break;
    }
  }
  return lines;
}

// Runs lines through the real header parser, Postfix parser and a Correlator, like the agent.
struct Result {
  std::vector<HopEvent> events;
  CorrelatorStats stats;
  size_t open_after_flush = 0;
};

Result Correlate(const std::vector<std::string>& lines, CorrelatorOptions options = {}) {
  const parse::SyslogHeaderParser headers({.reference = Lab(18, 0, 0)});
  const std::unique_ptr<parse::LineParser> parser = parse::NewPostfixParser();
  Correlator correlator(std::move(options));
  Result run;
  for (const std::string& raw : lines) {
    absl::StatusOr<parse::LogLine> line = headers.Parse(raw);
    EXPECT_OK(line) << raw;
    if (!line.ok()) continue;
    absl::StatusOr<parse::LineFact> fact = parser->Parse(*line);
    EXPECT_OK(fact) << raw;
    if (!fact.ok()) continue;
    for (HopEvent& e : correlator.Add(*line, *fact)) run.events.push_back(std::move(e));
  }
  for (HopEvent& e : correlator.Flush()) run.events.push_back(std::move(e));
  run.stats = correlator.stats();
  run.open_after_flush = correlator.open_messages();
  return run;
}

std::vector<HopEvent> ForQueue(const Result& run, absl::string_view qid) {
  std::vector<HopEvent> out;
  for (const HopEvent& e : run.events) {
    if (e.queue_id == qid) out.push_back(e);
  }
  return out;
}

CorrelatorOptions TrackedA() {
  CorrelatorOptions o;
  o.reporting_mta = "mta-a.a.example";
  o.tracked_next_hops = {"127.0.0.2"};
  return o;
}

// A held or discarded recipient's diagnostic is "held: " + the logged reason; with a reason as
// long as the parser keeps, the event must still be one the collector accepts (found by a long
// correlator fuzz run; lab lines with a constructed reason).
TEST(CorrelatorTest, LongHoldAndDiscardReasonsStillMakeValidEvents) {
  const std::string reason(3000, 'r');
  const std::vector<std::string> lines = {
      "Nov 23 06:27:18 mta-a postfix-a/smtpd[7990]: 8D8DBA7426C: client=localhost[127.0.0.1]",
      absl::StrCat("Nov 23 06:27:18 mta-a postfix-a/cleanup[7992]: 8D8DBA7426C: hold: header "
                   "Subject: x from localhost[127.0.0.1]; from=<sender@a.example> "
                   "to=<carol@b.example> proto=ESMTP helo=<client.a.example>: ",
                   reason),
      "Nov 23 06:27:17 mta-a postfix-a/smtpd[7990]: 90507A7426A: client=localhost[127.0.0.1]",
      absl::StrCat("Nov 23 06:27:17 mta-a postfix-a/cleanup[7992]: 90507A7426A: discard: header "
                   "Subject: x from localhost[127.0.0.1]; from=<sender@a.example> "
                   "to=<bob@b.example> proto=ESMTP helo=<client.a.example>: ",
                   reason),
  };
  const Result run = Correlate(lines, TrackedA());
  ASSERT_THAT(run.events, SizeIs(2));
  for (const HopEvent& e : run.events) {
    EXPECT_OK(model::ValidateHopEvent(e)) << e.diagnostic.substr(0, 20);
    EXPECT_EQ(e.diagnostic.size(), model::kMaxTextBytes);
  }
}

TEST(CorrelatorTest, EightBitLogTextIsRepairedNotLost) {
  // A Latin-1 sender and server reply. Protobuf and PostgreSQL take only UTF-8: one such byte
  // used to make the whole batch fail (gRPC could not parse it), losing every event in it.
  const std::vector<std::string> lines = {
      "Nov 23 06:27:12 mta-a postfix-a/smtpd[100]: 1A2B3C4D5E: client=localhost[127.0.0.1]",
      "Nov 23 06:27:12 mta-a postfix-a/qmgr[102]: 1A2B3C4D5E: from=<j\xfcrgen@a.example>, "
      "size=300, nrcpt=2 (queue active)",
      "Nov 23 06:27:13 mta-a postfix-a/smtp[103]: 1A2B3C4D5E: to=<bob@b.example>, "
      "relay=mx.b.example[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=5.1.1, status=bounced "
      "(host mx.b.example[192.0.2.1] said: 550 5.1.1 utilisateur inconnu \xe9t\xe9 (in reply "
      "to RCPT TO command))",
      "Nov 23 06:27:13 mta-a postfix-a/smtp[103]: 1A2B3C4D5E: to=<carol@b.example>, "
      "relay=mx.b.example[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 "
      "2.0.0 Ok)",
      "Nov 23 06:27:13 mta-a postfix-a/qmgr[102]: 1A2B3C4D5E: removed",
      // A message of clean lines after it is left as it is.
      "Nov 23 06:27:14 mta-a postfix-a/smtpd[100]: 2A2B3C4D5E: client=localhost[127.0.0.1]",
      "Nov 23 06:27:14 mta-a postfix-a/qmgr[102]: 2A2B3C4D5E: from=<ok@a.example>, size=3, "
      "nrcpt=1 (queue active)",
      "Nov 23 06:27:15 mta-a postfix-a/local[104]: 2A2B3C4D5E: to=<dave@a.example>, relay=local, "
      "delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (delivered to mailbox)",
      "Nov 23 06:27:15 mta-a postfix-a/qmgr[102]: 2A2B3C4D5E: removed",
  };
  const Result run = Correlate(lines);
  ASSERT_THAT(run.events, SizeIs(3));
  for (const HopEvent& e : run.events) {
    EXPECT_OK(model::ValidateHopEvent(e));
    EXPECT_OK(model::ValidateHopEventText(e));
  }
  EXPECT_EQ(run.events[0].sender, "j\xc3\xbcrgen@a.example");  // as staff would type it
  EXPECT_EQ(run.events[1].sender, "j\xc3\xbcrgen@a.example");
  EXPECT_THAT(run.events[0].diagnostic, HasSubstr("utilisateur inconnu \xc3\xa9t\xc3\xa9 (in"));
  EXPECT_EQ(run.events[0].action, DsnAction::kFailed);
  EXPECT_EQ(run.events[2].sender, "ok@a.example");
  EXPECT_EQ(run.stats.text_repaired, 2);
}

TEST(CorrelatorTest, SimpleDeliveryTransferredToTrackedHop) {  // scenario a-simple-delivery
  const Result run = Correlate(ReadLines(kLabA), TrackedA());
  const std::vector<HopEvent> events = ForQueue(run, "1D4BAA74210");
  ASSERT_THAT(events, SizeIs(1));
  const HopEvent& e = events[0];
  EXPECT_EQ(e.action, DsnAction::kTransferred);
  EXPECT_EQ(e.status, "2.0.0");
  EXPECT_EQ(e.final_recipient, "alice@b.example");
  EXPECT_EQ(e.original_recipient, "alice@b.example");
  EXPECT_EQ(e.remote_mta, "127.0.0.2");
  EXPECT_EQ(e.relay, "127.0.0.2[127.0.0.2]:2526");
  EXPECT_EQ(e.next_queue_id, "4jXwvs15pBz1bcHw");
  EXPECT_EQ(e.reporting_host, "mta-a");
  EXPECT_EQ(e.reporting_mta, "mta-a.a.example");
  EXPECT_EQ(e.mta_instance, "postfix-a");
  EXPECT_EQ(e.message_id, "20261123062705.007736@vm");
  EXPECT_EQ(e.sender, "sender@a.example");
  EXPECT_EQ(e.client, "localhost[127.0.0.1]");
  EXPECT_EQ(e.queue_first_seen, Lab(6, 27, 5));
  EXPECT_EQ(e.arrival_time, Lab(6, 27, 5));
  EXPECT_EQ(e.last_attempt_time, Lab(6, 27, 5));
  EXPECT_EQ(e.will_retry_until, absl::InfinitePast());
  EXPECT_FALSE(e.expansion_member);
  EXPECT_EQ(e.event_id, model::ComputeEventId(e));
}

TEST(CorrelatorTest, SimpleDeliveryRelayedToUntrackedHop) {
  const Result run = Correlate(ReadLines(kLabA));
  const std::vector<HopEvent> events = ForQueue(run, "1D4BAA74210");
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(events[0].action, DsnAction::kRelayed);
  EXPECT_EQ(events[0].status, "2.1.9");
  EXPECT_EQ(events[0].reporting_mta, "mta-a");  // no FQDN configured: the syslog host
  EXPECT_EQ(events[0].next_queue_id, "4jXwvs15pBz1bcHw");
}

TEST(CorrelatorTest, SimpleDeliveryDeliveredAtB) {
  const Result run = Correlate(ReadLines(kLabB));
  const std::vector<HopEvent> events = ForQueue(run, "4jXwvs15pBz1bcHw");
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(events[0].action, DsnAction::kDelivered);
  EXPECT_EQ(events[0].status, "2.0.0");
  EXPECT_EQ(events[0].final_recipient, "alice@b.example");
  EXPECT_EQ(events[0].remote_mta, "");
  EXPECT_EQ(events[0].mta_instance, "postfix");
  EXPECT_EQ(events[0].message_id, "20261123062705.007736@vm");  // joins A's hop
}

TEST(CorrelatorTest, UnknownUserRejectedAtRcptFails) {  // b1-unknown-user-rejected-at-rcpt
  const Result run = Correlate(ReadLines(kLabA), TrackedA());
  const std::vector<HopEvent> events = ForQueue(run, "F41C3A74213");
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(events[0].action, DsnAction::kFailed);
  EXPECT_EQ(events[0].status, "5.1.1");
  EXPECT_EQ(events[0].final_recipient, "nobody@b.example");
  EXPECT_EQ(events[0].remote_mta, "127.0.0.2");
  EXPECT_THAT(events[0].diagnostic, HasSubstr("550 5.1.1 <nobody@b.example>: Recipient address "
                                              "rejected: User unknown in virtual mailbox table"));
}

TEST(CorrelatorTest, VirtualAliasExpansion) {  // d1-virtual-alias-expansion, tracked at B
  const std::vector<std::string> lines = InsertAfter(
      ReadLines(kLabB), "4jXwvz00SYz1bcJg: message-id=",
      "Nov 23 06:27:10 mta-b postfix/cleanup[7884]: 4jXwvz00SYz1bcJg: info: header X-MTRK: "
      "envid=d1@a.example; certifier=OiE/ZhSBxHkb8IPyAK/WMk+UjVc from localhost[127.0.0.1]; "
      "from=<sender@a.example> to=<list@b.example> proto=ESMTP helo=<mta-a.a.example>: mtrk "
      "tracking header");
  const Result run = Correlate(lines);
  const std::vector<HopEvent> events = ForQueue(run, "4jXwvz00SYz1bcJg");
  ASSERT_THAT(events, SizeIs(4));
  const HopEvent& list = events[0];
  EXPECT_EQ(list.action, DsnAction::kExpanded);
  EXPECT_EQ(list.final_recipient, "list@b.example");
  EXPECT_EQ(list.original_recipient, "list@b.example");
  EXPECT_EQ(list.status, "2.0.0");
  EXPECT_EQ(list.envid, "d1@a.example");
  EXPECT_EQ(list.certifier, kB);
  EXPECT_FALSE(list.expansion_member);
  std::vector<std::string> members;
  for (size_t i = 1; i < events.size(); ++i) {
    SCOPED_TRACE(events[i].final_recipient);
    members.push_back(events[i].final_recipient);
    EXPECT_TRUE(events[i].expansion_member);
    EXPECT_EQ(events[i].action, DsnAction::kDelivered);
    EXPECT_EQ(events[i].original_recipient, "list@b.example");
    EXPECT_EQ(events[i].envid, "");  // members never inherit the certifier (RFC 3885 §3.3)
    EXPECT_EQ(events[i].certifier, "");
    EXPECT_EQ(events[i].mtrk_timeout_s, 0);
  }
  EXPECT_THAT(members, ElementsAre("alice@b.example", "bob@b.example", "carol@b.example"));
}

TEST(CorrelatorTest, SingleAliasRewriteIsNotAnExpansion) {  // postmaster -> alice at B
  const Result run = Correlate(ReadLines(kLabB));
  const std::vector<HopEvent> events = ForQueue(run, "4jXwvt04KZz1bcJ5");
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(events[0].action, DsnAction::kDelivered);
  EXPECT_EQ(events[0].original_recipient, "postmaster");
  EXPECT_EQ(events[0].final_recipient, "alice@b.example");
  EXPECT_FALSE(events[0].expansion_member);
}

TEST(CorrelatorTest, LocalAliasForwardIsAnExpansion) {  // d2-local-alias-expansion
  const Result run = Correlate(ReadLines(kLabB));
  const std::vector<HopEvent> parent = ForQueue(run, "4jXwvz6PCZz1bcJt");
  ASSERT_THAT(parent, SizeIs(1));
  EXPECT_EQ(parent[0].action, DsnAction::kExpanded);
  EXPECT_EQ(parent[0].final_recipient, "team@lists.b.example");
  EXPECT_EQ(parent[0].next_queue_id, "4jXwvz6Rvjz1bcJv");
  EXPECT_FALSE(parent[0].expansion_member);
  const std::vector<HopEvent> child = ForQueue(run, "4jXwvz6Rvjz1bcJv");
  ASSERT_THAT(child, SizeIs(3));
  for (const HopEvent& e : child) {
    SCOPED_TRACE(e.final_recipient);
    EXPECT_TRUE(e.expansion_member);
    EXPECT_EQ(e.action, DsnAction::kDelivered);  // no second expanded record for the child
    EXPECT_EQ(e.certifier, "");
  }
}

TEST(CorrelatorTest, DeferredThenExpired) {  // c1-deferred-then-expired
  const Result run = Correlate(ReadLines(kLabA), TrackedA());
  const std::vector<HopEvent> events = ForQueue(run, "336F1A7420B");
  ASSERT_THAT(events, SizeIs(6));  // five deferrals, then the expiry
  for (int i = 0; i < 5; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(events[i].action, DsnAction::kDelayed);
    EXPECT_EQ(events[i].status, "4.4.1");
    EXPECT_EQ(events[i].final_recipient, "user@c.example");
    EXPECT_EQ(events[i].remote_mta, "");  // relay=none
    EXPECT_EQ(events[i].will_retry_until, Lab(6, 27, 4) + absl::Hours(5 * 24));
    EXPECT_THAT(events[i].diagnostic, HasSubstr("Connection refused"));
  }
  EXPECT_EQ(events[0].last_attempt_time, Lab(6, 27, 4));
  EXPECT_EQ(events[4].last_attempt_time, Lab(6, 27, 41));
  const HopEvent& failed = events[5];
  EXPECT_EQ(failed.action, DsnAction::kFailed);
  EXPECT_EQ(failed.status, "4.4.1");  // RFC 3464 §2.3.3: 4.x.x after expiry
  EXPECT_EQ(failed.event_time, Lab(6, 27, 41));
  EXPECT_EQ(failed.will_retry_until, absl::InfinitePast());
  for (const HopEvent& e : events) EXPECT_OK(model::ValidateHopEvent(e));
}

TEST(CorrelatorTest, DelayedIsEmittedAtOnce) {
  const std::vector<std::string> all = ReadLines(kLabA);
  std::vector<std::string> head;
  for (const std::string& l : all) {
    head.push_back(l);
    if (absl::StrContains(l, "336F1A7420B: to=<user@c.example>")) break;
  }
  const parse::SyslogHeaderParser headers({.reference = Lab(18, 0, 0)});
  const std::unique_ptr<parse::LineParser> parser = parse::NewPostfixParser();
  Correlator correlator({});
  std::vector<HopEvent> last;
  for (const std::string& raw : head) {
    ASSERT_OK_AND_ASSIGN(const parse::LogLine line, headers.Parse(raw));
    ASSERT_OK_AND_ASSIGN(const parse::LineFact fact, parser->Parse(line));
    last = correlator.Add(line, fact);
  }
  ASSERT_THAT(last, SizeIs(1));  // the deferral line itself produced it
  EXPECT_EQ(last[0].action, DsnAction::kDelayed);
}

TEST(CorrelatorTest, ForcedExpiry) {  // c2-deferred-forced-expiry
  const Result run = Correlate(ReadLines(kLabA), TrackedA());
  const std::vector<HopEvent> events = ForQueue(run, "C8981A74226");
  ASSERT_THAT(events, SizeIs(2));
  EXPECT_EQ(events[0].action, DsnAction::kDelayed);
  EXPECT_EQ(events[1].action, DsnAction::kFailed);
  EXPECT_EQ(events[1].final_recipient, "other@c.example");
}

TEST(CorrelatorTest, TrackingHeaderTravelsWithEveryEvent) {
  const std::vector<std::string> lines = InsertAfter(
      ReadLines(kLabA), "1D4BAA74210: message-id=",
      "Nov 23 06:27:05 mta-a postfix-a/cleanup[7710]: 1D4BAA74210: info: header X-MTRK: "
      "envid=20261123.a1b2c3@a.example; certifier=OiE/ZhSBxHkb8IPyAK/WMk+UjVc; timeout=864000 "
      "from localhost[127.0.0.1]; from=<sender@a.example> to=<alice@b.example> proto=ESMTP "
      "helo=<client.a.example>: mtrk tracking header");
  const Result run = Correlate(lines, TrackedA());
  const std::vector<HopEvent> events = ForQueue(run, "1D4BAA74210");
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(events[0].envid, "20261123.a1b2c3@a.example");
  EXPECT_EQ(events[0].certifier, kB);
  EXPECT_EQ(events[0].mtrk_timeout_s, 864000);
  EXPECT_OK(model::ValidateHopEvent(events[0]));
  // Other messages stay untracked.
  EXPECT_EQ(ForQueue(run, "F41C3A74213")[0].certifier, "");
}

TEST(CorrelatorTest, DiscardTransportIsDelivered) {  // h2-transport-discard
  const Result run = Correlate(ReadLines(kLabA));
  const std::vector<HopEvent> events = ForQueue(run, "A4BB1A7426A");
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(events[0].action, DsnAction::kDelivered);
}

TEST(CorrelatorTest, ReusedQueueIdStartsANewMessage) {
  // Constructed: the "removed" line of the first message was lost, and Postfix reused the id.
  const std::vector<std::string> lines = {
      "Nov 23 06:00:00 mta-a postfix-a/smtpd[1]: 336F1A7420B: client=one[10.0.0.1]",
      "Nov 23 06:00:00 mta-a postfix-a/qmgr[2]: 336F1A7420B: from=<a@a.example>, size=1, nrcpt=1 "
      "(queue active)",
      "Nov 23 06:00:01 mta-a postfix-a/virtual[3]: 336F1A7420B: to=<x@a.example>, relay=virtual, "
      "delay=0, delays=0/0/0/0, dsn=2.0.0, status=sent (delivered to maildir)",
      "Nov 23 07:00:00 mta-a postfix-a/smtpd[1]: 336F1A7420B: client=two[10.0.0.2]",
      "Nov 23 07:00:00 mta-a postfix-a/qmgr[2]: 336F1A7420B: from=<b@a.example>, size=1, nrcpt=1 "
      "(queue active)",
      "Nov 23 07:00:01 mta-a postfix-a/virtual[3]: 336F1A7420B: to=<x@a.example>, relay=virtual, "
      "delay=0, delays=0/0/0/0, dsn=2.0.0, status=sent (delivered to maildir)",
      "Nov 23 07:00:01 mta-a postfix-a/qmgr[2]: 336F1A7420B: removed",
  };
  const Result run = Correlate(lines);
  ASSERT_THAT(run.events, SizeIs(2));
  EXPECT_EQ(run.stats.reused_queue_ids, 1);
  EXPECT_EQ(run.events[0].client, "one[10.0.0.1]");
  EXPECT_EQ(run.events[0].sender, "a@a.example");
  EXPECT_EQ(run.events[0].queue_first_seen, Lab(6, 0, 0));
  EXPECT_EQ(run.events[1].client, "two[10.0.0.2]");
  EXPECT_EQ(run.events[1].sender, "b@a.example");
  EXPECT_EQ(run.events[1].queue_first_seen, Lab(7, 0, 0));
  EXPECT_NE(run.events[0].event_id, run.events[1].event_id);
}

TEST(CorrelatorTest, SameHostDifferentInstancesDoNotMix) {
  const std::vector<std::string> lines = {
      "Nov 23 06:00:00 mx postfix-in/smtpd[1]: 336F1A7420B: client=one[10.0.0.1]",
      "Nov 23 06:00:00 mx postfix-out/smtpd[1]: 336F1A7420B: client=two[10.0.0.2]",
      "Nov 23 06:00:01 mx postfix-out/virtual[3]: 336F1A7420B: to=<x@a.example>, relay=virtual, "
      "delay=0, delays=0/0/0/0, dsn=2.0.0, status=sent (delivered to maildir)",
  };
  const Result run = Correlate(lines);
  ASSERT_THAT(run.events, SizeIs(1));
  EXPECT_EQ(run.events[0].mta_instance, "postfix-out");
  EXPECT_EQ(run.events[0].client, "two[10.0.0.2]");
  EXPECT_EQ(run.stats.reused_queue_ids, 0);
}

// Whole files: every event valid, ids unique, nothing left open, no member carries a certifier.
TEST(CorrelatorTest, WholeLabLogs) {
  for (const char* path : {kLabA, kLabB}) {
    SCOPED_TRACE(path);
    const Result run = Correlate(ReadLines(path), TrackedA());
    EXPECT_THAT(run.events, SizeIs(::testing::Gt(40)));
    EXPECT_EQ(run.open_after_flush, 0u);
    absl::flat_hash_set<std::string> ids;
    for (const HopEvent& e : run.events) {
      SCOPED_TRACE(absl::StrCat(e.queue_id, " ", e.final_recipient));
      EXPECT_OK(model::ValidateHopEvent(e));
      EXPECT_TRUE(ids.insert(e.event_id).second) << "duplicate event id";
      if (e.expansion_member) {
        EXPECT_EQ(e.certifier, "");
      }
    }
  }
}

}  // namespace
}  // namespace mtrk::agent::correlate

namespace mtrk::agent::correlate {
namespace {

TEST(CorrelatorPositionTest, OldestOpenPositionFollowsOpenMessages) {
  Correlator c({});
  const std::unique_ptr<parse::LineParser> parser = parse::NewPostfixParser();
  parse::SyslogHeaderParser headers({.reference = absl::FromUnixSeconds(1795415225)});
  const char* kLines[] = {
      "Nov 23 06:27:05 mta-a postfix-a/smtpd[7707]: 1D4BAA74210: client=localhost[127.0.0.1]",
      "Nov 23 06:27:05 mta-a postfix-a/smtpd[7707]: F41C3A74213: client=localhost[127.0.0.1]",
      "Nov 23 06:27:05 mta-a postfix-a/qmgr[7498]: 1D4BAA74210: removed",
  };
  EXPECT_EQ(c.OldestOpenPosition(), std::nullopt);
  uint64_t position = 100;
  std::vector<std::optional<uint64_t>> got;
  for (const char* raw : kLines) {
    absl::StatusOr<parse::LogLine> line = headers.Parse(raw);
    ASSERT_TRUE(line.ok()) << line.status();
    absl::StatusOr<parse::LineFact> fact = parser->Parse(*line);
    ASSERT_TRUE(fact.ok()) << fact.status();
    c.Add(*line, *fact, position);
    got.push_back(c.OldestOpenPosition());
    position += 100;
  }
  EXPECT_EQ(got, (std::vector<std::optional<uint64_t>>{100, 100, 200}));
}

}  // namespace
}  // namespace mtrk::agent::correlate

namespace mtrk::agent::correlate {
namespace {

TEST(CorrelatorEvictTest, EvictIdleEndsOnlyQuietMessages) {
  Correlator c({});
  const std::unique_ptr<parse::LineParser> parser = parse::NewPostfixParser();
  parse::SyslogHeaderParser headers({.reference = Lab(18, 0, 0)});
  const char* kLines[] = {
      "Nov 23 06:00:00 mta-a postfix-a/smtpd[1]: 336F1A7420B: client=one[10.0.0.1]",
      "Nov 23 06:00:01 mta-a postfix-a/virtual[3]: 336F1A7420B: to=<x@a.example>, relay=virtual, "
      "delay=0, delays=0/0/0/0, dsn=2.0.0, status=sent (delivered to maildir)",
      "Nov 23 06:10:00 mta-a postfix-a/smtpd[1]: 446F1A7420C: client=two[10.0.0.2]",
  };
  for (const char* raw : kLines) {
    absl::StatusOr<parse::LogLine> line = headers.Parse(raw);
    ASSERT_TRUE(line.ok()) << line.status();
    absl::StatusOr<parse::LineFact> fact = parser->Parse(*line);
    ASSERT_TRUE(fact.ok()) << fact.status();
    EXPECT_THAT(c.Add(*line, *fact), IsEmpty());
  }
  EXPECT_THAT(c.EvictIdle(Lab(6, 5, 0), absl::Minutes(10)), IsEmpty());
  const std::vector<HopEvent> evicted = c.EvictIdle(Lab(6, 11, 1), absl::Minutes(10));
  ASSERT_THAT(evicted, SizeIs(1));
  EXPECT_EQ(evicted[0].queue_id, "336F1A7420B");
  EXPECT_EQ(evicted[0].action, DsnAction::kDelivered);
  EXPECT_EQ(c.open_messages(), 1u);
  EXPECT_THAT(c.EvictIdle(Lab(6, 20, 0), absl::Minutes(10)), IsEmpty());  // no outcomes
  EXPECT_EQ(c.open_messages(), 0u);
}

}  // namespace
}  // namespace mtrk::agent::correlate

namespace mtrk::agent::correlate {
namespace {

// Found by tests/fuzz/correlator_fuzzer.cc (corpus/correlator/crash-fc6bc574...): a dsn= that
// contradicts status= must not yield an event the collector refuses (2.1.9 on a failure).
TEST(CorrelatorFuzzRegressionTest, StatusClassFitsTheAction) {
  const std::vector<std::string> lines = {
      "Nov 23 06:00:00 mta-a postfix/smtpd[1]: 1310930001DB: client=localhost[127.0.0.1]",
      "Nov 23 06:00:01 mta-a postfix/smtp[2]: 1310930001DB: to=<r@example.com>, relay=none, "
      "delay=0.09, delays=0.02/0.05/0.02/0, dsn=2.1.9, status=bounced (Domain example.com does "
      "not accept mail (nullMX))",
      "Nov 23 06:00:01 mta-a postfix/smtp[2]: 1310930001DB: to=<s@example.com>, relay=none, "
      "delay=0.09, delays=0.02/0.05/0.02/0, dsn=5.1.1, status=deferred (x)",
      "Nov 23 06:00:01 mta-a postfix/virtual[2]: 1310930001DB: to=<t@example.com>, relay=virtual, "
      "delay=0.09, delays=0.02/0.05/0.02/0, dsn=2.1.9, status=sent (x)",
      "Nov 23 06:00:02 mta-a postfix/qmgr[3]: 1310930001DB: removed",
  };
  const Result run = Correlate(lines);
  ASSERT_THAT(run.events, SizeIs(3));
  EXPECT_EQ(run.events[0].action, DsnAction::kDelayed);
  EXPECT_EQ(run.events[0].status, "4.0.0");
  EXPECT_EQ(run.events[1].action, DsnAction::kFailed);
  EXPECT_EQ(run.events[1].status, "5.0.0");
  EXPECT_EQ(run.events[2].action, DsnAction::kDelivered);
  EXPECT_EQ(run.events[2].status, "2.0.0");
  for (const HopEvent& e : run.events) EXPECT_OK(model::ValidateHopEvent(e));
}

}  // namespace
}  // namespace mtrk::agent::correlate
