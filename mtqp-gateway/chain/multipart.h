// Splitting a downstream TRACK answer into its MIME parts, so a chaining server passes them on
// unchanged (DIGEST §7 item 52). Pure.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mtrk::gateway::chain {

// `body` is a TRACK answer body (un-stuffed): a Content-Type header block, a blank line, then
// either a multipart/related body or a single message/tracking-status. Returns each part with
// its own header block, CRLF lines; InvalidArgument for anything else (a missing boundary, no
// closing delimiter, a part not message/tracking-status).
absl::StatusOr<std::vector<std::string>> SplitTrackingParts(absl::string_view body);

}  // namespace mtrk::gateway::chain
