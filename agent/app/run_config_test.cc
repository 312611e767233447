#include "agent/app/run_config.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mtrk::agent::app {
namespace {

using ::testing::HasSubstr;

TEST(RunConfigTest, ParsesEveryKey) {
  absl::StatusOr<RunConfig> c = ParseRunConfig(R"(
collector:
  address: collector.example:4317
  ca_file: /etc/mtrk/ca.pem
  cert_file: /etc/mtrk/agent.pem
  key_file: /etc/mtrk/agent.key
  batch_events: 200
  deadline: 5s
log:
  path: /var/log/mail.log
  rotated: [/var/log/mail.log.1]
  timezone: Europe/Berlin
  max_line_bytes: 8KiB
postfix:
  reporting_mta: mx.example
  tracked_next_hops: [MX2.example]
  max_queue_lifetime: 3d
spool:
  path: /var/lib/mtrk-agent/spool.db
  max_bytes: 64MiB
metrics:
  listen: 127.0.0.1:9466
)");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->collector, "collector.example:4317");
  EXPECT_EQ(c->batch_events, 200u);
  EXPECT_EQ(c->deadline, absl::Seconds(5));
  EXPECT_EQ(c->max_line_bytes, 8192u);
  EXPECT_EQ(c->tracked_next_hops, std::vector<std::string>{"mx2.example"});
  EXPECT_EQ(c->max_queue_lifetime, absl::Hours(72));
  EXPECT_EQ(c->spool_max_bytes, 64u << 20);
  EXPECT_EQ(c->metrics_listen, "127.0.0.1:9466");
  EXPECT_TRUE(ValidateRunConfig(*c, true).ok());
}

TEST(RunConfigTest, RejectsUnknownKeysAndBadValues) {
  const struct {
    const char* yaml;
    const char* want;
  } kCases[] = {
      {"colector: {}", "colector: unknown section"},
      {"log: {pth: x}", "log.pth: unknown key"},
      {"spool: {max_bytes: lots}", "spool.max_bytes"},
      {"collector: {deadline: soon}", "collector.deadline"},
      {"log: {timezone: Mars/Olympus}", "unknown zone"},
      {"collector: {batch_events: 0}", "batch_events"},
      {"log: {inotify: maybe}", "log.inotify: not true or false"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.yaml);
    absl::StatusOr<RunConfig> got = ParseRunConfig(c.yaml);
    ASSERT_FALSE(got.ok());
    EXPECT_THAT(std::string(got.status().message()), HasSubstr(c.want));
  }
}

TEST(RunConfigTest, OverridesWinAndTheRestIsReturned) {
  RunConfig c;
  const std::vector<std::string> args = {"--collector", "h:1", "--spool-max-bytes=1MiB", "f.log"};
  absl::StatusOr<std::vector<std::string>> rest = ApplyOverrides(args, &c);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(c.collector, "h:1");
  EXPECT_EQ(c.spool_max_bytes, 1u << 20);
  EXPECT_EQ(*rest, std::vector<std::string>{"f.log"});
}

TEST(RunConfigTest, DefaultsParseBack) {
  absl::StatusOr<RunConfig> c = ParseRunConfig(DefaultsYaml());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->spool_max_bytes, RunConfig{}.spool_max_bytes);
  EXPECT_TRUE(c->inotify);
  c = ParseRunConfig("log: {inotify: false, rotated: [/var/log/old/mail.log.*]}");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->inotify);
}

}  // namespace
}  // namespace mtrk::agent::app
