// `mtrk-agent backfill FILE...`: replays old logs (plain or gzip, e.g. mail.log.3.gz ..
// mail.log.1 mail.log) through the same LinePipeline as `run`, so the events and their ids are
// the live tail's: the collector drops what it already has, and running backfill twice, or over
// what the tail has read, stores nothing twice. Files are read oldest first: names ending in .N
// or .N.gz go by N descending, the others after them in the order given.
// Progress (lines, MiB, rate, ETA over the files' on-disk bytes) goes to stderr only if it is a
// terminal. Events are pushed every batch_events*4 and at the end (after Flush); a failed push
// ends the run with its status (re-running is safe).
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "agent/app/agent_metrics.h"
#include "agent/app/run_config.h"

namespace mtrk::agent::app {

// The order backfill reads `files` in.
std::vector<std::string> BackfillOrder(std::vector<std::string> files);

absl::Status RunBackfill(const RunConfig& config, const std::vector<std::string>& files,
                         const std::atomic<bool>& stop, AgentMetrics& metrics);

}  // namespace mtrk::agent::app
