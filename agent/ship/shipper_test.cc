// Shipper against an in-process collector stand-in over real gRPC: the stand-in validates batches
// with the collector's own validation (model::HopEventsFromProto: "event #N: <field>: ...") and
// rejects with INVALID_ARGUMENT as the collector does. The agent validates before spooling, so a
// real collector would not reject these; here the spool is written by hand with bad events.
#include "agent/ship/shipper.h"

#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/model/hop_event_proto.h"
#include "common/net/grpc_status.h"
#include "gmock/gmock.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace mtrk::agent::ship {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

class ValidatingIngest : public v1::Ingest::Service {
 public:
  grpc::Status PushEvents(grpc::ServerContext*, const v1::PushEventsRequest* request,
                          v1::PushEventsResponse* response) override {
    absl::MutexLock lock(&mu_);
    ++calls_;
    for (const v1::HopEvent& e : request->events()) {
      if (e.reporting_host() == "refuse-whole-batch") {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "ingest: batch refused");
      }
    }
    absl::StatusOr<std::vector<model::HopEvent>> events =
        model::HopEventsFromProto(request->events());
    if (!events.ok()) return net::ToGrpcStatus(events.status());
    for (const model::HopEvent& e : *events) stored_.insert(e.queue_id);
    response->set_acked_sequence(request->batch_sequence());
    response->set_stored_events(static_cast<uint32_t>(events->size()));
    return grpc::Status::OK;
  }
  std::set<std::string> stored() {
    absl::MutexLock lock(&mu_);
    return stored_;
  }

 private:
  absl::Mutex mu_;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::set<std::string> stored_ ABSL_GUARDED_BY(mu_);  // queue ids
};

v1::HopEvent Event(const std::string& queue_id, const std::string& status = "2.0.0") {
  v1::HopEvent e;
  e.set_event_id(absl::StrFormat("%064x", std::hash<std::string>()(queue_id)));
  e.set_reporting_host("mta-a");
  e.set_mta_instance("postfix");
  e.set_queue_id(queue_id);
  e.set_queue_first_seen_us(1'700'000'000'000'000);
  e.set_final_recipient("r@b.example");
  e.set_action(v1::ACTION_DELIVERED);
  e.set_status(status);
  e.set_event_time_us(1'700'000'001'000'000);
  return e;
}

std::string Batch(const std::vector<v1::HopEvent>& events) {
  v1::PushEventsRequest r;
  for (const v1::HopEvent& e : events) *r.add_events() = e;
  return r.SerializeAsString();
}

class ShipperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    absl::StatusOr<std::unique_ptr<spool::Spool>> s = spool::Spool::Open({.path = dir_ + "/s.db"});
    ASSERT_TRUE(s.ok()) << s.status();
    spool_ = std::move(*s);
  }
  void TearDown() override { server_->Shutdown(); }

  // Runs a shipper until the spool is empty (or a generous deadline passes).
  void ShipAll(Shipper& shipper) {
    std::thread t([&] { shipper.Run(); });
    for (const absl::Time end = absl::Now() + absl::Seconds(30);
         spool_->records() > 0 && absl::Now() < end;) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    shipper.Stop();
    t.join();
  }
  ShipperOptions Options() {
    ShipperOptions o;
    o.target = absl::StrCat("127.0.0.1:", port_);
    o.initial_backoff = absl::Milliseconds(10);
    o.max_backoff = absl::Milliseconds(50);
    o.idle_wait = absl::Milliseconds(10);
    return o;
  }

  test::TempDir tmp_{"mtrk-shipper"};
  const std::string dir_ = tmp_.path();
  ValidatingIngest service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::unique_ptr<spool::Spool> spool_;
};

TEST_F(ShipperTest, ABadEventIsQuarantinedAndTheRestOfItsBatchAndTheNextAreSent) {
  ASSERT_TRUE(spool_
                  ->Append({Batch({Event("A1"), Event("A2")}),
                            Batch({Event("B1"), Event("B2", "not-a-status"), Event("B3"),
                                   Event("B4", "9.9.9.9")}),
                            Batch({Event("C1")})},
                           std::nullopt)
                  .ok());
  Shipper shipper(*spool_, Options());
  ShipAll(shipper);
  EXPECT_EQ(spool_->records(), 0);
  EXPECT_THAT(service_.stored(), UnorderedElementsAre("A1", "A2", "B1", "B3", "C1"));
  EXPECT_EQ(shipper.stats().events_quarantined.load(), 2);
  EXPECT_EQ(spool_->quarantined_events(), 2);
  absl::StatusOr<std::vector<spool::Spool::Quarantined>> q = spool_->ListQuarantined();
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(q->size(), 2u);
  std::vector<std::string> kept;
  for (const spool::Spool::Quarantined& one : *q) {
    EXPECT_THAT(one.reason, HasSubstr("status"));  // the collector's words: event and field
    EXPECT_EQ(one.events, 1);
    v1::PushEventsRequest r;
    ASSERT_TRUE(r.ParseFromString(one.data));
    ASSERT_EQ(r.events_size(), 1);
    kept.push_back(r.events(0).queue_id());
  }
  EXPECT_THAT(kept, ElementsAre("B2", "B4"));
}

TEST_F(ShipperTest, ARejectionNamingNoEventQuarantinesTheWholeBatch) {
  v1::HopEvent refused = Event("R2");
  refused.set_reporting_host("refuse-whole-batch");
  ASSERT_TRUE(spool_
                  ->Append({Batch({Event("R1"), refused}), "not a protobuf \xff\xff\xff",
                            Batch({Event("N1")})},
                           std::nullopt)
                  .ok());
  Shipper shipper(*spool_, Options());
  ShipAll(shipper);
  EXPECT_EQ(spool_->records(), 0);
  EXPECT_THAT(service_.stored(), UnorderedElementsAre("N1"));
  EXPECT_EQ(shipper.stats().events_quarantined.load(), 2);
  absl::StatusOr<std::vector<spool::Spool::Quarantined>> q = spool_->ListQuarantined();
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(q->size(), 2u);
  EXPECT_EQ((*q)[0].reason, "ingest: batch refused");
  EXPECT_EQ((*q)[0].events, 2);
  EXPECT_EQ((*q)[1].reason, "spool record does not parse");
}

}  // namespace
}  // namespace mtrk::agent::ship
