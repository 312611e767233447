#include "collector/lookup/originator_view.h"

#include <string>
#include <vector>

#include "collector/testing/sample_events.h"
#include "common/net/certifier.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace mtrk::collector::lookup {
namespace {

using ::mtrk::collector::testing::At;
using ::mtrk::collector::testing::CertifierB;
using ::mtrk::collector::testing::Delayed;
using ::mtrk::collector::testing::Delivered;
using ::mtrk::collector::testing::ExpansionMember;
using ::mtrk::collector::testing::SecretA;
using ::mtrk::collector::testing::WithId;
using ::mtrk::test::IsOkAndHolds;
using ::mtrk::test::StatusIs;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::IsEmpty;

// "host rcpt action" per event, for readable expectations.
std::vector<std::string> Describe(const std::vector<model::HopEvent>& events) {
  std::vector<std::string> out;
  for (const model::HopEvent& e : events) {
    out.push_back(e.reporting_host + " " + e.final_recipient + " " +
                  std::string(model::ActionName(e.action)));
  }
  return out;
}

TEST(OriginatorViewTest, RightSecretSeesTheDelivery) {
  const std::vector<model::HopEvent> events = {Delivered()};
  absl::StatusOr<std::vector<model::HopEvent>> view = OriginatorView(events, SecretA());
  ASSERT_OK(view);
  EXPECT_THAT(Describe(*view), ElementsAre("mta-a alice@b.example delivered"));
  EXPECT_EQ((*view)[0], events[0]);  // the event itself, not a summary
}

TEST(OriginatorViewTest, WrongSecretAndUnknownEnvidGiveTheSameNotFound) {
  const std::vector<model::HopEvent> events = {Delivered()};
  std::string wrong = SecretA();
  wrong[0] ^= 1;
  const absl::StatusOr<std::vector<model::HopEvent>> wrong_secret = OriginatorView(events, wrong);
  const absl::StatusOr<std::vector<model::HopEvent>> unknown = OriginatorView({}, SecretA());
  EXPECT_THAT(wrong_secret, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(wrong_secret.status(), unknown.status());
  EXPECT_EQ(unknown.status().message(), "no information");
}

TEST(OriginatorViewTest, SecretOutsideAllowedLengthIsAWrongSecret) {
  const std::vector<model::HopEvent> events = {Delivered()};
  // DIGEST §6.13: fewer than 16 octets never matches, even if someone stored SHA1 of it.
  model::HopEvent short_secret = Delivered();
  short_secret.certifier = net::CertifierOf("short");
  const std::vector<model::HopEvent> crafted = {WithId(short_secret)};
  EXPECT_THAT(OriginatorView(crafted, "short"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(OriginatorView(events, ""), StatusIs(absl::StatusCode::kNotFound));
}

TEST(OriginatorViewTest, OnlyEventsWithTheMatchingCertifierCount) {
  model::HopEvent other_sender = Delivered("bob@c.example");  // same ENVID, another sender's B
  other_sender.certifier = net::CertifierOf(std::string(16, 'x'));
  model::HopEvent untracked = Delivered("carol@c.example");
  untracked.certifier.clear();
  const std::vector<model::HopEvent> events = {WithId(other_sender), Delivered(),
                                               WithId(untracked)};
  EXPECT_THAT(
      OriginatorView(events, SecretA()),
      IsOkAndHolds(ElementsAre(Field(&model::HopEvent::final_recipient, "alice@b.example"))));
  EXPECT_THAT(OriginatorView(events, std::string(16, 'x')),
              IsOkAndHolds(ElementsAre(Field(&model::HopEvent::final_recipient, "bob@c.example"))));
}

TEST(OriginatorViewTest, ExpansionMembersNeverLeak) {
  model::HopEvent expanded = Delivered("list@b.example");
  expanded.action = model::DsnAction::kExpanded;
  const std::vector<model::HopEvent> events = {ExpansionMember("m1@b.example"), WithId(expanded),
                                               ExpansionMember("m2@b.example")};
  absl::StatusOr<std::vector<model::HopEvent>> view = OriginatorView(events, SecretA());
  ASSERT_OK(view);
  EXPECT_THAT(Describe(*view), ElementsAre("mta-a list@b.example expanded"));
}

TEST(OriginatorViewTest, OnlyMembersLeftIsAnEmptyAnswerNotNotFound) {
  // The secret is right, so the originator learns the message exists; there is just nothing
  // they may see yet.
  const std::vector<model::HopEvent> events = {ExpansionMember("m1@b.example")};
  EXPECT_THAT(OriginatorView(events, SecretA()), IsOkAndHolds(IsEmpty()));
}

TEST(OriginatorViewTest, LatestStatePerRecipientWins) {
  const struct {
    const char* name;
    std::vector<model::HopEvent> events;
    const char* want;
  } kCases[] = {
      {"delayed then delivered",
       {Delayed("alice@b.example", At(6, 27, 13)), Delivered()},
       "mta-a alice@b.example delivered"},
      {"delivered is older than a later deferral",  // latest by time, whatever the action
       {Delivered(), Delayed("alice@b.example", At(7, 0, 0))},
       "mta-a alice@b.example delayed"},
      {"two deferrals",
       {Delayed("alice@b.example", At(7, 0, 0)), Delayed("alice@b.example", At(6, 30, 0))},
       "mta-a alice@b.example delayed"},
      {"same time: terminal beats delayed (delayed listed last)",
       {Delivered(), Delayed("alice@b.example", At(6, 27, 14))},
       "mta-a alice@b.example delivered"},
      {"same time: terminal beats delayed (delayed listed first)",
       {Delayed("alice@b.example", At(6, 27, 14)), Delivered()},
       "mta-a alice@b.example delivered"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<std::vector<model::HopEvent>> view = OriginatorView(c.events, SecretA());
    ASSERT_OK(view);
    EXPECT_THAT(Describe(*view), ElementsAre(c.want));
  }
}

TEST(OriginatorViewTest, SameRecipientAtAnotherMtaIsAnotherRecord) {
  model::HopEvent next_hop = Delivered();
  next_hop.reporting_host = "mta-b";
  next_hop.mta_instance = "postfix-b";
  next_hop.queue_id = "1B2C3D4E5F";
  next_hop.arrival_time = At(6, 27, 14);
  const std::vector<model::HopEvent> events = {WithId(next_hop), Delivered()};
  absl::StatusOr<std::vector<model::HopEvent>> view = OriginatorView(events, SecretA());
  ASSERT_OK(view);
  EXPECT_THAT(Describe(*view),
              ElementsAre("mta-a alice@b.example delivered", "mta-b alice@b.example delivered"));
}

TEST(OriginatorViewTest, OrderedByArrivalThenHostThenRecipient) {
  model::HopEvent late = Delivered("aaron@b.example");
  late.arrival_time = At(8, 0, 0);
  model::HopEvent other_host = Delivered("zed@b.example");
  other_host.reporting_host = "mta-0";
  const std::vector<model::HopEvent> events = {WithId(late), Delivered("zed@b.example"),
                                               Delivered("bob@b.example"), WithId(other_host)};
  absl::StatusOr<std::vector<model::HopEvent>> view = OriginatorView(events, SecretA());
  ASSERT_OK(view);
  EXPECT_THAT(Describe(*view),
              ElementsAre("mta-0 zed@b.example delivered", "mta-a bob@b.example delivered",
                          "mta-a zed@b.example delivered", "mta-a aaron@b.example delivered"));
}

TEST(OriginatorViewTest, CertifierIsTheDigestVector) {
  EXPECT_EQ(net::CertifierOf(SecretA()), CertifierB());  // guards the fixture itself
}

}  // namespace
}  // namespace mtrk::collector::lookup
