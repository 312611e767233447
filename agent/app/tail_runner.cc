#include "agent/app/tail_runner.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "agent/app/line_pipeline.h"
#include "agent/app/stored_checkpoint.h"
#include "agent/ship/shipper.h"
#include "agent/spool/spool.h"
#include "agent/tail/follower.h"
#include "common/base/status_macros.h"
#include "common/model/hop_event_proto.h"
#include "common/net/grpc_tls.h"
#include "mtrk/v1/ingest.pb.h"
#include "spdlog/spdlog.h"

namespace mtrk::agent::app {
namespace {

// Sleeps up to d, in small steps, returning early once stop is set.
void SleepUnlessStopped(absl::Duration d, const std::atomic<bool>& stop) {
  const absl::Time end = absl::Now() + d;
  while (!stop.load() && absl::Now() < end) {
    absl::SleepFor(std::min(absl::Milliseconds(50), end - absl::Now()));
  }
}

// Waits up to d (the poll interval: the fallback) for inotify to report a change to the log,
// returning early once stop is set. Steps of 50 ms: the stop signal may land on another thread;
// `tick` runs after each (gauges such as the ship lag stay fresh however long d is).
void WaitForLogUnlessStopped(tail::Follower& follower, absl::Duration d,
                             const std::atomic<bool>& stop, const std::function<void()>& tick) {
  const absl::Time end = absl::Now() + d;
  while (!stop.load() && absl::Now() < end) {
    if (follower.WaitForChange(std::min(absl::Milliseconds(50), end - absl::Now()))) return;
    tick();
  }
}

}  // namespace

absl::Status RunTail(const RunConfig& config, const std::atomic<bool>& stop,
                     AgentMetrics& metrics) {
  MTRK_ASSIGN_OR_RETURN(
      std::unique_ptr<spool::Spool> spool,
      spool::Spool::Open({.path = config.spool_path, .max_bytes = config.spool_max_bytes}));

  ship::ShipperOptions ship_options;
  ship_options.target = config.collector;
  if (!config.ca_file.empty()) {
    MTRK_ASSIGN_OR_RETURN(ship_options.credentials,
                          net::GrpcChannelCredentials({.cert_file = config.cert_file,
                                                       .key_file = config.key_file,
                                                       .ca_file = config.ca_file}));
  }
  if (!config.reporting_mta.empty()) ship_options.agent_id = config.reporting_mta;
  ship_options.deadline = config.deadline;
  ship_options.initial_backoff = config.initial_backoff;
  ship_options.max_backoff = config.max_backoff;
  ship::Shipper shipper(*spool, std::move(ship_options));
  std::thread ship_thread([&shipper] { shipper.Run(); });
  // Joins the shipper on every return path.
  struct Joiner {
    ship::Shipper& s;
    std::thread& t;
    ~Joiner() {
      s.Stop();
      t.join();
    }
  } joiner{shipper, ship_thread};

  std::unique_ptr<MetricsServer> metrics_server;
  if (!config.metrics_listen.empty()) {
    MTRK_ASSIGN_OR_RETURN(metrics_server, MetricsServer::Start(config.metrics_listen, metrics));
    spdlog::info("agent: metrics on {} port {}", config.metrics_listen, metrics_server->port());
  }

  LinePipeline pipeline(config, absl::Now(), metrics);
  tail::Follower follower({.path = config.log_path,
                           .rotated = config.rotated,
                           .max_line_bytes = config.max_line_bytes,
                           .inotify = config.inotify,
                           .rotate_grace = config.rotate_grace});
  std::optional<StoredCheckpoint> stored;
  if (const std::optional<std::string> text = spool->checkpoint(); text.has_value()) {
    absl::StatusOr<StoredCheckpoint> parsed = ParseStoredCheckpoint(*text);
    if (parsed.ok()) {
      stored = *std::move(parsed);
    } else {
      spdlog::warn("spool: {}; reading the log from its start",
                   std::string(parsed.status().message()));
    }
  }
  std::optional<tail::TailCheckpoint> checkpoint;
  if (stored.has_value()) {
    checkpoint = stored->tail;
    pipeline.Resume(stored->pipeline);
  }
  for (bool warned = false; !stop.load();) {
    const absl::Status started = follower.Start(checkpoint);
    if (started.ok()) break;
    if (!absl::IsNotFound(started)) return started;
    if (!warned) spdlog::warn("agent: {}; waiting for it", std::string(started.message()));
    warned = true;
    WaitForLogUnlessStopped(follower, config.poll_interval, stop, [] {});
  }
  if (stop.load()) return absl::OkStatus();
  spdlog::info("agent: tailing {} from {}", config.log_path,
               stored.has_value() ? spool->checkpoint()->substr(0, 120) : "its start");

  std::vector<model::HopEvent> pending;
  absl::Time last_commit = absl::Now();
  bool read_since_commit = false;
  const auto commit = [&]() -> absl::Status {
    std::vector<std::string> records;
    std::vector<absl::Time> log_times;  // of each record's oldest event: the ship lag
    for (size_t begin = 0; begin < pending.size(); begin += config.batch_events) {
      v1::PushEventsRequest request;
      absl::Time oldest = absl::InfiniteFuture();
      const size_t end = std::min(pending.size(), begin + config.batch_events);
      for (size_t i = begin; i < end; ++i) {
        model::ToProto(pending[i], request.add_events());
        oldest = std::min(oldest, pending[i].event_time);
      }
      records.push_back(request.SerializeAsString());
      log_times.push_back(oldest);
    }
    std::optional<std::string> cp_text;
    const LinePipeline::Checkpoint safe = pipeline.SafeCheckpoint(follower.next_position());
    spdlog::debug("commit: next={:#x} open={} checkpoint={:#x} skip={}", follower.next_position(),
                  pipeline.open_messages(), safe.position, safe.skip_keys.size());
    if (std::optional<tail::TailCheckpoint> cp = follower.CheckpointAt(safe.position)) {
      cp_text = FormatStoredCheckpoint({.tail = *cp, .pipeline = safe});
      follower.ForgetBefore(safe.position);
    }
    MTRK_RETURN_IF_ERROR(spool->Append(records, cp_text, log_times));
    pending.clear();
    read_since_commit = false;
    last_commit = absl::Now();
    return absl::OkStatus();
  };
  const auto refresh_metrics = [&] {
    metrics.spool_bytes = static_cast<int64_t>(spool->bytes());
    metrics.spool_records = spool->records();
    metrics.open_messages = static_cast<int64_t>(pipeline.open_messages());
    metrics.rotations = follower.stats().rotations;
    metrics.rotation_late_bytes = follower.stats().late_bytes;
    metrics.bytes_read = follower.stats().bytes;
    metrics.events_sent = shipper.stats().events_sent.load();
    metrics.events_stored = shipper.stats().events_stored.load();
    metrics.push_retries = shipper.stats().retries.load();
    metrics.events_quarantined = shipper.stats().events_quarantined.load();
    metrics.tail_inotify = follower.stats().inotify ? 1 : 0;
    const absl::Time now = absl::Now();
    if (pipeline.latest_line_time() != absl::InfinitePast()) {
      metrics.lag_seconds = absl::ToInt64Seconds(now - pipeline.latest_line_time());
    }
    const std::optional<absl::Time> oldest = spool->oldest_log_time();
    metrics.ship_lag_seconds =
        oldest.has_value() ? std::max<int64_t>(0, absl::ToInt64Seconds(now - *oldest)) : 0;
  };

  bool paused = false;
  const tail::Follower::LineSink sink = [&](const tail::Follower::Line& line) {
    read_since_commit = true;
    if (line.too_long) {
      pipeline.FeedTooLong();
    } else {
      pipeline.Feed(line.text, line.position, &pending);
    }
  };
  while (!stop.load()) {
    refresh_metrics();
    if (spool->full()) {
      // Backpressure (STYLE §3 ResourceExhausted): the log stays on disk; we read it later.
      if (!paused) {
        ++metrics.spool_full;
        spdlog::warn("agent: spool full ({} bytes); reading paused until the collector catches up",
                     spool->bytes());
      }
      paused = true;
      if (!pending.empty() || absl::Now() - last_commit >= config.commit_interval) {
        MTRK_RETURN_IF_ERROR(commit());
      }
      SleepUnlessStopped(config.poll_interval, stop);
      continue;
    }
    if (paused) spdlog::info("agent: spool has room again; reading resumed");
    paused = false;
    pipeline.SetYearReference(absl::Now());  // years of RFC 3164 lines: see year_reference.h
    absl::StatusOr<size_t> n = follower.Poll(sink, 4 * config.batch_events);
    if (!n.ok()) {
      spdlog::error("agent: {}", n.status().ToString());
      SleepUnlessStopped(config.poll_interval, stop);
      continue;
    }
    if (pending.size() >= 4 * config.batch_events ||
        absl::Now() - last_commit >= config.commit_interval) {
      MTRK_RETURN_IF_ERROR(commit());
    }
    if (*n == 0) {
      // Lines read since the last commit are committed on time even if the log goes quiet and
      // no inotify event comes before the (possibly long) poll interval.
      absl::Duration wait = config.poll_interval;
      if (read_since_commit) {
        wait = std::min(wait, std::max(absl::ZeroDuration(),
                                       last_commit + config.commit_interval - absl::Now()));
      }
      WaitForLogUnlessStopped(follower, wait, stop, refresh_metrics);
    }
  }
  MTRK_RETURN_IF_ERROR(commit());
  spdlog::info("agent: stopping; {} records left in the spool", spool->records());
  return absl::OkStatus();
}

}  // namespace mtrk::agent::app
