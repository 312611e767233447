// The server over a real loopback socket, with a fake lookup.
#include "mtqp-gateway/server/mtqp_server.h"

#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mtqp-gateway/server/testing/mtqp_test_client.h"
#include "spdlog/sinks/ostream_sink.h"
#include "spdlog/spdlog.h"
#include "tests/support/status_matchers.h"

namespace mtrk::gateway::server {
namespace {

using mtqp_test::FakeLookup;
using mtqp_test::kEnvid;
using mtqp_test::kSecretB64;
using ::testing::HasSubstr;
using ::testing::Not;
// Over loopback with a deadline per read: a broken server fails the test ("<timeout>").
using RawClient = mtqp_test::MtqpTestClient;

class MtqpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.listen_host = "127.0.0.1";
    options.listen_port = 0;
    options.session.server_name = "mtqp.a.example";
    options.session.max_bad_commands = 5;
    ASSERT_OK_AND_ASSIGN(server_, MtqpServer::Start(options, lookup_));
  }
  FakeLookup lookup_;
  std::unique_ptr<MtqpServer> server_;
};

TEST_F(MtqpServerTest, Item01_PortIsConfigurableAndZeroPicksOne) {
  EXPECT_NE(server_->port(), 0);
  EXPECT_EQ(server_->endpoint(), absl::StrCat("127.0.0.1:", server_->port()));
  EXPECT_EQ(ServerOptions().listen_port, 1038);
}

TEST_F(MtqpServerTest, Item04_Item12_Item46_GreetingTrackQuit) {
  RawClient c(server_->port());
  const std::string greeting = c.Line();
  EXPECT_TRUE(absl::StartsWith(greeting, "+OK")) << greeting;
  EXPECT_TRUE(absl::StrContains(greeting, "/MTQP")) << greeting;
  c.Send(absl::StrCat("TRACK <", kEnvid, "> ", kSecretB64, "\r\n"));
  EXPECT_TRUE(absl::StartsWith(c.Line(), "+OK+"));
  const std::string body = c.UntilDot();
  EXPECT_TRUE(absl::StartsWith(body, "Content-Type: multipart/related;")) << body;
  EXPECT_TRUE(absl::StrContains(body, "\nAction: transferred\n")) << body;
  c.Send("QUIT\r\n");
  EXPECT_TRUE(absl::StartsWith(c.Line(), "+OK"));
  EXPECT_EQ(c.Line(), "<eof>");
}

TEST_F(MtqpServerTest, Item31_NoInfoOverTheWire) {
  RawClient c(server_->port());
  c.Line();
  c.Send(absl::StrCat("TRACK unknown@a.example ", kSecretB64, "\r\n"));
  EXPECT_EQ(c.Line() + "\r\n", mtqp::kNoInfoLine);
}

TEST_F(MtqpServerTest, Item10_LongLineIsBadAndServerKeepsWorking) {
  RawClient c(server_->port());
  c.Line();
  c.Send(absl::StrCat("COMMENT ", std::string(2000, 'x'), "\r\nCOMMENT after\r\n"));
  EXPECT_TRUE(absl::StartsWith(c.Line(), "-BAD"));
  EXPECT_EQ(c.Line(), "+OK");
  RawClient other(server_->port());  // and the server still serves others
  EXPECT_TRUE(absl::StrContains(other.Line(), "/MTQP"));
}

TEST_F(MtqpServerTest, Item47_PipelinedCommandsAnsweredInOrder) {
  RawClient c(server_->port());
  c.Line();
  c.Send(absl::StrCat("COMMENT 1\r\nbogus\r\nTRACK ", kEnvid, " ", kSecretB64,
                      "\r\nTRACK x@y.example ", kSecretB64, "\r\nQUIT\r\n"));
  EXPECT_EQ(c.Line(), "+OK");
  EXPECT_TRUE(absl::StartsWith(c.Line(), "-BAD"));
  EXPECT_TRUE(absl::StartsWith(c.Line(), "+OK+"));
  c.UntilDot();
  EXPECT_TRUE(absl::StartsWith(c.Line(), "-ERR/noinfo"));
  EXPECT_TRUE(absl::StartsWith(c.Line(), "+OK"));
  EXPECT_EQ(c.Line(), "<eof>");
}

