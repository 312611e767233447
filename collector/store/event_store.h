// EventStore: where the collector keeps hop events. PgEventStore (store/pg/) is the product.
// Implementations are thread-safe. Errors: Unavailable (database down, commit outcome unknown:
// retry, a resend is harmless), Aborted (serialization failure or deadlock: retry the batch),
// InvalidArgument (the database refused a value, so a retry cannot help), Internal.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/model/hop_event.h"

namespace mtrk::collector::store {

// One message at one MTA: the hop_events.message_key plus its partition time (queue first seen),
// which lets PostgreSQL probe only the partitions that can hold it.
struct MessageRef {
  std::string message_key;
  absl::Time first_seen = absl::InfinitePast();
  friend bool operator==(const MessageRef&, const MessageRef&) = default;
};

// One step of linking (collector/link): the messages at any MTA, first seen in [from, to), whose
// queue_id is in `queue_ids`, or which have a hop whose next_queue_id is in `next_queue_ids`, or
// whose Message-ID is in `message_ids`, or whose client is in `bounce_clients` ("bounce:QID": a
// notification about QID). Empty strings never match.
struct LinkQuery {
  std::vector<std::string> queue_ids;
  std::vector<std::string> next_queue_ids;
  std::vector<std::string> message_ids;
  std::vector<std::string> bounce_clients;
  absl::Time from = absl::InfinitePast();
  absl::Time to = absl::InfiniteFuture();
};

// Staff search over messages at one MTA (lookup/staff_search.h turns hits into timelines). All
// given criteria must hold for one hop of the message; empty/unset criteria match anything.
struct SearchFilter {
  enum class Match { kExact, kPrefix, kSubstring };
  std::string sender;
  std::string recipient;                 // original or final recipient
  std::vector<std::string> message_ids;  // any of these exact forms ("<x@y>", "x@y")
  std::string envid;
  std::string queue_id;
  absl::Time from = absl::InfinitePast();  // first_seen >= from
  absl::Time to = absl::InfiniteFuture();  // first_seen < to
  Match match = Match::kExact;             // for sender and recipient
};

// A day partition of hop_events, as retention/ sees it.
struct PartitionInfo {
  absl::Time day_start;               // UTC midnight
  int64_t max_mtrk_timeout_s = 0;     // largest per-message timeout requested (0: none)
  bool any_default_timeout = false;   // some message asked for no timeout (the default applies)
  bool holds_queued_message = false;  // some recipient has only `delayed` hops, still retried
};

class EventStore {
 public:
  virtual ~EventStore() = default;

  // Atomic: all of the batch or nothing. Events whose id is already stored are skipped, so a
  // resend after a lost ack is harmless. Returns how many were new. Callers validate first
  // (model::ValidateHopEvent); the store relies on its invariants.
  virtual absl::StatusOr<int64_t> Append(std::span<const model::HopEvent> batch) = 0;

  // Every stored event with this ENVID (exact, case-sensitive), including expansion members and
  // events of other certifiers: filtering for an originator is lookup/'s job. Unordered.
  virtual absl::StatusOr<std::vector<model::HopEvent>> FindByEnvid(absl::string_view envid) = 0;

  // The messages (at one MTA each) that carry this ENVID: what FindByEnvid's events belong to,
  // without reading them (Track links from these and reads every hop once). Ordered by
  // (first_seen, message_key); more than kMaxLookupEvents is ResourceExhausted.
  virtual absl::StatusOr<std::vector<MessageRef>> FindMessagesByEnvid(absl::string_view envid) {
    (void)envid;
    return absl::UnimplementedError("event store: FindMessagesByEnvid");
  }

  // Every stored event whose Message-ID is exactly `message_id`. Unordered.
  virtual absl::StatusOr<std::vector<model::HopEvent>> FindByMessageId(
      absl::string_view message_id) = 0;

  // --- Linking and staff search. Defaults say Unimplemented so other stores need not have them.

  // Every hop of these messages (at most kMaxLookupEvents; more is ResourceExhausted).
  virtual absl::StatusOr<std::vector<model::HopEvent>> HopsOf(std::span<const MessageRef> refs) {
    (void)refs;
    return absl::UnimplementedError("event store: HopsOf");
  }
  // The messages one link step reaches (see LinkQuery), at most `limit`.
  virtual absl::StatusOr<std::vector<MessageRef>> FindLinked(const LinkQuery& query, int limit) {
    (void)query, (void)limit;
    return absl::UnimplementedError("event store: FindLinked");
  }
  // The message(s) stored under this key (normally one).
  virtual absl::StatusOr<std::vector<MessageRef>> FindMessage(absl::string_view message_key) {
    (void)message_key;
    return absl::UnimplementedError("event store: FindMessage");
  }
  // Messages with a hop matching `filter`, ordered by (first_seen, message_key), strictly after
  // `after` when given; at most `limit`.
  virtual absl::StatusOr<std::vector<MessageRef>> Search(const SearchFilter& filter,
                                                         const std::optional<MessageRef>& after,
                                                         int limit) {
    (void)filter, (void)after, (void)limit;
    return absl::UnimplementedError("event store: Search");
  }

  // --- Retention (collector/retention). Whole day partitions only.

  virtual absl::StatusOr<std::vector<absl::Time>> ListPartitionDays() {
    return absl::UnimplementedError("event store: ListPartitionDays");
  }
  // `now` decides whether a delayed recipient may still be retried (will_retry_until > now).
  virtual absl::StatusOr<PartitionInfo> DescribePartition(absl::Time day_start, absl::Time now) {
    (void)day_start, (void)now;
    return absl::UnimplementedError("event store: DescribePartition");
  }
  // Drops the day's partition (no-op if absent) and forgets it in the partition cache, so a late
  // event for that day recreates it.
  virtual absl::Status DropPartition(absl::Time day_start) {
    (void)day_start;
    return absl::UnimplementedError("event store: DropPartition");
  }
};

}  // namespace mtrk::collector::store
