#include "agent/ship/collector_client.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/model/hop_event_proto.h"
#include "common/net/grpc_status.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace mtrk::agent::ship {

std::unique_ptr<CollectorClient> CollectorClient::Connect(const std::string& target,
                                                          CollectorClientOptions options) {
  std::shared_ptr<grpc::ChannelCredentials> credentials =
      options.credentials != nullptr ? options.credentials : grpc::InsecureChannelCredentials();
  return std::make_unique<CollectorClient>(grpc::CreateChannel(target, credentials),
                                           std::move(options));
}

CollectorClient::CollectorClient(std::shared_ptr<grpc::Channel> channel,
                                 CollectorClientOptions options)
    : stub_(v1::Ingest::NewStub(std::move(channel))), options_(std::move(options)) {}

absl::StatusOr<int64_t> CollectorClient::Push(std::span<const model::HopEvent> events) {
  int64_t stored = 0;
  const size_t batch_size = std::max<size_t>(1, options_.batch_size);
  for (size_t begin = 0; begin < events.size(); begin += batch_size) {
    const size_t n = std::min(batch_size, events.size() - begin);
    absl::StatusOr<int64_t> got = PushBatch(events.subspan(begin, n));
    if (!got.ok()) return got.status();
    stored += *got;
  }
  return stored;
}

absl::StatusOr<int64_t> CollectorClient::PushBatch(std::span<const model::HopEvent> batch) {
  v1::PushEventsRequest request;
  request.set_agent_id(options_.agent_id);
  request.set_batch_sequence(next_sequence_++);
  for (const model::HopEvent& e : batch) model::ToProto(e, request.add_events());

  absl::Duration backoff = options_.initial_backoff;
  absl::Status last;
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + options_.deadline));
    v1::PushEventsResponse response;
    last = net::FromGrpcStatus(stub_->PushEvents(&context, request, &response));
    if (last.ok()) return static_cast<int64_t>(response.stored_events());
    // A deadline is reported as DEADLINE_EXCEEDED: the commit outcome is unknown, and resending
    // is safe (event ids dedupe), so it is retried like UNAVAILABLE.
    const bool retryable = last.code() == absl::StatusCode::kUnavailable ||
                           last.code() == absl::StatusCode::kResourceExhausted ||
                           last.code() == absl::StatusCode::kDeadlineExceeded;
    if (!retryable || attempt == options_.max_attempts) break;
    ++retries_;
    // Full jitter: agents restarted together do not retry in lockstep.
    options_.sleep(absl::Uniform(bitgen_, 0.0, 1.0) * backoff);
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
  return absl::Status(last.code(), absl::StrCat("push to collector: batch of ", batch.size(),
                                                " events: ", last.message()));
}

}  // namespace mtrk::agent::ship
