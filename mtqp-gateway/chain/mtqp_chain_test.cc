// Discovery and chaining over loopback (DIGEST §7 items 2, 3, 51-55): dnsmasq as a child process
// serving the _mtqp._tcp SRV records of two domains, two real MTQP servers over TLS with a test
// CA made at test time, and fake lookups standing in for each domain's collector.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "mtqp-gateway/chain/mtqp_chainer.h"
#include "mtqp-gateway/chain/mtqp_discovery.h"
#include "mtqp-gateway/chain/multipart.h"
#include "mtqp-gateway/client/mtqp_client.h"
#include "mtqp-gateway/client/track_command.h"
#include "mtqp-gateway/mtqp/tracking_status_parser.h"
#include "mtqp-gateway/server/mtqp_server.h"
#include "tests/support/status_matchers.h"

namespace mtrk::gateway::chain {
namespace {

constexpr absl::string_view kEnvid = "20261123.chain1@a.test";
constexpr absl::string_view kSecretB64 = "jztaHJ0uT2BxgpOktcbX6A";  // 16 octets

// One domain's collector: the hops its MTA saw. Counts the lookups it answered.
class DomainLookup : public mtqp::TrackLookup {
 public:
  DomainLookup(std::string mta, model::DsnAction action, std::string remote)
      : mta_(std::move(mta)), action_(action), remote_(std::move(remote)) {}
  absl::StatusOr<std::vector<model::HopEvent>> Track(absl::string_view envid,
                                                     absl::string_view secret) override {
    ++calls;
    if (envid != kEnvid || secret.size() != 16) return absl::NotFoundError("no");
    model::HopEvent e;
    e.reporting_mta = mta_;
    e.envid = std::string(envid);
    e.final_recipient = "bob@b.test";
    e.action = action_;
    e.status = "2.0.0";
    e.remote_mta = remote_;
    e.arrival_time = absl::FromUnixSeconds(1795415225);
    e.last_attempt_time = e.arrival_time;
    return std::vector<model::HopEvent>{e};
  }
  std::atomic<int> calls{0};

