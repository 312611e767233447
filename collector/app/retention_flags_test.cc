// mtrk-collector's retention flags (collector/retention policy, RFC 3885 §3.1).
#include "collector/app/collector_app.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace mtrk::collector::app {
namespace {

using ::mtrk::test::StatusIs;

TEST(RetentionFlagsTest, DefaultsToTenDaysHourlyAndRefusesUnderOneDay) {
  ASSERT_OK_AND_ASSIGN(const CollectorFlags defaults,
                       ParseCollectorFlags({"--listen", "127.0.0.1:0", "--db", "x"}));
  ASSERT_OK_AND_ASSIGN(const RetentionSettings s, RetentionFromFlags(defaults));
  EXPECT_EQ(s.policy.default_retention, absl::Hours(240));
  EXPECT_EQ(s.policy.max_retention, absl::Hours(240));
  EXPECT_EQ(s.interval, absl::Hours(1));

  ASSERT_OK_AND_ASSIGN(
      const CollectorFlags custom,
      ParseCollectorFlags({"--listen", "127.0.0.1:0", "--db", "x", "--retention-days=8",
                           "--retention-max-days", "30", "--retention-interval-s", "0"}));
  ASSERT_OK_AND_ASSIGN(const RetentionSettings c, RetentionFromFlags(custom));
  EXPECT_EQ(c.policy.default_retention, absl::Hours(8 * 24));
  EXPECT_EQ(c.policy.max_retention, absl::Hours(30 * 24));
  EXPECT_EQ(c.interval, absl::ZeroDuration());

  for (const char* bad : {"--retention-days=0", "--retention-max-days=5", "--retention-days=x",
                          "--retention-interval-s=-1"}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(ParseCollectorFlags({"--listen", "127.0.0.1:0", "--db", "x", bad}),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

}  // namespace
}  // namespace mtrk::collector::app
