#include "mtqp-gateway/helpdesk/helpdesk_store.h"

#include <pqxx/pqxx>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace mtrk::gateway::helpdesk {
namespace {

// The only place that knows libpqxx's exception classes. Call inside a catch block.
absl::Status CurrentPgError(absl::string_view what) {
  try {
    throw;
  } catch (const pqxx::broken_connection& e) {
    return absl::UnavailableError(absl::StrCat(
        "helpdesk db: ", what, ": no connection: ", absl::StripTrailingAsciiWhitespace(e.what())));
  } catch (const pqxx::unique_violation& e) {
    return absl::AlreadyExistsError(absl::StrCat("helpdesk db: ", what, ": already exists"));
  } catch (const pqxx::undefined_table& e) {
    return absl::FailedPreconditionError(
        absl::StrCat("helpdesk db: ", what, ": helpdesk tables missing (apply 0010_helpdesk.sql)"));
  } catch (const pqxx::sql_error& e) {
    return absl::InternalError(
        absl::StrCat("helpdesk db: ", what, ": SQLSTATE ", e.sqlstate(), ": ", e.what()));
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("helpdesk db: ", what, ": ", e.what()));
  }
}

constexpr char kUserColumns[] =
    "u.id, u.name, u.role, array_to_string(u.domains, ','), u.password_hash, u.disabled";

User UserFromRow(const pqxx::row& row) {
  User u;
  u.id = row[0].as<int64_t>();
  u.name = row[1].as<std::string>();
  u.role = ParseRole(row[2].as<std::string>()).value_or(Role::kHelpdesk);
  const std::string domains = row[3].as<std::string>();
  if (!domains.empty()) u.domains = absl::StrSplit(domains, ',');
  u.password_hash = row[4].as<std::string>();
  u.disabled = row[5].as<bool>();
  return u;
}

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

}  // namespace

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kHelpdesk:
      return "helpdesk";
    case Role::kDomainAdmin:
      return "domain_admin";
    case Role::kAuditor:
      return "auditor";
    case Role::kAdmin:
      return "admin";
  }
  return "helpdesk";
}

std::optional<Role> ParseRole(absl::string_view name) {
  for (Role r : {Role::kHelpdesk, Role::kDomainAdmin, Role::kAuditor, Role::kAdmin}) {
    if (name == RoleName(r)) return r;
  }
  if (name == "domain-admin") return Role::kDomainAdmin;
  return std::nullopt;
}

bool IsValidUserName(absl::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = absl::ascii_islower(static_cast<unsigned char>(c)) ||
                    absl::ascii_isdigit(static_cast<unsigned char>(c)) ||
                    (i > 0 && (c == '.' || c == '_' || c == '-'));
    if (!ok) return false;
  }
  return true;
}

bool IsValidDomain(absl::string_view domain) {
  if (domain.empty() || domain.size() > 253) return false;
  for (absl::string_view label : absl::StrSplit(domain, '.')) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (const char c : label) {
      if (!absl::ascii_islower(static_cast<unsigned char>(c)) &&
          !absl::ascii_isdigit(static_cast<unsigned char>(c)) && c != '-') {
        return false;
      }
    }
  }
  return true;
}

struct HelpdeskStore::PgConn {
  explicit PgConn(const std::string& conninfo) : c(conninfo) {}
  pqxx::connection c;
};

HelpdeskStore::HelpdeskStore(std::string conninfo) : conninfo_(std::move(conninfo)) {}
HelpdeskStore::~HelpdeskStore() = default;

HelpdeskStore::PgConn& HelpdeskStore::Conn() {
  if (conn_ == nullptr || !conn_->c.is_open()) conn_ = std::make_unique<PgConn>(conninfo_);
  return *conn_;
}

absl::StatusOr<std::unique_ptr<HelpdeskStore>> HelpdeskStore::Connect(const std::string& conninfo) {
  std::unique_ptr<HelpdeskStore> store(new HelpdeskStore(conninfo));
  absl::MutexLock lock(&store->mu_);
  try {
    pqxx::work txn(store->Conn().c);
    txn.exec("SELECT 1 FROM helpdesk_users, helpdesk_audit_log LIMIT 0");
    txn.commit();
  } catch (...) {
    store->conn_.reset();
    return CurrentPgError("connect");
  }
  return store;
}

