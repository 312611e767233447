#include "collector/store/pg/pg_message_index.h"

#include <algorithm>
#include <array>
#include <pqxx/result>
#include <tuple>

#include "collector/store/pg/pg_event_store.h"
#include "collector/store/pg/pg_literals.h"

namespace mtrk::collector::store {
namespace {

constexpr char kInsertMessageIndexes[] = "insert_message_indexes";
constexpr char kFindEnvidMessages[] = "find_envid_messages";

// Rows (value, message_key, first_seen) of one index, as the three array literals unnest takes.
class IndexRows {
 public:
  void Add(const std::string& value, const std::string& key, const std::string& time) {
    if (!value.empty()) rows_.emplace_back(value, key, time);
  }
  // Primary-key order, duplicates removed: byte order is the "C" collation, and TimestampText's
  // fixed width makes text order time order.
  std::array<std::string, 3> Arrays() {
    std::sort(rows_.begin(), rows_.end());
    rows_.erase(std::unique(rows_.begin(), rows_.end()), rows_.end());
    std::vector<std::string> values, keys, times;
    for (auto& [value, key, time] : rows_) {
      values.push_back(std::move(value));
      keys.push_back(std::move(key));
      times.push_back(std::move(time));
    }
    return {ArrayLiteral(values), ArrayLiteral(keys), ArrayLiteral(times)};
  }

 private:
  std::vector<std::tuple<std::string, std::string, std::string>> rows_;
};

}  // namespace

void PrepareMessageIndexStatements(pqxx::connection& conn) {
  // One statement for both indexes, so a batch pays one round trip for them. ON CONFLICT DO
  // NOTHING: a message's later hops, resends and other collectors storing the same message all
  // name pairs that may be stored already. unnest keeps the array order, which IndexRows sorts,
  // so concurrent batches lock rows in one order (hop_envids first, then hop_recipients).
  conn.prepare(kInsertMessageIndexes,
               "WITH envids AS (INSERT INTO hop_envids (envid, message_key, first_seen) "
               "SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[]) "
               "ON CONFLICT DO NOTHING) "
               "INSERT INTO hop_recipients (recipient, message_key, first_seen) "
               "SELECT * FROM unnest($4::text[], $5::text[], $6::timestamptz[]) "
               "ON CONFLICT DO NOTHING");
  conn.prepare(kFindEnvidMessages,
               "SELECT message_key, (extract(epoch FROM first_seen) * 1000000)::bigint "
               "FROM hop_envids WHERE envid = $1 ORDER BY first_seen, message_key LIMIT $2");
}

void InsertMessageIndexes(pqxx::transaction_base& txn, std::span<const IndexedHop> batch) {
  IndexRows envids, recipients;
  for (const IndexedHop& hop : batch) {
    const model::HopEvent& e = *hop.event;
    const std::string& key = *hop.message_key;
    const std::string& time = *hop.first_seen;
    envids.Add(e.envid, key, time);
    recipients.Add(e.final_recipient, key, time);
    if (e.original_recipient != e.final_recipient) recipients.Add(e.original_recipient, key, time);
  }
  const std::array<std::string, 3> e = envids.Arrays();
  const std::array<std::string, 3> r = recipients.Arrays();
  txn.exec_prepared(kInsertMessageIndexes, e[0], e[1], e[2], r[0], r[1], r[2]);
}

std::vector<MessageRef> FindEnvidMessages(pqxx::transaction_base& txn, const std::string& envid,
                                          int limit) {
  const pqxx::result rows = txn.exec_prepared(kFindEnvidMessages, envid, limit);
  std::vector<MessageRef> refs;
  refs.reserve(rows.size());
  for (const pqxx::row& row : rows) {
    refs.push_back(MessageRef{.message_key = row[0].as<std::string>(),
                              .first_seen = absl::FromUnixMicros(row[1].as<int64_t>())});
  }
  return refs;
}

}  // namespace mtrk::collector::store
