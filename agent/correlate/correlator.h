// Correlator: joins one MTA's facts by message key (host, instance, queue id) and turns
// per-recipient outcomes into model::HopEvent (RFC 3886 §3.3), with ComputeEventId set.
//
// Pure: no I/O and no clock; every time comes from a log line. Not thread-safe (one per input).
//
// Mapping (DIGEST §3, "Action values and what a log can prove"):
//   status=sent, local/virtual/pipe/discard/other agents  -> delivered, status as logged.
//     discard(8) accepted responsibility and chose to drop, as a mailbox would (RFC 3886 §4.2
//     allows "delivered" for what the MTA does not reveal).
//   status=sent, smtp to a tracked next hop (host or IP)  -> transferred, status as logged.
//   status=sent, smtp to any other host                   -> relayed, 2.1.9 (RFC 3886 §3.3.4).
//   status=sent, lmtp: tracked next hop -> transferred; otherwise delivered (LMTP is the final
//     hand-off to a mailbox store).
//   status=sent, local "forwarded as NEWQID"              -> expanded; NEWQID is an expansion
//     child whose deliveries are members (XXX: a one-address .forward is tracked no further,
//     which hides nothing but loses the trail; RFC 3885 §3.3 would allow one primary address).
//   status=deferred  -> delayed, emitted at once, will_retry_until = queue first seen +
//     max_queue_lifetime. If orig_to= differs from to=, the event names orig_to= as final
//     recipient: the address may turn out to be a list member, which must never be shown.
//   status=bounced|expired, or the message expired (qmgr) -> failed; after a message expiry the
//     last deferral's status and diagnostic are used (4.x.x is allowed, RFC 3464 §2.3.3).
// Admin and policy actions (DIGEST §3; the client of a refused message got the reply itself):
//   reject after DATA (header/body_checks, milter, access) -> no event; the message is forgotten.
//   DISCARD (header/body_checks, milter, access)   -> delivered 2.0.0 for the recipient the line
//     names (only the first one is logged), like discard(8): the MTA accepted responsibility and
//     chose to drop, which RFC 3886 §4.2 lets it report as delivered.
//   HOLD (header/body_checks, milter, access)      -> delayed 4.0.0 for the named recipient, with
//   no
//     Will-Retry-Until (held mail is not retried until released); release shows in later records.
//   postsuper -h (placed on hold)                  -> delayed 4.0.0 again for each recipient known
//     to be deferred.
//   postsuper -d (deleted)                         -> failed for each recipient still deferred or
//     held, status as last logged, diagnostic "deleted by the administrator (postsuper -d)".
// Bounce(8) notifications (non-delivery, delay, success): the notification is a new message,
// not a hop of the original; its events carry client "bounce:<original queue id>" (like pickup's
// "local"), which links them to the message they report on. bounce(8) may log that line after
// the notification was already delivered and removed, so a removed message with no client and
// the null sender waits up to kNotificationGrace (log time) for it before its events go out.
// remote_mta is the host part of relay= ("127.0.0.2" of "127.0.0.2[127.0.0.2]:2526"); it is
// empty for local delivery agents (relay=local, virtual, none).
//
// Expansion (RFC 3885 §3.3, RFC 3886 §4.2; checklist 26/27): terminal outcomes are buffered until
// the message is removed. If two or more distinct final recipients share one orig_to=, one event
// action=expanded (final = original = the orig_to address, status 2.0.0, certifier kept) replaces
// them, and each member gets an event with expansion_member=true and NO envid/certifier/timeout.
// Members never inherit the certifier.
//
// XXX: a forward child that is delivered and removed before local(8) logs "forwarded as" would
// be reported as an ordinary message (Postfix logs the forward first in practice). Messages that
// are never removed (cleanup reject/discard, client QUIT) stay open until Flush or EvictIdle.
//
// A queue id seen again with client= (smtpd) or uid= (pickup) while still open starts a new
// message: Postfix reuses short queue ids (inode numbers), and a lost "removed" line must not
// merge two messages. The old one is flushed first.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "agent/parse/line_parser.h"
#include "common/model/hop_event.h"

