// Spool: the agent's durable queue between reading the log and the collector's ack (STYLE §1).
//
// One SQLite database in WAL mode with synchronous=FULL: Append() returns after the records and
// the tail checkpoint are committed together and fsynced, so after a crash either both or neither
// exist. That pairing is the agent's exactly-once argument: a checkpoint never passes a line
// whose events are not durably spooled, and a spooled record leaves the spool only when the
// collector acked it (Ack after COMMIT there). Records are opaque bytes (serialized event
// batches), read back in append order.
//
// Bounded: full() once the records' bytes reach max_bytes. The spool itself never refuses or
// drops: the reader checks full() before reading more of the log (backpressure), so the bound
// is exceeded by at most one append. Thread-safe (one connection behind a mutex; the reader
// appends while the shipper peeks and acks).
//
// Quarantine: a batch the collector rejects as invalid (one bad event, named in the error, or the
// whole record) moves to the `quarantine` table in the same database, kept for an operator
// (`mtrk-agent quarantine list`), so the records after it can go on. Once the collector is
// fixed, `mtrk-agent quarantine requeue` (RequeueQuarantined) puts them back in the queue.
//
// One process at a time: Open takes an exclusive flock(2) on `<path>.lock` and fails with
// FailedPrecondition while another process (a running agent) holds it, since the counters kept
// here (bytes, records) must see every change.
//
// Errors: Unavailable for I/O and SQLite failures (disk full included); DataLoss for a corrupt
// database (SQLite's own page checksums and the WAL's frame checksums detect torn writes).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

struct sqlite3;

namespace mtrk::agent::spool {

struct SpoolOptions {
  std::string path;                 // the database file; -wal, -shm and .lock files beside it
  uint64_t max_bytes = 1ull << 30;  // full: stop reading the log, never drop
};

class Spool {
 public:
  struct Record {
    int64_t seq = 0;  // increasing; Ack(seq) removes it and everything before
    std::string data;
  };
  struct Quarantined {
    int64_t record_seq = 0;  // the spool record it came from
    int64_t events = 0;
    std::string reason;
    std::string data;  // a serialized batch, like a record's
  };

  static absl::StatusOr<std::unique_ptr<Spool>> Open(SpoolOptions options);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Appends `records` (possibly none) and, if given, replaces the checkpoint: one transaction.
  // `log_times`, if not empty, has one entry per record: the log time of its oldest event.
  absl::Status Append(const std::vector<std::string>& records,
                      const std::optional<std::string>& checkpoint,
                      const std::vector<absl::Time>& log_times = {});
  // The oldest records, at most max_records and (after the first) max_bytes in total.
  absl::StatusOr<std::vector<Record>> Peek(size_t max_records, size_t max_bytes);
  // Removes the records up to and including `seq`.
  absl::Status Ack(int64_t seq);
  // One transaction: stores `q` in the quarantine table, and replaces record `seq` with `rest`
  // (the events still to send), or removes it when `rest` is nullopt.
  absl::Status Quarantine(int64_t seq, const Quarantined& q,
                          const std::optional<std::string>& rest);
  absl::StatusOr<std::vector<Quarantined>> ListQuarantined() const;
  // One transaction: appends every quarantined batch to the queue again (oldest first, after
  // the records already there; their log time unknown) and empties the quarantine table.
  // Returns the number of events requeued. Resending is safe: the collector drops events it has.
  absl::StatusOr<int64_t> RequeueQuarantined();

  std::optional<std::string> checkpoint() const;
  uint64_t bytes() const;
  int64_t records() const;
  int64_t quarantined_events() const;  // in the quarantine table, kept across restarts
  // Log time of the oldest event not yet acked; nullopt when the spool is empty (or the records
  // carry no time: written by an older agent).
  std::optional<absl::Time> oldest_log_time() const;
  bool full() const { return bytes() >= options_.max_bytes; }

 private:
  explicit Spool(SpoolOptions options) : options_(std::move(options)) {}
  absl::Status Exec(const char* sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Error(const char* what) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Error(what), after rolling back the transaction in progress.
  absl::Status RollBack(const char* what) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ReadOldestLogTime() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const SpoolOptions options_;
  mutable absl::Mutex mu_;
  sqlite3* db_ ABSL_GUARDED_BY(mu_) = nullptr;
  int lock_fd_ = -1;  // holds the flock: one process per spool
  uint64_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t records_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<std::string> checkpoint_ ABSL_GUARDED_BY(mu_);
  int64_t quarantined_events_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<absl::Time> oldest_log_time_ ABSL_GUARDED_BY(mu_);
};

}  // namespace mtrk::agent::spool
