#include "agent/tail/follower.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace mtrk::agent::tail {
namespace {

using ::testing::ElementsAre;

class FollowerTest : public ::testing::Test {
 protected:
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
  // A follower with `rotate_grace` that has read the file's first line, "a1".
  std::unique_ptr<Follower> StartedWithGrace(absl::Duration grace) {
    Append("a1\n");
    FollowerOptions o = Opts();
    o.rotate_grace = grace;
    auto f = std::make_unique<Follower>(o);
    EXPECT_TRUE(f->Start(std::nullopt).ok());
    EXPECT_THAT(PollAll(*f), ElementsAre("a1"));
    return f;
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

  test::TempDir tmp_{"mtrk-follower"};
  const std::string dir_ = tmp_.path();
  const std::string path_ = dir_ + "/mail.log";
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

// logrotate with `create` and rsyslog: the file is renamed and recreated, and rsyslog goes on
// appending to the renamed one until the postrotate HUP reaches it. Without a grace those lines
// were lost (the follower had already left the old file).
TEST_F(FollowerTest, LinesWrittenToTheRenamedFileBeforeTheWriterReopensAreRead) {
  const std::unique_ptr<Follower> started = StartedWithGrace(absl::Milliseconds(300));
  Follower& f = *started;
  std::filesystem::rename(path_, path_ + ".1");
  Append("");  // logrotate's `create`
  EXPECT_THAT(PollAll(f), ElementsAre());
  Append("a2\n", path_ + ".1");  // the writer, before its HUP
  EXPECT_THAT(PollAll(f), ElementsAre("a2"));
  Append("b1\n");                              // after the HUP: the new file
  Append("a3\n", path_ + ".1");                // a line still in flight
  EXPECT_THAT(PollAll(f), ElementsAre("a3"));  // still on the old file: it is not quiet yet
  // WaitForChange wakes when the grace ends, although nothing is written any more (the first
  // calls may return at once for the inotify events of the appends above).
  const absl::Time start = absl::Now();
  std::vector<std::string> after;
  while (after.empty() && absl::Now() - start < absl::Seconds(5)) {
    f.WaitForChange(absl::Seconds(30));
    after = PollAll(f);
  }
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_THAT(after, ElementsAre("b1"));
  EXPECT_EQ(f.stats().rotations, 1);
  EXPECT_EQ(f.stats().late_bytes, 6);  // "a2\n", "a3\n"
  EXPECT_TRUE(std::is_sorted(positions_.begin(), positions_.end()));
}

// `postfix logrotate` (maillog_file): mv to a dated name, HUP (postlogd creates the new file when
// it reopens), a second later gzip of the renamed file, which unlinks it.
TEST_F(FollowerTest, PostfixLogrotateIsFollowedWithoutLossOrRepeat) {
  const std::unique_ptr<Follower> started = StartedWithGrace(absl::Milliseconds(200));
  Follower& f = *started;
  const std::string rotated = path_ + ".20261124-093000";
  std::filesystem::rename(path_, rotated);
  Append("a2\n", rotated);  // before postlogd reopens: no file at the path meanwhile
  EXPECT_THAT(PollAll(f), ElementsAre("a2"));
  Append("b1\n");                          // reopened: the new file
  EXPECT_THAT(PollAll(f), ElementsAre());  // within the grace
  std::ofstream(rotated + ".gz") << "\x1f\x8b not read";
  std::filesystem::remove(rotated);
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_THAT(PollAll(f), ElementsAre("b1"));
  Append("b2\n");
  EXPECT_THAT(PollAll(f), ElementsAre("b2"));
  EXPECT_EQ(f.stats().rotations, 1);
  EXPECT_EQ(f.stats().late_bytes, 0);  // a2 came before the new file existed
}

TEST_F(FollowerTest, WithoutGraceTheRenamedFileIsLeftAtOnce) {
  Append("a1\n");
  Follower f(Opts());  // rotate_grace 0
  ASSERT_TRUE(f.Start(std::nullopt).ok());
  EXPECT_THAT(PollAll(f), ElementsAre("a1"));
  std::filesystem::rename(path_, path_ + ".1");
  Append("b1\n");
  EXPECT_THAT(PollAll(f), ElementsAre("b1"));
  Append("a2\n", path_ + ".1");  // the limit rotate_grace removes: never read
  Append("b2\n");
  EXPECT_THAT(PollAll(f), ElementsAre("b2"));
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

// The race the CI saw: truncated and written again *past our offset* before we read on. The
// bytes at our offset are then the new file's; taking them as the old file's continuation
// skipped the old tail (in the copy) and cut the new file's lines in the middle.
TEST_F(FollowerTest, CopyTruncateRewrittenPastOurOffsetIsNotReadAsTheOldFile) {
  Append("a1 first line of the old file\n");
  Follower f(Opts());
  ASSERT_TRUE(f.Start(std::nullopt).ok());
  EXPECT_THAT(PollAll(f), ElementsAre("a1 first line of the old file"));
  Append("a2 not read before the copy\n");
  std::filesystem::copy_file(path_, path_ + ".1");
  std::filesystem::resize_file(path_, 0);
  Append("b1 the new file is longer than what we had read\nb2\n");
  EXPECT_THAT(PollAll(f), ElementsAre("a2 not read before the copy",
                                      "b1 the new file is longer than what we had read", "b2"));
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

TEST_F(FollowerTest, TwoRenamesBetweenPollsReadTheMiddleFile) {
  Append("a1\n");
  Follower f(Opts());
  ASSERT_TRUE(f.Start(std::nullopt).ok());
  EXPECT_THAT(PollAll(f), ElementsAre("a1"));
  Append("a2\n");
  std::filesystem::rename(path_, path_ + ".1");
  Append("b1\n");
  std::filesystem::rename(path_ + ".1", path_ + ".2");
  std::filesystem::rename(path_, path_ + ".1");
  Append("c1\n");
  EXPECT_THAT(PollAll(f), ElementsAre("a2", "b1", "c1"));
  EXPECT_EQ(f.stats().rotated_files, 1);  // b1's file, found among the siblings
  for (size_t i = 1; i < positions_.size(); ++i) EXPECT_GT(positions_[i], positions_[i - 1]);
}

TEST_F(FollowerTest, TwoCopyTruncatesBetweenPollsReadTheMiddleCopy) {
  Append("a1\n");
  Follower f(Opts());
  ASSERT_TRUE(f.Start(std::nullopt).ok());
  EXPECT_THAT(PollAll(f), ElementsAre("a1"));
  Append("a2\n");
  const auto copytruncate = [&] {
    if (std::filesystem::exists(path_ + ".1")) {
      std::filesystem::rename(path_ + ".1", path_ + ".2");
    }
    std::filesystem::copy_file(path_, path_ + ".1");
    std::filesystem::resize_file(path_, 0);
  };
  copytruncate();
  Append("b1 longer than the first head\n");
  copytruncate();
  Append("c1\n");
  EXPECT_THAT(PollAll(f), ElementsAre("a2", "b1 longer than the first head", "c1"));
  EXPECT_EQ(f.stats().truncations, 1);
  EXPECT_EQ(f.stats().rotated_files, 1);
}

TEST_F(FollowerTest, AFileOpenedEmptyIsIdentifiedByTheFirstLineReadFromIt) {
  // An empty head matches every file: without the first line learned from the read, the
  // copytruncate below would take the older rotated file for the copy.
  Append("a1, a line longer than everything that follows\n");
  Follower f(Opts());
  ASSERT_TRUE(f.Start(std::nullopt).ok());
  EXPECT_THAT(PollAll(f), ElementsAre("a1, a line longer than everything that follows"));
  std::filesystem::rename(path_, path_ + ".1");
  Append("");  // created empty, and the follower switches to it while it is
  EXPECT_THAT(PollAll(f), ElementsAre());
  Append("b1\nb2\n");
  std::vector<std::string> got;
  ASSERT_TRUE(f.Poll([&](const Follower::Line& l) { got.emplace_back(l.text); }, 1).ok());
  EXPECT_THAT(got, ElementsAre("b1"));  // stopped before end of file: no rotation check ran
  Append("b3\n");
  std::filesystem::rename(path_ + ".1", path_ + ".2");
  std::filesystem::copy_file(path_, path_ + ".1");
  std::filesystem::resize_file(path_, 0);
  Append("c1\n");
  EXPECT_THAT(PollAll(f), ElementsAre("b2", "b3", "c1"));
}

TEST_F(FollowerTest, AFileOpenedEmptyAndCopyTruncatedBeforeAnyReadIsReadFromItsCopy) {
  // An older rotated file is there from the start: it is not the copy, and stays unread.
  Append("");
  Append("old1\n", path_ + ".1");
  Follower f(Opts());
  ASSERT_TRUE(f.Start(std::nullopt).ok());
  EXPECT_THAT(PollAll(f), ElementsAre());  // opened while empty
  Append("x1\nx2\n");                      // written, not read before the rotation
  std::filesystem::rename(path_ + ".1", path_ + ".2");
  std::filesystem::copy_file(path_, path_ + ".1");
  std::filesystem::resize_file(path_, 0);
  Append("y1\n");
  EXPECT_THAT(PollAll(f), ElementsAre("x1", "x2", "y1"));
  EXPECT_EQ(f.stats().truncations, 1);
  Append("y2\n");
  EXPECT_THAT(PollAll(f), ElementsAre("y2"));
}

TEST_F(FollowerTest, AFileOpenedEmptyIsReadFromItselfWhenNoCopyAppears) {
  Append("");
  Follower f(Opts());
  ASSERT_TRUE(f.Start(std::nullopt).ok());
  EXPECT_THAT(PollAll(f), ElementsAre());
  Append("z1\n");
  EXPECT_THAT(PollAll(f), ElementsAre("z1"));
  // Renamed away and recreated while it held only what we read: the ordinary rename path.
  std::filesystem::rename(path_, path_ + ".1");
  Append("");
  EXPECT_THAT(PollAll(f), ElementsAre());
  Append("z2\n");
  EXPECT_THAT(PollAll(f), ElementsAre("z2"));
  EXPECT_EQ(f.stats().truncations, 0);
}

TEST_F(FollowerTest, RestartAfterTwoDateextRotationsReadsEveryFileOnce) {
  // RHEL-style names; they carry no number, so the order is by mtime (set apart explicitly).
  const std::string path = dir_ + "/maillog";
  Append("a1\na2\n", path);
  std::optional<TailCheckpoint> cp;
  {
    FollowerOptions o = Opts();
    o.path = path;
    Follower f(o);
    ASSERT_TRUE(f.Start(std::nullopt).ok());
    PollAll(f);
    cp = f.CheckpointAt(EncodePosition(0, 3));  // after "a1"
    ASSERT_TRUE(cp.has_value());
  }
  const auto now = std::filesystem::file_time_type::clock::now();
  std::filesystem::rename(path, path + "-20261122");
  Append("b1\n", path);
  std::filesystem::rename(path, path + "-20261123");
  Append("c1\n", path);
  std::filesystem::last_write_time(path + "-20261122", now - std::chrono::hours(48));
  std::filesystem::last_write_time(path + "-20261123", now - std::chrono::hours(24));
  Append("old\n", path + "-20261121");  // older than the checkpoint's file: already read
  std::filesystem::last_write_time(path + "-20261121", now - std::chrono::hours(72));
  Append("x\n", path + ".bak");          // not a rotated name
  Append("y\n", path + "-20261124.gz");  // compressed: backfill's job
  FollowerOptions o = Opts();
  o.path = path;
  Follower f(o);
  ASSERT_TRUE(f.Start(cp).ok());
  EXPECT_THAT(PollAll(f), ElementsAre("a2", "b1", "c1"));
}

TEST_F(FollowerTest, RestartAfterRotationsBeyondTheConfiguredNamesFindsTheFileByIdentity) {
  Append("a1\na2\n");
  std::optional<TailCheckpoint> cp;
  {
    Follower f(Opts());
    ASSERT_TRUE(f.Start(std::nullopt).ok());
    PollAll(f);
    cp = f.CheckpointAt(EncodePosition(0, 3));
  }
  // Three rotations while stopped; the configuration names only ".1".
  for (const std::string next : {"b1\n", "c1\n", "d1\n"}) {
    for (int i = 3; i >= 1; --i) {
      const std::string from = absl::StrCat(path_, ".", i);
      if (std::filesystem::exists(from))
        std::filesystem::rename(from, absl::StrCat(path_, ".", i + 1));
    }
    std::filesystem::rename(path_, path_ + ".1");
    Append(next);
  }
  FollowerOptions o = Opts();
  o.rotated = {path_ + ".1"};
  Follower f(o);
  ASSERT_TRUE(f.Start(cp).ok());
  EXPECT_THAT(PollAll(f), ElementsAre("a2", "b1", "c1", "d1"));
}

TEST_F(FollowerTest, InotifyWakesOnAppendAndRotation) {
  Append("a1\n");
  Follower f(Opts());
  ASSERT_TRUE(f.Start(std::nullopt).ok());
  ASSERT_TRUE(f.stats().inotify) << "inotify unavailable here";
  PollAll(f);
  while (f.WaitForChange(absl::ZeroDuration())) {
  }
  EXPECT_FALSE(f.WaitForChange(absl::Milliseconds(1)));  // nothing happened
  Append("a2\n");
  EXPECT_TRUE(f.WaitForChange(absl::Hours(1)));  // the event is queued: no waiting
  EXPECT_THAT(PollAll(f), ElementsAre("a2"));
  while (f.WaitForChange(absl::ZeroDuration())) {
  }
  std::filesystem::rename(path_, path_ + ".1");
  EXPECT_TRUE(f.WaitForChange(absl::Hours(1)));
  Append("b1\n");
  EXPECT_THAT(PollAll(f), ElementsAre("b1"));
  while (f.WaitForChange(absl::ZeroDuration())) {
  }
  Append("b2\n");  // the new file is watched too
  EXPECT_TRUE(f.WaitForChange(absl::Hours(1)));
  EXPECT_THAT(PollAll(f), ElementsAre("b2"));
  // Other names in the directory do not wake it.
  while (f.WaitForChange(absl::ZeroDuration())) {
  }
  Append("z\n", dir_ + "/other.log");
  EXPECT_FALSE(f.WaitForChange(absl::Milliseconds(1)));
}

TEST_F(FollowerTest, WithoutInotifyWaitOnlySleeps) {
  Append("a1\n");
  FollowerOptions o = Opts();
  o.inotify = false;
  Follower f(o);
  ASSERT_TRUE(f.Start(std::nullopt).ok());
  EXPECT_FALSE(f.stats().inotify);
  Append("a2\n");
  EXPECT_FALSE(f.WaitForChange(absl::Milliseconds(1)));
  EXPECT_THAT(PollAll(f), ElementsAre("a1", "a2"));  // polling still reads everything
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
