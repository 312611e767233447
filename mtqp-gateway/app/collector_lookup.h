// TrackLookup backed by the collector's mtrk.v1.Lookup.Track (the gateway holds no database
// credentials; STYLE §1 least privilege). A collector that fails (down, timing out, erring) is
// counted and logged at warn, rate-limited; "not found" is an answer, not a failure. Nothing
// about the request (ENVID, secret) is logged. Thread-safe: gRPC stubs are.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/log/rate_limited_log.h"
#include "common/net/grpc_tls.h"
#include "mtqp-gateway/mtqp/track_lookup.h"
#include "mtrk/v1/lookup.grpc.pb.h"

namespace mtrk::gateway::app {

class CollectorLookup : public mtqp::TrackLookup {
 public:
  // RFC 3887 §2.4 gives a chaining server 2 minutes in all; one collector call gets far less.
  static constexpr absl::Duration kDefaultDeadline = absl::Seconds(10);

  // `channel` is shared because gRPC's API hands channels out as shared_ptr.
  explicit CollectorLookup(std::shared_ptr<grpc::Channel> channel,
                           absl::Duration deadline = kDefaultDeadline);

  // A plain channel, for a collector on the same host or a private network.
  static std::unique_ptr<CollectorLookup> ConnectInsecure(const std::string& target);
  // A TLS channel verified against files.ca_file, presenting cert/key when given (a collector
  // may require client certificates). Errors name the unreadable file.
  static absl::StatusOr<std::unique_ptr<CollectorLookup>> ConnectTls(const std::string& target,
                                                                     const net::TlsFiles& files);

  // NotFound as the collector reports it (unknown ENVID or wrong secret); gRPC UNAVAILABLE and
  // DEADLINE_EXCEEDED map to the same absl codes.
  absl::StatusOr<std::vector<model::HopEvent>> Track(absl::string_view envid,
                                                     absl::string_view secret) override;

  // Track calls that failed for the collector's reasons (every code but NotFound and
  // InvalidArgument), so far.
  int64_t failures() const { return failures_.load(std::memory_order_relaxed); }

  // The channel, with the credentials it was made with: the helpdesk's staff lookups share it,
  // so they reach a collector that requires TLS client certificates as the MTQP lookups do.
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

 private:
  const std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Lookup::Stub> stub_;
  const absl::Duration deadline_;
  std::atomic<int64_t> failures_{0};
  mtrk::log::RateLimitedLog warnings_{5, absl::Minutes(1)};
};

}  // namespace mtrk::gateway::app