absl::StatusOr<int64_t> HelpdeskStore::AddUser(const std::string& name, Role role,
                                               const std::vector<std::string>& domains,
                                               const std::string& password_hash) {
  if (!IsValidUserName(name)) {
    return absl::InvalidArgumentError("user name: want [a-z0-9][a-z0-9._-]{0,63}");
  }
  for (const std::string& d : domains) {
    if (!IsValidDomain(d)) return absl::InvalidArgumentError("domain: not a lower-case DNS name");
  }
  if ((role == Role::kDomainAdmin) == domains.empty()) {
    return absl::InvalidArgumentError("domains: required for domain_admin, refused otherwise");
  }
  absl::MutexLock lock(&mu_);
  try {
    pqxx::work txn(Conn().c);
    const pqxx::result r = txn.exec_params(
        "INSERT INTO helpdesk_users (name, role, domains, password_hash) "
        "VALUES ($1, $2, $3::text[], $4) RETURNING id",
        name, std::string(RoleName(role)), absl::StrCat("{", absl::StrJoin(domains, ","), "}"),
        password_hash);
    txn.commit();
    return r[0][0].as<int64_t>();
  } catch (...) {
    conn_.reset();
    return CurrentPgError("add user");
  }
}

absl::Status HelpdeskStore::SetPassword(const std::string& name, const std::string& hash) {
  absl::MutexLock lock(&mu_);
  try {
    pqxx::work txn(Conn().c);
    const pqxx::result r =
        txn.exec_params("UPDATE helpdesk_users SET password_hash = $2 WHERE name = $1", name, hash);
    // A new password ends every session of the old one.
    txn.exec_params(
        "DELETE FROM helpdesk_sessions WHERE user_id IN "
        "(SELECT id FROM helpdesk_users WHERE name = $1)",
        name);
    txn.commit();
    if (r.affected_rows() == 0) return absl::NotFoundError("helpdesk db: no such user");
    return absl::OkStatus();
  } catch (...) {
    conn_.reset();
    return CurrentPgError("set password");
  }
}

absl::Status HelpdeskStore::SetDisabled(const std::string& name, bool disabled) {
  absl::MutexLock lock(&mu_);
  try {
    pqxx::work txn(Conn().c);
    const pqxx::result r =
        txn.exec_params("UPDATE helpdesk_users SET disabled = $2 WHERE name = $1", name, disabled);
    txn.commit();
    if (r.affected_rows() == 0) return absl::NotFoundError("helpdesk db: no such user");
    return absl::OkStatus();
  } catch (...) {
    conn_.reset();
    return CurrentPgError("disable user");
  }
}

absl::StatusOr<User> HelpdeskStore::FindUser(const std::string& name) {
  absl::MutexLock lock(&mu_);
  try {
    pqxx::work txn(Conn().c);
    const pqxx::result r = txn.exec_params(
        absl::StrCat("SELECT ", kUserColumns, " FROM helpdesk_users u WHERE u.name = $1"), name);
    txn.commit();
    if (r.empty()) return absl::NotFoundError("helpdesk db: no such user");
    return UserFromRow(r[0]);
  } catch (...) {
    conn_.reset();
    return CurrentPgError("find user");
  }
}

absl::StatusOr<std::vector<User>> HelpdeskStore::ListUsers() {
  absl::MutexLock lock(&mu_);
  try {
    pqxx::work txn(Conn().c);
    const pqxx::result r =
        txn.exec(absl::StrCat("SELECT ", kUserColumns, " FROM helpdesk_users u ORDER BY u.name"));
    txn.commit();
    std::vector<User> users;
    for (const pqxx::row& row : r) users.push_back(UserFromRow(row));
    return users;
  } catch (...) {
    conn_.reset();
    return CurrentPgError("list users");
  }
}

absl::Status HelpdeskStore::CreateSession(int64_t user_id, const std::string& token_sha256,
                                          const std::string& csrf_token, absl::Time expires) {
  absl::MutexLock lock(&mu_);
  try {
    pqxx::work txn(Conn().c);
    txn.exec("DELETE FROM helpdesk_sessions WHERE expires_at < now()");
    txn.exec_params(
        "INSERT INTO helpdesk_sessions (token_sha256, user_id, csrf_token, expires_at) "
        "VALUES ($1, $2, $3, to_timestamp($4::double precision / 1e6))",
        token_sha256, user_id, csrf_token, Micros(expires));
    txn.commit();
    return absl::OkStatus();
  } catch (...) {
    conn_.reset();
    return CurrentPgError("create session");
  }
}

absl::StatusOr<User> HelpdeskStore::FindSession(const std::string& token_sha256,
                                                std::string* csrf_token) {
  absl::MutexLock lock(&mu_);
  try {
    pqxx::work txn(Conn().c);
    const pqxx::result r = txn.exec_params(
        absl::StrCat("SELECT ", kUserColumns,
                     ", s.csrf_token FROM helpdesk_sessions s JOIN helpdesk_users u ON "
                     "u.id = s.user_id WHERE s.token_sha256 = $1 AND s.expires_at > now() "
                     "AND NOT u.disabled"),
        token_sha256);
    txn.commit();
    if (r.empty()) return absl::NotFoundError("helpdesk db: no such session");
    *csrf_token = r[0][6].as<std::string>();
    return UserFromRow(r[0]);
  } catch (...) {
    conn_.reset();
    return CurrentPgError("find session");
  }
}

