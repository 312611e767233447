#include "collector/store/pg/pg_event_store.h"

#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <iterator>
#include <numeric>
#include <optional>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/stream_to>
#include <pqxx/subtransaction>
#include <pqxx/transaction>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "collector/store/pg/pg_error.h"
#include "collector/store/pg/pg_literals.h"
#include "collector/store/pg/pg_message_index.h"
#include "common/base/status_macros.h"
#include "common/model/dsn_action.h"

namespace mtrk::collector::store {
namespace {

constexpr char kEnsurePartition[] = "ensure_partition";
constexpr char kInsertHop[] = "insert_hop";
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

// The columns Append COPYs, in the order CopyRow::Fields gives them.
constexpr const char* kCopyColumns[] = {"message_key",
                                        "first_seen",
                                        "event_id",
                                        "reporting_host",
                                        "reporting_mta",
                                        "mta_instance",
                                        "queue_id",
                                        "message_id",
                                        "sender",
                                        "client",
                                        "envid",
                                        "certifier",
                                        "mtrk_timeout_s",
                                        "original_recipient",
                                        "final_recipient",
                                        "action",
                                        "status",
                                        "remote_mta",
                                        "relay",
                                        "diagnostic",
                                        "arrival_time",
                                        "last_attempt_time",
                                        "will_retry_until",
                                        "next_queue_id",
                                        "expansion_member",
                                        "event_time"};
constexpr size_t kCopyColumnCount = std::size(kCopyColumns);

// A batch is first COPYed straight into hop_events (heap multi-inserts, no per-row speculative
// insertion: bench/README.md, issue 5). Only when that hits the primary key (a resend after a lost
// ack, or another collector storing the same events) is it COPYed into this per-session staging
// table instead (temporary: no WAL, no indexes) and moved with INSERT ... ON CONFLICT DO NOTHING.
constexpr char kStageTable[] = "mtrk_hop_stage";
constexpr char kCreateStageSql[] =
    "CREATE TEMP TABLE IF NOT EXISTS mtrk_hop_stage (LIKE hop_events INCLUDING DEFAULTS) "
    "ON COMMIT DELETE ROWS";

// Rows move in primary-key order: two transactions inserting overlapping batches then take row
// locks in the same order and wait for each other instead of deadlocking.
constexpr char kMoveStageSql[] =
    "INSERT INTO hop_events (message_key, first_seen, event_id, reporting_host, reporting_mta, "
    "mta_instance, queue_id, message_id, sender, client, envid, certifier, mtrk_timeout_s, "
    "original_recipient, final_recipient, action, status, remote_mta, relay, diagnostic, "
    "arrival_time, last_attempt_time, will_retry_until, next_queue_id, expansion_member, "
    "event_time) SELECT message_key, first_seen, event_id, reporting_host, reporting_mta, "
    "mta_instance, queue_id, message_id, sender, client, envid, certifier, mtrk_timeout_s, "
    "original_recipient, final_recipient, action, status, remote_mta, relay, diagnostic, "
    "arrival_time, last_attempt_time, will_retry_until, next_queue_id, expansion_member, "
    "event_time FROM mtrk_hop_stage ORDER BY message_key, first_seen, event_id "
    "ON CONFLICT DO NOTHING";

constexpr char kMoveStage[] = "move_stage";
constexpr char kHopsOf[] = "hops_of";
constexpr char kFindLinked[] = "find_linked";
constexpr char kFindMessage[] = "find_message";

void PrepareStatements(pqxx::connection& conn) {
  {
    pqxx::nontransaction setup(conn);
    setup.exec(kCreateStageSql);
    // Every statement here is a point lookup or a batch insert, over a month of day partitions
    // (bench/README.md, issue 5, has the plans and timings at 10M hops):
    // - generic plans always: a custom plan prunes the time-bounded lookups' partitions at plan
    //   time, so PostgreSQL keeps replanning them (2-3 ms per call, for a 0.4 ms query);
    //   generic plans prune the same partitions at executor start;
    // - no parallel workers and no JIT: plans over many partitions are costed high enough to get
    //   them (60 ms to launch two workers on a loaded 2-core host), which never pays off here.
    setup.exec("SET plan_cache_mode = force_generic_plan");
    setup.exec("SET max_parallel_workers_per_gather = 0");
    setup.exec("SET jit = off");
  }
  conn.prepare(kMoveStage, kMoveStageSql);
  conn.prepare(kHopsOf, absl::StrCat(kSelectColumns,
                                     "WHERE message_key = ANY($1::text[]) AND first_seen >= $2 "
                                     "AND first_seen <= $3 "
                                     "ORDER BY event_time, message_key, event_id LIMIT ",
                                     kMaxLookupEvents + 1));
  // One link step (collector/link). The `<> ''` repeat the partial indexes' predicates.
  conn.prepare(kFindLinked,
               "SELECT DISTINCT message_key, (extract(epoch FROM first_seen) * 1000000)::bigint "
               "FROM hop_events WHERE first_seen >= $4 AND first_seen < $5 AND "
               "(queue_id = ANY($1::text[]) "
               "OR (next_queue_id = ANY($2::text[]) AND next_queue_id <> '') "
               "OR (message_id = ANY($3::text[]) AND message_id <> '') "
               "OR (client = ANY($7::text[]) AND client LIKE 'bounce:%')) LIMIT $6");
  conn.prepare(kFindMessage,
               "SELECT DISTINCT message_key, (extract(epoch FROM first_seen) * 1000000)::bigint "
               "FROM hop_events WHERE message_key = $1 LIMIT 16");
  conn.prepare(kEnsurePartition, "SELECT mtrk_ensure_hop_events_partition($1::date)");
  conn.prepare(kInsertHop, kInsertSql);
  PrepareMessageIndexStatements(conn);
  // The `<> ''` repeats the partial index's predicate so a generic plan can use it too.
  conn.prepare(kFindByMessageId, absl::StrCat(kSelectColumns,
                                              "WHERE message_id = $1 AND message_id <> '' "
                                              "ORDER BY first_seen, message_key, event_id LIMIT ",
                                              kMaxLookupEvents + 1));
}

// txn.quote() without its template: g++ 12 -O2 reports a false -Wrestrict inside libpqxx 6.4's
// quote<std::string> ("'" + esc(...)), which breaks Release builds under -Werror.
std::string Quote(pqxx::transaction_base& txn, const std::string& value) {
  return absl::StrCat("'", txn.esc(value), "'");
}

// '' for "not known": NULL after NULLIF, or COPY's NULL.
std::string OptionalTimestampText(absl::Time t) {
  return t == absl::InfinitePast() ? std::string() : TimestampText(t);
}
std::string DayOf(absl::Time t) { return absl::FormatTime("%Y-%m-%d", t, absl::UTCTimeZone()); }

// One event as COPY text fields in kCopyColumns order. Fields() points into the event and into
// this row (so neither may move while the pointers are used); a null pointer is SQL NULL, which
// libpqxx's stream_to writes as \N. Texts are escaped by stream_to.
class CopyRow {
 public:
  explicit CopyRow(const model::HopEvent& e)
      : e_(&e),
        message_key_(MessageKeyOf(e)),
        first_seen_(TimestampText(e.queue_first_seen)),
        certifier_(e.certifier.empty() ? ""
                                       : absl::StrCat("\\x", absl::BytesToHexString(e.certifier))),
        timeout_(absl::StrCat(e.mtrk_timeout_s)),
        action_(model::ActionName(e.action)),
        arrival_(OptionalTimestampText(e.arrival_time)),
        last_attempt_(OptionalTimestampText(e.last_attempt_time)),
        retry_until_(OptionalTimestampText(e.will_retry_until)),
        event_time_(TimestampText(e.event_time)) {}
  CopyRow(const CopyRow&) = delete;
  CopyRow& operator=(const CopyRow&) = delete;

