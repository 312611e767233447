// mtrk-track: ask an MTQP server about one message and print the answer for people (one greppable
// line per recipient per reporting MTA) or as JSON. main.cc only passes argv and the streams in,
// so the whole command is testable against an in-process server.
#pragma once

#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "mtqp-gateway/client/mtqp_client.h"
#include "mtqp-gateway/mtqp/tracking_status_parser.h"

namespace mtrk::gateway::client {

inline constexpr int kExitFound = 0;
inline constexpr int kExitNoInfo = 1;
inline constexpr int kExitError = 2;

struct TrackOptions {
  std::string host = "localhost";
  std::string port = "1038";  // RFC 3887 §2
  bool json = false;
  std::string envid;          // sent as given (xtext form, as in the X-MTRK header)
  std::string secret_base64;  // base64 of A
  absl::Duration timeout = MtqpClient::kDefaultTimeout;
  // TLS (RFC 3887 §6, §11): STARTTLS whenever offered, verifying the certificate against ca_file
  // (empty: the system store) and tls_name (empty: host). A server that offers no STARTTLS is
  // refused unless insecure, or unless it is the --server (or default) on a loopback address
  // (nothing crosses a network; scripts/stack.sh runs the gateway so).
  std::string ca_file;
  std::string tls_name;
  bool insecure = false;
  // Discovery (RFC 3887 §2.1): with submission_host and no --server, the server is found by SRV
  // _mtqp._tcp.<submission_host>, else that host on 1038. dns_server "IP:PORT" is for tests.
  std::string submission_host;
  bool server_given = false;
  std::string dns_server;
  // Follow `transferred` records to the next domain's server (the referral), up to this many.
  int max_referrals = 8;
  bool verbose = false;  // say why a referral gave nothing
};

inline constexpr absl::string_view kTrackUsage =
    "usage: mtrk-track [--server HOST[:PORT] | --submission-host HOST] [--json] [--ca FILE]\n"
    "                  [--tls-name NAME] [--insecure] [--no-referrals] [--dns-server IP:PORT]\n"
    "                  [--verbose]\n"
    "                  ENVID [SECRET] | mtqp://HOST[:PORT]/track/ENVID/SECRET\n"
    "       mtrk-track new [--fqhn HOST]\n"
    "  SECRET is the base64 of the tracking secret A; without it, the secret kept by\n"
    "  'mtrk-track new' ($MTRK_HOME/secrets or ~/.mtrk/secrets) is used. The server is --server,\n"
    "  or found by SRV _mtqp._tcp.<submission host>, else localhost:1038. Referrals (transferred\n"
    "  records) are followed to the next domain's server.\n"
    "  'new' makes a secret A, its certifier B and a unique ENVID, keeps A in the secret store\n"
    "  (mode 0600), and prints the X-MTRK header and the MAIL FROM parameters to use.\n"
    "  STARTTLS is used whenever the server offers it; the certificate is verified against the\n"
    "  system CAs (or --ca) and the server name (or --tls-name). A server that offers no TLS is\n"
    "  refused unless it is on loopback or --insecure is given.\n"
    "  exit status: 0 found, 1 no information, 2 error\n";

// args excludes the program name. InvalidArgument (with the reason) on bad usage.
absl::StatusOr<TrackOptions> ParseTrackArgs(std::span<const std::string> args);

// "host", "host:1039", "[::1]:1039", "::1" -> host and port (default 1038).
absl::Status SplitHostPort(absl::string_view in, std::string* host, std::string* port);

// Connects, TRACKs, QUITs, follows referrals, prints. Returns the exit status.
int RunTrack(const TrackOptions& options, std::ostream& out, std::ostream& err);

// `mtrk-track new [--fqhn HOST]` (args after "new"). Returns the exit status.
int RunNew(std::span<const std::string> args, std::ostream& out, std::ostream& err);

// "Mon, 23 Nov 2026 06:27:05 +0000" -> "2026-11-23T06:27:05Z"; unparsable dates come back with
// whitespace replaced by '_' so that columns stay intact.
std::string ToIsoUtc(absl::string_view rfc5322_date);

std::string FormatHuman(absl::string_view envid,
                        const std::vector<mtqp::TrackingStatusPart>& parts);
std::string FormatJson(absl::string_view envid, absl::string_view result,
                       const std::vector<mtqp::TrackingStatusPart>& parts);

}  // namespace mtrk::gateway::client
