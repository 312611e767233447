#include "agent/app/quarantine_command.h"

#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <string>

#include "agent/spool/spool.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace mtrk::agent::app {
namespace {

using ::testing::HasSubstr;

class QuarantineCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.spool_path = dir_ + "/spool.db";
    // A spool as an agent left it: one record sent, one batch quarantined.
    absl::StatusOr<std::unique_ptr<spool::Spool>> s =
        spool::Spool::Open({.path = config_.spool_path});
    ASSERT_TRUE(s.ok()) << s.status();
    ASSERT_TRUE((*s)->Append({"batch"}, std::nullopt).ok());
    absl::StatusOr<std::vector<spool::Spool::Record>> got = (*s)->Peek(1, 1 << 20);
    ASSERT_TRUE(got.ok());
    ASSERT_TRUE(
        (*s)->Quarantine(
                (*got)[0].seq,
                {.events = 2, .reason = "hop event 'ab': field status\nbad", .data = "batch"},
                std::nullopt)
            .ok());
  }
  test::TempDir tmp_{"mtrk-quarantine"};
  const std::string dir_ = tmp_.path();
  RunConfig config_;
};

TEST_F(QuarantineCommandTest, ListsEachBatchOnOneLine) {
  std::ostringstream out;
  ASSERT_TRUE(RunQuarantineCommand(config_, "list", out).ok());
  EXPECT_THAT(out.str(),
              HasSubstr("events=2 bytes=5 reason=\"hop event \\'ab\\': field status\\nbad\"\n"));
  EXPECT_THAT(out.str(), HasSubstr("1 quarantined batches, 2 events"));
}

TEST_F(QuarantineCommandTest, RequeuePutsTheBatchesBackInTheQueue) {
  std::ostringstream out;
  ASSERT_TRUE(RunQuarantineCommand(config_, "requeue", out).ok());
  EXPECT_THAT(out.str(), HasSubstr("requeued 2 events"));
  absl::StatusOr<std::unique_ptr<spool::Spool>> s =
      spool::Spool::Open({.path = config_.spool_path});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->quarantined_events(), 0);
  absl::StatusOr<std::vector<spool::Spool::Record>> got = (*s)->Peek(10, 1 << 20);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].data, "batch");
}

TEST_F(QuarantineCommandTest, RefusesWhileAnAgentHoldsTheSpoolAndChangesNothing) {
  absl::StatusOr<std::unique_ptr<spool::Spool>> agent =
      spool::Spool::Open({.path = config_.spool_path});
  ASSERT_TRUE(agent.ok());
  std::ostringstream out;
  const absl::Status st = RunQuarantineCommand(config_, "requeue", out);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(st.message()), HasSubstr("stop it first"));
  EXPECT_EQ((*agent)->quarantined_events(), 2);
  EXPECT_EQ((*agent)->records(), 0);
}

TEST_F(QuarantineCommandTest, UnknownActionOrMissingSpoolIsAnError) {
  std::ostringstream out;
  EXPECT_EQ(RunQuarantineCommand(config_, "purge", out).code(), absl::StatusCode::kInvalidArgument);
  RunConfig typo = config_;
  typo.spool_path = dir_ + "/spol.db";
  EXPECT_EQ(RunQuarantineCommand(typo, "list", out).code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(typo.spool_path));
}

}  // namespace
}  // namespace mtrk::agent::app
