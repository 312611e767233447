// AgentConfig: the agent's settings, from the command line (walking skeleton; the YAML file of
// STYLE §4 comes with tailing). A plain immutable struct passed by const&.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace mtrk::agent::app {

struct AgentConfig {
  std::string collector;      // "host:port" of mtrk.v1.Ingest; required unless dry_run
  std::string reporting_mta;  // Reporting-MTA FQDN; empty: each line's syslog host
  std::vector<std::string> tracked_next_hops;  // relay hosts/IPs with their own agent or MTQP
  // Postfix maximal_queue_lifetime, for Will-Retry-Until of delayed recipients.
  absl::Duration max_queue_lifetime = absl::Hours(5 * 24);
  std::string timezone = "UTC";  // zone of RFC 3164 timestamps (they carry none)
  absl::TimeZone zone = absl::UTCTimeZone();
  bool dry_run = false;  // print events as JSON lines on stdout instead of pushing
  std::vector<std::string> files;
};

// Parses the arguments after argv[0]. Flags take "--flag VALUE" or "--flag=VALUE"; "--" ends
// flags. InvalidArgument names the bad flag.
absl::StatusOr<AgentConfig> ParseFlags(std::span<const char* const> args);

// The usage text for --help and errors.
std::string Usage();

}  // namespace mtrk::agent::app
