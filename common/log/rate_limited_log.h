// RateLimitedLog: at most `burst` log lines per key per `window`, then one summary of how many
// were suppressed when the key may log again. A malformed line repeated a million times, or a
// collector that stays down, must show in the log without flooding it (STYLE §4: the counter
// carries the volume, the log carries the first examples). Thread-safe.
//
// Keys are the kind of event ("malformed-line", "ship-retry"), never per-message values: the
// table is bounded at kMaxKeys, and keys beyond that share one bucket.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "spdlog/spdlog.h"

namespace mtrk::log {

class RateLimitedLog {
 public:
  static constexpr size_t kMaxKeys = 256;

  RateLimitedLog(
      int burst, absl::Duration window,
      std::function<absl::Time()> now = [] { return absl::Now(); });

  // True when a line for `key` may be written now; then `*suppressed` is how many lines of
  // this key were refused since the last one written (0 usually).
  bool Allow(absl::string_view key, uint64_t* suppressed);

  template <typename... Args>
  void Log(spdlog::level::level_enum level, absl::string_view key,
           spdlog::format_string_t<Args...> format, Args&&... args) {
    uint64_t suppressed = 0;
    if (!Allow(key, &suppressed)) return;
    spdlog::log(level, format, std::forward<Args>(args)...);
    if (suppressed > 0) {
      // fmt 9 has no formatter for absl::string_view: hand it the std:: one.
      spdlog::log(level, "({} similar '{}' messages suppressed)", suppressed,
                  std::string_view(key.data(), key.size()));
    }
  }

 private:
  struct Bucket {
    absl::Time window_start = absl::InfinitePast();
    int used = 0;
    uint64_t suppressed = 0;
  };

  const int burst_;
  const absl::Duration window_;
  const std::function<absl::Time()> now_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace mtrk::log
