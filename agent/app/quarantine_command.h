// `mtrk-agent quarantine list|requeue --config FILE`: the batches the collector refused as
// invalid (kept in the spool's quarantine table, see spool/spool.h), and putting them back in
// the queue once the collector is fixed. Runs with the agent stopped: the spool admits one
// process at a time, so against a running agent it fails with FailedPrecondition and changes
// nothing.
#pragma once

#include <ostream>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "agent/app/run_config.h"

namespace mtrk::agent::app {

// `action`: "list" prints one line per quarantined batch and a total; "requeue" moves them all
// back to the queue (the agent sends them when it runs next) and prints how many events.
// InvalidArgument for another action.
absl::Status RunQuarantineCommand(const RunConfig& config, absl::string_view action,
                                  std::ostream& out);

}  // namespace mtrk::agent::app
