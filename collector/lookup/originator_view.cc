#include "collector/lookup/originator_view.h"

#include <algorithm>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "common/net/certifier.h"

namespace mtrk::collector::lookup {
namespace {

// Identifies one recipient of one message at one MTA.
using RecipientKey = std::tuple<std::string, std::string, std::string, int64_t, std::string>;

RecipientKey KeyOf(const model::HopEvent& e) {
  return {e.reporting_host, e.mta_instance, e.queue_id,
          e.queue_first_seen == absl::InfinitePast() ? 0 : absl::ToUnixMicros(e.queue_first_seen),
          e.final_recipient};
}

bool IsTerminal(model::DsnAction action) { return action != model::DsnAction::kDelayed; }

// True when `a` is a later state of the recipient than `b`.
bool IsNewer(const model::HopEvent& a, const model::HopEvent& b) {
  if (a.event_time != b.event_time) return a.event_time > b.event_time;
  if (IsTerminal(a.action) != IsTerminal(b.action)) return IsTerminal(a.action);
  return a.event_id > b.event_id;  // arbitrary but deterministic
}

}  // namespace

absl::StatusOr<std::vector<model::HopEvent>> OriginatorView(
    std::span<const model::HopEvent> events_for_envid, absl::string_view secret) {
  bool authenticated = false;
  absl::flat_hash_map<RecipientKey, const model::HopEvent*> latest;
  for (const model::HopEvent& e : events_for_envid) {
    // Every event is checked (no early exit) so the work done does not depend on which match.
    if (!net::SecretMatchesCertifier(secret, e.certifier)) continue;
    authenticated = true;
    if (e.expansion_member) continue;
    auto [it, inserted] = latest.try_emplace(KeyOf(e), &e);
    if (!inserted && IsNewer(e, *it->second)) it->second = &e;
  }
  if (!authenticated) return absl::NotFoundError("no information");

  std::vector<model::HopEvent> view;
  view.reserve(latest.size());
  for (const auto& [key, event] : latest) view.push_back(*event);
  std::sort(view.begin(), view.end(), [](const model::HopEvent& a, const model::HopEvent& b) {
    return std::tie(a.arrival_time, a.reporting_host, a.final_recipient, a.mta_instance,
                    a.queue_first_seen, a.event_id) < std::tie(b.arrival_time, b.reporting_host,
                                                               b.final_recipient, b.mta_instance,
                                                               b.queue_first_seen, b.event_id);
  });
  return view;
}

}  // namespace mtrk::collector::lookup
