#include "mtqp-gateway/helpdesk/login_limiter.h"

#include "gtest/gtest.h"

namespace mtrk::gateway::helpdesk {
namespace {

TEST(LoginLimiterTest, RefusesAfterMaxFailuresUntilTheWindowPasses) {
  absl::Time now = absl::FromUnixSeconds(1000);
  LoginLimiter limiter(3, absl::Minutes(15), [&] { return now; });
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(limiter.RetryAfter("helen"), absl::ZeroDuration());
    limiter.RecordFailure("helen");
    now += absl::Minutes(1);
  }
  EXPECT_EQ(limiter.RetryAfter("helen"), absl::Minutes(12));    // the first failure ages out
  EXPECT_EQ(limiter.RetryAfter("dora"), absl::ZeroDuration());  // per key
  now += absl::Minutes(12);
  EXPECT_EQ(limiter.RetryAfter("helen"), absl::ZeroDuration());
}

TEST(LoginLimiterTest, SuccessForgetsFailures) {
  absl::Time now = absl::FromUnixSeconds(1000);
  LoginLimiter limiter(2, absl::Minutes(15), [&] { return now; });
  limiter.RecordFailure("helen");
  limiter.RecordSuccess("helen");
  limiter.RecordFailure("helen");
  EXPECT_EQ(limiter.RetryAfter("helen"), absl::ZeroDuration());
}

}  // namespace
}  // namespace mtrk::gateway::helpdesk
