#include "collector/link/linker.h"

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "collector/store/pg/pg_event_store.h"
#include "collector/testing/linked_sample.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/pg_environment.h"
#include "tests/support/status_matchers.h"

namespace mtrk::collector::link {
namespace {

using ::mtrk::collector::testing::LinkedSample;
using ::mtrk::collector::testing::MakeLinkedSample;
using ::testing::UnorderedElementsAreArray;

std::vector<std::string> Ids(const std::vector<model::HopEvent>& hops) {
  std::vector<std::string> ids;
  for (const model::HopEvent& h : hops) ids.push_back(h.event_id);
  return ids;
}

class LinkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(db_, test::PgEnvironment::Get().NewDatabase());
    ASSERT_OK_AND_ASSIGN(store_, store::PgEventStore::Connect(db_.conninfo(), {.pool_size = 2}));
  }
  absl::StatusOr<Timeline> From(const model::HopEvent& hop) {
    const store::MessageRef seeds[] = {RefOf(hop)};
    return BuildTimeline(*store_, seeds);
  }
  test::PgDatabase db_;
  std::unique_ptr<store::PgEventStore> store_;
};

TEST_F(LinkerTest, EveryEdgeKindJoinsOneTimelineWhateverTheArrivalOrder) {
  const LinkedSample s = MakeLinkedSample();
  // Last hops first: the forward's members, then B, then the rest; A's events come last.
  for (const auto* part : {&s.forward, &s.b, &s.bounce, &s.c, &s.unrelated, &s.reused, &s.a}) {
    ASSERT_OK(store_->Append(*part).status());
  }
  const std::vector<std::string> want = Ids(s.Linked());
  for (const model::HopEvent* seed : {&s.a[0], &s.b[0], &s.forward[1], &s.bounce[0], &s.c[0]}) {
    SCOPED_TRACE(seed->reporting_host + " " + seed->queue_id);
    ASSERT_OK_AND_ASSIGN(const Timeline t, From(*seed));
    EXPECT_THAT(Ids(t.hops), UnorderedElementsAreArray(want));
    EXPECT_FALSE(t.truncated);
    ASSERT_EQ(t.messages.size(), 5u);              // A, B, the forward, the NDR, C
    EXPECT_EQ(t.messages.front(), RefOf(s.a[0]));  // the entry into the domain comes first
    for (size_t i = 1; i < t.hops.size(); ++i) {
      EXPECT_LE(t.hops[i - 1].event_time, t.hops[i].event_time);
    }
  }
}

TEST_F(LinkerTest, UnrelatedAndReusedQueueIdsStayApart) {
  const LinkedSample s = MakeLinkedSample();
  for (const auto* part : {&s.a, &s.b, &s.unrelated, &s.reused}) {
    ASSERT_OK(store_->Append(*part).status());
  }
  ASSERT_OK_AND_ASSIGN(const Timeline reused, From(s.reused[0]));
  EXPECT_THAT(Ids(reused.hops), UnorderedElementsAreArray(Ids(s.reused)));
  ASSERT_OK_AND_ASSIGN(const Timeline other, From(s.unrelated[0]));
  EXPECT_THAT(Ids(other.hops), UnorderedElementsAreArray(Ids(s.unrelated)));
}

TEST_F(LinkerTest, LinkQueryFollowsQueueIdsBouncesAndMessageIds) {
  const LinkedSample s = MakeLinkedSample();
  const store::LinkQuery q = LinkQueryFor(s.bounce);
  EXPECT_THAT(q.queue_ids, ::testing::ElementsAre("A606DA7424D"));
  EXPECT_THAT(q.next_queue_ids, ::testing::ElementsAre("BNC0000001"));
  EXPECT_THAT(q.bounce_clients, ::testing::ElementsAre("bounce:BNC0000001"));
  EXPECT_EQ(q.from, s.bounce[0].queue_first_seen - kLinkLookBack);
  EXPECT_EQ(q.to, s.bounce[0].event_time + kLinkLookAhead);
  const store::LinkQuery none = LinkQueryFor({});
  EXPECT_TRUE(none.queue_ids.empty() && none.message_ids.empty());
}

}  // namespace
}  // namespace mtrk::collector::link
