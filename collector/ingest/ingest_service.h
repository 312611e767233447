// IngestService: mtrk.v1.Ingest over gRPC. It only translates: validate the whole batch, store
// it in one transaction, ack after COMMIT (STYLE §3: we push back rather than drop, and ack only
// what is durable). Thread-safe if the store is. Does not own the store.
#pragma once

#include <atomic>

#include "collector/store/event_store.h"
#include "mtrk/v1/ingest.grpc.pb.h"

namespace mtrk::collector::ingest {

// Batches stored at once; one more is refused with RESOURCE_EXHAUSTED (and trailing metadata
// "retry-after-ms") instead of queueing on the database pool: when PostgreSQL is slow the agents
// keep their spools and back off, so nothing is accepted that could then be dropped.
inline constexpr int kDefaultMaxBatchesInFlight = 8;
inline constexpr int kRetryAfterMs = 200;

class IngestService final : public v1::Ingest::Service {
 public:
  explicit IngestService(store::EventStore& store,
                         int max_batches_in_flight = kDefaultMaxBatchesInFlight)
      : store_(store), max_in_flight_(max_batches_in_flight) {}

  // INVALID_ARGUMENT: the batch is rejected whole, naming the first bad event and field; the
  // agent must not resend it. UNAVAILABLE/ABORTED/RESOURCE_EXHAUSTED: nothing stored, the agent
  // retries (with "retry-after-ms" trailing metadata as a hint).
  grpc::Status PushEvents(grpc::ServerContext* context, const v1::PushEventsRequest* request,
                          v1::PushEventsResponse* response) override;

 private:
  store::EventStore& store_;
  const int max_in_flight_;
  std::atomic<int> in_flight_{0};
};

}  // namespace mtrk::collector::ingest
