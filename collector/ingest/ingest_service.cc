#include "collector/ingest/ingest_service.h"

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/model/hop_event_proto.h"
#include "common/net/grpc_status.h"
#include "spdlog/spdlog.h"

namespace mtrk::collector::ingest {

namespace {

struct InFlight {
  explicit InFlight(std::atomic<int>& n) : n_(n), count_(n.fetch_add(1) + 1) {}
  ~InFlight() { n_.fetch_sub(1); }
  std::atomic<int>& n_;
  const int count_;
};

bool Retryable(absl::StatusCode code) {
  return code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kAborted ||
         code == absl::StatusCode::kResourceExhausted;
}

}  // namespace

grpc::Status IngestService::PushEvents(grpc::ServerContext* context,
                                       const v1::PushEventsRequest* request,
                                       v1::PushEventsResponse* response) {
  const InFlight in_flight(in_flight_);
  if (in_flight.count_ > max_in_flight_) {
    context->AddTrailingMetadata("retry-after-ms", std::to_string(kRetryAfterMs));
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                        "ingest: collector busy, retry later");
  }
  // Validate all before storing any: a bad batch is rejected whole, naming the first bad event.
  absl::StatusOr<std::vector<model::HopEvent>> events =
      model::HopEventsFromProto(request->events());
  if (!events.ok()) {
    spdlog::warn("ingest: agent {} batch {} rejected: {}", request->agent_id(),
                 request->batch_sequence(), events.status().ToString());
    return net::ToGrpcStatus(events.status());
  }
  absl::StatusOr<int64_t> stored = store_.Append(*events);
  if (!stored.ok()) {  // the agent keeps the batch spooled and retries
    spdlog::warn("ingest: agent {} batch {} not stored: {}", request->agent_id(),
                 request->batch_sequence(), stored.status().ToString());
    if (Retryable(stored.status().code())) {
      context->AddTrailingMetadata("retry-after-ms", std::to_string(kRetryAfterMs));
    }
    return net::ToGrpcStatus(stored.status());
  }
  spdlog::debug("ingest: agent {} batch {}: {} events, {} new", request->agent_id(),
                request->batch_sequence(), events->size(), *stored);
  response->set_acked_sequence(request->batch_sequence());  // after COMMIT: frees spool space
  response->set_stored_events(static_cast<uint32_t>(*stored));
  return grpc::Status::OK;
}

}  // namespace mtrk::collector::ingest
