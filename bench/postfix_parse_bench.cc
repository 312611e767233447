// Parser benchmark (issue 8): the agent's per-line work, through the agent's own LinePipeline
// as `mtrk-agent backfill` runs it (syslog header, Postfix parser, correlator, event ids,
// validation, skip counters), without I/O beyond reading the file and without shipping.
//
//   postfix_parse_bench --file=mail.log   one pass over the file, as bench/run_parse_bench.sh
//                                         times it against wc -l and pflogsumm; prints lines,
//                                         facts, events and id_digest (FNV-1a over the event ids
//                                         in order: a change must leave it as it was)
//   postfix_parse_bench --full-digest --file=mail.log   the digest covers every field of every
//                                         event (slower; for checking, not timing)
//   postfix_parse_bench --single-thread --file=mail.log   LinePipeline on one thread (as the
//                                         tail runs it) instead of backfill's two
//   postfix_parse_bench [--benchmark_*]   Google Benchmark micro-benchmarks per line
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "agent/app/agent_metrics.h"
#include "agent/app/line_batch_pipeline.h"
#include "agent/app/line_pipeline.h"
#include "agent/app/line_splitter.h"
#include "agent/app/run_config.h"
#include "agent/correlate/correlator.h"
#include "agent/parse/postfix/postfix_parser.h"
#include "agent/parse/syslog_header.h"
#include "common/model/hop_event_proto.h"
#include "mtrk/v1/event.pb.h"

namespace {

using mtrk::agent::correlate::Correlator;
using mtrk::agent::parse::LineFact;
using mtrk::agent::parse::LogLine;

const mtrk::agent::parse::SyslogHeaderOptions kOptions{
    .zone = absl::UTCTimeZone(),
    .reference = absl::FromCivil(absl::CivilDay(2026, 11, 24), absl::UTCTimeZone())};

struct Totals {
  uint64_t lines = 0, facts = 0, events = 0, errors = 0;
  uint64_t id_digest = 0;  // order-sensitive FNV-1a over event ids: same output, same digest
};

// --full-digest: the digest covers every field of every event (via its wire form), to check
// that a change leaves the output identical; off for timing.
bool full_digest = false;

// FNV-1a over 8-byte words, then the tail bytes: order-sensitive like a bytewise FNV, at an
// eighth of the dependent multiplies, so the check weighs little on the thread that runs it.
uint64_t Mix(uint64_t h, std::string_view s) {
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, s.data() + i, 8);
    h = (h ^ word) * 1099511628211u;
  }
  for (; i < s.size(); ++i) h = (h ^ static_cast<uint8_t>(s[i])) * 1099511628211u;
  return h;
}

void Count(const std::vector<mtrk::model::HopEvent>& events, Totals* t) {
  // Event by event (wire form, then id), so that the digest does not depend on how the events
  // were grouped on their way out (read blocks, or LineBatchPipeline's batches).
  for (const mtrk::model::HopEvent& e : events) {
    if (full_digest) {
      mtrk::v1::HopEvent proto;
      mtrk::model::ToProto(e, &proto);
      t->id_digest = Mix(t->id_digest, proto.SerializeAsString());
    }
    t->id_digest = Mix(t->id_digest, e.event_id);
  }
  t->events += events.size();
}

// The agent's loop body for one line.
inline void Feed(const mtrk::agent::parse::SyslogHeaderParser& headers,
                 const mtrk::agent::parse::LineParser& parser, Correlator& correlator,
                 absl::string_view raw, uint64_t position, Totals* t) {
  ++t->lines;
  absl::StatusOr<LogLine> line = headers.Parse(raw);
  if (!line.ok()) {
    ++t->errors;
    return;
  }
  absl::StatusOr<LineFact> fact = parser.Parse(*line);
  if (!fact.ok()) {
    ++t->errors;
    return;
  }
  if (!std::holds_alternative<mtrk::agent::parse::Unrelated>(*fact)) ++t->facts;
  Count(correlator.Add(*line, *std::move(fact), position), t);
}

