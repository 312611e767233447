#include "common/log/rate_limited_log.h"

namespace mtrk::log {
namespace {
constexpr absl::string_view kOverflowKey = "(other)";
}  // namespace

RateLimitedLog::RateLimitedLog(int burst, absl::Duration window, std::function<absl::Time()> now)
    : burst_(burst), window_(window), now_(std::move(now)) {}

bool RateLimitedLog::Allow(absl::string_view key, uint64_t* suppressed) {
  const absl::Time now = now_();
  absl::MutexLock lock(&mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= kMaxKeys) key = kOverflowKey;
    it = buckets_.try_emplace(key).first;
  }
  Bucket& b = it->second;
  if (now - b.window_start >= window_) {
    b.window_start = now;
    b.used = 0;
  }
  if (b.used >= burst_) {
    ++b.suppressed;
    return false;
  }
  ++b.used;
  *suppressed = b.suppressed;
  b.suppressed = 0;
  return true;
}

}  // namespace mtrk::log
