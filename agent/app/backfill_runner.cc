#include "agent/app/backfill_runner.h"

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "agent/app/line_batch_pipeline.h"
#include "agent/app/line_pipeline.h"
#include "agent/app/line_splitter.h"
#include "agent/app/year_reference.h"
#include "agent/ship/collector_client.h"
#include "agent/tail/follower.h"
#include "common/base/status_macros.h"
#include "common/net/grpc_tls.h"
#include "spdlog/spdlog.h"

namespace mtrk::agent::app {
namespace {

// N of "name.N" or "name.N.gz"; -1 if none.
int64_t RotationNumber(const std::string& path) {
  std::string name = path;
  if (absl::EndsWith(name, ".gz")) name.resize(name.size() - 3);
  const size_t dot = name.rfind('.');
  int64_t n = -1;
  if (dot == std::string::npos || !absl::SimpleAtoi(name.substr(dot + 1), &n) || n < 0) return -1;
  return n;
}

class Progress {
 public:
  explicit Progress(uint64_t total_bytes)
      : enabled_(isatty(STDERR_FILENO) == 1), total_(total_bytes), start_(absl::Now()) {}
  void Update(int64_t lines, uint64_t bytes_done, bool final = false) {
    if (!enabled_) return;
    const absl::Time now = absl::Now();
    if (!final && now - last_ < absl::Milliseconds(250)) return;
    last_ = now;
    const double secs = std::max(1e-3, absl::ToDoubleSeconds(now - start_));
    const double rate = static_cast<double>(bytes_done) / secs;
    const double eta =
        rate > 0 && total_ > bytes_done ? static_cast<double>(total_ - bytes_done) / rate : 0.0;
    std::fprintf(stderr, "\rbackfill: %lld lines, %.1f/%.1f MiB, %.1f MiB/s, ETA %.0fs   %s",
                 static_cast<long long>(lines), static_cast<double>(bytes_done) / (1 << 20),
                 static_cast<double>(total_) / (1 << 20), rate / (1 << 20), eta, final ? "\n" : "");
    std::fflush(stderr);
  }

 private:
  const bool enabled_;
  const uint64_t total_;
  const absl::Time start_;
  absl::Time last_ = absl::InfinitePast();
};

}  // namespace

std::vector<std::string> BackfillOrder(std::vector<std::string> files) {
  std::stable_sort(files.begin(), files.end(), [](const std::string& a, const std::string& b) {
    const int64_t na = RotationNumber(a), nb = RotationNumber(b);
    // Numbered (older) first, highest number first; unnumbered keep their given order.
    if ((na < 0) != (nb < 0)) return na >= 0;
    return na > nb;
  });
  return files;
}

absl::Status RunBackfill(const RunConfig& config, const std::vector<std::string>& files,
                         const std::atomic<bool>& stop, AgentMetrics& metrics) {
  const std::vector<std::string> ordered = BackfillOrder(files);
  uint64_t total = 0;
  for (const std::string& f : ordered) {
    struct stat st;
    if (stat(f.c_str(), &st) != 0) return absl::NotFoundError(absl::StrCat("backfill: ", f));
    total += static_cast<uint64_t>(st.st_size);
  }
  ship::CollectorClientOptions client_options;
  if (!config.reporting_mta.empty()) client_options.agent_id = config.reporting_mta;
  client_options.batch_size = config.batch_events;
  client_options.deadline = config.deadline;
  client_options.max_attempts = 20;
  client_options.initial_backoff = config.initial_backoff;
  client_options.max_backoff = config.max_backoff;
  if (!config.ca_file.empty()) {
    MTRK_ASSIGN_OR_RETURN(client_options.credentials,
                          net::GrpcChannelCredentials({.cert_file = config.cert_file,
                                                       .key_file = config.key_file,
                                                       .ca_file = config.ca_file}));
  }
  std::unique_ptr<ship::CollectorClient> client =
      ship::CollectorClient::Connect(config.collector, std::move(client_options));

  // One pass, no checkpoints: a rerun replays the files whole (the collector drops resends).
  LinePipeline pipeline(config, absl::Now(), metrics, {.checkpoints = false});
  // Two threads (issue 8): this one reads, parses and pushes (every batch_events*4 events, and
  // the rest at the end, from Finish); the pipeline's worker correlates.
  LineBatchPipeline lines(
      pipeline, [&](std::vector<model::HopEvent>* events, bool last) -> absl::Status {
        if (events->empty() || (!last && events->size() < 4 * config.batch_events)) {
          return absl::OkStatus();
        }
        MTRK_ASSIGN_OR_RETURN(const int64_t stored, client->Push(*events));
        metrics.events_sent += static_cast<int64_t>(events->size());
        metrics.events_stored += stored;
        events->clear();
        return absl::OkStatus();
      });
  Progress progress(total);
  uint64_t done_before = 0;
  std::string buf(64 * 1024, '\0');
  for (size_t index = 0; index < ordered.size() && !stop.load() && lines.ok(); ++index) {
    const std::string& path = ordered[index];
    lines.SetYearReference(YearReferenceOfFile(path, absl::Now()));
    // gzopen reads plain files transparently.
    gzFile in = gzopen(path.c_str(), "rb");
    if (in == nullptr) return absl::NotFoundError(absl::StrCat("backfill: cannot open ", path));
    LineSplitter splitter(config.max_line_bytes);
    const auto feed = [&](absl::string_view line, uint64_t start) {
      lines.Feed(line, tail::EncodePosition(index, start));
    };
    const auto too_long = [&](uint64_t) { lines.FeedTooLong(); };
    absl::Status status;
    while (!stop.load() && lines.ok()) {
      const int n = gzread(in, buf.data(), static_cast<unsigned>(buf.size()));
      if (n < 0) {
        int err = 0;
        status = absl::DataLossError(absl::StrCat("backfill: ", path, ": ", gzerror(in, &err)));
        break;
      }
      if (n == 0) break;
      splitter.Feed(absl::string_view(buf.data(), static_cast<size_t>(n)), feed, too_long);
      progress.Update(metrics.lines_read.load(), done_before + static_cast<uint64_t>(gzoffset(in)));
    }
    if (status.ok()) splitter.Finish(feed, too_long);  // a last line without its newline
    gzclose(in);
    MTRK_RETURN_IF_ERROR(status);
    struct stat st;
    if (stat(path.c_str(), &st) == 0) done_before += static_cast<uint64_t>(st.st_size);
  }
  MTRK_RETURN_IF_ERROR(lines.Finish());
  progress.Update(metrics.lines_read.load(), done_before, /*final=*/true);
  spdlog::info("backfill: {} files, {} lines, {} events sent, {} new in the store", ordered.size(),
               metrics.lines_read.load(), metrics.events_sent.load(), metrics.events_stored.load());
  return absl::OkStatus();
}

}  // namespace mtrk::agent::app
