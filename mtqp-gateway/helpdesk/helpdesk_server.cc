#include "mtqp-gateway/helpdesk/helpdesk_server.h"

#include <httplib.h>

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "mtqp-gateway/helpdesk/json_writer.h"
#include "mtqp-gateway/helpdesk/password.h"
#include "mtqp-gateway/helpdesk/search_query.h"
#include "mtqp-gateway/helpdesk/timeline_view.h"
#include "mtqp-gateway/helpdesk/web_assets.h"

namespace mtrk::gateway::helpdesk {
namespace {

constexpr char kCookieName[] = "mtrk_session";
constexpr size_t kMaxPayloadBytes = 16 * 1024;
constexpr size_t kMaxMessageKeyBytes = 1100;  // "mid:" + a 998-byte Message-ID

int HttpStatus(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return 503;
    default:
      return 500;
  }
}

void SecurityHeaders(httplib::Response& res) {
  res.set_header("Content-Security-Policy",
                 "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                 "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("Strict-Transport-Security", "max-age=31536000");
}

void Json(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(body, "application/json");
}

void Error(httplib::Response& res, const absl::Status& s) {
  std::string message(s.message());
  // Internal details (SQL, hosts) stay in our logs, not in a browser.
  if (s.code() == absl::StatusCode::kInternal || s.code() == absl::StatusCode::kUnknown) {
    message = "internal error";
  }
  JsonWriter w;
  w.BeginObject().Key("error").BeginObject();
  w.Field("code", absl::StatusCodeToString(s.code())).Field("message", message);
  w.EndObject().EndObject();
  Json(res, HttpStatus(s.code()), w.str());
}

std::string CookieValue(const httplib::Request& req, absl::string_view name) {
  const std::string cookies = req.get_header_value("Cookie");
  for (absl::string_view part : absl::StrSplit(cookies, ';')) {
    part = absl::StripAsciiWhitespace(part);
    if (absl::ConsumePrefix(&part, name) && absl::ConsumePrefix(&part, "=")) {
      return std::string(part.substr(0, 128));
    }
  }
  return "";
}

bool IsHexToken(absl::string_view t) {
  if (t.size() != 64) return false;
  for (char c : t) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Query parameters as a map; InvalidArgument for a repeated name (ambiguous) or one in `skip`.
absl::StatusOr<std::map<std::string, std::string>> Params(
    const httplib::Request& req, std::initializer_list<absl::string_view> skip) {
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : req.params) {
    bool skipped = false;
    for (absl::string_view s : skip) skipped |= (name == s);
    if (skipped) continue;
    if (!out.emplace(name, value).second) {
      return absl::InvalidArgumentError(absl::StrCat(name.substr(0, 40), ": given twice"));
    }
  }
  return out;
}

bool MessageKeyChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         absl::string_view("!#$%&*+/=?^_`{|}~-.@[]:").find(c) != absl::string_view::npos;
}

absl::Status ValidateMessageKey(absl::string_view key) {
  if (key.empty() || key.size() > kMaxMessageKeyBytes) {
    return absl::InvalidArgumentError("message key: empty or too long");
  }
  for (char c : key) {
    if (!MessageKeyChar(c)) {
      return absl::InvalidArgumentError("message key: character not allowed");
    }
  }
  return absl::OkStatus();
}

bool WantsCsv(const httplib::Request& req, absl::Status* bad) {
  const std::string f = req.get_param_value("format");
  if (f.empty() || f == "json") return false;
  if (f == "csv") return true;
  *bad = absl::InvalidArgumentError("format: not one of json, csv");
  return false;
}

std::string ClientOf(const httplib::Request& req) { return req.remote_addr; }

}  // namespace

HelpdeskServer::HelpdeskServer(const HelpdeskOptions& options, HelpdeskStore& store,
                               StaffLookup& staff, mtqp::TrackLookup& track)
    : options_(options),
      store_(store),
      staff_(staff),
      track_(track),
      name_limiter_(options.max_login_failures_per_name, options.login_window),
      client_limiter_(options.max_login_failures_per_client, options.login_window),
      track_limiter_(options.max_tracks_per_client, options.login_window) {}

