// Collector integration (issue 5), on a real PostgreSQL with real gRPC:
// - the postfix-lab A+B logs, run through the agent's own parser and correlator, are ingested B
//   first, then A, by two collectors at once (every batch sent to both): each event is stored
//   once, and every "queued as", "forwarded as" and bounce notification ends up in one timeline;
// - ack after commit: an mtrk-collector process killed between receiving a batch and COMMIT has
//   stored nothing, and the agent's resend to a fresh process lands exactly once.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "agent/correlate/correlator.h"
#include "agent/parse/postfix/postfix_parser.h"
#include "agent/parse/syslog_header.h"
#include "collector/app/collector_server.h"
#include "collector/link/linker.h"
#include "collector/store/pg/pg_event_store.h"
#include "common/model/hop_event_proto.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "mtrk/v1/ingest.grpc.pb.h"
#include "mtrk/v1/lookup.grpc.pb.h"
#include "tests/support/pg_environment.h"
#include "tests/support/status_matchers.h"

namespace mtrk::collector {
namespace {

using model::HopEvent;

std::vector<HopEvent> RunAgent(const char* path, agent::correlate::CorrelatorOptions options) {
  const agent::parse::SyslogHeaderParser headers(
      {.reference = absl::FromCivil(absl::CivilDay(2026, 11, 24), absl::UTCTimeZone())});
  const std::unique_ptr<agent::parse::LineParser> parser = agent::parse::NewPostfixParser();
  agent::correlate::Correlator correlator(std::move(options));
  std::vector<HopEvent> events;
  std::ifstream in(path);
  EXPECT_TRUE(in.is_open()) << path;
  for (std::string raw; std::getline(in, raw);) {
    absl::StatusOr<agent::parse::LogLine> line = headers.Parse(raw);
    if (!line.ok()) continue;
    absl::StatusOr<agent::parse::LineFact> fact = parser->Parse(*line);
    if (!fact.ok()) continue;
    for (HopEvent& e : correlator.Add(*line, *fact)) events.push_back(std::move(e));
  }
  for (HopEvent& e : correlator.Flush()) events.push_back(std::move(e));
  return events;
}

std::vector<v1::PushEventsRequest> Batches(const std::vector<HopEvent>& events, size_t size,
                                           uint64_t first_sequence) {
  std::vector<v1::PushEventsRequest> batches;
  for (size_t i = 0; i < events.size(); i += size) {
    v1::PushEventsRequest& r = batches.emplace_back();
    r.set_agent_id("test");
    r.set_batch_sequence(first_sequence + batches.size());
    for (size_t j = i; j < std::min(events.size(), i + size); ++j) {
      model::ToProto(events[j], r.add_events());
    }
  }
  return batches;
}

grpc::Status Push(v1::Ingest::Stub& stub, const v1::PushEventsRequest& request) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::PushEventsResponse response;
  return stub.PushEvents(&context, request, &response);
}

int64_t Count(const std::string& conninfo, const std::string& sql) {
  pqxx::connection conn(conninfo);
  pqxx::read_transaction txn(conn);
  return txn.exec1(sql)[0].as<int64_t>();
}

std::set<std::string> TimelineIds(v1::Lookup::Stub& stub, const std::string& queue_id) {
  v1::StaffSearchRequest request;
  request.set_queue_id(queue_id);
  grpc::ClientContext context;
  v1::StaffSearchResponse response;
  const grpc::Status status = stub.StaffSearch(&context, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  std::set<std::string> ids;
  for (const v1::MessageTimeline& t : response.messages()) {
    for (const v1::HopEvent& h : t.hops()) ids.insert(h.event_id());
  }
  return ids;
}

TEST(CollectorIngestTest, TwoCollectorsOutOfOrderLabLogsLinkIntoOneTimelinePerMessage) {
  agent::correlate::CorrelatorOptions a;
  a.tracked_next_hops = {"127.0.0.2:2526", "127.0.0.2:2528"};
  agent::correlate::CorrelatorOptions b;
  b.tracked_next_hops = {"127.0.0.1"};
  const std::vector<HopEvent> at_a = RunAgent("tests/data/postfix-lab/postfix-a.maillog", a);
  const std::vector<HopEvent> at_b = RunAgent("tests/data/postfix-lab/postfix-b.maillog", b);
  ASSERT_GT(at_a.size(), 20u);
  ASSERT_GT(at_b.size(), 20u);

  ASSERT_OK_AND_ASSIGN(const test::PgDatabase db, test::PgEnvironment::Get().NewDatabase());
  std::vector<std::unique_ptr<store::PgEventStore>> stores;
  std::vector<std::unique_ptr<app::CollectorServer>> servers;
  std::vector<std::unique_ptr<v1::Ingest::Stub>> ingest;
  for (int i = 0; i < 2; ++i) {
    ASSERT_OK_AND_ASSIGN(stores.emplace_back(), store::PgEventStore::Connect(db.conninfo(), {}));
    ASSERT_OK_AND_ASSIGN(servers.emplace_back(),
                         app::CollectorServer::Start("127.0.0.1:0", *stores.back()));
    ingest.push_back(v1::Ingest::NewStub(
        grpc::CreateChannel(servers.back()->address(), grpc::InsecureChannelCredentials())));
  }
  // B's events first: nothing at B can be linked until A's arrive.
  std::vector<v1::PushEventsRequest> batches = Batches(at_b, 7, 1);
  for (v1::PushEventsRequest& r : Batches(at_a, 7, 1000)) batches.push_back(std::move(r));
  for (const v1::PushEventsRequest& r : batches) {
    grpc::Status s0, s1;
    {
      std::jthread t0([&] { s0 = Push(*ingest[0], r); });
      std::jthread t1([&] { s1 = Push(*ingest[1], r); });
    }
    ASSERT_TRUE(s0.ok()) << s0.error_message();
    ASSERT_TRUE(s1.ok()) << s1.error_message();
  }
  std::set<std::string> unique;
  for (const auto* v : {&at_a, &at_b}) {
    for (const HopEvent& e : *v) unique.insert(e.event_id);
  }
  EXPECT_EQ(Count(db.conninfo(), "SELECT count(*) FROM hop_events"),
            static_cast<int64_t>(unique.size()));

  // Every link the logs prove must hold, looked up through either collector.
  auto lookup = v1::Lookup::NewStub(
      grpc::CreateChannel(servers[1]->address(), grpc::InsecureChannelCredentials()));
  std::map<std::string, std::string> host_of_queue;  // queue id -> host (lab ids are unique)
  for (const auto* v : {&at_a, &at_b}) {
    for (const HopEvent& e : *v) host_of_queue[e.queue_id] = e.reporting_host;
  }
  int relays = 0, forwards = 0, bounces = 0;
  for (const auto* v : {&at_a, &at_b}) {
    for (const HopEvent& e : *v) {
      std::string other;
      if (!e.next_queue_id.empty() && host_of_queue.contains(e.next_queue_id)) {
        other = e.next_queue_id;
        (host_of_queue[other] == e.reporting_host ? forwards : relays)++;
      } else if (absl::StartsWith(e.client, "bounce:") &&
                 host_of_queue.contains(e.client.substr(7))) {
        other = e.client.substr(7);
        ++bounces;
      } else {
        continue;
      }
      SCOPED_TRACE(absl::StrCat(e.reporting_host, " ", e.queue_id, " -> ", other));
      const std::set<std::string> mine = TimelineIds(*lookup, e.queue_id);
      EXPECT_TRUE(mine.contains(e.event_id));
      EXPECT_EQ(mine, TimelineIds(*lookup, other));  // one timeline, from either end
    }
  }
  EXPECT_GT(relays, 5);
  EXPECT_GT(forwards, 0);
  EXPECT_GT(bounces, 0);

  // One timeline per message: the unrelated messages at A are never merged into one.
  v1::StaffSearchRequest all;
  all.set_page_size(500);
  grpc::ClientContext context;
  v1::StaffSearchResponse everything;
  ASSERT_TRUE(lookup->StaffSearch(&context, all, &everything).ok());
  size_t hops = 0;
  std::set<std::string> seen;
  for (const v1::MessageTimeline& t : everything.messages()) {
    for (const v1::HopEvent& h : t.hops()) {
      EXPECT_TRUE(seen.insert(h.event_id()).second) << "hop in two timelines: " << h.event_id();
      ++hops;
    }
  }
  EXPECT_EQ(hops, unique.size());
  EXPECT_GT(everything.messages_size(), 15);
}

// A child mtrk-collector with its stdout on a pipe (as in collector/app/collector_main_test.cc).
class CollectorProcess {
 public:
  CollectorProcess(std::vector<std::string> args, const std::string& pause_marker) {
    int fds[2];
    if (::pipe(fds) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      ::close(fds[0]);
      ::close(fds[1]);
      if (!pause_marker.empty()) ::setenv("MTRK_TEST_PAUSE_BEFORE_COMMIT", pause_marker.c_str(), 1);
      std::vector<char*> argv;
      std::string binary = MTRK_COLLECTOR_BINARY;
      argv.push_back(binary.data());
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(binary.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    out_ = fds[0];
  }
  ~CollectorProcess() {
    Kill();
    if (out_ >= 0) ::close(out_);
  }
  void Kill() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  // The port from "mtrk-collector listening on HOST:PORT", or 0.
  int Port() {
    std::string line;
    char c;
    while (true) {
      pollfd p{.fd = out_, .events = POLLIN, .revents = 0};
      if (::poll(&p, 1, 60000) <= 0 || ::read(out_, &c, 1) != 1 || c == '\n') break;
      line.push_back(c);
    }
    int port = 0;
    if (!absl::SimpleAtoi(line.substr(line.rfind(':') + 1), &port)) return 0;
    return port;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
};

TEST(CollectorIngestTest, KilledBeforeCommitStoresNothingAndTheResendLandsOnce) {
  ASSERT_OK_AND_ASSIGN(const test::PgDatabase db, test::PgEnvironment::Get().NewDatabase());
  const std::string marker =
      (std::filesystem::temp_directory_path() / absl::StrCat("mtrk-pause-", ::getpid())).string();
  std::filesystem::remove(marker);
  agent::correlate::CorrelatorOptions options;
  const std::vector<HopEvent> events =
      RunAgent("tests/data/postfix-lab/postfix-a.maillog", options);
  const std::vector<v1::PushEventsRequest> batch = Batches(events, events.size(), 1);
  ASSERT_EQ(batch.size(), 1u);
  const std::vector<std::string> args = {
      "--listen", "127.0.0.1:0", "--db", db.conninfo(), "--retention-interval-s", "0"};
  {
    CollectorProcess doomed(args, marker);
    const int port = doomed.Port();
    ASSERT_GT(port, 0);
    auto stub = v1::Ingest::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
    grpc::Status status;
    std::jthread push([&] { status = Push(*stub, batch[0]); });
    // Wait (against a deadline) until the batch is written and the collector sits before COMMIT.
    for (int i = 0; i < 600 && !std::filesystem::exists(marker); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_TRUE(std::filesystem::exists(marker));
    doomed.Kill();
    push.join();
    EXPECT_FALSE(status.ok());  // never acknowledged: the agent keeps the batch
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  }
  std::filesystem::remove(marker);
  EXPECT_EQ(Count(db.conninfo(), "SELECT count(*) FROM hop_events"), 0);

  CollectorProcess fresh(args, "");
  const int port = fresh.Port();
  ASSERT_GT(port, 0);
  auto stub = v1::Ingest::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  for (int resend = 0; resend < 2; ++resend) {
    const grpc::Status status = Push(*stub, batch[0]);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  std::set<std::string> unique;
  for (const HopEvent& e : events) unique.insert(e.event_id);
  EXPECT_EQ(Count(db.conninfo(), "SELECT count(*) FROM hop_events"),
            static_cast<int64_t>(unique.size()));
}

}  // namespace
}  // namespace mtrk::collector
