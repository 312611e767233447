// mtrk-agent: reads Postfix logs, pushes hop events to the collector. Wiring is in app/.
//
//   mtrk-agent --collector HOST:PORT [--dry-run] FILE...      read the files once (scripts)
//   mtrk-agent run --config FILE [overrides]                   tail forever (agent/README.md)
//   mtrk-agent backfill --config FILE [overrides] FILE...      replay rotated/.gz logs
//   mtrk-agent quarantine list|requeue --config FILE          refused batches (agent stopped)
//   mtrk-agent --check-config --config FILE | --print-defaults
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <span>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "agent/app/agent_app.h"
#include "agent/app/agent_config.h"
#include "agent/app/backfill_runner.h"
#include "agent/app/quarantine_command.h"
#include "agent/app/run_config.h"
#include "agent/app/tail_runner.h"
#include "common/log/logging.h"
#include "spdlog/spdlog.h"

namespace {

std::atomic<bool> g_stop{false};

extern "C" void OnStopSignal(int) { g_stop.store(true); }

constexpr char kRunUsage[] =
    "usage: mtrk-agent run --config FILE [--collector HOST:PORT] [--log-path FILE]\n"
    "                      [--spool-path FILE] [--spool-max-bytes SIZE] [--metrics-listen H:P]\n"
    "       mtrk-agent backfill --config FILE [overrides] FILE...   (plain or .gz)\n"
    "       mtrk-agent quarantine list|requeue --config FILE [--spool-path FILE]\n"
    "       mtrk-agent --check-config --config FILE\n"
    "       mtrk-agent --print-defaults\n";

// "--config FILE" (or =FILE) out of args; the rest are overrides. Empty config: defaults.
absl::StatusOr<mtrk::agent::app::RunConfig> LoadWithOverrides(std::vector<std::string> args,
                                                              std::vector<std::string>* rest) {
  std::string path;
  std::vector<std::string> others;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) {
      path = args[++i];
    } else if (args[i].rfind("--config=", 0) == 0) {
      path = args[i].substr(9);
    } else {
      others.push_back(args[i]);
    }
  }
  mtrk::agent::app::RunConfig config;
  if (!path.empty()) {
    absl::StatusOr<mtrk::agent::app::RunConfig> loaded = mtrk::agent::app::LoadRunConfig(path);
    if (!loaded.ok()) return loaded.status();
    config = *std::move(loaded);
  }
  absl::StatusOr<std::vector<std::string>> left = mtrk::agent::app::ApplyOverrides(others, &config);
  if (!left.ok()) return left.status();
  *rest = *std::move(left);
  return config;
}

int RunMode(const std::vector<std::string>& args, bool backfill) {
  std::vector<std::string> rest;
  absl::StatusOr<mtrk::agent::app::RunConfig> config = LoadWithOverrides(args, &rest);
  if (!config.ok()) {
    std::cerr << "mtrk-agent: " << config.status().message() << "\n" << kRunUsage;
    return 2;
  }
  if (!backfill && !rest.empty()) {
    std::cerr << "mtrk-agent: unexpected argument '" << rest[0] << "'\n" << kRunUsage;
    return 2;
  }
  if (absl::Status valid = mtrk::agent::app::ValidateRunConfig(*config, !backfill); !valid.ok()) {
    std::cerr << "mtrk-agent: " << valid.message() << "\n";
    return 2;
  }
  std::signal(SIGTERM, OnStopSignal);
  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGPIPE, SIG_IGN);
  mtrk::agent::app::AgentMetrics metrics;
  absl::Status status;
  if (backfill) {
    if (rest.empty()) {
      std::cerr << "mtrk-agent: backfill needs FILE...\n" << kRunUsage;
      return 2;
    }
    status = mtrk::agent::app::RunBackfill(*config, rest, g_stop, metrics);
  } else {
    status = mtrk::agent::app::RunTail(*config, g_stop, metrics);
  }
  if (!status.ok()) {
    spdlog::error("agent: {}", status.ToString());
    return 1;
  }
  return 0;
}

