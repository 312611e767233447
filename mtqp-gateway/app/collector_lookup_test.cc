// CollectorLookup against an in-process gRPC Lookup service (a fake collector).
#include "mtqp-gateway/app/collector_lookup.h"

#include <memory>

#include "common/model/hop_event_proto.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace mtrk::gateway::app {
namespace {

class FakeCollector : public v1::Lookup::Service {
 public:
  grpc::Status Track(grpc::ServerContext* /*context*/, const v1::TrackRequest* request,
                     v1::TrackResponse* response) override {
    if (request->envid() == "down@a.example") return {grpc::StatusCode::UNAVAILABLE, "pg down"};
    if (request->envid() != "x@a.example" || request->secret() != std::string(16, 'A')) {
      return {grpc::StatusCode::NOT_FOUND, "no"};
    }
    model::HopEvent e;
    e.envid = request->envid();
    e.final_recipient = "alice@b.example";
    e.action = model::DsnAction::kDelivered;
    e.status = "2.0.0";
    model::ToProto(e, response->add_hops());
    return grpc::Status::OK;
  }
};

class CollectorLookupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int port = 0;
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    lookup_ = CollectorLookup::ConnectInsecure("127.0.0.1:" + std::to_string(port));
  }
  void TearDown() override { server_->Shutdown(); }
  FakeCollector service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<CollectorLookup> lookup_;
};

TEST_F(CollectorLookupTest, ReturnsHops) {
  ASSERT_OK_AND_ASSIGN(std::vector<model::HopEvent> hops,
                       lookup_->Track("x@a.example", std::string(16, 'A')));
  ASSERT_EQ(hops.size(), 1u);
  EXPECT_EQ(hops[0].final_recipient, "alice@b.example");
  EXPECT_EQ(hops[0].action, model::DsnAction::kDelivered);
}

TEST_F(CollectorLookupTest, MapsStatusCodes) {
  EXPECT_THAT(lookup_->Track("x@a.example", std::string(16, 'B')),
              test::StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(lookup_->Track("down@a.example", std::string(16, 'A')),
              test::StatusIs(absl::StatusCode::kUnavailable));
}

TEST(CollectorLookupNoServerTest, UnreachableCollectorIsNotNoInfo) {
  // Port 1 on loopback refuses connections: the gateway must answer -TEMP, never -ERR/noinfo.
  auto lookup = std::make_unique<CollectorLookup>(
      grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials()), absl::Seconds(5));
  absl::StatusOr<std::vector<model::HopEvent>> r = lookup->Track("x@a.example", "secret");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace mtrk::gateway::app
