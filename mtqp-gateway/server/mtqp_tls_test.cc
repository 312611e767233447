// STARTTLS end to end over loopback (RFC 3887 §6; DIGEST §7 items 35, 37-45): the real server
// with a certificate from a test CA made at test time (tests/support/make-test-ca.sh), the real
// client (client/mtqp_client.h), and a raw client where the test must misbehave
// (server/testing/mtqp_test_client.h).
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
#include "mtqp-gateway/server/testing/mtqp_test_client.h"
#include "mtqp-gateway/server/tls_context.h"
#include "tests/support/status_matchers.h"

namespace mtrk::gateway::server {
namespace {

// OpenSSL will not match a wildcard over a single label ("*.test"), so the test CA gets our names.
constexpr char kName[] = "gw.a.test";
constexpr char kExtraSans[] = "DNS:gw.a.test,DNS:*.b.test";

using mtqp_test::FakeLookup;
using mtqp_test::kEnvid;
using mtqp_test::kSecretB64;
using mtqp_test::MtqpTestClient;

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
  FakeLookup lookup_{model::DsnAction::kDelivered, "alice@a.example"};
  std::unique_ptr<MtqpServer> server_;
};
std::string* MtqpTlsTest::dir_ = nullptr;

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
  FakeLookup lookup{model::DsnAction::kDelivered, "alice@a.example"};
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
  MtqpTestClient c(server_->port());
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
  MtqpTestClient c(server_->port());
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
  const auto upgrade = [&](MtqpTestClient& c) {
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
    MtqpTestClient c(server_->port());
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
    MtqpTestClient modern(server_->port());
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
  FakeLookup lookup{model::DsnAction::kDelivered, "alice@a.example"};
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
