// The MTQP server state machine for one connection (RFC 3887 §3-§8; DIGEST §4): greeting, then
// one command line in, the complete response bytes out. Owns no socket, thread or clock, so the
// protocol is unit-tested without I/O; server/ moves the bytes. Not thread-safe: the server calls
// it for one connection from one thread at a time. TRACK calls the injected TrackLookup
// synchronously, so the server runs HandleLine off its I/O threads.
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "mtqp-gateway/mtqp/command_parser.h"
#include "mtqp-gateway/mtqp/track_lookup.h"
#include "mtqp-gateway/mtqp/tracking_status.h"

namespace mtrk::gateway::mtqp {

// DIGEST §6.9, §6.7, §4: exact bytes. Every "no data for you" case sends kNoInfoLine, so a wrong
// secret, an unknown ENVID and expired data cannot be told apart (DIGEST §7 item 31).
inline constexpr absl::string_view kNoInfoLine = "-ERR/noinfo no tracking information\r\n";
inline constexpr absl::string_view kUnavailableLine =
    "-TEMP/unavailable tracking data temporarily unavailable\r\n";

struct SessionOptions {
  std::string server_name = "localhost";  // shown in the greeting
  // RFC 3887 §2.5 allows limits against denial of service; passing one closes the connection.
  int64_t max_commands = 1000;
  int64_t max_bad_commands = 20;
  // TLS (RFC 3887 §6). TODO(#tls): the server does not implement the handshake yet; with
  // tls_available false, STARTTLS gets -ERR/unsupported (DIGEST §7 item 40).
  bool tls_available = false;
  bool tls_required = false;  // TRACK before TLS gets -ERR/tls-required (DIGEST §4)
  TrackingStatusOptions tracking_status;
};

class Session {
 public:
  // What the server does after sending `response`.
  enum class Next {
    kContinue,
    kClose,     // QUIT, or a limit was passed
    kStartTls,  // start the handshake; discard any buffered clear-text input (DIGEST §6.14)
  };
  struct Reply {
    std::string response;  // complete response: one or more CRLF-terminated lines
    Next next = Next::kContinue;
  };

  // `lookup` must outlive the session.
  Session(const SessionOptions& options, TrackLookup& lookup);

  // RFC 3887 §3: contains /MTQP; multi-line with the STARTTLS option when TLS is available.
  std::string Greeting() const;
  // One command line without its CRLF.
  Reply HandleLine(absl::string_view line);
  // A line longer than kMaxLineBytes, already dropped by the reader: a bad command.
  Reply HandleTooLongLine();
  // After a successful handshake: back to the initial state (RFC 3887 §6.2).
  void TlsEstablished();

 private:
  Reply Bad(absl::string_view why, absl::string_view code = "");
  Reply Track(const TrackCommand& track);

  const SessionOptions options_;
  TrackLookup& lookup_;
  bool tls_active_ = false;
  int64_t commands_ = 0;
  int64_t bad_commands_ = 0;
};

}  // namespace mtrk::gateway::mtqp
