// TRACK throughput and latency (issue 6): N concurrent MTQP clients over STARTTLS against a real
// mtrk-gateway, and the same lookups made directly against the collector's Lookup.Track (the
// limit the gateway can approach). Not a ctest; run by hand:
//
//   mtqp_track_bench --gateway 127.0.0.1:PORT --tls-name mtqp.a.example --ca ca.pem
//                    --collector 127.0.0.1:PORT --clients 100 --seconds 10 ENVID SECRET_BASE64
//
// Each client keeps one TLS connection and sends TRACK after TRACK (pipelining off), so the
// figure is the steady-state cost of an answer, not of handshakes; --handshakes makes every
// request a fresh connection + STARTTLS instead.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "mtqp-gateway/app/collector_lookup.h"
#include "mtqp-gateway/client/mtqp_client.h"
#include "mtqp-gateway/client/track_command.h"
#include "mtqp-gateway/server/tls_context.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Result {
  std::vector<double> latencies_ms;
  int64_t errors = 0;
};

void Report(absl::string_view what, const Result& r, double seconds) {
  std::vector<double> l = r.latencies_ms;
  std::sort(l.begin(), l.end());
  const auto pct = [&](double p) {
    return l.empty() ? 0.0 : l[std::min(l.size() - 1, static_cast<size_t>(p * l.size()))];
  };
  std::cout << what << ": " << l.size() << " answers in " << seconds
            << " s = " << static_cast<int64_t>(l.size() / seconds) << " req/s; p50 " << pct(0.50)
            << " ms, p99 " << pct(0.99) << " ms; errors " << r.errors << "\n";
}

template <typename F>
Result RunClients(int clients, double seconds, F make_worker) {
  Result all;
  std::mutex mu;
  const Clock::time_point end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                   std::chrono::duration<double>(seconds));
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&] {
      Result mine;
      auto one = make_worker();
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
  for (std::thread& t : threads) t.join();
  return all;
}

}  // namespace

int main(int argc, char** argv) {
  namespace client = mtrk::gateway::client;
  std::string gateway, collector, tls_name, ca;
  int clients = 100;
  double seconds = 10;
  bool handshakes = false;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--gateway") {
      gateway = value();
    } else if (a == "--collector") {
      collector = value();
    } else if (a == "--tls-name") {
      tls_name = value();
    } else if (a == "--ca") {
      ca = value();
    } else if (a == "--clients") {
      (void)absl::SimpleAtoi(value(), &clients);
    } else if (a == "--seconds") {
      (void)absl::SimpleAtod(value(), &seconds);
    } else if (a == "--handshakes") {
      handshakes = true;
    } else {
      positional.push_back(a);
    }
  }
  if (positional.size() != 2) {
    std::cerr << "usage: mtqp_track_bench [--gateway H:P --tls-name N --ca PEM] [--collector H:P]"
                 " [--clients N] [--seconds S] [--handshakes] ENVID SECRET_BASE64\n";
    return 2;
  }
  const std::string envid = positional[0], secret_b64 = positional[1];
  std::string secret;
  absl::Base64Unescape(secret_b64, &secret);
  std::cout << clients << " concurrent clients, " << seconds << " s each run\n";

  if (!collector.empty()) {
    auto lookup = mtrk::gateway::app::CollectorLookup::ConnectInsecure(collector);
    const Result r = RunClients(clients, seconds,
                                [&] { return [&] { return lookup->Track(envid, secret).ok(); }; });
    Report("collector Lookup.Track (direct gRPC)", r, seconds);
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
    const std::string track = absl::StrCat("TRACK ", envid, " ", secret_b64);
    const auto connect = [&]() -> std::unique_ptr<client::MtqpClient> {
      auto c = client::MtqpClient::Connect(host, port, absl::Seconds(30));
      if (!c.ok()) return nullptr;
      if (!tls_name.empty() && !(*c)->StartTls(tls_name, **context, tls_name).ok()) return nullptr;
      return *std::move(c);
    };
    const Result r = RunClients(clients, seconds, [&] {
      return [&, c = std::unique_ptr<client::MtqpClient>()]() mutable {
        if (handshakes || c == nullptr) c = connect();
        if (c == nullptr) return false;
        auto response = c->Command(track);
        if (!response.ok()) c.reset();
        return response.ok() &&
               response->status.indicator == mtrk::gateway::mtqp::ResponseLine::Indicator::kOkMulti;
      };
    });
    Report(tls_name.empty() ? "gateway TRACK (clear)" : "gateway TRACK over TLS", r, seconds);
  }
  return 0;
}
