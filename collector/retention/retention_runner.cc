#include "collector/retention/retention_runner.h"

#include "spdlog/spdlog.h"

namespace mtrk::collector::retention {

RetentionRunner::RetentionRunner(store::EventStore& store, RetentionPolicy policy,
                                 absl::Duration interval)
    : job_(store, policy), interval_(interval), thread_([this] { Loop(); }) {}

RetentionRunner::~RetentionRunner() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

void RetentionRunner::Loop() {
  while (true) {
    const absl::StatusOr<RetentionResult> result = job_.RunOnce(absl::Now());
    if (!result.ok()) {
      spdlog::warn("retention: {}", result.status().ToString());
    } else if (result->dropped > 0 || result->kept_queued > 0) {
      spdlog::info("retention: {} day(s) dropped, {} kept for still-queued mail", result->dropped,
                   result->kept_queued);
    }
    absl::MutexLock lock(&mu_);
    auto stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_; };
    if (mu_.AwaitWithTimeout(absl::Condition(&stopping), interval_)) return;
  }
}

}  // namespace mtrk::collector::retention
