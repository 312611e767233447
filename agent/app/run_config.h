// RunConfig: settings of `mtrk-agent run` (tail forever) and `mtrk-agent backfill`, from one YAML
// file (STYLE §4) plus command-line overrides. Unknown keys are errors; durations are "200ms",
// "30s", "5m", "1h", "5d"; sizes are "64MiB", "1GiB", "4096". A plain immutable struct.
// deploy/agent.example.yaml shows every key; `mtrk-agent --print-defaults` prints them.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace mtrk::agent::app {

struct RunConfig {
  // collector:
  std::string collector;  // host:port of mtrk.v1.Ingest; required
  std::string ca_file;    // TLS when set: CA that signed the collector's certificate
  std::string cert_file;  // client certificate (the collector requires one under TLS)
  std::string key_file;
  uint32_t batch_events = 500;                  // events per spool record = per PushEvents
  absl::Duration deadline = absl::Seconds(10);  // per PushEvents call
  absl::Duration initial_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(10);  // collector down: retry at least this often
  // log:
  std::string log_path;  // the file syslog writes; required for run
  // Where rotation moves it (names or glob patterns), besides the rotated-looking siblings
  // "<log_path><sep><digits>" (mail.log.1, maillog-20261123), which are always looked at.
  std::vector<std::string> rotated;
  std::string timezone = "UTC";  // of RFC 3164 timestamps
  absl::TimeZone zone = absl::UTCTimeZone();
  uint64_t max_line_bytes = 64 * 1024;  // longer lines are skipped and counted
  // Without inotify (or as a safety net with it): how often to look at EOF.
  absl::Duration poll_interval = absl::Milliseconds(200);
  bool inotify = true;  // wake on writes and rotations at once; polling stays the fallback
  // After a rename+create rotation, how long the old file must be quiet before the agent
  // leaves it: rsyslog writes it until logrotate's postrotate HUP (tail::FollowerOptions).
  absl::Duration rotate_grace = absl::Seconds(1);
  // postfix:
  std::string reporting_mta;  // empty: each line's syslog host
  std::vector<std::string> tracked_next_hops;
  absl::Duration max_queue_lifetime = absl::Hours(5 * 24);
  // Messages with no line for this long (log time) are ended: cleanup rejects, lost "removed".
  absl::Duration idle_eviction = absl::Hours(6);
  // spool:
  std::string spool_path = "/var/lib/mtrk-agent/spool.db";
  uint64_t spool_max_bytes = 1ull << 30;              // full: stop reading the log, never drop
  absl::Duration commit_interval = absl::Seconds(1);  // events + checkpoint, one fsync
  // metrics:
  std::string metrics_listen;  // host:port of the Prometheus text endpoint; empty: none
};

// Parses YAML text. InvalidArgument names the bad key or value.
absl::StatusOr<RunConfig> ParseRunConfig(const std::string& yaml);
// Reads and parses a file.
absl::StatusOr<RunConfig> LoadRunConfig(const std::string& path);
// Applies "--collector X", "--log-path X", "--spool-path X", "--metrics-listen X",
// "--spool-max-bytes X" (also --flag=X); other arguments are returned, in order.
absl::StatusOr<std::vector<std::string>> ApplyOverrides(std::span<const std::string> args,
                                                        RunConfig* config);
// Required keys present, files named exist (checked by the caller at start).
absl::Status ValidateRunConfig(const RunConfig& config, bool need_log);
// The defaults as YAML (--print-defaults).
std::string DefaultsYaml();

absl::StatusOr<absl::Duration> ParseDurationText(const std::string& s);
absl::StatusOr<uint64_t> ParseSizeText(const std::string& s);

}  // namespace mtrk::agent::app
