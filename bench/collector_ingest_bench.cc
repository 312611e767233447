// collector_ingest_bench: the collector's ingest and lookup speed against the limit, side by side
// in one run (issue 5). Not a test; run by bench/collector_bench.sh on a private cluster with
// fsync on.
//
//   collector_ingest_bench --db CONNINFO [--events N] [--streams S] [--batch B]
//                          [--lookup-hops H[,H2,...]] [--queries Q]
//
// 1. raw COPY: N generated hop events COPYed straight into hop_events by S connections, one
//    transaction per B rows, with each message's row of the ENVID index hop_envids (what
//    PostgreSQL itself can take for the rows the collector writes: the limit);
// 2. TRUNCATE, then the same N events through gRPC PushEvents (S concurrent streams, batches of
//    B) into an in-process CollectorServer + PgEventStore: validated, deduplicated, committed,
//    then acknowledged;
// 3. for each H in turn: top the table up to H hops server-side (INSERT ... SELECT over
//    generate_series, the same rows as the generator below; the populate time is printed), then
//    Track by ENVID (with the secret, linking included) and StaffSearch by exact recipient
//    through gRPC: p50/p99 latency. Several H in one run show whether latency stays flat.
#include <openssl/sha.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <pqxx/pqxx>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/bench_hops_sql.h"
#include "collector/app/collector_server.h"
#include "collector/store/pg/migrator.h"
#include "collector/store/pg/pg_event_store.h"
#include "common/model/hop_event.h"
#include "common/model/hop_event_proto.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "mtrk/v1/ingest.grpc.pb.h"
#include "mtrk/v1/lookup.grpc.pb.h"

namespace mtrk::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Flags {
  std::string db;
  int64_t events = 500000;
  int streams = 4;
  int batch = 1000;
  std::vector<int64_t> lookup_hops = {1000000};
  int queries = 2000;
};

std::string SecretOf(int64_t message) { return absl::StrCat("secret-", message, "-0123456789"); }

// Message m, recipient r: at one of 4 MTAs, first seen half a second after the previous message
// (so 1M hops span ~3 days of partitions), every message tracked (ENVID + certifier).
model::HopEvent Event(int64_t m, int r) {
  static const absl::Time kBase =
      absl::FromCivil(absl::CivilSecond(2026, 11, 1, 0, 0, 0), absl::UTCTimeZone());
  model::HopEvent e;
  e.reporting_host = absl::StrCat("mta-", m % 4);
  e.reporting_mta = absl::StrCat(e.reporting_host, ".a.example");
  e.mta_instance = "postfix";
  e.queue_id = absl::StrCat(absl::Hex(0x4000000000 + m));
  e.queue_first_seen = kBase + absl::Milliseconds(500 * m);
  e.message_id = absl::StrCat("<", m, ".bench@a.example>");
  e.sender = absl::StrCat("sender", m % 1000, "@a.example");
  e.client = "client.a.example[192.0.2.1]";
  e.envid = absl::StrCat("env-", m);
  const std::string secret = SecretOf(m);
  unsigned char b[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), b);
  e.certifier.assign(reinterpret_cast<const char*>(b), sizeof b);
  e.original_recipient = absl::StrCat("rcpt", (m * 7 + r) % 200000, "@b", m % 97, ".example");
  e.final_recipient = e.original_recipient;
  e.action = model::DsnAction::kDelivered;
  e.status = "2.0.0";
  e.relay = "local";
  e.diagnostic = "delivered to maildir";
  e.arrival_time = e.queue_first_seen;
  e.last_attempt_time = e.queue_first_seen + absl::Milliseconds(40);
  e.event_time = e.last_attempt_time;
  e.event_id = model::ComputeEventId(e);
  return e;
}

// Generated events always have these times.
std::string Ts(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%E6S+00", t, absl::UTCTimeZone());
}

void EnsurePartitions(const std::string& db, int64_t first_message, int64_t messages) {
  pqxx::connection conn(db);
  pqxx::work txn(conn);
  const absl::Time a = Event(first_message, 0).queue_first_seen;
  const absl::Time b = Event(first_message + messages - 1, 0).queue_first_seen;
  for (absl::Time t = a - absl::Hours(24); t <= b + absl::Hours(24); t += absl::Hours(24)) {
    txn.exec(absl::StrCat("SELECT mtrk_ensure_hop_events_partition('",
                          absl::FormatTime("%Y-%m-%d", t, absl::UTCTimeZone()), "'::date)"));
  }
  txn.commit();
}

