// mtrk-gateway: the MTQP server (RFC 3887) answering TRACK from the collector's Lookup service.
//   mtrk-gateway [--listen HOST:PORT] --collector HOST:PORT [--server-name FQDN]
//                [--idle-timeout SECONDS] [--tls-cert PEM --tls-key PEM [--tls-required]]
//                [--collector-ca PEM [--collector-cert PEM --collector-key PEM]]
//                [--chain on|off] [--own-host HOST]... [--dns-server IP:PORT] [--chain-ca PEM]
//                [--chain-cert PEM --chain-key PEM] [--chain-max-depth N] [--lookup-threads N]
//                [--connection-limit N/S|off] [--failed-track-limit N/S|off]
//                [--rate-limit-clients N]
// Prints "mtrk-gateway listening on HOST:PORT" once it accepts connections; stops cleanly on
// SIGTERM or SIGINT.
#include <csignal>
#include <iostream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "mtqp-gateway/app/collector_lookup.h"
#include "mtqp-gateway/chain/mtqp_chainer.h"
#include "mtqp-gateway/helpdesk/helpdesk_main.h"
#include "mtqp-gateway/server/mtqp_server.h"

namespace {

constexpr char kUsage[] =
    "usage: mtrk-gateway [--listen HOST:PORT] --collector HOST:PORT [--server-name FQDN]\n"
    "                    [--idle-timeout SECONDS]\n"
    "                    [--tls-cert PEM --tls-key PEM [--tls-required]]\n"
    "                    [--collector-ca PEM [--collector-cert PEM --collector-key PEM]]\n"
    "                    [--chain on|off] [--own-host HOST]... [--dns-server IP:PORT]\n"
    "                    [--chain-ca PEM] [--chain-cert PEM --chain-key PEM]\n"
    "                    [--chain-max-depth N] [--lookup-threads N]\n"
    "                    [--connection-limit N/S|off] [--failed-track-limit N/S|off]\n"
    "                    [--rate-limit-clients N]\n"
    "  --listen defaults to 0.0.0.0:1038; port 0 picks a free port.\n"
    "  --tls-cert/--tls-key enable STARTTLS; --tls-required refuses TRACK before TLS.\n"
    "  --collector-ca makes the Lookup channel TLS, verified with that CA; --collector-cert/key\n"
    "  add a client certificate.\n"
    "  --lookup-threads: concurrent TRACKs (default 4, 32 with --chain on, whose downstream\n"
    "  queries wait on the network).\n"
    "  --chain on follows transferred records to other domains' MTQP servers (SRV _mtqp._tcp),\n"
    "  over verified TLS; --own-host names our own MTAs (\".example\" for a whole domain), whose\n"
    "  transfers are internal. Off by default: the transferred record is a referral.\n"
    "  --chain-ca verifies the next servers (default: the system's CAs); --chain-cert/--chain-key\n"
    "  present a client certificate to those that ask for one.\n"
    "  Per client address (IPv4 address, IPv6 /64), token buckets: N at once, refilled at N per\n"
    "  S seconds; off disables. --connection-limit (default 300/60): new connections past it get\n"
    "  \"-TEMP/MTQP/admin\" and are closed. --failed-track-limit (default 30/300): TRACKs\n"
    "  answered -ERR/noinfo (wrong secret and unknown ENVID alike); past it every TRACK gets\n"
    "  \"-TEMP/admin\", without a lookup, until the bucket refills. --rate-limit-clients (default\n"
    "  65536): addresses remembered per limit; the least recently seen is forgotten first.\n";

// "HOST:PORT" or "[V6]:PORT".
bool SplitListen(const std::string& in, std::string* host, uint16_t* port) {
  const size_t colon = in.rfind(':');
  if (colon == std::string::npos) return false;
  *host = in.substr(0, colon);
  if (absl::StartsWith(*host, "[") && absl::EndsWith(*host, "]")) {
    *host = host->substr(1, host->size() - 2);
  }
  int p = 0;
  if (!absl::SimpleAtoi(in.substr(colon + 1), &p) || p < 0 || p > 65535) return false;
  *port = static_cast<uint16_t>(p);
  return !host->empty();
}

int Fail(absl::string_view message) {
  std::cerr << "mtrk-gateway: " << message << "\n" << kUsage;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  namespace server = mtrk::gateway::server;
  namespace helpdesk = mtrk::gateway::helpdesk;  // issue #7: web page + API for staff
  if (argc > 1 && helpdesk::IsHelpdeskCommand(argv[1])) {
    return helpdesk::RunHelpdeskCommand(argc - 1, argv + 1);
  }
  helpdesk::HelpdeskFlags helpdesk_flags;
  server::ServerOptions options;
  std::string collector;
  mtrk::net::TlsFiles collector_tls;
  bool chain = false;
  int lookup_threads = 0;  // 0: the default for the mode
  mtrk::gateway::chain::ChainOptions chain_options;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    std::string value;
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage << helpdesk::kHelpdeskUsage;
      return 0;
    }
    if (flag == "--tls-required") {
      options.session.tls_required = true;
      continue;
    }
    if (const size_t eq = flag.find('='); eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return Fail(absl::StrCat(flag, " needs a value"));
    }
    if (flag == "--listen") {
      if (!SplitListen(value, &options.listen_host, &options.listen_port)) {
        return Fail(absl::StrCat("bad --listen '", value, "'"));
      }
    } else if (flag == "--collector") {
      collector = value;
    } else if (flag == "--server-name") {
      options.session.server_name = value;
    } else if (flag == "--idle-timeout") {
      int64_t seconds = 0;
      if (!absl::SimpleAtoi(value, &seconds)) return Fail("bad --idle-timeout");
      options.idle_timeout = absl::Seconds(seconds);
    } else if (flag == "--tls-cert") {
      options.tls_cert_file = value;
    } else if (flag == "--tls-key") {
      options.tls_key_file = value;
    } else if (flag == "--chain") {
      if (value != "on" && value != "off") return Fail("--chain takes on or off");
      chain = value == "on";
    } else if (flag == "--own-host") {
      chain_options.own_hosts.push_back(value);
    } else if (flag == "--dns-server") {
      chain_options.dns_server = value;
    } else if (flag == "--chain-ca") {
      chain_options.tls.ca_file = value;
    } else if (flag == "--chain-cert") {
      chain_options.tls.cert_file = value;
    } else if (flag == "--chain-key") {
      chain_options.tls.key_file = value;
    } else if (flag == "--connection-limit" || flag == "--failed-track-limit") {
      absl::StatusOr<server::RateLimit> limit = server::ParseRateLimit(value);
      if (!limit.ok()) return Fail(absl::StrCat(flag, ": ", limit.status().message()));
      (flag == "--connection-limit" ? options.connection_limit : options.failed_track_limit) =
          *limit;
    } else if (flag == "--rate-limit-clients") {
      int64_t n = 0;
      if (!absl::SimpleAtoi(value, &n) || n < 1 || n > 10'000'000) {
        return Fail("bad --rate-limit-clients");
      }
      options.rate_limit_clients = static_cast<size_t>(n);
    } else if (flag == "--lookup-threads") {
      if (!absl::SimpleAtoi(value, &lookup_threads) || lookup_threads < 1) {
        return Fail("bad --lookup-threads");
      }
    } else if (flag == "--chain-max-depth") {
      if (!absl::SimpleAtoi(value, &chain_options.max_depth)) return Fail("bad --chain-max-depth");
    } else if (flag == "--collector-ca") {
      collector_tls.ca_file = value;
    } else if (flag == "--collector-cert") {
      collector_tls.cert_file = value;
    } else if (flag == "--collector-key") {
      collector_tls.key_file = value;
    } else if (helpdesk::ParseHelpdeskFlag(flag, value, &helpdesk_flags)) {
    } else {
      return Fail(absl::StrCat("unknown flag ", flag));
    }
  }
  if (collector.empty()) return Fail("--collector is required");

  // Block the stop signals in every thread (gRPC's and Asio's inherit the mask), then wait for
  // them here: no async-signal-safety concerns, and Stop() runs on an ordinary thread.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  absl::StatusOr<std::unique_ptr<mtrk::gateway::app::CollectorLookup>> lookup =
      collector_tls.ca_file.empty()
          ? mtrk::gateway::app::CollectorLookup::ConnectInsecure(collector)
          : mtrk::gateway::app::CollectorLookup::ConnectTls(collector, collector_tls);
  if (!lookup.ok()) {
    std::cerr << "mtrk-gateway: " << lookup.status().message() << "\n";
    return 1;
  }
  std::unique_ptr<mtrk::gateway::chain::MtqpChainer> chainer;
  if (chain) {
    chain_options.self.push_back(
        absl::StrCat(options.session.server_name, ":", options.listen_port));
    absl::StatusOr<std::unique_ptr<mtrk::gateway::chain::MtqpChainer>> made =
        mtrk::gateway::chain::MtqpChainer::Create(chain_options);
    if (!made.ok()) {
      std::cerr << "mtrk-gateway: " << made.status().message() << "\n";
      return 1;
    }
    chainer = *std::move(made);
    options.session.chainer = chainer.get();
    options.lookup_threads = 32;  // a chained TRACK waits up to the chain budget on the network
  }
  if (lookup_threads > 0) options.lookup_threads = lookup_threads;
  absl::StatusOr<std::unique_ptr<server::MtqpServer>> mtqp =
      server::MtqpServer::Start(options, **lookup);
  if (!mtqp.ok()) {
    std::cerr << "mtrk-gateway: " << mtqp.status().message() << "\n";
    return 1;
  }
  std::cout << "mtrk-gateway listening on " << (*mtqp)->endpoint() << std::endl;
  absl::StatusOr<std::unique_ptr<helpdesk::HelpdeskRuntime>> desk =
      helpdesk::StartHelpdesk(helpdesk_flags, collector, **lookup);
  if (!desk.ok()) {
    std::cerr << "mtrk-gateway: " << desk.status().message() << "\n";
    (*mtqp)->Stop();
    return 1;
  }
  if (*desk != nullptr) {
    std::cout << "mtrk-gateway helpdesk listening on https://" << (*desk)->endpoint() << std::endl;
  }
  int signal = 0;
  sigwait(&stop_signals, &signal);
  std::cerr << "mtrk-gateway: signal " << signal << ", stopping\n";
  if (*desk != nullptr) (*desk)->Stop();
  (*mtqp)->Stop();
  return 0;
}
