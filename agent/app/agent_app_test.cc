#include "agent/app/agent_app.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agent/app/agent_config.h"
#include "gmock/gmock.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "mtrk/v1/ingest.grpc.pb.h"
#include "tests/support/status_matchers.h"

namespace mtrk::agent::app {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kLabA[] = "tests/data/postfix-lab/postfix-a.maillog";
constexpr char kLabB[] = "tests/data/postfix-lab/postfix-b.maillog";

const absl::Time kReference =
    absl::FromCivil(absl::CivilSecond(2026, 11, 23, 18, 0, 0), absl::UTCTimeZone());

absl::StatusOr<AgentConfig> Flags(std::vector<const char*> args) { return ParseFlags(args); }

// Writes `text` to a file under the test's temp dir and returns its path.
std::string WriteLog(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

// RunAgent --dry-run over `files`: the JSON lines it printed.
std::string DryRun(std::vector<std::string> files, RunSummary* summary) {
  AgentConfig config;
  config.dry_run = true;
  config.files = std::move(files);
  std::ostringstream out;
  EXPECT_OK(RunAgent(config, kReference, out, summary));
  return out.str();
}

TEST(AgentConfigTest, ParsesAllFlags) {
  ASSERT_OK_AND_ASSIGN(
      const AgentConfig c,
      Flags({"--collector", "127.0.0.1:9000", "--reporting-mta=mta-a.a.example",
             "--tracked-next-hop", "127.0.0.2", "--tracked-next-hop=MX.B.Example",
             "--max-queue-lifetime", "3600", "--timezone", "UTC", "a.log", "b.log"}));
  EXPECT_EQ(c.collector, "127.0.0.1:9000");
  EXPECT_EQ(c.reporting_mta, "mta-a.a.example");
  EXPECT_THAT(c.tracked_next_hops, ElementsAre("127.0.0.2", "mx.b.example"));
  EXPECT_EQ(c.max_queue_lifetime, absl::Hours(1));
  EXPECT_FALSE(c.dry_run);
  EXPECT_THAT(c.files, ElementsAre("a.log", "b.log"));
}

TEST(AgentConfigTest, RejectsBadFlags) {
  const std::vector<std::vector<const char*>> kCases = {
      {"a.log"},                                        // no --collector, no --dry-run
      {"--dry-run"},                                    // no file
      {"--collector", "x:1", "--bogus", "1", "a.log"},  // unknown flag
      {"--collector", "x:1", "--max-queue-lifetime", "-5", "a.log"},
      {"--collector", "x:1", "--timezone", "Mars/Olympus_Mons", "a.log"},
      {"--collector"},  // missing value
  };
  for (const auto& args : kCases) {
    SCOPED_TRACE(args.empty() ? "" : args[0]);
    EXPECT_THAT(Flags(args), test::StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

TEST(AgentAppTest, DryRunOnBothLabLogsHasNoMalformedLines) {
  AgentConfig config;
  config.dry_run = true;
  config.tracked_next_hops = {"127.0.0.2"};
  config.files = {kLabA, kLabB};
  std::ostringstream out;
  RunSummary summary;
  ASSERT_OK(RunAgent(config, kReference, out, &summary));
  EXPECT_EQ(summary.files, 2);
  EXPECT_EQ(summary.lines, 299 + 207);
  EXPECT_EQ(summary.bad_header, 0);
  EXPECT_EQ(summary.malformed, 0);
  EXPECT_EQ(summary.invalid_events, 0);
  EXPECT_EQ(summary.lines, summary.recognised + summary.unrelated);
  EXPECT_GT(summary.events, 80);
  const std::vector<std::string> json = absl::StrSplit(out.str(), '\n', absl::SkipEmpty());
  EXPECT_EQ(static_cast<int64_t>(json.size()), summary.events);
  EXPECT_THAT(out.str(), HasSubstr("\"action\":\"ACTION_TRANSFERRED\""));
  EXPECT_THAT(out.str(), HasSubstr("\"action\":\"ACTION_EXPANDED\""));
  EXPECT_THAT(FormatSummary(summary), HasSubstr("malformed=0"));
}

TEST(AgentAppTest, MalformedLinesAreCountedAndSkipped) {
  const std::string path = WriteLog(
      "malformed.log",
      absl::StrCat(
          "not a syslog line\n",
          "Nov 23 06:27:04 mta-a postfix-a/smtp[7711]: 336F1A7420B: to=<u@c.example>, "
          "status=deferred\n",
          "Nov 23 06:27:05 mta-a postfix-a/smtpd[7707]: connect from localhost[127.0.0.1]\n",
          std::string(kMaxLineBytes + 1, 'x'), "\n"));
  RunSummary summary;
  DryRun({path}, &summary);
  EXPECT_EQ(summary.lines, 4);
  EXPECT_EQ(summary.bad_header, 1);
  EXPECT_EQ(summary.malformed, 1);
  EXPECT_EQ(summary.unrelated, 1);
  EXPECT_EQ(summary.too_long, 1);
  EXPECT_EQ(summary.events, 0);
}

TEST(AgentAppTest, YearOfAFileReadWholeComesFromItsModificationTime) {
  // A log archived for almost two years: its "Jan  5" is the January before its mtime, not the
  // one before the clock (kReference, November 2026), which would be a year off.
  const std::string path = WriteLog(
      "archived.log",
      "Jan  5 10:00:00 mta-a postfix/smtpd[1]: 1A2B3C4D5E: client=h[192.0.2.1]\n"
      "Jan  5 10:00:01 mta-a postfix/qmgr[2]: 1A2B3C4D5E: from=<s@a.example>, size=1, nrcpt=1 "
      "(queue active)\n"
      "Jan  5 10:00:02 mta-a postfix/local[3]: 1A2B3C4D5E: to=<r@a.example>, relay=local, "
      "delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (delivered to mailbox)\n"
      "Jan  5 10:00:02 mta-a postfix/qmgr[2]: 1A2B3C4D5E: removed\n");
  const absl::Time mtime =
      absl::FromCivil(absl::CivilSecond(2025, 1, 6, 0, 0, 0), absl::UTCTimeZone());
  const timespec times[2] = {absl::ToTimespec(mtime), absl::ToTimespec(mtime)};
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  RunSummary summary;
  const std::string json = DryRun({path}, &summary);
  EXPECT_EQ(summary.events, 1);
  const absl::Time logged =
      absl::FromCivil(absl::CivilSecond(2025, 1, 5, 10, 0, 2), absl::UTCTimeZone());
  EXPECT_THAT(json,
              HasSubstr(absl::StrCat("\"event_time_us\":\"", absl::ToUnixMicros(logged), "\"")));
}

TEST(AgentAppTest, MissingFileIsAnErrorButOthersAreRead) {
  AgentConfig config;
  config.dry_run = true;
  config.files = {"tests/data/postfix-lab/no-such.maillog", kLabB};
  std::ostringstream out;
  RunSummary summary;
  EXPECT_THAT(RunAgent(config, kReference, out, &summary),
              test::StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(summary.files, 1);
  EXPECT_GT(summary.events, 0);
}

// A collector that stores everything, counting events.
class CountingIngest : public v1::Ingest::Service {
 public:
  grpc::Status PushEvents(grpc::ServerContext*, const v1::PushEventsRequest* request,
                          v1::PushEventsResponse* response) override {
    received_ += request->events_size();
    response->set_acked_sequence(request->batch_sequence());
    response->set_stored_events(request->events_size());
    return grpc::Status::OK;
  }
  std::atomic<int> received_{0};
};

TEST(AgentAppTest, PushesToCollector) {
  CountingIngest service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_GT(port, 0);

  AgentConfig config;
  config.collector = absl::StrCat("127.0.0.1:", port);
  config.reporting_mta = "mta-b.b.example";
  config.files = {kLabB};
  std::ostringstream out;
  RunSummary summary;
  ASSERT_OK(RunAgent(config, kReference, out, &summary));
  EXPECT_EQ(out.str(), "");
  EXPECT_GT(summary.stored, 0);
  EXPECT_EQ(summary.stored, summary.events);
  EXPECT_EQ(service.received_.load(), summary.events);
  server->Shutdown();
}

}  // namespace
}  // namespace mtrk::agent::app
