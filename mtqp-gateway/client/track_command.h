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
};

inline constexpr absl::string_view kTrackUsage =
    "usage: mtrk-track [--server HOST[:PORT]] [--json] ENVID SECRET\n"
    "  SECRET is the base64 of the tracking secret A; the default server is localhost:1038.\n"
    "  exit status: 0 found, 1 no information, 2 error\n";

// args excludes the program name. InvalidArgument (with the reason) on bad usage.
absl::StatusOr<TrackOptions> ParseTrackArgs(std::span<const std::string> args);

// "host", "host:1039", "[::1]:1039", "::1" -> host and port (default 1038).
absl::Status SplitHostPort(absl::string_view in, std::string* host, std::string* port);

// Connects, TRACKs, QUITs, prints. Returns the exit status.
int RunTrack(const TrackOptions& options, std::ostream& out, std::ostream& err);

// "Mon, 23 Nov 2026 06:27:05 +0000" -> "2026-11-23T06:27:05Z"; unparsable dates come back with
// whitespace replaced by '_' so that columns stay intact.
std::string ToIsoUtc(absl::string_view rfc5322_date);

std::string FormatHuman(absl::string_view envid,
                        const std::vector<mtqp::TrackingStatusPart>& parts);
std::string FormatJson(absl::string_view envid, absl::string_view result,
                       const std::vector<mtqp::TrackingStatusPart>& parts);

}  // namespace mtrk::gateway::client
