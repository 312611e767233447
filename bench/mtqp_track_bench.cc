// TRACK throughput and latency (issue 6): N concurrent MTQP clients over STARTTLS against a real
// mtrk-gateway, and the same lookups made directly against the collector's Lookup.Track (the
// limit the gateway can approach), in one run, with the ratio. Not a ctest; run by
// bench/mtqp_track_bench.sh, which brings up PostgreSQL, mtrk-collector and mtrk-gateway:
//
//   mtqp_track_bench --db CONNINFO --populate MESSAGES [--streams S]
//       stores MESSAGES generated messages (2 delivered hops each, ENVID env-<m>, secret
//       secret-<m>-0123456789) straight into hop_events with server-side SQL, then exits;
//   mtqp_track_bench --gateway H:P --tls-name NAME --ca PEM --collector H:P --messages MESSAGES
//                    [--clients 100] [--seconds 20] [--warmup-seconds 5] [--handshakes]
//       each client tracks random messages of those MESSAGES, first directly against the
//       collector, then through the gateway; prints req/s, p50, p99 for both and the ratios;
//   mtqp_track_bench ... ENVID SECRET_BASE64   the old form: the same message every time.
//
// Each gateway client keeps one TLS connection and sends TRACK after TRACK (pipelining off), so
// the figure is the steady-state cost of an answer, not of handshakes; --handshakes makes every
// request a fresh connection + STARTTLS instead. A wrong answer (not +OK+ / no hops) counts as
// an error, not as a request served.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <mutex>
#include <pqxx/pqxx>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "bench/bench_hops_sql.h"
#include "mtqp-gateway/app/collector_lookup.h"
#include "mtqp-gateway/client/mtqp_client.h"
#include "mtqp-gateway/client/track_command.h"
#include "mtqp-gateway/server/tls_context.h"

namespace {

using Clock = std::chrono::steady_clock;

using mtrk::bench::kRecipientsPerMessage;

std::string EnvidOf(int64_t m) { return absl::StrCat("env-", m); }
std::string SecretOf(int64_t m) { return absl::StrCat("secret-", m, "-0123456789"); }

struct Result {
  std::vector<double> latencies_ms;
  int64_t errors = 0;
  double seconds = 0;

  double Percentile(double p) const {
    return latencies_ms.empty()
               ? 0.0
               : latencies_ms[std::min(latencies_ms.size() - 1,
                                       static_cast<size_t>(p * latencies_ms.size()))];
  }
  double PerSecond() const { return latencies_ms.size() / seconds; }
};

void Report(absl::string_view what, const Result& r) {
  std::printf(
      "%-38s %9zu answers in %.1f s = %8.0f req/s; p50 %7.2f ms, p99 %7.2f ms; "
      "errors %lld\n",
      std::string(what).c_str(), r.latencies_ms.size(), r.seconds, r.PerSecond(),
      r.Percentile(0.50), r.Percentile(0.99), static_cast<long long>(r.errors));
}

// `make_worker(i)` returns client i's request function: true for a right answer. Each client
// runs requests back to back until the time is up.
Result RunClients(int clients, double seconds,
                  const std::function<std::function<bool()>(int)>& make_worker) {
  Result all;
  std::mutex mu;
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  Clock::time_point end;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      Result mine;
      std::function<bool()> one = make_worker(i);  // connects, untimed
      ++ready;
      while (!go.load()) std::this_thread::yield();
      while (Clock::now() < end) {
        const Clock::time_point t0 = Clock::now();
        const bool ok = one();
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        if (ok) {
          mine.latencies_ms.push_back(ms);
        } else {
          ++mine.errors;
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      all.latencies_ms.insert(all.latencies_ms.end(), mine.latencies_ms.begin(),
                              mine.latencies_ms.end());
      all.errors += mine.errors;
    });
  }
  while (ready.load() < clients) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const Clock::time_point start = Clock::now();
  end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  go = true;
  for (std::thread& t : threads) t.join();
  all.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(all.latencies_ms.begin(), all.latencies_ms.end());
  return all;
}

