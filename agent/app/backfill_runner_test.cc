#include "agent/app/backfill_runner.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mtrk::agent::app {
namespace {

using ::testing::ElementsAre;

TEST(BackfillOrderTest, OldestRotationFirstThenTheRestInGivenOrder) {
  EXPECT_THAT(BackfillOrder({"mail.log", "mail.log.1", "mail.log.3.gz", "mail.log.2.gz"}),
              ElementsAre("mail.log.3.gz", "mail.log.2.gz", "mail.log.1", "mail.log"));
  EXPECT_THAT(BackfillOrder({"b.log", "a.log"}), ElementsAre("b.log", "a.log"));
}

}  // namespace
}  // namespace mtrk::agent::app
