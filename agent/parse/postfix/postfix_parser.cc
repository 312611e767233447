#include "agent/parse/postfix/postfix_parser.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "agent/parse/error_text.h"
#include "common/model/hop_event.h"

namespace mtrk::agent::parse {
namespace {

// What the parser does with a daemon's records.
enum class Daemon {
  kNotPostfix,
  kOther,
  kSmtpd,
  kCleanup,
  kPickup,
  kPostsuper,
  kQmgr,
  kBounce,
  kDeliveryAgent
};

template <size_t N>
bool Is(absl::string_view s, const char (&name)[N]) {
  return s.size() == N - 1 && std::memcmp(s.data(), name, N - 1) == 0;  // inlined: constant N
}

// The daemons of nearly every line, by length and a few byte compares; nullopt: ask DaemonOf's
// map. This runs for every line, and hashing the name was 2-3% of the agent's time (issue 8).
std::optional<Daemon> CommonDaemon(absl::string_view p) {
  switch (p.size()) {
    case 4:
      if (Is(p, "qmgr")) return Daemon::kQmgr;
      if (Is(p, "smtp") || Is(p, "lmtp")) return Daemon::kDeliveryAgent;
      break;
    case 5:
      if (Is(p, "smtpd")) return Daemon::kSmtpd;
      if (Is(p, "local")) return Daemon::kDeliveryAgent;
      break;
    case 6:
      if (Is(p, "bounce")) return Daemon::kBounce;
      if (Is(p, "pickup")) return Daemon::kPickup;
      break;
    case 7:
      if (Is(p, "cleanup")) return Daemon::kCleanup;
      if (Is(p, "virtual")) return Daemon::kDeliveryAgent;
      break;
    default:
      break;
  }
  return std::nullopt;
}

// Postfix's daemons and commands: a tag "<syslog_name>/<one of these>". Other programs that log
// with a slash (amavis/..., lightmeter/headers) are not Postfix, even with a queue id in the text.
// A hash map: this runs for every line (a linear search was a hot spot, issue 8).
Daemon DaemonOf(absl::string_view program) {
  if (const std::optional<Daemon> common = CommonDaemon(program)) return *common;
  static const absl::flat_hash_map<absl::string_view, Daemon>* const kDaemons = [] {
    auto* m = new absl::flat_hash_map<absl::string_view, Daemon>();
    for (absl::string_view p :
         {"oqmgr",     "defer",     "trace",           "postqueue",      "postdrop",   "sendmail",
          "master",    "anvil",     "scache",          "tlsmgr",         "tlsproxy",   "postscreen",
          "dnsblog",   "verify",    "trivial-rewrite", "proxymap",       "proxywrite", "showq",
          "flush",     "spawn",     "qmqpd",           "postfix-script", "postlog",    "postmap",
          "postalias", "postmulti", "postconf",        "postcat",        "postkick",   "postlock",
          "postfix",   "smtp-sink", "smtp-source",     "nqmgr"}) {
      m->emplace(p, Daemon::kOther);
    }
    // Delivery agents whose "to=" records are per-recipient outcomes (qmgr's too, below).
    for (absl::string_view p :
         {"smtp", "lmtp", "local", "virtual", "pipe", "error", "discard", "retry"}) {
      m->emplace(p, Daemon::kDeliveryAgent);
    }
    m->emplace("smtpd", Daemon::kSmtpd);
    m->emplace("cleanup", Daemon::kCleanup);
    m->emplace("pickup", Daemon::kPickup);
    m->emplace("postsuper", Daemon::kPostsuper);
    m->emplace("qmgr", Daemon::kQmgr);
    m->emplace("bounce", Daemon::kBounce);
    return m;
  }();
  const auto it = kDaemons->find(program);
  return it == kDaemons->end() ? Daemon::kNotPostfix : it->second;
}

constexpr size_t kMaxQueueIdBytes = 20;  // the long form's limit; see IsPostfixQueueId

absl::Status Malformed(absl::string_view program, absl::string_view why, absl::string_view text) {
  return absl::InvalidArgumentError(
      absl::StrCat("postfix: ", program, ": ", why, ": ", Quote(text)));
}

// Character classes of queue ids, by byte: short ids are upper-case hex; long ids use digits
// and consonants (no vowels), with 'z' between time and inode. A table, as every line's first
// word is tested (measured, issue 8).
constexpr uint8_t kShortIdChar = 1, kLongIdChar = 2;
constexpr std::array<uint8_t, 256> kIdChars = [] {
  std::array<uint8_t, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = kShortIdChar | kLongIdChar;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = kLongIdChar;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = kLongIdChar;
  for (int c = 'A'; c <= 'F'; ++c) t[c] |= kShortIdChar;
  for (char c : absl::string_view("AEIOUaeiou")) t[static_cast<uint8_t>(c)] &= ~kLongIdChar;
  return t;
}();

// "<addr>" at the start of *s, up to the '>' that ends the field (followed by ',', ' ' or the
// end), so a quoted local part holding '>' or ", " still parses. Consumes through the '>'.
std::optional<absl::string_view> TakeAngleAddressView(absl::string_view* s) {
  if (s->empty() || (*s)[0] != '<') return std::nullopt;
  size_t pos = 1;
  while (true) {
    const size_t close = s->find('>', pos);
    if (close == absl::string_view::npos) return std::nullopt;
    if (close + 1 == s->size() || (*s)[close + 1] == ',' || (*s)[close + 1] == ' ') {
      const absl::string_view addr = s->substr(1, close - 1);
      // Longer than a hop event may hold (model::ValidateHopEvent): a malformed line, not an
      // event the collector would reject.
      if (addr.size() > model::kMaxAddressBytes) return std::nullopt;
      s->remove_prefix(close + 1);
      return addr;
    }
    pos = close + 1;
  }
}

// The queue-id token after `marker` in text ("queued as 4jXwvs15pBz1bcHw)" -> the id).
absl::string_view IdAfter(absl::string_view text, absl::string_view marker) {
  const size_t at = text.find(marker);
  if (at == absl::string_view::npos) return "";
  absl::string_view rest = text.substr(at + marker.size());
  size_t n = 0;
  while (n < rest.size() && absl::ascii_isalnum(static_cast<unsigned char>(rest[n]))) ++n;
  const absl::string_view id = rest.substr(0, n);
  return IsPostfixQueueId(id) ? id : absl::string_view();
}

// Inline scans: the fields of a delivery record are short, and a call to memchr per field
// cost more than the scan (profile, issue 8).
size_t FindChar(absl::string_view s, char c) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == c) return i;
  }
  return absl::string_view::npos;
}

