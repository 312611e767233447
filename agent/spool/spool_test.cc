#include "agent/spool/spool.h"

#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace mtrk::agent::spool {
namespace {

class SpoolTest : public ::testing::Test {
 protected:
  test::TempDir tmp_{"mtrk-spool"};
  const std::string dir_ = tmp_.path();
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

TEST_F(SpoolTest, QuarantineKeepsTheRejectedPartAndTheRestGoesOn) {
  {
    absl::StatusOr<std::unique_ptr<Spool>> s = Spool::Open({.path = dir_ + "/s.db"});
    ASSERT_TRUE(s.ok()) << s.status();
    ASSERT_TRUE((*s)->Append({"abc", "defg", "hi"}, "cp").ok());
    absl::StatusOr<std::vector<Spool::Record>> got = (*s)->Peek(3, 1 << 20);
    ASSERT_TRUE(got.ok());
    // One bad event out of the first record: the rest stays, shorter.
    ASSERT_TRUE(
        (*s)->Quarantine((*got)[0].seq, {.events = 1, .reason = "bad", .data = "b"}, "ac").ok());
    // The whole second record.
    ASSERT_TRUE((*s)->Quarantine((*got)[1].seq, {.events = 4, .reason = "worse", .data = "defg"},
                                 std::nullopt)
                    .ok());
    EXPECT_EQ((*s)->records(), 2);
    EXPECT_EQ((*s)->bytes(), 4u);
    EXPECT_EQ((*s)->quarantined_events(), 5);
    EXPECT_FALSE(
        (*s)->Quarantine(12345, {.events = 1, .reason = "x", .data = "x"}, std::nullopt).ok());
  }
  absl::StatusOr<std::unique_ptr<Spool>> s = Spool::Open({.path = dir_ + "/s.db"});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->quarantined_events(), 5);  // kept across restarts
  absl::StatusOr<std::vector<Spool::Record>> got = (*s)->Peek(10, 1 << 20);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].data, "ac");
  EXPECT_EQ((*got)[1].data, "hi");
  absl::StatusOr<std::vector<Spool::Quarantined>> q = (*s)->ListQuarantined();
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(q->size(), 2u);
  EXPECT_EQ((*q)[0].reason, "bad");
  EXPECT_EQ((*q)[0].data, "b");
  EXPECT_EQ((*q)[1].record_seq, (*got)[0].seq + 1);
  EXPECT_EQ((*q)[1].events, 4);
}

TEST_F(SpoolTest, RequeueAppendsTheQuarantinedBatchesAndEmptiesTheQuarantine) {
  {
    absl::StatusOr<std::unique_ptr<Spool>> s = Spool::Open({.path = dir_ + "/s.db"});
    ASSERT_TRUE(s.ok()) << s.status();
    ASSERT_TRUE((*s)->Append({"first", "second", "third"}, std::nullopt).ok());
    absl::StatusOr<std::vector<Spool::Record>> got = (*s)->Peek(10, 1 << 20);
    ASSERT_TRUE(got.ok());
    // "first" wholly quarantined; one event of "second" quarantined, the rest kept.
    ASSERT_TRUE((*s)->Quarantine((*got)[0].seq, {.events = 3, .reason = "bad", .data = "first"},
                                 std::nullopt)
                    .ok());
    ASSERT_TRUE(
        (*s)->Quarantine((*got)[1].seq, {.events = 1, .reason = "one", .data = "sec"}, "ond").ok());
  }
  absl::StatusOr<std::unique_ptr<Spool>> s = Spool::Open({.path = dir_ + "/s.db"});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->quarantined_events(), 4);
  EXPECT_EQ((*s)->records(), 2);
  const uint64_t bytes_before = (*s)->bytes();

  absl::StatusOr<int64_t> requeued = (*s)->RequeueQuarantined();
  ASSERT_TRUE(requeued.ok()) << requeued.status();
  EXPECT_EQ(*requeued, 4);
  EXPECT_EQ((*s)->quarantined_events(), 0);
  EXPECT_EQ((*s)->records(), 4);
  EXPECT_EQ((*s)->bytes(), bytes_before + 5 + 3);
  absl::StatusOr<std::vector<Spool::Quarantined>> q = (*s)->ListQuarantined();
  ASSERT_TRUE(q.ok());
  EXPECT_TRUE(q->empty());
  // After the records already queued, oldest quarantine first.
  absl::StatusOr<std::vector<Spool::Record>> got = (*s)->Peek(10, 1 << 20);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 4u);
  EXPECT_EQ((*got)[0].data, "ond");
  EXPECT_EQ((*got)[1].data, "third");
  EXPECT_EQ((*got)[2].data, "first");
  EXPECT_EQ((*got)[3].data, "sec");
  // The counters agree with the table after acking all (no underflow).
  ASSERT_TRUE((*s)->Ack((*got)[3].seq).ok());
  EXPECT_EQ((*s)->records(), 0);
  EXPECT_EQ((*s)->bytes(), 0u);
  requeued = (*s)->RequeueQuarantined();  // nothing left: a no-op
  ASSERT_TRUE(requeued.ok());
  EXPECT_EQ(*requeued, 0);
  EXPECT_EQ((*s)->records(), 0);
}

