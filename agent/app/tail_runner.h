// `mtrk-agent run`: tail the configured log forever; spool; ship. Wiring of tail/, the line
// pipeline, spool/ and ship/ (see agent/README.md for the design and its crash argument).
//
// Reader (the calling thread): poll the follower, feed lines, and every commit_interval append
// the derived events (records of batch_events) and the new checkpoint to the spool in ONE
// transaction. The checkpoint is the pipeline's SafeCheckpoint, never past a line whose events
// are not spooled, nor past the start of a message still open. When the spool is full, the
// reader stops reading (backpressure) until the shipper drains it. Shipper: its own thread.
#pragma once

#include <atomic>

#include "absl/status/status.h"
#include "agent/app/agent_metrics.h"
#include "agent/app/run_config.h"

namespace mtrk::agent::app {

// Returns when `stop` becomes true (after a last commit), or on a fatal error (spool unusable,
// bad TLS files). A kill -9 at any moment loses nothing: see agent/README.md.
absl::Status RunTail(const RunConfig& config, const std::atomic<bool>& stop, AgentMetrics& metrics);

}  // namespace mtrk::agent::app