size_t FindCommaSpace(absl::string_view s) {
  for (size_t i = 0; i + 1 < s.size(); ++i) {
    if (s[i] == ',' && s[i + 1] == ' ') return i;
  }
  return absl::string_view::npos;
}

size_t FindColonSpace(absl::string_view s) {
  for (size_t i = 0; i + 1 < s.size(); ++i) {
    if (s[i] == ':' && s[i + 1] == ' ') return i;
  }
  return absl::string_view::npos;
}

// One left-to-right pass over "key=value, " fields; values, and the fact, are views into the line
// (no string per field, measured in issue 8). Keys are compared with Is (inlined, constant size):
// a memcmp call per comparison showed in the profile.
absl::StatusOr<LineFact> ParseOutcome(absl::string_view program, absl::string_view qid,
                                      absl::string_view rest, absl::string_view text) {
  absl::string_view to, orig_to, relay, dsn, status_word, diag;
  bool have_to = false, have_relay = false, have_dsn = false, have_status = false;
  while (!rest.empty()) {
    const size_t eq = FindChar(rest, '=');
    if (eq == absl::string_view::npos) return Malformed(program, "field without '='", text);
    const absl::string_view key = rest.substr(0, eq);
    rest.remove_prefix(eq + 1);
    if (Is(key, "status")) {
      // The last field: a word, then " (text)".
      const size_t sp = FindChar(rest, ' ');
      status_word = rest.substr(0, sp);
      diag = sp == absl::string_view::npos ? "" : rest.substr(sp + 1);
      if (absl::ConsumePrefix(&diag, "(")) absl::ConsumeSuffix(&diag, ")");
      diag = diag.substr(0, model::kMaxTextBytes);
      have_status = true;
      break;
    }
    absl::string_view value;
    if ((Is(key, "to") || Is(key, "orig_to")) && !rest.empty() && rest[0] == '<') {
      std::optional<absl::string_view> addr = TakeAngleAddressView(&rest);
      if (!addr) return Malformed(program, absl::StrCat("bad ", key, "= address"), text);
      value = *addr;
    } else {  // also a bare to=user@host, as old Postfix versions log it
      const size_t comma = FindCommaSpace(rest);
      value = rest.substr(0, comma);
      rest = comma == absl::string_view::npos ? "" : rest.substr(comma);
    }
    if (!absl::ConsumePrefix(&rest, ", ") && !rest.empty()) {
      return Malformed(program, absl::StrCat("no ', ' after ", key, "="), text);
    }
    if (Is(key, "to")) {
      to = value;
      have_to = true;
    } else if (Is(key, "orig_to")) {
      orig_to = value;
    } else if (Is(key, "relay")) {
      relay = value;
      have_relay = true;
    } else if (Is(key, "dsn")) {
      dsn = value;
      have_dsn = true;
    }  // delay=, delays=, conn_use= are not needed.
  }
  if (!have_to) return Malformed(program, "no to= in delivery record", text);
  if (!have_status) return Malformed(program, "no status= in delivery record", text);
  if (absl::StartsWith(status_word, "deliverable") ||
      absl::StartsWith(status_word, "undeliverable")) {
    return Unrelated{"verify-probe"};  // address verification probe, not a delivery
  }
  if (!have_relay) return Malformed(program, "no relay= in delivery record", text);
  if (relay.size() > model::kMaxHostBytes) return Malformed(program, "relay= too long", text);
  if (to.size() > model::kMaxAddressBytes || orig_to.size() > model::kMaxAddressBytes) {
    return Malformed(program, "to= or orig_to= too long", text);
  }
  if (!have_dsn) return Malformed(program, "no dsn= in delivery record", text);
  if (!model::IsEnhancedStatus(dsn)) return Malformed(program, "bad dsn=", text);
  DeliveryStatus status;
  if (Is(status_word, "sent")) {
    status = DeliveryStatus::kSent;
  } else if (Is(status_word, "deferred")) {
    status = DeliveryStatus::kDeferred;
  } else if (Is(status_word, "bounced")) {
    status = DeliveryStatus::kBounced;
  } else if (Is(status_word, "expired")) {
    status = DeliveryStatus::kExpired;
  } else {
    return Malformed(program, "unknown status=", text);
  }
  if (to.empty()) return Malformed(program, "empty to=", text);
  absl::string_view next_queue_id;
  bool forwarded = false;
  if (status == DeliveryStatus::kSent) {
    next_queue_id = IdAfter(diag, "forwarded as ");
    forwarded = !next_queue_id.empty();
    if (!forwarded) next_queue_id = IdAfter(diag, "queued as ");
  }
  // Built whole, in one expression: a default-constructed one was zeroed first (rep stos,
  // profile, issue 8).
  return RecipientOutcome{.queue_id = qid,
                          .agent = program,
                          .recipient = to,
                          .orig_recipient = orig_to,
                          .relay = relay,
                          .dsn = dsn,
                          .status = status,
                          .diagnostic = diag,
                          .next_queue_id = next_queue_id,
                          .forwarded = forwarded};
}