// The collector bench's hops (bench_hops_sql.h; message m first seen 500 ms after message m-1
// from 2026-11-01), made by PostgreSQL itself: 1M messages in minutes, where shipping the rows
// would take longer. First the day partitions they fall in.
void Populate(const std::string& db, int64_t messages, int streams) {
  {
    pqxx::connection conn(db);
    pqxx::work txn(conn);
    const absl::Time base =
        absl::FromCivil(absl::CivilSecond(2026, 11, 1, 0, 0, 0), absl::UTCTimeZone());
    const absl::Time last = base + absl::Milliseconds(500 * messages);
    for (absl::Time t = base - absl::Hours(24); t <= last + absl::Hours(24); t += absl::Hours(24)) {
      txn.exec(absl::StrCat("SELECT mtrk_ensure_hop_events_partition('",
                            absl::FormatTime("%Y-%m-%d", t, absl::UTCTimeZone()), "'::date)"));
    }
    txn.commit();
  }
  mtrk::bench::InsertBenchHops(db, 0, messages, streams, /*chunk=*/50000);
}

// The first connection error, so a run full of errors says why.
void ReportOnce(const absl::Status& s) {
  static std::once_flag once;
  std::call_once(once, [&] { std::cerr << "mtqp_track_bench: first error: " << s << "\n"; });
}

int64_t CountMessages(const std::string& db) {
  pqxx::connection conn(db);
  pqxx::nontransaction txn(conn);
  return txn.exec("SELECT count(DISTINCT envid) FROM hop_events")[0][0].as<int64_t>();
}

}  // namespace