// One pass over the file as `mtrk-agent backfill` makes it: 64 KiB blocks (fread here, gzread
// there, which reads a plain file the same way), cut into lines by its LineSplitter, through the
// agent's own LinePipeline (syslog header, Postfix parser, correlator, event ids, validation, skip
// counters by program and kind), on two threads (LineBatchPipeline) as the backfill runs it, or on
// one (--single-thread: the tail's way, and the reference the two-thread output must equal).
int RunFile(const char* path, bool single_thread) {
  std::FILE* f = std::fopen(path, "rb");
  if (f == nullptr) {
    std::perror(path);
    return 1;
  }
  const absl::Time start = absl::Now();
  mtrk::agent::app::AgentMetrics metrics;
  mtrk::agent::app::LinePipeline pipeline(mtrk::agent::app::RunConfig{}, kOptions.reference,
                                          metrics, {.checkpoints = false});
  Totals t{.id_digest = 14695981039346656037u};
  std::vector<mtrk::model::HopEvent> events;
  // Counted where the backfill would ship them, in batches.
  const auto drain = [&t](std::vector<mtrk::model::HopEvent>* ready, bool /*last*/) {
    Count(*ready, &t);
    ready->clear();
    return absl::OkStatus();
  };
  std::optional<mtrk::agent::app::LineBatchPipeline> batches;
  if (!single_thread) batches.emplace(pipeline, drain);
  const auto feed = [&](absl::string_view line, uint64_t position) {
    if (single_thread) {
      pipeline.Feed(line, position, &events);
    } else {
      batches->Feed(line, position);
    }
  };
  const auto too_long = [&](uint64_t) {
    if (single_thread) {
      pipeline.FeedTooLong();
    } else {
      batches->FeedTooLong();
    }
  };
  // Blocks as the backfill reads them (64 KiB), cut into lines by the backfill's LineSplitter.
  mtrk::agent::app::LineSplitter splitter(mtrk::agent::app::RunConfig{}.max_line_bytes);
  std::vector<char> buf(64 * 1024);
  while (true) {
    const size_t got = std::fread(buf.data(), 1, buf.size(), f);
    if (got == 0) break;
    splitter.Feed(absl::string_view(buf.data(), got), feed, too_long);
    if (single_thread) (void)drain(&events, false);
  }
  splitter.Finish(feed, too_long);
  std::fclose(f);
  if (single_thread) {
    pipeline.Flush(&events);
    (void)drain(&events, true);
  } else if (absl::Status done = batches->Finish(); !done.ok()) {
    std::fprintf(stderr, "%s\n", done.ToString().c_str());
    return 1;
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  t.lines = static_cast<uint64_t>(metrics.lines_read.load());
  t.errors =
      static_cast<uint64_t>(metrics.skipped_bad_header.load() + metrics.skipped_malformed.load() +
                            metrics.invalid_events.load());
  t.facts = t.lines - static_cast<uint64_t>(metrics.skipped_unrelated.load()) - t.errors +
            static_cast<uint64_t>(metrics.invalid_events.load());
  std::printf(
      "lines=%llu facts=%llu events=%llu errors=%llu id_digest=%016llx seconds=%.3f "
      "lines_per_s=%.0f\n",
      static_cast<unsigned long long>(t.lines), static_cast<unsigned long long>(t.facts),
      static_cast<unsigned long long>(t.events), static_cast<unsigned long long>(t.errors),
      static_cast<unsigned long long>(t.id_digest), seconds, t.lines / seconds);
  return 0;
}

// Lines of every kind the generator writes, for the per-line micro-benchmarks.
const char* const kLines[] = {
    "Nov 23 00:00:00 mx1 postfix/smtpd[2000]: connect from h593.clients.example[198.51.100.211]",
    "Nov 23 00:00:00 mx1 postfix/smtpd[2000]: 0CA6A3A450: client=h593.clients.example"
    "[198.51.100.211]",
    "Nov 23 00:00:00 mx1 postfix/cleanup[2001]: 0CA6A3A450: message-id=<e8e20ed90475.0@s.example>",
    "Nov 23 00:00:00 mx1 postfix/qmgr[99]: 0CA6A3A450: from=<u70239@senders.example>, size=67010, "
    "nrcpt=1 (queue active)",
    "Nov 23 00:00:00 mx1 postfix/smtp[2002]: 0CA6A3A450: to=<r47931@dest37.example>, "
    "relay=mx.dest37.example[203.0.113.23]:25, delay=0.3, delays=0.1/0/0.1/0.1, dsn=2.0.0, "
    "status=sent (250 2.0.0 Ok: queued as 3D11E20B8F)",
    "Nov 23 00:00:00 mx1 postfix/qmgr[99]: 0CA6A3A450: removed",
    "Nov 23 00:00:00 mx1 postfix/smtpd[2000]: disconnect from h593.clients.example"
    "[198.51.100.211] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5",
};

void BM_HeaderOnly(benchmark::State& state) {
  const mtrk::agent::parse::SyslogHeaderParser headers(kOptions);
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(headers.Parse(kLines[i++ % std::size(kLines)]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HeaderOnly);

void BM_HeaderAndPostfix(benchmark::State& state) {
  const mtrk::agent::parse::SyslogHeaderParser headers(kOptions);
  const std::unique_ptr<mtrk::agent::parse::LineParser> parser =
      mtrk::agent::parse::NewPostfixParser();
  size_t i = 0;
  for (auto _ : state) {
    absl::StatusOr<LogLine> line = headers.Parse(kLines[i++ % std::size(kLines)]);
    benchmark::DoNotOptimize(parser->Parse(*line));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HeaderAndPostfix);

// The whole pipeline over one message's lines, repeated with fresh queue ids is not needed: the
// "removed" line closes the message, so every round opens and closes one.
void BM_Pipeline(benchmark::State& state) {
  const mtrk::agent::parse::SyslogHeaderParser headers(kOptions);
  const std::unique_ptr<mtrk::agent::parse::LineParser> parser =
      mtrk::agent::parse::NewPostfixParser();
  Correlator correlator({});
  Totals t;
  size_t i = 0;
  for (auto _ : state) {
    Feed(headers, *parser, correlator, kLines[i % std::size(kLines)], i, &t);
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["events"] = static_cast<double>(t.events);
}
BENCHMARK(BM_Pipeline);

}  // namespace

int main(int argc, char** argv) {
  bool single_thread = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--full-digest") == 0) full_digest = true;
    if (std::strcmp(argv[i], "--single-thread") == 0) single_thread = true;
    if (absl::StartsWith(argv[i], "--file=")) return RunFile(argv[i] + 7, single_thread);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
