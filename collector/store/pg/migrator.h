// Migrator: brings a database's schema up to the newest sql/migrations/NNNN_name.sql.
//
// Forward-only. Each missing migration runs in its own transaction together with its row in
// schema_migrations, so a failure leaves the database at the previous version. Concurrent starts
// of several collectors serialize on a transaction-level advisory lock and re-check the ledger
// under it, so each migration is applied exactly once. Migration files must not contain
// BEGIN/COMMIT (nor statements that cannot run in a transaction block, such as CREATE INDEX
// CONCURRENTLY). Thread-compatible.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mtrk::collector::store {

struct Migration {
  int version = 0;   // from the file name's leading digits: 0001_init.sql is 1
  std::string name;  // the file name, for messages
  std::string sql;
};

class Migrator {
 public:
  // Reads every *.sql file in `dir` whose name starts with digits and '_'. InvalidArgument for a
  // missing directory, no migrations, or two files with the same version.
  static absl::StatusOr<Migrator> FromDirectory(const std::string& dir);
  // Migrations in any order; they are sorted by version. Versions must be unique and positive.
  static absl::StatusOr<Migrator> FromMigrations(std::vector<Migration> migrations);

  // The newest version this binary knows.
  int latest_version() const { return migrations_.back().version; }
  const std::vector<Migration>& migrations() const { return migrations_; }

  // Applies the missing migrations; returns the schema version afterwards. FailedPrecondition if
  // the database already has a version this binary does not know (a newer collector migrated
  // it); Unavailable if it cannot be reached; Internal (with the file name) if a migration fails.
  absl::StatusOr<int> Apply(const std::string& conninfo) const;

 private:
  explicit Migrator(std::vector<Migration> migrations) : migrations_(std::move(migrations)) {}
  std::vector<Migration> migrations_;  // sorted by version, not empty
};

}  // namespace mtrk::collector::store