absl::Status HelpdeskStore::DeleteSession(const std::string& token_sha256) {
  absl::MutexLock lock(&mu_);
  try {
    pqxx::work txn(Conn().c);
    txn.exec_params("DELETE FROM helpdesk_sessions WHERE token_sha256 = $1", token_sha256);
    txn.commit();
    return absl::OkStatus();
  } catch (...) {
    conn_.reset();
    return CurrentPgError("delete session");
  }
}

absl::StatusOr<int64_t> HelpdeskStore::CreateApiToken(int64_t user_id,
                                                      const std::string& token_sha256,
                                                      const std::string& label,
                                                      std::optional<absl::Time> expires) {
  absl::MutexLock lock(&mu_);
  try {
    pqxx::work txn(Conn().c);
    const pqxx::result r =
        expires.has_value()
            ? txn.exec_params(
                  "INSERT INTO helpdesk_api_tokens (token_sha256, user_id, label, expires_at) "
                  "VALUES ($1, $2, $3, to_timestamp($4::double precision / 1e6)) RETURNING id",
                  token_sha256, user_id, label, Micros(*expires))
            : txn.exec_params(
                  "INSERT INTO helpdesk_api_tokens (token_sha256, user_id, label) "
                  "VALUES ($1, $2, $3) RETURNING id",
                  token_sha256, user_id, label);
    txn.commit();
    return r[0][0].as<int64_t>();
  } catch (...) {
    conn_.reset();
    return CurrentPgError("create api token");
  }
}

absl::Status HelpdeskStore::RevokeApiToken(int64_t id) {
  absl::MutexLock lock(&mu_);
  try {
    pqxx::work txn(Conn().c);
    const pqxx::result r = txn.exec_params(
        "UPDATE helpdesk_api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL",
        id);
    txn.commit();
    if (r.affected_rows() == 0) return absl::NotFoundError("helpdesk db: no such active token");
    return absl::OkStatus();
  } catch (...) {
    conn_.reset();
    return CurrentPgError("revoke api token");
  }
}

absl::StatusOr<User> HelpdeskStore::FindApiToken(const std::string& token_sha256) {
  absl::MutexLock lock(&mu_);
  try {
    pqxx::work txn(Conn().c);
    const pqxx::result r = txn.exec_params(
        absl::StrCat("SELECT ", kUserColumns,
                     " FROM helpdesk_api_tokens t JOIN helpdesk_users u ON u.id = t.user_id "
                     "WHERE t.token_sha256 = $1 AND t.revoked_at IS NULL AND "
                     "(t.expires_at IS NULL OR t.expires_at > now()) AND NOT u.disabled"),
        token_sha256);
    txn.commit();
    if (r.empty()) return absl::NotFoundError("helpdesk db: no such token");
    return UserFromRow(r[0]);
  } catch (...) {
    conn_.reset();
    return CurrentPgError("find api token");
  }
}

absl::Status HelpdeskStore::AppendAudit(const AuditRecord& a) {
  absl::MutexLock lock(&mu_);
  try {
    pqxx::work txn(Conn().c);
    txn.exec_params(
        "INSERT INTO helpdesk_audit_log (user_name, role, action, query, result_count, outcome, "
        "client) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        a.user_name, a.role, a.action, a.query, a.result_count, a.outcome, a.client);
    txn.commit();
    return absl::OkStatus();
  } catch (...) {
    conn_.reset();
    return CurrentPgError("append audit record");
  }
}

absl::StatusOr<std::vector<AuditRecord>> HelpdeskStore::ListAudit(int64_t before_id, int limit,
                                                                  const std::string& user_name) {
  absl::MutexLock lock(&mu_);
  try {
    pqxx::work txn(Conn().c);
    const pqxx::result r = txn.exec_params(
        "SELECT id, (extract(epoch FROM at) * 1e6)::bigint, user_name, role, action, query, "
        "result_count, outcome, client FROM helpdesk_audit_log "
        "WHERE ($1 = 0 OR id < $1) AND ($2 = '' OR user_name = $2) ORDER BY id DESC LIMIT $3",
        before_id, user_name, limit);
    txn.commit();
    std::vector<AuditRecord> out;
    for (const pqxx::row& row : r) {
      AuditRecord a;
      a.id = row[0].as<int64_t>();
      a.at = absl::FromUnixMicros(row[1].as<int64_t>());
      a.user_name = row[2].as<std::string>();
      a.role = row[3].as<std::string>();
      a.action = row[4].as<std::string>();
      a.query = row[5].as<std::string>();
      a.result_count = row[6].as<int64_t>();
      a.outcome = row[7].as<std::string>();
      a.client = row[8].as<std::string>();
      out.push_back(std::move(a));
    }
    return out;
  } catch (...) {
    conn_.reset();
    return CurrentPgError("list audit records");
  }
}

}  // namespace mtrk::gateway::helpdesk
