// LineParser: one log line in, one fact (or the reason there is none) out. MTA-specific parsers
// (postfix/, later exim/ and sendmail/) produce the same facts, which correlate/ joins by queue id.
//
// Facts borrow: their string views point into the LogLine's text (or at static strings), so they
// live exactly as long as the line's buffer (only TrackingHeaderSeen's decoded header owns its
// strings). Parse allocates nothing for the common records; the correlator copies what it keeps
// (measured, issue 8: the owned strings of every fact were a large share of the agent's per-line
// allocations). Consume a fact before the buffer its line came from is reused. A fact names only
// its queue id; host, instance (InstanceName) and time come from the LogLine it was parsed from.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <variant>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "agent/parse/syslog_header.h"
#include "agent/parse/tracking_header.h"

namespace mtrk::agent::parse {

// A line we do not track (connect/disconnect, warnings, statistics, rejects before queueing...).
// The caller counts these by program and kind.
struct Unrelated {
  // Why: a static string naming the form of line ("no-queue-id", "noqueue-reject",
  // "rcpt-reject", "redirect", ...), kUnrecognised for a line with a queue id whose form the
  // parser does not know (a gap in coverage: should be 0), or empty (not classified).
  absl::string_view kind;
};
inline constexpr absl::string_view kUnrecognised = "unrecognised";

// A new message entered the queue: smtpd "QID: client=host[ip]" or pickup "QID: uid=N from=<s>".
struct MessageReceived {
  absl::string_view queue_id;
  absl::string_view client;  // "localhost[127.0.0.1]"; "local" for pickup
  absl::string_view sender;  // pickup only; smtpd's sender comes with qmgr
};

// cleanup "QID: message-id=<...>"; the id is stored without the angle brackets. Also
// "QID: resent-message-id=<...>" (resent = true), which does not replace the message-id.
struct MessageIdSeen {
  absl::string_view queue_id;
  absl::string_view message_id;
  bool resent = false;
};

// cleanup "QID: info: header X-MTRK: ..." (header_checks INFO rule).
struct TrackingHeaderSeen {
  absl::string_view queue_id;
  TrackingHeader header;
};

// qmgr "QID: from=<s>, size=N, nrcpt=N (queue active)".
struct MessageQueued {
  absl::string_view queue_id;
  absl::string_view sender;
  int64_t size = 0;
  int64_t nrcpt = 0;
};

// qmgr (or postsuper) "QID: removed": the queue file is gone; the queue id may be reused.
struct MessageRemoved {
  absl::string_view queue_id;
};

// qmgr "QID: from=<s>, status=expired|force-expired, returned to sender": every recipient still
// deferred has failed.
struct MessageExpired {
  absl::string_view queue_id;
  absl::string_view sender;
  bool forced = false;
};

enum class DeliveryStatus { kSent, kDeferred, kBounced, kExpired };

// A delivery agent's (or qmgr's) per-recipient record:
// "QID: to=<r>, [orig_to=<o>,] relay=R, ..., dsn=X.Y.Z, status=S (text)".
struct RecipientOutcome {
  absl::string_view queue_id;
  absl::string_view agent;  // "smtp", "lmtp", "local", "virtual", "pipe", "discard", "error", ...
  absl::string_view recipient;
  absl::string_view orig_recipient;  // empty when not logged
  absl::string_view relay;           // as logged: "127.0.0.2[127.0.0.2]:2526", "virtual", "none"
  absl::string_view dsn;             // "2.0.0"
  DeliveryStatus status = DeliveryStatus::kSent;
  absl::string_view diagnostic;     // the parenthesised text, without the parentheses
  absl::string_view next_queue_id;  // from "queued as X" or "forwarded as X"
  bool forwarded = false;  // local(8) "forwarded as X": an alias/.forward made a new message
};

// bounce "QID: sender non-delivery notification: NEWQID" (also delivery status, delay, and
// postmaster notifications): NEWQID is a new message about QID, not a hop of it.
struct NotificationQueued {
  absl::string_view queue_id;
  absl::string_view notification_queue_id;
  absl::string_view kind;  // "sender non-delivery", "sender delay", ...
};

// smtpd or cleanup refused the whole message at or after DATA (header/body_checks REJECT,
// milter-reject, access rule at DATA/END-OF-MESSAGE): the client got the 4xx/5xx reply
// synchronously and nothing stays queued, so there is nothing to track.
struct MessageRejected {
  absl::string_view queue_id;
  absl::string_view reason;  // as logged after "reject: ", cut to model::kMaxTextBytes
};

// DISCARD by smtpd access rules, cleanup header/body_checks or a milter: the client got 250, and
// Postfix dropped the message. Only the recipient Postfix names in the line is known.
struct MessageDiscarded {
  absl::string_view queue_id;
  absl::string_view recipient;  // to=<r> of the log line; empty when not logged
  absl::string_view reason;
  absl::string_view sender;  // from=<s> of the log line
};

// HOLD by smtpd/cleanup/milter (recipient from to=<r>), or postsuper -h (by_admin, no
// recipient): the message sits in the hold queue until released or deleted.
struct MessageHeld {
  absl::string_view queue_id;
  absl::string_view recipient;
  absl::string_view reason;
  bool by_admin = false;
  absl::string_view sender;  // from=<s> of the log line
};

// postsuper -d "QID: removed": the administrator deleted the message; no bounce is sent.
struct MessageDeleted {
  absl::string_view queue_id;
};

using LineFact =
    std::variant<Unrelated, MessageReceived, MessageIdSeen, TrackingHeaderSeen, MessageQueued,
                 MessageRemoved, MessageExpired, RecipientOutcome, NotificationQueued,
                 MessageRejected, MessageDiscarded, MessageHeld, MessageDeleted>;

// A one-line description for tests and debugging: "outcome qid=... rcpt=... status=sent ...".
std::string Describe(const LineFact& fact);

// Stateless, hence thread-compatible. Joining lines by queue id is correlate/'s job.
class LineParser {
 public:
  virtual ~LineParser() = default;
  // Unrelated{} for lines we don't track; InvalidArgument for a malformed tracked record.
  virtual absl::StatusOr<LineFact> Parse(const LogLine& line) const = 0;
};

}  // namespace mtrk::agent::parse
