#include "collector/retention/retention_job.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"
#include "spdlog/spdlog.h"

namespace mtrk::collector::retention {

absl::Status ValidatePolicy(const RetentionPolicy& p) {
  if (p.default_retention < kMinRetention || p.max_retention < kMinRetention) {
    return absl::InvalidArgumentError("retention: must be at least 1 day (RFC 3885 §3.1)");
  }
  if (p.default_retention > p.max_retention) {
    return absl::InvalidArgumentError("retention: default exceeds the maximum");
  }
  return absl::OkStatus();
}

absl::Duration RetentionFor(const RetentionPolicy& p, int64_t mtrk_timeout_s) {
  if (mtrk_timeout_s <= 0) return std::max(p.default_retention, kMinRetention);
  return std::clamp(absl::Seconds(mtrk_timeout_s), kMinRetention,
                    std::max(p.max_retention, kMinRetention));
}

absl::StatusOr<RetentionResult> RetentionJob::RunOnce(absl::Time now) {
  RetentionResult result;
  MTRK_ASSIGN_OR_RETURN(const std::vector<absl::Time> days, store_.ListPartitionDays());
  for (const absl::Time day : days) {
    const absl::Time day_end = day + absl::Hours(24);
    // No message can be kept less than the minimum: skip young days without reading them.
    if (day_end + kMinRetention > now) continue;
    ++result.examined;
    MTRK_ASSIGN_OR_RETURN(const store::PartitionInfo info, store_.DescribePartition(day, now));
    absl::Duration keep = RetentionFor(policy_, info.max_mtrk_timeout_s);
    if (info.any_default_timeout) keep = std::max(keep, RetentionFor(policy_, 0));
    if (day_end + keep > now) continue;
    if (info.holds_queued_message) {
      ++result.kept_queued;
      continue;
    }
    MTRK_RETURN_IF_ERROR(store_.DropPartition(day));
    ++result.dropped;
    spdlog::info("retention: dropped hop_events day {}",
                 absl::FormatTime("%Y-%m-%d", day, absl::UTCTimeZone()));
  }
  return result;
}

}  // namespace mtrk::collector::retention
