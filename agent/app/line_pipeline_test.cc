#include "agent/app/line_pipeline.h"

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mtrk::agent::app {
namespace {

// Three messages interleaved, so that every line boundary has one open or spanning message.
std::vector<std::string> InterleavedLog() {
  std::vector<std::string> lines;
  const auto line = [&](int second, const std::string& text) {
    lines.push_back(absl::StrFormat("Nov 23 10:00:%02d mta-a postfix/%s", second, text));
  };
  const auto q = [](int i) { return absl::StrFormat("C%09X", i); };
  int t = 0;
  for (int i = 0; i < 3; ++i) line(t++, absl::StrCat("smtpd[1]: ", q(i), ": client=h[1.2.3.4]"));
  for (int i = 0; i < 3; ++i) {
    line(t++, absl::StrCat("qmgr[2]: ", q(i), ": from=<s@a>, size=1, nrcpt=1 (queue active)"));
  }
  for (int i = 0; i < 3; ++i) {
    line(t++, absl::StrCat("smtp[3]: ", q(i), ": to=<r", i,
                           "@b>, relay=x[1.1.1.1]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, "
                           "status=sent (250 ok)"));
    line(t++, absl::StrCat("qmgr[2]: ", q(i), ": removed"));
  }
  return lines;
}

std::set<std::string> Ids(const std::vector<model::HopEvent>& events) {
  std::set<std::string> ids;
  for (const auto& e : events) ids.insert(e.event_id);
  return ids;
}

TEST(LinePipelineTest, ReplayFromAnyCheckpointRebuildsTheSameEventsAndNoFragments) {
  const std::vector<std::string> lines = InterleavedLog();
  AgentMetrics metrics;
  const absl::Time reference = absl::FromCivil(absl::CivilDay(2026, 11, 23), absl::UTCTimeZone());
  std::vector<model::HopEvent> all;
  {
    LinePipeline full(RunConfig{}, reference, metrics);
    for (size_t i = 0; i < lines.size(); ++i) full.Feed(lines[i], i, &all);
  }
  ASSERT_EQ(all.size(), 3u);
  // A crash after each line: events so far are spooled with the checkpoint; the replay starts
  // there and must add exactly the missing events.
  for (size_t crash = 1; crash <= lines.size(); ++crash) {
    SCOPED_TRACE(absl::StrCat("crash after line ", crash));
    std::vector<model::HopEvent> before;
    LinePipeline first(RunConfig{}, reference, metrics);
    for (size_t i = 0; i < crash; ++i) first.Feed(lines[i], i, &before);
    const LinePipeline::Checkpoint cp = first.SafeCheckpoint(crash);
    LinePipeline second(RunConfig{}, reference, metrics);
    second.Resume(cp.skip_keys, cp.latest);
    std::vector<model::HopEvent> after;
    for (size_t i = cp.position; i < lines.size(); ++i) second.Feed(lines[i], i, &after);
    second.Flush(&after);
    std::set<std::string> got = Ids(before);
    for (const auto& id : Ids(after)) got.insert(id);
    EXPECT_EQ(got, Ids(all));  // nothing lost, no fragment with another id
  }
}

}  // namespace
}  // namespace mtrk::agent::app
