#include "collector/lookup/staff_search.h"

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

namespace mtrk::collector::lookup {
namespace {

using ::mtrk::collector::testing::At;
using ::mtrk::collector::testing::AtHost;
using ::mtrk::collector::testing::Delivered;
using ::mtrk::collector::testing::kMessageId;
using ::mtrk::collector::testing::LinkedSample;
using ::mtrk::collector::testing::MakeLinkedSample;
using ::mtrk::collector::testing::WithId;
using ::mtrk::test::StatusIs;

class StaffSearchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(db_, test::PgEnvironment::Get().NewDatabase());
    ASSERT_OK_AND_ASSIGN(store_, store::PgEventStore::Connect(db_.conninfo(), {.pool_size = 2}));
    s_ = MakeLinkedSample();
    for (const auto* part : {&s_.b, &s_.forward, &s_.a, &s_.bounce, &s_.c, &s_.unrelated}) {
      ASSERT_OK(store_->Append(*part).status());
    }
  }
  v1::StaffSearchResponse Search(v1::StaffSearchRequest request) {
    v1::StaffSearchResponse response;
    EXPECT_OK(StaffSearch(*store_, request, &response));
    return response;
  }
  test::PgDatabase db_;
  std::unique_ptr<store::PgEventStore> store_;
  LinkedSample s_;
};

TEST_F(StaffSearchTest, ByRecipientReturnsEachTimelineOnceAsAWhole) {
  v1::StaffSearchRequest r;
  r.set_recipient("alice@b.example");  // matches at A, B, C and in the unrelated message
  const v1::StaffSearchResponse got = Search(r);
  ASSERT_EQ(got.messages_size(), 2);
  EXPECT_TRUE(got.next_cursor().empty());
  const v1::MessageTimeline& linked = got.messages(0);
  EXPECT_EQ(linked.message_key(), link::RefOf(s_.a[0]).message_key);
  EXPECT_EQ(linked.message_id(), kMessageId);
  EXPECT_EQ(linked.sender(), "sender@a.example");
  EXPECT_EQ(linked.hops_size(), static_cast<int>(s_.Linked().size()));
  EXPECT_EQ(got.messages(1).hops_size(), 1);
}

TEST_F(StaffSearchTest, EveryCriterionFindsTheLinkedTimeline) {
  const struct {
    const char* name;
    v1::StaffSearchRequest request;
  } kCases[] = {
      {"message-id bare",
       [] {
         v1::StaffSearchRequest r;
         r.set_message_id("20261123062713.A606DA7424D@a.example");
         return r;
       }()},
      {"queue id at B",
       [] {
         v1::StaffSearchRequest r;
         r.set_queue_id("1B2C3D4E5F");
         return r;
       }()},
      {"forward member",
       [] {
         v1::StaffSearchRequest r;
         r.set_recipient("carol@b.example");
         return r;
       }()},
      {"prefix",
       [] {
         v1::StaffSearchRequest r;
         r.set_recipient("car");
         r.set_match(v1::StaffSearchRequest::MATCH_PREFIX);
         return r;
       }()},
      {"substring",
       [] {
         v1::StaffSearchRequest r;
         r.set_recipient("rol@b.ex");
         r.set_match(v1::StaffSearchRequest::MATCH_SUBSTRING);
         return r;
       }()},
      {"sender + action",
       [] {
         v1::StaffSearchRequest r;
         r.set_sender("sender@a.example");
         r.set_action(v1::ACTION_EXPANDED);
         return r;
       }()},
      {"envid",
       [] {
         v1::StaffSearchRequest r;
         r.set_envid("<20261123.a1b2c3@a.example>");
         return r;
       }()},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    const v1::StaffSearchResponse got = Search(c.request);
    ASSERT_EQ(got.messages_size(), 1);
    EXPECT_EQ(got.messages(0).message_key(), link::RefOf(s_.a[0]).message_key);
    EXPECT_EQ(got.messages(0).hops_size(), static_cast<int>(s_.Linked().size()));
  }
}

TEST_F(StaffSearchTest, FiltersThatMatchNothing) {
  v1::StaffSearchRequest r;
  r.set_recipient("ali");  // exact by default: no prefix match
  EXPECT_EQ(Search(r).messages_size(), 0);
  r.set_recipient("alice@b.example");
  r.add_domains("elsewhere.example");
  EXPECT_EQ(Search(r).messages_size(), 0);
  r.clear_domains();
  r.set_from_us(absl::ToUnixMicros(At(8, 0, 0)));
  EXPECT_EQ(Search(r).messages_size(), 0);
  v1::StaffSearchRequest like;
  like.set_recipient("%");  // LIKE metacharacters are literal
  like.set_match(v1::StaffSearchRequest::MATCH_SUBSTRING);
  EXPECT_EQ(Search(like).messages_size(), 0);
}

TEST_F(StaffSearchTest, PagesAreStableAndNeverRepeat) {
  std::vector<model::HopEvent> more;
  for (int i = 0; i < 5; ++i) {
    model::HopEvent e = AtHost(Delivered("bulk@b.example"), "mta-a", "postfix-a",
                               "BULK" + std::to_string(i), At(9, 0, i));
    e.message_id = "<bulk" + std::to_string(i) + "@a.example>";
    more.push_back(WithId(e));
  }
  ASSERT_OK(store_->Append(more).status());
  v1::StaffSearchRequest r;
  r.set_recipient("bulk@b.example");
  r.set_page_size(2);
  std::set<std::string> seen;
  int pages = 0;
  do {
    const v1::StaffSearchResponse got = Search(r);
    for (const v1::MessageTimeline& m : got.messages()) {
      EXPECT_TRUE(seen.insert(m.message_key()).second) << "repeated " << m.message_key();
    }
    r.set_cursor(got.next_cursor());
    ++pages;
  } while (!r.cursor().empty() && pages < 10);
  EXPECT_EQ(seen.size(), 5u);
  EXPECT_EQ(pages, 3);
}

TEST_F(StaffSearchTest, BadCursorIsInvalidArgument) {
  v1::StaffSearchRequest r;
  r.set_cursor("not a cursor!");
  v1::StaffSearchResponse response;
  EXPECT_THAT(StaffSearch(*store_, r, &response), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(StaffSearchTest, GetTimelineFromAnyHopKeyGivesTheWholeMessage) {
  v1::GetTimelineRequest r;
  r.set_message_key(link::RefOf(s_.b[0]).message_key);
  v1::MessageTimeline t;
  ASSERT_OK(GetTimeline(*store_, r, &t));
  EXPECT_EQ(t.message_key(), link::RefOf(s_.a[0]).message_key);
  EXPECT_EQ(t.hops_size(), static_cast<int>(s_.Linked().size()));
  r.add_domains("b.example");
  v1::MessageTimeline again;
  EXPECT_OK(GetTimeline(*store_, r, &again));
  r.set_domains(0, "nowhere.example");
  v1::MessageTimeline hidden;
  EXPECT_THAT(GetTimeline(*store_, r, &hidden), StatusIs(absl::StatusCode::kNotFound));
  r.set_message_key("00000000000000000000000000000000");
  EXPECT_THAT(GetTimeline(*store_, r, &hidden), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace mtrk::collector::lookup
