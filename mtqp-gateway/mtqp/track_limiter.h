// TrackLimiter: the per-client budget for failed TRACKs (DIGEST §4, project rules: "rate-limit
// failed TRACKs for each client address"). The session asks for a token before each lookup and
// gives it back when the TRACK did not fail through the client's fault, so only -ERR/noinfo
// answers spend the budget, and every kind of them (wrong secret, unknown ENVID, expired data,
// secret of the wrong size) spends exactly one token: the limit cannot tell them apart either.
// Taking the token first also bounds a client's parallel guesses over many connections. The
// product implementation is server/client_rate_limiter.h. Thread-safe: called from many
// sessions at once.
#pragma once

#include "absl/strings/string_view.h"

namespace mtrk::gateway::mtqp {

class TrackLimiter {
 public:
  virtual ~TrackLimiter() = default;
  // Takes one token from `client`'s bucket; false (nothing taken) when it is empty.
  virtual bool TryAcquire(absl::string_view client) = 0;
  // Puts back a token taken by TryAcquire: the TRACK found data, or failed on our side.
  virtual void Refund(absl::string_view client) = 0;
};

}  // namespace mtrk::gateway::mtqp
