// TrackLookup backed by the collector's mtrk.v1.Lookup.Track (the gateway holds no database
// credentials; STYLE §1 least privilege). Thread-safe: gRPC stubs are.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
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

 private:
  std::unique_ptr<v1::Lookup::Stub> stub_;
  const absl::Duration deadline_;
};

}  // namespace mtrk::gateway::app
