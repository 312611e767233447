// The MTQP server state machine for one connection (RFC 3887 §3-§8; DIGEST §4): greeting, then
// one command line in, the complete response bytes out. Owns no socket, thread or clock, so the
// protocol is unit-tested without I/O; server/ moves the bytes. Not thread-safe: the server calls
// it for one connection from one thread at a time. TRACK calls the injected TrackLookup
// synchronously, so the server runs HandleLine off its I/O threads.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "mtqp-gateway/mtqp/chainer.h"
#include "mtqp-gateway/mtqp/command_parser.h"
#include "mtqp-gateway/mtqp/track_limiter.h"
#include "mtqp-gateway/mtqp/track_lookup.h"
#include "mtqp-gateway/mtqp/tracking_status.h"

namespace mtrk::gateway::mtqp {

// DIGEST §6.9, §6.7, §4: exact bytes. Every "no data for you" case sends kNoInfoLine, so a wrong
// secret, an unknown ENVID and expired data cannot be told apart (DIGEST §7 item 31).
inline constexpr absl::string_view kNoInfoLine = "-ERR/noinfo no tracking information\r\n";
inline constexpr absl::string_view kUnavailableLine =
    "-TEMP/unavailable tracking data temporarily unavailable\r\n";
// A client past its budget of failed TRACKs gets this for every TRACK, right or wrong, without a
// lookup, until its bucket refills: a correct guess must look like a wrong one. DIGEST §6.9:
// /admin goes with -TEMP (an administrative limit, worth retrying later).
inline constexpr absl::string_view kRateLimitedLine =
    "-TEMP/admin too many failed requests from your address, try again later\r\n";
// The greeting for a connection over its client's connection rate (RFC 3887 §3: a negative
// greeting has /MTQP and /admin or /unavailable); the server then closes.
inline constexpr absl::string_view kTooManyConnectionsGreeting =
    "-TEMP/MTQP/admin too many connections from your address, try again later\r\n";

struct SessionOptions {
  std::string server_name = "localhost";  // shown in the greeting
  // RFC 3887 §2.5 allows limits against denial of service; passing one closes the connection.
  int64_t max_commands = 1000;
  int64_t max_bad_commands = 20;
  // TLS (RFC 3887 §6). With tls_available false, STARTTLS gets -ERR/unsupported (DIGEST §7
  // item 40).
  bool tls_available = false;
  bool tls_required = false;  // TRACK before TLS gets -ERR/tls-required (DIGEST §4)
  // The dNSName entries of the certificate's subjectAltName ("*.example.com" allowed): STARTTLS
  // with any other name gets -BAD/bad-fqdn (RFC 3887 §6).
  std::vector<std::string> certificate_names;
  TrackingStatusOptions tracking_status;
  // Follows `transferred` records to the next domain's server; null: answer for ourselves only
  // (the transferred record is the referral). Must outlive the session.
  Chainer* chainer = nullptr;
  // The per-client budget of failed TRACKs; null: no limit. Must outlive the session.
  TrackLimiter* track_limiter = nullptr;
};

// RFC 6125 §6.4: case-insensitive; a "*" is allowed only as the whole leftmost label and
// matches exactly one label.
bool MatchesCertificateName(absl::string_view fqdn, absl::string_view pattern);

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
  // After a successful handshake: back to the initial state (RFC 3887 §6.2). With
  // strong_enough false (the server judged the negotiated TLS too weak but keeps the
  // connection), every command but QUIT gets -ERR/insecure (RFC 3887 §6.1).
  void TlsEstablished(bool strong_enough = true);
  bool tls_active() const { return tls_active_; }
  // The key of this connection's client for options.track_limiter (server/ClientKey).
  void set_client(std::string client) { client_ = std::move(client); }

 private:
  Reply Bad(absl::string_view why, absl::string_view code = "");
  Reply Track(const TrackCommand& track);
  void NoteComment(absl::string_view text);

  const SessionOptions options_;
  TrackLookup& lookup_;
  bool tls_active_ = false;
  bool insecure_ = false;
  ChainContext chain_;  // from a vnd.mtrk.chain COMMENT
  std::string client_;
  int64_t commands_ = 0;
  int64_t bad_commands_ = 0;
};

}  // namespace mtrk::gateway::mtqp