namespace mtrk::agent::correlate {

inline constexpr absl::Duration kNotificationGrace = absl::Seconds(5);

struct CorrelatorOptions {
  // Reporting-MTA FQDN (RFC 3464 §2.2.2); empty: the syslog host name of each line.
  std::string reporting_mta;
  // Next hops that run their own mtrk agent or MTQP server: relay host names (lower case) or IP
  // addresses, any port; or "host:port" / "ip:port" for that port only (one host may also run a
  // listener that is not tracked). Deliveries to them are "transferred", to anything else
  // "relayed".
  absl::flat_hash_set<std::string> tracked_next_hops;
  // Postfix maximal_queue_lifetime (default 5d): how long a deferred message may still be retried.
  absl::Duration max_queue_lifetime = absl::Hours(5 * 24);
};

struct CorrelatorStats {
  int64_t messages = 0;          // message keys opened
  int64_t reused_queue_ids = 0;  // client=/uid= for a key still open
  int64_t expansions = 0;        // expanded events (orig_to groups and local forwards)
  int64_t notifications = 0;     // bounce/delay notifications linked to a message
  int64_t rejected = 0;          // refused after DATA: forgotten without events
  int64_t discarded = 0;
  int64_t held = 0;
  int64_t deleted = 0;
  int64_t events = 0;
  int64_t text_repaired = 0;  // events with text from lines that was not UTF-8 (or held NUL)
};

class Correlator {
 public:
  explicit Correlator(CorrelatorOptions options);

  // Feeds one parsed line; returns the events it completes (often none). `position` is where the
  // line starts in its input (any monotonically increasing number): see OldestOpenPosition.
  // The fact's views (into the line's buffer) are used only during the call: what the message
  // keeps is copied, so the caller may reuse the buffer as soon as Add returns.
  std::vector<model::HopEvent> Add(const parse::LogLine& line, const parse::LineFact& fact,
                                   uint64_t position = 0);
  // As above, appending the events to *out (no vector per line: the agent's hot path).
  void Add(const parse::LogLine& line, const parse::LineFact& fact, uint64_t position,
           std::vector<model::HopEvent>* out);

  // The position of the first line of the oldest message still open, or nullopt if none is.
  // A checkpoint must not pass it: replaying from there rebuilds every open message after a
  // restart, and the events already sent come out with the same ids (the collector drops them).
  std::optional<uint64_t> OldestOpenPosition() const;
  // The same line, with its log time (the message's first_seen): where a replay starts, and
  // when.
  struct OpenLine {
    uint64_t position = 0;
    absl::Time time;
  };
  std::optional<OpenLine> OldestOpenLine() const;

  // End of input: emits the buffered outcomes of every open message (delayed events have already
  // been emitted) and forgets them.
  std::vector<model::HopEvent> Flush();

  // For tailing: emits (as Flush does) and forgets every message that has had no line for `idle`
  // up to `now` (a log time, e.g. the latest line's, or the wall clock while the log is quiet).
  // Messages that are never removed (cleanup reject/discard, lost "removed" lines) thus end.
  std::vector<model::HopEvent> EvictIdle(absl::Time now, absl::Duration idle);

  size_t open_messages() const { return messages_.size(); }
  const CorrelatorStats& stats() const { return stats_; }

 private:
  using Key = std::tuple<std::string, std::string, std::string>;  // host, instance, queue id
  // For lookups without building a Key (three allocations per line otherwise).
  using KeyView = std::tuple<std::string_view, std::string_view, std::string_view>;
  static KeyView ViewOf(const parse::LogLine& line, absl::string_view queue_id);
  // Hashes and compares Key and KeyView alike (as string views), so lookups need no Key. A hash
  // map: the ordered map it replaced showed in the profile (issue 8); Flush and EvictIdle sort
  // what they emit, so the output order is still by key. Only the queue id is hashed: it tells
  // messages apart nearly always (hosts and instances are few), and hashing all three
  // strings showed in the profile (issue 8); KeyEq compares all three.
  struct KeyHash {
    using is_transparent = void;
    template <typename A>
    size_t operator()(const A& a) const {
      return absl::Hash<absl::string_view>{}(View(std::get<2>(a)));
    }
  };
  struct KeyEq {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return View(std::get<2>(a)) == View(std::get<2>(b)) &&
             View(std::get<0>(a)) == View(std::get<0>(b)) &&
             View(std::get<1>(a)) == View(std::get<1>(b));
    }
  };
  static absl::string_view View(std::string_view s) {
    return absl::string_view(s.data(), s.size());
  }

