// STARTTLS end to end over loopback (RFC 3887 §6; DIGEST §7 items 35, 37-45): the real server
// with a certificate from a test CA made at test time (tests/support/make-test-ca.sh), the real
// client (client/mtqp_client.h), and a raw Asio client where the test must misbehave.
#include <openssl/ssl.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "asio.hpp"
#include "asio/ssl.hpp"
#include "gtest/gtest.h"
#include "mtqp-gateway/client/mtqp_client.h"
#include "mtqp-gateway/mtqp/session.h"
#include "mtqp-gateway/server/mtqp_server.h"
#include "mtqp-gateway/server/tls_context.h"
#include "tests/support/status_matchers.h"

namespace mtrk::gateway::server {
namespace {

constexpr absl::string_view kEnvid = "20261123.a1b2c3@a.example";
constexpr absl::string_view kSecretB64 = "jztaHJ0uT2BxgpOktcbX6A";  // 16 octets
// OpenSSL will not match a wildcard over a single label ("*.test"), so the test CA gets our names.
constexpr char kName[] = "gw.a.test";
constexpr char kExtraSans[] = "DNS:gw.a.test,DNS:*.b.test";

class FakeLookup : public mtqp::TrackLookup {
 public:
  absl::StatusOr<std::vector<model::HopEvent>> Track(absl::string_view envid,
                                                     absl::string_view secret) override {
    if (envid != kEnvid || secret.size() != 16) return absl::NotFoundError("no");
    model::HopEvent e;
    e.reporting_mta = "mta-a.a.example";
    e.envid = std::string(envid);
    e.final_recipient = "alice@a.example";
    e.action = model::DsnAction::kDelivered;
    e.status = "2.0.0";
    e.remote_mta = "127.0.0.2";
    e.arrival_time = absl::FromUnixSeconds(1795415225);
    e.last_attempt_time = e.arrival_time;
    return std::vector<model::HopEvent>{e};
  }
};

class MtqpTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(
        (std::filesystem::temp_directory_path() / absl::StrCat("mtqp-tls-", getpid())).string());
    const std::string command =
        absl::StrCat("MTRK_TEST_SANS='", kExtraSans, "' tests/support/make-test-ca.sh ", *dir_);
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  static std::string File(absl::string_view name) { return absl::StrCat(*dir_, "/", name); }

  void StartServer(bool required) {
    ServerOptions options;
    options.listen_host = "127.0.0.1";
    options.listen_port = 0;
    options.session.server_name = kName;
    options.session.tls_required = required;
    options.tls_cert_file = File("server.pem");
    options.tls_key_file = File("server.key");
    ASSERT_OK_AND_ASSIGN(server_, MtqpServer::Start(options, lookup_));
  }

  std::unique_ptr<client::MtqpClient> Connect() {
    absl::StatusOr<std::unique_ptr<client::MtqpClient>> c = client::MtqpClient::Connect(
        "127.0.0.1", std::to_string(server_->port()), absl::Seconds(20));
    EXPECT_OK(c.status());
    return c.ok() ? *std::move(c) : nullptr;
  }

  std::shared_ptr<asio::ssl::context> ClientContext(absl::string_view ca = "ca.pem") {
    absl::StatusOr<std::shared_ptr<asio::ssl::context>> context =
        MakeClientTls({.ca_file = File(ca), .cert_file = "", .key_file = ""});
    EXPECT_OK(context.status());
    return *context;
  }

  static std::string* dir_;
  FakeLookup lookup_;
  std::unique_ptr<MtqpServer> server_;
};
std::string* MtqpTlsTest::dir_ = nullptr;

// A raw client for what the real client refuses to do. Every operation is asynchronous and runs
// against a deadline (io_context::run_for), then cancels: a blocking Asio read polls without
// end and ignores SO_RCVTIMEO, so a server that never answered would hang the test.
class RawTls {
 public:
  static constexpr std::chrono::seconds kDeadline{20};

