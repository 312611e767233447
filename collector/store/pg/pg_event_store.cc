#include "collector/store/pg/pg_event_store.h"

#include <openssl/sha.h>

#include <algorithm>
#include <numeric>
#include <optional>
#include <pqxx/result>
#include <pqxx/transaction>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "collector/store/pg/pg_error.h"
#include "common/base/status_macros.h"
#include "common/model/dsn_action.h"

namespace mtrk::collector::store {
namespace {

constexpr char kEnsurePartition[] = "ensure_partition";
constexpr char kInsertHop[] = "insert_hop";
constexpr char kFindByEnvid[] = "find_by_envid";
constexpr char kFindByMessageId[] = "find_by_message_id";

// Column order shared by both finds and RowToEvent. Times come back as integer microseconds:
// extract(epoch ...) is numeric since PostgreSQL 14, so this is exact.
constexpr char kSelectColumns[] =
    "SELECT event_id, reporting_host, reporting_mta, mta_instance, queue_id, "
    "(extract(epoch FROM first_seen) * 1000000)::bigint, message_id, sender, client, envid, "
    "COALESCE(encode(certifier, 'hex'), ''), mtrk_timeout_s, original_recipient, "
    "final_recipient, action, status, remote_mta, relay, diagnostic, "
    "COALESCE((extract(epoch FROM arrival_time) * 1000000)::bigint, 0), "
    "COALESCE((extract(epoch FROM last_attempt_time) * 1000000)::bigint, 0), "
    "COALESCE((extract(epoch FROM will_retry_until) * 1000000)::bigint, 0), "
    "next_queue_id, expansion_member, (extract(epoch FROM event_time) * 1000000)::bigint "
    "FROM hop_events ";

// Optional times travel as '' (NULL); certifier as hex text, '' for none.
constexpr char kInsertSql[] =
    "INSERT INTO hop_events (message_key, first_seen, event_id, reporting_host, reporting_mta, "
    "mta_instance, queue_id, message_id, sender, client, envid, certifier, mtrk_timeout_s, "
    "original_recipient, final_recipient, action, status, remote_mta, relay, diagnostic, "
    "arrival_time, last_attempt_time, will_retry_until, next_queue_id, expansion_member, "
    "event_time) VALUES ($1, $2::timestamptz, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
    "decode(NULLIF($12::text, ''), 'hex'), $13, $14, $15, $16, $17, $18, $19, $20, "
    "NULLIF($21::text, '')::timestamptz, NULLIF($22::text, '')::timestamptz, "
    "NULLIF($23::text, '')::timestamptz, $24, $25, $26::timestamptz) "
    "ON CONFLICT DO NOTHING";

void PrepareStatements(pqxx::connection& conn) {
  conn.prepare(kEnsurePartition, "SELECT mtrk_ensure_hop_events_partition($1::date)");
  conn.prepare(kInsertHop, kInsertSql);
  // The `<> ''` repeats the partial indexes' predicate so a generic plan can use them too.
  conn.prepare(kFindByEnvid, absl::StrCat(kSelectColumns,
                                          "WHERE envid = $1 AND envid <> '' "
                                          "ORDER BY first_seen, message_key, event_id LIMIT ",
                                          kMaxLookupEvents + 1));
  conn.prepare(kFindByMessageId, absl::StrCat(kSelectColumns,
                                              "WHERE message_id = $1 AND message_id <> '' "
                                              "ORDER BY first_seen, message_key, event_id LIMIT ",
                                              kMaxLookupEvents + 1));
}

// Both forms are UTC with an explicit offset, so the session TimeZone cannot shift them.
std::string TimestampText(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%E6S+00", t, absl::UTCTimeZone());
}
std::string OptionalTimestampText(absl::Time t) {
  return t == absl::InfinitePast() ? std::string() : TimestampText(t);
}
std::string DayOf(absl::Time t) { return absl::FormatTime("%Y-%m-%d", t, absl::UTCTimeZone()); }

absl::Time FromMicros(int64_t us) {
  return us == 0 ? absl::InfinitePast() : absl::FromUnixMicros(us);
}

absl::StatusOr<model::HopEvent> RowToEvent(const pqxx::row& row) {
  model::HopEvent e;
  e.event_id = row[0].as<std::string>();
  e.reporting_host = row[1].as<std::string>();
  e.reporting_mta = row[2].as<std::string>();
  e.mta_instance = row[3].as<std::string>();
  e.queue_id = row[4].as<std::string>();
  e.queue_first_seen = FromMicros(row[5].as<int64_t>());
  e.message_id = row[6].as<std::string>();
  e.sender = row[7].as<std::string>();
  e.client = row[8].as<std::string>();
  e.envid = row[9].as<std::string>();
  e.certifier = absl::HexStringToBytes(row[10].as<std::string>());
  e.mtrk_timeout_s = row[11].as<int64_t>();
  e.original_recipient = row[12].as<std::string>();
  e.final_recipient = row[13].as<std::string>();
  const std::string action = row[14].as<std::string>();
  const std::optional<model::DsnAction> parsed = model::ParseActionName(action);
  if (!parsed.has_value()) {
    return absl::InternalError(
        absl::StrCat("hop_events: unknown action in event ", e.event_id.substr(0, 16)));
  }
  e.action = *parsed;
  e.status = row[15].as<std::string>();
  e.remote_mta = row[16].as<std::string>();
  e.relay = row[17].as<std::string>();
  e.diagnostic = row[18].as<std::string>();
  e.arrival_time = FromMicros(row[19].as<int64_t>());
  e.last_attempt_time = FromMicros(row[20].as<int64_t>());
  e.will_retry_until = FromMicros(row[21].as<int64_t>());
  e.next_queue_id = row[22].as<std::string>();
  e.expansion_member = row[23].as<bool>();
  e.event_time = FromMicros(row[24].as<int64_t>());
  return e;
}

// Discards the lease's connection when the error says the session is gone, so the pool opens a
// fresh one for the next caller (reconnect on broken connection).
absl::Status Classify(PgPool::Lease& lease, absl::string_view what) {
  absl::Status status = CurrentPgErrorToStatus(what);
  if (status.code() == absl::StatusCode::kUnavailable ||
      status.code() == absl::StatusCode::kInternal) {
    lease.Discard();
  }
  return status;
}

// libpq passes text parameters as C strings, so a NUL would silently cut the value short (and
// PostgreSQL text cannot hold one anyway): refuse the batch instead of storing a truncated event.
// XXX: model::ValidateHopEvent should reject NUL (and invalid UTF-8) for every collector store.
absl::Status CheckNoNul(const model::HopEvent& e) {
  const struct {
    absl::string_view name;
    const std::string& value;
  } kFields[] = {
      {"event_id", e.event_id},
      {"reporting_host", e.reporting_host},
      {"reporting_mta", e.reporting_mta},
      {"mta_instance", e.mta_instance},
      {"queue_id", e.queue_id},
      {"message_id", e.message_id},
      {"sender", e.sender},
      {"client", e.client},
      {"envid", e.envid},
      {"original_recipient", e.original_recipient},
      {"final_recipient", e.final_recipient},
      {"status", e.status},
      {"remote_mta", e.remote_mta},
      {"relay", e.relay},
      {"diagnostic", e.diagnostic},
      {"next_queue_id", e.next_queue_id},
  };
  for (const auto& f : kFields) {
    if (f.value.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("hop event '", e.event_id.substr(0, 16),
                                                     "': field ", f.name, ": contains NUL"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string MessageKeyOf(const model::HopEvent& e) {
  const int64_t first_seen_us =
      e.queue_first_seen == absl::InfinitePast() ? 0 : absl::ToUnixMicros(e.queue_first_seen);
  // NUL cannot occur in a log-derived host, instance or queue id, so the join is unambiguous.
  const std::string key =
      absl::StrCat(e.reporting_host, std::string(1, '\0'), e.mta_instance, std::string(1, '\0'),
                   e.queue_id, std::string(1, '\0'), first_seen_us);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), 16));
}

PgEventStore::PgEventStore(std::string conninfo, Options options)
    : pool_(std::move(conninfo),
            PgPool::Options{.size = options.pool_size, .acquire_timeout = options.acquire_timeout},
            &PrepareStatements) {}

absl::StatusOr<std::unique_ptr<PgEventStore>> PgEventStore::Connect(std::string conninfo,
                                                                    Options options) {
  if (options.pool_size < 1) {
    return absl::InvalidArgumentError("pg event store: pool_size must be at least 1");
  }
  std::unique_ptr<PgEventStore> store(new PgEventStore(std::move(conninfo), options));
  MTRK_ASSIGN_OR_RETURN(PgPool::Lease lease, store->pool_.Acquire());
  return store;
}

absl::Status PgEventStore::EnsurePartitions(std::span<const model::HopEvent> batch) {
  std::vector<std::string> missing;
  {
    absl::MutexLock lock(&mu_);
    for (const model::HopEvent& e : batch) {
      std::string day = DayOf(e.queue_first_seen);
      if (!known_days_.contains(day) &&
          std::find(missing.begin(), missing.end(), day) == missing.end()) {
        missing.push_back(std::move(day));
      }
    }
  }
  if (missing.empty()) return absl::OkStatus();
  MTRK_ASSIGN_OR_RETURN(PgPool::Lease lease, pool_.Acquire());
  try {
    // Its own transaction: creating a partition locks the parent table, which the insert
    // transaction must not hold for its whole length.
    pqxx::work txn(*lease);
    for (const std::string& day : missing) txn.exec_prepared(kEnsurePartition, day);
    txn.commit();
  } catch (...) {
    return Classify(lease, "create hop_events partitions");
  }
  absl::MutexLock lock(&mu_);
  for (std::string& day : missing) known_days_.insert(std::move(day));
  return absl::OkStatus();
}

absl::StatusOr<int64_t> PgEventStore::Append(std::span<const model::HopEvent> batch) {
  if (batch.empty()) return 0;
  for (const model::HopEvent& e : batch) MTRK_RETURN_IF_ERROR(CheckNoNul(e));
  MTRK_RETURN_IF_ERROR(EnsurePartitions(batch));

  // Insert in primary-key order: two transactions inserting overlapping batches then take row
  // locks in the same order and wait for each other instead of deadlocking.
  std::vector<std::string> keys;
  keys.reserve(batch.size());
  for (const model::HopEvent& e : batch) keys.push_back(MessageKeyOf(e));
  std::vector<size_t> order(batch.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::tie(keys[a], batch[a].queue_first_seen, batch[a].event_id) <
           std::tie(keys[b], batch[b].queue_first_seen, batch[b].event_id);
  });

  MTRK_ASSIGN_OR_RETURN(PgPool::Lease lease, pool_.Acquire());
  try {
    pqxx::work txn(*lease);  // the lease, not a temporary, must outlive the transaction
    int64_t stored = 0;
    // XXX: one round trip per event; a multi-row INSERT or COPY into a temp table would cut
    // latency for 10000-event batches.
    for (size_t i : order) {
      const model::HopEvent& e = batch[i];
      const pqxx::result r = txn.exec_prepared(
          kInsertHop, keys[i], TimestampText(e.queue_first_seen), e.event_id, e.reporting_host,
          e.reporting_mta, e.mta_instance, e.queue_id, e.message_id, e.sender, e.client, e.envid,
          absl::BytesToHexString(e.certifier), e.mtrk_timeout_s, e.original_recipient,
          e.final_recipient, std::string(model::ActionName(e.action)), e.status, e.remote_mta,
          e.relay, e.diagnostic, OptionalTimestampText(e.arrival_time),
          OptionalTimestampText(e.last_attempt_time), OptionalTimestampText(e.will_retry_until),
          e.next_queue_id, e.expansion_member, TimestampText(e.event_time));
      stored += r.affected_rows();
    }
    txn.commit();
    return stored;
  } catch (...) {
    return Classify(lease, "append hop events");
  }
}

absl::StatusOr<std::vector<model::HopEvent>> PgEventStore::Find(const char* statement,
                                                                absl::string_view key,
                                                                absl::string_view what) {
  MTRK_ASSIGN_OR_RETURN(PgPool::Lease lease, pool_.Acquire());
  pqxx::result rows;
  try {
    pqxx::read_transaction txn(*lease);
    rows = txn.exec_prepared(statement, std::string(key));
    txn.commit();
  } catch (...) {
    return Classify(lease, what);
  }
  if (static_cast<int64_t>(rows.size()) > kMaxLookupEvents) {
    return absl::ResourceExhaustedError(
        absl::StrCat(what, ": more than ", kMaxLookupEvents, " events"));
  }
  std::vector<model::HopEvent> events;
  events.reserve(rows.size());
  try {
    for (const pqxx::row& row : rows) {
      MTRK_ASSIGN_OR_RETURN(model::HopEvent e, RowToEvent(row));
      events.push_back(std::move(e));
    }
  } catch (...) {  // a conversion error: the schema is not what this binary expects
    return CurrentPgErrorToStatus(what);
  }
  return events;
}

absl::StatusOr<std::vector<model::HopEvent>> PgEventStore::FindByEnvid(absl::string_view envid) {
  if (envid.empty()) return std::vector<model::HopEvent>();
  return Find(kFindByEnvid, envid, "find hop events by envid");
}

absl::StatusOr<std::vector<model::HopEvent>> PgEventStore::FindByMessageId(
    absl::string_view message_id) {
  if (message_id.empty()) return std::vector<model::HopEvent>();
  return Find(kFindByMessageId, message_id, "find hop events by message-id");
}

}  // namespace mtrk::collector::store
