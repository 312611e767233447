#include "mtqp-gateway/mtqp/session.h"

#include <map>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/net/certifier.h"
#include "gtest/gtest.h"

namespace mtrk::gateway::mtqp {
namespace {

using Next = Session::Next;

constexpr absl::string_view kEnvid = "20261123.a1b2c3@a.example";
const std::string kSecret =
    std::string("\x8f\x3b\x5a\x1c\x9d\x2e\x4f\x60\x71\x82\x93\xa4\xb5\xc6\xd7\xe8", 16);
constexpr absl::string_view kSecretB64 = "jztaHJ0uT2BxgpOktcbX6A";

model::HopEvent Hop() {
  model::HopEvent e;
  e.reporting_host = "mta-a";
  e.reporting_mta = "mta-a.a.example";
  e.mta_instance = "postfix-a";
  e.envid = std::string(kEnvid);
  e.original_recipient = "alice@b.example";
  e.final_recipient = "alice@b.example";
  e.action = model::DsnAction::kTransferred;
  e.status = "2.0.0";
  e.remote_mta = "127.0.0.2";
  e.arrival_time = absl::FromUnixSeconds(1795415225);
  e.last_attempt_time = e.arrival_time + absl::Seconds(8);
  e.event_time = e.last_attempt_time;
  return e;
}

// Behaves like the collector: NotFound for unknown ENVIDs and wrong secrets alike.
class FakeLookup : public TrackLookup {
 public:
  absl::StatusOr<std::vector<model::HopEvent>> Track(absl::string_view envid,
                                                     absl::string_view secret) override {
    ++calls;
    if (fail_with.has_value()) return *fail_with;
    if (envid != kEnvid || !net::SecretMatchesCertifier(secret, net::CertifierOf(kSecret))) {
      return absl::NotFoundError("no such message");
    }
    return std::vector<model::HopEvent>{Hop()};
  }
  int calls = 0;
  std::optional<absl::Status> fail_with;
};

SessionOptions Options(absl::string_view name, int64_t max_commands, int64_t max_bad,
                       bool tls_available = false, bool tls_required = false) {
  SessionOptions o;
  o.server_name = std::string(name);
  o.max_commands = max_commands;
  o.max_bad_commands = max_bad;
  o.tls_available = tls_available;
  o.tls_required = tls_required;
  o.certificate_names = {std::string(name)};  // what the server's certificate would say
  return o;
}

class SessionTest : public ::testing::Test {
 protected:
  std::string Send(absl::string_view line) { return session_.HandleLine(line).response; }
  FakeLookup lookup_;
  SessionOptions options_ = Options("mtqp.a.example", 50, 3);
  Session session_{options_, lookup_};
};

TEST_F(SessionTest, Item04_GreetingContainsMtqp) {
  const std::string g = session_.Greeting();
  EXPECT_TRUE(absl::StartsWith(g, "+OK/MTQP ")) << g;
  EXPECT_TRUE(absl::EndsWith(g, "\r\n"));
}

TEST_F(SessionTest, Item12_TrackAnswersMultilineBody) {
  const std::string r = Send(absl::StrCat("TRACK ", kEnvid, " ", kSecretB64));
  EXPECT_TRUE(absl::StartsWith(r, "+OK+")) << r;
  EXPECT_TRUE(absl::StrContains(r, "\r\nContent-Type: multipart/related;")) << r;
  EXPECT_TRUE(absl::EndsWith(r, "\r\n.\r\n")) << r;
}

TEST_F(SessionTest, Item31_WrongSecretUnknownEnvidExpiredAreByteIdentical) {
  const std::string wrong_secret = Send(absl::StrCat("TRACK ", kEnvid, " AAAAAAAAAAAAAAAAAAAAAA"));
  const std::string unknown_envid = Send(absl::StrCat("TRACK other@a.example ", kSecretB64));
  lookup_.fail_with = absl::NotFoundError("expired");
  const std::string expired = Send(absl::StrCat("TRACK ", kEnvid, " ", kSecretB64));
  EXPECT_EQ(wrong_secret, kNoInfoLine);
  EXPECT_EQ(unknown_envid, kNoInfoLine);
  EXPECT_EQ(expired, kNoInfoLine);
  EXPECT_TRUE(absl::StartsWith(kNoInfoLine, "-ERR/noinfo"));
}

TEST_F(SessionTest, SecretOfWrongSizeIsNoInfoWithoutLookup) {
  EXPECT_EQ(Send(absl::StrCat("TRACK ", kEnvid, " YWJj")), kNoInfoLine);  // 3 octets
  EXPECT_EQ(Send(absl::StrCat("TRACK ", kEnvid, " ", std::string(176, 'A'))), kNoInfoLine);  // 132
  EXPECT_EQ(lookup_.calls, 0);
}

TEST_F(SessionTest, Item34_EnvidWithBracketsFindsTheSameMessage) {
  EXPECT_TRUE(absl::StartsWith(Send(absl::StrCat("TRACK <", kEnvid, "> ", kSecretB64)), "+OK+"));
  EXPECT_EQ(Send(absl::StrCat("TRACK 20261123.A1B2C3@a.example ", kSecretB64)), kNoInfoLine);
}

TEST_F(SessionTest, CollectorDownIsTempUnavailable) {
  for (const absl::Status& s : {absl::UnavailableError("down"), absl::DeadlineExceededError("slow"),
                                absl::InternalError("bug")}) {
    lookup_.fail_with = s;
    EXPECT_EQ(Send(absl::StrCat("TRACK ", kEnvid, " ", kSecretB64)), kUnavailableLine);
  }
}

TEST_F(SessionTest, Item46_QuitRepliesOkThenCloses) {
  const Session::Reply r = session_.HandleLine("QUIT");
  EXPECT_TRUE(absl::StartsWith(r.response, "+OK")) << r.response;
  EXPECT_FALSE(absl::StartsWith(r.response, "+OK+"));
  EXPECT_EQ(r.next, Next::kClose);
}

TEST_F(SessionTest, Item36_CommentIsOk) {
  for (absl::string_view line : {"COMMENT", "COMMENT anything at all", "comment\t"}) {
    const Session::Reply r = session_.HandleLine(line);
    EXPECT_EQ(r.response, "+OK\r\n");
    EXPECT_EQ(r.next, Next::kContinue);
  }
}

TEST_F(SessionTest, Item40_StartTlsWithoutTlsIsUnsupported) {
  EXPECT_TRUE(absl::StartsWith(Send("STARTTLS mtqp.a.example"), "-ERR/unsupported"));
  EXPECT_TRUE(absl::StartsWith(Send("STARTTLS"), "-BAD"));  // item 37
}

TEST_F(SessionTest, Item08_UnknownCommandIsBadAndSessionGoesOn) {
  const Session::Reply bad = session_.HandleLine("LIST");
  EXPECT_TRUE(absl::StartsWith(bad.response, "-BAD")) << bad.response;
  EXPECT_EQ(bad.next, Next::kContinue);
  EXPECT_EQ(Send("COMMENT still here"), "+OK\r\n");
}

TEST_F(SessionTest, Item47_PipelinedCommandsAnsweredInOrder) {
  // The server feeds lines one at a time; the session answers each before the next.
  const std::string answers[] = {
      Send("COMMENT one"), Send(absl::StrCat("TRACK ", kEnvid, " ", kSecretB64)), Send("bogus")};
  EXPECT_EQ(answers[0], "+OK\r\n");
  EXPECT_TRUE(absl::StartsWith(answers[1], "+OK+"));
  EXPECT_TRUE(absl::StartsWith(answers[2], "-BAD"));
}

TEST_F(SessionTest, Item50_TooManyBadCommandsCloses) {
  for (int i = 0; i < 3; ++i) EXPECT_EQ(session_.HandleLine("nope").next, Next::kContinue);
  const Session::Reply r = session_.HandleLine("nope");
  EXPECT_TRUE(absl::StartsWith(r.response, "-BAD"));
  EXPECT_EQ(r.next, Next::kClose);
}

TEST_F(SessionTest, Item50_TooManyCommandsCloses) {
  for (int i = 0; i < 50; ++i) ASSERT_EQ(session_.HandleLine("COMMENT").next, Next::kContinue);
  const Session::Reply r = session_.HandleLine("COMMENT");
  EXPECT_TRUE(absl::StartsWith(r.response, "-ERR"));
  EXPECT_EQ(r.next, Next::kClose);
}

TEST_F(SessionTest, Item10_TooLongLineIsBadAndCounted) {
  EXPECT_TRUE(absl::StartsWith(session_.HandleTooLongLine().response, "-BAD"));
  EXPECT_EQ(Send("COMMENT"), "+OK\r\n");
}

TEST(SessionTlsTest, Item05_Item06_GreetingListsStartTls) {
  FakeLookup lookup;
  Session offered(Options("m.a.example", 10, 10, true), lookup);
  EXPECT_EQ(offered.Greeting(), "+OK+/MTQP m.a.example MTQP server ready\r\nSTARTTLS\r\n.\r\n");
  Session required(Options("m.a.example", 10, 10, true, true), lookup);
  EXPECT_TRUE(absl::StrContains(required.Greeting(), "\r\nSTARTTLS required\r\n"));
}

TEST(SessionTlsTest, Item35_Item39_TlsRequiredAndInProgress) {
  FakeLookup lookup;
  Session s(Options("m.a.example", 10, 10, true, true), lookup);
  EXPECT_TRUE(absl::StartsWith(
      s.HandleLine(absl::StrCat("TRACK ", kEnvid, " ", kSecretB64)).response, "-ERR/tls-required"));
  EXPECT_EQ(lookup.calls, 0);
  EXPECT_TRUE(absl::StartsWith(s.HandleLine("STARTTLS other.a.example").response,
                               "-BAD/bad-fqdn"));  // item 38
  EXPECT_EQ(s.HandleLine("STARTTLS m.a.example").next, Next::kStartTls);
  s.TlsEstablished();
  EXPECT_FALSE(absl::StrContains(s.Greeting(), "STARTTLS"));  // item 41
  EXPECT_TRUE(
      absl::StartsWith(s.HandleLine("STARTTLS m.a.example").response, "-BAD/tls-in-progress"));
  EXPECT_TRUE(absl::StartsWith(
      s.HandleLine(absl::StrCat("TRACK ", kEnvid, " ", kSecretB64)).response, "+OK+"));
}

// Records what the session hands the chainer and returns one canned downstream part.
class FakeChainer : public Chainer {
 public:
  std::vector<std::string> DownstreamParts(absl::string_view envid, absl::string_view secret,
                                           std::span<const model::HopEvent> hops,
                                           const ChainContext& context) override {
    ++calls;
    last = context;
    last_envid = std::string(envid);
    last_secret = std::string(secret);
    EXPECT_EQ(hops.size(), 1u);
    return {
        "Content-Type: message/tracking-status\r\n\r\nOriginal-Envelope-Id: x\r\n"
        "Reporting-MTA: dns; mta-b.b.example\r\n\r\n"};
  }
  int calls = 0;
  ChainContext last;
  std::string last_envid, last_secret;
};

TEST(SessionChainTest, Item52_DownstreamPartsAppendedAndChainCommentRead) {
  FakeLookup lookup;
  FakeChainer chainer;
  SessionOptions options = Options("mtqp.a.example", 100, 10);
  options.chainer = &chainer;
  Session session(options, lookup);
  EXPECT_EQ(session.HandleLine("COMMENT vnd.mtrk.chain depth=2 asked=b:1038,c:1039").response,
            "+OK\r\n");
  const Session::Reply reply =
      session.HandleLine(absl::StrCat("TRACK <", kEnvid, "> ", kSecretB64));
  ASSERT_TRUE(absl::StartsWith(reply.response, "+OK+")) << reply.response;
  EXPECT_TRUE(absl::StrContains(reply.response, "Reporting-MTA: dns; mta-b.b.example\r\n"));
  EXPECT_TRUE(absl::StrContains(reply.response, "Action: transferred\r\n"));  // ours kept
  EXPECT_EQ(chainer.calls, 1);
  EXPECT_EQ(chainer.last.depth, 2);
  EXPECT_EQ(chainer.last.asked, (std::vector<std::string>{"b:1038", "c:1039"}));
  EXPECT_FALSE(chainer.last.client_used_tls);
  EXPECT_EQ(chainer.last_envid, kEnvid);  // decoded, without <>
  EXPECT_EQ(chainer.last_secret, kSecret);
  // An ordinary comment is just that; a wrong secret never reaches the chainer.
  EXPECT_EQ(session.HandleLine("COMMENT hello there").response, "+OK\r\n");
  EXPECT_EQ(session.HandleLine(absl::StrCat("TRACK ", kEnvid, " AAAAAAAAAAAAAAAAAAAAAA")).response,
            kNoInfoLine);
  EXPECT_EQ(chainer.calls, 1);
}

TEST(SessionChainTest, ChainCommentBeforeTlsIsForgotten) {
  FakeLookup lookup;
  FakeChainer chainer;
  SessionOptions options = Options("mtqp.a.example", 100, 10, /*tls_available=*/true);
  options.certificate_names = {"mtqp.a.example"};
  options.chainer = &chainer;
  Session session(options, lookup);
  session.HandleLine("COMMENT vnd.mtrk.chain depth=7 asked=x:1");
  EXPECT_EQ(session.HandleLine("STARTTLS mtqp.a.example").next, Next::kStartTls);
  session.TlsEstablished();
  session.HandleLine(absl::StrCat("TRACK ", kEnvid, " ", kSecretB64));
  EXPECT_EQ(chainer.last.depth, 0);
  EXPECT_TRUE(chainer.last.asked.empty());
  EXPECT_TRUE(chainer.last.client_used_tls);
}

}  // namespace
}  // namespace mtrk::gateway::mtqp