using CopyRow = std::tuple<std::string, std::string, std::string, std::string, std::string,
                           std::string, std::string, std::string, std::string, std::string,
                           std::string, std::string, int64_t, std::string, std::string, std::string,
                           std::string, std::string, std::string, std::string, std::string,
                           std::string, std::nullptr_t, std::string, bool, std::string>;

CopyRow ToCopyRow(const model::HopEvent& e) {
  return CopyRow(collector::store::MessageKeyOf(e), Ts(e.queue_first_seen), e.event_id,
                 e.reporting_host, e.reporting_mta, e.mta_instance, e.queue_id, e.message_id,
                 e.sender, e.client, e.envid, "\\x" + absl::BytesToHexString(e.certifier),
                 e.mtrk_timeout_s, e.original_recipient, e.final_recipient, "delivered", e.status,
                 e.remote_mta, e.relay, e.diagnostic, Ts(e.arrival_time), Ts(e.last_attempt_time),
                 nullptr, e.next_queue_id, false, Ts(e.event_time));
}

// Raw COPY of messages [first, first + messages) by `streams` connections, `batch` rows per
// transaction. Rows are built before the clock starts (as the gRPC requests are). Returns rows/s.
double RawCopy(const Flags& f, int64_t first, int64_t messages) {
  const int64_t rows = messages * kRecipientsPerMessage;
  std::vector<CopyRow> data;
  // hop_envids rows (envid, message_key, first_seen), one per message: at its first hop's index.
  std::vector<std::tuple<std::string, std::string, std::string>> envids(rows);
  // hop_recipients rows (recipient, message_key, first_seen), one per hop: each hop of a bench
  // message has its own recipient, and ORCPT equals it.
  std::vector<std::tuple<std::string, std::string, std::string>> recipients(rows);
  data.reserve(rows);
  for (int64_t i = 0; i < rows; ++i) {
    const model::HopEvent e =
        Event(first + i / kRecipientsPerMessage, static_cast<int>(i % kRecipientsPerMessage));
    data.push_back(ToCopyRow(e));
    recipients[i] = {e.final_recipient, collector::store::MessageKeyOf(e), Ts(e.queue_first_seen)};
    if (i % kRecipientsPerMessage == 0) {
      envids[i] = {e.envid, collector::store::MessageKeyOf(e), Ts(e.queue_first_seen)};
    }
  }
  const std::span<const char* const> copy_columns = collector::store::HopEventCopyColumns();
  const std::vector<std::string> columns(copy_columns.begin(), copy_columns.end());
  std::atomic<int64_t> next{0};
  std::vector<std::unique_ptr<pqxx::connection>> conns;
  for (int s = 0; s < f.streams; ++s) conns.push_back(std::make_unique<pqxx::connection>(f.db));
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int s = 0; s < f.streams; ++s) {
    threads.emplace_back([&, s] {
      while (true) {
        const int64_t begin = next.fetch_add(f.batch);
        if (begin >= rows) break;
        const int64_t end = std::min(rows, begin + f.batch);
        pqxx::work txn(*conns[s]);
        {
          pqxx::stream_to copy(txn, "hop_events", columns);
          for (int64_t i = begin; i < end; ++i) copy << data[i];
          copy.complete();
        }
        pqxx::stream_to copy(txn, "hop_envids",
                             std::vector<std::string>{"envid", "message_key", "first_seen"});
        for (int64_t i = begin; i < end; ++i) {
          if (i % kRecipientsPerMessage == 0) copy << envids[i];
        }
        copy.complete();
        pqxx::stream_to rcpts(txn, "hop_recipients",
                              std::vector<std::string>{"recipient", "message_key", "first_seen"});
        for (int64_t i = begin; i < end; ++i) rcpts << recipients[i];
        rcpts.complete();
        txn.commit();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return rows / std::chrono::duration<double>(Clock::now() - start).count();
}

double ViaGrpc(const Flags& f, const std::string& address, int64_t messages) {
  const int64_t rows = messages * kRecipientsPerMessage;
  // Requests are built before the clock starts: we measure the collector, not the generator.
  std::vector<v1::PushEventsRequest> requests;
  for (int64_t begin = 0; begin < rows; begin += f.batch) {
    v1::PushEventsRequest& r = requests.emplace_back();
    r.set_agent_id("bench");
    r.set_batch_sequence(requests.size());
    for (int64_t i = begin; i < std::min(rows, begin + f.batch); ++i) {
      model::ToProto(Event(i / kRecipientsPerMessage, static_cast<int>(i % kRecipientsPerMessage)),
                     r.add_events());
    }
  }
  std::atomic<size_t> next{0};
  std::atomic<int64_t> stored{0}, retries{0};
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int s = 0; s < f.streams; ++s) {
    threads.emplace_back([&, s] {
      grpc::ChannelArguments args;
      args.SetInt("grpc.channel_id", s);  // one connection per stream, as separate agents
      args.SetMaxSendMessageSize(64 << 20);
      auto stub = v1::Ingest::NewStub(
          grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
      for (size_t i; (i = next.fetch_add(1)) < requests.size();) {
        while (true) {
          grpc::ClientContext context;
          v1::PushEventsResponse response;
          const grpc::Status status = stub->PushEvents(&context, requests[i], &response);
          if (status.ok()) {
            stored += response.stored_events();
            break;
          }
          ++retries;  // pushed back: retry, as an agent does
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("  grpc: %lld stored, %lld pushed back and retried\n",
              static_cast<long long>(stored.load()), static_cast<long long>(retries.load()));
  return rows / secs;
}

struct Percentiles {
  double p50_ms, p99_ms;
};
template <typename Fn>
Percentiles Measure(int queries, Fn fn) {
  std::vector<double> ms;
  for (int q = 0; q < queries; ++q) {
    const auto t0 = Clock::now();
    fn(q);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms[std::min(ms.size() - 1, ms.size() * 99 / 100)]};
}

// Hops of messages [first, first + messages) as Event() makes them (message_key, certifier and
// all looked-up columns identical; event_id differs but is only a unique key), inserted
// server-side (bench_hops_sql.h) in chunks of 100k messages by `streams` connections.
void PopulateSql(const Flags& f, int64_t first, int64_t messages) {
  InsertBenchHops(f.db, first, messages, f.streams, /*chunk=*/100000);
}

void MeasureLookups(const Flags& f, v1::Lookup::Stub& lookup, int64_t total_messages) {
  {
    pqxx::connection conn(f.db);
    pqxx::nontransaction txn(conn);
    txn.exec("ANALYZE hop_events");
    txn.exec("ANALYZE hop_envids");
    txn.exec("ANALYZE hop_recipients");
  }
  std::mt19937_64 rng(42);
  std::vector<int64_t> picks;
  for (int q = 0; q < f.queries; ++q) picks.push_back(rng() % total_messages);
  int failures = 0;
  const Percentiles track = Measure(f.queries, [&](int q) {
    v1::TrackRequest r;
    r.set_envid(absl::StrCat("env-", picks[q]));
    r.set_secret(SecretOf(picks[q]));
    v1::TrackResponse response;
    grpc::ClientContext context;
    if (!lookup.Track(&context, r, &response).ok() || response.hops_size() == 0) ++failures;
  });
  const Percentiles staff = Measure(f.queries, [&](int q) {
    v1::StaffSearchRequest r;
    r.set_recipient(Event(picks[q], 0).final_recipient);
    r.set_page_size(10);
    v1::StaffSearchResponse response;
    grpc::ClientContext context;
    if (!lookup.StaffSearch(&context, r, &response).ok() || response.messages_size() == 0) {
      ++failures;
    }
  });
  std::printf("lookups at %lld stored hops (%d queries each, %d failed):\n",
              static_cast<long long>(total_messages * kRecipientsPerMessage), f.queries, failures);
  std::printf("  Track by ENVID:           p50 %.2f ms  p99 %.2f ms\n", track.p50_ms, track.p99_ms);
  std::printf("  StaffSearch by recipient: p50 %.2f ms  p99 %.2f ms (page of 10 timelines)\n",
              staff.p50_ms, staff.p99_ms);
}

int Run(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows while a 10M populate runs
  Flags f;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string name = argv[i], value = argv[i + 1];
    bool ok = true;
    if (name == "--db") {
      f.db = value;
    } else if (name == "--events") {
      ok = absl::SimpleAtoi(value, &f.events);
    } else if (name == "--streams") {
      ok = absl::SimpleAtoi(value, &f.streams);
    } else if (name == "--batch") {
      ok = absl::SimpleAtoi(value, &f.batch);
    } else if (name == "--lookup-hops") {
      f.lookup_hops.clear();
      for (absl::string_view h : absl::StrSplit(value, ',')) {
        int64_t n = 0;
        ok = ok && absl::SimpleAtoi(h, &n);
        f.lookup_hops.push_back(n);
      }
    } else if (name == "--queries") {
      ok = absl::SimpleAtoi(value, &f.queries);
    } else {
      ok = false;
    }
    if (!ok) {
      std::fprintf(stderr, "bad argument %s\n", name.c_str());
      return 2;
    }
  }
  if (f.db.empty()) {
    std::fprintf(stderr, "usage: collector_ingest_bench --db CONNINFO [...]\n");
    return 2;
  }
  absl::StatusOr<collector::store::Migrator> migrator =
      collector::store::Migrator::FromDirectory("sql/migrations");
  if (!migrator.ok() || !migrator->Apply(f.db).ok()) {
    std::fprintf(stderr, "migration failed (run from the repo root)\n");
    return 1;
  }
  const int64_t messages = f.events / kRecipientsPerMessage;
  const int64_t most_hops = *std::max_element(f.lookup_hops.begin(), f.lookup_hops.end());
  EnsurePartitions(f.db, 0, std::max(messages, most_hops / kRecipientsPerMessage));
  int64_t have = 0;
  {
    pqxx::connection conn(f.db);
    pqxx::nontransaction txn(conn);
    // --events 0: keep what an earlier run stored (generated hops 0..n-1) and measure lookups.
    if (f.events > 0) txn.exec("TRUNCATE hop_events, hop_envids, hop_recipients");
    have = txn.exec1("SELECT count(*) FROM hop_events")[0].as<int64_t>();
    std::printf(
        "fsync=%s synchronous_commit=%s shared_buffers=%s max_wal_size=%s "
        "wal_compression=%s\n",
        txn.exec1("SHOW fsync")[0].c_str(), txn.exec1("SHOW synchronous_commit")[0].c_str(),
        txn.exec1("SHOW shared_buffers")[0].c_str(), txn.exec1("SHOW max_wal_size")[0].c_str(),
        txn.exec1("SHOW wal_compression")[0].c_str());
  }
  absl::StatusOr<std::unique_ptr<collector::store::PgEventStore>> pg_store =
      collector::store::PgEventStore::Connect(f.db, {.pool_size = f.streams});
  if (!pg_store.ok()) return 1;
  absl::StatusOr<std::unique_ptr<collector::app::CollectorServer>> server =
      collector::app::CollectorServer::Start("127.0.0.1:0", **pg_store);
  if (!server.ok()) return 1;
  if (f.events > 0) {
    std::printf("ingest: %lld events, %d streams, batches of %d\n",
                static_cast<long long>(messages * kRecipientsPerMessage), f.streams, f.batch);
    const double copy_rate = RawCopy(f, 0, messages);
    std::printf("  raw COPY:        %10.0f events/s\n", copy_rate);
    {
      pqxx::connection conn(f.db);
      pqxx::nontransaction txn(conn);
      txn.exec("TRUNCATE hop_events, hop_envids, hop_recipients");
      txn.exec("CHECKPOINT");
    }
    const double grpc_rate = ViaGrpc(f, (*server)->address(), messages);
    std::printf("  gRPC PushEvents: %10.0f events/s (%.0f%% of raw COPY)\n", grpc_rate,
                100.0 * grpc_rate / copy_rate);
    have = messages * kRecipientsPerMessage;
  }
  auto lookup = v1::Lookup::NewStub(
      grpc::CreateChannel((*server)->address(), grpc::InsecureChannelCredentials()));
  for (const int64_t hops : f.lookup_hops) {
    if (hops > have) {
      const auto t0 = Clock::now();
      PopulateSql(f, have / kRecipientsPerMessage, (hops - have) / kRecipientsPerMessage);
      const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
      std::printf("populated %lld -> %lld hops in %.0f s (server-side INSERT ... SELECT, %.0f/s)\n",
                  static_cast<long long>(have), static_cast<long long>(hops), secs,
                  (hops - have) / secs);
      have = hops;
    }
    MeasureLookups(f, *lookup, have / kRecipientsPerMessage);
  }
  (*server)->Shutdown(absl::Seconds(1));
  return 0;
}

}  // namespace
}  // namespace mtrk::bench

int main(int argc, char** argv) { return mtrk::bench::Run(argc, argv); }