int main(int argc, char** argv) {
  namespace client = mtrk::gateway::client;
  std::string gateway, collector, tls_name, ca, db;
  int clients = 100;
  int streams = 2;
  double seconds = 20;
  double warmup_seconds = 5;
  int64_t populate = 0;
  int64_t messages = 0;
  bool handshakes = false;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    bool ok = true;
    if (a == "--gateway") {
      gateway = value();
    } else if (a == "--collector") {
      collector = value();
    } else if (a == "--tls-name") {
      tls_name = value();
    } else if (a == "--ca") {
      ca = value();
    } else if (a == "--db") {
      db = value();
    } else if (a == "--populate") {
      ok = absl::SimpleAtoi(value(), &populate);
    } else if (a == "--streams") {
      ok = absl::SimpleAtoi(value(), &streams);
    } else if (a == "--messages") {
      ok = absl::SimpleAtoi(value(), &messages);
    } else if (a == "--clients") {
      ok = absl::SimpleAtoi(value(), &clients);
    } else if (a == "--seconds") {
      ok = absl::SimpleAtod(value(), &seconds);
    } else if (a == "--warmup-seconds") {
      ok = absl::SimpleAtod(value(), &warmup_seconds);
    } else if (a == "--handshakes") {
      handshakes = true;
    } else {
      positional.push_back(a);
    }
    if (!ok) {
      std::cerr << "mtqp_track_bench: bad value for " << a << "\n";
      return 2;
    }
  }
  if (populate > 0) {
    if (db.empty()) {
      std::cerr << "mtqp_track_bench: --populate needs --db\n";
      return 2;
    }
    const Clock::time_point t0 = Clock::now();
    try {
      Populate(db, populate, streams);
      const double s = std::chrono::duration<double>(Clock::now() - t0).count();
      std::printf("populated %lld messages (%lld hops) in %.1f s\n",
                  static_cast<long long>(populate),
                  static_cast<long long>(populate * kRecipientsPerMessage), s);
      const int64_t stored = CountMessages(db);
      if (stored < populate) {
        std::fprintf(stderr, "mtqp_track_bench: only %lld messages stored\n",
                     static_cast<long long>(stored));
        return 1;
      }
    } catch (const std::exception& e) {
      std::cerr << "mtqp_track_bench: populate: " << e.what() << "\n";
      return 1;
    }
    return 0;
  }
  if ((messages > 0) == (positional.size() == 2)) {
    std::cerr << "usage: mtqp_track_bench --db CONNINFO --populate MESSAGES [--streams S]\n"
                 "       mtqp_track_bench [--gateway H:P --tls-name N --ca PEM] [--collector H:P]"
                 " [--clients N] [--seconds S] [--warmup-seconds S] [--handshakes]"
                 " (--messages MESSAGES | ENVID SECRET_BASE64)\n";
    return 2;
  }
  // Client i's k-th message: the same sequence for the collector and the gateway run.
  const auto picker = [&](int i) {
    return [rng = std::mt19937_64(1000 + i), &messages, &positional]() mutable {
      struct Pick {
        std::string envid, secret;
      };
      if (messages == 0) {
        std::string secret;
        absl::Base64Unescape(positional[1], &secret);
        return Pick{positional[0], secret};
      }
      const int64_t m = static_cast<int64_t>(rng() % static_cast<uint64_t>(messages));
      return Pick{EnvidOf(m), SecretOf(m)};
    };
  };
  std::printf("%d concurrent clients, %.0f s per run, %s\n", clients, seconds,
              messages > 0 ? absl::StrCat("random messages of ", messages).c_str() : "one message");

  Result direct, through_gateway;
  if (!collector.empty()) {
    const std::unique_ptr<mtrk::gateway::app::CollectorLookup> lookup =
        mtrk::gateway::app::CollectorLookup::ConnectInsecure(collector);
    const auto worker = [&](int i) -> std::function<bool()> {
      return [&, pick = picker(i)]() mutable {
        const auto p = pick();
        auto hops = lookup->Track(p.envid, p.secret);
        return hops.ok() && hops->size() == static_cast<size_t>(kRecipientsPerMessage);
      };
    };
    if (!worker(0)()) {  // a lookup that fails fast looks fast: check once, untimed
      std::cerr << "mtqp_track_bench: the collector does not find the messages\n";
      return 1;
    }
    if (warmup_seconds > 0) RunClients(clients, warmup_seconds, worker);  // page cache, pools
    direct = RunClients(clients, seconds, worker);
    Report("collector Lookup.Track (direct gRPC)", direct);
  }
  if (!gateway.empty()) {
    std::string host, port;
    if (!client::SplitHostPort(gateway, &host, &port).ok()) return 2;
    auto context =
        mtrk::gateway::server::MakeClientTls({.ca_file = ca, .cert_file = "", .key_file = ""});
    if (!context.ok()) {
      std::cerr << context.status() << "\n";
      return 2;
    }
    const auto connect = [&]() -> std::unique_ptr<client::MtqpClient> {
      auto c = client::MtqpClient::Connect(host, port, absl::Seconds(30));
      if (!c.ok()) {
        ReportOnce(c.status());
        return nullptr;
      }
      if (!tls_name.empty()) {
        if (absl::Status s = (*c)->StartTls(tls_name, **context, tls_name); !s.ok()) {
          ReportOnce(s);
          return nullptr;
        }
      }
      return *std::move(c);
    };
    const auto worker = [&](int i) -> std::function<bool()> {
      auto c =
          std::make_shared<std::unique_ptr<client::MtqpClient>>(handshakes ? nullptr : connect());
      return [&, c, pick = picker(i)]() mutable {
        if (handshakes || *c == nullptr) *c = connect();
        if (*c == nullptr) return false;
        const auto p = pick();
        std::string secret_b64;
        absl::Base64Escape(p.secret, &secret_b64);
        auto response = (*c)->Command(absl::StrCat("TRACK ", p.envid, " ", secret_b64));
        if (!response.ok()) c->reset();
        return response.ok() &&
               response->status.indicator == mtrk::gateway::mtqp::ResponseLine::Indicator::kOkMulti;
      };
    };
    if (!worker(0)()) {  // say why, once
      std::unique_ptr<client::MtqpClient> c = connect();
      const auto p = picker(0)();
      std::string secret_b64;
      absl::Base64Escape(p.secret, &secret_b64);
      std::cerr
          << "mtqp_track_bench: the gateway does not answer TRACK with data: "
          << (c == nullptr
                  ? "cannot connect with STARTTLS"
                  : (*c->Command(absl::StrCat("TRACK ", p.envid, " ", secret_b64))).status_line)
          << "\n";
      return 1;
    }
    if (warmup_seconds > 0 && collector.empty()) RunClients(clients, warmup_seconds, worker);
    through_gateway = RunClients(clients, seconds, worker);
    Report(tls_name.empty() ? "gateway TRACK (clear)" : "gateway TRACK over TLS", through_gateway);
  }
  if (!collector.empty() && !gateway.empty() && direct.PerSecond() > 0) {
    std::printf("ratio gateway/direct: %.2fx req/s, %.2fx p50, %.2fx p99\n",
                through_gateway.PerSecond() / direct.PerSecond(),
                through_gateway.Percentile(0.50) / direct.Percentile(0.50),
                through_gateway.Percentile(0.99) / direct.Percentile(0.99));
  }
  return 0;
}
