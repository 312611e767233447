// HelpdeskServer: the staff web page, the JSON API (/api/v1, see API.md) and the originator's
// "track my message" page, over HTTPS (cpp-httplib with OpenSSL).
//
// Who may see what: staff authenticate with a session cookie (POST /api/v1/login; HttpOnly,
// Secure, SameSite=Strict, plus an X-CSRF-Token header on every state-changing request) or a
// bearer token (Authorization: Bearer, made by `mtrk-gateway helpdesk-token create`). Roles:
// helpdesk (any message, substring search), domain_admin (only messages touching their domains,
// exact or prefix match), auditor (the audit trail only), admin (users only). Every staff lookup,
// allowed or refused, is written to the append-only audit log before any result leaves; if that
// write fails the lookup fails (Unavailable). Originators get exactly the MTQP TRACK answer
// (mtqp::Session), never a partial-address search. Thread-safe; httplib runs a thread pool.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "mtqp-gateway/helpdesk/helpdesk_store.h"
#include "mtqp-gateway/helpdesk/login_limiter.h"
#include "mtqp-gateway/helpdesk/staff_lookup.h"
#include "mtqp-gateway/mtqp/session.h"
#include "mtqp-gateway/mtqp/track_lookup.h"

namespace httplib {
class SSLServer;
struct Request;
struct Response;
}  // namespace httplib

namespace mtrk::gateway::helpdesk {

struct HelpdeskOptions {
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 0;                     // 0: pick a free port
  std::string cert_file;                        // PEM server certificate chain
  std::string key_file;                         // PEM private key
  absl::Duration session_ttl = absl::Hours(8);  // one working day
  // Password guessing: per user name and per client address.
  int max_login_failures_per_name = 5;
  int max_login_failures_per_client = 20;
  absl::Duration login_window = absl::Minutes(15);
  // Originator lookups per client address and window (secrets are 128+ bits, but the collector
  // still deserves protection from a flood).
  int max_tracks_per_client = 60;
  mtqp::SessionOptions mtqp;  // what MTQP itself would answer with
};

class HelpdeskServer {
 public:
  // Binds and starts serving in a background thread. The references must outlive the server.
  static absl::StatusOr<std::unique_ptr<HelpdeskServer>> Start(const HelpdeskOptions& options,
                                                               HelpdeskStore& store,
                                                               StaffLookup& staff,
                                                               mtqp::TrackLookup& track);
  ~HelpdeskServer();

  // "HOST:PORT" actually bound.
  std::string endpoint() const;
  void Stop();

 private:
  HelpdeskServer(const HelpdeskOptions& options, HelpdeskStore& store, StaffLookup& staff,
                 mtqp::TrackLookup& track);
  void Routes();

  struct Principal {
    User user;
    std::string csrf_token;  // empty for bearer tokens
    bool via_session = false;
  };
  // Unauthenticated if neither a valid session cookie nor a valid bearer token came along.
  absl::StatusOr<Principal> Authenticate(const httplib::Request& req);
  // Writes the audit record; false (and a 503 in `res`) if that failed.
  bool Audit(const Principal& who, const httplib::Request& req, absl::string_view action,
             const std::string& query, int64_t results, absl::string_view outcome,
             httplib::Response& res);

  void Login(const httplib::Request& req, httplib::Response& res);
  void Logout(const httplib::Request& req, httplib::Response& res);
  void SessionInfo(const httplib::Request& req, httplib::Response& res);
  void Search(const httplib::Request& req, httplib::Response& res);
  void Timeline(const httplib::Request& req, httplib::Response& res);
  void AuditTrail(const httplib::Request& req, httplib::Response& res);
  void Users(const httplib::Request& req, httplib::Response& res);
  void Track(const httplib::Request& req, httplib::Response& res);

  const HelpdeskOptions options_;
  HelpdeskStore& store_;
  StaffLookup& staff_;
  mtqp::TrackLookup& track_;
  LoginLimiter name_limiter_;
  LoginLimiter client_limiter_;
  LoginLimiter track_limiter_;
  std::unique_ptr<httplib::SSLServer> server_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace mtrk::gateway::helpdesk
