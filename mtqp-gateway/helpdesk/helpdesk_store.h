// HelpdeskStore: staff accounts, sessions, API tokens and the append-only audit log in
// PostgreSQL (sql/migrations/0010_helpdesk.sql). The gateway touches these tables only; hop
// events stay behind the collector. libpqxx exceptions end in this module (helpdesk_store.cc).
//
// Thread-safe: one connection behind a mutex (staff lookups are a few per second at most; the
// scrypt KDF, not the database, bounds login throughput). A lost connection is reopened on the
// next call. Errors: Unavailable (database down), NotFound, AlreadyExists, FailedPrecondition
// (schema not migrated), Internal.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace mtrk::gateway::helpdesk {

enum class Role { kHelpdesk, kDomainAdmin, kAuditor, kAdmin };
absl::string_view RoleName(Role role);  // "helpdesk", "domain_admin", "auditor", "admin"
std::optional<Role> ParseRole(absl::string_view name);

struct User {
  int64_t id = 0;
  std::string name;
  Role role = Role::kHelpdesk;
  std::vector<std::string> domains;  // domain_admin only
  std::string password_hash;
  bool disabled = false;
};

struct AuditRecord {
  int64_t id = 0;  // assigned by the database
  absl::Time at;   // assigned by the database
  std::string user_name;
  std::string role;
  std::string action;
  std::string query;  // JSON
  int64_t result_count = 0;
  std::string outcome;  // ok | denied | error
  std::string client;
};

class HelpdeskStore {
 public:
  // Connects and checks that 0010_helpdesk.sql was applied (FailedPrecondition if not).
  static absl::StatusOr<std::unique_ptr<HelpdeskStore>> Connect(const std::string& conninfo);
  ~HelpdeskStore();

  // Names: [a-z0-9][a-z0-9._-]{0,63}; domains lower-case DNS names (InvalidArgument otherwise).
  absl::StatusOr<int64_t> AddUser(const std::string& name, Role role,
                                  const std::vector<std::string>& domains,
                                  const std::string& password_hash);
  absl::Status SetPassword(const std::string& name, const std::string& password_hash);
  absl::Status SetDisabled(const std::string& name, bool disabled);
  absl::StatusOr<User> FindUser(const std::string& name);
  absl::StatusOr<std::vector<User>> ListUsers();

  // Sessions and API tokens are looked up by the SHA-256 of the secret value.
  absl::Status CreateSession(int64_t user_id, const std::string& token_sha256,
                             const std::string& csrf_token, absl::Time expires);
  // NotFound if unknown, expired, or the user is disabled. Sets *csrf_token.
  absl::StatusOr<User> FindSession(const std::string& token_sha256, std::string* csrf_token);
  absl::Status DeleteSession(const std::string& token_sha256);

  absl::StatusOr<int64_t> CreateApiToken(int64_t user_id, const std::string& token_sha256,
                                         const std::string& label,
                                         std::optional<absl::Time> expires);
  absl::Status RevokeApiToken(int64_t id);
  // NotFound if unknown, revoked, expired, or the user is disabled.
  absl::StatusOr<User> FindApiToken(const std::string& token_sha256);

  absl::Status AppendAudit(const AuditRecord& record);
  // Newest first; records with id < before_id (0: from the newest); at most `limit`.
  absl::StatusOr<std::vector<AuditRecord>> ListAudit(int64_t before_id, int limit,
                                                     const std::string& user_name = "");

 private:
  explicit HelpdeskStore(std::string conninfo);
  struct PgConn;  // wraps pqxx::connection, which libpqxx 6 does not let us forward-declare
  // Opens the connection if needed. Call with mu_ held, inside try.
  PgConn& Conn() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string conninfo_;
  absl::Mutex mu_;
  std::unique_ptr<PgConn> conn_ ABSL_GUARDED_BY(mu_);
};

// Checks a domain_admin's domain: lower-case LDH labels separated by dots, at most 253 bytes.
bool IsValidDomain(absl::string_view domain);
bool IsValidUserName(absl::string_view name);

}  // namespace mtrk::gateway::helpdesk