HelpdeskServer::~HelpdeskServer() { Stop(); }

absl::StatusOr<std::unique_ptr<HelpdeskServer>> HelpdeskServer::Start(
    const HelpdeskOptions& options, HelpdeskStore& store, StaffLookup& staff,
    mtqp::TrackLookup& track) {
  if (options.cert_file.empty() || options.key_file.empty()) {
    return absl::InvalidArgumentError("helpdesk: --helpdesk-cert and --helpdesk-key are required");
  }
  std::unique_ptr<HelpdeskServer> s(new HelpdeskServer(options, store, staff, track));
  s->server_ =
      std::make_unique<httplib::SSLServer>(options.cert_file.c_str(), options.key_file.c_str());
  if (!s->server_->is_valid()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "helpdesk: cannot load certificate ", options.cert_file, " or key ", options.key_file));
  }
  s->server_->set_payload_max_length(kMaxPayloadBytes);
  s->server_->set_read_timeout(10, 0);
  s->server_->set_write_timeout(10, 0);
  s->server_->set_keep_alive_max_count(100);
  s->Routes();
  if (options.listen_port == 0) {
    s->port_ = s->server_->bind_to_any_port(options.listen_host.c_str());
  } else {
    s->port_ = s->server_->bind_to_port(options.listen_host.c_str(), options.listen_port)
                   ? options.listen_port
                   : -1;
  }
  if (s->port_ <= 0) {
    return absl::UnavailableError(
        absl::StrCat("helpdesk: cannot listen on ", options.listen_host, ":", options.listen_port));
  }
  s->thread_ = std::thread([srv = s->server_.get()] { srv->listen_after_bind(); });
  return s;
}

std::string HelpdeskServer::endpoint() const {
  return absl::StrCat(absl::StrContains(options_.listen_host, ':')
                          ? absl::StrCat("[", options_.listen_host, "]")
                          : options_.listen_host,
                      ":", port_);
}

void HelpdeskServer::Stop() {
  if (server_ != nullptr) server_->stop();
  if (thread_.joinable()) thread_.join();
}

void HelpdeskServer::Routes() {
  httplib::SSLServer& s = *server_;
  s.set_post_routing_handler(
      [](const httplib::Request&, httplib::Response& res) { SecurityHeaders(res); });
  const auto page = [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    res.set_content(std::string(kIndexHtml), "text/html; charset=utf-8");
  };
  // The page routes itself by path: search, a shareable message link, originator tracking,
  // the audit trail.
  s.Get("/", page);
  s.Get("/message", page);
  s.Get("/track", page);
  s.Get("/audit", page);
  s.Get("/static/app.js", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(kAppJs), "text/javascript; charset=utf-8");
  });
  s.Get("/static/app.css", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(kAppCss), "text/css; charset=utf-8");
  });
  using R = const httplib::Request&;
  using W = httplib::Response&;
  s.Post("/api/v1/login", [this](R q, W r) { Login(q, r); });
  s.Post("/api/v1/logout", [this](R q, W r) { Logout(q, r); });
  s.Get("/api/v1/session", [this](R q, W r) { SessionInfo(q, r); });
  s.Get("/api/v1/messages", [this](R q, W r) { Search(q, r); });
  s.Get(R"(/api/v1/messages/([^/]+))", [this](R q, W r) { Timeline(q, r); });
  s.Get("/api/v1/audit", [this](R q, W r) { AuditTrail(q, r); });
  s.Get("/api/v1/users", [this](R q, W r) { Users(q, r); });
  s.Post("/api/v1/track", [this](R q, W r) { Track(q, r); });
  s.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    Error(res, absl::Status(res.status == 404   ? absl::StatusCode::kNotFound
                            : res.status == 413 ? absl::StatusCode::kInvalidArgument
                                                : absl::StatusCode::kInvalidArgument,
                            res.status == 404   ? "no such page"
                            : res.status == 413 ? "request too large"
                                                : "bad request"));
  });
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    Error(res, absl::InternalError("exception"));
  });
}