  explicit RawTls(uint16_t port) {
    Run([&](auto done) {
      socket_.async_connect({asio::ip::make_address("127.0.0.1"), port}, done);
    });
  }
  void Send(absl::string_view bytes) {
    Run([&](auto done) {
      const auto handler = [done](const std::error_code& ec, size_t /*n*/) { done(ec); };
      if (tls_) {
        asio::async_write(*tls_, asio::buffer(bytes.data(), bytes.size()), handler);
      } else {
        asio::async_write(socket_, asio::buffer(bytes.data(), bytes.size()), handler);
      }
    });
  }
  // One line without CRLF; "<eof>" on EOF or error, "<timeout>" past the deadline.
  std::string Line() {
    const std::error_code ec = Run([&](auto done) {
      const auto handler = [done](const std::error_code& ec, size_t /*n*/) { done(ec); };
      if (tls_) {
        asio::async_read_until(*tls_, buf_, "\r\n", handler);
      } else {
        asio::async_read_until(socket_, buf_, "\r\n", handler);
      }
    });
    if (ec == asio::error::timed_out) return "<timeout>";
    if (ec) return "<eof>";
    std::string line;
    std::istream in(&buf_);
    std::getline(in, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }
  // Reads through the end of the (multi-line) greeting.
  void SkipGreeting() {
    for (std::string l = Line(); l != "." && l != "<eof>" && l != "<timeout>";) l = Line();
  }
  // The handshake's error, asio::error::timed_out if it did not finish in time.
  std::error_code Handshake(asio::ssl::context& context) {
    tls_ = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket&>>(socket_, context);
    return Run([&](auto done) { tls_->async_handshake(asio::ssl::stream_base::client, done); });
  }
  // True if the server closed the TCP connection: the next raw read, below TLS, ends in EOF or a
  // reset rather than in data or the deadline.
  bool ClosedByServer() {
    std::array<char, 512> scratch;
    std::error_code ec;
    do {
      ec = Run([&](auto done) {
        socket_.async_read_some(asio::buffer(scratch),
                                [done](const std::error_code& e, size_t /*n*/) { done(e); });
      });
    } while (!ec);  // an alert the handshake left unread
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }
  // "TLSv1.2" once the handshake is done.
  std::string Version() const { return tls_ ? SSL_get_version(tls_->native_handle()) : ""; }

 private:
  // Starts one operation, which calls `done(ec)`, and waits for it until the deadline; past
  // it, closes the socket (which aborts the operation) and returns timed_out.
  template <typename Start>
  std::error_code Run(Start start) {
    std::error_code result;
    bool finished = false;
    io_.restart();
    start([&](const std::error_code& ec) {
      result = ec;
      finished = true;
    });
    io_.run_for(kDeadline);
    if (finished) return result;
    std::error_code ignored;
    socket_.close(ignored);
    io_.restart();
    io_.run();  // the aborted handler runs and returns; nothing else is pending
    return asio::error::timed_out;
  }

  asio::io_context io_;
  asio::ip::tcp::socket socket_{io_};
  std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket&>> tls_;
  asio::streambuf buf_;
};

TEST_F(MtqpTlsTest, Item05_Item06_GreetingListsStartTlsRequired) {
  StartServer(/*required=*/true);
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->greeting().status.indicator, mtqp::ResponseLine::Indicator::kOkMulti);
  EXPECT_EQ(c->greeting().body, "STARTTLS required\r\n");
  bool required = false;
  EXPECT_TRUE(c->OffersStartTls(&required));
  EXPECT_TRUE(required);
}

TEST_F(MtqpTlsTest, Item35_TrackBeforeTlsOnRequiredServerGetsTlsRequired) {
  StartServer(/*required=*/true);
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  ASSERT_OK_AND_ASSIGN(client::Response r,
                       c->Command(absl::StrCat("TRACK ", kEnvid, " ", kSecretB64)));
  EXPECT_EQ(r.status_line, "-ERR/tls-required TLS required");
  EXPECT_TRUE(r.body.empty());
  // COMMENT still works in clear (item 36), and after TLS the same TRACK gets the data.
  ASSERT_OK_AND_ASSIGN(r, c->Command("COMMENT before tls"));
  EXPECT_EQ(r.status_line, "+OK");
  auto context = ClientContext();
  ASSERT_OK(c->StartTls(kName, *context, kName));
  ASSERT_OK_AND_ASSIGN(r, c->Command(absl::StrCat("TRACK ", kEnvid, " ", kSecretB64)));
  EXPECT_EQ(r.status.indicator, mtqp::ResponseLine::Indicator::kOkMulti) << r.status_line;
  EXPECT_TRUE(absl::StrContains(r.body, "Action: delivered")) << r.body;
}

TEST_F(MtqpTlsTest, Item37_StartTlsWithoutFqdnIsBad) {
  StartServer(false);
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  ASSERT_OK_AND_ASSIGN(client::Response r, c->Command("STARTTLS"));
  EXPECT_EQ(r.status.indicator, mtqp::ResponseLine::Indicator::kBad);
  ASSERT_OK_AND_ASSIGN(r, c->Command("STARTTLS   "));
  EXPECT_EQ(r.status.indicator, mtqp::ResponseLine::Indicator::kBad);
}

TEST_F(MtqpTlsTest, Item38_FqdnNotInCertificateIsBadFqdn) {
  StartServer(false);
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  ASSERT_OK_AND_ASSIGN(client::Response r, c->Command("STARTTLS mtqp.other.example"));
  EXPECT_EQ(r.status.indicator, mtqp::ResponseLine::Indicator::kBad);
  EXPECT_TRUE(r.status.HasCode("bad-fqdn")) << r.status_line;
  // "*.b.test" covers one label only.
  ASSERT_OK_AND_ASSIGN(r, c->Command("STARTTLS x.y.b.test"));
  EXPECT_TRUE(r.status.HasCode("bad-fqdn")) << r.status_line;
  auto context = ClientContext();
  EXPECT_OK(c->StartTls("MTQP.B.TEST", *context, "mtqp.b.test"));  // case-insensitive, wildcard
}

TEST_F(MtqpTlsTest, Item39_StartTlsInsideTlsIsTlsInProgress) {
  StartServer(false);
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  auto context = ClientContext();
  ASSERT_OK(c->StartTls(kName, *context, kName));
  EXPECT_TRUE(c->tls_active());
  ASSERT_OK_AND_ASSIGN(client::Response r, c->Command(absl::StrCat("STARTTLS ", kName)));
  EXPECT_EQ(r.status.indicator, mtqp::ResponseLine::Indicator::kBad);
  EXPECT_TRUE(r.status.HasCode("tls-in-progress")) << r.status_line;
}

TEST(MtqpNoTlsTest, Item40_StartTlsOnServerWithoutTlsIsUnsupported) {
  FakeLookup lookup;
  ServerOptions options;
  options.listen_host = "127.0.0.1";
  options.listen_port = 0;
  ASSERT_OK_AND_ASSIGN(auto server, MtqpServer::Start(options, lookup));
  ASSERT_OK_AND_ASSIGN(auto c, client::MtqpClient::Connect(
                                   "127.0.0.1", std::to_string(server->port()), absl::Seconds(20)));
  EXPECT_FALSE(c->OffersStartTls());
  ASSERT_OK_AND_ASSIGN(client::Response r, c->Command("STARTTLS gw.test"));
  EXPECT_EQ(r.status_line, "-ERR/unsupported TLS not supported");
}

TEST_F(MtqpTlsTest, Item41_NewGreetingAfterHandshakeWithoutStartTls) {
  StartServer(true);
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  auto context = ClientContext();
  ASSERT_OK(c->StartTls(kName, *context, kName));
  EXPECT_TRUE(c->greeting().status.HasCode("MTQP"));
  EXPECT_FALSE(c->OffersStartTls());
  EXPECT_EQ(c->greeting().status.indicator, mtqp::ResponseLine::Indicator::kOk);
  EXPECT_TRUE(absl::StartsWith(c->tls_description(), "TLSv1.")) << c->tls_description();
}

TEST_F(MtqpTlsTest, Item42_ClearTextPipelinedAfterStartTlsIsDiscarded) {
  StartServer(false);
  RawTls c(server_->port());
  EXPECT_TRUE(absl::StartsWith(c.Line(), "+OK+/MTQP"));
  EXPECT_EQ(c.Line(), "STARTTLS");
  EXPECT_EQ(c.Line(), ".");
  // The injected TRACK rides in the same segment as STARTTLS.
  c.Send(absl::StrCat("STARTTLS ", kName, "\r\nTRACK ", kEnvid, " ", kSecretB64, "\r\n"));
  EXPECT_EQ(c.Line(), "+OK begin TLS negotiation");
  auto context = ClientContext();
  ASSERT_FALSE(c.Handshake(*context));
  EXPECT_TRUE(absl::StartsWith(c.Line(), "+OK/MTQP"));  // the new greeting, nothing else
  c.Send("COMMENT first command after tls\r\n");
  EXPECT_EQ(c.Line(), "+OK");  // not the TRACK's +OK+
}

TEST_F(MtqpTlsTest, Item43_FailedHandshakeClosesConnection) {
  StartServer(false);
  RawTls c(server_->port());
  c.SkipGreeting();
  c.Send(absl::StrCat("STARTTLS ", kName, "\r\n"));
  EXPECT_EQ(c.Line(), "+OK begin TLS negotiation");
  c.Send("this is not a ClientHello\r\n");
  EXPECT_EQ(c.Line(), "<eof>");
}

// RFC 8996: a client whose highest version is TLS 1.0 or 1.1 gets no session (the server's
// floor is TLS 1.2, tls_context.cc); the same server completes 1.2 and 1.3 handshakes.
// A refusal must be a failed handshake, not a timeout: the server answers with an alert.
TEST_F(MtqpTlsTest, Item44_Tls10And11AreRefused) {
  StartServer(false);
  // The first TLS bytes a client sends after "+OK begin TLS negotiation".
  const auto upgrade = [&](RawTls& c) {
    c.SkipGreeting();
    c.Send(absl::StrCat("STARTTLS ", kName, "\r\n"));
    EXPECT_EQ(c.Line(), "+OK begin TLS negotiation");
  };
  // Pinned to one version; security level 0 lets OpenSSL 3 offer (and SHA-1 sign) old versions
  // at all, so the refusal comes from the server, not from our own client.
  const auto pinned = [](int version) {
    auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    SSL_CTX_set_security_level(context->native_handle(), 0);
    SSL_CTX_set_min_proto_version(context->native_handle(), version);
    SSL_CTX_set_max_proto_version(context->native_handle(), version);
    context->set_verify_mode(asio::ssl::verify_none);
    return context;
  };
  for (const int version : {TLS1_VERSION, TLS1_1_VERSION}) {
    SCOPED_TRACE(absl::StrCat("max version 0x", absl::Hex(version)));
    RawTls c(server_->port());
    upgrade(c);
    const auto old = pinned(version);
    const std::error_code ec = c.Handshake(*old);
    EXPECT_TRUE(ec) << "accepted as " << c.Version();
    EXPECT_NE(ec, asio::error::timed_out);
    EXPECT_TRUE(c.ClosedByServer());  // item 43
  }
  for (const auto& [version, name] :
       {std::pair{TLS1_2_VERSION, "TLSv1.2"}, std::pair{TLS1_3_VERSION, "TLSv1.3"}}) {
    SCOPED_TRACE(name);
    RawTls modern(server_->port());
    upgrade(modern);
    const auto context = pinned(version);
    ASSERT_FALSE(modern.Handshake(*context));
    EXPECT_EQ(modern.Version(), name);
    EXPECT_TRUE(absl::StartsWith(modern.Line(), "+OK/MTQP"));
  }
}

// The server never keeps a connection it finds too weak (TLS 1.2+ is enforced in the
// handshake), so item 45 is the session's behaviour when told so.
TEST(MtqpInsecureSessionTest, Item45_TooWeakTlsAnswersInsecureExceptQuit) {
  FakeLookup lookup;
  mtqp::SessionOptions options;
  options.tls_available = true;
  options.certificate_names = {"*.test"};
  mtqp::Session session(options, lookup);
  session.TlsEstablished(/*strong_enough=*/false);
  EXPECT_EQ(session.HandleLine(absl::StrCat("TRACK ", kEnvid, " ", kSecretB64)).response,
            "-ERR/insecure TLS too weak\r\n");
  EXPECT_EQ(session.HandleLine("COMMENT x").response, "-ERR/insecure TLS too weak\r\n");
  const mtqp::Session::Reply quit = session.HandleLine("QUIT");
  EXPECT_EQ(quit.response, "+OK bye\r\n");
  EXPECT_EQ(quit.next, mtqp::Session::Next::kClose);
}

TEST_F(MtqpTlsTest, ClientRefusesWrongServerNameAndUntrustedCa) {
  StartServer(false);
  {
    auto c = Connect();
    ASSERT_NE(c, nullptr);
    auto context = ClientContext();
    EXPECT_THAT(c->StartTls(kName, *context, "mtqp.elsewhere.example"),
                test::StatusIs(absl::StatusCode::kUnauthenticated));
  }
  {
    auto c = Connect();
    ASSERT_NE(c, nullptr);
    auto context = ClientContext("rogue-ca.pem");
    EXPECT_THAT(c->StartTls(kName, *context, kName),
                test::StatusIs(absl::StatusCode::kUnauthenticated));
  }
}

// --chain-cert/--chain-key (chain/mtqp_chainer.h) end up in MakeClientTls: against a TLS server
// that requires a client certificate from our CA, the context with the certificate completes
// the handshake and the server sees it; without one, the server refuses the handshake.
TEST_F(MtqpTlsTest, ClientCertificateIsPresentedToAServerThatRequiresOne) {
  asio::ssl::context server_context(asio::ssl::context::tls_server);
  server_context.use_certificate_chain_file(File("server.pem"));
  server_context.use_private_key_file(File("server.key"), asio::ssl::context::pem);
  server_context.load_verify_file(File("ca.pem"));
  server_context.set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);

