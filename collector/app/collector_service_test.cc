// Ingest and Lookup through a real gRPC server on 127.0.0.1:0, backed by PostgreSQL.
#include <memory>
#include <string>
#include <vector>

#include "collector/app/collector_server.h"
#include "collector/store/pg/pg_event_store.h"
#include "collector/testing/sample_events.h"
#include "common/model/hop_event_proto.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "mtrk/v1/ingest.grpc.pb.h"
#include "mtrk/v1/lookup.grpc.pb.h"
#include "tests/support/pg_environment.h"
#include "tests/support/status_matchers.h"

namespace mtrk::collector::app {
namespace {

using ::mtrk::collector::testing::At;
using ::mtrk::collector::testing::Delayed;
using ::mtrk::collector::testing::Delivered;
using ::mtrk::collector::testing::ExpansionMember;
using ::mtrk::collector::testing::kEnvid;
using ::mtrk::collector::testing::SecretA;
using ::mtrk::collector::testing::WithId;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

std::vector<std::string> Recipients(const google::protobuf::RepeatedPtrField<v1::HopEvent>& hops) {
  std::vector<std::string> out;
  for (const v1::HopEvent& h : hops) {
    out.push_back(h.final_recipient() + (h.expansion_member() ? " (member)" : ""));
  }
  return out;
}

class CollectorServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(db_, test::PgEnvironment::Get().NewDatabase());
    ASSERT_OK_AND_ASSIGN(store_, store::PgEventStore::Connect(db_.conninfo(), {}));
    ASSERT_OK_AND_ASSIGN(server_, CollectorServer::Start("127.0.0.1:0", *store_));
    auto channel = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
    ingest_ = v1::Ingest::NewStub(channel);
    lookup_ = v1::Lookup::NewStub(channel);
  }

  grpc::Status Push(uint64_t sequence, const std::vector<model::HopEvent>& events,
                    v1::PushEventsResponse* response) {
    v1::PushEventsRequest request;
    request.set_agent_id("agent-a");
    request.set_batch_sequence(sequence);
    for (const model::HopEvent& e : events) model::ToProto(e, request.add_events());
    grpc::ClientContext context;
    return ingest_->PushEvents(&context, request, response);
  }

  grpc::Status Track(const std::string& envid, const std::string& secret,
                     v1::TrackResponse* response) {
    v1::TrackRequest request;
    request.set_envid(envid);
    request.set_secret(secret);
    grpc::ClientContext context;
    return lookup_->Track(&context, request, response);
  }

  grpc::Status FindByMessageId(const std::string& message_id, v1::FindResponse* response) {
    v1::FindByMessageIdRequest request;
    request.set_message_id(message_id);
    grpc::ClientContext context;
    return lookup_->FindByMessageId(&context, request, response);
  }

  // A list delivery: the expanded record plus two members, and a deferred-then-delivered rcpt.
  std::vector<model::HopEvent> ListMessage() {
    model::HopEvent expanded = Delivered("list@b.example");
    expanded.action = model::DsnAction::kExpanded;
    return {WithId(expanded), ExpansionMember("m1@b.example"), ExpansionMember("m2@b.example"),
            Delayed("alice@b.example", At(6, 0, 0)), Delivered("alice@b.example")};
  }

  test::PgDatabase db_;
  std::unique_ptr<store::PgEventStore> store_;
  std::unique_ptr<CollectorServer> server_;
  std::unique_ptr<v1::Ingest::Stub> ingest_;
  std::unique_ptr<v1::Lookup::Stub> lookup_;
};

TEST_F(CollectorServiceTest, PushIsAckedAfterStoringAndResendIsStoredOnce) {
  v1::PushEventsResponse response;
  ASSERT_TRUE(Push(7, ListMessage(), &response).ok());
  EXPECT_EQ(response.acked_sequence(), 7u);
  EXPECT_EQ(response.stored_events(), 5u);
  ASSERT_TRUE(Push(7, ListMessage(), &response).ok());  // our ack was lost; the agent resends
  EXPECT_EQ(response.acked_sequence(), 7u);
  EXPECT_EQ(response.stored_events(), 0u);
}

TEST_F(CollectorServiceTest, BadBatchIsRejectedWhole) {
  std::vector<model::HopEvent> batch = ListMessage();
  model::HopEvent bad = Delivered("bad@b.example");
  bad.status = "9.9.9";
  batch.insert(batch.begin() + 2, WithId(bad));
  v1::PushEventsResponse response;
  const grpc::Status status = Push(8, batch, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("event #2"));
  EXPECT_THAT(status.error_message(), HasSubstr("status"));
  EXPECT_THAT(store_->FindByEnvid(kEnvid), test::IsOkAndHolds(IsEmpty()));  // none stored
}

TEST_F(CollectorServiceTest, TrackShowsTheOriginatorViewWithoutMembers) {
  v1::PushEventsResponse pushed;
  ASSERT_TRUE(Push(1, ListMessage(), &pushed).ok());
  for (const std::string& envid : {std::string(kEnvid), absl::StrCat("<", kEnvid, ">")}) {
    SCOPED_TRACE(envid);
    v1::TrackResponse response;
    const grpc::Status status = Track(envid, SecretA(), &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_THAT(Recipients(response.hops()), ElementsAre("alice@b.example", "list@b.example"));
    EXPECT_EQ(response.hops(0).action(), v1::ACTION_DELIVERED);  // latest state only
    EXPECT_EQ(response.hops(0).envid(), kEnvid);                 // reported without brackets
  }
}

TEST_F(CollectorServiceTest, WrongSecretAndUnknownEnvidAreTheSameNotFound) {
  v1::PushEventsResponse pushed;
  ASSERT_TRUE(Push(1, ListMessage(), &pushed).ok());
  std::string wrong = SecretA();
  wrong.back() ^= 0x80;
  v1::TrackResponse response;
  const grpc::Status wrong_secret = Track(kEnvid, wrong, &response);
  const grpc::Status unknown = Track("unknown@a.example", SecretA(), &response);
  const grpc::Status other_case = Track("20261123.A1B2C3@a.example", SecretA(), &response);
  const grpc::Status one_bracket = Track(absl::StrCat("<", kEnvid), SecretA(), &response);
  for (const grpc::Status& s : {wrong_secret, unknown, other_case, one_bracket}) {
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(s.error_message(), "no information");
  }
  EXPECT_THAT(response.hops(), IsEmpty());
}

TEST_F(CollectorServiceTest, StaffFindByMessageIdSeesMembersWithOrWithoutBrackets) {
  v1::PushEventsResponse pushed;
  ASSERT_TRUE(Push(1, ListMessage(), &pushed).ok());
  model::HopEvent bare = Delivered("carol@c.example");  // an agent that logged it bare
  bare.message_id = "20261123062713.A606DA7424D@a.example";
  ASSERT_TRUE(Push(2, {WithId(bare)}, &pushed).ok());
  for (const char* id :
       {"<20261123062713.A606DA7424D@a.example>", "20261123062713.A606DA7424D@a.example"}) {
    SCOPED_TRACE(id);
    v1::FindResponse response;
    ASSERT_TRUE(FindByMessageId(id, &response).ok());
    EXPECT_THAT(
        Recipients(response.hops()),
        UnorderedElementsAre("list@b.example", "m1@b.example (member)", "m2@b.example (member)",
                             "alice@b.example", "alice@b.example", "carol@c.example"));
  }
}

}  // namespace
}  // namespace mtrk::collector::app
