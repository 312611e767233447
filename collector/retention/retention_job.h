// RetentionJob: expires tracking data by dropping whole day partitions of hop_events (never row
// by row: a DROP is instant and leaves no bloat).
//
// Policy (RFC 3885 §3.1, DIGEST checklist 28-30): a message's data is kept for its MTRK timeout
// if it asked for one, capped at `max_retention`, else for `default_retention` (10 days; RFC 3885
// asks 8-10), never less than one day; counted from when the message was first seen at the MTA.
// A day partition is dropped once every message in it has expired, i.e. at
// day end + the longest retention any of its messages gets. A partition that holds a message
// still queued (a recipient with only `delayed` hops whose retries have not run out) is kept
// whole until that message ends: the RFC forbids expiring a queued message, and keeping its day
// is simpler and safer than moving rows between partitions.
// XXX: one long-deferred message thus keeps its whole day for up to the queue lifetime (5 days
// by default) beyond retention.
//
// Pure policy over the store's partition API, with the clock injected: RunOnce(now). Run it
// periodically (RetentionRunner in the collector); thread-compatible.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "collector/store/event_store.h"

namespace mtrk::collector::retention {

inline constexpr absl::Duration kMinRetention = absl::Hours(24);  // RFC 3885 §3.1: MUST

struct RetentionPolicy {
  absl::Duration default_retention = absl::Hours(10 * 24);  // no MTRK timeout given
  absl::Duration max_retention = absl::Hours(10 * 24);      // cap on a requested timeout
};

// InvalidArgument if a duration is under kMinRetention or default exceeds max.
absl::Status ValidatePolicy(const RetentionPolicy& policy);

// How long a message with this MTRK timeout (0: none) is kept.
absl::Duration RetentionFor(const RetentionPolicy& policy, int64_t mtrk_timeout_s);

struct RetentionResult {
  int examined = 0;
  int dropped = 0;
  int kept_queued = 0;  // expired but holding a still-queued message
};

class RetentionJob {
 public:
  RetentionJob(store::EventStore& store, RetentionPolicy policy) : store_(store), policy_(policy) {}

  // One pass at time `now`. Stops at the first store error (the next pass retries).
  absl::StatusOr<RetentionResult> RunOnce(absl::Time now);

 private:
  store::EventStore& store_;
  const RetentionPolicy policy_;
};

}  // namespace mtrk::collector::retention
