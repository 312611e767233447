// LoginLimiter: bounds password guessing (and originator secret guessing) per key, e.g. per user
// name and per client address. A key with `max_failures` failures inside `window` is refused
// until the oldest of them leaves the window. Thread-safe; the clock is injected for tests.
#pragma once

#include <deque>
#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace mtrk::gateway::helpdesk {

class LoginLimiter {
 public:
  LoginLimiter(
      int max_failures, absl::Duration window,
      std::function<absl::Time()> now = [] { return absl::Now(); })
      : max_failures_(max_failures), window_(window), now_(std::move(now)) {}

  // How long `key` must wait before trying again; zero if it may try now.
  absl::Duration RetryAfter(const std::string& key) {
    absl::MutexLock lock(&mu_);
    auto it = failures_.find(key);
    if (it == failures_.end()) return absl::ZeroDuration();
    Expire(it->second);
    if (static_cast<int>(it->second.size()) < max_failures_) return absl::ZeroDuration();
    return it->second.front() + window_ - now_();
  }
  void RecordFailure(const std::string& key) {
    absl::MutexLock lock(&mu_);
    // XXX: bounded only by the number of distinct keys seen within a window; a flood of names
    // from many addresses grows the map until the window passes. Pruned on each failure.
    if (failures_.size() > 100000) failures_.clear();
    std::deque<absl::Time>& f = failures_[key];
    Expire(f);
    f.push_back(now_());
  }
  void RecordSuccess(const std::string& key) {
    absl::MutexLock lock(&mu_);
    failures_.erase(key);
  }

 private:
  void Expire(std::deque<absl::Time>& f) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const absl::Time cutoff = now_() - window_;
    while (!f.empty() && f.front() <= cutoff) f.pop_front();
  }

  const int max_failures_;
  const absl::Duration window_;
  const std::function<absl::Time()> now_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::deque<absl::Time>> failures_ ABSL_GUARDED_BY(mu_);
};

}  // namespace mtrk::gateway::helpdesk
