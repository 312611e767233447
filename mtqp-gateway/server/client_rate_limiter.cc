#include "mtqp-gateway/server/client_rate_limiter.h"

#include <algorithm>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "asio/ip/address_v6.hpp"

namespace mtrk::gateway::server {

absl::StatusOr<RateLimit> ParseRateLimit(absl::string_view text) {
  if (text == "off" || text == "0") return RateLimit{.burst = 0};
  const std::vector<absl::string_view> parts = absl::StrSplit(text, '/');
  int64_t count = 0;
  int64_t seconds = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &count) ||
      !absl::SimpleAtoi(parts[1], &seconds) || count < 1 || count > 1'000'000 || seconds < 1 ||
      seconds > 86400) {
    return absl::InvalidArgumentError(
        absl::StrCat("rate limit: want COUNT/SECONDS (1-1000000 per 1-86400 s) or off, got '",
                     text.substr(0, 40), "'"));
  }
  return RateLimit{.burst = count, .period = absl::Seconds(seconds)};
}

std::string ClientKey(const asio::ip::address& address) {
  if (address.is_v4()) return address.to_v4().to_string();
  const asio::ip::address_v6 v6 = address.to_v6();
  if (v6.is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_string();
  }
  asio::ip::address_v6::bytes_type bytes = v6.to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);  // one host commonly owns the whole /64
  return absl::StrCat(asio::ip::address_v6(bytes).to_string(), "/64");
}

ClientRateLimiter::ClientRateLimiter(RateLimit limit, size_t max_clients,
                                     std::function<absl::Time()> now)
    : limit_(limit),
      per_second_(limit.enabled()
                      ? static_cast<double>(limit.burst) / absl::ToDoubleSeconds(limit.period)
                      : 0),
      max_clients_(std::max<size_t>(max_clients, 1)),
      now_(std::move(now)) {}

bool ClientRateLimiter::Refill(Bucket& b, absl::Time now) const {
  if (now > b.updated) {
    b.tokens = std::min(static_cast<double>(limit_.burst),
                        b.tokens + absl::ToDoubleSeconds(now - b.updated) * per_second_);
    b.updated = now;
  }
  return b.tokens >= static_cast<double>(limit_.burst);
}

void ClientRateLimiter::DropIdle(absl::Time now) {
  // A few refilled buckets from the idle end on every call, so the table shrinks back after a
  // burst of clients without a sweep: amortised O(1).
  for (int i = 0; i < 2 && !lru_.empty(); ++i) {
    auto it = buckets_.find(lru_.back());
    if (!Refill(it->second, now)) break;
    buckets_.erase(it);
    lru_.pop_back();
  }
}

bool ClientRateLimiter::TryAcquire(absl::string_view client) {
  if (!limit_.enabled()) return true;
  const absl::Time now = now_();
  absl::MutexLock lock(&mu_);
  DropIdle(now);
  auto it = buckets_.find(client);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_clients_) {  // all busy: the least recently seen starts afresh
      buckets_.erase(lru_.back());
      lru_.pop_back();
    }
    lru_.emplace_front(client);
    buckets_.emplace(lru_.front(), Bucket{.tokens = static_cast<double>(limit_.burst) - 1,
                                          .updated = now,
                                          .lru = lru_.begin()});
    return true;
  }
  Bucket& b = it->second;
  lru_.splice(lru_.begin(), lru_, b.lru);  // most recently seen first
  Refill(b, now);
  if (b.tokens < 1) {
    ++refused_;
    return false;
  }
  b.tokens -= 1;
  return true;
}

void ClientRateLimiter::Refund(absl::string_view client) {
  if (!limit_.enabled()) return;
  const absl::Time now = now_();
  absl::MutexLock lock(&mu_);
  auto it = buckets_.find(client);
  if (it == buckets_.end()) return;  // evicted meanwhile: it starts full anyway
  Bucket& b = it->second;
  Refill(b, now);
  b.tokens = std::min(static_cast<double>(limit_.burst), b.tokens + 1);
  if (b.tokens >= static_cast<double>(limit_.burst)) {  // the same as no bucket
    lru_.erase(b.lru);
    buckets_.erase(it);
  }
}

size_t ClientRateLimiter::size() const {
  absl::MutexLock lock(&mu_);
  return buckets_.size();
}

int64_t ClientRateLimiter::refused() const {
  absl::MutexLock lock(&mu_);
  return refused_;
}

}  // namespace mtrk::gateway::server
