#include "common/log/rate_limited_log.h"

#include "gtest/gtest.h"

namespace mtrk::log {
namespace {

class RateLimitedLogTest : public ::testing::Test {
 protected:
  absl::Time now_ = absl::FromUnixSeconds(1'700'000'000);
  RateLimitedLog limiter_{2, absl::Seconds(60), [this] { return now_; }};
};

TEST_F(RateLimitedLogTest, BurstPassesThenSuppressesWithinTheWindow) {
  uint64_t suppressed = 99;
  EXPECT_TRUE(limiter_.Allow("malformed", &suppressed));
  EXPECT_EQ(suppressed, 0u);
  EXPECT_TRUE(limiter_.Allow("malformed", &suppressed));
  EXPECT_FALSE(limiter_.Allow("malformed", &suppressed));
  EXPECT_FALSE(limiter_.Allow("malformed", &suppressed));
}

TEST_F(RateLimitedLogTest, NextWindowReportsHowManyWereSuppressed) {
  uint64_t suppressed = 0;
  for (int i = 0; i < 5; ++i) limiter_.Allow("retry", &suppressed);  // 2 pass, 3 suppressed
  now_ += absl::Seconds(60);
  ASSERT_TRUE(limiter_.Allow("retry", &suppressed));
  EXPECT_EQ(suppressed, 3u);
  ASSERT_TRUE(limiter_.Allow("retry", &suppressed));
  EXPECT_EQ(suppressed, 0u);  // reported once
}

TEST_F(RateLimitedLogTest, KeysAreIndependent) {
  uint64_t suppressed = 0;
  limiter_.Allow("a", &suppressed);
  limiter_.Allow("a", &suppressed);
  EXPECT_FALSE(limiter_.Allow("a", &suppressed));
  EXPECT_TRUE(limiter_.Allow("b", &suppressed));
}

TEST_F(RateLimitedLogTest, KeysBeyondTheCapShareOneBucket) {
  uint64_t suppressed = 0;
  for (size_t i = 0; i < RateLimitedLog::kMaxKeys; ++i) {
    ASSERT_TRUE(limiter_.Allow(std::to_string(i), &suppressed));
  }
  EXPECT_TRUE(limiter_.Allow("new-1", &suppressed));
  EXPECT_TRUE(limiter_.Allow("new-2", &suppressed));
  EXPECT_FALSE(limiter_.Allow("new-3", &suppressed));  // shared overflow bucket, burst 2
}

}  // namespace
}  // namespace mtrk::log