  IndexedHop Indexed() const { return {e_, &message_key_, &first_seen_}; }

  // Primary-key order (hex keys and fixed-width UTC times sort as the database sorts them).
  bool operator<(const CopyRow& o) const {
    return std::tie(message_key_, first_seen_, e_->event_id) <
           std::tie(o.message_key_, o.first_seen_, o.e_->event_id);
  }

  std::array<const char*, kCopyColumnCount> Fields() const {
    auto or_null = [](const std::string& s) { return s.empty() ? nullptr : s.c_str(); };
    return {message_key_.c_str(),
            first_seen_.c_str(),
            e_->event_id.c_str(),
            e_->reporting_host.c_str(),
            e_->reporting_mta.c_str(),
            e_->mta_instance.c_str(),
            e_->queue_id.c_str(),
            e_->message_id.c_str(),
            e_->sender.c_str(),
            e_->client.c_str(),
            e_->envid.c_str(),
            or_null(certifier_),
            timeout_.c_str(),
            e_->original_recipient.c_str(),
            e_->final_recipient.c_str(),
            action_.c_str(),
            e_->status.c_str(),
            e_->remote_mta.c_str(),
            e_->relay.c_str(),
            e_->diagnostic.c_str(),
            or_null(arrival_),
            or_null(last_attempt_),
            or_null(retry_until_),
            e_->next_queue_id.c_str(),
            e_->expansion_member ? "t" : "f",
            event_time_.c_str()};
  }