TEST_F(SpoolTest, ASecondOpenOfTheSameSpoolIsRefusedUntilTheFirstCloses) {
  absl::StatusOr<std::unique_ptr<Spool>> first = Spool::Open({.path = dir_ + "/s.db"});
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::unique_ptr<Spool>> second = Spool::Open({.path = dir_ + "/s.db"});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(second.status().message()), ::testing::HasSubstr("in use"));
  // The refused open left the first one working.
  ASSERT_TRUE((*first)->Append({"still"}, "cp").ok());
  first->reset();
  second = Spool::Open({.path = dir_ + "/s.db"});
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ((*second)->records(), 1);
}

TEST_F(SpoolTest, OldestLogTimeFollowsAcks) {
  absl::StatusOr<std::unique_ptr<Spool>> s = Spool::Open({.path = dir_ + "/s.db"});
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE((*s)->oldest_log_time().has_value());  // empty
  const absl::Time t1 = absl::FromUnixSeconds(1'700'000'000);
  const absl::Time t2 = t1 + absl::Minutes(5);
  ASSERT_TRUE((*s)->Append({"one", "two"}, std::nullopt, {t1, t2}).ok());
  EXPECT_EQ((*s)->oldest_log_time(), t1);
  absl::StatusOr<std::vector<Spool::Record>> got = (*s)->Peek(1, 1 << 20);
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE((*s)->Ack((*got)[0].seq).ok());
  EXPECT_EQ((*s)->oldest_log_time(), t2);
  s->reset();
  s = Spool::Open({.path = dir_ + "/s.db"});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->oldest_log_time(), t2);  // read back at open
  got = (*s)->Peek(1, 1 << 20);
  ASSERT_TRUE((*s)->Ack((*got)[0].seq).ok());
  EXPECT_FALSE((*s)->oldest_log_time().has_value());
}

TEST_F(SpoolTest, OpensASpoolWrittenBeforeRecordsHadALogTime) {
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ + "/s.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "CREATE TABLE records (seq INTEGER PRIMARY KEY AUTOINCREMENT, data BLOB "
                           "NOT NULL); CREATE TABLE state (k TEXT PRIMARY KEY, v BLOB NOT NULL); "
                           "INSERT INTO records (data) VALUES ('old')",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  absl::StatusOr<std::unique_ptr<Spool>> s = Spool::Open({.path = dir_ + "/s.db"});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ((*s)->records(), 1);
  EXPECT_FALSE((*s)->oldest_log_time().has_value());  // unknown, not "now"
  const absl::Time t = absl::FromUnixSeconds(1'700'000'000);
  ASSERT_TRUE((*s)->Append({"new"}, std::nullopt, {t}).ok());
  EXPECT_EQ((*s)->oldest_log_time(), t);
  absl::StatusOr<std::vector<Spool::Record>> got = (*s)->Peek(10, 1 << 20);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].data, "old");
}

}  // namespace
}  // namespace mtrk::agent::spool
