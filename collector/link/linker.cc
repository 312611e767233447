#include "collector/link/linker.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "collector/store/pg/pg_event_store.h"
#include "common/base/status_macros.h"

namespace mtrk::collector::link {
namespace {
constexpr absl::string_view kBouncePrefix = "bounce:";
}  // namespace

store::MessageRef RefOf(const model::HopEvent& hop) {
  return store::MessageRef{.message_key = store::MessageKeyOf(hop),
                           .first_seen = hop.queue_first_seen};
}

store::LinkQuery LinkQueryFor(std::span<const model::HopEvent> hops) {
  store::LinkQuery q;
  absl::flat_hash_set<std::string> next, own, mids;
  absl::Time lo = absl::InfiniteFuture(), hi = absl::InfinitePast();
  for (const model::HopEvent& h : hops) {
    if (!h.next_queue_id.empty() && next.insert(h.next_queue_id).second) {
      q.queue_ids.push_back(h.next_queue_id);  // forward: the next node's queue id
    }
    if (!h.queue_id.empty() && own.insert(h.queue_id).second) {
      q.next_queue_ids.push_back(h.queue_id);  // backward: who queued us as this id
      q.bounce_clients.push_back(absl::StrCat(kBouncePrefix, h.queue_id));  // our notifications
    }
    if (absl::StartsWith(h.client, kBouncePrefix) && h.client.size() > kBouncePrefix.size()) {
      std::string reported(h.client.substr(kBouncePrefix.size()));  // the message we report on
      if (next.insert(reported).second) q.queue_ids.push_back(std::move(reported));
    }
    if (!h.message_id.empty() && mids.insert(h.message_id).second) {
      q.message_ids.push_back(h.message_id);
    }
    lo = std::min(lo, h.queue_first_seen);
    hi = std::max({hi, h.event_time, h.queue_first_seen});
  }
  if (!hops.empty()) {
    q.from = lo - kLinkLookBack;
    q.to = hi + kLinkLookAhead;
  }
  return q;
}

absl::StatusOr<Timeline> BuildTimeline(store::EventStore& store,
                                       std::span<const store::MessageRef> seeds) {
  Timeline t;
  absl::flat_hash_set<std::string> known;
  std::vector<store::MessageRef> frontier;
  for (const store::MessageRef& s : seeds) {
    if (known.insert(s.message_key).second) frontier.push_back(s);
  }
  while (!frontier.empty()) {
    MTRK_ASSIGN_OR_RETURN(std::vector<model::HopEvent> hops, store.HopsOf(frontier));
    t.messages.insert(t.messages.end(), frontier.begin(), frontier.end());
    frontier.clear();
    const store::LinkQuery query = LinkQueryFor(hops);
    t.hops.insert(t.hops.end(), std::make_move_iterator(hops.begin()),
                  std::make_move_iterator(hops.end()));
    if (query.queue_ids.empty() && query.next_queue_ids.empty() && query.message_ids.empty() &&
        query.bounce_clients.empty()) {
      break;
    }
    const int room = kMaxTimelineMessages - static_cast<int>(known.size());
    MTRK_ASSIGN_OR_RETURN(std::vector<store::MessageRef> linked,
                          store.FindLinked(query, room + static_cast<int>(known.size()) + 1));
    for (store::MessageRef& ref : linked) {
      if (known.contains(ref.message_key)) continue;
      if (static_cast<int>(known.size()) >= kMaxTimelineMessages) {
        t.truncated = true;
        break;
      }
      known.insert(ref.message_key);
      frontier.push_back(std::move(ref));
    }
  }
  std::sort(t.messages.begin(), t.messages.end(),
            [](const store::MessageRef& a, const store::MessageRef& b) {
              return std::tie(a.first_seen, a.message_key) < std::tie(b.first_seen, b.message_key);
            });
  std::sort(t.hops.begin(), t.hops.end(), [](const model::HopEvent& a, const model::HopEvent& b) {
    return std::tie(a.event_time, a.reporting_host, a.final_recipient, a.event_id) <
           std::tie(b.event_time, b.reporting_host, b.final_recipient, b.event_id);
  });
  return t;
}

}  // namespace mtrk::collector::link
