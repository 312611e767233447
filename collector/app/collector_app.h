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

namespace mtrk::collector::app {

struct CollectorFlags {
  std::string listen;          // HOST:PORT
  std::string db;              // libpq conninfo; a secret-bearing value: never logged
  std::string migrations_dir;  // empty: DefaultMigrationsDirs()
  std::string log_level = "info";
  bool help = false;
};

inline constexpr char kCollectorUsage[] =
    "usage: mtrk-collector --listen HOST:PORT --db CONNINFO [--migrations DIR] "
    "[--log-level trace|debug|info|warn|error]\n";

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
