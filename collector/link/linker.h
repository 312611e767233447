// Linker: joins the hops of one message across the domain's MTAs into one timeline.
//
// Design (issue 5): linking happens at lookup time, over indexes, never at ingest. A message at
// one MTA is a node (hop_events.message_key + first_seen); edges are
//   - queued-as / forwarded-as: a hop's next_queue_id X ("250 Ok: queued as X" on the sending
//     MTA, "forwarded as X" for a local alias or .forward) -> the node(s) whose queue_id is X,
//     followed in both directions (B's node finds A through A's next_queue_id);
//   - bounce: a notification's client "bounce:Q" (set by the agent's correlator) -> the node
//     whose queue id is Q, both directions;
//   - Message-ID: nodes sharing a non-empty Message-ID (the fallback for hops whose queue ids
//     tell nothing, e.g. an MTA whose "queued as" reply was not logged).
// Because no link is stored, the order in which agents deliver events cannot matter (B's hops
// before A's link as soon as both are stored), and collectors need no coordination: there is
// nothing to race on, so two collectors cannot mislink. A step looks only at nodes first seen
// within [earliest first_seen - kLinkLookBack, latest event + kLinkLookAhead], which bounds the
// partitions probed and keeps a reused short queue id from joining mail days apart.
// XXX: a reused queue id within that window on another MTA would still join; checking the
// receiving MTA's client= against the sender's address needs a host->address map we don't have.
//
// Thread-safe if the store is.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "collector/store/event_store.h"
#include "common/model/hop_event.h"

namespace mtrk::collector::link {

// Most MTA-level messages in one timeline; beyond it the timeline is cut and marked truncated
// (a Message-ID shared by a mass mailing must not turn one lookup into a table scan).
inline constexpr int kMaxTimelineMessages = 200;
// Queue lifetime (Postfix default 5 d) plus a day: how far back a next hop's sender may be.
inline constexpr absl::Duration kLinkLookBack = absl::Hours(6 * 24);
inline constexpr absl::Duration kLinkLookAhead = absl::Hours(24);

struct Timeline {
  std::vector<store::MessageRef> messages;  // first the entry node (earliest first_seen)
  std::vector<model::HopEvent> hops;        // every hop, ordered by event time
  bool truncated = false;
};

// The link step that follows from `hops` (pure).
store::LinkQuery LinkQueryFor(std::span<const model::HopEvent> hops);

// The whole linked timeline containing `seeds` (seeds that are not linked to each other end up
// in one timeline all the same: callers pass the nodes of one message).
absl::StatusOr<Timeline> BuildTimeline(store::EventStore& store,
                                       std::span<const store::MessageRef> seeds);

// The node of a hop.
store::MessageRef RefOf(const model::HopEvent& hop);

}  // namespace mtrk::collector::link
