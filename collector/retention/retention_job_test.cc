#include "collector/retention/retention_job.h"

#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "collector/store/pg/pg_event_store.h"
#include "collector/testing/linked_sample.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/pg_environment.h"
#include "tests/support/status_matchers.h"

namespace mtrk::collector::retention {
namespace {

using ::mtrk::collector::testing::AtHost;
using ::mtrk::collector::testing::Delayed;
using ::mtrk::collector::testing::Delivered;
using ::mtrk::collector::testing::WithId;
using ::mtrk::test::IsOkAndHolds;
using ::mtrk::test::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

absl::Time Day(int month, int day, int hour = 0) {
  return absl::FromCivil(absl::CivilHour(2026, month, day, hour), absl::UTCTimeZone());
}

// A message first seen at `first_seen` with envid `envid`, delivered (or only delayed).
model::HopEvent Hop(const std::string& envid, absl::Time first_seen, bool delayed,
                    int64_t timeout_s = 0) {
  model::HopEvent e = delayed ? Delayed("alice@b.example", first_seen + absl::Minutes(1))
                              : Delivered("alice@b.example");
  e = AtHost(e, "mta-a", "postfix-a", "Q" + envid, first_seen);
  e.envid = envid;
  e.mtrk_timeout_s = timeout_s;
  if (delayed) {
    e.action = model::DsnAction::kDelayed;
    e.will_retry_until = first_seen + absl::Hours(5 * 24);
  }
  return WithId(e);
}

TEST(RetentionPolicyTest, TimeoutIsHonouredCappedAndNeverUnderADay) {
  const RetentionPolicy p{.default_retention = absl::Hours(240), .max_retention = absl::Hours(480)};
  EXPECT_EQ(RetentionFor(p, 0), absl::Hours(240));
  EXPECT_EQ(RetentionFor(p, 3 * 86400), absl::Hours(72));
  EXPECT_EQ(RetentionFor(p, 60), absl::Hours(24));          // RFC 3885: at least 1 day
  EXPECT_EQ(RetentionFor(p, 999999999), absl::Hours(480));  // capped by policy
  EXPECT_OK(ValidatePolicy(p));
  EXPECT_OK(ValidatePolicy(RetentionPolicy{}));
  EXPECT_EQ(RetentionPolicy{}.default_retention, absl::Hours(240));
  EXPECT_THAT(ValidatePolicy({.default_retention = absl::Hours(12)}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(
      ValidatePolicy({.default_retention = absl::Hours(48), .max_retention = absl::Hours(24)}),
      StatusIs(absl::StatusCode::kInvalidArgument));
}

class RetentionJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(db_, test::PgEnvironment::Get().NewDatabase());
    ASSERT_OK_AND_ASSIGN(store_, store::PgEventStore::Connect(db_.conninfo(), {.pool_size = 2}));
  }
  // Rows in `table`, -1 if there is no such table.
  int64_t IndexRows(const std::string& table) {
    pqxx::connection conn(db_.conninfo());
    pqxx::read_transaction txn(conn);
    if (txn.exec1("SELECT to_regclass(" + txn.quote(table) + ") IS NULL")[0].as<bool>()) return -1;
    return txn.exec1("SELECT count(*) FROM " + txn.quote_name(table))[0].as<int64_t>();
  }
  test::PgDatabase db_;
  std::unique_ptr<store::PgEventStore> store_;
};

TEST_F(RetentionJobTest, DropsExpiredDaysButKeepsStillQueuedMail) {
  const model::HopEvent old = Hop("old", Day(11, 1, 8), false);
  const model::HopEvent greedy = Hop("greedy", Day(11, 1, 9), false, 30 * 86400);  // capped
  const model::HopEvent queued = Hop("queued", Day(11, 8, 8), true);  // retried until 11-13
  const model::HopEvent short_lived = Hop("short", Day(11, 5, 8), false, 3 * 86400);
  const model::HopEvent recent = Hop("recent", Day(11, 10, 8), false);
  ASSERT_OK(store_->Append(std::vector{old, greedy, queued, short_lived, recent}).status());
  ASSERT_THAT(store_->ListPartitionDays(), IsOkAndHolds(SizeIs(4)));

  RetentionJob job(*store_, RetentionPolicy{});
  // 11-12 12:00: day 11-01 is past 10 days (a 30-day timeout is capped at 10); 11-05 is past its
  // 3-day timeout; 11-08 and 11-10 are younger than 10 days.
  ASSERT_OK_AND_ASSIGN(const RetentionResult first, job.RunOnce(Day(11, 12, 12)));
  EXPECT_EQ(first.dropped, 2);
  EXPECT_THAT(store_->ListPartitionDays(), IsOkAndHolds(ElementsAre(Day(11, 8), Day(11, 10))));
  EXPECT_THAT(store_->FindByEnvid("old"), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(store_->FindByEnvid("short"), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(store_->FindByEnvid("recent"), IsOkAndHolds(SizeIs(1)));

  // With a one-day policy both remaining days are expired, but 11-08's message is still being
  // retried (until 11-13 08:00): its day stays.
  RetentionJob one_day(*store_, RetentionPolicy{.default_retention = absl::Hours(24),
                                                .max_retention = absl::Hours(24)});
  ASSERT_OK_AND_ASSIGN(const RetentionResult kept, one_day.RunOnce(Day(11, 12, 12)));
  EXPECT_EQ(kept.kept_queued, 1);
  EXPECT_EQ(kept.dropped, 1);
  EXPECT_THAT(store_->FindByEnvid("queued"), IsOkAndHolds(SizeIs(1)));

  // The message ends (delivered): now its day goes.
  model::HopEvent delivered = queued;
  delivered.action = model::DsnAction::kDelivered;
  delivered.status = "2.0.0";
  delivered.will_retry_until = absl::InfinitePast();
  delivered.event_time = Day(11, 12, 13);
  delivered = WithId(delivered);
  ASSERT_OK(store_->Append(std::vector{delivered}).status());
  ASSERT_OK_AND_ASSIGN(const RetentionResult gone, one_day.RunOnce(Day(11, 12, 14)));
  EXPECT_EQ(gone.dropped, 1);
  EXPECT_THAT(store_->ListPartitionDays(), IsOkAndHolds(IsEmpty()));

  // A late event for a dropped day recreates its partition (the cache was invalidated).
  EXPECT_THAT(store_->Append(std::vector{old}), IsOkAndHolds(1));
  EXPECT_THAT(store_->FindByEnvid("old"), IsOkAndHolds(SizeIs(1)));
}

// Staff search by exact recipient, with no time bound: through hop_recipients (0005).
std::vector<store::MessageRef> ByRecipient(store::EventStore& store, const std::string& rcpt) {
  store::SearchFilter filter;
  filter.recipient = rcpt;
  absl::StatusOr<std::vector<store::MessageRef>> refs = store.Search(filter, std::nullopt, 100);
  EXPECT_OK(refs);
  return refs.ok() ? *refs : std::vector<store::MessageRef>();
}

store::MessageRef RefOf(const model::HopEvent& e) {
  return store::MessageRef{.message_key = store::MessageKeyOf(e), .first_seen = e.queue_first_seen};
}

// The ENVID and recipient indexes (hop_envids, hop_recipients) are partitioned by month: a month
// goes only with the last day of hop_events in it, so a still-queued message keeps its ENVID and
// stays found by recipient, and never row by row.
TEST_F(RetentionJobTest, EnvidIndexMonthGoesWithItsLastDay) {
  const model::HopEvent october = Hop("october", Day(10, 30, 8), false);
  const model::HopEvent queued = Hop("queued", Day(10, 31, 8), true);  // retried until 11-05
  const model::HopEvent november = Hop("november", Day(11, 3, 8), false);
  ASSERT_OK(store_->Append(std::vector{october, queued, november}).status());
  RetentionJob one_day(*store_, RetentionPolicy{.default_retention = absl::Hours(24),
                                                .max_retention = absl::Hours(24)});

  ASSERT_OK_AND_ASSIGN(const RetentionResult first, one_day.RunOnce(Day(11, 3, 12)));
  EXPECT_EQ(first.dropped, 1);  // 10-30; 10-31 holds a queued message, 11-03 is too young
  EXPECT_EQ(first.kept_queued, 1);
  EXPECT_THAT(store_->FindByEnvid("queued"), IsOkAndHolds(SizeIs(1)));
  EXPECT_THAT(store_->FindMessagesByEnvid("queued"), IsOkAndHolds(SizeIs(1)));
  // October's index stays while a day of October does: the dropped day's entry finds no hops.
  EXPECT_THAT(store_->FindMessagesByEnvid("october"), IsOkAndHolds(SizeIs(1)));
  EXPECT_THAT(store_->FindByEnvid("october"), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(ByRecipient(*store_, "alice@b.example"), ElementsAre(RefOf(queued), RefOf(november)));
  EXPECT_EQ(IndexRows("hop_recipients_p202610"), 4);  // both addresses of october and queued

  // The queued message ends; its day and with it October's index go, November's stays.
  model::HopEvent delivered = queued;
  delivered.action = model::DsnAction::kDelivered;
  delivered.will_retry_until = absl::InfinitePast();
  delivered.event_time = Day(11, 4, 8);
  ASSERT_OK(store_->Append(std::vector{WithId(delivered)}).status());
  ASSERT_OK_AND_ASSIGN(const RetentionResult second, one_day.RunOnce(Day(11, 4, 12)));
  EXPECT_EQ(second.dropped, 1);  // 10-31
  EXPECT_THAT(store_->ListPartitionDays(), IsOkAndHolds(ElementsAre(Day(11, 3))));
  EXPECT_THAT(store_->FindMessagesByEnvid("october"), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(store_->FindMessagesByEnvid("queued"), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(store_->FindByEnvid("november"), IsOkAndHolds(ElementsAre(november)));
  EXPECT_THAT(ByRecipient(*store_, "alice@b.example"), ElementsAre(RefOf(november)));
  EXPECT_EQ(IndexRows("hop_recipients_p202610"), -1);
  EXPECT_EQ(IndexRows("hop_recipients_p202611"), 2);

  // A late event for October recreates both its day and its month.
  EXPECT_THAT(store_->Append(std::vector{october}), IsOkAndHolds(1));
  EXPECT_THAT(store_->FindByEnvid("october"), IsOkAndHolds(ElementsAre(october)));
  EXPECT_THAT(ByRecipient(*store_, "alice@b.example"),
              ElementsAre(RefOf(october), RefOf(november)));
}

TEST_F(RetentionJobTest, AnotherCollectorsDropIsNoticedOnInsert) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<store::PgEventStore> other,
                       store::PgEventStore::Connect(db_.conninfo(), {.pool_size = 1}));
  const model::HopEvent old = Hop("old", Day(11, 1, 8), false);
  ASSERT_OK(store_->Append(std::vector{old}).status());  // store_ caches day 11-01
  ASSERT_OK(other->DropPartition(Day(11, 1)));           // the other collector's retention
  EXPECT_THAT(store_->Append(std::vector{old}), IsOkAndHolds(1));
}

}  // namespace
}  // namespace mtrk::collector::retention
