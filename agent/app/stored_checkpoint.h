// StoredCheckpoint: where a tailing agent resumes after a restart, as one line of text in the
// spool (Spool::checkpoint), committed with the events it covers:
//   "tail3 <dev:ino:len:hash> <offset> <latest> <resume> [skip key]..."
// with <latest> and <resume> in unix seconds, 0 for none (LinePipeline::Checkpoint). The older
// "tail2" form (no <resume>) is still read, without it, so that an upgraded agent resumes where
// the old one stopped.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "agent/app/line_pipeline.h"
#include "agent/tail/follower.h"

namespace mtrk::agent::app {

struct StoredCheckpoint {
  tail::TailCheckpoint tail;          // the file and offset the replay starts at
  LinePipeline::Checkpoint pipeline;  // all but its position, which `tail` holds
};

std::string FormatStoredCheckpoint(const StoredCheckpoint& checkpoint);

// InvalidArgument (quoting the start of the text) when it is neither form.
absl::StatusOr<StoredCheckpoint> ParseStoredCheckpoint(absl::string_view text);

}  // namespace mtrk::agent::app