  // A parse::RecipientOutcome kept past its line: owned copies of the fact's views.
  struct KeptOutcome {
    std::string agent;
    std::string recipient;
    std::string orig_recipient;
    std::string relay;
    std::string dsn;
    parse::DeliveryStatus status = parse::DeliveryStatus::kSent;
    std::string diagnostic;
    std::string next_queue_id;
    bool forwarded = false;
    static KeptOutcome Of(const parse::RecipientOutcome& f);
  };

  struct Outcome {
    KeptOutcome fact;
    absl::Time time;
    absl::Time last_attempt;  // differs from `time` for a failure synthesised at expiry
    bool held = false;        // in the hold queue: no Will-Retry-Until
  };

  struct Message {
    // Not `= default`: make_unique<Message>() would zero it before the members' own initialisers
    // run (profile, issue 8).
    Message() {}  // NOLINT(modernize-use-equals-default)
    // The map key views these three: set once when the message opens, never changed after
    // (the Message is heap-allocated, so even short, in-object strings keep their address).
    std::string host;
    std::string instance;
    std::string queue_id;
    absl::Time first_seen;
    absl::Time last_seen = absl::InfinitePast();  // of its latest line, for EvictIdle
    uint64_t first_position = 0;                  // of the line that opened it
    std::string client;
    std::string notification_of;  // queue id this bounce(8) notification reports on
    std::string sender;
    std::string message_id;
    std::optional<parse::TrackingHeader> tracking;
    bool expansion_child = false;  // made by a local(8) forward to an alias: all are members
    // No line that gave it text had a byte outside 0x01..0x7F (LogLine::plain_text): its events
    // need no repair into UTF-8, which Seal then skips (checking every event cost 5%, issue 8).
    bool plain_text = true;
    std::optional<absl::Time> removed_at;  // removed, waiting for its bounce(8) line
    // Buffered until removed. Inline room for one: most messages have one recipient, and the
    // Message is on the heap anyway (one allocation fewer per message, issue 8).
    absl::InlinedVector<Outcome, 1> terminal;
    std::map<std::string, Outcome> deferred;  // recipient -> latest deferral, cleared when final
  };

  Message& Open(const parse::LogLine& line, absl::string_view queue_id);
  // Emits a message's buffered outcomes. The caller forgets the message right after: its strings
  // move into the events.
  void Finish(Message& m, std::vector<model::HopEvent>* out);
  // Finishes and forgets the messages `pick` selects, in key order (deterministic output).
  template <typename Pick>
  void FinishAll(Pick pick, std::vector<model::HopEvent>* out);
  // Which strings an event may take instead of copying: none, the outcome's, or also the
  // message's (the last event of a finished message).
  enum class Last { kNo, kOfOutcome, kOfMessage };
  // Events are filled in place in the caller's vector (no HopEvent moves, issue 8).
  void Base(Message& m, bool member, bool last, model::HopEvent& e) const;
  void FromOutcome(Message& m, Outcome& o, bool member, Last last, model::HopEvent& e) const;
  // Appends the outcome's event to *out, sealed.
  void EmitOutcome(Message& m, Outcome& o, bool member, Last last,
                   std::vector<model::HopEvent>* out);
  // Repairs the event's text into UTF-8 unless the message is plain_text, fits the status to
  // the action, sets the event id and counts the event.
  void Seal(const Message& m, model::HopEvent& e);
  // Every recipient still deferred or held fails now (expiry, deletion).
  void FailDeferred(Message& m, absl::Time now, const std::string* diagnostic);

  CorrelatorOptions options_;
  // Keys are views into their Message's own host/instance/queue_id: no key strings to build or
  // free per message (issue 8). Messages are heap-allocated: Add holds a Message& across Open
  // calls, which may rehash the map.
  absl::flat_hash_map<KeyView, std::unique_ptr<Message>, KeyHash, KeyEq> messages_;
  CorrelatorStats stats_;
  uint64_t current_position_ = 0;                           // of the line being added
  std::deque<std::pair<absl::Time, Key>> awaiting_origin_;  // removed notifications, by time
};

}  // namespace mtrk::agent::correlate
