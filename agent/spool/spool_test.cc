#include "agent/spool/spool.h"

#include <unistd.h>

#include <filesystem>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mtrk::agent::spool {
namespace {

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mtrk-spool-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(SpoolTest, RecordsAndCheckpointSurviveReopenAndLeaveOnlyOnAck) {
  {
    absl::StatusOr<std::unique_ptr<Spool>> s = Spool::Open({.path = dir_ + "/s.db"});
    ASSERT_TRUE(s.ok()) << s.status();
    ASSERT_TRUE((*s)->Append({"one", "two"}, "cp1").ok());
    ASSERT_TRUE((*s)->Append({"three"}, "cp2").ok());
  }
  absl::StatusOr<std::unique_ptr<Spool>> s = Spool::Open({.path = dir_ + "/s.db"});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->checkpoint(), "cp2");
  EXPECT_EQ((*s)->records(), 3);
  EXPECT_EQ((*s)->bytes(), 11u);
  absl::StatusOr<std::vector<Spool::Record>> got = (*s)->Peek(2, 1 << 20);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].data, "one");
  EXPECT_EQ((*got)[1].data, "two");
  ASSERT_TRUE((*s)->Ack((*got)[1].seq).ok());
  got = (*s)->Peek(10, 1 << 20);
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].data, "three");
  EXPECT_EQ((*s)->bytes(), 5u);
}

TEST_F(SpoolTest, FullAtItsBoundButNeverRefuses) {
  absl::StatusOr<std::unique_ptr<Spool>> s = Spool::Open({.path = dir_ + "/s.db", .max_bytes = 10});
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE((*s)->full());
  ASSERT_TRUE((*s)->Append({std::string(8, 'x')}, std::nullopt).ok());
  EXPECT_FALSE((*s)->full());
  ASSERT_TRUE((*s)->Append({std::string(8, 'y')}, std::nullopt).ok());
  EXPECT_TRUE((*s)->full());
  EXPECT_EQ((*s)->records(), 2);
  EXPECT_FALSE((*s)->checkpoint().has_value());
}

}  // namespace
}  // namespace mtrk::agent::spool
