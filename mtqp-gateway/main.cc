// mtrk-gateway: the MTQP server (RFC 3887) answering TRACK from the collector's Lookup service.
//   mtrk-gateway [--listen HOST:PORT] --collector HOST:PORT [--server-name FQDN]
//                [--idle-timeout SECONDS]
// Prints "mtrk-gateway listening on HOST:PORT" once it accepts connections; stops cleanly on
// SIGTERM or SIGINT.
#include <csignal>
#include <iostream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "mtqp-gateway/app/collector_lookup.h"
#include "mtqp-gateway/server/mtqp_server.h"

namespace {

constexpr char kUsage[] =
    "usage: mtrk-gateway [--listen HOST:PORT] --collector HOST:PORT [--server-name FQDN]\n"
    "                    [--idle-timeout SECONDS]\n"
    "  --listen defaults to 0.0.0.0:1038; port 0 picks a free port.\n";

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
  server::ServerOptions options;
  std::string collector;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    std::string value;
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage;
      return 0;
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

  auto lookup = mtrk::gateway::app::CollectorLookup::ConnectInsecure(collector);
  absl::StatusOr<std::unique_ptr<server::MtqpServer>> mtqp =
      server::MtqpServer::Start(options, *lookup);
  if (!mtqp.ok()) {
    std::cerr << "mtrk-gateway: " << mtqp.status().message() << "\n";
    return 1;
  }
  std::cout << "mtrk-gateway listening on " << (*mtqp)->endpoint() << std::endl;
  int signal = 0;
  sigwait(&stop_signals, &signal);
  std::cerr << "mtrk-gateway: signal " << signal << ", stopping\n";
  (*mtqp)->Stop();
  return 0;
}
