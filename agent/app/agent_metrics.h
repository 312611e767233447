// AgentMetrics: the tailing agent's counters and gauges, and a Prometheus text endpoint
// (GET /metrics) served by cpp-httplib on its own thread. Counters are atomics: the reader and
// the shipper update them without locks; a scrape reads them racily, which Prometheus tolerates.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace httplib {
class Server;
}

namespace mtrk::agent::app {

struct AgentMetrics {
  std::atomic<int64_t> lines_read{0};
  std::atomic<int64_t> skipped_unrelated{0};
  std::atomic<int64_t> skipped_bad_header{0};
  std::atomic<int64_t> skipped_malformed{0};
  std::atomic<int64_t> skipped_too_long{0};
  std::atomic<int64_t> skipped_replayed{0};  // after a restart: lines of finished messages
  std::atomic<int64_t> events{0};            // derived and spooled (replays included)
  std::atomic<int64_t> invalid_events{0};    // failed validation: never spooled
  std::atomic<int64_t> rotations{0};
  std::atomic<int64_t> spool_full{0};  // times reading paused on a full spool
  std::atomic<int64_t> spool_bytes{0};
  std::atomic<int64_t> spool_records{0};
  std::atomic<int64_t> lag_seconds{0};  // now - time of the oldest unacked line read
  std::atomic<int64_t> open_messages{0};
  std::atomic<int64_t> bytes_read{0};
  // Shipper's, copied in by the runner each commit.
  std::atomic<int64_t> events_sent{0};
  std::atomic<int64_t> events_stored{0};
  std::atomic<int64_t> push_retries{0};

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
