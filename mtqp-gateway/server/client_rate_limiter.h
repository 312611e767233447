// ClientRateLimiter: a token bucket per client (RFC 3887 §2.5 lets a server limit clients; DIGEST
// §4 asks for per-address limits on failed TRACKs). A bucket holds up to `burst` tokens and
// refills at burst/period; an action costs one token. The server keeps two: one for new
// connections, one for failed TRACKs (mtqp/track_limiter.h).
//
// Memory is bounded: at most `max_clients` buckets. A bucket that has refilled is the same as no
// bucket, so such buckets are dropped first; if the table is still full, the least recently used
// bucket is dropped (that client starts again with a full bucket: the cost of a flood from more
// addresses than the table holds is a fresh burst per evicted address, never unbounded memory).
//
// Keys are client addresses (ClientKey): IPv4 per address, IPv6 per /64, since one host
// commonly owns a whole /64. Thread-safe; the clock is injected for tests.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "asio/ip/address.hpp"
#include "mtqp-gateway/mtqp/track_limiter.h"

namespace mtrk::gateway::server {

struct RateLimit {
  // `burst` actions at once, and on average `burst` per `period`; burst 0 means no limit.
  int64_t burst = 0;
  absl::Duration period = absl::Minutes(1);

  bool enabled() const { return burst > 0; }
};

// "COUNT/SECONDS" ("20/60": 20 at once, then one every 3 s) or "off". InvalidArgument otherwise.
absl::StatusOr<RateLimit> ParseRateLimit(absl::string_view text);

// "192.0.2.1"; "2001:db8:1:2::/64"; an IPv4-mapped IPv6 address as its IPv4 address.
std::string ClientKey(const asio::ip::address& address);

class ClientRateLimiter : public mtqp::TrackLimiter {
 public:
  static constexpr size_t kDefaultMaxClients = 65536;  // ~100 bytes each: ~6.5 MiB at most

  explicit ClientRateLimiter(
      RateLimit limit, size_t max_clients = kDefaultMaxClients,
      std::function<absl::Time()> now = [] { return absl::Now(); });

  // mtqp::TrackLimiter. With the limit disabled, TryAcquire is always true and nothing is kept.
  bool TryAcquire(absl::string_view client) override;
  void Refund(absl::string_view client) override;

  // Buckets held now (at most max_clients).
  size_t size() const;
  // TryAcquire calls refused so far.
  int64_t refused() const;

 private:
  struct Bucket {
    double tokens;
    absl::Time updated;
    std::list<std::string>::iterator lru;  // position in lru_, most recent first
  };

  // Refills `b` up to now; true if it is full again (and so can be forgotten).
  bool Refill(Bucket& b, absl::Time now) const;
  // Forgets refilled buckets at the idle end of lru_.
  void DropIdle(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const RateLimit limit_;
  const double per_second_;
  const size_t max_clients_;
  const std::function<absl::Time()> now_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
  std::list<std::string> lru_ ABSL_GUARDED_BY(mu_);
  int64_t refused_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace mtrk::gateway::server