  struct Outcome {
    std::error_code client, server;
    std::string peer_subject;  // the client certificate's subject, as the server saw it
  };
  const auto handshake = [&](asio::ssl::context& client_context) {
    asio::io_context io;
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    asio::ip::tcp::socket server_socket(io), client_socket(io);
    asio::ssl::stream<asio::ip::tcp::socket&> server(server_socket, server_context);
    asio::ssl::stream<asio::ip::tcp::socket&> client(client_socket, client_context);
    Outcome out;
    out.client = out.server = asio::error::timed_out;
    acceptor.async_accept(server_socket, [&](const std::error_code& ec) {
      if (ec) return;
      server.async_handshake(asio::ssl::stream_base::server, [&](const std::error_code& e) {
        out.server = e;
        if (X509* peer = SSL_get1_peer_certificate(server.native_handle()); peer != nullptr) {
          char subject[256];
          X509_NAME_oneline(X509_get_subject_name(peer), subject, sizeof subject);
          out.peer_subject = subject;
          X509_free(peer);
        }
        std::error_code ignored;
        server_socket.close(ignored);  // so a client waiting for more sees the end
      });
    });
    client_socket.async_connect(acceptor.local_endpoint(), [&](const std::error_code& ec) {
      if (ec) return;
      EXPECT_OK(ExpectHostName(client.native_handle(), "localhost"));
      client.async_handshake(asio::ssl::stream_base::client,
                             [&](const std::error_code& e) { out.client = e; });
    });
    io.run_for(std::chrono::seconds(20));  // a deadline, not a timing assertion
    return out;
  };