 private:
  const model::HopEvent* e_;
  std::string message_key_, first_seen_, certifier_, timeout_, action_, arrival_, last_attempt_,
      retry_until_, event_time_;
};

// COPYs `rows` (sorted) into `table` within `txn`.
void CopyRows(pqxx::transaction_base& txn, const char* table,
              const std::vector<std::unique_ptr<CopyRow>>& rows) {
  pqxx::stream_to copy(txn, table, std::begin(kCopyColumns), std::end(kCopyColumns));
  for (const std::unique_ptr<CopyRow>& row : rows) copy << row->Fields();
  copy.complete();
}

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
// The ingest path refuses these earlier (model::ValidateHopEventText); this store checks again
// because it is an edge of its own (its callers need not come through ingest).
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

std::span<const char* const> HopEventCopyColumns() { return kCopyColumns; }

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
    : options_(options),
      pool_(std::move(conninfo),
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
  // A day dropped by retention (here or in another collector) after this process cached it
  // fails the insert with "no partition": forget the cache and try once more.
  for (int attempt = 0;; ++attempt) {
    MTRK_RETURN_IF_ERROR(EnsurePartitions(batch));
    bool missing_partition = false;
    absl::StatusOr<int64_t> stored = AppendOnce(batch, &missing_partition);
    if (!missing_partition || attempt > 0) return stored;
    ForgetPartitions();
  }
}

void PgEventStore::ForgetPartitions() {
  absl::MutexLock lock(&mu_);
  known_days_.clear();
}

absl::StatusOr<int64_t> PgEventStore::AppendOnce(std::span<const model::HopEvent> batch,
                                                 bool* missing_partition) {
  std::vector<std::unique_ptr<CopyRow>> rows;
  rows.reserve(batch.size());
  for (const model::HopEvent& e : batch) rows.push_back(std::make_unique<CopyRow>(e));
  // Primary-key order: concurrent batches that overlap lock rows in the same order and wait for
  // each other instead of deadlocking.
  std::sort(
      rows.begin(), rows.end(),
      [](const std::unique_ptr<CopyRow>& a, const std::unique_ptr<CopyRow>& b) { return *a < *b; });
  MTRK_ASSIGN_OR_RETURN(PgPool::Lease lease, pool_.Acquire());
  try {
    pqxx::work txn(*lease);  // the lease, not a temporary, must outlive the transaction
    int64_t stored = -1;
    {
      // Common case, every event new: COPY straight into hop_events. A resent event fails the
      // COPY on the primary key; then the savepoint undoes it and the staging path below sorts
      // out which events are new. Cheap either way: resends follow only lost acks.
      pqxx::subtransaction direct(txn, "direct_copy");
      try {
        CopyRows(direct, "hop_events", rows);
        direct.commit();
        stored = static_cast<int64_t>(rows.size());
      } catch (...) {
        if (!CurrentPgErrorIsUniqueViolation()) throw;
        direct.abort();
      }
    }
    if (stored < 0) {
      CopyRows(txn, kStageTable, rows);
      stored = txn.exec_prepared(kMoveStage).affected_rows();
    }
    std::vector<IndexedHop> indexed;
    indexed.reserve(rows.size());
    for (const std::unique_ptr<CopyRow>& row : rows) indexed.push_back(row->Indexed());
    InsertMessageIndexes(txn, indexed);
    if (options_.before_commit) options_.before_commit();
    txn.commit();  // ON COMMIT DELETE ROWS empties the stage
    return stored;
  } catch (...) {
    *missing_partition = CurrentPgErrorIsMissingPartition();
    return Classify(lease, "append hop events");
  }
}

absl::StatusOr<std::vector<model::HopEvent>> PgEventStore::Find(const char* statement,
                                                                absl::string_view key,
                                                                absl::string_view what) {
  return Rows(
      [&](pqxx::read_transaction& txn) { return txn.exec_prepared(statement, std::string(key)); },
      what);
}

absl::StatusOr<std::vector<model::HopEvent>> PgEventStore::FindByEnvid(absl::string_view envid) {
  MTRK_ASSIGN_OR_RETURN(const std::vector<MessageRef> refs, FindMessagesByEnvid(envid));
  MTRK_ASSIGN_OR_RETURN(std::vector<model::HopEvent> events, HopsOf(refs));
  // A message's hops normally share its ENVID; keep exactly the events that carry it.
  std::erase_if(events, [&](const model::HopEvent& e) { return e.envid != envid; });
  return events;
}

absl::StatusOr<std::vector<MessageRef>> PgEventStore::FindMessagesByEnvid(absl::string_view envid) {
  if (envid.empty()) return std::vector<MessageRef>();
  MTRK_ASSIGN_OR_RETURN(PgPool::Lease lease, pool_.Acquire());
  std::vector<MessageRef> refs;
  try {
    pqxx::read_transaction txn(*lease);
    refs = FindEnvidMessages(txn, std::string(envid), kMaxLookupEvents + 1);
    txn.commit();
  } catch (...) {
    return Classify(lease, "find messages by envid");
  }
  if (static_cast<int64_t>(refs.size()) > kMaxLookupEvents) {
    return absl::ResourceExhaustedError(
        absl::StrCat("find messages by envid: more than ", kMaxLookupEvents, " messages"));
  }
  return refs;
}

absl::StatusOr<std::vector<model::HopEvent>> PgEventStore::FindByMessageId(
    absl::string_view message_id) {
  if (message_id.empty()) return std::vector<model::HopEvent>();
  return Find(kFindByMessageId, message_id, "find hop events by message-id");
}

absl::StatusOr<std::vector<model::HopEvent>> PgEventStore::Rows(
    const std::function<pqxx::result(pqxx::read_transaction&)>& query, absl::string_view what) {
  MTRK_ASSIGN_OR_RETURN(PgPool::Lease lease, pool_.Acquire());
  pqxx::result rows;
  try {
    pqxx::read_transaction txn(*lease);
    rows = query(txn);
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
  } catch (...) {
    return CurrentPgErrorToStatus(what);
  }
  return events;
}

absl::StatusOr<std::vector<MessageRef>> PgEventStore::Refs(
    const std::function<pqxx::result(pqxx::read_transaction&)>& query, absl::string_view what) {
  MTRK_ASSIGN_OR_RETURN(PgPool::Lease lease, pool_.Acquire());
  std::vector<MessageRef> refs;
  try {
    pqxx::read_transaction txn(*lease);
    const pqxx::result rows = query(txn);
    txn.commit();
    refs.reserve(rows.size());
    for (const pqxx::row& row : rows) {
      refs.push_back(MessageRef{.message_key = row[0].as<std::string>(),
                                .first_seen = absl::FromUnixMicros(row[1].as<int64_t>())});
    }
  } catch (...) {
    return Classify(lease, what);
  }
  return refs;
}

absl::StatusOr<std::vector<model::HopEvent>> PgEventStore::HopsOf(
    std::span<const MessageRef> refs) {
  if (refs.empty()) return std::vector<model::HopEvent>();
  std::vector<std::string> keys;
  absl::Time lo = absl::InfiniteFuture(), hi = absl::InfinitePast();
  for (const MessageRef& r : refs) {
    keys.push_back(r.message_key);
    lo = std::min(lo, r.first_seen);
    hi = std::max(hi, r.first_seen);
  }
  const std::string array = ArrayLiteral(keys);
  return Rows(
      [&](pqxx::read_transaction& txn) {
        return txn.exec_prepared(kHopsOf, array, TimestampText(lo), TimestampText(hi));
      },
      "hops of messages");
}

absl::StatusOr<std::vector<MessageRef>> PgEventStore::FindLinked(const LinkQuery& query,
                                                                 int limit) {
  const std::string from =
      query.from == absl::InfinitePast() ? "-infinity" : TimestampText(query.from);
  const std::string to = query.to == absl::InfiniteFuture() ? "infinity" : TimestampText(query.to);
  const std::string queue_ids = ArrayLiteral(query.queue_ids);
  const std::string next_ids = ArrayLiteral(query.next_queue_ids);
  const std::string message_ids = ArrayLiteral(query.message_ids);
  const std::string bounce_clients = ArrayLiteral(query.bounce_clients);
  return Refs(
      [&](pqxx::read_transaction& txn) {
        return txn.exec_prepared(kFindLinked, queue_ids, next_ids, message_ids, from, to, limit,
                                 bounce_clients);
      },
      "find linked messages");
}

absl::StatusOr<std::vector<MessageRef>> PgEventStore::FindMessage(absl::string_view message_key) {
  const std::string key(message_key);
  return Refs([&](pqxx::read_transaction& txn) { return txn.exec_prepared(kFindMessage, key); },
              "find message");
}

namespace {

// LIKE pattern for `value` matched as given, with LIKE's metacharacters escaped.
std::string LikeEscaped(absl::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// The smallest string greater than every string that starts with `prefix`, in byte order;
// nullopt when there is none (empty, or all 0xff).
std::optional<std::string> PrefixUpperBound(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xff) prefix.pop_back();
  if (prefix.empty()) return std::nullopt;
  prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

// A staff search as SQL with $n placeholders: the text depends only on which criteria are set
// (its shape), so each shape is prepared once per connection and then runs a cached generic plan.
// Planning it afresh on every call cost more than running it once hop_events had a month of day
// partitions (bench/README.md, issue 5).
class SearchSql {
 public:
  void Where(absl::string_view condition) {
    absl::StrAppend(&sql_, conditions_++ == 0 ? " WHERE " : " AND ", condition);
  }
  // Appends `value` as the next parameter and returns its placeholder.
  std::string Param(std::string value) {
    params_.push_back(std::move(value));
    return absl::StrCat("$", params_.size());
  }
  // SQL matching `column` (an address) against `value` under `match`. The C collation lets
  // exact and prefix (as a byte range: a LIKE with a parameter as pattern cannot use a B-tree)
  // use a B-tree on the column (the sender index of 0002, hop_recipients' primary key).
  std::string Address(absl::string_view column, const std::string& value,
                      SearchFilter::Match match) {
    const std::string col = absl::StrCat("(", column, " COLLATE \"C\")");
    switch (match) {
      case SearchFilter::Match::kExact:
        return absl::StrCat(col, " = ", Param(value));
      case SearchFilter::Match::kPrefix: {
        std::string range = absl::StrCat(col, " >= ", Param(value));
        if (const std::optional<std::string> upper = PrefixUpperBound(value)) {
          absl::StrAppend(&range, " AND ", col, " < ", Param(*upper));
        }
        return absl::StrCat("(", range, ")");
      }
      case SearchFilter::Match::kSubstring:
        return absl::StrCat(col, " LIKE ", Param(absl::StrCat("%", LikeEscaped(value), "%")));
    }
    return "false";
  }
  std::string& sql() { return sql_; }
  const std::vector<std::string>& params() const { return params_; }

 private:
  std::string sql_ =
      "SELECT message_key, (extract(epoch FROM first_seen) * 1000000)::bigint FROM hop_events";
  int conditions_ = 0;
  std::vector<std::string> params_;
};

}  // namespace

absl::StatusOr<std::vector<MessageRef>> PgEventStore::Search(const SearchFilter& filter,
                                                             const std::optional<MessageRef>& after,
                                                             int limit) {
  SearchSql q;
  if (!filter.sender.empty()) q.Where(q.Address("sender", filter.sender, filter.match));
  if (!filter.recipient.empty()) {
    if (filter.match != SearchFilter::Match::kSubstring) {
      // hop_events has no recipient indexes (0005): the messages come from hop_recipients (an
      // equality or a byte range on its primary key, in one or two month partitions), each then
      // probed by primary key in its own day partition. The hop-level condition below still
      // decides, so the candidates are exactly those of a search on hop_events alone.
      q.Where(absl::StrCat(
          "(message_key, first_seen) IN (SELECT message_key, first_seen FROM hop_recipients "
          "WHERE ",
          q.Address("recipient", filter.recipient, filter.match), ")"));
    }
    const std::string final_rcpt = q.Address("final_recipient", filter.recipient, filter.match);
    const std::string orcpt = q.Address("original_recipient", filter.recipient, filter.match);
    q.Where(absl::StrCat("(", final_rcpt, " OR (", orcpt,
                         " AND original_recipient <> final_recipient))"));
  }
  if (!filter.message_ids.empty()) {
    q.Where(absl::StrCat("message_id = ANY(", q.Param(ArrayLiteral(filter.message_ids)),
                         "::text[]) AND message_id <> ''"));
  }
  if (!filter.envid.empty()) {
    // hop_events has no envid index (0004): the messages come from hop_envids, each then probed
    // by primary key in its own day partition.
    const std::string envid = q.Param(filter.envid);
    q.Where(
        absl::StrCat("(message_key, first_seen) IN (SELECT message_key, first_seen FROM "
                     "hop_envids WHERE envid = ",
                     envid, ") AND envid = ", envid));
  }
  if (!filter.queue_id.empty()) {
    q.Where(absl::StrCat("queue_id = ", q.Param(filter.queue_id)));
  }
  if (filter.from != absl::InfinitePast()) {
    q.Where(absl::StrCat("first_seen >= ", q.Param(TimestampText(filter.from)), "::timestamptz"));
  }
  if (filter.to != absl::InfiniteFuture()) {
    q.Where(absl::StrCat("first_seen < ", q.Param(TimestampText(filter.to)), "::timestamptz"));
  }
  if (after.has_value()) {
    q.Where(absl::StrCat("(first_seen, message_key) > (", q.Param(TimestampText(after->first_seen)),
                         "::timestamptz, ", q.Param(after->message_key), ")"));
  }
  absl::StrAppend(&q.sql(), " GROUP BY first_seen, message_key ORDER BY first_seen, message_key",
                  " LIMIT ", q.Param(absl::StrCat(limit)), "::integer");
  // Same text, same name: on a connection that prepared it already, prepare() is a no-op.
  const std::string name =
      absl::StrCat("search_", absl::Hex(std::hash<std::string>()(q.sql()), absl::kZeroPad16));
  return Refs(
      [&](pqxx::read_transaction& txn) {
        txn.conn().prepare(name, q.sql());
        return txn.exec_prepared(name, pqxx::prepare::make_dynamic_params(q.params()));
      },
      "staff search");
}

absl::StatusOr<std::vector<absl::Time>> PgEventStore::ListPartitionDays() {
  MTRK_ASSIGN_OR_RETURN(PgPool::Lease lease, pool_.Acquire());
  std::vector<absl::Time> days;
  try {
    pqxx::read_transaction txn(*lease);
    const pqxx::result rows = txn.exec(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'hop_events'::regclass ORDER BY 1");
    txn.commit();
    for (const pqxx::row& row : rows) {
      const std::string name = row[0].as<std::string>();
      absl::CivilDay day;
      if (name.size() != 20 || name.rfind("hop_events_p", 0) != 0 ||
          !absl::ParseCivilTime(
              absl::StrCat(name.substr(12, 4), "-", name.substr(16, 2), "-", name.substr(18, 2)),
              &day)) {
        continue;  // not one of ours (e.g. created by hand): never dropped
      }
      days.push_back(absl::FromCivil(day, absl::UTCTimeZone()));
    }
  } catch (...) {
    return Classify(lease, "list hop_events partitions");
  }
  return days;
}

namespace {
std::string PartitionName(absl::Time day_start) {
  return absl::StrCat("hop_events_p", absl::FormatTime("%Y%m%d", day_start, absl::UTCTimeZone()));
}
}  // namespace

absl::StatusOr<PartitionInfo> PgEventStore::DescribePartition(absl::Time day_start,
                                                              absl::Time now) {
  MTRK_ASSIGN_OR_RETURN(PgPool::Lease lease, pool_.Acquire());
  PartitionInfo info{.day_start = day_start};
  try {
    pqxx::read_transaction txn(*lease);
    const std::string table = txn.quote_name(PartitionName(day_start));
    const pqxx::row timeouts = txn.exec1(absl::StrCat(
        "SELECT COALESCE(max(mtrk_timeout_s), 0), COALESCE(bool_or(mtrk_timeout_s <= 0), false) "
        "FROM ",
        table));
    info.max_mtrk_timeout_s = timeouts[0].as<int64_t>();
    info.any_default_timeout = timeouts[1].as<bool>();
    // Still queued (RFC 3885 §3.1: must not expire): a recipient of a message with nothing but
    // `delayed` hops whose retries have not run out. A past will_retry_until means Postfix has
    // given up by now, so a lost final line cannot pin the partition forever.
    const pqxx::row queued = txn.exec1(absl::StrCat(
        "SELECT EXISTS (SELECT 1 FROM ", table,
        " GROUP BY message_key, final_recipient HAVING bool_and(action = 'delayed') AND "
        "(max(will_retry_until) IS NULL OR max(will_retry_until) > ",
        Quote(txn, TimestampText(now)), "::timestamptz))"));
    info.holds_queued_message = queued[0].as<bool>();
    txn.commit();
  } catch (...) {
    return Classify(lease, "describe hop_events partition");
  }
  return info;
}

absl::Status PgEventStore::DropPartition(absl::Time day_start) {
  {
    MTRK_ASSIGN_OR_RETURN(PgPool::Lease lease, pool_.Acquire());
    try {
      pqxx::work txn(*lease);
      // Same lock as partition creation: a concurrent ensure cannot interleave.
      txn.exec("SELECT pg_advisory_xact_lock(hashtext('mtrk.hop_events.partition'))");
      txn.exec(absl::StrCat("DROP TABLE IF EXISTS ", txn.quote_name(PartitionName(day_start))));
      // The day's month of the ENVID index goes with the month's last day (0004).
      txn.exec(absl::StrCat("SELECT mtrk_drop_unused_hop_envids_partition(",
                            Quote(txn, DayOf(day_start)), "::date)"));
      txn.commit();
    } catch (...) {
      return Classify(lease, "drop hop_events partition");
    }
  }
  absl::MutexLock lock(&mu_);
  known_days_.erase(DayOf(day_start));
  return absl::OkStatus();
}

}  // namespace mtrk::collector::store
