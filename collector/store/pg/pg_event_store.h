// PgEventStore: EventStore on PostgreSQL 15 (schema: sql/migrations/), via libpqxx
// 6.4 and a small connection pool. Thread-safe. libpqxx exceptions end in this module
// (pg_error.h). The schema must already be migrated (Migrator); the store creates the day
// partitions of hop_events it needs (and with them the month partitions of its ENVID and
// recipient indexes hop_envids and hop_recipients, pg_message_index.h).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <pqxx/result>
#include <pqxx/transaction>
#include <span>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "collector/store/event_store.h"
#include "collector/store/pg/pg_pool.h"
#include "common/model/hop_event.h"

namespace mtrk::collector::store {

// Most events one lookup returns; more is ResourceExhausted rather than a silently cut answer.
inline constexpr int64_t kMaxLookupEvents = 10000;

// The message at one MTA, as the hop_events.message_key column holds it (and Citus will
// distribute by it): hex of the first 16 octets of SHA-256 over reporting host, MTA instance,
// queue id and first-seen time.
std::string MessageKeyOf(const model::HopEvent& event);

// The hop_events columns a batch is COPYed into, in order (the raw-COPY baseline of
// bench/collector_ingest_bench writes the same).
std::span<const char* const> HopEventCopyColumns();

class PgEventStore : public EventStore {
 public:
  struct Options {
    int pool_size = 4;
    absl::Duration acquire_timeout = absl::Seconds(10);
    // Test-only fault injection: runs after a batch is written, just before COMMIT. Throwing
    // (or terminating the process) there shows that nothing is acknowledged before commit.
    std::function<void()> before_commit = nullptr;
  };

  // Opens one connection to fail fast: Unavailable if the database cannot be reached.
  static absl::StatusOr<std::unique_ptr<PgEventStore>> Connect(std::string conninfo,
                                                               Options options);

  absl::StatusOr<int64_t> Append(std::span<const model::HopEvent> batch) override;
  absl::StatusOr<std::vector<model::HopEvent>> FindByEnvid(absl::string_view envid) override;
  absl::StatusOr<std::vector<MessageRef>> FindMessagesByEnvid(absl::string_view envid) override;
  absl::StatusOr<std::vector<model::HopEvent>> FindByMessageId(
      absl::string_view message_id) override;

  absl::StatusOr<std::vector<model::HopEvent>> HopsOf(std::span<const MessageRef> refs) override;
  absl::StatusOr<std::vector<MessageRef>> FindLinked(const LinkQuery& query, int limit) override;
  absl::StatusOr<std::vector<MessageRef>> FindMessage(absl::string_view message_key) override;
  absl::StatusOr<std::vector<MessageRef>> Search(const SearchFilter& filter,
                                                 const std::optional<MessageRef>& after,
                                                 int limit) override;

  absl::StatusOr<std::vector<absl::Time>> ListPartitionDays() override;
  absl::StatusOr<PartitionInfo> DescribePartition(absl::Time day_start, absl::Time now) override;
  absl::Status DropPartition(absl::Time day_start) override;

 private:
  PgEventStore(std::string conninfo, Options options);
  // Creates the day partitions the batch needs, each once per process (then cached).
  absl::Status EnsurePartitions(std::span<const model::HopEvent> batch);
  absl::StatusOr<std::vector<model::HopEvent>> Find(const char* statement, absl::string_view key,
                                                    absl::string_view what);
  // One attempt: COPY into the session's staging table, then INSERT ... ON CONFLICT DO NOTHING.
  absl::StatusOr<int64_t> AppendOnce(std::span<const model::HopEvent> batch,
                                     bool* missing_partition);
  void ForgetPartitions();
  absl::StatusOr<std::vector<model::HopEvent>> Rows(
      const std::function<pqxx::result(pqxx::read_transaction&)>& query, absl::string_view what);
  absl::StatusOr<std::vector<MessageRef>> Refs(
      const std::function<pqxx::result(pqxx::read_transaction&)>& query, absl::string_view what);

  const Options options_;

  PgPool pool_;
  absl::Mutex mu_;
  // Days (UTC, as "YYYY-MM-DD") whose partition is known to exist.
  // DropPartition forgets its day; a day dropped by another collector is noticed when an insert
  // fails with "no partition", which clears the cache and retries once (Append).
  absl::flat_hash_set<std::string> known_days_ ABSL_GUARDED_BY(mu_);
};

}  // namespace mtrk::collector::store
