// PgEnvironment: one private PostgreSQL cluster per test binary, for tests labelled `pg`.
//
// The first Get() runs scripts/pg-local.sh (found relative to the working directory, which
// ctest sets to the repo root, else in the source tree this was built from) on a free loopback
// port, in a fresh directory under /tmp that the postgres user can reach (initdb runs as postgres
// when we are root), with fsync off. The cluster is stopped and its directory removed at exit.
// XXX: a test binary that crashes leaves its cluster running; `pg-local.sh stop DIR` cleans up.
//
// NewDatabase() clones a template migrated with sql/migrations (recorded in schema_migrations
// as the collector's migrator does), so each test gets its own fresh, migrated database.
// Thread-safe.
#pragma once

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace mtrk::test {

class PgDatabase {
 public:
  PgDatabase() = default;
  const std::string& name() const { return name_; }
  // libpq conninfo: "host=127.0.0.1 port=N user=postgres dbname=NAME".
  const std::string& conninfo() const { return conninfo_; }
  // pg_terminate_backend() for every session on this database: simulates a server restart.
  absl::Status TerminateBackends() const;

 private:
  friend class PgEnvironment;
  std::string name_;
  std::string conninfo_;
  std::string admin_conninfo_;
};

class PgEnvironment {
 public:
  // Starts the cluster on first use. If that failed, every NewDatabase() returns the error.
  static PgEnvironment& Get();

  // A fresh database with the schema of sql/migrations applied.
  absl::StatusOr<PgDatabase> NewDatabase();
  // A fresh database without any schema (for migration tests).
  absl::StatusOr<PgDatabase> NewEmptyDatabase();

  // Superuser conninfo for database "postgres"; empty if the cluster did not start.
  const std::string& admin_conninfo() const { return admin_conninfo_; }

 private:
  PgEnvironment();
  absl::Status Start();
  absl::Status CreateTemplate() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<PgDatabase> Create(bool migrated);
  void Stop();

  std::string repo_root_;
  std::string dir_;  // the temp directory holding the cluster
  std::string admin_conninfo_;
  std::string host_port_;  // "host=127.0.0.1 port=N user=postgres"
  absl::Status start_status_;
  absl::Mutex mu_;
  bool template_ready_ ABSL_GUARDED_BY(mu_) = false;
  int next_database_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace mtrk::test
