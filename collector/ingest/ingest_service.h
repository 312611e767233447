// IngestService: mtrk.v1.Ingest over gRPC. It only translates: validate the whole batch, store
// it in one transaction, ack after COMMIT (STYLE §3: we push back rather than drop, and ack only
// what is durable). Thread-safe if the store is. Does not own the store.
#pragma once

#include "collector/store/event_store.h"
#include "mtrk/v1/ingest.grpc.pb.h"

namespace mtrk::collector::ingest {

class IngestService final : public v1::Ingest::Service {
 public:
  explicit IngestService(store::EventStore& store) : store_(store) {}

  // INVALID_ARGUMENT: the batch is rejected whole, naming the first bad event and field; the
  // agent must not resend it. UNAVAILABLE/ABORTED: nothing stored, the agent retries.
  grpc::Status PushEvents(grpc::ServerContext* context, const v1::PushEventsRequest* request,
                          v1::PushEventsResponse* response) override;

 private:
  store::EventStore& store_;
};

}  // namespace mtrk::collector::ingest
