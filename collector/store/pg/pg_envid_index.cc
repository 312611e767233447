#include "collector/store/pg/pg_envid_index.h"

#include <algorithm>
#include <pqxx/result>
#include <tuple>

#include "collector/store/pg/pg_event_store.h"
#include "collector/store/pg/pg_literals.h"

namespace mtrk::collector::store {
namespace {

constexpr char kInsertEnvids[] = "insert_envids";
constexpr char kFindEnvidMessages[] = "find_envid_messages";

}  // namespace

void PrepareEnvidStatements(pqxx::connection& conn) {
  // ON CONFLICT DO NOTHING: a message's later hops, resends and other collectors storing the same
  // message all name pairs that may be stored already. unnest keeps the array order, which
  // InsertEnvids sorts, so concurrent batches lock rows in one order.
  conn.prepare(kInsertEnvids,
               "INSERT INTO hop_envids (envid, message_key, first_seen) "
               "SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[]) "
               "ON CONFLICT DO NOTHING");
  conn.prepare(kFindEnvidMessages,
               "SELECT message_key, (extract(epoch FROM first_seen) * 1000000)::bigint "
               "FROM hop_envids WHERE envid = $1 ORDER BY first_seen, message_key LIMIT $2");
}

void InsertEnvids(pqxx::transaction_base& txn, std::span<const model::HopEvent> batch) {
  // (envid, message_key, first_seen) in primary-key order: byte order is the "C" collation, and
  // TimestampText's fixed width makes text order time order.
  std::vector<std::tuple<std::string, std::string, std::string>> pairs;
  for (const model::HopEvent& e : batch) {
    if (e.envid.empty()) continue;
    pairs.emplace_back(e.envid, MessageKeyOf(e), TimestampText(e.queue_first_seen));
  }
  if (pairs.empty()) return;
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  std::vector<std::string> envids, keys, times;
  for (auto& [envid, key, time] : pairs) {
    envids.push_back(std::move(envid));
    keys.push_back(std::move(key));
    times.push_back(std::move(time));
  }
  txn.exec_prepared(kInsertEnvids, ArrayLiteral(envids), ArrayLiteral(keys), ArrayLiteral(times));
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