// `quarantine list|requeue`: the action, then --config and overrides (--spool-path).
int QuarantineMode(const std::vector<std::string>& args) {
  std::vector<std::string> rest;
  absl::StatusOr<mtrk::agent::app::RunConfig> config = LoadWithOverrides(args, &rest);
  if (!config.ok()) {
    std::cerr << "mtrk-agent: " << config.status().message() << "\n" << kRunUsage;
    return 2;
  }
  if (rest.size() != 1) {
    std::cerr << "mtrk-agent: quarantine needs one action, list or requeue\n" << kRunUsage;
    return 2;
  }
  const absl::Status status = mtrk::agent::app::RunQuarantineCommand(*config, rest[0], std::cout);
  if (!status.ok()) {
    std::cerr << "mtrk-agent: " << status.message() << "\n";
    return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Logs go to stderr: stdout carries --dry-run's JSON lines. SPDLOG_LEVEL=debug for more;
  // MTRK_LOG_FORMAT=json for one JSON object per line.
  mtrk::log::LogOptions log_options;
  if (const char* format = std::getenv("MTRK_LOG_FORMAT"); format != nullptr) {
    if (const absl::Status s = mtrk::log::ParseFormat(format, &log_options.format); !s.ok()) {
      std::cerr << "mtrk-agent: MTRK_LOG_FORMAT: " << s.message() << "\n";
      return 2;
    }
  }
  (void)mtrk::log::InitLogging("mtrk-agent", log_options);  // the default level is valid
  const std::vector<std::string> all(argv + (argc > 0 ? 1 : 0), argv + argc);
  if (!all.empty() && (all[0] == "run" || all[0] == "backfill")) {
    return RunMode(std::vector<std::string>(all.begin() + 1, all.end()), all[0] == "backfill");
  }
  if (!all.empty() && all[0] == "quarantine") {
    return QuarantineMode(std::vector<std::string>(all.begin() + 1, all.end()));
  }
  for (const std::string& arg : all) {
    if (arg == "--print-defaults") {
      std::cout << mtrk::agent::app::DefaultsYaml();
      return 0;
    }
    if (arg == "--check-config") {
      std::vector<std::string> args;
      for (const std::string& a : all) {
        if (a != "--check-config") args.push_back(a);
      }
      std::vector<std::string> rest;
      absl::StatusOr<mtrk::agent::app::RunConfig> config = LoadWithOverrides(args, &rest);
      absl::Status status =
          config.ok() ? mtrk::agent::app::ValidateRunConfig(*config, true) : config.status();
      if (status.ok() && !rest.empty()) {
        status = absl::InvalidArgumentError("unexpected argument '" + rest[0] + "'");
      }
      if (!status.ok()) {
        std::cerr << "mtrk-agent: " << status.message() << "\n";
        return 2;
      }
      std::cout << "mtrk-agent: config OK\n";
      return 0;
    }
  }
  const std::span<const char* const> args(const_cast<const char* const*>(argv) + 1,
                                          static_cast<size_t>(argc > 0 ? argc - 1 : 0));
  for (const char* arg : args) {
    if (std::string_view(arg) == "--help" || std::string_view(arg) == "-h") {
      std::cout << mtrk::agent::app::Usage() << kRunUsage;
      return 0;
    }
  }
  const absl::StatusOr<mtrk::agent::app::AgentConfig> config = mtrk::agent::app::ParseFlags(args);
  if (!config.ok()) {
    std::cerr << "mtrk-agent: " << config.status().message() << "\n" << mtrk::agent::app::Usage();
    return 2;
  }
  mtrk::agent::app::RunSummary summary;
  const absl::Status status = mtrk::agent::app::RunAgent(*config, absl::Now(), std::cout, &summary);
  std::cerr << mtrk::agent::app::FormatSummary(summary) << "\n";
  return status.ok() ? 0 : 2;
}