 private:
  const std::string mta_;
  const model::DsnAction action_;
  const std::string remote_;
};

bool CanBind(int type, uint16_t port) {
  const int fd = socket(AF_INET, type, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

// A port for dnsmasq, which binds it for UDP and TCP. Taken below the kernel's ephemeral range
// (32768 and up), where this test's own servers and parallel tests' connections get theirs.
uint16_t FreeDnsPort() {
  static std::mt19937 random(static_cast<unsigned>(getpid()));
  for (;;) {
    const uint16_t port = static_cast<uint16_t>(20000 + random() % 12000);
    if (CanBind(SOCK_DGRAM, port) && CanBind(SOCK_STREAM, port)) return port;
  }
}

uint16_t FreeTcpPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// A TCP listener that accepts and never says anything: a downstream server that hangs.
class SilentServer {
 public:
  SilentServer() : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(fd_, 16);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentServer() { close(fd_); }
  uint16_t port() const { return port_; }

 private:
  const int fd_;
  uint16_t port_ = 0;
};

class ChainTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(
        (std::filesystem::temp_directory_path() / absl::StrCat("mtqp-chain-", getpid())).string());
    const std::string command = absl::StrCat(
        "MTRK_TEST_SANS='DNS:mtqp.a.test,DNS:mtqp.b.test,DNS:mtqp.c.test' "
        "tests/support/make-test-ca.sh ",
        *dir_);
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  static std::string File(absl::string_view name) { return absl::StrCat(*dir_, "/", name); }

  // Chainers made before StartDns keep this port, so a retry there is a last resort.
  void SetUp() override { dns_port_ = FreeDnsPort(); }

  void TearDown() override {
    if (dnsmasq_ > 0) {
      kill(dnsmasq_, SIGTERM);
      waitpid(dnsmasq_, nullptr, 0);
    }
  }

  std::unique_ptr<server::MtqpServer> StartServer(mtqp::TrackLookup& lookup, absl::string_view name,
                                                  bool tls, mtqp::Chainer* chainer,
                                                  uint16_t port = 0,
                                                  std::string client_ca_file = "") {
    server::ServerOptions options;
    options.listen_host = "127.0.0.1";
    options.listen_port = port;
    options.session.server_name = std::string(name);
    options.session.chainer = chainer;
    if (tls) {
      options.tls_cert_file = File("server.pem");
      options.tls_key_file = File("server.key");
      options.session.tls_required = true;
      options.tls_client_ca_file = std::move(client_ca_file);
    }
    absl::StatusOr<std::unique_ptr<server::MtqpServer>> s =
        server::MtqpServer::Start(options, lookup);
    EXPECT_OK(s.status());
    return s.ok() ? *std::move(s) : nullptr;
  }

  // dnsmasq answering for both domains; `srv` are extra --srv-host values.
  void StartDns(const std::vector<std::string>& srv) {
    std::vector<std::string> args = {"dnsmasq",
                                     "--no-daemon",
                                     "--keep-in-foreground",
                                     absl::StrCat("--port=", dns_port_),
                                     "--listen-address=127.0.0.1",
                                     "--bind-interfaces",
                                     "--no-resolv",
                                     "--no-hosts",
                                     "--user=root",
                                     "--pid-file=",
                                     "--log-facility=/dev/null",
                                     "--address=/mtqp.a.test/127.0.0.1",
                                     "--address=/mtqp.b.test/127.0.0.1",
                                     "--address=/mtqp.c.test/127.0.0.1",
                                     "--address=/plain.d.test/127.0.0.1",
                                     "--local=/test/",  // NXDOMAIN/NODATA, not REFUSED
                                     "--srv-host=_mtqp._tcp.nosvc.c.test"};
    for (const std::string& s : srv) args.push_back(absl::StrCat("--srv-host=", s));
    // dnsmasq binds the port for UDP and TCP; a port free for UDP may be taken for TCP (by a
    // server of this very test, or a parallel test), and then dnsmasq exits: try another port.
    for (int attempt = 0; attempt < 5; ++attempt) {
      if (attempt > 0) dns_port_ = FreeDnsPort();
      std::vector<std::string> argv_strings = args;
      argv_strings[3] = absl::StrCat("--port=", dns_port_);
      dnsmasq_ = fork();
      if (dnsmasq_ == 0) {
        freopen("/dev/null", "w", stderr);  // its start-up chatter
        std::vector<char*> argv;
        for (std::string& a : argv_strings) argv.push_back(a.data());
        argv.push_back(nullptr);
        execv("/usr/sbin/dnsmasq", argv.data());
        _exit(127);
      }
      // Wait until it answers: poll with a real query (bounded, not a timing assertion).
      Discovery probe(DnsServer(), absl::Milliseconds(200));
      for (int i = 0; i < 100; ++i) {
        if (probe.LookupAddresses("plain.d.test").ok()) return;
        if (waitpid(dnsmasq_, nullptr, WNOHANG) == dnsmasq_) break;  // it gave up on the port
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      if (waitpid(dnsmasq_, nullptr, WNOHANG) == 0) {
        kill(dnsmasq_, SIGTERM);
        waitpid(dnsmasq_, nullptr, 0);
      }
      dnsmasq_ = 0;
    }
    FAIL() << "dnsmasq did not come up";
  }
  std::string DnsServer() const { return absl::StrCat("127.0.0.1:", dns_port_); }

  std::unique_ptr<MtqpChainer> Chainer(int max_depth = 4,
                                       absl::Duration budget = absl::Seconds(100),
                                       std::vector<std::string> own = {".a.test"},
                                       std::string self = "", std::string cert = "",
                                       std::string key = "") {
    ChainOptions options;
    options.tls.cert_file = std::move(cert);
    options.tls.key_file = std::move(key);
    options.own_hosts = std::move(own);
    if (!self.empty()) options.self.push_back(self);
    options.dns_server = DnsServer();
    options.tls.ca_file = File("ca.pem");
    options.max_depth = max_depth;
    options.budget = budget;
    absl::StatusOr<std::unique_ptr<MtqpChainer>> c = MtqpChainer::Create(options);
    EXPECT_OK(c.status());
    return c.ok() ? *std::move(c) : nullptr;
  }

  // TRACK over verified TLS at `port`; the parts' Reporting-MTA values, and the raw body.
  std::vector<std::string> Track(uint16_t port, absl::string_view name, std::string* body) {
    absl::StatusOr<std::unique_ptr<client::MtqpClient>> c =
        client::MtqpClient::Connect("127.0.0.1", std::to_string(port), absl::Seconds(30));
    EXPECT_OK(c.status());
    if (!c.ok()) return {};
    absl::StatusOr<std::shared_ptr<asio::ssl::context>> tls =
        server::MakeClientTls({.ca_file = File("ca.pem"), .cert_file = "", .key_file = ""});
    EXPECT_OK((*c)->StartTls(std::string(name), **tls, std::string(name)));
    absl::StatusOr<client::Response> r =
        (*c)->Command(absl::StrCat("TRACK ", kEnvid, " ", kSecretB64));
    EXPECT_OK(r.status());
    if (!r.ok()) return {};
    EXPECT_EQ(r->status.indicator, mtqp::ResponseLine::Indicator::kOkMulti) << r->status_line;
    if (body != nullptr) *body = r->body;
    absl::StatusOr<std::vector<mtqp::TrackingStatusPart>> parts =
        mtqp::ParseTrackingStatusBody(r->body);
    EXPECT_OK(parts.status());
    std::vector<std::string> mtas;
    for (const auto& p : *parts) mtas.push_back(p.reporting_mta.value);
    return mtas;
  }

  static std::string* dir_;
  pid_t dnsmasq_ = 0;
  uint16_t dns_port_ = 0;
};
std::string* ChainTest::dir_ = nullptr;

TEST(SrvOrderTest, Item03_PriorityThenWeight) {
  std::vector<SrvRecord> records = {{20, 0, 1, "c.test"},
                                    {10, 0, 1, "zero.test"},
                                    {10, 60, 1, "heavy.test"},
                                    {5, 1, 1, "a.test"}};
  absl::BitGen rng;
  int heavy_second = 0;
  for (int i = 0; i < 200; ++i) {
    const std::vector<SrvRecord> ordered = OrderSrvRecords(records, rng);
    ASSERT_EQ(ordered.size(), 4u);
    EXPECT_EQ(ordered[0].target, "a.test");  // lowest priority first
    EXPECT_EQ(ordered[3].target, "c.test");
    if (ordered[1].target == "heavy.test") ++heavy_second;
  }
  EXPECT_GT(heavy_second, 100);  // weight 60 vs 0 wins almost always (p(zero first) = 1/61)
  EXPECT_TRUE(SaysNoService({{0, 0, 0, "."}}));
  EXPECT_FALSE(SaysNoService({{0, 0, 0, "."}, {1, 0, 1038, "x.test"}}));
}

TEST_F(ChainTest, Item02_SrvFirstThenAddressOnPort1038) {
  StartDns({"_mtqp._tcp.mta-b.b.test,mtqp.b.test,4711,10,5"});
  Discovery discovery(DnsServer());
  ASSERT_OK_AND_ASSIGN(std::vector<MtqpTarget> srv, discovery.Find("mta-b.b.test"));
  ASSERT_EQ(srv.size(), 1u);
  EXPECT_EQ(srv[0].host, "mtqp.b.test");
  EXPECT_EQ(srv[0].port, 4711);
  EXPECT_EQ(srv[0].addresses, std::vector<std::string>{"127.0.0.1"});
  ASSERT_OK_AND_ASSIGN(std::vector<MtqpTarget> plain, discovery.Find("plain.d.test"));
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_EQ(plain[0].host, "plain.d.test");
  EXPECT_EQ(plain[0].port, 1038);
}

TEST_F(ChainTest, Item03_DotTargetMeansNoService) {
  StartDns({});
  Discovery discovery(DnsServer());
  ASSERT_OK_AND_ASSIGN(std::vector<SrvRecord> srv, discovery.LookupSrv("nosvc.c.test"));
  EXPECT_TRUE(SaysNoService(srv));
  EXPECT_THAT(discovery.Find("nosvc.c.test"), test::StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(ChainTest, Item52_OnePartPerDomainDownstreamPassedUnchanged) {
  DomainLookup lookup_b("mta-b.b.test", model::DsnAction::kDelivered, "");
  auto server_b = StartServer(lookup_b, "mtqp.b.test", /*tls=*/true, nullptr);
  StartDns({absl::StrCat("_mtqp._tcp.mta-b.b.test,mtqp.b.test,", server_b->port())});
  DomainLookup lookup_a("mta-a.a.test", model::DsnAction::kTransferred, "mta-b.b.test");
  auto chainer = Chainer();
  auto server_a = StartServer(lookup_a, "mtqp.a.test", true, chainer.get());

  std::string body_a, body_b;
  EXPECT_EQ(Track(server_a->port(), "mtqp.a.test", &body_a),
            (std::vector<std::string>{"mta-a.a.test", "mta-b.b.test"}));
  EXPECT_EQ(Track(server_b->port(), "mtqp.b.test", &body_b),
            std::vector<std::string>{"mta-b.b.test"});
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> parts_a, SplitTrackingParts(body_a));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> parts_b, SplitTrackingParts(body_b));
  ASSERT_EQ(parts_a.size(), 2u);
  EXPECT_EQ(parts_a[1], parts_b[0]);                                  // byte for byte
  EXPECT_TRUE(absl::StrContains(parts_a[0], "Action: transferred"));  // ours kept
}

TEST_F(ChainTest, Item51_SilentDownstreamStillAnswersWithOurTransferredRecord) {
  SilentServer silent;
  StartDns({absl::StrCat("_mtqp._tcp.mta-b.b.test,mtqp.b.test,", silent.port())});
  DomainLookup lookup_a("mta-a.a.test", model::DsnAction::kTransferred, "mta-b.b.test");
  // The budget is what bounds the answer (120 s in production); a short one keeps the test fast.
  auto chainer = Chainer(4, absl::Seconds(2));
  auto server_a = StartServer(lookup_a, "mtqp.a.test", true, chainer.get());
  std::string body;
  EXPECT_EQ(Track(server_a->port(), "mtqp.a.test", &body),
            std::vector<std::string>{"mta-a.a.test"});
  EXPECT_TRUE(absl::StrContains(body, "Remote-MTA: dns; mta-b.b.test")) << body;
}

TEST_F(ChainTest, Item53_OnlyTransferredRecordsAreFollowed) {
  DomainLookup lookup_b("mta-b.b.test", model::DsnAction::kDelivered, "");
  auto server_b = StartServer(lookup_b, "mtqp.b.test", true, nullptr);
  StartDns({absl::StrCat("_mtqp._tcp.mta-b.b.test,mtqp.b.test,", server_b->port())});
  auto chainer = Chainer();
  for (const model::DsnAction action :
       {model::DsnAction::kRelayed, model::DsnAction::kDelivered, model::DsnAction::kExpanded,
        model::DsnAction::kFailed, model::DsnAction::kDelayed}) {
    DomainLookup lookup_a("mta-a.a.test", action, "mta-b.b.test");
    auto server_a = StartServer(lookup_a, "mtqp.a.test", true, chainer.get());
    Track(server_a->port(), "mtqp.a.test", nullptr);
  }
  EXPECT_EQ(lookup_b.calls, 0);
}

TEST_F(ChainTest, Item54_NoDownstreamInClearWhenClientUsedTls) {
  DomainLookup lookup_b("mta-b.b.test", model::DsnAction::kDelivered, "");
  auto server_b = StartServer(lookup_b, "mtqp.b.test", /*tls=*/false, nullptr);
  StartDns({absl::StrCat("_mtqp._tcp.mta-b.b.test,mtqp.b.test,", server_b->port())});
  DomainLookup lookup_a("mta-a.a.test", model::DsnAction::kTransferred, "mta-b.b.test");
  auto chainer = Chainer();
  auto server_a = StartServer(lookup_a, "mtqp.a.test", true, chainer.get());
  EXPECT_EQ(Track(server_a->port(), "mtqp.a.test", nullptr),
            std::vector<std::string>{"mta-a.a.test"});
  EXPECT_EQ(lookup_b.calls, 0);
  // Item 52's test shows the TLS case: server B there requires TLS and answered.
}

TEST_F(ChainTest, Item55_LoopStops) {
  // B says it transferred back to A: A asks B, and B must not ask A again.
  const uint16_t port_a = FreeTcpPort();
  DomainLookup lookup_a("mta-a.a.test", model::DsnAction::kTransferred, "mta-b.b.test");
  DomainLookup lookup_b("mta-b.b.test", model::DsnAction::kTransferred, "mta-a.a.test");
  auto chainer_a =
      Chainer(4, absl::Seconds(100), {".a.test"}, absl::StrCat("mtqp.a.test:", port_a));
  auto chainer_b = Chainer(4, absl::Seconds(100), {".b.test"}, "");
  auto server_a = StartServer(lookup_a, "mtqp.a.test", true, chainer_a.get(), port_a);
  ASSERT_NE(server_a, nullptr);
  auto server_b = StartServer(lookup_b, "mtqp.b.test", true, chainer_b.get());
  StartDns({absl::StrCat("_mtqp._tcp.mta-b.b.test,mtqp.b.test,", server_b->port()),
            absl::StrCat("_mtqp._tcp.mta-a.a.test,mtqp.a.test,", port_a)});
  EXPECT_EQ(Track(server_a->port(), "mtqp.a.test", nullptr),
            (std::vector<std::string>{"mta-a.a.test", "mta-b.b.test"}));
  EXPECT_EQ(lookup_a.calls, 1);
  EXPECT_EQ(lookup_b.calls, 1);
}

TEST_F(ChainTest, Item55_DepthLimitStops) {
  DomainLookup lookup_b("mta-b.b.test", model::DsnAction::kDelivered, "");
  auto server_b = StartServer(lookup_b, "mtqp.b.test", true, nullptr);
  StartDns({absl::StrCat("_mtqp._tcp.mta-b.b.test,mtqp.b.test,", server_b->port())});
  DomainLookup lookup_a("mta-a.a.test", model::DsnAction::kTransferred, "mta-b.b.test");
  auto chainer = Chainer(/*max_depth=*/0);
  auto server_a = StartServer(lookup_a, "mtqp.a.test", true, chainer.get());
  EXPECT_EQ(Track(server_a->port(), "mtqp.a.test", nullptr),
            std::vector<std::string>{"mta-a.a.test"});
  EXPECT_EQ(lookup_b.calls, 0);
}

// Chaining off at A: the transferred record is a referral, and mtrk-track follows it itself,
// finding both servers by SRV from the submission host (items 2 and 52, client side).
TEST_F(ChainTest, ClientFollowsReferralToTheSameAnswer) {
  DomainLookup lookup_b("mta-b.b.test", model::DsnAction::kDelivered, "");
  auto server_b = StartServer(lookup_b, "mtqp.b.test", true, nullptr);
  DomainLookup lookup_a("mta-a.a.test", model::DsnAction::kTransferred, "mta-b.b.test");
  auto server_a = StartServer(lookup_a, "mtqp.a.test", true, /*chainer=*/nullptr);
  StartDns({absl::StrCat("_mtqp._tcp.mta-b.b.test,mtqp.b.test,", server_b->port()),
            absl::StrCat("_mtqp._tcp.mta-a.a.test,mtqp.a.test,", server_a->port())});
  ASSERT_OK_AND_ASSIGN(
      client::TrackOptions options,
      client::ParseTrackArgs(std::vector<std::string>{
          "--submission-host", "mta-a.a.test", "--dns-server", DnsServer(), "--ca", File("ca.pem"),
          "--json", std::string(kEnvid), std::string(kSecretB64)}));
  std::ostringstream out, err;
  EXPECT_EQ(client::RunTrack(options, out, err), client::kExitFound) << err.str();
  EXPECT_TRUE(absl::StrContains(out.str(), "\"reporting_mta\":\"mta-a.a.test\"")) << out.str();
  EXPECT_TRUE(absl::StrContains(out.str(), "\"reporting_mta\":\"mta-b.b.test\"")) << out.str();
  EXPECT_EQ(lookup_b.calls, 1);

  // The same answer as chaining gives: A with a chainer returns both parts in one body.
  std::ostringstream no_referrals;
  options.max_referrals = 0;
  EXPECT_EQ(client::RunTrack(options, no_referrals, err), client::kExitFound);
  EXPECT_FALSE(absl::StrContains(no_referrals.str(), "mta-b.b.test\",\"reporting_mta_type"));
}

// Gateway to gateway with client certificates: B (--tls-client-ca) answers only a chaining
// gateway that presents a certificate from that CA (A's --chain-cert/--chain-key); without one
// B's handshake fails and A answers with its own transferred record, a referral.
TEST_F(ChainTest, ChainToGatewayThatRequiresClientCertificates) {
  DomainLookup lookup_b("mta-b.b.test", model::DsnAction::kDelivered, "");
  auto server_b = StartServer(lookup_b, "mtqp.b.test", /*tls=*/true, nullptr, 0, File("ca.pem"));
  ASSERT_NE(server_b, nullptr);
  StartDns({absl::StrCat("_mtqp._tcp.mta-b.b.test,mtqp.b.test,", server_b->port())});
  DomainLookup lookup_a("mta-a.a.test", model::DsnAction::kTransferred, "mta-b.b.test");

  auto with_cert =
      Chainer(4, absl::Seconds(30), {".a.test"}, "", File("client.pem"), File("client.key"));
  ASSERT_NE(with_cert, nullptr);
  {
    auto server_a = StartServer(lookup_a, "mtqp.a.test", true, with_cert.get());
    EXPECT_EQ(Track(server_a->port(), "mtqp.a.test", nullptr),
              (std::vector<std::string>{"mta-a.a.test", "mta-b.b.test"}));
    EXPECT_EQ(with_cert->failures(), 0);
  }

  auto without_cert = Chainer(4, absl::Seconds(30));
  ASSERT_NE(without_cert, nullptr);
  {
    auto server_a = StartServer(lookup_a, "mtqp.a.test", true, without_cert.get());
    EXPECT_EQ(Track(server_a->port(), "mtqp.a.test", nullptr),
              std::vector<std::string>{"mta-a.a.test"});
    EXPECT_EQ(without_cert->failures(), 1);  // B's handshake refused us
  }

  // A client certificate from another CA is refused too.
  auto rogue = Chainer(4, absl::Seconds(30), {".a.test"}, "", File("rogue-client.pem"),
                       File("rogue-client.key"));
  ASSERT_NE(rogue, nullptr);
  {
    auto server_a = StartServer(lookup_a, "mtqp.a.test", true, rogue.get());
    EXPECT_EQ(Track(server_a->port(), "mtqp.a.test", nullptr),
              std::vector<std::string>{"mta-a.a.test"});
    EXPECT_EQ(rogue->failures(), 1);
  }
}

TEST(ServerOptionsTest, ClientCaNeedsAServerCertificate) {
  server::ServerOptions options;
  options.tls_client_ca_file = "ca.pem";
  EXPECT_THAT(server::ValidateServerOptions(options),
              test::StatusIs(absl::StatusCode::kInvalidArgument));
}

// --chain-cert/--chain-key: loaded when the chainer is made (that the certificate is then
// presented is in server/mtqp_tls_test.cc); a bad file stops start-up with its name.
TEST_F(ChainTest, ChainClientCertificateIsLoadedAndBadFilesAreNamed) {
  ChainOptions options;
  options.tls = {
      .ca_file = File("ca.pem"), .cert_file = File("client.pem"), .key_file = File("client.key")};
  EXPECT_OK(MtqpChainer::Create(options).status());
  options.tls.key_file = "";
  absl::StatusOr<std::unique_ptr<MtqpChainer>> c = MtqpChainer::Create(options);
  EXPECT_THAT(c, test::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(absl::StartsWith(c.status().message(), "chain: tls: a client certificate needs"))
      << c.status();
  options.tls.key_file = File("client.key");
  options.tls.cert_file = "/nonexistent/chain.pem";
  c = MtqpChainer::Create(options);
  EXPECT_THAT(c, test::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(
      absl::StartsWith(c.status().message(), "chain: tls: certificate /nonexistent/chain.pem"))
      << c.status();
}

TEST_F(ChainTest, ClientRefusesServerWithoutTlsUnlessInsecure) {
  DomainLookup lookup("mta-b.b.test", model::DsnAction::kDelivered, "");
  auto server = StartServer(lookup, "mtqp.c.test", /*tls=*/false, nullptr);
  StartDns({absl::StrCat("_mtqp._tcp.mta-c.c.test,mtqp.c.test,", server->port())});
  // Found by DNS, not named by the user: plain text needs --insecure even on loopback.
  std::vector<std::string> args = {"--submission-host", "mta-c.c.test",
                                   "--dns-server",      DnsServer(),
                                   std::string(kEnvid), std::string(kSecretB64)};
  ASSERT_OK_AND_ASSIGN(client::TrackOptions options, client::ParseTrackArgs(args));
  std::ostringstream out, err;
  EXPECT_EQ(client::RunTrack(options, out, err), client::kExitError);
  EXPECT_TRUE(absl::StrContains(err.str(), "does not offer STARTTLS")) << err.str();
  EXPECT_EQ(lookup.calls, 0);  // the secret was never sent
  args.insert(args.begin(), "--insecure");
  ASSERT_OK_AND_ASSIGN(options, client::ParseTrackArgs(args));
  EXPECT_EQ(client::RunTrack(options, out, err), client::kExitFound) << err.str();
}

}  // namespace
}  // namespace mtrk::gateway::chain