// qmgr "from=<s>, size=N, nrcpt=N (queue active)" or "from=<s>, status=expired, returned...".
absl::StatusOr<LineFact> ParseQmgrFrom(absl::string_view qid, absl::string_view rest,
                                       absl::string_view text) {
  const std::optional<absl::string_view> sender = TakeAngleAddressView(&rest);
  if (!sender || !absl::ConsumePrefix(&rest, ", ")) {
    return Malformed("qmgr", "bad from= address", text);
  }
  if (absl::ConsumePrefix(&rest, "status=")) {
    const bool forced = absl::StartsWith(rest, "force-expired,");
    if (!forced && !absl::StartsWith(rest, "expired,")) {
      return Malformed("qmgr", "unknown message status=", text);
    }
    return MessageExpired{qid, *sender, forced};
  }
  MessageQueued queued{qid, *sender};
  if (!absl::ConsumePrefix(&rest, "size=")) return Malformed("qmgr", "no size=", text);
  const size_t comma = rest.find(", nrcpt=");
  if (comma == absl::string_view::npos || !absl::SimpleAtoi(rest.substr(0, comma), &queued.size)) {
    return Malformed("qmgr", "bad size=", text);
  }
  rest.remove_prefix(comma + 8);
  const size_t end = rest.find(' ');
  if (!absl::SimpleAtoi(rest.substr(0, end), &queued.nrcpt)) {
    return Malformed("qmgr", "bad nrcpt=", text);
  }
  return queued;
}

