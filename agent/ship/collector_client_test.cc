#include "agent/ship/collector_client.h"

#include <deque>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace mtrk::agent::ship {
namespace {

using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::Le;

// A fake collector: answers with the scripted codes first, then stores everything.
class FakeIngest : public v1::Ingest::Service {
 public:
  grpc::Status PushEvents(grpc::ServerContext*, const v1::PushEventsRequest* request,
                          v1::PushEventsResponse* response) override {
    absl::MutexLock lock(&mu_);
    sizes_.push_back(request->events_size());
    if (!script_.empty()) {
      const grpc::StatusCode code = script_.front();
      script_.pop_front();
      return grpc::Status(code, "scripted");
    }
    sequences_.push_back(request->batch_sequence());
    response->set_acked_sequence(request->batch_sequence());
    response->set_stored_events(request->events_size());
    return grpc::Status::OK;
  }
  void Script(std::deque<grpc::StatusCode> codes) {
    absl::MutexLock lock(&mu_);
    script_ = std::move(codes);
  }
  std::vector<int> sizes() {
    absl::MutexLock lock(&mu_);
    return sizes_;
  }
  std::vector<uint64_t> sequences() {
    absl::MutexLock lock(&mu_);
    return sequences_;
  }

 private:
  absl::Mutex mu_;
  std::deque<grpc::StatusCode> script_ ABSL_GUARDED_BY(mu_);
  std::vector<int> sizes_ ABSL_GUARDED_BY(mu_);
  std::vector<uint64_t> sequences_ ABSL_GUARDED_BY(mu_);
};

class CollectorClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port_, 0);
  }
  void TearDown() override { server_->Shutdown(); }

  std::unique_ptr<CollectorClient> Client() {
    CollectorClientOptions options;
    options.sleep = [this](absl::Duration d) { sleeps_.push_back(d); };
    options.initial_backoff = absl::Milliseconds(100);
    options.max_backoff = absl::Milliseconds(400);
    return CollectorClient::Connect(absl::StrCat("127.0.0.1:", port_), options);
  }

  static std::vector<model::HopEvent> Events(int n) {
    std::vector<model::HopEvent> events(n);
    for (int i = 0; i < n; ++i) events[i].queue_id = absl::StrCat("Q", i);
    return events;
  }

  FakeIngest service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::vector<absl::Duration> sleeps_;
};

TEST_F(CollectorClientTest, SplitsIntoBatchesOfAThousand) {
  auto client = Client();
  EXPECT_THAT(client->Push(Events(2500)), test::IsOkAndHolds(2500));
  EXPECT_THAT(service_.sizes(), ElementsAre(1000, 1000, 500));
  EXPECT_THAT(service_.sequences(), ElementsAre(1, 2, 3));
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(CollectorClientTest, NothingToPush) {
  EXPECT_THAT(Client()->Push({}), test::IsOkAndHolds(0));
  EXPECT_TRUE(service_.sizes().empty());
}

TEST_F(CollectorClientTest, RetriesUnavailableAndResourceExhaustedWithBackoff) {
  service_.Script({grpc::StatusCode::UNAVAILABLE, grpc::StatusCode::RESOURCE_EXHAUSTED,
                   grpc::StatusCode::UNAVAILABLE, grpc::StatusCode::UNAVAILABLE});
  auto client = Client();
  EXPECT_THAT(client->Push(Events(3)), test::IsOkAndHolds(3));
  EXPECT_EQ(client->retries(), 4);
  ASSERT_EQ(sleeps_.size(), 4u);
  // Full jitter below a doubling cap: 100ms, 200ms, 400ms, 400ms.
  EXPECT_LE(sleeps_[0], absl::Milliseconds(100));
  EXPECT_LE(sleeps_[1], absl::Milliseconds(200));
  EXPECT_THAT(sleeps_, Each(Le(absl::Milliseconds(400))));
}

TEST_F(CollectorClientTest, GivesUpAfterMaxAttempts) {
  service_.Script(std::deque<grpc::StatusCode>(10, grpc::StatusCode::UNAVAILABLE));
  auto client = Client();
  EXPECT_THAT(client->Push(Events(1)), test::StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(service_.sizes().size(), 5u);
}

TEST_F(CollectorClientTest, InvalidArgumentIsNotRetried) {
  service_.Script({grpc::StatusCode::INVALID_ARGUMENT});
  auto client = Client();
  EXPECT_THAT(client->Push(Events(1)), test::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(service_.sizes().size(), 1u);
  EXPECT_TRUE(sleeps_.empty());
}

TEST(CollectorClientNoServerTest, UnreachableCollectorIsUnavailable) {
  CollectorClientOptions options;
  options.sleep = [](absl::Duration) {};
  options.max_attempts = 2;
  options.deadline = absl::Seconds(2);
  // Port 1 on loopback: connection refused at once.
  auto client = CollectorClient::Connect("127.0.0.1:1", options);
  std::vector<model::HopEvent> one(1);
  EXPECT_THAT(client->Push(one), test::StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace mtrk::agent::ship
