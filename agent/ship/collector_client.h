// CollectorClient: pushes hop events to the collector (mtrk.v1.Ingest/PushEvents).
//
// Events go in batches of at most `batch_size`; each call has a deadline. UNAVAILABLE and
// RESOURCE_EXHAUSTED (collector down or saturated, STYLE §3) are retried with exponential backoff
// and full jitter, up to `max_attempts` per batch; any other error, or running out of attempts,
// ends the push with that status. Resending is harmless: the collector drops events whose
// event_id it already stored. Thread-compatible. TLS when `credentials` is set (net::
// GrpcChannelCredentials: CA + client certificate for the collector's mutual TLS).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/model/hop_event.h"
#include "grpcpp/channel.h"
#include "grpcpp/security/credentials.h"
#include "mtrk/v1/ingest.grpc.pb.h"

namespace mtrk::agent::ship {

struct CollectorClientOptions {
  std::string agent_id = "mtrk-agent";
  size_t batch_size = 1000;                     // events per PushEvents call
  absl::Duration deadline = absl::Seconds(10);  // per call
  int max_attempts = 5;                         // per batch, first try included
  absl::Duration initial_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(5);
  // Null: an insecure channel (loopback, tests, the skeleton's scripts).
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // Injected so tests never sleep.
  std::function<void(absl::Duration)> sleep = [](absl::Duration d) { absl::SleepFor(d); };
};

class CollectorClient {
 public:
  // `target` is "host:port". Does not connect yet; the first push does.
  static std::unique_ptr<CollectorClient> Connect(const std::string& target,
                                                  CollectorClientOptions options);
  // shared_ptr: gRPC's own API shares channels between stubs.
  CollectorClient(std::shared_ptr<grpc::Channel> channel, CollectorClientOptions options);

  // Pushes all events in order; returns how many the collector stored as new. On error, the
  // batches before the failing one were stored (their ack came back).
  absl::StatusOr<int64_t> Push(std::span<const model::HopEvent> events);

  int64_t retries() const { return retries_; }

 private:
  absl::StatusOr<int64_t> PushBatch(std::span<const model::HopEvent> batch);

  std::unique_ptr<v1::Ingest::Stub> stub_;
  CollectorClientOptions options_;
  uint64_t next_sequence_ = 1;
  int64_t retries_ = 0;
  absl::BitGen bitgen_;
};

}  // namespace mtrk::agent::ship
