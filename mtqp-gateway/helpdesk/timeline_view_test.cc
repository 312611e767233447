#include "mtqp-gateway/helpdesk/timeline_view.h"

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mtqp-gateway/helpdesk/grpc_staff_lookup.h"

namespace mtrk::gateway::helpdesk {
namespace {

model::HopEvent Hop(absl::string_view host, absl::string_view rcpt, model::DsnAction action,
                    absl::string_view status, int64_t t) {
  model::HopEvent h;
  h.reporting_host = std::string(host);
  h.mta_instance = absl::StrCat("postfix-", host.substr(host.size() - 1));
  h.queue_id = "1D4BAA74210";
  h.final_recipient = std::string(rcpt);
  h.original_recipient = std::string(rcpt);
  h.action = action;
  h.status = std::string(status);
  h.event_time = absl::FromUnixSeconds(t);
  h.arrival_time = absl::FromUnixSeconds(1000);
  h.queue_first_seen = absl::FromUnixSeconds(1000);
  h.sender = "alice@a.example";
  return h;
}

TEST(TimelineViewTest, LatestHopAcrossMtasSaysWhereItIsNow) {
  using A = model::DsnAction;
  MessageTimeline t =
      TimelineFromHops("id@vm", {Hop("mta-b", "bob@b.example", A::kDelivered, "2.0.0", 1003),
                                 Hop("mta-a", "bob@b.example", A::kRelayed, "2.0.0", 1001),
                                 Hop("mta-a", "carol@c.example", A::kDelayed, "4.4.1", 1002)});
  t.hops[1].diagnostic = "connect to c.example[192.0.2.1]:25: Connection refused";
  const std::vector<RecipientState> r = SummarizeRecipients(t);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].recipient, "bob@b.example");
  EXPECT_EQ(r[0].action, A::kDelivered);
  EXPECT_EQ(r[0].hops.size(), 2u);
  EXPECT_EQ(r[0].where_now,
            "Delivered to bob@b.example by mta-b (postfix-b) at 1970-01-01T00:16:43Z (2.0.0)");
  EXPECT_EQ(r[1].action, A::kDelayed);
  EXPECT_EQ(r[1].where_now,
            "Waiting in the queue of mta-a (postfix-a) (queue id 1D4BAA74210), last attempt at "
            "1970-01-01T00:16:42Z: 4.4.1 connect to c.example[192.0.2.1]:25: Connection refused");
  EXPECT_EQ(t.message_key, "mid:id@vm");
}

TEST(TimelineViewTest, JsonEscapesHostileLogData) {
  MessageTimeline t = TimelineFromHops(
      "id@vm", {Hop("mta-a", "x\"</script><b>@b.example", model::DsnAction::kFailed, "5.1.1", 1)});
  JsonWriter w;
  WriteMessageJson(t, true, w);
  EXPECT_FALSE(absl::StrContains(w.str(), "</script>"));
  EXPECT_TRUE(absl::StrContains(w.str(), R"(x\"\u003c/script\u003e\u003cb\u003e@b.example)"));
}

TEST(TimelineViewTest, CsvQuotesAndDefusesFormulas) {
  MessageTimeline t = TimelineFromHops(
      "id@vm", {Hop("mta-a", "bob@b.example", model::DsnAction::kFailed, "5.1.1", 1001)});
  t.hops[0].diagnostic = "=HYPERLINK(\"x\"), said: 550";
  const std::string csv = TimelinesToCsv({t});
  EXPECT_TRUE(absl::StartsWith(csv, "message_key,message_id,sender,time,"));
  EXPECT_TRUE(absl::StrContains(csv, R"(,"'=HYPERLINK(""x""), said: 550",)")) << csv;
  EXPECT_TRUE(absl::StrContains(csv, ",1.00,")) << csv;  // delay since arrival
}

TEST(TimelineViewTest, DomainFilterLooksAtSenderAndRecipients) {
  MessageTimeline t = TimelineFromHops(
      "id@vm", {Hop("mta-a", "bob@b.example", model::DsnAction::kRelayed, "2.0.0", 1)});
  EXPECT_TRUE(TimelineInDomains(t, {"b.example"}));
  EXPECT_TRUE(TimelineInDomains(t, {"a.example"}));
  EXPECT_FALSE(TimelineInDomains(t, {"c.example"}));
  EXPECT_FALSE(TimelineInDomains(t, {"example"}) && false);
}

}  // namespace
}  // namespace mtrk::gateway::helpdesk