absl::StatusOr<HelpdeskServer::Principal> HelpdeskServer::Authenticate(
    const httplib::Request& req) {
  const std::string auth = req.get_header_value("Authorization");
  if (!auth.empty()) {
    absl::string_view token = auth;
    if (!absl::ConsumePrefix(&token, "Bearer ") || !IsHexToken(token)) {
      return absl::UnauthenticatedError("authorization: want 'Bearer <64 hex digits>'");
    }
    absl::StatusOr<User> user = store_.FindApiToken(Sha256Hex(token));
    if (absl::IsNotFound(user.status())) {
      return absl::UnauthenticatedError("authorization: unknown, revoked or expired token");
    }
    if (!user.ok()) return user.status();
    return Principal{*std::move(user), "", false};
  }
  const std::string cookie = CookieValue(req, kCookieName);
  if (!IsHexToken(cookie)) return absl::UnauthenticatedError("sign in first");
  std::string csrf;
  absl::StatusOr<User> user = store_.FindSession(Sha256Hex(cookie), &csrf);
  if (absl::IsNotFound(user.status())) {
    return absl::UnauthenticatedError("session expired; sign in again");
  }
  if (!user.ok()) return user.status();
  return Principal{*std::move(user), std::move(csrf), true};
}

bool HelpdeskServer::Audit(const Principal& who, const httplib::Request& req,
                           absl::string_view action, const std::string& query, int64_t results,
                           absl::string_view outcome, httplib::Response& res) {
  AuditRecord a;
  a.user_name = who.user.name;
  a.role = std::string(RoleName(who.user.role));
  a.action = std::string(action);
  a.query = query;
  a.result_count = results;
  a.outcome = std::string(outcome);
  a.client = ClientOf(req);
  if (absl::Status s = store_.AppendAudit(a); !s.ok()) {
    // No audit record, no answer: accountability comes before convenience.
    Error(res, absl::UnavailableError("audit log unavailable; lookup refused"));
    return false;
  }
  return true;
}

void HelpdeskServer::Login(const httplib::Request& req, httplib::Response& res) {
  // Login CSRF: a cross-site form cannot set this header, and a cross-site fetch that sets it
  // needs a CORS preflight we never grant.
  if (req.get_header_value("X-Requested-With") != "mtrk-helpdesk") {
    return Error(res, absl::PermissionDeniedError("login: missing X-Requested-With header"));
  }
  const std::string name = req.get_param_value("name");
  const std::string password = req.get_param_value("password");
  if (!IsValidUserName(name) || password.empty() || password.size() > kMaxPasswordBytes) {
    return Error(res, absl::InvalidArgumentError(
                          "login: name ([a-z0-9._-], at most 64) and password (at most 256 "
                          "bytes) are required"));
  }
  const std::string client = ClientOf(req);
  const absl::Duration wait =
      std::max(name_limiter_.RetryAfter(name), client_limiter_.RetryAfter(client));
  if (wait > absl::ZeroDuration()) {
    res.set_header("Retry-After", std::to_string(absl::ToInt64Seconds(wait) + 1));
    return Error(res,
                 absl::ResourceExhaustedError("login: too many failed attempts; try again later"));
  }
  absl::StatusOr<User> user = store_.FindUser(name);
  if (!user.ok() && !absl::IsNotFound(user.status())) return Error(res, user.status());
  // Run the KDF for unknown users too, so timing does not reveal which names exist.
  static const std::string kDummy = HashPassword("x", {}).value_or("");
  const bool ok = VerifyPassword(password, user.ok() ? user->password_hash : kDummy) && user.ok() &&
                  !user->disabled;
  AuditRecord a;
  a.user_name = name;
  a.role = user.ok() ? std::string(RoleName(user->role)) : "";
  a.action = "login";
  a.query = "{}";
  a.outcome = ok ? "ok" : "denied";
  a.client = client;
  (void)store_.AppendAudit(a);  // best effort: a login is not a lookup
  if (!ok) {
    name_limiter_.RecordFailure(name);
    client_limiter_.RecordFailure(client);
    return Error(res, absl::UnauthenticatedError("login: wrong name or password"));
  }
  name_limiter_.RecordSuccess(name);
  const std::string token = RandomToken();
  const std::string csrf = RandomToken();
  if (absl::Status s = store_.CreateSession(user->id, Sha256Hex(token), csrf,
                                            absl::Now() + options_.session_ttl);
      !s.ok()) {
    return Error(res, s);
  }
  res.set_header("Set-Cookie", absl::StrCat(kCookieName, "=", token,
                                            "; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=",
                                            absl::ToInt64Seconds(options_.session_ttl)));
  JsonWriter w;
  w.BeginObject().Field("name", user->name).Field("role", RoleName(user->role));
  w.Field("csrf_token", csrf).EndObject();
  Json(res, 200, w.str());
}