TEST_F(MtqpServerTest, Item50_BadCommandLimitClosesConnection) {
  RawClient c(server_->port());
  c.Line();
  std::string batch;
  for (int i = 0; i < 6; ++i) batch += "nope\r\n";
  c.Send(batch + "COMMENT never answered\r\n");
  for (int i = 0; i < 6; ++i) EXPECT_TRUE(absl::StartsWith(c.Line(), "-BAD"));
  EXPECT_EQ(c.Line(), "<eof>");
}

TEST_F(MtqpServerTest, StopClosesOpenConnections) {
  RawClient c(server_->port());
  c.Line();
  server_->Stop();
  EXPECT_EQ(c.Line(), "<eof>");
  server_->Stop();  // idempotent
}

// Over loopback every client is 127.0.0.1: one budget for all of this test's connections.
TEST(MtqpServerRateLimitTest, FailedTracksAndConnectionsPerClientAddress) {
  // Refusals are logged at warn with the client's address (STYLE §4).
  std::ostringstream log;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log)));
  FakeLookup lookup;
  ServerOptions options;
  options.listen_host = "127.0.0.1";
  options.listen_port = 0;
  options.connection_limit = {.burst = 3, .period = absl::Hours(1)};
  options.failed_track_limit = {.burst = 2, .period = absl::Hours(1)};
  ASSERT_OK_AND_ASSIGN(auto server, MtqpServer::Start(options, lookup));
  const std::string right = absl::StrCat("TRACK ", kEnvid, " ", kSecretB64, "\r\n");

  RawClient c1(server->port());
  EXPECT_TRUE(absl::StartsWith(c1.Line(), "+OK/MTQP"));
  c1.Send(right);  // a success costs nothing
  EXPECT_TRUE(absl::StartsWith(c1.Line(), "+OK+"));
  c1.UntilDot();
  c1.Send(absl::StrCat("TRACK unknown@a.example ", kSecretB64, "\r\nTRACK ", kEnvid,
                       " c2hvcnQ=\r\n"));  // unknown ENVID; wrong (too short) secret
  EXPECT_EQ(c1.Line() + "\r\n", mtqp::kNoInfoLine);
  EXPECT_EQ(c1.Line() + "\r\n", mtqp::kNoInfoLine);
  c1.Send(right);  // over the limit: the right secret gets no data either
  EXPECT_EQ(c1.Line() + "\r\n", mtqp::kRateLimitedLine);
  c1.Send("COMMENT other commands still work\r\n");
  EXPECT_EQ(c1.Line(), "+OK");

  RawClient c2(server->port());  // a new connection does not reset the budget
  EXPECT_TRUE(absl::StartsWith(c2.Line(), "+OK/MTQP"));
  c2.Send(right);
  EXPECT_EQ(c2.Line() + "\r\n", mtqp::kRateLimitedLine);

  RawClient c3(server->port());  // the third connection is the last one in the burst
  EXPECT_TRUE(absl::StartsWith(c3.Line(), "+OK/MTQP"));
  RawClient c4(server->port());
  EXPECT_EQ(c4.Line() + "\r\n", mtqp::kTooManyConnectionsGreeting);  // item 4: /MTQP + /admin
  EXPECT_EQ(c4.Line(), "<eof>");
  EXPECT_EQ(server->connection_limiter().refused(), 1);
  EXPECT_EQ(server->failed_track_limiter().refused(), 2);
  spdlog::set_default_logger(previous);
  EXPECT_THAT(log.str(), HasSubstr("[warning] mtqp: client 127.0.0.1 is over the failed-TRACK "
                                   "limit, answered -TEMP/admin (1 refused so far, 0 such lines"));
  EXPECT_THAT(log.str(), HasSubstr("(2 refused so far, 0 such lines suppressed)"));
  EXPECT_THAT(log.str(), HasSubstr("[warning] mtqp: client 127.0.0.1 is over the connection "
                                   "limit, answered -TEMP/MTQP/admin (1 refused so far"));
  EXPECT_THAT(log.str(), Not(HasSubstr(std::string(kSecretB64))));
}

TEST(ServerOptionsTest, Item49_IdleTimeoutAtLeastTenMinutes) {
  ServerOptions options;
  EXPECT_GE(options.idle_timeout, absl::Seconds(600));
  EXPECT_OK(ValidateServerOptions(options));
  options.idle_timeout = absl::Seconds(599);
  EXPECT_THAT(ValidateServerOptions(options), test::StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace mtrk::gateway::server
