#include "bench/bench_hops_sql.h"

#include <algorithm>
#include <atomic>
#include <pqxx/pqxx>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"

namespace mtrk::bench {

void InsertBenchHops(const std::string& db, int64_t first, int64_t messages, int streams,
                     int64_t chunk) {
  {
    pqxx::connection conn(db);
    pqxx::nontransaction txn(conn);
    txn.exec("CREATE EXTENSION IF NOT EXISTS pgcrypto");
  }
  std::atomic<int64_t> next{first};
  const int64_t end = first + messages;
  std::vector<std::thread> threads;
  for (int s = 0; s < streams; ++s) {
    threads.emplace_back([&] {
      pqxx::connection conn(db);
      for (int64_t lo; (lo = next.fetch_add(chunk)) < end;) {
        const int64_t hi = std::min(end, lo + chunk) - 1;
        // The generator's messages lo..hi with their message keys and certifiers, for both
        // statements below.
        const std::string messages = absl::StrCat(R"sql(
WITH m AS (
  SELECT m, 'mta-' || (m % 4) AS host, to_hex(274877906944 + m) AS qid,
         timestamptz '2026-11-01 00:00:00+00' + m * interval '500 ms' AS fs,
         extract(epoch FROM timestamptz '2026-11-01 00:00:00+00')::bigint * 1000000
             + m * 500000 AS fs_us
  FROM generate_series()sql",
                                                  lo, "::bigint, ", hi, R"sql(::bigint) m),
k AS (
  SELECT m.*, left(encode(sha256(convert_to(host, 'UTF8') || '\x00'::bytea ||
             convert_to('postfix', 'UTF8') || '\x00'::bytea || convert_to(qid, 'UTF8') ||
             '\x00'::bytea || convert_to(fs_us::text, 'UTF8')), 'hex'), 32) AS mkey,
         digest('secret-' || m || '-0123456789', 'sha1') AS cert
  FROM m))sql");
        pqxx::work txn(conn);
        txn.exec(absl::StrCat(messages, R"sql(
INSERT INTO hop_events (message_key, first_seen, event_id, reporting_host, reporting_mta,
    mta_instance, queue_id, message_id, sender, client, envid, certifier, original_recipient,
    final_recipient, action, status, relay, diagnostic, arrival_time, last_attempt_time,
    event_time)
SELECT mkey, fs, encode(sha256(convert_to(mkey || ':' || r, 'UTF8')), 'hex'), host,
       host || '.a.example', 'postfix', qid, '<' || m || '.bench@a.example>',
       'sender' || (m % 1000) || '@a.example', 'client.a.example[192.0.2.1]', 'env-' || m, cert,
       'rcpt' || ((m * 7 + r) % 200000) || '@b' || (m % 97) || '.example',
       'rcpt' || ((m * 7 + r) % 200000) || '@b' || (m % 97) || '.example',
       'delivered', '2.0.0', 'local', 'delivered to maildir', fs, fs + interval '40 ms',
       fs + interval '40 ms'
FROM k, generate_series(0, )sql",
                              kRecipientsPerMessage - 1, ") r"));
        // As PgEventStore::Append does: the ENVID index (0004_envid_lookup.sql).
        txn.exec(absl::StrCat(messages, R"sql(
INSERT INTO hop_envids (envid, message_key, first_seen) SELECT 'env-' || m, mkey, fs FROM k)sql"));
        // ... and its recipient index (0005_recipient_lookup.sql), the addresses generated above.
        txn.exec(absl::StrCat(messages, R"sql(
INSERT INTO hop_recipients (recipient, message_key, first_seen)
SELECT DISTINCT 'rcpt' || ((m * 7 + r) % 200000) || '@b' || (m % 97) || '.example', mkey, fs
FROM k, generate_series(0, )sql",
                              kRecipientsPerMessage - 1, ") r"));
        txn.commit();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  pqxx::connection conn(db);
  pqxx::nontransaction txn(conn);
  txn.exec("VACUUM ANALYZE hop_events");  // as autovacuum would have by then: visibility map
}

}  // namespace mtrk::bench