void HelpdeskServer::Logout(const httplib::Request& req, httplib::Response& res) {
  absl::StatusOr<Principal> who = Authenticate(req);
  if (!who.ok()) return Error(res, who.status());
  if (who->via_session) {
    if (req.get_header_value("X-CSRF-Token") != who->csrf_token) {
      return Error(res, absl::PermissionDeniedError("logout: missing or wrong X-CSRF-Token"));
    }
    (void)store_.DeleteSession(Sha256Hex(CookieValue(req, kCookieName)));
  }
  res.set_header("Set-Cookie", absl::StrCat(kCookieName,
                                            "=; Path=/; HttpOnly; Secure; SameSite=Strict; "
                                            "Max-Age=0"));
  Json(res, 200, "{}");
}

void HelpdeskServer::SessionInfo(const httplib::Request& req, httplib::Response& res) {
  absl::StatusOr<Principal> who = Authenticate(req);
  if (!who.ok()) return Error(res, who.status());
  JsonWriter w;
  w.BeginObject().Field("name", who->user.name).Field("role", RoleName(who->user.role));
  w.Key("domains").BeginArray();
  for (const std::string& d : who->user.domains) w.String(d);
  w.EndArray().Field("csrf_token", who->csrf_token).EndObject();
  Json(res, 200, w.str());
}

void HelpdeskServer::Search(const httplib::Request& req, httplib::Response& res) {
  absl::StatusOr<Principal> who = Authenticate(req);
  if (!who.ok()) return Error(res, who.status());
  absl::Status bad;
  const bool csv = WantsCsv(req, &bad);
  if (!bad.ok()) return Error(res, bad);
  absl::StatusOr<std::map<std::string, std::string>> params = Params(req, {"format"});
  if (!params.ok()) return Error(res, params.status());
  absl::StatusOr<StaffQuery> query = ParseStaffQuery(*params);
  if (!query.ok()) return Error(res, query.status());
  const absl::string_view action = csv ? "export" : "search";
  const Role role = who->user.role;
  if (role == Role::kAuditor || role == Role::kAdmin) {
    if (!Audit(*who, req, action, QueryToJson(*query), 0, "denied", res)) return;
    return Error(res, absl::PermissionDeniedError(absl::StrCat("search: the ", RoleName(role),
                                                               " role may not look up messages")));
  }
  if (role == Role::kDomainAdmin) {
    query->domains = who->user.domains;
    if (query->match == MatchMode::kSubstring) {
      if (!Audit(*who, req, action, QueryToJson(*query), 0, "denied", res)) return;
      return Error(res, absl::PermissionDeniedError(
                            "search: substring search is for the helpdesk role; use exact or "
                            "prefix"));
    }
  }
  absl::StatusOr<SearchPage> page = staff_.Search(*query);
  if (!page.ok()) {
    if (!Audit(*who, req, action, QueryToJson(*query), 0, "error", res)) return;
    return Error(res, page.status());
  }
  if (!Audit(*who, req, action, QueryToJson(*query), static_cast<int64_t>(page->messages.size()),
             "ok", res)) {
    return;
  }
  if (csv) {
    res.set_header("Content-Disposition", "attachment; filename=\"mtrk-search.csv\"");
    res.set_header("Cache-Control", "no-store");
    res.set_content(TimelinesToCsv(page->messages), "text/csv; charset=utf-8");
    return;
  }
  JsonWriter w;
  w.BeginObject().Key("messages").BeginArray();
  for (const MessageTimeline& t : page->messages) WriteMessageJson(t, false, w);
  w.EndArray().Field("next_cursor", page->next_cursor).EndObject();
  Json(res, 200, w.str());
}

