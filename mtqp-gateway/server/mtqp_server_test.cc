// The server over a real loopback socket, with a fake lookup.
#include "mtqp-gateway/server/mtqp_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace mtrk::gateway::server {
namespace {

constexpr absl::string_view kEnvid = "20261123.a1b2c3@a.example";
constexpr absl::string_view kSecretB64 = "jztaHJ0uT2BxgpOktcbX6A";  // 16 octets

class FakeLookup : public mtqp::TrackLookup {
 public:
  absl::StatusOr<std::vector<model::HopEvent>> Track(absl::string_view envid,
                                                     absl::string_view secret) override {
    if (envid != kEnvid || secret.size() != 16) return absl::NotFoundError("no");
    model::HopEvent e;
    e.reporting_mta = "mta-a.a.example";
    e.envid = std::string(envid);
    e.final_recipient = "alice@b.example";
    e.action = model::DsnAction::kTransferred;
    e.status = "2.0.0";
    e.remote_mta = "127.0.0.2";
    e.arrival_time = absl::FromUnixSeconds(1795415225);
    e.last_attempt_time = e.arrival_time;
    return std::vector<model::HopEvent>{e};
  }
};

// A blocking test client on plain POSIX sockets: SO_RCVTIMEO makes a broken server fail the test
// ("<timeout>") instead of hanging it (Asio's blocking reads would poll past the timeout).
class RawClient {
 public:
  explicit RawClient(uint16_t port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    timeval tv{.tv_sec = 20, .tv_usec = 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~RawClient() { close(fd_); }
  void Send(absl::string_view bytes) {
    ASSERT_EQ(send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  // One line without CRLF; "<eof>" when the server closed the connection.
  std::string Line() {
    for (;;) {
      if (const size_t end = buf_.find("\r\n"); end != std::string::npos) {
        std::string line = buf_.substr(0, end);
        buf_.erase(0, end + 2);
        return line;
      }
      char chunk[4096];
      const ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return "<timeout>";
      if (n <= 0) return "<eof>";
      buf_.append(chunk, static_cast<size_t>(n));
    }
  }
  // A multi-line response's data through the "." line.
  std::string UntilDot() {
    std::string all;
    for (std::string l = Line(); l != "." && l[0] != '<'; l = Line())
      absl::StrAppend(&all, l, "\n");
    return all;
  }

 private:
  const int fd_;
  std::string buf_;
};

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
