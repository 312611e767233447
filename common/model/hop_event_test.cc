#include "common/model/hop_event.h"

#include "common/model/hop_event_proto.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace mtrk::model {
namespace {

HopEvent ValidEvent() {
  HopEvent e;
  e.reporting_host = "mta-a";
  e.mta_instance = "postfix-a";
  e.queue_id = "1D4BAA74210";
  e.queue_first_seen = absl::FromUnixSeconds(1795415225);
  e.final_recipient = "alice@b.example";
  e.original_recipient = "alice@b.example";
  e.action = DsnAction::kTransferred;
  e.status = "2.0.0";
  e.event_time = absl::FromUnixSeconds(1795415225);
  e.event_id = ComputeEventId(e);
  return e;
}

TEST(HopEventTest, EventIdIsDeterministicAndSensitiveToFacts) {
  HopEvent a = ValidEvent();
  HopEvent b = ValidEvent();
  EXPECT_EQ(ComputeEventId(a), ComputeEventId(b));
  b.final_recipient = "bob@b.example";
  EXPECT_NE(ComputeEventId(a), ComputeEventId(b));
  EXPECT_EQ(ComputeEventId(a).size(), 64u);
}

TEST(HopEventTest, ValidationNamesTheField) {
  EXPECT_OK(ValidateHopEvent(ValidEvent()));
  HopEvent e = ValidEvent();
  e.status = "2.00.0";
  absl::Status st = ValidateHopEvent(e);
  EXPECT_THAT(st, test::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_NE(st.message().find("status"), absl::string_view::npos);
  e = ValidEvent();
  e.status = "2.1.9";
  EXPECT_THAT(ValidateHopEvent(e), test::StatusIs(absl::StatusCode::kInvalidArgument));
  e.action = DsnAction::kRelayed;
  EXPECT_OK(ValidateHopEvent(e));
  e = ValidEvent();
  e.certifier = "short";
  EXPECT_THAT(ValidateHopEvent(e), test::StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(HopEventTest, TextFieldsMustBeUtf8WithoutNul) {
  HopEvent e = ValidEvent();
  e.diagnostic = "550 utilisateur inconnu \xe9t\xe9";  // Latin-1, as some servers reply
  EXPECT_OK(ValidateHopEvent(e));                      // text is checked on its own
  absl::Status st = ValidateHopEventText(e);
  EXPECT_THAT(st, test::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_NE(st.message().find("field diagnostic: not UTF-8"), absl::string_view::npos) << st;
  e = ValidEvent();
  e.sender = std::string("a\0b@a.example", 13);
  st = ValidateHopEventText(e);
  EXPECT_NE(st.message().find("field sender"), absl::string_view::npos) << st;
  e.certifier = std::string(20, '\xff');  // binary: not text
  e.envid = "env@a.example";
  e.sender = "a@a.example";
  EXPECT_OK(ValidateHopEventText(e));
  EXPECT_OK(ValidateHopEvent(e));
}

TEST(HopEventTest, RepairMakesEveryTextFieldValid) {
  HopEvent e = ValidEvent();
  EXPECT_FALSE(RepairHopEventText(&e));
  e.sender = "j\xfcrgen@a.example";
  e.diagnostic = std::string(kMaxTextBytes, '\xe9');  // doubles when repaired
  e.certifier = std::string(20, '\xff');
  e.envid = "env@a.example";
  EXPECT_TRUE(RepairHopEventText(&e));
  EXPECT_EQ(e.sender, "j\xc3\xbcrgen@a.example");
  EXPECT_EQ(e.diagnostic.size(), kMaxTextBytes);
  EXPECT_EQ(e.certifier, std::string(20, '\xff'));  // left alone
  EXPECT_OK(ValidateHopEvent(e));
  EXPECT_OK(ValidateHopEventText(e));
}

TEST(HopEventTest, EventIdMustBe64HexDigits) {
  HopEvent e = ValidEvent();
  e.event_id = std::string(64, 'A');  // upper case is hex too
  EXPECT_OK(ValidateHopEvent(e));
  e.event_id = std::string(63, '0');
  EXPECT_THAT(ValidateHopEvent(e), test::StatusIs(absl::StatusCode::kInvalidArgument));
  // Each byte that is not a hex digit, alone at either end of an otherwise good id; among them
  // the neighbours of the ranges and bytes that become 'a'..'f' with the case bit set.
  for (const char bad : {'g', 'G', '/', ':', '@', '`', ' ', '\0', '\x81', '\xc1', '\xe1'}) {
    for (const size_t at : {size_t{0}, size_t{63}}) {
      e.event_id = std::string(64, 'f');
      e.event_id[at] = bad;
      const absl::Status st = ValidateHopEvent(e);
      EXPECT_THAT(st, test::StatusIs(absl::StatusCode::kInvalidArgument)) << int{bad} << " " << at;
      EXPECT_NE(st.message().find("not hex"), absl::string_view::npos);
    }
  }
}

TEST(HopEventTest, EnhancedStatusSyntax) {
  EXPECT_TRUE(IsEnhancedStatus("2.0.0"));
  EXPECT_TRUE(IsEnhancedStatus("5.1.10"));
  EXPECT_TRUE(IsEnhancedStatus("4.999.999"));
  EXPECT_FALSE(IsEnhancedStatus("3.0.0"));
  EXPECT_FALSE(IsEnhancedStatus("2.01.0"));
  EXPECT_FALSE(IsEnhancedStatus("2.0"));
  EXPECT_FALSE(IsEnhancedStatus("2.0.1000"));
}

TEST(HopEventTest, ProtoRoundTrip) {
  HopEvent e = ValidEvent();
  e.certifier = std::string(20, '\x01');
  e.envid = "x@a.example";
  e.will_retry_until = absl::FromUnixMicros(123456789);
  v1::HopEvent p;
  ToProto(e, &p);
  EXPECT_EQ(FromProto(p), e);
}

TEST(HopEventTest, BadBatchIsRejectedWholeNamingTheEvent) {
  google::protobuf::RepeatedPtrField<v1::HopEvent> batch;
  ToProto(ValidEvent(), batch.Add());
  HopEvent bad = ValidEvent();
  bad.final_recipient.clear();
  ToProto(bad, batch.Add());
  auto got = HopEventsFromProto(batch);
  ASSERT_THAT(got, test::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_NE(got.status().message().find("event #1"), absl::string_view::npos);
  EXPECT_NE(got.status().message().find("final_recipient"), absl::string_view::npos);

  // A NUL would be cut short by libpq and PostgreSQL text cannot hold it: refused whole too.
  batch.Clear();
  ToProto(ValidEvent(), batch.Add());
  bad = ValidEvent();
  bad.diagnostic = std::string("250 ok\0", 7);
  ToProto(bad, batch.Add());
  got = HopEventsFromProto(batch);
  ASSERT_THAT(got, test::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_NE(got.status().message().find("event #1"), absl::string_view::npos);
  EXPECT_NE(got.status().message().find("diagnostic"), absl::string_view::npos);
}

}  // namespace
}  // namespace mtrk::model
