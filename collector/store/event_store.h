// EventStore: where the collector keeps hop events. PgEventStore (store/pg/) is the product.
// Implementations are thread-safe. Errors: Unavailable (database down, commit outcome unknown:
// retry, a resend is harmless), Aborted (serialization failure or deadlock: retry the batch),
// InvalidArgument (the database refused a value, so a retry cannot help), Internal.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/model/hop_event.h"

namespace mtrk::collector::store {

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

  // Every stored event whose Message-ID is exactly `message_id`. Unordered.
  virtual absl::StatusOr<std::vector<model::HopEvent>> FindByMessageId(
      absl::string_view message_id) = 0;
};

}  // namespace mtrk::collector::store
