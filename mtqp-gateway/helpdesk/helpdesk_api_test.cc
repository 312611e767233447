// The helpdesk API against a real PostgreSQL (tests/support/pg_environment.h) over real HTTPS:
// for each role, the lookups it may and may not make, and the audit record each one leaves.
#include <httplib.h>

#include <cstdlib>
#include <pqxx/pqxx>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/net/certifier.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mtqp-gateway/helpdesk/fake_staff_lookup.h"
#include "mtqp-gateway/helpdesk/helpdesk_server.h"
#include "mtqp-gateway/helpdesk/helpdesk_store.h"
#include "mtqp-gateway/helpdesk/password.h"
#include "tests/support/pg_environment.h"
#include "tests/support/status_matchers.h"

namespace mtrk::gateway::helpdesk {
namespace {

using ::testing::HasSubstr;

constexpr ScryptParams kFast{.n = 1024, .r = 8, .p = 1};  // login cost is not under test
constexpr char kSecret[] = "the-secret-of-this-message";

model::HopEvent Hop(absl::string_view sender, absl::string_view rcpt, model::DsnAction action,
                    int64_t t) {
  model::HopEvent h;
  h.reporting_host = "mta-a";
  h.reporting_mta = "mta-a.a.example";
  h.mta_instance = "postfix-a";
  h.queue_id = "1D4BAA74210";
  h.queue_first_seen = absl::FromUnixSeconds(1'795'000'000);
  h.message_id = "m1@vm";
  h.sender = std::string(sender);
  h.original_recipient = h.final_recipient = std::string(rcpt);
  h.action = action;
  h.status = "2.0.0";
  h.envid = "env-1@a.example";
  h.certifier = net::CertifierOf(kSecret);
  h.event_time = absl::FromUnixSeconds(1'795'000'000 + t);
  h.arrival_time = h.queue_first_seen;
  return h;
}

MessageTimeline Message(absl::string_view key, absl::string_view mid, absl::string_view sender,
                        absl::string_view rcpt) {
  MessageTimeline t;
  t.message_key = std::string(key);
  t.message_id = std::string(mid);
  t.sender = std::string(sender);
  t.first_seen = absl::FromUnixSeconds(1'795'000'000);
  t.hops = {Hop(sender, rcpt, model::DsnAction::kRelayed, 1),
            Hop(sender, rcpt, model::DsnAction::kDelivered, 2)};
  for (auto& h : t.hops) h.message_id = t.message_id;
  return t;
}

class FakeTrack : public mtqp::TrackLookup {
 public:
  absl::StatusOr<std::vector<model::HopEvent>> Track(absl::string_view envid,
                                                     absl::string_view secret) override {
    if (envid == "env-1@a.example" && secret == kSecret) {
      return std::vector<model::HopEvent>{
          Hop("alice@a.example", "bob@b.example", model::DsnAction::kDelivered, 2)};
    }
    return absl::NotFoundError("no");
  }
};

class HelpdeskApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/mtrk-helpdesk-ca.XXXXXX";
    ca_dir_ = new std::string(mkdtemp(tmpl));
    const std::string cmd =
        absl::StrCat("bash tests/support/make-test-ca.sh ", *ca_dir_, " >/dev/null 2>&1");
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }
  static void TearDownTestSuite() { std::system(absl::StrCat("rm -rf ", *ca_dir_).c_str()); }

  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(db_, test::PgEnvironment::Get().NewDatabase());
    ASSERT_OK_AND_ASSIGN(store_, HelpdeskStore::Connect(db_.conninfo()));
    AddUser("helen", Role::kHelpdesk, {});
    AddUser("dora", Role::kDomainAdmin, {"b.example"});
    AddUser("audrey", Role::kAuditor, {});
    AddUser("adam", Role::kAdmin, {});
    staff_.Add(Message("k1", "m1@vm", "alice@a.example", "bob@b.example"));
    staff_.Add(Message("k2", "m2@vm", "carol@c.example", "dave@c.example"));
    HelpdeskOptions options;
    options.cert_file = *ca_dir_ + "/server.pem";
    options.key_file = *ca_dir_ + "/server.key";
    ASSERT_OK_AND_ASSIGN(server_, HelpdeskServer::Start(options, *store_, staff_, track_));
    const std::string ep = server_->endpoint();
    port_ = std::stoi(ep.substr(ep.rfind(':') + 1));
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  void AddUser(const std::string& name, Role role, std::vector<std::string> domains) {
    ASSERT_OK_AND_ASSIGN(std::string hash, HashPassword("pw-" + name, kFast));
    ASSERT_OK(store_->AddUser(name, role, domains, hash).status());
    const std::string token = RandomToken();
    ASSERT_OK_AND_ASSIGN(User u, store_->FindUser(name));
    ASSERT_OK(store_->CreateApiToken(u.id, Sha256Hex(token), "test", std::nullopt).status());
    tokens_[name] = token;
  }

  std::unique_ptr<httplib::SSLClient> Client() {
    auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", port_);
    c->enable_server_certificate_verification(false);
    c->set_read_timeout(10, 0);
    c->set_url_encode(false);  // the test paths are encoded already
    return c;
  }

  // GET as `user` (bearer token); "" for no credentials.
  httplib::Result Get(const std::string& user, const std::string& path) {
    httplib::Headers h;
    if (!user.empty()) h.emplace("Authorization", "Bearer " + tokens_[user]);
    return Client()->Get(path.c_str(), h);
  }

  // The newest audit record as "user action outcome count query".
  std::string LastAudit() {
    pqxx::connection c(db_.conninfo());
    pqxx::work txn(c);
    pqxx::result r = txn.exec(
        "SELECT user_name || ' ' || action || ' ' || outcome || ' ' || result_count || ' ' || "
        "query FROM helpdesk_audit_log ORDER BY id DESC LIMIT 1");
    return r.empty() ? "" : r[0][0].as<std::string>();
  }
  int64_t AuditCount() {
    pqxx::connection c(db_.conninfo());
    pqxx::work txn(c);
    return txn.exec("SELECT count(*) FROM helpdesk_audit_log")[0][0].as<int64_t>();
  }

  static std::string* ca_dir_;
  test::PgDatabase db_;
  std::unique_ptr<HelpdeskStore> store_;
  FakeStaffLookup staff_;
  FakeTrack track_;
  std::unique_ptr<HelpdeskServer> server_;
  int port_ = 0;
  std::map<std::string, std::string> tokens_;
};
std::string* HelpdeskApiTest::ca_dir_ = nullptr;

TEST_F(HelpdeskApiTest, EachRoleAllowedAndRefusedLookupsAreAudited) {
  const struct {
    std::string user, path;
    int want_status;
    std::string want_body;   // substring
    std::string want_audit;  // the record that lookup left
  } kCases[] = {
      // helpdesk: any message, substring search.
      {"helen", "/api/v1/messages?sender=alice@a.example", 200, R"("message_key":"k1")",
       R"(helen search ok 1 {"sender":"alice@a.example"})"},
      {"helen", "/api/v1/messages?recipient=c.ex&match=substring", 200, R"("message_key":"k2")",
       R"(helen search ok 1 {"recipient":"c.ex","match":"substring"})"},
      {"helen", "/api/v1/messages/k2", 200, R"("where_now":"Delivered to dave@c.example)",
       R"(helen timeline ok 1 {"message_key":"k2"})"},
      {"helen", "/api/v1/messages?message_id=%3Cm1@vm%3E&format=csv", 200, "k1,m1@vm,",
       R"(helen export ok 1 {"message_id":"m1@vm"})"},
      {"helen", "/api/v1/audit", 403, "only the auditor role",
       R"(helen audit denied 0 {"cursor":0,"user":""})"},
      // domain admin: only their domains, no substring search.
      {"dora", "/api/v1/messages?message_id=m1@vm", 200, R"("message_key":"k1")",
       R"(dora search ok 1 {"message_id":"m1@vm","domains":["b.example"]})"},
      {"dora", "/api/v1/messages?message_id=m2@vm", 200, R"({"messages":[],)",
       R"(dora search ok 0 {"message_id":"m2@vm","domains":["b.example"]})"},
      {"dora", "/api/v1/messages/k2", 404, "NOT_FOUND",
       R"(dora timeline ok 0 {"message_key":"k2"})"},
      {"dora", "/api/v1/messages?recipient=bob&match=substring", 403, "substring search is for",
       R"(dora search denied 0 {"recipient":"bob","match":"substring","domains":["b.example"]})"},
      // auditor: the trail, no messages.
      {"audrey", "/api/v1/messages?sender=alice@a.example", 403, "may not look up messages",
       R"(audrey search denied 0 {"sender":"alice@a.example"})"},
      {"audrey", "/api/v1/audit", 200, R"("user":"audrey","role":"auditor","action":"search")",
       R"(audrey audit ok )"},
      // admin: users, no messages, no trail.
      {"adam", "/api/v1/messages/k1", 403, "may not look up messages",
       R"(adam timeline denied 0 {"message_key":"k1"})"},
      {"adam", "/api/v1/users", 200,
       R"({"name":"dora","role":"domain_admin","domains":["b.example"])", "adam users ok 4 {}"},
      {"adam", "/api/v1/audit", 403, "only the auditor role", "adam audit denied 0"},
      {"helen", "/api/v1/users", 403, "only the admin role", "helen users denied 0 {}"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(absl::StrCat(c.user, " ", c.path));
    httplib::Result r = Get(c.user, c.path);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, c.want_status) << r->body;
    EXPECT_THAT(r->body, HasSubstr(c.want_body));
    EXPECT_THAT(LastAudit(), ::testing::StartsWith(c.want_audit));
  }
}

TEST_F(HelpdeskApiTest, NoOrBadCredentialsAreRefusedWithoutResults) {
  httplib::Result r = Get("", "/api/v1/messages?sender=alice@a.example");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_THAT(r->body, HasSubstr("sign in first"));
  r = Client()->Get("/api/v1/messages?sender=a@b",
                    httplib::Headers{{"Authorization", "Bearer " + std::string(64, 'a')}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_THAT(r->body, HasSubstr("unknown, revoked or expired token"));
}

TEST_F(HelpdeskApiTest, BadInputGetsClearErrorAndNoLookup) {
  const struct {
    std::string query, want;
  } kCases[] = {
      {"sender=" + std::string(600, 'a'), "sender: longer than 512 bytes"},
      {"recipient=%3Cscript%3E", R"(recipient: character '\u003c' is not allowed)"},
      {"message_id=x%27%20OR%201%3D1", "message_id: character ''' is not allowed"},
      {"envid=a%3Bb", "envid: character ';' is not allowed"},
      {"queue_id=1D4B%27--", "queue_id: character ''' is not allowed"},
      {"from=2026-13-45T99:00Z", "from: not a date-time with zone"},
      {"sender=a@b&to=next%20week", "to: not a date-time with zone"},
      {"sender=a@b&status=%27", "status: not one of"},
      {"sender=a@b&match=%27", "match: not one of"},
      {"sender=a@b&cursor=%27", "cursor: character ''' is not allowed"},
      {"sender=a@b&sender=c@d", "sender: given twice"},
      {"sender=a@b&format=xml", "format: not one of json, csv"},
      {"sender=a@b&x=%27", "'x': unknown parameter"},
  };
  const int64_t before = AuditCount();
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.query);
    httplib::Result r = Get("helen", "/api/v1/messages?" + c.query);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
    EXPECT_THAT(r->body, HasSubstr(R"("code":"INVALID_ARGUMENT")"));
    EXPECT_THAT(r->body, HasSubstr(c.want));
    EXPECT_THAT(r->body, ::testing::Not(HasSubstr("<script")));
  }
  httplib::Result r = Get("helen", "/api/v1/messages/a'b");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(AuditCount(), before);  // refused before anything was looked up
}

TEST_F(HelpdeskApiTest, SessionLoginCookieCsrfAndRateLimit) {
  std::unique_ptr<httplib::SSLClient> c = Client();
  const httplib::Headers xrw{{"X-Requested-With", "mtrk-helpdesk"}};
  // Without the header a cross-site form could log the victim in as us.
  httplib::Result r =
      c->Post("/api/v1/login", "name=helen&password=pw-helen", "application/x-www-form-urlencoded");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  r = c->Post("/api/v1/login", xrw, "name=helen&password=pw-helen",
              "application/x-www-form-urlencoded");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const std::string cookie = r->get_header_value("Set-Cookie");
  EXPECT_THAT(cookie, HasSubstr("; HttpOnly; Secure; SameSite=Strict"));
  const std::string session = cookie.substr(0, cookie.find(';'));
  const std::string body = r->body;
  const size_t at = body.find("\"csrf_token\":\"") + 14;
  const std::string csrf = body.substr(at, 64);
  EXPECT_EQ(LastAudit(), "helen login ok 0 {}");

  r = c->Get("/api/v1/messages?sender=alice@a.example", httplib::Headers{{"Cookie", session}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(r->get_header_value("Content-Security-Policy"), HasSubstr("default-src 'none'"));
  // State change without the CSRF token: refused; with it: signed out.
  r = c->Post("/api/v1/logout", httplib::Headers{{"Cookie", session}}, "", "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  r = c->Post("/api/v1/logout", httplib::Headers{{"Cookie", session}, {"X-CSRF-Token", csrf}}, "",
              "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  r = c->Get("/api/v1/session", httplib::Headers{{"Cookie", session}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);

  // Five wrong passwords, then even the right one waits.
  for (int i = 0; i < 5; ++i) {
    r = c->Post("/api/v1/login", xrw, "name=dora&password=guess",
                "application/x-www-form-urlencoded");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
  }
  EXPECT_EQ(LastAudit(), "dora login denied 0 {}");
  r = c->Post("/api/v1/login", xrw, "name=dora&password=pw-dora",
              "application/x-www-form-urlencoded");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 429);
  EXPECT_FALSE(r->get_header_value("Retry-After").empty());
}

TEST_F(HelpdeskApiTest, AuditLogIsAppendOnly) {
  ASSERT_TRUE(Get("helen", "/api/v1/messages?sender=alice@a.example"));
  pqxx::connection c(db_.conninfo());
  for (const char* sql : {"UPDATE helpdesk_audit_log SET result_count = 0",
                          "DELETE FROM helpdesk_audit_log", "TRUNCATE helpdesk_audit_log"}) {
    SCOPED_TRACE(sql);
    pqxx::work txn(c);
    EXPECT_THROW(txn.exec(sql), pqxx::sql_error);
  }
  EXPECT_GE(AuditCount(), 1);
}

TEST_F(HelpdeskApiTest, OriginatorGetsExactlyTheMtqpAnswer) {
  const std::string secret = net::EncodeBase64Unpadded(kSecret);
  httplib::Result r = Client()->Post("/api/v1/track", "envid=env-1@a.example&secret=" + secret,
                                     "application/x-www-form-urlencoded");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(r->body,
              HasSubstr(R"("found":true,"mtqp_reply":"+OK+ tracking information follows")"));
  EXPECT_THAT(r->body, HasSubstr("message/tracking-status"));
  const std::string wrong = net::EncodeBase64Unpadded("not-the-secret-of-this-msg");
  httplib::Result w = Client()->Post("/api/v1/track", "envid=env-1@a.example&secret=" + wrong,
                                     "application/x-www-form-urlencoded");
  httplib::Result u = Client()->Post("/api/v1/track", "envid=nobody@a.example&secret=" + wrong,
                                     "application/x-www-form-urlencoded");
  ASSERT_TRUE(w && u);
  EXPECT_EQ(w->body, u->body);  // unknown and wrong secret: the same answer
  EXPECT_THAT(w->body, HasSubstr(R"("found":false,"mtqp_reply":"-ERR/noinfo)"));
  // No partial-address search for originators: only envid and secret are read, and checked.
  httplib::Result bad = Client()->Post("/api/v1/track", "envid=a%0D%0AQUIT&secret=x",
                                       "application/x-www-form-urlencoded");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
}

TEST_F(HelpdeskApiTest, CollectorWithoutStaffSearchGivesClearError) {
  staff_.FailWith(absl::UnimplementedError(
      "helpdesk: the collector does not implement StaffSearch yet; only a search by "
      "Message-ID alone is possible until it is upgraded"));
  httplib::Result r = Get("helen", "/api/v1/messages?sender=alice@a.example");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 501);
  EXPECT_THAT(r->body, HasSubstr("does not implement StaffSearch yet"));
  EXPECT_THAT(LastAudit(), ::testing::StartsWith("helen search error 0"));
}

TEST_F(HelpdeskApiTest, PagesAreServedFromTheBinary) {
  httplib::Result r = Client()->Get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(r->body, HasSubstr("<script src=\"/static/app.js\""));
  r = Client()->Get("/static/app.js");
  ASSERT_TRUE(r);
  EXPECT_THAT(r->body, HasSubstr("textContent"));
}

}  // namespace
}  // namespace mtrk::gateway::helpdesk
