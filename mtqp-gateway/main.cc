// mtrk-gateway: the MTQP server (RFC 3887) answering TRACK from the collector's Lookup service.
//   mtrk-gateway [--listen HOST:PORT] --collector HOST:PORT [--server-name FQDN]
//                [--idle-timeout SECONDS]
//                [--tls-cert PEM --tls-key PEM [--tls-required] [--tls-client-ca PEM]]
//                [--collector-ca PEM [--collector-cert PEM --collector-key PEM]]
//                [--chain on|off] [--own-host HOST]... [--dns-server IP:PORT] [--chain-ca PEM]
//                [--chain-cert PEM --chain-key PEM] [--chain-max-depth N] [--lookup-threads N]
//                [--connection-limit N/S|off] [--failed-track-limit N/S|off]
//                [--rate-limit-clients N] [--log-level LEVEL] [--log-format text|json]
// Prints "mtrk-gateway listening on HOST:PORT" on stdout once it accepts connections (scripts and
// tests wait for that exact line; so for "mtrk-gateway helpdesk listening on https://HOST:PORT");
// logs go to stderr (common/log); stops cleanly on SIGTERM or SIGINT.
#include <csignal>
#include <iostream>
#include <span>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/log/logging.h"
#include "mtqp-gateway/app/collector_lookup.h"
#include "mtqp-gateway/app/flag_reader.h"
#include "mtqp-gateway/chain/mtqp_chainer.h"
#include "mtqp-gateway/helpdesk/helpdesk_main.h"
#include "mtqp-gateway/server/mtqp_server.h"
#include "spdlog/spdlog.h"

