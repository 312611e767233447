// RetentionRunner: runs a RetentionJob in its own thread, once at start and then every
// `interval`, until destroyed. Errors are logged and retried at the next pass (a database that is
// down only delays expiry). Thread-safe.
#pragma once

#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "collector/retention/retention_job.h"

namespace mtrk::collector::retention {

class RetentionRunner {
 public:
  RetentionRunner(store::EventStore& store, RetentionPolicy policy, absl::Duration interval);
  ~RetentionRunner();  // stops and joins; a pass in progress finishes first

 private:
  void Loop();

  RetentionJob job_;
  const absl::Duration interval_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace mtrk::collector::retention
