// AgentMetrics: the tailing agent's counters and gauges, and a Prometheus text endpoint
// (GET /metrics) served by cpp-httplib on its own thread. Counters are atomics: the reader and
// the shipper update them without locks; a scrape reads them racily, which Prometheus tolerates.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace httplib {
class Server;
}

namespace mtrk::agent::app {

// Skipped lines (unrelated or malformed) by daemon and kind, for
// mtrk_agent_lines_skipped_by_kind_total{program="smtpd",kind="no-queue-id"} (issue 8: "every
// other line is counted per program and kind"). Labels are bounded: a program is a Postfix
// daemon name (ProgramName, "smtpd") or "other" (a non-Postfix program: dovecot, amavis, ...);
// a kind is one the Postfix parser names (parse::Unrelated), "malformed", or "other". Lock-free.
class SkippedLineCounts {
 public:
  static constexpr size_t kPrograms = 49;  // Postfix's daemons and commands, and "other"
  static constexpr size_t kKinds = 21;     // the parser's kinds, "malformed", "other"

  void Add(absl::string_view program, absl::string_view kind);
  int64_t Get(absl::string_view program, absl::string_view kind) const;
  // Prometheus sample lines, nonzero series only, in a fixed order.
  void Render(std::string* out) const;

 private:
  std::array<std::array<std::atomic<int64_t>, kKinds>, kPrograms> counts_{};
};

struct AgentMetrics {
  std::atomic<int64_t> lines_read{0};
  std::atomic<int64_t> skipped_unrelated{0};
  std::atomic<int64_t> skipped_bad_header{0};
  std::atomic<int64_t> skipped_malformed{0};
  std::atomic<int64_t> skipped_too_long{0};
  std::atomic<int64_t> skipped_replayed{0};  // after a restart: lines of finished messages
  SkippedLineCounts skipped_by_kind;         // unrelated + malformed, by program and kind
  std::atomic<int64_t> events{0};            // derived and spooled (replays included)
  std::atomic<int64_t> invalid_events{0};    // failed validation: never spooled
  // Events whose log text was not UTF-8 (or held NUL) and was repaired (model::RepairLogText).
  std::atomic<int64_t> events_text_repaired{0};
  std::atomic<int64_t> rotations{0};
  // Bytes the writer added to a renamed log after its rotation, read thanks to rotate_grace.
  std::atomic<int64_t> rotation_late_bytes{0};
  std::atomic<int64_t> spool_full{0};  // times reading paused on a full spool
  std::atomic<int64_t> spool_bytes{0};
  std::atomic<int64_t> spool_records{0};
  std::atomic<int64_t> lag_seconds{0};  // read lag: now - time of the latest line read
  std::atomic<int64_t> open_messages{0};
  std::atomic<int64_t> bytes_read{0};
  // Shipper's, copied in by the runner each commit.
  std::atomic<int64_t> events_sent{0};
  std::atomic<int64_t> events_stored{0};
  std::atomic<int64_t> push_retries{0};
  std::atomic<int64_t> events_quarantined{0};  // rejected by the collector, kept in the spool
  std::atomic<int64_t> ship_lag_seconds{0};    // now - log time of the oldest unacked event
  std::atomic<int64_t> tail_inotify{0};        // 1: inotify wakes the reader; 0: polling only

  std::string Render() const;
};

// Serves `metrics` on host:port until destroyed. Port 0 picks one (see port()).
class MetricsServer {
 public:
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(const std::string& listen,
                                                              const AgentMetrics& metrics);
  ~MetricsServer();
  int port() const { return port_; }

 private:
  MetricsServer() = default;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace mtrk::agent::app
