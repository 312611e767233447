// mtrk-agent: reads Postfix logs, pushes hop events to the collector. Wiring is in app/.
#include <iostream>
#include <span>

#include "absl/time/clock.h"
#include "agent/app/agent_app.h"
#include "agent/app/agent_config.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

int main(int argc, char** argv) {
  // Logs go to stderr: stdout carries --dry-run's JSON lines.
  spdlog::set_default_logger(spdlog::stderr_color_mt("mtrk-agent"));
  const std::span<const char* const> args(const_cast<const char* const*>(argv) + 1,
                                          static_cast<size_t>(argc > 0 ? argc - 1 : 0));
  for (const char* arg : args) {
    if (std::string_view(arg) == "--help" || std::string_view(arg) == "-h") {
      std::cout << mtrk::agent::app::Usage();
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
