// Shipper: drains the spool to the collector, in order, forever (STYLE §1 ship/).
//
// One spool record is one PushEvents call (the reader writes records of at most batch_events
// events), sent with a deadline; batch_sequence is the record's spool sequence. A record leaves
// the spool only after the collector's OK, which it sends after COMMIT: so a crash anywhere
// resends at most the unacked records, and the collector drops events it already stored (event
// ids are deterministic). Every failure is retried, with exponential backoff and full jitter:
// nothing is dropped for a transient reason. A batch the collector rejects as INVALID_ARGUMENT
// (rare: every spooled event passed model::ValidateHopEvent, but the collector may be newer and
// stricter) would block the spool if retried, so it is quarantined (Spool::Quarantine, kept, and
// counted): when the error names the bad event ("event #N", or its event_id), that event alone,
// and the rest of the batch is sent again; else the whole batch. A record that does not parse is
// quarantined whole too (STYLE §3 DataLoss). Each quarantine is logged at error level, once.
// FAILED_PRECONDITION (collector schema unknown to us) is retried at max_backoff: an operator
// must act, and the batch is fine.
// Thread-safe: Run() in its own thread, Stop() from any.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "agent/spool/spool.h"
#include "common/log/rate_limited_log.h"
#include "grpcpp/channel.h"
#include "grpcpp/security/credentials.h"
#include "mtrk/v1/ingest.grpc.pb.h"

namespace mtrk::agent::ship {

struct ShipperOptions {
  std::string target;                                     // host:port
  std::shared_ptr<grpc::ChannelCredentials> credentials;  // null: insecure
  std::string agent_id = "mtrk-agent";
  absl::Duration deadline = absl::Seconds(10);  // per call
  absl::Duration initial_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(10);
  absl::Duration idle_wait = absl::Milliseconds(100);  // spool empty: look again after this
};

struct ShipperStats {
  std::atomic<int64_t> batches{0};
  std::atomic<int64_t> events_sent{0};    // acked events (resends included)
  std::atomic<int64_t> events_stored{0};  // new in the store, per the collector
  std::atomic<int64_t> retries{0};
  std::atomic<int64_t> failures_rejected{0};
  std::atomic<int64_t> events_quarantined{0};  // moved to the spool's quarantine table
  std::atomic<bool> connected{false};          // last call succeeded
};

class Shipper {
 public:
  Shipper(spool::Spool& spool, ShipperOptions options);
  void Run();   // returns after Stop()
  void Stop();  // wakes a backoff or idle wait
  const ShipperStats& stats() const { return stats_; }

 private:
  // Sleeps up to d; false if stopped meanwhile.
  bool Wait(absl::Duration d);
  // The collector rejected `request` (spool record `seq`) as invalid: quarantine what it names.
  bool LogAllowed();  // quarantine_log_ says yes; reports what it held back
  absl::Status QuarantineRejected(int64_t seq, const v1::PushEventsRequest& request,
                                  const absl::Status& rejection);

  spool::Spool& spool_;
  ShipperOptions options_;
  std::unique_ptr<v1::Ingest::Stub> stub_;
  absl::Notification stop_;
  ShipperStats stats_;
  // One error line per quarantine, but a collector that rejects everything must not flood.
  log::RateLimitedLog quarantine_log_{20, absl::Minutes(1)};
};

}  // namespace mtrk::agent::ship
