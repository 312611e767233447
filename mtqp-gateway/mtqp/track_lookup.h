// TrackLookup: how the MTQP session asks for the tracking data of one message. The product
// implementation (app/collector_lookup.h) calls the collector over gRPC; tests use a fake.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/model/hop_event.h"

namespace mtrk::gateway::mtqp {

// Thread-safe: the server calls it from several worker threads at once.
class TrackLookup {
 public:
  virtual ~TrackLookup() = default;
  // `envid` is xtext-decoded, without <>; `secret` is A, the decoded octets (never the base64).
  // Returns the hops an originator may see. NotFound for an unknown ENVID, a wrong secret or
  // expired data alike (the caller must not be able to tell them apart); Unavailable or
  // DeadlineExceeded when the collector cannot answer now.
  virtual absl::StatusOr<std::vector<model::HopEvent>> Track(absl::string_view envid,
                                                             absl::string_view secret) = 0;
};

}  // namespace mtrk::gateway::mtqp
