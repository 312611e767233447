#include "collector/app/collector_app.h"

#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "collector/app/collector_server.h"
#include "collector/store/pg/migrator.h"
#include "collector/store/pg/pg_event_store.h"
#include "common/base/status_macros.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

#ifndef MTRK_SOURCE_DIR
#define MTRK_SOURCE_DIR ""
#endif

namespace mtrk::collector::app {
namespace {

absl::StatusOr<std::string> ResolveMigrationsDir(const CollectorFlags& flags) {
  if (!flags.migrations_dir.empty()) return flags.migrations_dir;
  const std::vector<std::string> candidates = DefaultMigrationsDirs();
  for (const std::string& dir : candidates) {
    std::error_code ec;
    if (std::filesystem::is_directory(dir, ec)) return dir;
  }
  return absl::FailedPreconditionError(
      "collector: no migrations directory found; give --migrations DIR");
}

// Blocks the shutdown signals in this thread and, since threads inherit the mask, in every
// thread started later (gRPC's): only sigwait in the main thread receives them.
sigset_t BlockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

absl::Status Serve(const CollectorFlags& flags, const sigset_t& signals) {
  MTRK_ASSIGN_OR_RETURN(const std::string migrations_dir, ResolveMigrationsDir(flags));
  MTRK_ASSIGN_OR_RETURN(const store::Migrator migrator,
                        store::Migrator::FromDirectory(migrations_dir));
  MTRK_ASSIGN_OR_RETURN(const int version, migrator.Apply(flags.db));
  spdlog::info("collector: database schema at version {} ({})", version, migrations_dir);

  MTRK_ASSIGN_OR_RETURN(std::unique_ptr<store::PgEventStore> store,
                        store::PgEventStore::Connect(flags.db, {}));
  MTRK_ASSIGN_OR_RETURN(std::unique_ptr<CollectorServer> server,
                        CollectorServer::Start(flags.listen, *store));
  spdlog::info("collector: serving Ingest and Lookup on {}", server->address());
  std::printf("mtrk-collector listening on %s\n", server->address().c_str());
  std::fflush(stdout);

  int signal = 0;
  sigwait(&signals, &signal);
  spdlog::info("collector: {} received, shutting down", signal == SIGTERM ? "SIGTERM" : "SIGINT");
  server->Shutdown(absl::Seconds(5));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CollectorFlags> ParseCollectorFlags(const std::vector<std::string>& args) {
  CollectorFlags flags;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string name = args[i];
    std::string value;
    bool has_value = false;
    if (const size_t eq = name.find('='); absl::StartsWith(name, "--") && eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    if (name == "--help" || name == "-h") {
      flags.help = true;
      continue;
    }
    std::string* target = nullptr;
    if (name == "--listen") {
      target = &flags.listen;
    } else if (name == "--db") {
      target = &flags.db;
    } else if (name == "--migrations") {
      target = &flags.migrations_dir;
    } else if (name == "--log-level") {
      target = &flags.log_level;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown argument '", name, "'"));
    }
    if (!has_value) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(absl::StrCat(name, " needs a value"));
      }
      value = args[++i];
    }
    *target = value;
  }
  if (flags.help) return flags;
  if (flags.listen.empty()) return absl::InvalidArgumentError("--listen HOST:PORT is required");
  if (flags.db.empty()) return absl::InvalidArgumentError("--db CONNINFO is required");
  if (spdlog::level::from_str(flags.log_level) == spdlog::level::off && flags.log_level != "off") {
    return absl::InvalidArgumentError(absl::StrCat("unknown --log-level '", flags.log_level, "'"));
  }
  return flags;
}

std::vector<std::string> DefaultMigrationsDirs() {
  std::vector<std::string> dirs;
  if (std::string(MTRK_SOURCE_DIR).size() > 0) {
    dirs.push_back(absl::StrCat(MTRK_SOURCE_DIR, "/sql/migrations"));
  }
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    dirs.push_back(
        (exe.parent_path() / "../share/mtrk/sql/migrations").lexically_normal().string());
    dirs.push_back((exe.parent_path() / "sql/migrations").string());
  }
  dirs.push_back("/usr/share/mtrk/sql/migrations");
  return dirs;
}

int RunCollector(int argc, char** argv) {
  const sigset_t signals = BlockShutdownSignals();  // before any thread exists
  auto logger = spdlog::stderr_color_mt("mtrk-collector");
  spdlog::set_default_logger(logger);

  absl::StatusOr<CollectorFlags> flags =
      ParseCollectorFlags(std::vector<std::string>(argv + 1, argv + argc));
  if (!flags.ok()) {
    std::fprintf(stderr, "mtrk-collector: %s\n%s", std::string(flags.status().message()).c_str(),
                 kCollectorUsage);
    return 2;
  }
  if (flags->help) {
    std::fputs(kCollectorUsage, stdout);
    return 0;
  }
  spdlog::set_level(spdlog::level::from_str(flags->log_level));

  const absl::Status status = Serve(*flags, signals);
  if (!status.ok()) {
    spdlog::error("collector: {}", status.ToString());
    return 1;
  }
  spdlog::info("collector: stopped");
  return 0;
}

}  // namespace mtrk::collector::app