void HelpdeskServer::Timeline(const httplib::Request& req, httplib::Response& res) {
  absl::StatusOr<Principal> who = Authenticate(req);
  if (!who.ok()) return Error(res, who.status());
  absl::Status bad;
  const bool csv = WantsCsv(req, &bad);
  if (!bad.ok()) return Error(res, bad);
  const std::string key = req.matches[1];
  if (absl::Status s = ValidateMessageKey(key); !s.ok()) return Error(res, s);
  JsonWriter q;
  q.BeginObject().Field("message_key", key).EndObject();
  const absl::string_view action = csv ? "export" : "timeline";
  const Role role = who->user.role;
  if (role == Role::kAuditor || role == Role::kAdmin) {
    if (!Audit(*who, req, action, q.str(), 0, "denied", res)) return;
    return Error(res, absl::PermissionDeniedError(absl::StrCat("timeline: the ", RoleName(role),
                                                               " role may not look up messages")));
  }
  const std::vector<std::string> domains =
      role == Role::kDomainAdmin ? who->user.domains : std::vector<std::string>{};
  absl::StatusOr<MessageTimeline> t = staff_.Timeline(key, domains);
  if (!t.ok()) {
    if (!Audit(*who, req, action, q.str(), 0, absl::IsNotFound(t.status()) ? "ok" : "error", res)) {
      return;
    }
    return Error(res, t.status());
  }
  if (!Audit(*who, req, action, q.str(), 1, "ok", res)) return;
  if (csv) {
    res.set_header("Content-Disposition", "attachment; filename=\"mtrk-message.csv\"");
    res.set_header("Cache-Control", "no-store");
    res.set_content(TimelinesToCsv({*t}), "text/csv; charset=utf-8");
    return;
  }
  JsonWriter w;
  WriteMessageJson(*t, true, w);
  Json(res, 200, w.str());
}

void HelpdeskServer::AuditTrail(const httplib::Request& req, httplib::Response& res) {
  absl::StatusOr<Principal> who = Authenticate(req);
  if (!who.ok()) return Error(res, who.status());
  int64_t before = 0;
  int limit = 100;
  const std::string before_s = req.get_param_value("cursor");
  const std::string limit_s = req.get_param_value("page_size");
  const std::string user = req.get_param_value("user");
  if (!before_s.empty() && (!absl::SimpleAtoi(before_s, &before) || before < 0)) {
    return Error(res, absl::InvalidArgumentError("cursor: not a number"));
  }
  if (!limit_s.empty() && (!absl::SimpleAtoi(limit_s, &limit) || limit < 1 || limit > 500)) {
    return Error(res, absl::InvalidArgumentError("page_size: not a number from 1 to 500"));
  }
  if (!user.empty() && !IsValidUserName(user)) {
    return Error(res, absl::InvalidArgumentError("user: want [a-z0-9][a-z0-9._-]{0,63}"));
  }
  JsonWriter q;
  q.BeginObject().Field("cursor", before).Field("user", user).EndObject();
  if (who->user.role != Role::kAuditor) {
    if (!Audit(*who, req, "audit", q.str(), 0, "denied", res)) return;
    return Error(res, absl::PermissionDeniedError("audit: only the auditor role reads the trail"));
  }
  absl::StatusOr<std::vector<AuditRecord>> records = store_.ListAudit(before, limit, user);
  if (!records.ok()) return Error(res, records.status());
  if (!Audit(*who, req, "audit", q.str(), static_cast<int64_t>(records->size()), "ok", res)) {
    return;
  }
  JsonWriter w;
  w.BeginObject().Key("records").BeginArray();
  for (const AuditRecord& a : *records) {
    w.BeginObject()
        .Field("id", a.id)
        .Field("at", Rfc3339(a.at))
        .Field("user", a.user_name)
        .Field("role", a.role)
        .Field("action", a.action)
        .Field("query", a.query)
        .Field("result_count", a.result_count)
        .Field("outcome", a.outcome)
        .Field("client", a.client)
        .EndObject();
  }
  w.EndArray();
  w.Field("next_cursor", static_cast<int>(records->size()) == limit && !records->empty()
                             ? std::to_string(records->back().id)
                             : "");
  w.EndObject();
  Json(res, 200, w.str());
}

