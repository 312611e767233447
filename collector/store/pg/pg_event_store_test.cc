#include "collector/store/pg/pg_event_store.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <stdexcept>
#include <thread>
#include <vector>

#include "collector/testing/sample_events.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/pg_environment.h"
#include "tests/support/status_matchers.h"

namespace mtrk::collector::store {
namespace {

using ::mtrk::collector::testing::At;
using ::mtrk::collector::testing::Delayed;
using ::mtrk::collector::testing::Delivered;
using ::mtrk::collector::testing::ExpansionMember;
using ::mtrk::collector::testing::kEnvid;
using ::mtrk::collector::testing::kMessageId;
using ::mtrk::collector::testing::WithId;
using ::mtrk::test::IsOk;
using ::mtrk::test::IsOkAndHolds;
using ::mtrk::test::StatusIs;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAreArray;

std::vector<model::HopEvent> TwoHops() {
  return {Delayed("alice@b.example", At(6, 27, 13)), Delivered()};
}

class PgEventStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(db_, test::PgEnvironment::Get().NewDatabase());
    ASSERT_OK_AND_ASSIGN(store_, PgEventStore::Connect(db_.conninfo(), {.pool_size = 2}));
  }
  test::PgDatabase db_;
  std::unique_ptr<PgEventStore> store_;
};

TEST_F(PgEventStoreTest, ResentBatchIsStoredOnce) {
  const std::vector<model::HopEvent> batch = TwoHops();
  EXPECT_THAT(store_->Append(batch), IsOkAndHolds(2));
  EXPECT_THAT(store_->Append(batch), IsOkAndHolds(0));  // the agent lost our ack and resent
  EXPECT_THAT(store_->FindByEnvid(kEnvid), IsOkAndHolds(UnorderedElementsAreArray(batch)));
}

// Append COPYs straight into hop_events and falls back to INSERT ... ON CONFLICT only when that
// hits the primary key: a batch mixing stored and new events (and repeating one) must still
// store each new event once and count only those.
TEST_F(PgEventStoreTest, PartlyResentBatchStoresOnlyTheNewEvents) {
  const std::vector<model::HopEvent> first = TwoHops();
  ASSERT_THAT(store_->Append(first), IsOkAndHolds(2));
  const model::HopEvent fresh = WithId(Delivered("carol@b.example"));
  const std::vector<model::HopEvent> mixed = {first[1], fresh, first[0], fresh};
  EXPECT_THAT(store_->Append(mixed), IsOkAndHolds(1));
  EXPECT_THAT(store_->FindByEnvid(kEnvid),
              IsOkAndHolds(UnorderedElementsAreArray({first[0], first[1], fresh})));
  EXPECT_THAT(store_->Append(std::vector{WithId(Delivered("dave@b.example"))}), IsOkAndHolds(1));
}

TEST_F(PgEventStoreTest, EmptyBatchStoresNothing) {
  EXPECT_THAT(store_->Append(std::vector<model::HopEvent>()), IsOkAndHolds(0));
}

TEST_F(PgEventStoreTest, EveryFieldRoundTrips) {
  model::HopEvent sparse = Delivered("bob@b.example");  // optional fields unset
  sparse.certifier.clear();
  sparse.envid.clear();
  sparse.arrival_time = absl::InfinitePast();
  sparse.last_attempt_time = absl::InfinitePast();
  sparse.reporting_mta.clear();
  sparse.message_id = "no-brackets@a.example";
  sparse.queue_first_seen = At(23, 59, 59) + absl::Microseconds(999999);  // day boundary
  const std::vector<model::HopEvent> batch = {
      Delayed("alice@b.example", At(6, 27, 13)),  // will_retry_until set
      ExpansionMember("m@b.example"), WithId(sparse)};
  ASSERT_THAT(store_->Append(batch), IsOkAndHolds(3));
  EXPECT_THAT(store_->FindByEnvid(kEnvid),
              IsOkAndHolds(UnorderedElementsAreArray({batch[0], batch[1]})));
  EXPECT_THAT(store_->FindByMessageId("no-brackets@a.example"),
              IsOkAndHolds(UnorderedElementsAreArray({batch[2]})));
}

