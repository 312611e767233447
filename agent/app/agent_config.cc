#include "agent/app/agent_config.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace mtrk::agent::app {

std::string Usage() {
  return "usage: mtrk-agent --collector HOST:PORT [--reporting-mta FQDN]\n"
         "                  [--tracked-next-hop HOST_OR_IP]... [--max-queue-lifetime SECONDS]\n"
         "                  [--timezone ZONE] [--dry-run] FILE...\n"
         "Reads each Postfix log FILE once, turns it into hop events and pushes them to the\n"
         "collector (or, with --dry-run, prints them as JSON lines on stdout).\n";
}

absl::StatusOr<AgentConfig> ParseFlags(std::span<const char* const> args) {
  AgentConfig config;
  bool flags_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const absl::string_view arg = args[i];
    if (flags_done || !absl::StartsWith(arg, "--")) {
      config.files.emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_done = true;
      continue;
    }
    if (arg == "--dry-run") {
      config.dry_run = true;
      continue;
    }
    absl::string_view name = arg;
    std::string value;
    if (const size_t eq = arg.find('='); eq != absl::string_view::npos) {
      name = arg.substr(0, eq);
      value = std::string(arg.substr(eq + 1));
    } else {
      if (i + 1 >= args.size())
        return absl::InvalidArgumentError(absl::StrCat(name, " needs a value"));
      value = args[++i];
    }
    if (name == "--collector") {
      config.collector = value;
    } else if (name == "--reporting-mta") {
      config.reporting_mta = value;
    } else if (name == "--tracked-next-hop") {
      if (value.empty()) return absl::InvalidArgumentError("--tracked-next-hop: empty");
      config.tracked_next_hops.push_back(absl::AsciiStrToLower(value));
    } else if (name == "--max-queue-lifetime") {
      int64_t seconds = 0;
      if (!absl::SimpleAtoi(value, &seconds) || seconds <= 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("--max-queue-lifetime: not a positive number of seconds: '", value, "'"));
      }
      config.max_queue_lifetime = absl::Seconds(seconds);
    } else if (name == "--timezone") {
      if (!absl::LoadTimeZone(value, &config.zone)) {
        return absl::InvalidArgumentError(absl::StrCat("--timezone: unknown zone '", value, "'"));
      }
      config.timezone = value;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag ", name));
    }
  }
  if (config.files.empty()) return absl::InvalidArgumentError("no log FILE given");
  if (config.collector.empty() && !config.dry_run) {
    return absl::InvalidArgumentError("--collector is required (or --dry-run)");
  }
  return config;
}

}  // namespace mtrk::agent::app