void HelpdeskServer::Users(const httplib::Request& req, httplib::Response& res) {
  absl::StatusOr<Principal> who = Authenticate(req);
  if (!who.ok()) return Error(res, who.status());
  if (who->user.role != Role::kAdmin) {
    if (!Audit(*who, req, "users", "{}", 0, "denied", res)) return;
    return Error(res, absl::PermissionDeniedError("users: only the admin role manages users"));
  }
  absl::StatusOr<std::vector<User>> users = store_.ListUsers();
  if (!users.ok()) return Error(res, users.status());
  if (!Audit(*who, req, "users", "{}", static_cast<int64_t>(users->size()), "ok", res)) return;
  JsonWriter w;
  w.BeginObject().Key("users").BeginArray();
  for (const User& u : *users) {
    w.BeginObject().Field("name", u.name).Field("role", RoleName(u.role));
    w.Key("domains").BeginArray();
    for (const std::string& d : u.domains) w.String(d);
    w.EndArray().Field("disabled", u.disabled).EndObject();
  }
  w.EndArray().EndObject();
  Json(res, 200, w.str());
}

void HelpdeskServer::Track(const httplib::Request& req, httplib::Response& res) {
  const std::string envid = req.get_param_value("envid");
  const std::string secret = req.get_param_value("secret");
  if (absl::Status s = ValidateEnvid("envid", envid); !s.ok()) return Error(res, s);
  // The secret goes into an MTQP command line: base64 only, so nothing can end the line.
  if (secret.empty() || secret.size() > 256 ||
      !std::all_of(secret.begin(), secret.end(), [](char c) {
        return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' ||
               c == '=';
      })) {
    return Error(res, absl::InvalidArgumentError("secret: want the base64 secret you were given"));
  }
  const std::string client = ClientOf(req);
  if (const absl::Duration wait = track_limiter_.RetryAfter(client); wait > absl::ZeroDuration()) {
    res.set_header("Retry-After", std::to_string(absl::ToInt64Seconds(wait) + 1));
    return Error(res, absl::ResourceExhaustedError("track: too many lookups; try again later"));
  }
  track_limiter_.RecordFailure(client);  // counts every lookup, not only failed ones
  // Exactly what MTQP answers: the same session code, as if over TLS (we are on HTTPS).
  mtqp::SessionOptions mtqp_options = options_.mtqp;
  mtqp_options.tls_required = false;
  mtqp::Session session(mtqp_options, track_);
  const mtqp::Session::Reply reply = session.HandleLine(absl::StrCat("TRACK ", envid, " ", secret));
  std::string text = reply.response;
  const size_t eol = text.find("\r\n");
  const std::string status_line = text.substr(0, eol);
  std::string body;
  if (absl::StartsWith(status_line, "+OK") && eol != std::string::npos) {
    // Undo the multiline framing (RFC 3887 §3.1): drop the final ".", unstuff leading dots.
    for (absl::string_view line : absl::StrSplit(absl::string_view(text).substr(eol + 2), "\r\n")) {
      if (line == ".") break;
      if (absl::StartsWith(line, "..")) line.remove_prefix(1);
      absl::StrAppend(&body, line, "\r\n");
    }
  }
  JsonWriter w;
  w.BeginObject()
      .Field("found", absl::StartsWith(status_line, "+OK"))
      .Field("mtqp_reply", status_line)
      .Field("body", body)
      .EndObject();
  Json(res, 200, w.str());
}

}  // namespace mtrk::gateway::helpdesk
