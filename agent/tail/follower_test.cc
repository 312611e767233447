#include "agent/tail/follower.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mtrk::agent::tail {
namespace {

using ::testing::ElementsAre;

class FollowerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mtrk-follower-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/mail.log";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  FollowerOptions Opts(size_t max_line_bytes = 64 * 1024, size_t read_bytes = 64 * 1024) {
    FollowerOptions o;
    o.path = path_;
    o.max_line_bytes = max_line_bytes;
    o.read_bytes = read_bytes;
    return o;
  }
  void Append(const std::string& text, const std::string& path = "") {
    std::ofstream(path.empty() ? path_ : path, std::ios::app) << text;
  }
  std::vector<std::string> PollAll(Follower& f) {
    std::vector<std::string> got;
    for (int i = 0; i < 5; ++i) {
      absl::StatusOr<size_t> n = f.Poll(
          [&](const Follower::Line& l) {
            got.push_back(l.too_long ? "<too long>" : std::string(l.text));
            positions_.push_back(l.position);
          },
          1000);
      EXPECT_TRUE(n.ok()) << n.status();
    }
    return got;
  }

  std::string dir_, path_;
  std::vector<uint64_t> positions_;
};

TEST_F(FollowerTest, PartialLastLineWaitsForItsNewline) {
  Append("one\ntw");
  Follower f(Opts());
  ASSERT_TRUE(f.Start(std::nullopt).ok());
  EXPECT_THAT(PollAll(f), ElementsAre("one"));
  Append("o\n");
  EXPECT_THAT(PollAll(f), ElementsAre("two"));
  EXPECT_EQ(f.next_position(), EncodePosition(0, 8));
}

TEST_F(FollowerTest, TooLongLinesAreReportedWithoutTheirText) {
  Append("short\n" + std::string(100, 'x') + "\nafter\n");
  Follower f(Opts(10, 7));
  ASSERT_TRUE(f.Start(std::nullopt).ok());
  EXPECT_THAT(PollAll(f), ElementsAre("short", "<too long>", "after"));
  EXPECT_EQ(f.stats().too_long, 1);
}

TEST_F(FollowerTest, RenameAndCreateReadsTheOldFileToItsEndFirst) {
  Append("a1\n");
  Follower f(Opts());
  ASSERT_TRUE(f.Start(std::nullopt).ok());
  EXPECT_THAT(PollAll(f), ElementsAre("a1"));
  Append("a2\n");
  std::filesystem::rename(path_, path_ + ".1");
  Append("b1\n");
  EXPECT_THAT(PollAll(f), ElementsAre("a2", "b1"));
  EXPECT_EQ(f.stats().rotations, 1);
  EXPECT_GT(positions_[2], positions_[1]);  // positions grow across files
}

TEST_F(FollowerTest, CopyTruncateReadsTheTailFromTheCopy) {
  Append("a1\n");
  Follower f(Opts());
  ASSERT_TRUE(f.Start(std::nullopt).ok());
  EXPECT_THAT(PollAll(f), ElementsAre("a1"));
  Append("a2\n");  // not read before the copy
  std::filesystem::copy_file(path_, path_ + ".1");
  std::filesystem::resize_file(path_, 0);
  Append("b1\n");
  EXPECT_THAT(PollAll(f), ElementsAre("a2", "b1"));
  EXPECT_EQ(f.stats().truncations, 1);
}

TEST_F(FollowerTest, ResumesFromACheckpointInTheRotatedFile) {
  Append("a1\na2\n");
  std::optional<TailCheckpoint> cp;
  {
    Follower f(Opts());
    ASSERT_TRUE(f.Start(std::nullopt).ok());
    PollAll(f);
    cp = f.CheckpointAt(EncodePosition(0, 3));  // after "a1"
    ASSERT_TRUE(cp.has_value());
  }
  std::filesystem::rename(path_, path_ + ".1");
  Append("b1\n");
  Follower f(Opts());
  ASSERT_TRUE(f.Start(cp).ok());
  EXPECT_THAT(PollAll(f), ElementsAre("a2", "b1"));
}

TEST_F(FollowerTest, ANewFileReusingTheInodeIsReadFromTheStart) {
  Append("old first line\nold second\n");
  std::optional<TailCheckpoint> cp;
  {
    Follower f(Opts());
    ASSERT_TRUE(f.Start(std::nullopt).ok());
    PollAll(f);
    cp = f.CheckpointAt(f.next_position());
  }
  // Same inode, other content (what a reused inode looks like to us).
  std::ofstream(path_, std::ios::trunc) << "new first line, longer than the old one\nnew 2\n";
  Follower f(Opts());
  ASSERT_TRUE(f.Start(cp).ok());
  EXPECT_THAT(PollAll(f), ElementsAre("new first line, longer than the old one", "new 2"));
}

TEST_F(FollowerTest, CheckpointIdentityRoundTrips) {
  const FileIdentity id{.dev = 1, .ino = 2, .head_len = 3, .head_hash = 4};
  absl::StatusOr<FileIdentity> back = FileIdentity::FromString(id.ToString());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->ToString(), id.ToString());
  EXPECT_FALSE(FileIdentity::FromString("1:2:x:4").ok());
}

}  // namespace
}  // namespace mtrk::agent::tail