TEST_F(PgEventStoreTest, FindsByMessageIdExactlyAndEnvidCaseSensitively) {
  ASSERT_THAT(store_->Append(TwoHops()), IsOkAndHolds(2));
  EXPECT_THAT(store_->FindByMessageId(kMessageId), IsOkAndHolds(::testing::SizeIs(2)));
  EXPECT_THAT(store_->FindByMessageId("other@a.example"), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(store_->FindByEnvid("20261123.A1B2C3@a.example"), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(store_->FindByEnvid(""), IsOkAndHolds(IsEmpty()));
}

TEST_F(PgEventStoreTest, EventsOnManyDaysGetTheirPartitions) {
  std::vector<model::HopEvent> batch;
  for (int day = 0; day < 3; ++day) {
    model::HopEvent e = Delivered();
    e.queue_first_seen += absl::Hours(24 * day);
    batch.push_back(WithId(e));
  }
  EXPECT_THAT(store_->Append(batch), IsOkAndHolds(3));
  // A second store has an empty partition cache and must find the partitions existing.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<PgEventStore> other,
                       PgEventStore::Connect(db_.conninfo(), {}));
  EXPECT_THAT(other->Append(batch), IsOkAndHolds(0));
}

TEST_F(PgEventStoreTest, RefusedValueFailsTheWholeBatch) {
  const struct {
    const char* name;
    std::string diagnostic;
  } kCases[] = {
      {"NUL byte", std::string("a\0b", 3)},  // libpq would cut the value short
      {"invalid UTF-8", "caf\xe9"},          // the database refuses it
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    model::HopEvent bad = Delivered("bad@b.example");
    bad.diagnostic = c.diagnostic;
    const std::vector<model::HopEvent> batch = {Delivered(), WithId(bad)};
    EXPECT_THAT(store_->Append(batch), StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(store_->FindByEnvid(kEnvid), IsOkAndHolds(IsEmpty()));  // atomic
  }
  // The connection still works.
  EXPECT_THAT(store_->Append(std::vector<model::HopEvent>{Delivered()}), IsOkAndHolds(1));
}

TEST_F(PgEventStoreTest, DroppedConnectionIsUnavailableThenRecovers) {
  ASSERT_THAT(store_->Append(std::vector<model::HopEvent>{Delivered()}),
              IsOkAndHolds(1));  // a pooled connection exists
  ASSERT_OK(db_.TerminateBackends());
  const absl::StatusOr<int64_t> first =
      store_->Append(std::vector<model::HopEvent>{Delivered("x@b.example")});
  EXPECT_THAT(first, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(store_->Append(std::vector<model::HopEvent>{Delivered("x@b.example")}),
              IsOkAndHolds(1));  // reconnected
}

TEST_F(PgEventStoreTest, UnreachableDatabaseIsUnavailable) {
  EXPECT_THAT(PgEventStore::Connect("host=127.0.0.1 port=1 user=postgres dbname=x", {}),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(PgEventStoreTest, ConcurrentStoresAppendingTheSameBatchStoreItOnce) {
  std::vector<model::HopEvent> batch;
  for (int i = 0; i < 50; ++i) {
    model::HopEvent e = Delivered(absl::StrCat("r", i, "@b.example"));
    e.queue_first_seen += absl::Hours(24 * (i % 3));  // and race on creating partitions
    batch.push_back(WithId(e));
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<PgEventStore> a, PgEventStore::Connect(db_.conninfo(), {}));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<PgEventStore> b, PgEventStore::Connect(db_.conninfo(), {}));
  absl::StatusOr<int64_t> stored_a, stored_b;
  {
    std::jthread ta([&] { stored_a = a->Append(batch); });
    std::jthread tb([&] { stored_b = b->Append(batch); });
  }
  ASSERT_OK(stored_a);
  ASSERT_OK(stored_b);
  EXPECT_EQ(*stored_a + *stored_b, 50);
  EXPECT_THAT(store_->FindByEnvid(kEnvid), IsOkAndHolds(::testing::SizeIs(50)));
}

// The batch travels by COPY: its text format's special characters must arrive unchanged.
TEST_F(PgEventStoreTest, CopyKeepsTabsNewlinesAndBackslashes) {
  model::HopEvent e = Delivered("o'brien\\x@b.example");
  e.diagnostic = "tab\there\nnew line\r\\N \\. \"quoted\" 'single' \xc3\xa9";
  e.message_id = "<a\\b\t@c>";
  e = WithId(e);
  ASSERT_THAT(store_->Append(std::vector{e}), IsOkAndHolds(1));
  EXPECT_THAT(store_->FindByEnvid(kEnvid), IsOkAndHolds(::testing::ElementsAre(e)));
}

// Ack after commit: a collector that dies between receiving a batch and COMMIT (here: the fault
// hook throws just before COMMIT) has stored nothing, so the agent's resend lands exactly once.
TEST_F(PgEventStoreTest, NothingIsStoredWhenCommitNeverHappens) {
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<PgEventStore> dying,
      PgEventStore::Connect(db_.conninfo(), {.pool_size = 1, .before_commit = [] {
                                               throw std::runtime_error("killed before commit");
                                             }}));
  const std::vector<model::HopEvent> batch = TwoHops();
  EXPECT_FALSE(dying->Append(batch).ok());
  EXPECT_THAT(store_->FindByEnvid(kEnvid), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(store_->Append(batch), IsOkAndHolds(2));  // the resend, to a healthy collector
  EXPECT_THAT(store_->Append(batch), IsOkAndHolds(0));
  EXPECT_THAT(store_->FindByEnvid(kEnvid), IsOkAndHolds(::testing::SizeIs(2)));
}

// Track reads the ENVID index (hop_envids, 0004), filled in the batch's transaction: one entry
// per message, however many hops and resends, and nothing for a batch that never committed.
TEST_F(PgEventStoreTest, EnvidNamesEachMessageOnceAcrossHopsAndResends) {
  const std::vector<model::HopEvent> batch = TwoHops();  // one message, two hops
  model::HopEvent relayed = Delivered();  // the same ENVID at the next MTA: another message
  relayed.reporting_host = "mta-b";
  relayed.queue_id = "1B2C3D4E5F";
  relayed.queue_first_seen += absl::Seconds(1);
  relayed = WithId(relayed);
  model::HopEvent untracked = WithId(Delivered("bob@b.example"));
  untracked.envid.clear();
  untracked.queue_id = "B0B";
  untracked = WithId(untracked);
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<PgEventStore> dying,
      PgEventStore::Connect(db_.conninfo(), {.pool_size = 1, .before_commit = [] {
                                               throw std::runtime_error("killed before commit");
                                             }}));
  EXPECT_FALSE(dying->Append(std::vector{relayed}).ok());
  EXPECT_THAT(store_->FindMessagesByEnvid(kEnvid), IsOkAndHolds(IsEmpty()));

  ASSERT_THAT(store_->Append(batch), IsOkAndHolds(2));
  ASSERT_THAT(store_->Append(batch), IsOkAndHolds(0));  // resend
  ASSERT_THAT(store_->Append(std::vector{batch[0], relayed, untracked}), IsOkAndHolds(2));
  const MessageRef first{.message_key = MessageKeyOf(batch[0]),
                         .first_seen = batch[0].queue_first_seen};
  const MessageRef second{.message_key = MessageKeyOf(relayed),
                          .first_seen = relayed.queue_first_seen};
  EXPECT_THAT(store_->FindMessagesByEnvid(kEnvid),
              IsOkAndHolds(::testing::ElementsAre(first, second)));  // by first_seen
  EXPECT_THAT(store_->FindByEnvid(kEnvid), IsOkAndHolds(::testing::SizeIs(3)));
  EXPECT_THAT(store_->FindMessagesByEnvid("20261123.A1B2C3@a.example"), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(store_->FindMessagesByEnvid(""), IsOkAndHolds(IsEmpty()));
}

// Staff search by exact recipient and by prefix reads the recipient index (hop_recipients,
// 0005), filled in the batch's transaction with one entry per message and address (the final
// recipient and, when different, ORCPT): it finds what a search of hop_events' own recipient
// columns found, in the same order, with the same time range, cursor and other criteria.
TEST_F(PgEventStoreTest, RecipientSearchGoesThroughItsIndexAndFindsWhatItFoundBefore) {
  // Message A: alice delayed then delivered, and bob (Delivered gives ORCPT "rfc822;<final>").
  std::vector<model::HopEvent> batch = {Delayed("alice@b.example", At(6, 27, 13)),
                                        Delivered("alice@b.example"), Delivered("bob@b.example")};
  const auto message = [](const std::string& rcpt, const std::string& orcpt, const char* queue_id,
                          absl::Duration later) {
    model::HopEvent e = Delivered(rcpt);
    e.original_recipient = orcpt;
    e.queue_id = queue_id;
    e.queue_first_seen += later;
    return WithId(e);
  };
  // Message S, 2 h later: ORCPT equals the final recipient (one entry). Message R, a day later:
  // rewritten from alias@b.example, which only its ORCPT names.
  const model::HopEvent same = message("alias@b.example", "alias@b.example", "S1", absl::Hours(2));
  const model::HopEvent rewritten =
      message("alice@mail.b.example", "alias@b.example", "R1", absl::Hours(24));
  batch.push_back(same);
  batch.push_back(rewritten);
  ASSERT_THAT(store_->Append(batch), IsOkAndHolds(5));
  ASSERT_THAT(store_->Append(batch), IsOkAndHolds(0));  // resend: no index entries either
  {
    pqxx::connection conn(db_.conninfo());
    pqxx::read_transaction txn(conn);
    // A: alice, rfc822;alice, bob, rfc822;bob; S: alias; R: alice@mail, alias.
    EXPECT_EQ(txn.exec1("SELECT count(*) FROM hop_recipients")[0].as<int>(), 7);
  }
  const auto ref = [](const model::HopEvent& e) {
    return MessageRef{.message_key = MessageKeyOf(e), .first_seen = e.queue_first_seen};
  };
  const MessageRef a = ref(batch[0]), s = ref(same), r = ref(rewritten);
  using Match = SearchFilter::Match;
  using ::testing::ElementsAre;
  // A filter on `rcpt` under `match`, further narrowed by `narrow`.
  const auto search = [&](const std::string& rcpt, Match match = Match::kExact,
                          const std::function<void(SearchFilter&)>& narrow = nullptr,
                          std::optional<MessageRef> after = std::nullopt, int limit = 100) {
    SearchFilter f;
    f.recipient = rcpt;
    f.match = match;
    if (narrow) narrow(f);
    return store_->Search(f, after, limit);
  };
  EXPECT_THAT(search("alias@b.example"), IsOkAndHolds(ElementsAre(s, r)));
  EXPECT_THAT(search("alice@b.example"), IsOkAndHolds(ElementsAre(a)));
  EXPECT_THAT(search("rfc822;bob@b.example"), IsOkAndHolds(ElementsAre(a)));
  EXPECT_THAT(search("ALICE@b.example"), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(search("ali"), IsOkAndHolds(IsEmpty()));  // exact
  EXPECT_THAT(search("ali", Match::kPrefix), IsOkAndHolds(ElementsAre(a, s, r)));
  EXPECT_THAT(search("alias@", Match::kPrefix), IsOkAndHolds(ElementsAre(s, r)));
  EXPECT_THAT(search("ali", Match::kPrefix,
                     [&](SearchFilter& f) { f.from = a.first_seen + absl::Hours(1); }),
              IsOkAndHolds(ElementsAre(s, r)));
  EXPECT_THAT(
      search("ali", Match::kPrefix, [&](SearchFilter& f) { f.to = a.first_seen + absl::Hours(3); }),
      IsOkAndHolds(ElementsAre(a, s)));
  EXPECT_THAT(search("ali", Match::kPrefix, nullptr, s), IsOkAndHolds(ElementsAre(r)));
  EXPECT_THAT(search("ali", Match::kPrefix, nullptr, std::nullopt, 1),
              IsOkAndHolds(ElementsAre(a)));
  // The other criteria still apply to the same hop as the recipient.
  EXPECT_THAT(search("alias@b.example", Match::kExact, [](SearchFilter& f) { f.queue_id = "R1"; }),
              IsOkAndHolds(ElementsAre(r)));
  EXPECT_THAT(search("alice@b.example", Match::kExact, [](SearchFilter& f) { f.queue_id = "R1"; }),
              IsOkAndHolds(IsEmpty()));
  // Substring stays on hop_events.
  EXPECT_THAT(search("lias@b.ex", Match::kSubstring), IsOkAndHolds(ElementsAre(s, r)));
}

TEST(MessageKeyTest, DependsOnlyOnTheMessageAtItsMta) {
  const model::HopEvent a = Delivered("a@b.example");
  const model::HopEvent b = Delayed("b@b.example", At(9, 0, 0));
  EXPECT_EQ(MessageKeyOf(a), MessageKeyOf(b));
  EXPECT_EQ(MessageKeyOf(a).size(), 32u);
  model::HopEvent reused = a;  // the same queue id reused later is another message
  reused.queue_first_seen += absl::Hours(1);
  EXPECT_NE(MessageKeyOf(a), MessageKeyOf(reused));
}

}  // namespace
}  // namespace mtrk::collector::store
