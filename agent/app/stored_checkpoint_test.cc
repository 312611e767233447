#include "agent/app/stored_checkpoint.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace mtrk::agent::app {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(StoredCheckpointTest, RoundTrips) {
  StoredCheckpoint cp;
  cp.tail.file = {.dev = 2049, .ino = 131, .head_len = 80, .head_hash = 1234567890123};
  cp.tail.offset = 4096;
  cp.pipeline.latest = absl::FromUnixSeconds(1792893610);
  cp.pipeline.resume_time = absl::FromUnixSeconds(1792893600);
  cp.pipeline.skip_keys = {"mta-a|postfix|C00000001", "mta-a|postfix|C00000002"};
  const std::string text = FormatStoredCheckpoint(cp);
  EXPECT_EQ(text,
            "tail3 2049:131:80:1234567890123 4096 1792893610 1792893600 "
            "mta-a|postfix|C00000001 mta-a|postfix|C00000002");
  ASSERT_OK_AND_ASSIGN(const StoredCheckpoint back, ParseStoredCheckpoint(text));
  EXPECT_EQ(back.tail.file.ToString(), cp.tail.file.ToString());
  EXPECT_EQ(back.tail.offset, 4096u);
  EXPECT_EQ(back.pipeline.latest, cp.pipeline.latest);
  EXPECT_EQ(back.pipeline.resume_time, cp.pipeline.resume_time);
  EXPECT_EQ(back.pipeline.skip_keys, cp.pipeline.skip_keys);
}

TEST(StoredCheckpointTest, NoTimesAreZeros) {
  StoredCheckpoint cp;
  const std::string text = FormatStoredCheckpoint(cp);
  EXPECT_EQ(text, "tail3 0:0:0:0 0 0 0");
  ASSERT_OK_AND_ASSIGN(const StoredCheckpoint back, ParseStoredCheckpoint(text));
  EXPECT_EQ(back.pipeline.latest, absl::InfinitePast());
  EXPECT_EQ(back.pipeline.resume_time, absl::InfinitePast());
  EXPECT_THAT(back.pipeline.skip_keys, IsEmpty());
}

// What an agent before the resume time wrote: an upgraded agent resumes from it.
TEST(StoredCheckpointTest, ReadsTheOlderFormWithoutResumeTime) {
  ASSERT_OK_AND_ASSIGN(
      const StoredCheckpoint cp,
      ParseStoredCheckpoint("tail2 2049:131:80:99 4096 1792893610 mta-a|postfix|C00000001"));
  EXPECT_EQ(cp.tail.offset, 4096u);
  EXPECT_EQ(cp.pipeline.latest, absl::FromUnixSeconds(1792893610));
  EXPECT_EQ(cp.pipeline.resume_time, absl::InfinitePast());
  EXPECT_THAT(cp.pipeline.skip_keys, ElementsAre("mta-a|postfix|C00000001"));
}

TEST(StoredCheckpointTest, AnythingElseIsInvalidArgument) {
  for (const char* text :
       {"", "tail3", "tail3 2049:131:80:99 4096 1792893610", "tail4 2049:131:80:99 4096 1 2",
        "tail3 2049:131:80 4096 1 2", "tail3 2049:131:80:99 x 1 2", "tail3 2049:131:80:99 4096 1 -",
        "tail2 2049:131:80:99 4096"}) {
    SCOPED_TRACE(text);
    EXPECT_EQ(ParseStoredCheckpoint(text).status().code(), absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace mtrk::agent::app