namespace {

constexpr char kUsage[] =
    "usage: mtrk-gateway [--listen HOST:PORT] --collector HOST:PORT [--server-name FQDN]\n"
    "                    [--idle-timeout SECONDS]\n"
    "                    [--tls-cert PEM --tls-key PEM [--tls-required] [--tls-client-ca PEM]]\n"
    "                    [--collector-ca PEM [--collector-cert PEM --collector-key PEM]]\n"
    "                    [--chain on|off] [--own-host HOST]... [--dns-server IP:PORT]\n"
    "                    [--chain-ca PEM] [--chain-cert PEM --chain-key PEM]\n"
    "                    [--chain-max-depth N] [--lookup-threads N]\n"
    "                    [--connection-limit N/S|off] [--failed-track-limit N/S|off]\n"
    "                    [--rate-limit-clients N]\n"
    "                    [--log-level LEVEL] [--log-format text|json]\n"
    "  --listen defaults to 0.0.0.0:1038; port 0 picks a free port.\n"
    "  --tls-cert/--tls-key enable STARTTLS; --tls-required refuses TRACK before TLS.\n"
    "  --tls-client-ca: STARTTLS needs a client certificate issued by that CA (e.g. other\n"
    "  domains' gateways chaining with --chain-cert); without one the handshake fails.\n"
    "  --collector-ca makes the Lookup channel TLS, verified with that CA; --collector-cert/key\n"
    "  add a client certificate. The helpdesk's staff lookups use the same channel.\n"
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
    "  65536): addresses remembered per limit; the least recently seen is forgotten first.\n"
    "  Refusals are counted and logged at warn, a few per minute.\n"
    "  --log-level: trace, debug, info (default), warn, error, critical or off; --log-format:\n"
    "  text (default) or json, one object per line. Logs go to stderr; SPDLOG_LEVEL overrides.\n";

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

// Command-line mistakes: before logging is set up, so plain stderr with the usage.
int Fail(absl::string_view message) {
  std::cerr << "mtrk-gateway: " << message << "\n" << kUsage;
  return 2;
}

// Failures after the flags were accepted: an operator must act.
int Failed(const absl::Status& status) {
  spdlog::error("{}", std::string(status.message()));
  return 1;
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
  mtrk::log::LogOptions log_options;
  mtrk::gateway::app::FlagReader flags(
      std::span<char* const>(argv + 1, static_cast<size_t>(argc - 1)),
      {"--help", "-h", "--tls-required"});
  while (!flags.done()) {
    absl::StatusOr<mtrk::gateway::app::FlagReader::Flag> next = flags.Next();
    if (!next.ok()) return Fail(next.status().message());
    const std::string& flag = next->name;
    const std::string& value = next->value;
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage << helpdesk::kHelpdeskUsage;
      return 0;
    }
    if (flag == "--tls-required") {
      options.session.tls_required = true;
      continue;
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
    } else if (flag == "--tls-client-ca") {
      options.tls_client_ca_file = value;
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
    } else if (flag == "--log-level") {
      if (absl::Status s = mtrk::log::ValidateLevel(value); !s.ok()) {
        return Fail(absl::StrCat("--log-level: ", s.message()));
      }
      log_options.level = value;
    } else if (flag == "--log-format") {
      if (absl::Status s = mtrk::log::ParseFormat(value, &log_options.format); !s.ok()) {
        return Fail(absl::StrCat("--log-format: ", s.message()));
      }
    } else if (helpdesk::ParseHelpdeskFlag(flag, value, &helpdesk_flags)) {
    } else {
      return Fail(absl::StrCat("unknown flag ", flag));
    }
  }
  if (collector.empty()) return Fail("--collector is required");
  if (absl::Status s = mtrk::log::InitLogging("mtrk-gateway", log_options); !s.ok()) {
    return Fail(s.message());
  }

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
  if (!lookup.ok()) return Failed(lookup.status());
  std::unique_ptr<mtrk::gateway::chain::MtqpChainer> chainer;
  if (chain) {
    chain_options.self.push_back(
        absl::StrCat(options.session.server_name, ":", options.listen_port));
    absl::StatusOr<std::unique_ptr<mtrk::gateway::chain::MtqpChainer>> made =
        mtrk::gateway::chain::MtqpChainer::Create(chain_options);
    if (!made.ok()) return Failed(made.status());
    chainer = *std::move(made);
    options.session.chainer = chainer.get();
    options.lookup_threads = 32;  // a chained TRACK waits up to the chain budget on the network
  }
  if (lookup_threads > 0) options.lookup_threads = lookup_threads;
  absl::StatusOr<std::unique_ptr<server::MtqpServer>> mtqp =
      server::MtqpServer::Start(options, **lookup);
  if (!mtqp.ok()) return Failed(mtqp.status());
  // The log line says how; the stdout line below is the one scripts wait for.
  spdlog::info("mtqp: serving at {} (collector {}, STARTTLS {}{}, chaining {}, {} lookup threads)",
               (*mtqp)->endpoint(), collector,
               options.tls_cert_file.empty()  ? "off"
               : options.session.tls_required ? "required"
                                              : "offered",
               options.tls_client_ca_file.empty() ? "" : " with client certificates",
               chain ? "on" : "off", options.lookup_threads);
  std::cout << "mtrk-gateway listening on " << (*mtqp)->endpoint() << std::endl;
  absl::StatusOr<std::unique_ptr<helpdesk::HelpdeskRuntime>> desk =
      helpdesk::StartHelpdesk(helpdesk_flags, (*lookup)->channel(), **lookup);
  if (!desk.ok()) {
    (*mtqp)->Stop();
    return Failed(desk.status());
  }
  if (*desk != nullptr) {
    spdlog::info("helpdesk: serving at https://{}", (*desk)->endpoint());
    std::cout << "mtrk-gateway helpdesk listening on https://" << (*desk)->endpoint() << std::endl;
  }
  int signal = 0;
  sigwait(&stop_signals, &signal);
  spdlog::info("signal {}, stopping", signal);
  if (*desk != nullptr) (*desk)->Stop();
  (*mtqp)->Stop();
  spdlog::info("mtqp: stopped; connections refused over the limit: {}, TRACKs refused: {}",
               (*mtqp)->connection_limiter().refused(), (*mtqp)->failed_track_limiter().refused());
  return 0;
}