// cleanup "info: header X-MTRK: <value> from <client>; from=<s> to=<r> ...: <text>", with rest
// positioned after "info: header ". Other headers are Unrelated.
absl::StatusOr<LineFact> ParseHeaderInfo(absl::string_view qid, absl::string_view rest,
                                         absl::string_view text) {
  constexpr absl::string_view kName = "X-MTRK:";
  if (rest.size() < kName.size() || !absl::EqualsIgnoreCase(rest.substr(0, kName.size()), kName)) {
    return Unrelated{"info"};
  }
  rest.remove_prefix(kName.size());
  // The logged value ends at " from <client>" right before "; from=<"; the client is a single
  // token ("host[ip]" or "local"), which tells Postfix's suffix from look-alikes in the value.
  absl::string_view value;
  bool found = false;
  for (size_t at = rest.find("; from=<"); at != absl::string_view::npos;
       at = rest.find("; from=<", at + 1)) {
    const size_t from = rest.rfind(" from ", at);
    if (from == absl::string_view::npos) continue;
    const absl::string_view client = rest.substr(from + 6, at - from - 6);
    if (client.empty() || client.find(' ') != absl::string_view::npos) continue;
    value = rest.substr(0, from);
    found = true;
    break;
  }
  if (!found) return Malformed("cleanup", "X-MTRK header without Postfix's client suffix", text);
  absl::StatusOr<TrackingHeader> header = ParseTrackingHeaderValue(value);
  if (!header.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("postfix: cleanup: ", header.status().message()));
  }
  return TrackingHeaderSeen{qid, *std::move(header)};
}

// Lines a delivery agent logs about an attempt, before or instead of the record with to=.
constexpr absl::string_view kAttemptNotes[] = {
    "enabling PIX workarounds",
    "lost connection with ",
    "conversation with ",
    "host ",
    "Cannot start TLS",
    "TLS is required",
    "breaking line",
    "server certificate",
    "replace: header",
    "prepend: header",
    "warning: ",
    "sender delivery status notification",
    "SASL authentication failed",
};

// The address after `field` ("from=<", "to=<") in the "; from=<s> to=<r> proto=..." suffix of
// an smtpd/cleanup action record.
absl::string_view LoggedAddress(absl::string_view rest, absl::string_view field) {
  const size_t from = rest.rfind("; from=<");
  if (from == absl::string_view::npos) return {};
  const size_t at = rest.find(field, from);
  if (at == absl::string_view::npos) return {};
  absl::string_view addr = rest.substr(at + field.size() - 1);
  return TakeAngleAddressView(&addr).value_or(absl::string_view());
}

