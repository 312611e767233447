#include "mtqp-gateway/mtqp/tracking_status.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "mtqp-gateway/mtqp/multiline.h"
#include "mtqp-gateway/mtqp/response.h"
#include "mtqp-gateway/mtqp/tracking_status_parser.h"
#include "re2/re2.h"
#include "tests/support/status_matchers.h"

namespace mtrk::gateway::mtqp {
namespace {

using model::DsnAction;
using model::HopEvent;

constexpr absl::string_view kEnvid = "20261123.a1b2c3@a.example";
const absl::Time kArrival = absl::FromUnixSeconds(1795415225);  // 2026-11-23 06:27:05 UTC

HopEvent Hop(absl::string_view host, absl::string_view rcpt, DsnAction action,
             absl::string_view status) {
  HopEvent e;
  e.reporting_host = std::string(host);
  e.reporting_mta = absl::StrCat(host, ".a.example");
  e.mta_instance = "postfix-a";
  e.envid = std::string(kEnvid);
  e.original_recipient = std::string(rcpt);
  e.final_recipient = std::string(rcpt);
  e.action = action;
  e.status = std::string(status);
  e.arrival_time = kArrival;
  e.event_time = kArrival + absl::Seconds(8);
  if (action != DsnAction::kOpaque) {
    e.remote_mta = "127.0.0.2";
    e.last_attempt_time = kArrival + absl::Seconds(8);
  }
  return e;
}

// The fields (name: value lines) of every block, in order, across all parts.
std::vector<std::string> Lines(absl::string_view body) { return absl::StrSplit(body, "\r\n"); }

std::string Body(const std::vector<HopEvent>& hops, const TrackingStatusOptions& o = {}) {
  absl::StatusOr<std::string> body = BuildTrackingStatusBody(kEnvid, hops, o);
  EXPECT_OK(body);
  return body.ok() ? *body : "";
}

TEST(TrackingStatusTest, GoldenSingleHop) {
  const std::string body =
      Body({Hop("mta-a", "alice@b.example", DsnAction::kTransferred, "2.0.0")});
  const std::string boundary = body.substr(body.find("boundary=\"") + 10, 24);
  EXPECT_EQ(
      body,
      absl::StrCat("Content-Type: multipart/related; type=\"message/tracking-status\"; boundary=\"",
                   boundary, "\"\r\n\r\n--", boundary,
                   "\r\nContent-Type: message/tracking-status\r\n"
                   "Content-Transfer-Encoding: 7bit\r\n\r\n"
                   "Original-Envelope-Id: 20261123.a1b2c3@a.example\r\n"
                   "Reporting-MTA: dns; mta-a.a.example\r\n"
                   "Arrival-Date: Mon, 23 Nov 2026 06:27:05 +0000\r\n\r\n"
                   "Original-Recipient: rfc822; alice@b.example\r\n"
                   "Final-Recipient: rfc822; alice@b.example\r\n"
                   "Action: transferred\r\n"
                   "Status: 2.0.0\r\n"
                   "Remote-MTA: dns; 127.0.0.2\r\n"
                   "Last-Attempt-Date: Mon, 23 Nov 2026 06:27:13 +0000\r\n\r\n--",
                   boundary, "--\r\n"));
}

TEST(Conformance, Item13_MultipartRelatedWithLegalBoundary) {
  const std::string body = Body({Hop("mta-a", "a@b.example", DsnAction::kTransferred, "2.0.0"),
                                 Hop("mta-b", "a@b.example", DsnAction::kDelivered, "2.0.0")});
  std::string boundary;
  ASSERT_TRUE(RE2::PartialMatch(
      body,
      R"(^Content-Type: multipart/related; type="message/tracking-status"; boundary="([^"]+)\"\r\n\r\n)",
      &boundary));
  // RFC 2046 bcharsnospace, 1..70.
  EXPECT_TRUE(RE2::FullMatch(boundary, R"([0-9A-Za-z'()+_,\-./:=?]{1,70})")) << boundary;
  int parts = 0;
  for (absl::string_view line : Lines(body)) {
    if (line == absl::StrCat("--", boundary)) ++parts;
  }
  EXPECT_EQ(parts, 2);  // one part per reporting MTA
  EXPECT_EQ(static_cast<int>(absl::StrSplit(body, "Content-Type: message/tracking-status\r\n")
                                 .
                                 operator std::vector<std::string>()
                                 .size()) -
                1,
            2);
  EXPECT_TRUE(absl::EndsWith(body, absl::StrCat("--", boundary, "--\r\n")));
}

TEST(Conformance, Item14_SevenBitNoBareCrOrLf) {
  HopEvent e = Hop("mta-a", "caf\xc3\xa9@b.example", DsnAction::kFailed, "5.1.1");
  e.final_recipient = "evil@b.example\r\nAction: delivered";  // a forged line must not survive
  e.diagnostic = "550 5.1.1 \x01nope";
  const std::string body = Body({e}, {.include_diagnostic = true});
  for (size_t i = 0; i < body.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(body[i]);
    ASSERT_LT(c, 128u) << "offset " << i;
    if (c == '\r') {
      ASSERT_EQ(body[i + 1], '\n') << "bare CR at " << i;
    } else if (c == '\n') {
      ASSERT_EQ(body[i - 1], '\r') << "bare LF at " << i;
    } else {
      ASSERT_TRUE(c >= 32 && c < 127) << "control at " << i;
    }
  }
  EXPECT_FALSE(absl::StrContains(body, "\r\nAction: delivered"));
}

TEST(Conformance, Item15_PerMessageFieldsInOrderOnce) {
  const std::string body = Body({Hop("mta-a", "a@b.example", DsnAction::kDelivered, "2.0.0"),
                                 Hop("mta-a", "b@b.example", DsnAction::kDelivered, "2.0.0")});
  const size_t oe = body.find("\r\nOriginal-Envelope-Id: ");
  const size_t rm = body.find("\r\nReporting-MTA: ");
  const size_t ad = body.find("\r\nArrival-Date: ");
  ASSERT_NE(oe, std::string::npos);
  EXPECT_LT(oe, rm);
  EXPECT_LT(rm, ad);
  EXPECT_EQ(body.find("\r\nOriginal-Envelope-Id: ", oe + 1), std::string::npos);
  EXPECT_EQ(body.find("\r\nArrival-Date: ", ad + 1), std::string::npos);
  EXPECT_LT(ad, body.find("\r\nOriginal-Recipient: "));
}

TEST(Conformance, Item16_EnvelopeIdHasNoBrackets) {
  EXPECT_TRUE(absl::StrContains(Body({Hop("mta-a", "a@b.example", DsnAction::kDelivered, "2.0.0")}),
                                "\r\nOriginal-Envelope-Id: 20261123.a1b2c3@a.example\r\n"));
}

TEST(Conformance, Item17_ReportingMtaDnsOrLocalName) {
  HopEvent e = Hop("mta-a", "a@b.example", DsnAction::kDelivered, "2.0.0");
  e.reporting_mta.clear();
  EXPECT_TRUE(absl::StrContains(Body({e}), "\r\nReporting-MTA: x-local-hostname; mta-a\r\n"));
  e.reporting_host = "mx.c.example";
  EXPECT_TRUE(absl::StrContains(Body({e}), "\r\nReporting-MTA: dns; mx.c.example\r\n"));
}

TEST(Conformance, Item18_DatesUseNumericZone) {
  HopEvent e = Hop("mta-a", "a@b.example", DsnAction::kDelayed, "4.4.1");
  e.will_retry_until = kArrival + absl::Hours(120);
  const std::string body = Body({e});
  int dates = 0;
  for (absl::string_view line : Lines(body)) {
    for (absl::string_view f : {"Arrival-Date: ", "Last-Attempt-Date: ", "Will-Retry-Until: "}) {
      if (absl::StartsWith(line, f)) {
        ++dates;
        EXPECT_TRUE(RE2::FullMatch(
            std::string(line.substr(f.size())),
            R"((Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d [+-]\d{4})"))
            << line;
      }
    }
  }
  EXPECT_EQ(dates, 3);
  EXPECT_EQ(FormatRfc5322Date(kArrival), "Mon, 23 Nov 2026 06:27:05 +0000");
}

TEST(Conformance, Item22_Status219OnlyWithRelayed) {
  const std::string body =
      Body({Hop("mta-a", "r@b.example", DsnAction::kRelayed, "2.0.0"),
            Hop("mta-a", "d@b.example", DsnAction::kDelivered, "2.1.9")});  // bad input
  absl::StatusOr<std::vector<TrackingStatusPart>> parts = ParseTrackingStatusBody(body);
  ASSERT_OK(parts);
  ASSERT_EQ(parts->size(), 1u);
  for (const RecipientRecord& r : (*parts)[0].recipients) {
    SCOPED_TRACE(r.final_recipient.value);
    EXPECT_EQ(r.status == "2.1.9", r.action == "relayed");
  }
}

TEST(Conformance, Item23_Item24_Item25_OptionalFieldsFollowTheAttempt) {
  HopEvent opaque = Hop("mta-a", "o@b.example", DsnAction::kOpaque, "");
  opaque.remote_mta = "x.example";  // must still not appear
  HopEvent queued = Hop("mta-a", "q@b.example", DsnAction::kDelayed, "4.4.1");
  queued.remote_mta.clear();
  queued.last_attempt_time = absl::InfinitePast();  // never attempted
  queued.will_retry_until = kArrival + absl::Hours(120);
  HopEvent delivered = Hop("mta-a", "d@b.example", DsnAction::kDelivered, "2.0.0");
  delivered.last_attempt_time = absl::InfinitePast();  // falls back to the log line's time
  absl::StatusOr<std::vector<TrackingStatusPart>> parts =
      ParseTrackingStatusBody(Body({opaque, queued, delivered}));
  ASSERT_OK(parts);
  ASSERT_EQ((*parts)[0].recipients.size(), 3u);
  const RecipientRecord& o = (*parts)[0].recipients[0];
  const RecipientRecord& q = (*parts)[0].recipients[1];
  const RecipientRecord& d = (*parts)[0].recipients[2];
  EXPECT_EQ(o.action, "opaque");
  EXPECT_EQ(o.status, "2.0.0");  // DIGEST §6.7, comment dropped by the parser
  EXPECT_EQ(o.remote_mta.value, "");
  EXPECT_EQ(o.last_attempt_date, "");
  EXPECT_EQ(o.will_retry_until, "");
  EXPECT_EQ(q.remote_mta.value, "");
  EXPECT_EQ(q.last_attempt_date, "");
  EXPECT_EQ(q.will_retry_until, "Sat, 28 Nov 2026 06:27:05 +0000");
  EXPECT_EQ(d.last_attempt_date, "Mon, 23 Nov 2026 06:27:13 +0000");
  EXPECT_EQ(d.will_retry_until, "");
}

TEST(Conformance, Item26_Item27_ExpansionMembersNeverAppear) {
  HopEvent list = Hop("mta-b", "list@b.example", DsnAction::kExpanded, "2.0.0");
  HopEvent member = Hop("mta-b", "member@b.example", DsnAction::kDelivered, "2.0.0");
  member.original_recipient = "list@b.example";
  member.expansion_member = true;
  const std::string body = Body({list, member});
  EXPECT_FALSE(absl::StrContains(body, "member@b.example"));
  EXPECT_TRUE(absl::StrContains(body, "\r\nAction: expanded\r\n"));
  EXPECT_THAT(BuildTrackingStatusBody(kEnvid, std::vector<HopEvent>{member}),
              test::StatusIs(absl::StatusCode::kNotFound));
}

TEST(TrackingStatusTest, LatestEventPerRecipientWins) {
  HopEvent deferred = Hop("mta-a", "a@b.example", DsnAction::kDelayed, "4.4.1");
  HopEvent sent = Hop("mta-a", "a@b.example", DsnAction::kTransferred, "2.0.0");
  sent.event_time = deferred.event_time + absl::Minutes(5);
  for (const auto& hops :
       {std::vector<HopEvent>{deferred, sent}, std::vector<HopEvent>{sent, deferred}}) {
    absl::StatusOr<std::vector<TrackingStatusPart>> parts = ParseTrackingStatusBody(Body(hops));
    ASSERT_OK(parts);
    ASSERT_EQ((*parts)[0].recipients.size(), 1u);
    EXPECT_EQ((*parts)[0].recipients[0].action, "transferred");
  }
}

TEST(TrackingStatusTest, DiagnosticOnlyWhenAskedAndOnlyForFailedOrDelayed) {
  HopEvent failed = Hop("mta-a", "f@b.example", DsnAction::kFailed, "5.1.1");
  failed.diagnostic = "550 5.1.1 unknown user";
  HopEvent delivered = Hop("mta-a", "d@b.example", DsnAction::kDelivered, "2.0.0");
  delivered.diagnostic = "250 ok";
  EXPECT_FALSE(absl::StrContains(Body({failed, delivered}), "Diagnostic-Code"));
  const std::string with = Body({failed, delivered}, {.include_diagnostic = true});
  EXPECT_TRUE(absl::StrContains(with, "\r\nDiagnostic-Code: smtp; 550 5.1.1 unknown user\r\n"));
  EXPECT_FALSE(absl::StrContains(with, "250 ok"));
}

TEST(TrackingStatusTest, ParserRoundTrip) {
  HopEvent a = Hop("mta-a", "alice@b.example", DsnAction::kTransferred, "2.0.0");
  HopEvent b = Hop("mta-b", "alice@b.example", DsnAction::kDelivered, "2.0.0");
  b.original_recipient = "Alice@B.example";
  b.arrival_time = kArrival + absl::Seconds(9);
  absl::StatusOr<std::vector<TrackingStatusPart>> parts = ParseTrackingStatusBody(Body({b, a}));
  ASSERT_OK(parts);
  ASSERT_EQ(parts->size(), 2u);
  const TrackingStatusPart& first = (*parts)[0];  // arrival order, not input order
  EXPECT_EQ(first.original_envelope_id, kEnvid);
  EXPECT_EQ(first.reporting_mta.type, "dns");
  EXPECT_EQ(first.reporting_mta.value, "mta-a.a.example");
  EXPECT_EQ(first.arrival_date, "Mon, 23 Nov 2026 06:27:05 +0000");
  ASSERT_EQ(first.recipients.size(), 1u);
  EXPECT_EQ(first.recipients[0].original_recipient.type, "rfc822");
  EXPECT_EQ(first.recipients[0].final_recipient.value, "alice@b.example");
  EXPECT_EQ(first.recipients[0].action, "transferred");
  EXPECT_EQ(first.recipients[0].status, "2.0.0");
  EXPECT_EQ(first.recipients[0].remote_mta.value, "127.0.0.2");
  EXPECT_EQ((*parts)[1].reporting_mta.value, "mta-b.a.example");
  EXPECT_EQ((*parts)[1].recipients[0].original_recipient.value, "Alice@B.example");
}

TEST(TrackingStatusParserTest, LenientOnRfcExampleSloppiness) {
  // RFC 3887 example 9 style: illegal boundary, type=tracking-status, any field order,
  // "Status:2.4.0" without a space, LF line ends, a folded field, lower-case names.
  constexpr absl::string_view kBody =
      "Content-Type: multipart/related; boundary=%%%%; type=tracking-status\n"
      "\n"
      "--%%%%\n"
      "Content-Type: message/tracking-status\n"
      "\n"
      "reporting-mta: dns; example.com\n"
      "Original-Envelope-Id: 12345-20010101@example.com\n"
      "Arrival-Date: Mon,  1 Jan 2001 15:15:15 -0500\n"
      "\n"
      "Action: transferred\n"
      "Status:2.4.0\n"
      "Final-Recipient: rfc822;\n"
      "  user1@example1.com\n"
      "Original-Recipient: rfc822; user1@example1.com\n"
      "\n"
      "--%%%%--\n";
  absl::StatusOr<std::vector<TrackingStatusPart>> parts = ParseTrackingStatusBody(kBody);
  ASSERT_OK(parts);
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].reporting_mta.value, "example.com");
  ASSERT_EQ((*parts)[0].recipients.size(), 1u);
  EXPECT_EQ((*parts)[0].recipients[0].status, "2.4.0");
  EXPECT_EQ((*parts)[0].recipients[0].final_recipient.value, "user1@example1.com");
}

TEST(TrackingStatusParserTest, RejectsMalformed) {
  const std::string kCases[] = {
      // A field without a colon (RFC 3887 example 9's "Status 5.2.2").
      "Content-Type: message/tracking-status\r\n\r\nReporting-MTA: dns; x.example\r\n\r\n"
      "Final-Recipient: rfc822; a@b\r\nAction: failed\r\nStatus 5.2.2\r\n",
      // No closing boundary.
      "Content-Type: multipart/related; boundary=\"b\"\r\n\r\n--b\r\n"
      "Content-Type: message/tracking-status\r\n\r\nReporting-MTA: dns; x.example\r\n",
      // Recipient without Action.
      "Content-Type: message/tracking-status\r\n\r\nReporting-MTA: dns; x.example\r\n\r\n"
      "Final-Recipient: rfc822; a@b\r\n",
      "Content-Type: text/plain\r\n\r\nhello\r\n",
  };
  for (const std::string& body : kCases) {
    SCOPED_TRACE(body);
    EXPECT_THAT(ParseTrackingStatusBody(body), test::StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

TEST(Conformance, Item48_DotStuffingRoundTrip) {
  const std::string body = "line one\r\n.starts with a dot\r\n..two dots\r\n.\r\nlast\r\n";
  const std::string wire = DotStuff(body);
  EXPECT_EQ(wire, "line one\r\n..starts with a dot\r\n...two dots\r\n..\r\nlast\r\n.\r\n");
  MultilineDecoder decoder;
  for (absl::string_view line :
       absl::StrSplit(absl::string_view(wire).substr(0, wire.size() - 2), "\r\n")) {
    decoder.Add(line);
  }
  EXPECT_TRUE(decoder.done());
  EXPECT_EQ(decoder.body(), body);
  EXPECT_FALSE(decoder.Add("after the end"));
  EXPECT_EQ(DotStuff("no final newline"), "no final newline\r\n.\r\n");
}

TEST(ResponseLineTest, ParsesIndicatorCodesText) {
  absl::StatusOr<ResponseLine> r = ParseResponseLine("-TEMP/MTQP/admin Service down");
  ASSERT_OK(r);
  EXPECT_EQ(r->indicator, ResponseLine::Indicator::kTemp);
  EXPECT_TRUE(r->HasCode("mtqp"));
  EXPECT_TRUE(r->HasCode("ADMIN"));
  EXPECT_EQ(r->text, "Service down");
  ASSERT_OK_AND_ASSIGN(ResponseLine multi, ParseResponseLine("+OK+"));
  EXPECT_EQ(multi.indicator, ResponseLine::Indicator::kOkMulti);
  EXPECT_THAT(ParseResponseLine("+OKAY"), test::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseResponseLine("250 ok"), test::StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace mtrk::gateway::mtqp
