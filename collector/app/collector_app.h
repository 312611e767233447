// The mtrk-collector program: flags, migrations, store, gRPC server, signals. main.cc only calls
// RunCollector.
//
//   mtrk-collector --listen HOST:PORT --db CONNINFO [--migrations DIR] [--log-level LEVEL]
//
// At start it applies missing migrations (refusing to run on a schema newer than it knows),
// connects the store, serves Ingest and Lookup, and prints one line to stdout once ready:
//   mtrk-collector listening on HOST:PORT
// (with the chosen port when PORT is 0). Logs go to stderr. SIGTERM or SIGINT: stop accepting,
// finish running calls (up to 5 s), exit 0.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "collector/retention/retention_job.h"

namespace mtrk::collector::app {

struct CollectorFlags {
  std::string listen;          // HOST:PORT
  std::string db;              // libpq conninfo; a secret-bearing value: never logged
  std::string migrations_dir;  // empty: DefaultMigrationsDirs()
  std::string log_level = "info";
  std::string log_format = "text";  // text, or json: one object per line for log pipelines
  // Mutual TLS for Ingest and Lookup when all three are given: clients need a certificate
  // signed by tls_client_ca.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  // Retention (collector/retention): whole days, RFC 3885 §3.1 (default 8-10 days, never under
  // 1); a requested MTRK timeout is capped at the maximum. Interval 0 disables the job (another
  // collector on the same database runs it).
  std::string retention_days = "10";
  std::string retention_max_days = "10";
  std::string retention_interval_s = "3600";
  bool help = false;
};

inline constexpr char kCollectorUsage[] =
    "usage: mtrk-collector --listen HOST:PORT --db CONNINFO [--migrations DIR] "
    "[--log-level trace|debug|info|warn|error]\n"
    "       [--log-format text|json]\n"
    "       [--tls-cert FILE --tls-key FILE --tls-client-ca FILE]\n"
    "       [--retention-days N] [--retention-max-days N] [--retention-interval-s N]\n";

struct RetentionSettings {
  retention::RetentionPolicy policy;
  absl::Duration interval;
};
// InvalidArgument for a malformed value or a policy under one day (RFC 3885 §3.1).
absl::StatusOr<RetentionSettings> RetentionFromFlags(const CollectorFlags& flags);

// Accepts "--flag value" and "--flag=value". InvalidArgument for unknown or missing flags.
absl::StatusOr<CollectorFlags> ParseCollectorFlags(const std::vector<std::string>& args);

// Where the migrations are looked for when --migrations is not given, in order: the source
// tree this binary was built from, <exe dir>/../share/mtrk/sql/migrations and
// <exe dir>/sql/migrations, then /usr/share/mtrk/sql/migrations.
std::vector<std::string> DefaultMigrationsDirs();

// Runs until SIGTERM/SIGINT. Returns the process exit code: 0 after a clean shutdown, 1 if
// start-up failed, 2 for bad flags.
int RunCollector(int argc, char** argv);

}  // namespace mtrk::collector::app
