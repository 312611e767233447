#include "mtqp-gateway/mtqp/tracking_status.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/model/dsn_action.h"

namespace mtrk::gateway::mtqp {
namespace {

using model::DsnAction;
using model::HopEvent;

// Field values come from MTA logs: anything outside printable ASCII (a CR or LF above all, which
// would let a log line forge fields) becomes '?'. XXX: SMTPUTF8 addresses lose their non-ASCII
// characters; RFC 6533 utf-8 address types would keep them.
std::string Printable(absl::string_view in, size_t max = 900) {
  std::string out(in.substr(0, max));
  for (char& c : out) {
    if (c < 32 || c > 126) c = '?';
  }
  return out;
}

bool Known(absl::Time t) { return t != absl::InfinitePast() && t != absl::InfiniteFuture(); }

std::string MtaName(const HopEvent& e) {
  return e.reporting_mta.empty() ? e.reporting_host : e.reporting_mta;
}

// RFC 3461 §6.3(b): "dns" only for a domain name; a bare syslog host name is not one.
std::string ReportingMtaValue(const HopEvent& e) {
  if (!e.reporting_mta.empty()) return absl::StrCat("dns; ", Printable(e.reporting_mta));
  if (absl::StrContains(e.reporting_host, '.')) {
    return absl::StrCat("dns; ", Printable(e.reporting_host));
  }
  return absl::StrCat("x-local-hostname; ", Printable(e.reporting_host));
}

absl::Time ArrivalOf(const HopEvent& e) {
  if (Known(e.arrival_time)) return e.arrival_time;
  if (Known(e.queue_first_seen)) return e.queue_first_seen;
  return e.event_time;
}

// When the hop made its last delivery attempt, if it made one (RFC 3886 §3.3.6).
std::optional<absl::Time> AttemptOf(const HopEvent& e) {
  if (e.action == DsnAction::kOpaque) return std::nullopt;
  if (Known(e.last_attempt_time)) return e.last_attempt_time;
  switch (e.action) {
    case DsnAction::kDelivered:
    case DsnAction::kTransferred:
    case DsnAction::kRelayed:
      // These actions are the outcome of an attempt; the log line's time is when it ended.
      if (Known(e.event_time)) return e.event_time;
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

std::string StatusOf(const HopEvent& e) {
  // RFC 3886 §3.3.4: 2.1.9 is the relayed code and only that. DIGEST §6.7: opaque has no code.
  if (e.action == DsnAction::kRelayed) return "2.1.9";
  if (e.action == DsnAction::kOpaque) return "2.0.0 (no information)";
  if (model::IsEnhancedStatus(e.status) && e.status != "2.1.9") return e.status;
  switch (e.action) {
    case DsnAction::kDelayed:
      return "4.0.0";
    case DsnAction::kFailed:
      return "5.0.0";
    default:
      return "2.0.0";
  }
}

uint64_t Fnv1a(absl::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

// A legal RFC 2046 boundary (bchars only, <= 70) that occurs in no part: derived from the content,
// so the same answer is byte-identical every time, and re-derived in the unlikely case of a clash.
std::string ChooseBoundary(const std::vector<std::string>& parts) {
  std::string all;
  for (const std::string& p : parts) all += p;
  for (uint64_t salt = 0;; ++salt) {
    std::string b = absl::StrFormat("mtrk-ts-%016x", Fnv1a(absl::StrCat(all, salt)));
    if (!absl::StrContains(all, absl::StrCat("--", b))) return b;
  }
}

void Field(std::string* out, absl::string_view name, absl::string_view value) {
  absl::StrAppend(out, name, ": ", value, "\r\n");
}

struct Group {
  absl::Time arrival = absl::InfiniteFuture();
  std::string key;
  const HopEvent* first = nullptr;
  // (original, final) recipient -> the latest event for it.
  std::map<std::pair<std::string, std::string>, const HopEvent*> latest;
  std::vector<std::pair<std::string, std::string>> order;  // first-seen order of recipients
};

std::string BuildPart(absl::string_view envid, const Group& g,
                      const TrackingStatusOptions& options) {
  std::string out =
      "Content-Type: message/tracking-status\r\n"
      "Content-Transfer-Encoding: 7bit\r\n\r\n";
  const HopEvent& first = *g.first;
  // RFC 3886 §3.2, in grammar order; each once.
  Field(&out, "Original-Envelope-Id", Printable(first.envid.empty() ? envid : first.envid));
  Field(&out, "Reporting-MTA", ReportingMtaValue(first));
  if (Known(g.arrival)) Field(&out, "Arrival-Date", FormatRfc5322Date(g.arrival));
  for (const auto& key : g.order) {
    const HopEvent& e = *g.latest.at(key);
    out.append("\r\n");
    const std::string original =
        e.original_recipient.empty() ? e.final_recipient : e.original_recipient;  // DIGEST §6.6
    Field(&out, "Original-Recipient", absl::StrCat("rfc822; ", Printable(original)));
    Field(&out, "Final-Recipient", absl::StrCat("rfc822; ", Printable(e.final_recipient)));
    Field(&out, "Action", model::ActionName(e.action));
    Field(&out, "Status", StatusOf(e));
    const std::optional<absl::Time> attempt = AttemptOf(e);
    if (attempt.has_value() && !e.remote_mta.empty()) {  // RFC 3886 §3.3.5
      Field(&out, "Remote-MTA", absl::StrCat("dns; ", Printable(e.remote_mta)));
    }
    if (attempt.has_value()) Field(&out, "Last-Attempt-Date", FormatRfc5322Date(*attempt));
    // RFC 3886 §3.3.7: only while the message is still in our queue.
    if (e.action == DsnAction::kDelayed && Known(e.will_retry_until)) {
      Field(&out, "Will-Retry-Until", FormatRfc5322Date(e.will_retry_until));
    }
    if (options.include_diagnostic && !e.diagnostic.empty() &&
        (e.action == DsnAction::kFailed || e.action == DsnAction::kDelayed)) {
      Field(&out, "Diagnostic-Code", absl::StrCat("smtp; ", Printable(e.diagnostic)));
    }
  }
  out.append("\r\n");  // RFC 3886 §3: the last field is followed by a blank line
  return out;
}

}  // namespace

std::string FormatRfc5322Date(absl::Time t) {
  return absl::FormatTime("%a, %d %b %Y %H:%M:%S +0000", t, absl::UTCTimeZone());
}

absl::StatusOr<std::string> BuildTrackingStatusBody(absl::string_view envid,
                                                    std::span<const HopEvent> hops,
                                                    const TrackingStatusOptions& options) {
  return BuildTrackingStatusBody(envid, hops, {}, options);
}

absl::StatusOr<std::string> BuildTrackingStatusBody(absl::string_view envid,
                                                    std::span<const HopEvent> hops,
                                                    std::span<const std::string> extra_parts,
                                                    const TrackingStatusOptions& options) {
  std::map<std::pair<std::string, std::string>, Group> groups;
  for (const HopEvent& e : hops) {
    if (e.expansion_member) continue;  // RFC 3886 §4.2, RFC 3885 §3.3
    Group& g = groups[{MtaName(e), e.mta_instance}];
    if (g.first == nullptr) {
      g.first = &e;
      g.key = absl::StrCat(MtaName(e), " ", e.mta_instance);
    }
    const absl::Time arrival = ArrivalOf(e);
    if (Known(arrival)) g.arrival = std::min(g.arrival, arrival);
    std::pair<std::string, std::string> rcpt{e.original_recipient, e.final_recipient};
    auto [it, inserted] = g.latest.emplace(rcpt, &e);
    if (inserted) {
      g.order.push_back(std::move(rcpt));
    } else if (!(e.event_time < it->second->event_time)) {
      it->second = &e;
    }
  }
  if (groups.empty()) return absl::NotFoundError("tracking status: nothing to report");

  // Parts in the order the message reached the MTAs; ties by name, so the answer is stable.
  std::vector<const Group*> ordered;
  for (const auto& [key, g] : groups) ordered.push_back(&g);
  std::stable_sort(ordered.begin(), ordered.end(), [](const Group* a, const Group* b) {
    return std::tie(a->arrival, a->key) < std::tie(b->arrival, b->key);
  });
  std::vector<std::string> parts;
  for (const Group* g : ordered) parts.push_back(BuildPart(envid, *g, options));
  parts.insert(parts.end(), extra_parts.begin(), extra_parts.end());

  const std::string boundary = ChooseBoundary(parts);
  std::string out =
      absl::StrCat("Content-Type: multipart/related; type=\"message/tracking-status\"; boundary=\"",
                   boundary, "\"\r\n\r\n");
  for (const std::string& p : parts) absl::StrAppend(&out, "--", boundary, "\r\n", p);
  absl::StrAppend(&out, "--", boundary, "--\r\n");
  return out;
}

}  // namespace mtrk::gateway::mtqp
