// The message lookup indexes of hop_events: ENVID -> message (table hop_envids,
// sql/migrations/0004_envid_lookup.sql) and recipient -> message (table hop_recipients,
// 0005_recipient_lookup.sql). TRACK and staff search look a value up there in one or two month
// partitions instead of probing every day partition of hop_events. Part of PgEventStore; these
// functions run inside its transactions and may throw libpqxx exceptions, which PgEventStore
// converts at its edge.
#pragma once

#include <pqxx/connection>
#include <pqxx/transaction_base>
#include <span>
#include <string>
#include <vector>

#include "collector/store/event_store.h"
#include "common/model/hop_event.h"

namespace mtrk::collector::store {

// Registers the statements below on a new pool connection.
void PrepareMessageIndexStatements(pqxx::connection& conn);

// One hop of a batch with the message key and partition time its hop_events row got, so the
// index rows reuse them instead of hashing the key again.
struct IndexedHop {
  const model::HopEvent* event;
  const std::string* message_key;
  const std::string* first_seen;  // TimestampText of event->queue_first_seen
};

// Records the (ENVID, message) and (recipient, message) pairs of `batch` in `txn`, the batch's
// own transaction, so an index never names a message whose hops did not commit. The recipients
// are each hop's final recipient and, when different, its original recipient (ORCPT), the two
// addresses staff search matches. Pairs already stored are skipped.
void InsertMessageIndexes(pqxx::transaction_base& txn, std::span<const IndexedHop> batch);

// The messages (at one MTA each) that carry `envid`, at most `limit`.
std::vector<MessageRef> FindEnvidMessages(pqxx::transaction_base& txn, const std::string& envid,
                                          int limit);

}  // namespace mtrk::collector::store
