#include "agent/parse/postfix/postfix_parser.h"

#include <fstream>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace mtrk::agent::parse {
namespace {

std::string Describe(const absl::StatusOr<LineFact>& got) {
  if (!got.ok()) return absl::StrCat("error ", absl::StatusCodeToString(got.status().code()));
  return parse::Describe(*got);
}

LogLine Line(absl::string_view program, absl::string_view text) {
  return LogLine{
      .time = absl::UnixEpoch(), .host = "mta-a", .program = program, .pid = 1, .text = text};
}

struct Case {
  absl::string_view program, text, want;
};

void Check(const Case* begin, const Case* end) {
  const std::unique_ptr<LineParser> parser = NewPostfixParser();
  for (const Case* c = begin; c != end; ++c) {
    SCOPED_TRACE(absl::StrCat(c->program, ": ", c->text));
    EXPECT_EQ(Describe(parser->Parse(Line(c->program, c->text))), c->want);
  }
}

// Every line below is copied from tests/data/postfix-lab/postfix-{a,b}.maillog unless marked.
TEST(PostfixParserTest, MessageReceived) {
  const Case kCases[] = {
      {"postfix-a/smtpd", "336F1A7420B: client=localhost[127.0.0.1]",
       "received qid=336F1A7420B client=localhost[127.0.0.1]"},
      {"postfix/legacy/smtpd", "4jXwvt6Zrzz1bcJC: client=localhost[127.0.0.1]",
       "received qid=4jXwvt6Zrzz1bcJC client=localhost[127.0.0.1]"},
      {"postfix-a/pickup", "3CA89A74156: uid=0 from=<sender@a.example>",
       "received qid=3CA89A74156 client=local sender=sender@a.example"},
      // Postfix 3.x appends fields after client= (constructed).
      {"postfix/smtpd", "4jXwvs15pBz1bcHw: client=x[10.0.0.1], sasl_method=PLAIN",
       "received qid=4jXwvs15pBz1bcHw client=x[10.0.0.1]"},
      {"postfix-a/pickup", "3CA89A74156: uid=0 sender@a.example", "error INVALID_ARGUMENT"},
  };
  Check(std::begin(kCases), std::end(kCases));
}

TEST(PostfixParserTest, Cleanup) {
  const Case kCases[] = {
      {"postfix-a/cleanup", "336F1A7420B: message-id=<20261123062704.007706@vm>",
       "message-id qid=336F1A7420B id=20261123062704.007706@vm"},
      {"postfix/cleanup", "4jXwvt04KZz1bcJ5: message-id=<4jXwvt04KZz1bcJ5@mta-b.b.example>",
       "message-id qid=4jXwvt04KZz1bcJ5 id=4jXwvt04KZz1bcJ5@mta-b.b.example"},
      // Other headers logged by header_checks INFO are not ours.
      {"postfix-a/cleanup",
       "A606DA7424D: info: header X-Tracking-Certifier: cert-f1; id=abc123 from "
       "localhost[127.0.0.1]; from=<sender@a.example> to=<nobody@b.example> proto=ESMTP "
       "helo=<client.a.example>: tracking header seen",
       "unrelated"},
      {"postfix-a/cleanup",
       "9402AA74264: reject: header Subject: [lab-reject] please reject from "
       "localhost[127.0.0.1]; from=<sender@a.example> to=<bob@b.example> proto=ESMTP "
       "helo=<client.a.example>: 5.7.1 rejected by lab header_checks",
       "rejected qid=9402AA74264 reason=header Subject: [lab-reject] please reject from "
       "localhost[127.0.0.1]; from=<sender@a.example> to=<bob@b.example> proto=ESMTP "
       "helo=<client.a.example>: 5.7.1 rejected by lab header_checks"},
  };
  Check(std::begin(kCases), std::end(kCases));
}

// The X-MTRK line in the documented format (common prompt / README); B from DIGEST §2.
TEST(PostfixParserTest, TrackingHeader) {
  const Case kCases[] = {
      {"postfix-a/cleanup",
       "A606DA7424D: info: header X-MTRK: envid=x@a.example; "
       "certifier=OiE/ZhSBxHkb8IPyAK/WMk+UjVc from localhost[127.0.0.1]; "
       "from=<sender@a.example> to=<alice@b.example> proto=ESMTP helo=<client.a.example>: mtrk "
       "tracking header",
       "tracking qid=A606DA7424D envid=x@a.example "
       "certifier=3a213f661481c4791bf083f200afd6324f948d57 timeout=0"},
      {"postfix-a/cleanup",
       "A606DA7424D: info: header x-mtrk: envid=20261123.a1b2c3+2Bz@a.example; "
       "certifier=OiE/ZhSBxHkb8IPyAK/WMk+UjVc; timeout=864000 from local; "
       "from=<sender@a.example> to=<alice@b.example>: mtrk tracking header",
       "tracking qid=A606DA7424D envid=20261123.a1b2c3+z@a.example "
       "certifier=3a213f661481c4791bf083f200afd6324f948d57 timeout=864000"},
      // A " from " inside the value does not end it early.
      {"postfix-a/cleanup",
       "A606DA7424D: info: header X-MTRK: envid=x@a.example; certifier=OiE/ZhSBxHkb8IPyAK/WMk+UjVc;"
       " note=sent from home from localhost[127.0.0.1]; from=<s@a.example> to=<r@b.example>: x",
       "tracking qid=A606DA7424D envid=x@a.example "
       "certifier=3a213f661481c4791bf083f200afd6324f948d57 timeout=0"},
      // A certifier that is not 20 octets: malformed, counted by the caller, message untracked.
      {"postfix-a/cleanup",
       "A606DA7424D: info: header X-MTRK: envid=x@a.example; certifier=YWJjZGVmZ2g from "
       "localhost[127.0.0.1]; from=<sender@a.example> to=<alice@b.example>: mtrk tracking header",
       "error INVALID_ARGUMENT"},
      {"postfix-a/cleanup", "A606DA7424D: info: header X-MTRK: envid=x@a.example; certifier=Oi",
       "error INVALID_ARGUMENT"},  // truncated: no Postfix suffix
  };
  Check(std::begin(kCases), std::end(kCases));
}

TEST(PostfixParserTest, Qmgr) {
  const Case kCases[] = {
      {"postfix-a/qmgr", "336F1A7420B: from=<sender@a.example>, size=428, nrcpt=1 (queue active)",
       "queued qid=336F1A7420B from=sender@a.example size=428 nrcpt=1"},
      {"postfix/qmgr", "4jXwvt6dXSz1bcJF: from=<>, size=2503, nrcpt=1 (queue active)",
       "queued qid=4jXwvt6dXSz1bcJF from= size=2503 nrcpt=1"},
      {"postfix-a/qmgr", "1D4BAA74210: removed", "removed qid=1D4BAA74210"},
      {"postfix-a/postsuper", "67401A74274: removed", "deleted qid=67401A74274"},
      {"postfix-a/postsuper", "C8981A74226: expired", "unrelated"},
      {"postfix-a/qmgr", "336F1A7420B: from=<sender@a.example>, status=expired, returned to sender",
       "expired qid=336F1A7420B from=sender@a.example"},
      {"postfix-a/qmgr",
       "C8981A74226: from=<sender@a.example>, status=force-expired, returned to sender",
       "expired qid=C8981A74226 from=sender@a.example forced"},
      {"postfix-a/qmgr", "336F1A7420B: from=<sender@a.example>, size=x, nrcpt=1 (queue active)",
       "error INVALID_ARGUMENT"},
      {"postfix-a/qmgr", "336F1A7420B: from=<sender@a.example>, nrcpt=1 (queue active)",
       "error INVALID_ARGUMENT"},
  };
  Check(std::begin(kCases), std::end(kCases));
}

TEST(PostfixParserTest, RecipientOutcomes) {
  const Case kCases[] = {
      {"postfix-a/smtp",
       "1D4BAA74210: to=<alice@b.example>, relay=127.0.0.2[127.0.0.2]:2526, delay=0.04, "
       "delays=0/0/0.02/0.01, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4jXwvs15pBz1bcHw)",
       "outcome qid=1D4BAA74210 agent=smtp rcpt=alice@b.example "
       "relay=127.0.0.2[127.0.0.2]:2526 dsn=2.0.0 status=sent next=4jXwvs15pBz1bcHw"},
      {"postfix-a/smtp",
       "F41C3A74213: to=<nobody@b.example>, relay=127.0.0.2[127.0.0.2]:2526, delay=0.01, "
       "delays=0/0/0/0.01, dsn=5.1.1, status=bounced (host 127.0.0.2[127.0.0.2] said: 550 5.1.1 "
       "<nobody@b.example>: Recipient address rejected: User unknown in virtual mailbox table (in "
       "reply to RCPT TO command))",
       "outcome qid=F41C3A74213 agent=smtp rcpt=nobody@b.example "
       "relay=127.0.0.2[127.0.0.2]:2526 dsn=5.1.1 status=bounced"},
      {"postfix-a/smtp",
       "336F1A7420B: to=<user@c.example>, relay=none, delay=0.02, delays=0.01/0.01/0/0, "
       "dsn=4.4.1, status=deferred (connect to 127.0.0.3[127.0.0.3]:2599: Connection refused)",
       "outcome qid=336F1A7420B agent=smtp rcpt=user@c.example relay=none dsn=4.4.1 "
       "status=deferred"},
      {"postfix/virtual",
       "4jXwvz00SYz1bcJg: to=<alice@b.example>, orig_to=<list@b.example>, relay=virtual, "
       "delay=0, delays=0/0/0/0, dsn=2.0.0, status=sent (delivered to maildir)",
       "outcome qid=4jXwvz00SYz1bcJg agent=virtual rcpt=alice@b.example orig=list@b.example "
       "relay=virtual dsn=2.0.0 status=sent"},
      {"postfix/virtual",
       "4jXwvt6Zrzz1bcJC: to=<ghost@b.example>, relay=virtual, delay=0.01, delays=0/0/0/0.01, "
       "dsn=5.1.1, status=bounced (unknown user: \"ghost@b.example\")",
       "outcome qid=4jXwvt6Zrzz1bcJC agent=virtual rcpt=ghost@b.example relay=virtual dsn=5.1.1 "
       "status=bounced"},
      {"postfix/local",
       "4jXwvz6PCZz1bcJt: to=<team@lists.b.example>, relay=local, delay=0.01, "
       "delays=0/0.01/0/0, dsn=2.0.0, status=sent (forwarded as 4jXwvz6Rvjz1bcJv)",
       "outcome qid=4jXwvz6PCZz1bcJt agent=local rcpt=team@lists.b.example relay=local "
       "dsn=2.0.0 status=sent forwarded=4jXwvz6Rvjz1bcJv"},
      {"postfix-a/discard",
       "A4BB1A7426A: to=<anyone@discard.example>, relay=none, delay=0.01, delays=0/0.01/0/0, "
       "dsn=2.0.0, status=sent (silently discarded by lab transport)",
       "outcome qid=A4BB1A7426A agent=discard rcpt=anyone@discard.example relay=none dsn=2.0.0 "
       "status=sent"},
      // Constructed: lmtp with conn_use=, pipe, error, and a per-recipient expiry.
      {"postfix/lmtp",
       "4jXwvz00SYz1bcJg: to=<a@b.example>, relay=store[private/dovecot-lmtp], conn_use=2, "
       "delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (250 2.0.0 <a@b.example> Saved)",
       "outcome qid=4jXwvz00SYz1bcJg agent=lmtp rcpt=a@b.example "
       "relay=store[private/dovecot-lmtp] dsn=2.0.0 status=sent"},
      {"postfix/pipe",
       "4jXwvz00SYz1bcJg: to=<a@b.example>, relay=procmail, delay=0.1, delays=0/0/0/0.1, "
       "dsn=2.0.0, status=sent (delivered via procmail service)",
       "outcome qid=4jXwvz00SYz1bcJg agent=pipe rcpt=a@b.example relay=procmail dsn=2.0.0 "
       "status=sent"},
      {"postfix/error",
       "4jXwvz00SYz1bcJg: to=<a@b.example>, relay=none, delay=0.1, delays=0/0/0/0.1, "
       "dsn=5.0.0, status=bounced (mail for b.example loops back to myself)",
       "outcome qid=4jXwvz00SYz1bcJg agent=error rcpt=a@b.example relay=none dsn=5.0.0 "
       "status=bounced"},
      {"postfix/qmgr",
       "4jXwvz00SYz1bcJg: to=<a@b.example>, relay=none, delay=432000, delays=432000/0/0/0, "
       "dsn=4.4.1, status=expired (connect to x: Connection refused)",
       "outcome qid=4jXwvz00SYz1bcJg agent=qmgr rcpt=a@b.example relay=none dsn=4.4.1 "
       "status=expired"},
      // An address-verification probe is not a delivery.
      {"postfix/smtp",
       "4jXwvz00SYz1bcJg: to=<a@b.example>, relay=mx[1.2.3.4]:25, delay=1, delays=0/0/0/1, "
       "dsn=2.1.5, status=deliverable (250 2.1.5 Ok)",
       "unrelated"},
      // Malformed tracked records.
      {"postfix-a/smtp", "336F1A7420B: to=<user@c.example>, status=deferred",
       "error INVALID_ARGUMENT"},  // no relay=, no dsn=
      {"postfix-a/smtp",
       "336F1A7420B: to=<user@c.example>, relay=none, dsn=4.4, status=deferred (x)",
       "error INVALID_ARGUMENT"},
      {"postfix-a/smtp",
       "336F1A7420B: to=<user@c.example>, relay=none, dsn=4.4.1, status=pending (x)",
       "error INVALID_ARGUMENT"},
      {"postfix-a/smtp", "336F1A7420B: to=user@c.example, relay=none", "error INVALID_ARGUMENT"},
      // Old Postfix logged bare addresses (postfix-grok-patterns test/local_0002.yaml).
      {"postfix/local",
       "892A0205B6: to=ghdsgfhdslfh@localhost, relay=local, delay=0.05, delays=0.02/0/0/0.02, "
       "dsn=5.1.1, status=bounced (unknown user: \"ghdsgfhdslfh\")",
       "outcome qid=892A0205B6 agent=local rcpt=ghdsgfhdslfh@localhost relay=local dsn=5.1.1 "
       "status=bounced"},
  };
  Check(std::begin(kCases), std::end(kCases));
}

TEST(PostfixParserTest, BounceNotifications) {
  const Case kCases[] = {
      {"postfix-a/bounce", "F41C3A74213: sender non-delivery notification: 030D9A7421C",
       "notification qid=F41C3A74213 kind=sender non-delivery new=030D9A7421C"},
      {"postfix/bounce", "4jXwvt6Zrzz1bcJC: postmaster non-delivery notification: 4jXwvt6dw9z1bcJG",
       "notification qid=4jXwvt6Zrzz1bcJC kind=postmaster non-delivery new=4jXwvt6dw9z1bcJG"},
      {"postfix-a/bounce", "336F1A7420B: sender delay notification: 7D2E0A7426F",
       "notification qid=336F1A7420B kind=sender delay new=7D2E0A7426F"},
      {"postfix-a/bounce",
       "warning: [built-in]: zero result in delay template conversion of parameter "
       "\"delay_warning_time_hours\"",
       "unrelated"},
  };
  Check(std::begin(kCases), std::end(kCases));
}

TEST(PostfixParserTest, UnrelatedLines) {
  const Case kCases[] = {
      {"postfix-a/smtpd", "connect from localhost[127.0.0.1]", "unrelated"},
      {"postfix-a/smtpd",
       "NOQUEUE: reject: RCPT from unknown[127.0.0.5]: 554 5.7.1 <victim@d.example>: Relay "
       "access denied; from=<someone@outside.example> to=<victim@d.example> proto=ESMTP "
       "helo=<outsider.example>",
       "unrelated"},
      {"postfix-a/smtp", "connect to 127.0.0.3[127.0.0.3]:2599: Connection refused", "unrelated"},
      {"postfix-a/postsuper", "Force-expired: 1 message", "unrelated"},
      {"postfix/anvil", "statistics: max cache size 2 at Nov 23 06:27:06", "unrelated"},
      {"postfix-a/master", "daemon started -- version 3.7.11, configuration /tmp/x", "unrelated"},
      {"sshd", "336F1A7420B: to=<x@y>, relay=none", "unrelated"},  // not a Postfix tag
  };
  Check(std::begin(kCases), std::end(kCases));
}

// Values longer than a hop event may hold make the line malformed (counted and skipped), so the
// correlator never builds an event the collector would reject. Found by a long fuzz run: a
// client= of 600 bytes became an invalid event (constructed lines).
TEST(PostfixParserTest, OverlongValuesAreMalformed) {
  const std::string host(600, 'h');
  const std::string local(600, 'u');
  const std::string client = absl::StrCat("4jXwvs15pBz1bcHw: client=", host, "[10.0.0.1]");
  const std::string from =
      absl::StrCat("3CA89A74156: from=<", local, "@a.example>, size=1, nrcpt=1 (queue active)");
  const std::string to = absl::StrCat(
      "3CA89A74156: to=<", local, "@b.example>, relay=local, delay=0, dsn=2.0.0, status=sent (ok)");
  const std::string relay = absl::StrCat("3CA89A74156: to=<x@b.example>, relay=", host,
                                         "[10.0.0.2]:25, delay=0, dsn=2.0.0, status=sent (ok)");
  const std::string id = absl::StrCat("3CA89A74156: message-id=<", std::string(1000, 'm'), ">");
  const Case kCases[] = {
      {"postfix/smtpd", client, "error INVALID_ARGUMENT"},
      {"postfix/qmgr", from, "error INVALID_ARGUMENT"},
      {"postfix/local", to, "error INVALID_ARGUMENT"},
      {"postfix/smtp", relay, "error INVALID_ARGUMENT"},
      {"postfix/cleanup", id, "error INVALID_ARGUMENT"},
  };
  Check(std::begin(kCases), std::end(kCases));
}

std::string Kind(absl::string_view program, absl::string_view text) {
  absl::StatusOr<LineFact> got = NewPostfixParser()->Parse(Line(program, text));
  if (!got.ok()) return "error";
  const auto* u = std::get_if<Unrelated>(&*got);
  return u == nullptr ? Describe(got) : std::string(u->kind);
}

// Policy and admin actions. Lab lines unless marked (constructed from Postfix's log formats in
// smtpd_check.c, cleanup_milter.c, postsuper.c).
TEST(PostfixParserTest, ActionsAndAdmin) {
  const Case kCases[] = {
      {"postfix-a/cleanup",
       "90507A7426A: discard: header Subject: [lab-discard] drop me from localhost[127.0.0.1]; "
       "from=<sender@a.example> to=<bob@b.example> proto=ESMTP helo=<client.a.example>: lab "
       "discard rule",
       "discarded qid=90507A7426A rcpt=bob@b.example"},
      {"postfix-a/cleanup",
       "8D8DBA7426C: hold: header Subject: [lab-hold] hold me from localhost[127.0.0.1]; "
       "from=<sender@a.example> to=<carol@b.example> proto=ESMTP helo=<client.a.example>: lab "
       "hold rule",
       "held qid=8D8DBA7426C rcpt=carol@b.example"},
      {"postfix/cleanup",  // constructed
       "4jXwvs15pBz1bcHw: milter-reject: END-OF-MESSAGE from x[10.0.0.1]: 5.7.1 Spam; "
       "from=<a@x.example> to=<b@y.example> proto=ESMTP helo=<x>",
       "rejected qid=4jXwvs15pBz1bcHw reason=END-OF-MESSAGE from x[10.0.0.1]: 5.7.1 Spam; "
       "from=<a@x.example> to=<b@y.example> proto=ESMTP helo=<x>"},
      {"postfix/smtpd",  // constructed
       "4jXwvs15pBz1bcHw: milter-discard: END-OF-MESSAGE from x[10.0.0.1]: milter triggers "
       "DISCARD action; from=<a@x.example> to=<b@y.example> proto=ESMTP helo=<x>",
       "discarded qid=4jXwvs15pBz1bcHw rcpt=b@y.example"},
      {"postfix/smtpd",  // constructed
       "336F1A7420B: hold: RCPT from x[10.0.0.1]: <b@y.example>: Recipient address triggers "
       "HOLD action; from=<a@x.example> to=<b@y.example> proto=ESMTP helo=<x>",
       "held qid=336F1A7420B rcpt=b@y.example"},
      {"postfix/postsuper", "336F1A7420B: placed on hold", "held qid=336F1A7420B rcpt= by-admin"},
      {"postfix/cleanup", "336F1A7420B: resent-message-id=<r1@x.example>",
       "resent-message-id qid=336F1A7420B id=r1@x.example"},
  };
  Check(std::begin(kCases), std::end(kCases));
}

TEST(PostfixParserTest, UnrelatedKinds) {
  EXPECT_EQ(Kind("postfix-a/smtpd", "connect from localhost[127.0.0.1]"), "no-queue-id");
  EXPECT_EQ(Kind("postfix-a/smtpd",
                 "NOQUEUE: reject: RCPT from unknown[127.0.0.5]: 554 5.7.1 <v@d.example>: Relay "
                 "access denied; from=<s@o.example> to=<v@d.example> proto=ESMTP helo=<o>"),
            "noqueue-reject");
  EXPECT_EQ(Kind("postfix-a/smtpd",
                 "A7C86A74264: reject: RCPT from localhost[127.0.0.1]: 550 5.1.1 "
                 "<nosuch@a.example>: Recipient address rejected: User unknown in virtual "
                 "mailbox table; from=<sender@a.example> to=<nosuch@a.example> proto=ESMTP "
                 "helo=<client.a.example>"),
            "rcpt-reject");
  EXPECT_EQ(Kind("postfix-a/cleanup",
                 "7B219A7426E: redirect: header Subject: [lab-redirect] redirect me from "
                 "localhost[127.0.0.1]; from=<sender@a.example> to=<bob@b.example> "
                 "proto=ESMTP helo=<client.a.example>: carol@b.example"),
            "redirect");
  EXPECT_EQ(Kind("postfix-a/postsuper", "8D8DBA7426C: released from hold"), "released");
  EXPECT_EQ(Kind("postfix/postsuper", "8D8DBA7426C: requeued"), "requeued");
  EXPECT_EQ(Kind("postfix/smtp", "8D8DBA7426C: enabling PIX workarounds: disable_esmtp"),
            "attempt-note");
  EXPECT_EQ(Kind("postfix/qmgr", "8D8DBA7426C: something new"), kUnrecognised);
  EXPECT_EQ(Kind("sshd", "8D8DBA7426C: to=<x@y>"), "not-postfix");
  // Found by tests/fuzz (corpus/correlator/crash-bacee1c6...): an empty instance made events the
  // collector refuses (mta_instance empty).
  EXPECT_EQ(Kind("/virtual",
                 "4jXww24hq8z1bcKL: to=<alice@b.example>, relay=virtual, delay=0.01, "
                 "delays=0/0/0/0, dsn=2.0.0, status=sent (delivered to maildir)"),
            "not-postfix");
}

TEST(PostfixParserTest, QueueIds) {
  EXPECT_TRUE(IsPostfixQueueId("336F1A7420B"));
  EXPECT_TRUE(IsPostfixQueueId("4jXwvs15pBz1bcHw"));
  EXPECT_FALSE(IsPostfixQueueId("NOQUEUE"));
  EXPECT_FALSE(IsPostfixQueueId("warning"));
  EXPECT_FALSE(IsPostfixQueueId("statistics"));
  EXPECT_FALSE(IsPostfixQueueId("ABC"));
}

// Every line of both lab logs has a header and no tracked record is malformed.
TEST(PostfixParserTest, LabLogsHaveNoMalformedLines) {
  const std::unique_ptr<LineParser> parser = NewPostfixParser();
  const SyslogHeaderParser headers(
      {.reference = absl::FromCivil(absl::CivilDay(2026, 11, 24), absl::UTCTimeZone())});
  for (const char* path :
       {"tests/data/postfix-lab/postfix-a.maillog", "tests/data/postfix-lab/postfix-b.maillog"}) {
    SCOPED_TRACE(path);
    std::ifstream in(path);
    ASSERT_TRUE(in.is_open());
    std::string raw;
    int lines = 0, recognised = 0;
    while (std::getline(in, raw)) {
      ++lines;
      absl::StatusOr<LogLine> line = headers.Parse(raw);
      ASSERT_OK(line) << raw;
      absl::StatusOr<LineFact> fact = parser->Parse(*line);
      ASSERT_OK(fact) << raw;
      if (!std::holds_alternative<Unrelated>(*fact)) ++recognised;
    }
    EXPECT_GT(lines, 200);
    EXPECT_GT(recognised, lines / 2);
  }
}

}  // namespace
}  // namespace mtrk::agent::parse
