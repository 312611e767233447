// Server-side fill of hop_events and its lookup indexes hop_envids and hop_recipients for the
// benchmarks (collector_ingest_bench, mtqp_track_bench):
// message m at one of 4 MTAs, kRecipientsPerMessage delivered hops each, ENVID "env-<m>",
// secret "secret-<m>-0123456789", message keys and certifiers computed exactly as the collector
// bench's Event() makes them. Much faster than shipping generated rows through COPY; needs
// pgcrypto (postgresql-15 ships it) for SHA-1. The day partitions must exist already.
#pragma once

#include <cstdint>
#include <string>

namespace mtrk::bench {

inline constexpr int kRecipientsPerMessage = 2;

// Inserts the hops of messages [first, first + messages) in transactions of `chunk` messages
// over `streams` connections, then VACUUM ANALYZE (as autovacuum would have by then). Throws
// pqxx exceptions (benchmarks stop on them).
void InsertBenchHops(const std::string& db, int64_t first, int64_t messages, int streams,
                     int64_t chunk);

}  // namespace mtrk::bench
