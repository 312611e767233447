#include "collector/store/pg/migrator.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <pqxx/connection>
#include <pqxx/transaction>
#include <sstream>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "collector/store/pg/pg_error.h"

namespace mtrk::collector::store {
namespace {

// Same key in every collector; hashtext() keeps it readable in pg_locks as one constant.
constexpr char kLockSql[] = "SELECT pg_advisory_xact_lock(hashtext('mtrk.schema_migrations'))";
constexpr char kLedgerSql[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())";

// "0001_init.sql" -> 1; nullopt for files that are not migrations.
std::optional<int> VersionOf(const std::string& file_name) {
  if (file_name.size() < 6 || !file_name.ends_with(".sql")) return std::nullopt;
  size_t digits = 0;
  while (digits < file_name.size() && absl::ascii_isdigit(file_name[digits])) ++digits;
  if (digits == 0 || digits >= file_name.size() || file_name[digits] != '_') return std::nullopt;
  int version = 0;
  if (!absl::SimpleAtoi(file_name.substr(0, digits), &version) || version <= 0) {
    return std::nullopt;
  }
  return version;
}

}  // namespace

absl::StatusOr<Migrator> Migrator::FromDirectory(const std::string& dir) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("migrations: cannot read directory '", dir, "': ", ec.message()));
  }
  std::vector<Migration> migrations;
  for (const std::filesystem::directory_entry& entry : it) {
    const std::string file_name = entry.path().filename().string();
    const std::optional<int> version = VersionOf(file_name);
    if (!version.has_value() || !entry.is_regular_file(ec)) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in.good() && !in.eof()) {
      return absl::InvalidArgumentError(
          absl::StrCat("migrations: cannot read '", entry.path().string(), "'"));
    }
    migrations.push_back(Migration{.version = *version, .name = file_name, .sql = text.str()});
  }
  if (migrations.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("migrations: no NNNN_name.sql files in '", dir, "'"));
  }
  return FromMigrations(std::move(migrations));
}

absl::StatusOr<Migrator> Migrator::FromMigrations(std::vector<Migration> migrations) {
  if (migrations.empty()) return absl::InvalidArgumentError("migrations: none given");
  std::sort(migrations.begin(), migrations.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("migrations: ", migrations[i].name, ": version must be positive"));
    }
    if (i > 0 && migrations[i].version == migrations[i - 1].version) {
      return absl::InvalidArgumentError(absl::StrCat("migrations: ", migrations[i - 1].name,
                                                     " and ", migrations[i].name,
                                                     " have the same version"));
    }
  }
  return Migrator(std::move(migrations));
}

absl::StatusOr<int> Migrator::Apply(const std::string& conninfo) const {
  std::string step = "migrations: connect";
  try {
    pqxx::connection conn(conninfo);
    int version = 0;
    for (const Migration& m : migrations_) {
      step = absl::StrCat("migrations: ", m.name);
      pqxx::work txn(conn);
      txn.exec(kLockSql);
      txn.exec(kLedgerSql);
      // Re-read under the lock: another collector may have migrated while we waited.
      version = txn.exec1("SELECT COALESCE(max(version), 0) FROM schema_migrations")[0].as<int>();
      if (version > latest_version()) {
        return absl::FailedPreconditionError(absl::StrCat("migrations: database schema version ",
                                                          version, " is newer than this binary's ",
                                                          latest_version()));
      }
      const bool applied =
          !txn.exec_params("SELECT 1 FROM schema_migrations WHERE version = $1", m.version).empty();
      if (applied) {
        txn.commit();
        continue;
      }
      txn.exec(m.sql);
      txn.exec_params("INSERT INTO schema_migrations (version) VALUES ($1)", m.version);
      txn.commit();
      version = std::max(version, m.version);
    }
    return version;
  } catch (...) {
    absl::Status status = CurrentPgErrorToStatus(step);
    if (step == "migrations: connect" && status.code() == absl::StatusCode::kInternal) {
      return absl::UnavailableError(status.message());
    }
    return status;
  }
}

}  // namespace mtrk::collector::store
