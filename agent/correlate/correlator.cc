#include "agent/correlate/correlator.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/model/log_text.h"

namespace mtrk::agent::correlate {
namespace {

using parse::DeliveryStatus;

void Assign(std::string* s, absl::string_view v) { s->assign(v.data(), v.size()); }

struct Relay {
  std::string host;        // "127.0.0.2", "mx.example.net"; empty for none/local/virtual
  absl::string_view ip;    // views into the relay= value
  absl::string_view port;  // "2526"; empty when not logged
};

// relay= "host[ip]:port" (smtp/lmtp), or a transport name without brackets.
Relay ParseRelay(absl::string_view relay) {
  const size_t open = relay.find('[');
  if (open == absl::string_view::npos) return {};
  const size_t close = relay.find(']', open);
  Relay r;
  const absl::string_view host = relay.substr(0, open);
  Assign(&r.host, host);
  for (char& c : r.host) c = absl::ascii_tolower(static_cast<unsigned char>(c));
  if (close != absl::string_view::npos) {
    r.ip = relay.substr(open + 1, close - open - 1);
    if (close + 1 < relay.size() && relay[close + 1] == ':') r.port = relay.substr(close + 2);
  }
  if (r.host.empty()) Assign(&r.host, r.ip);
  return r;
}

// The status class must fit the action (RFC 3886 §3.3.3 table, DIGEST §3): a log line whose dsn=
// contradicts its status= word (never from a sane Postfix, but logs are untrusted input) gets the
// action's generic code rather than an event the collector would refuse.
void FitStatus(model::DsnAction action, std::string* status) {
  const char cls = status->empty() ? '\0' : (*status)[0];
  switch (action) {
    case model::DsnAction::kRelayed:
      *status = "2.1.9";
      return;
    case model::DsnAction::kDelivered:
    case model::DsnAction::kTransferred:
    case model::DsnAction::kExpanded:
      if (cls != '2' || *status == "2.1.9") *status = "2.0.0";
      return;
    case model::DsnAction::kDelayed:
      if (cls != '4') *status = "4.0.0";
      return;
    case model::DsnAction::kFailed:
      if (cls != '4' && cls != '5') *status = "5.0.0";
      return;
    default:
      return;
  }
}

// A recipient outcome the MTA logged without a delivery attempt (header_checks DISCARD, HOLD):
// no relay, the action's generic status, the reason as diagnostic. The parser cuts a reason to
// model::kMaxTextBytes, and the callers prefix it ("held: "), so it is cut again here: an event
// the collector would reject must never be built (found by a long correlator fuzz run).
parse::RecipientOutcome NoAttemptOutcome(const parse::LogLine& line, absl::string_view queue_id,
                                         absl::string_view recipient, absl::string_view dsn,
                                         DeliveryStatus status, absl::string_view diagnostic) {
  parse::RecipientOutcome o;
  o.queue_id = queue_id;
  o.agent = parse::ProgramName(line.program);
  o.recipient = recipient;
  o.relay = "none";
  o.dsn = dsn;
  o.status = status;
  o.diagnostic = diagnostic.substr(0, model::kMaxTextBytes);
  return o;
}

}  // namespace

Correlator::Correlator(CorrelatorOptions options) : options_(std::move(options)) {}

Correlator::KeptOutcome Correlator::KeptOutcome::Of(const parse::RecipientOutcome& f) {
  const auto copy = [](absl::string_view v) { return std::string(v.data(), v.size()); };
  return KeptOutcome{copy(f.agent),      copy(f.recipient),     copy(f.orig_recipient),
                     copy(f.relay),      copy(f.dsn),           f.status,
                     copy(f.diagnostic), copy(f.next_queue_id), f.forwarded};
}

Correlator::KeyView Correlator::ViewOf(const parse::LogLine& line, absl::string_view queue_id) {
  const absl::string_view instance = parse::InstanceName(line.program);
  return KeyView(std::string_view(line.host.data(), line.host.size()),
                 std::string_view(instance.data(), instance.size()),
                 std::string_view(queue_id.data(), queue_id.size()));
}

Correlator::Message& Correlator::Open(const parse::LogLine& line, absl::string_view queue_id) {
  auto it = messages_.find(ViewOf(line, queue_id));
  if (it == messages_.end()) {
    auto m = std::make_unique<Message>();
    Assign(&m->host, line.host);
    Assign(&m->instance, parse::InstanceName(line.program));
    Assign(&m->queue_id, queue_id);
    m->first_seen = line.time;
    m->first_position = current_position_;
    ++stats_.messages;
    const KeyView key(m->host, m->instance, m->queue_id);
    it = messages_.emplace(key, std::move(m)).first;
  }
  Message& m = *it->second;
  m.last_seen = std::max(m.last_seen, line.time);
  m.plain_text &= line.plain_text;  // every line that gives a message text opens it
  return m;
}

void Correlator::Base(Message& m, bool member, bool last, model::HopEvent& e) const {
  e.reporting_host = m.host;
  e.reporting_mta = options_.reporting_mta.empty() ? m.host : options_.reporting_mta;
  e.mta_instance = m.instance;
  e.queue_id = m.queue_id;
  e.queue_first_seen = m.first_seen;
  e.arrival_time = m.first_seen;
  // The message's last event takes its strings: the message is forgotten right after.
  const auto take = [last](std::string& s) { return last ? std::move(s) : s; };
  e.message_id = take(m.message_id);
  e.sender = take(m.sender);
  e.client = m.notification_of.empty() || !m.client.empty() ? take(m.client)
                                                            : "bounce:" + m.notification_of;
  e.expansion_member = member;
  if (!member && m.tracking) {  // RFC 3885 §3.3: members never inherit the certifier
    e.envid = m.tracking->envid;
    e.certifier = m.tracking->certifier;
    e.mtrk_timeout_s = m.tracking->timeout_s;
  }
}

void Correlator::FromOutcome(Message& m, Outcome& o, bool member, Last last,
                             model::HopEvent& e) const {
  KeptOutcome& f = o.fact;
  Base(m, member || m.expansion_child, last == Last::kOfMessage, e);
  // Decided before f.relay may move into the event: `relay` views it.
  Relay relay = ParseRelay(f.relay);
  const auto& hops = options_.tracked_next_hops;
  const bool tracked =
      !relay.host.empty() && !hops.empty() &&
      (hops.contains(relay.host) || hops.contains(relay.ip) ||
       (!relay.port.empty() && (hops.contains(absl::StrCat(relay.host, ":", relay.port)) ||
                                hops.contains(absl::StrCat(relay.ip, ":", relay.port)))));
  // The outcome's (or message's) last use moves its strings into the event (fewer allocations,
  // measured in issue 8).
  const bool take = last != Last::kNo;
  e.original_recipient = f.orig_recipient.empty() ? f.recipient : f.orig_recipient;
  e.final_recipient = take ? std::move(f.recipient) : f.recipient;
  e.relay = take ? std::move(f.relay) : f.relay;
  e.diagnostic = take ? std::move(f.diagnostic) : f.diagnostic;
  e.status = f.dsn;
  e.last_attempt_time = o.last_attempt;
  e.event_time = o.time;
  switch (f.status) {
    case DeliveryStatus::kDeferred:
      e.action = model::DsnAction::kDelayed;
      if (!o.held) e.will_retry_until = m.first_seen + options_.max_queue_lifetime;
      if (!e.expansion_member && !f.orig_recipient.empty()) {
        e.final_recipient = f.orig_recipient;  // may be a list member: never show it
      }
      break;
    case DeliveryStatus::kBounced:
    case DeliveryStatus::kExpired:
      e.action = model::DsnAction::kFailed;
      break;
    case DeliveryStatus::kSent: {
      e.next_queue_id = take ? std::move(f.next_queue_id) : f.next_queue_id;
      if (f.forwarded) {
        e.action = model::DsnAction::kExpanded;
      } else if (f.agent == "smtp") {
        e.action = tracked ? model::DsnAction::kTransferred : model::DsnAction::kRelayed;
        if (!tracked) e.status = "2.1.9";  // RFC 3886 §3.3.4: relayed to a non-compliant MTA
      } else if (f.agent == "lmtp" && tracked) {
        e.action = model::DsnAction::kTransferred;
      } else {
        e.action = model::DsnAction::kDelivered;
      }
      break;
    }
  }
  e.remote_mta = std::move(relay.host);
}

void Correlator::EmitOutcome(Message& m, Outcome& o, bool member, Last last,
                             std::vector<model::HopEvent>* out) {
  model::HopEvent& e = out->emplace_back();
  FromOutcome(m, o, member, last, e);
  Seal(m, e);
}

void Correlator::Seal(const Message& m, model::HopEvent& e) {
  // Before the id, so that the id is over the text the collector stores.
  if (!m.plain_text && model::RepairHopEventText(&e)) ++stats_.text_repaired;
  FitStatus(e.action, &e.status);
  e.event_id = model::ComputeEventId(e);
  ++stats_.events;
}

void Correlator::Finish(Message& m, std::vector<model::HopEvent>* out) {
  const size_t n = m.terminal.size();
  const auto last = [n](size_t i) { return i + 1 == n ? Last::kOfMessage : Last::kOfOutcome; };
  if (m.expansion_child) {
    for (size_t i = 0; i < n; ++i) {
      EmitOutcome(m, m.terminal[i], /*member=*/true, last(i), out);
    }
    return;
  }
  // orig_to -> distinct final recipients: two or more means an alias or list expansion.
  std::map<std::string, std::set<std::string>> by_orig;
  for (const Outcome& o : m.terminal) {
    if (!o.fact.orig_recipient.empty()) {
      by_orig[o.fact.orig_recipient].insert(o.fact.recipient);
    }
  }
  std::set<std::string> expanded;  // groups whose expanded event went out
  for (size_t i = 0; i < n; ++i) {
    Outcome& o = m.terminal[i];
    const std::string& orig = o.fact.orig_recipient;
    const auto group = by_orig.find(orig);
    if (orig.empty() || group == by_orig.end() || group->second.size() < 2) {
      if (o.fact.forwarded) ++stats_.expansions;
      EmitOutcome(m, o, /*member=*/false, last(i), out);
      continue;
    }
    if (expanded.insert(orig).second) {
      model::HopEvent& e = out->emplace_back();
      Base(m, /*member=*/false, /*last=*/false, e);
      e.original_recipient = orig;
      e.final_recipient = orig;
      e.action = model::DsnAction::kExpanded;
      e.status = "2.0.0";
      e.last_attempt_time = o.time;
      e.event_time = o.time;
      ++stats_.expansions;
      Seal(m, e);
    }
    EmitOutcome(m, o, /*member=*/true, last(i), out);
  }
}

void Correlator::FailDeferred(Message& m, absl::Time now, const std::string* diagnostic) {
  for (auto& [rcpt, o] : m.deferred) {
    Outcome failed = o;
    failed.fact.status = DeliveryStatus::kExpired;
    failed.held = false;
    failed.time = now;  // the attempt stays the last deferral's
    if (diagnostic != nullptr) failed.fact.diagnostic = *diagnostic;
    m.terminal.push_back(std::move(failed));
  }
  m.deferred.clear();
}

std::optional<uint64_t> Correlator::OldestOpenPosition() const {
  const std::optional<OpenLine> oldest = OldestOpenLine();
  return oldest ? std::optional<uint64_t>(oldest->position) : std::nullopt;
}

std::optional<Correlator::OpenLine> Correlator::OldestOpenLine() const {
  std::optional<OpenLine> oldest;
  for (const auto& [key, m] : messages_) {
    if (!oldest || m->first_position < oldest->position) {
      oldest = OpenLine{.position = m->first_position, .time = m->first_seen};
    }
  }
  return oldest;
}

std::vector<model::HopEvent> Correlator::Add(const parse::LogLine& line,
                                             const parse::LineFact& fact, uint64_t position) {
  std::vector<model::HopEvent> out;
  Add(line, fact, position, &out);
  return out;
}

void Correlator::Add(const parse::LogLine& line, const parse::LineFact& fact, uint64_t position,
                     std::vector<model::HopEvent>* out_events) {
  std::vector<model::HopEvent>& out = *out_events;
  current_position_ = position;
  while (!awaiting_origin_.empty() &&
         line.time - awaiting_origin_.front().first > kNotificationGrace) {
    auto it = messages_.find(awaiting_origin_.front().second);
    if (it != messages_.end() && it->second->removed_at) {
      Finish(*it->second, &out);
      messages_.erase(it);
    }
    awaiting_origin_.pop_front();
  }
  const auto find = [&](absl::string_view qid) { return messages_.find(ViewOf(line, qid)); };
  // The fact's views die with the line: the message copies what it keeps.
  if (auto* f = std::get_if<parse::MessageReceived>(&fact)) {
    if (auto it = find(f->queue_id); it != messages_.end()) {
      ++stats_.reused_queue_ids;
      Finish(*it->second, &out);
      messages_.erase(it);
    }
    Message& m = Open(line, f->queue_id);
    Assign(&m.client, f->client);
    if (!f->sender.empty()) Assign(&m.sender, f->sender);
  } else if (auto* f = std::get_if<parse::MessageIdSeen>(&fact)) {
    Message& m = Open(line, f->queue_id);
    if (!f->resent || m.message_id.empty()) Assign(&m.message_id, f->message_id);
  } else if (auto* f = std::get_if<parse::TrackingHeaderSeen>(&fact)) {
    Message& m = Open(line, f->queue_id);
    m.tracking = f->header;
    // The ENVID is xtext-decoded: "+E9" or "+00" in an all-ASCII line becomes a byte that is not
    // (found by the correlator fuzzer), so the line's plain_text does not vouch for it.
    m.plain_text &= model::IsAsciiWithoutNul(f->header.envid);
  } else if (auto* f = std::get_if<parse::MessageQueued>(&fact)) {
    Message& m = Open(line, f->queue_id);
    Assign(&m.sender, f->sender);
    // Room for the outcomes at once: growing 1, 2, 4 asked malloc for over 1 KiB at 4, which
    // made glibc consolidate its fast bins each time (5% of the agent's time, issue 8). Capped:
    // nrcpt is untrusted.
    m.terminal.reserve(static_cast<size_t>(std::clamp<int64_t>(f->nrcpt, 1, 16)));
  } else if (auto* f = std::get_if<parse::RecipientOutcome>(&fact)) {
    Message& m = Open(line, f->queue_id);
    if (f->status == DeliveryStatus::kDeferred) {
      Outcome o{KeptOutcome::Of(*f), line.time, line.time};
      EmitOutcome(m, o, /*member=*/false, Last::kNo, &out);  // "it is here": at once
      std::string recipient = o.fact.recipient;
      m.deferred.insert_or_assign(std::move(recipient), std::move(o));
    } else {
      if (!m.deferred.empty()) m.deferred.erase(std::string(f->recipient));
      if (f->forwarded && !f->next_queue_id.empty()) {
        Open(line, f->next_queue_id).expansion_child = true;
      }
      m.terminal.push_back(Outcome{KeptOutcome::Of(*f), line.time, line.time});
    }
  } else if (auto* f = std::get_if<parse::MessageExpired>(&fact)) {
    if (auto it = find(f->queue_id); it != messages_.end()) {
      FailDeferred(*it->second, line.time, nullptr);
    }
  } else if (auto* f = std::get_if<parse::MessageRemoved>(&fact)) {
    if (auto it = find(f->queue_id); it != messages_.end()) {
      Message& m = *it->second;
      if (m.client.empty() && m.sender.empty() && m.notification_of.empty() && !m.removed_at) {
        m.removed_at = line.time;  // maybe a notification whose bounce(8) line is still to come
        awaiting_origin_.emplace_back(line.time, Key(m.host, m.instance, m.queue_id));
      } else {
        Finish(m, &out);
        messages_.erase(it);
      }
    }
  } else if (auto* f = std::get_if<parse::NotificationQueued>(&fact)) {
    // The notification's own cleanup line comes first (cleanup made its queue id).
    if (find(f->queue_id) != messages_.end()) ++stats_.notifications;
    if (auto it = find(f->notification_queue_id); it != messages_.end()) {
      Assign(&it->second->notification_of, f->queue_id);
      it->second->plain_text &= line.plain_text;
      if (it->second->removed_at) {
        Finish(*it->second, &out);
        messages_.erase(it);
      }
    }
  } else if (auto* f = std::get_if<parse::MessageRejected>(&fact)) {
    if (auto it = find(f->queue_id); it != messages_.end()) {
      ++stats_.rejected;
      Finish(*it->second, &out);  // outcomes before a reject are impossible; Finish is harmless
      messages_.erase(it);
    }
  } else if (auto* f = std::get_if<parse::MessageDiscarded>(&fact)) {
    ++stats_.discarded;
    Message& m = Open(line, f->queue_id);
    if (m.sender.empty()) Assign(&m.sender, f->sender);
    if (!f->recipient.empty()) {
      const std::string diagnostic = absl::StrCat("discarded: ", f->reason);
      const parse::RecipientOutcome o = NoAttemptOutcome(line, f->queue_id, f->recipient, "2.0.0",
                                                         DeliveryStatus::kSent, diagnostic);
      m.deferred.erase(std::string(f->recipient));
      m.terminal.push_back(Outcome{KeptOutcome::Of(o), line.time, absl::InfinitePast()});
    }
    // Nothing more is logged for a discarded message: it ends here.
    auto it = find(f->queue_id);
    Finish(*it->second, &out);
    messages_.erase(it);
  } else if (auto* f = std::get_if<parse::MessageHeld>(&fact)) {
    ++stats_.held;
    Message& m = Open(line, f->queue_id);
    if (m.sender.empty()) Assign(&m.sender, f->sender);
    std::vector<Outcome> held;
    if (!f->recipient.empty()) {
      const std::string diagnostic = absl::StrCat("held: ", f->reason);
      const parse::RecipientOutcome o = NoAttemptOutcome(line, f->queue_id, f->recipient, "4.0.0",
                                                         DeliveryStatus::kDeferred, diagnostic);
      // No delivery attempt was made: no Last-Attempt-Date (RFC 3886 3.3.6).
      held.push_back(Outcome{KeptOutcome::Of(o), line.time, absl::InfinitePast(), true});
    } else {
      for (const auto& [rcpt, o] : m.deferred) {
        Outcome h = o;
        h.fact.dsn = "4.0.0";
        Assign(&h.fact.diagnostic, f->reason);
        h.time = line.time;
        h.held = true;
        held.push_back(std::move(h));
      }
    }
    for (Outcome& h : held) {
      EmitOutcome(m, h, /*member=*/false, Last::kNo, &out);
      m.deferred.insert_or_assign(h.fact.recipient, std::move(h));
    }
  } else if (auto* f = std::get_if<parse::MessageDeleted>(&fact)) {
    if (auto it = find(f->queue_id); it != messages_.end()) {
      ++stats_.deleted;
      static const std::string kDeleted = "deleted by the administrator (postsuper -d)";
      FailDeferred(*it->second, line.time, &kDeleted);
      Finish(*it->second, &out);
      messages_.erase(it);
    }
  }
}

template <typename Pick>
void Correlator::FinishAll(Pick pick, std::vector<model::HopEvent>* out) {
  std::vector<decltype(messages_)::iterator> picked;
  for (auto it = messages_.begin(); it != messages_.end(); ++it) {
    if (pick(*it->second)) picked.push_back(it);
  }
  std::sort(picked.begin(), picked.end(),
            [](const auto& a, const auto& b) { return a->first < b->first; });
  // Erasing from an absl flat map leaves the other iterators valid.
  for (const auto& it : picked) {
    Finish(*it->second, out);
    messages_.erase(it);
  }
}

std::vector<model::HopEvent> Correlator::Flush() {
  std::vector<model::HopEvent> out;
  FinishAll([](const Message&) { return true; }, &out);
  awaiting_origin_.clear();
  return out;
}

std::vector<model::HopEvent> Correlator::EvictIdle(absl::Time now, absl::Duration idle) {
  std::vector<model::HopEvent> out;
  FinishAll([&](const Message& m) { return now - m.last_seen >= idle; }, &out);
  return out;
}

}  // namespace mtrk::agent::correlate