// smtpd/cleanup "QID: <action>: <stage> ...", the records of access(5) maps, header/body_checks
// and milters. Stages before DATA concern one command (e.g. one RCPT): the message goes on.
absl::StatusOr<LineFact> ParseAccessAction(absl::string_view qid, absl::string_view rest) {
  const size_t colon = rest.find(": ");
  if (colon == absl::string_view::npos) return Unrelated{kUnrecognised};
  absl::string_view action = rest.substr(0, colon);
  const absl::string_view detail = rest.substr(colon + 2);
  const bool milter = absl::ConsumePrefix(&action, "milter-");
  const absl::string_view stage = detail.substr(0, detail.find(' '));
  const bool per_command = stage == "CONNECT" || stage == "HELO" || stage == "EHLO" ||
                           stage == "MAIL" || stage == "RCPT" || stage == "VRFY" || stage == "ETRN";
  const absl::string_view reason = detail.substr(0, model::kMaxTextBytes);
  if (action == "reject") {
    if (per_command) return Unrelated{"rcpt-reject"};
    return MessageRejected{qid, reason};
  }
  if (action == "discard") {
    return MessageDiscarded{qid, LoggedAddress(detail, " to=<"), reason,
                            LoggedAddress(detail, "; from=<")};
  }
  if (action == "hold") {
    return MessageHeld{qid, LoggedAddress(detail, " to=<"), reason, false,
                       LoggedAddress(detail, "; from=<")};
  }
  if (milter) return Unrelated{"milter-action"};
  if (action == "redirect") return Unrelated{"redirect"};  // later records show orig_to=
  if (action == "filter") return Unrelated{"filter"};
  if (action == "warning") return Unrelated{"warning"};
  if (action == "info") return Unrelated{"info"};
  if (action == "replace" || action == "prepend" || action == "bcc" || action == "dunno") {
    return Unrelated{"header-edit"};
  }
  return Unrelated{kUnrecognised};
}

}  // namespace

bool IsPostfixQueueId(absl::string_view s) {
  if (s.size() < 6 || s.size() > kMaxQueueIdBytes) return false;
  uint8_t all = kShortIdChar | kLongIdChar;
  bool z = false;
  for (char c : s) {
    all &= kIdChars[static_cast<uint8_t>(c)];
    z |= c == 'z';
  }
  if ((all & kShortIdChar) != 0 && s.size() <= 15) return true;  // hex microseconds + inode
  return (all & kLongIdChar) != 0 && s.size() >= 12 && z;
}

