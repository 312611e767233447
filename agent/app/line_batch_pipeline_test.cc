#include "agent/app/line_batch_pipeline.h"

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mtrk::agent::app {
namespace {

constexpr const char* kLabLogs[] = {
    "tests/data/postfix-lab/postfix-a.maillog", "tests/data/postfix-lab/postfix-b.maillog",
    "tests/data/mtrk-lab/postfix-a.maillog", "tests/data/mtrk-lab/postfix-b.maillog"};

std::vector<std::string> ReadLines(const char* path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  EXPECT_TRUE(in.is_open()) << path;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

const absl::Time kReference = absl::FromCivil(absl::CivilDay(2026, 11, 24), absl::UTCTimeZone());

std::vector<model::HopEvent> OneThread(const std::vector<std::string>& lines,
                                       AgentMetrics& metrics) {
  LinePipeline pipeline(RunConfig{}, kReference, metrics, {.checkpoints = false});
  std::vector<model::HopEvent> events;
  for (size_t i = 0; i < lines.size(); ++i) pipeline.Feed(lines[i], i, &events);
  pipeline.Flush(&events);
  return events;
}

// Each line is fed from a buffer that is overwritten right after Feed returns, as a read buffer
// is: the batch must hold its own copy (ASan would also catch a view into the old buffer).
std::vector<model::HopEvent> TwoThreads(const std::vector<std::string>& lines,
                                        AgentMetrics& metrics) {
  LinePipeline pipeline(RunConfig{}, kReference, metrics, {.checkpoints = false});
  std::vector<model::HopEvent> events;
  LineBatchPipeline batches(pipeline, [&](std::vector<model::HopEvent>* ready, bool /*last*/) {
    for (model::HopEvent& e : *ready) events.push_back(std::move(e));
    ready->clear();
    return absl::OkStatus();
  });
  std::string buffer;
  for (size_t i = 0; i < lines.size(); ++i) {
    buffer = lines[i];
    batches.Feed(buffer, i);
    buffer.assign(buffer.size(), '#');
  }
  EXPECT_TRUE(batches.Finish().ok());
  return events;
}

TEST(LineBatchPipelineTest, SameEventsInTheSameOrderAsOneThread) {
  for (const char* path : kLabLogs) {
    SCOPED_TRACE(path);
    std::vector<std::string> lines = ReadLines(path);
    // Enough copies of the log to fill several batches (later copies reuse the queue ids: the
    // correlator starts new messages for them, in both runs alike).
    const size_t one = lines.size();
    while (lines.size() * 80 < 3 * LineBatchPipeline::kBatchBytes) {
      lines.insert(lines.end(), lines.begin(), lines.begin() + static_cast<ptrdiff_t>(one));
    }
    AgentMetrics one_metrics, two_metrics;
    const std::vector<model::HopEvent> want = OneThread(lines, one_metrics);
    const std::vector<model::HopEvent> got = TwoThreads(lines, two_metrics);
    ASSERT_FALSE(want.empty());
    EXPECT_EQ(got, want);
    EXPECT_EQ(two_metrics.lines_read.load(), one_metrics.lines_read.load());
    EXPECT_EQ(two_metrics.skipped_unrelated.load(), one_metrics.skipped_unrelated.load());
    EXPECT_EQ(two_metrics.events.load(), one_metrics.events.load());
  }
}

TEST(LineBatchPipelineTest, LineLongerThanABatchIsKept) {
  AgentMetrics metrics;
  const std::string long_diagnostic(2 * LineBatchPipeline::kBatchBytes, 'x');
  const std::vector<std::string> lines = {
      "Nov 23 10:00:00 mta-a postfix/smtpd[1]: C000000001: client=h[1.2.3.4]",
      absl::StrCat("Nov 23 10:00:01 mta-a postfix/smtp[3]: C000000001: to=<r@b>, "
                   "relay=x[1.1.1.1]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (",
                   long_diagnostic, ")"),
      "Nov 23 10:00:02 mta-a postfix/qmgr[2]: C000000001: removed",
  };
  const std::vector<model::HopEvent> want = OneThread(lines, metrics);
  ASSERT_EQ(want.size(), 1u);
  EXPECT_EQ(TwoThreads(lines, metrics), want);
}

TEST(LineBatchPipelineTest, SinkErrorStopsThePipeline) {
  std::vector<std::string> lines = ReadLines(kLabLogs[0]);
  const size_t one = lines.size();
  while (lines.size() * 80 < 8 * LineBatchPipeline::kBatchBytes) {
    lines.insert(lines.end(), lines.begin(), lines.begin() + static_cast<ptrdiff_t>(one));
  }
  AgentMetrics metrics;
  LinePipeline pipeline(RunConfig{}, kReference, metrics, {.checkpoints = false});
  int calls = 0;
  LineBatchPipeline batches(pipeline, [&](std::vector<model::HopEvent>*, bool) {
    ++calls;
    return absl::UnavailableError("collector down");
  });
  for (size_t i = 0; i < lines.size() && batches.ok(); ++i) batches.Feed(lines[i], i);
  EXPECT_EQ(batches.Finish().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(calls, 1);  // nothing after the first failure, not even the final flush
}

}  // namespace
}  // namespace mtrk::agent::app
