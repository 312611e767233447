#include "collector/app/collector_app.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "collector/app/collector_server.h"
#include "collector/retention/retention_runner.h"
#include "collector/store/pg/migrator.h"
#include "collector/store/pg/pg_event_store.h"
#include "common/base/status_macros.h"
#include "common/log/logging.h"
#include "common/net/grpc_tls.h"
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

// Test-only fault injection (tests/integration/collector_ingest_test.cc), never set in
// production: with MTRK_TEST_PAUSE_BEFORE_COMMIT=FILE every batch, once written, creates FILE
// and waits there forever instead of committing, so a test can kill the process between
// receiving a batch and COMMIT.
store::PgEventStore::Options StoreOptionsFromEnvironment() {
  store::PgEventStore::Options options;
  if (const char* marker = std::getenv("MTRK_TEST_PAUSE_BEFORE_COMMIT"); marker != nullptr) {
    spdlog::warn("collector: MTRK_TEST_PAUSE_BEFORE_COMMIT set: batches will never commit");
    options.before_commit = [path = std::string(marker)] {
      if (std::FILE* f = std::fopen(path.c_str(), "w"); f != nullptr) std::fclose(f);
      while (true) pause();
    };
  }
  return options;
}

absl::Status Serve(const CollectorFlags& flags, const sigset_t& signals) {
  MTRK_ASSIGN_OR_RETURN(const RetentionSettings retention, RetentionFromFlags(flags));
  MTRK_ASSIGN_OR_RETURN(const std::string migrations_dir, ResolveMigrationsDir(flags));
  MTRK_ASSIGN_OR_RETURN(const store::Migrator migrator,
                        store::Migrator::FromDirectory(migrations_dir));
  MTRK_ASSIGN_OR_RETURN(const int version, migrator.Apply(flags.db));
  spdlog::info("collector: database schema at version {} ({})", version, migrations_dir);

  MTRK_ASSIGN_OR_RETURN(std::unique_ptr<store::PgEventStore> store,
                        store::PgEventStore::Connect(flags.db, StoreOptionsFromEnvironment()));
  std::shared_ptr<grpc::ServerCredentials> credentials;
  if (!flags.tls_cert.empty()) {
    MTRK_ASSIGN_OR_RETURN(credentials, net::GrpcServerCredentials({.cert_file = flags.tls_cert,
                                                                   .key_file = flags.tls_key,
                                                                   .ca_file = flags.tls_client_ca},
                                                                  /*require_client_cert=*/true));
  }
  MTRK_ASSIGN_OR_RETURN(std::unique_ptr<CollectorServer> server,
                        CollectorServer::Start(flags.listen, *store, credentials));
  std::unique_ptr<retention::RetentionRunner> retention_runner;
  if (retention.interval > absl::ZeroDuration()) {
    retention_runner =
        std::make_unique<retention::RetentionRunner>(*store, retention.policy, retention.interval);
  }
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

absl::StatusOr<RetentionSettings> RetentionFromFlags(const CollectorFlags& flags) {
  int64_t days = 0, max_days = 0, interval_s = 0;
  if (!absl::SimpleAtoi(flags.retention_days, &days) ||
      !absl::SimpleAtoi(flags.retention_max_days, &max_days) ||
      !absl::SimpleAtoi(flags.retention_interval_s, &interval_s) || interval_s < 0 ||
      days > 36500 || max_days > 36500) {
    return absl::InvalidArgumentError("--retention-*: expected whole numbers");
  }
  RetentionSettings s;
  s.policy = {.default_retention = absl::Hours(24 * days),
              .max_retention = absl::Hours(24 * max_days)};
  s.interval = absl::Seconds(interval_s);
  MTRK_RETURN_IF_ERROR(retention::ValidatePolicy(s.policy));
  return s;
}

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
    } else if (name == "--log-format") {
      target = &flags.log_format;
    } else if (name == "--tls-cert") {
      target = &flags.tls_cert;
    } else if (name == "--tls-key") {
      target = &flags.tls_key;
    } else if (name == "--tls-client-ca") {
      target = &flags.tls_client_ca;
    } else if (name == "--retention-days") {
      target = &flags.retention_days;
    } else if (name == "--retention-max-days") {
      target = &flags.retention_max_days;
    } else if (name == "--retention-interval-s") {
      target = &flags.retention_interval_s;
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
  const int tls_given =
      !flags.tls_cert.empty() + !flags.tls_key.empty() + !flags.tls_client_ca.empty();
  if (tls_given != 0 && tls_given != 3) {
    return absl::InvalidArgumentError("--tls-cert, --tls-key and --tls-client-ca go together");
  }
  MTRK_RETURN_IF_ERROR(RetentionFromFlags(flags).status());
  MTRK_RETURN_IF_ERROR(mtrk::log::ValidateLevel(flags.log_level));
  mtrk::log::Format format;
  MTRK_RETURN_IF_ERROR(mtrk::log::ParseFormat(flags.log_format, &format));
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
  // Until the flags are read, errors go to stderr with the usage text.

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
  mtrk::log::LogOptions log_options{.level = flags->log_level};
  if (const absl::Status s = mtrk::log::ParseFormat(flags->log_format, &log_options.format);
      !s.ok() || !mtrk::log::InitLogging("mtrk-collector", log_options).ok()) {
    return 2;  // ParseCollectorFlags checked both: unreachable
  }

  const absl::Status status = Serve(*flags, signals);
  if (!status.ok()) {
    spdlog::error("collector: {}", status.ToString());
    return 1;
  }
  spdlog::info("collector: stopped");
  return 0;
}

}  // namespace mtrk::collector::app