  ASSERT_OK_AND_ASSIGN(std::shared_ptr<asio::ssl::context> with_cert,
                       MakeClientTls({.ca_file = File("ca.pem"),
                                      .cert_file = File("client.pem"),
                                      .key_file = File("client.key")}));
  const Outcome ok = handshake(*with_cert);
  EXPECT_FALSE(ok.client) << ok.client.message();
  EXPECT_FALSE(ok.server) << ok.server.message();
  EXPECT_EQ(ok.peer_subject, "/CN=mtrk-agent-test");

  const Outcome refused = handshake(*ClientContext());
  EXPECT_TRUE(refused.server);
  EXPECT_NE(refused.server, asio::error::timed_out);
  EXPECT_EQ(refused.peer_subject, "");
}

TEST_F(MtqpTlsTest, ClientCertificateFilesAreCheckedWhenTheContextIsMade) {
  const struct {
    std::string cert, key, want;
  } kCases[] = {
      {File("client.pem"), "", "needs its key"},
      {"", File("client.key"), "needs its key"},
      {File("missing.pem"), File("client.key"), "tls: certificate " + File("missing.pem")},
      {File("client.pem"), File("missing.key"), "tls: key " + File("missing.key")},
      {File("client.pem"), File("rogue-client.key"), "tls: key " + File("rogue-client.key")},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.cert + " " + c.key);
    absl::StatusOr<std::shared_ptr<asio::ssl::context>> context =
        MakeClientTls({.ca_file = File("ca.pem"), .cert_file = c.cert, .key_file = c.key});
    EXPECT_THAT(context, test::StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_TRUE(absl::StrContains(context.status().message(), c.want)) << context.status();
  }
}

TEST(CertificateNameTest, WildcardCoversOneLabel) {
  EXPECT_TRUE(mtqp::MatchesCertificateName("gw.test", "*.test"));
  EXPECT_TRUE(mtqp::MatchesCertificateName("GW.Test.", "*.test"));
  EXPECT_FALSE(mtqp::MatchesCertificateName("a.gw.test", "*.test"));
  EXPECT_FALSE(mtqp::MatchesCertificateName("test", "*.test"));
  EXPECT_TRUE(mtqp::MatchesCertificateName("mtqp.a.example", "MTQP.a.example"));
  EXPECT_FALSE(mtqp::MatchesCertificateName("mtqp.a.example", "mtqp.b.example"));
}

}  // namespace
}  // namespace mtrk::gateway::server