absl::StatusOr<LineFact> PostfixParser::Parse(const LogLine& line) const {
  // "<instance>/<daemon>": without a slash, or with nothing before it ("/virtual"), no Postfix
  // instance wrote the line, and the instance is part of every message key.
  const absl::string_view instance = InstanceName(line.program);
  if (instance.size() == line.program.size() || instance.empty()) {
    return Unrelated{"not-postfix"};
  }
  const absl::string_view program = ProgramName(line.program);
  const Daemon daemon = DaemonOf(program);
  if (daemon == Daemon::kNotPostfix) return Unrelated{"not-postfix"};
  const absl::string_view text = line.text;
  // The queue id (at most 20 characters) or NOQUEUE ends at the first ": ". Searching only
  // where it can end gives the same answer ("no-queue-id" either way) without scanning the
  // whole of, e.g., every "connect from" line.
  const size_t colon = FindColonSpace(text.substr(0, kMaxQueueIdBytes + 2));
  if (colon == absl::string_view::npos) return Unrelated{"no-queue-id"};
  const absl::string_view head = text.substr(0, colon);
  if (head == "NOQUEUE") {
    // Refused before a queue file existed: the client got the answer, nothing to track.
    const absl::string_view rest = text.substr(colon + 2);
    return Unrelated{absl::StrContains(rest.substr(0, 20), "reject") ? "noqueue-reject"
                                                                     : "noqueue"};
  }
  if (!IsPostfixQueueId(head)) return Unrelated{"no-queue-id"};
  const absl::string_view qid = head;
  absl::string_view rest = text.substr(colon + 2);

  switch (daemon) {
    case Daemon::kSmtpd:
      if (absl::ConsumePrefix(&rest, "client=")) {
        // Later Postfix versions append ", sasl_method=...", ", orig_queue_id=..." etc.
        const absl::string_view client = rest.substr(0, FindCommaSpace(rest));
        if (client.empty()) return Malformed(program, "empty client=", text);
        if (client.size() > model::kMaxHostBytes)
          return Malformed(program, "client= too long", text);
        return MessageReceived{qid, client, {}};
      }
      return ParseAccessAction(qid, rest);
    case Daemon::kCleanup: {
      const bool resent = absl::ConsumePrefix(&rest, "resent-");
      if (absl::ConsumePrefix(&rest, "message-id=")) {
        absl::string_view id = rest.substr(0, FindChar(rest, ' '));
        if (absl::StartsWith(id, "<") && absl::EndsWith(id, ">")) {
          id.remove_prefix(1);
          id.remove_suffix(1);
        }
        if (id.size() > model::kMaxMessageIdBytes) {
          return Malformed(program, "message-id= too long", text);
        }
        return MessageIdSeen{qid, id, resent};
      }
      if (resent) return Unrelated{kUnrecognised};
      if (absl::ConsumePrefix(&rest, "info: header ")) return ParseHeaderInfo(qid, rest, text);
      return ParseAccessAction(qid, rest);
    }
    case Daemon::kPickup: {
      if (!absl::StartsWith(rest, "uid=")) return Unrelated{kUnrecognised};
      const size_t from = rest.find(" from=");
      if (from == absl::string_view::npos) return Malformed(program, "no from=", text);
      absl::string_view addr = rest.substr(from + 6);
      const std::optional<absl::string_view> sender = TakeAngleAddressView(&addr);
      if (!sender) return Malformed(program, "bad from= address", text);
      return MessageReceived{qid, "local", *sender};
    }
    case Daemon::kPostsuper:
      if (rest == "removed") return MessageDeleted{qid};
      if (rest == "placed on hold") {
        return MessageHeld{qid, {}, "placed on hold by the administrator", true, {}};
      }
      // The records qmgr logs afterwards tell what happens to these.
      if (rest == "released from hold") return Unrelated{"released"};
      if (rest == "requeued") return Unrelated{"requeued"};
      if (rest == "expired") return Unrelated{"expire-requested"};
      return Unrelated{kUnrecognised};
    case Daemon::kQmgr:
      if (Is(rest, "removed")) return MessageRemoved{qid};
      if (absl::ConsumePrefix(&rest, "from=")) return ParseQmgrFrom(qid, rest, text);
      if (absl::StartsWith(rest, "to=")) return ParseOutcome(program, qid, rest, text);
      if (absl::StartsWith(rest, "skipped, still being delivered")) return Unrelated{"skipped"};
      return Unrelated{kUnrecognised};
    case Daemon::kBounce: {
      constexpr absl::string_view kMarker = " notification: ";
      const size_t at = rest.find(kMarker);
      if (at == absl::string_view::npos) return Unrelated{kUnrecognised};
      const absl::string_view new_qid = rest.substr(at + kMarker.size());
      if (!IsPostfixQueueId(new_qid)) {
        return Malformed(program, "bad notification queue id", text);
      }
      return NotificationQueued{qid, new_qid, rest.substr(0, at)};
    }
    case Daemon::kDeliveryAgent:
      if (absl::StartsWith(rest, "to=")) return ParseOutcome(program, qid, rest, text);
      // Notes about one delivery attempt; its to= record follows and carries the outcome.
      for (absl::string_view note : kAttemptNotes) {
        if (absl::StartsWith(rest, note)) return Unrelated{"attempt-note"};
      }
      return Unrelated{kUnrecognised};
    case Daemon::kOther:
    case Daemon::kNotPostfix:
      break;
  }
  return Unrelated{kUnrecognised};
}

std::unique_ptr<LineParser> NewPostfixParser() { return std::make_unique<PostfixParser>(); }

}  // namespace mtrk::agent::parse
