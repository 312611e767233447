// PgEventStore: EventStore on PostgreSQL 15 (schema: sql/migrations/0001_init.sql), via libpqxx
// 6.4 and a small connection pool. Thread-safe. libpqxx exceptions end in this module
// (pg_error.h). The schema must already be migrated (Migrator); the store creates the day
// partitions of hop_events it needs.
#pragma once

#include <cstdint>
#include <memory>
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

class PgEventStore : public EventStore {
 public:
  struct Options {
    int pool_size = 4;
    absl::Duration acquire_timeout = absl::Seconds(10);
  };

  // Opens one connection to fail fast: Unavailable if the database cannot be reached.
  static absl::StatusOr<std::unique_ptr<PgEventStore>> Connect(std::string conninfo,
                                                               Options options);

  absl::StatusOr<int64_t> Append(std::span<const model::HopEvent> batch) override;
  absl::StatusOr<std::vector<model::HopEvent>> FindByEnvid(absl::string_view envid) override;
  absl::StatusOr<std::vector<model::HopEvent>> FindByMessageId(
      absl::string_view message_id) override;

 private:
  PgEventStore(std::string conninfo, Options options);
  // Creates the day partitions the batch needs, each once per process (then cached).
  absl::Status EnsurePartitions(std::span<const model::HopEvent> batch);
  absl::StatusOr<std::vector<model::HopEvent>> Find(const char* statement, absl::string_view key,
                                                    absl::string_view what);

  PgPool pool_;
  absl::Mutex mu_;
  // Days (UTC, as "YYYY-MM-DD") whose partition is known to exist.
  // XXX: once retention drops old partitions, a late backfill into a dropped day fails until
  // restart; retention/ must clear this cache (or the store retry on "no partition").
  absl::flat_hash_set<std::string> known_days_ ABSL_GUARDED_BY(mu_);
};

}  // namespace mtrk::collector::store
