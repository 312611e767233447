#include "collector/lookup/staff_search.h"

#include <algorithm>
#include <tuple>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "collector/lookup/lookup_service.h"
#include "common/base/status_macros.h"
#include "common/model/hop_event_proto.h"

namespace mtrk::collector::lookup {
namespace {

// Bounds the work of one call when few candidates survive the timeline-wide criteria; the cursor
// then records progress and the caller asks again.
constexpr int kMaxCandidatesPerCall = 2000;

bool AddressMatches(const std::string& value, const std::string& want,
                    store::SearchFilter::Match match) {
  switch (match) {
    case store::SearchFilter::Match::kExact:
      return value == want;
    case store::SearchFilter::Match::kPrefix:
      return absl::StartsWith(value, want);
    case store::SearchFilter::Match::kSubstring:
      return absl::StrContains(value, want);
  }
  return false;
}

absl::string_view DomainOf(absl::string_view address) {
  const size_t at = address.rfind('@');
  return at == absl::string_view::npos ? absl::string_view() : address.substr(at + 1);
}

}  // namespace

absl::StatusOr<store::SearchFilter> FilterFromRequest(const v1::StaffSearchRequest& r) {
  for (const std::string* s : {&r.sender(), &r.recipient(), &r.message_id(), &r.queue_id()}) {
    if (s->size() > model::kMaxAddressBytes) {
      return absl::InvalidArgumentError("staff search: criterion too long");
    }
  }
  if (r.envid().size() > model::kMaxEnvidBytes) {
    return absl::InvalidArgumentError("staff search: envid too long");
  }
  store::SearchFilter f;
  f.sender = r.sender();
  f.recipient = r.recipient();
  if (!r.message_id().empty()) {
    const absl::string_view bare = StripAngleBrackets(r.message_id());
    f.message_ids = {std::string(bare), absl::StrCat("<", bare, ">")};
  }
  f.envid = std::string(StripAngleBrackets(r.envid()));
  f.queue_id = r.queue_id();
  if (r.from_us() != 0) f.from = absl::FromUnixMicros(r.from_us());
  if (r.to_us() != 0) f.to = absl::FromUnixMicros(r.to_us());
  switch (r.match()) {
    case v1::StaffSearchRequest::MATCH_PREFIX:
      f.match = store::SearchFilter::Match::kPrefix;
      break;
    case v1::StaffSearchRequest::MATCH_SUBSTRING:
      f.match = store::SearchFilter::Match::kSubstring;
      break;
    default:
      f.match = store::SearchFilter::Match::kExact;
  }
  return f;
}

bool HopMatches(const model::HopEvent& h, const store::SearchFilter& f) {
  if (!f.sender.empty() && !AddressMatches(h.sender, f.sender, f.match)) return false;
  if (!f.recipient.empty() && !AddressMatches(h.final_recipient, f.recipient, f.match) &&
      !(h.original_recipient != h.final_recipient &&
        AddressMatches(h.original_recipient, f.recipient, f.match))) {
    return false;
  }
  if (!f.message_ids.empty() &&
      (h.message_id.empty() || std::find(f.message_ids.begin(), f.message_ids.end(),
                                         h.message_id) == f.message_ids.end())) {
    return false;
  }
  if (!f.envid.empty() && h.envid != f.envid) return false;
  if (!f.queue_id.empty() && h.queue_id != f.queue_id) return false;
  if (h.queue_first_seen < f.from || h.queue_first_seen >= f.to) return false;
  return true;
}

bool InDomains(const link::Timeline& t,
               const google::protobuf::RepeatedPtrField<std::string>& domains) {
  if (domains.empty()) return true;
  auto in = [&](absl::string_view address) {
    const absl::string_view d = DomainOf(address);
    if (d.empty()) return false;
    for (const std::string& want : domains) {
      if (absl::EqualsIgnoreCase(d, want)) return true;
    }
    return false;
  };
  for (const model::HopEvent& h : t.hops) {
    if (in(h.sender) || in(h.final_recipient) || in(h.original_recipient)) return true;
  }
  return false;
}

std::string EncodeCursor(const store::MessageRef& ref) {
  return absl::WebSafeBase64Escape(
      absl::StrCat(absl::ToUnixMicros(ref.first_seen), ":", ref.message_key));
}

absl::StatusOr<store::MessageRef> DecodeCursor(const std::string& cursor) {
  std::string raw;
  int64_t us = 0;
  if (cursor.size() > 256 || !absl::WebSafeBase64Unescape(cursor, &raw)) {
    return absl::InvalidArgumentError("staff search: bad cursor");
  }
  std::vector<std::string> parts = absl::StrSplit(raw, absl::MaxSplits(':', 1));
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &us) || parts[1].empty()) {
    return absl::InvalidArgumentError("staff search: bad cursor");
  }
  return store::MessageRef{.message_key = parts[1], .first_seen = absl::FromUnixMicros(us)};
}

void TimelineToProto(const link::Timeline& t, v1::MessageTimeline* out) {
  if (!t.messages.empty()) {
    const store::MessageRef& entry = t.messages.front();
    out->set_message_key(entry.message_key);
    out->set_first_seen_us(absl::ToUnixMicros(entry.first_seen));
    // Identity of the message as it entered the domain: the entry node's hops, else any.
    for (int pass = 0; pass < 2 && out->message_id().empty(); ++pass) {
      for (const model::HopEvent& h : t.hops) {
        if (pass == 0 && link::RefOf(h).message_key != entry.message_key) continue;
        out->set_message_id(h.message_id);
        out->set_sender(h.sender);
        if (!h.envid.empty()) out->set_envid(h.envid);
        if (!h.message_id.empty()) break;
      }
    }
  }
  for (const model::HopEvent& h : t.hops) model::ToProto(h, out->add_hops());
}

absl::Status StaffSearch(store::EventStore& store, const v1::StaffSearchRequest& request,
                         v1::StaffSearchResponse* response) {
  MTRK_ASSIGN_OR_RETURN(const store::SearchFilter filter, FilterFromRequest(request));
  const uint32_t page_size =
      request.page_size() == 0 ? kDefaultPageSize : std::min(request.page_size(), kMaxPageSize);
  std::optional<store::MessageRef> after;
  if (!request.cursor().empty()) {
    MTRK_ASSIGN_OR_RETURN(store::MessageRef ref, DecodeCursor(request.cursor()));
    after = std::move(ref);
  }
  const int chunk = static_cast<int>(page_size) + 1;
  int examined = 0;
  while (true) {
    MTRK_ASSIGN_OR_RETURN(const std::vector<store::MessageRef> candidates,
                          store.Search(filter, after, chunk));
    for (size_t i = 0; i < candidates.size(); ++i) {
      const store::MessageRef& c = candidates[i];
      after = c;
      ++examined;
      const store::MessageRef seeds[] = {c};
      MTRK_ASSIGN_OR_RETURN(const link::Timeline t, link::BuildTimeline(store, seeds));
      // Emit once per timeline: at its earliest message that matches the filter.
      std::optional<store::MessageRef> first;
      for (const model::HopEvent& h : t.hops) {
        if (!HopMatches(h, filter)) continue;
        store::MessageRef r = link::RefOf(h);
        if (!first || std::tie(r.first_seen, r.message_key) <
                          std::tie(first->first_seen, first->message_key)) {
          first = std::move(r);
        }
      }
      bool keep = first.has_value() && first->message_key == c.message_key;
      if (keep && request.action() != v1::ACTION_UNSPECIFIED) {
        keep = std::any_of(t.hops.begin(), t.hops.end(), [&](const model::HopEvent& h) {
          return static_cast<int>(h.action) == static_cast<int>(request.action());
        });
      }
      if (keep) keep = InDomains(t, request.domains());
      if (keep) TimelineToProto(t, response->add_messages());
      const bool more = i + 1 < candidates.size() || static_cast<int>(candidates.size()) == chunk;
      if (static_cast<uint32_t>(response->messages_size()) == page_size ||
          examined >= kMaxCandidatesPerCall) {
        if (more) response->set_next_cursor(EncodeCursor(c));
        return absl::OkStatus();
      }
    }
    if (static_cast<int>(candidates.size()) < chunk) return absl::OkStatus();
  }
}

absl::Status GetTimeline(store::EventStore& store, const v1::GetTimelineRequest& request,
                         v1::MessageTimeline* response) {
  if (request.message_key().empty() || request.message_key().size() > 64) {
    return absl::InvalidArgumentError("get timeline: bad message key");
  }
  MTRK_ASSIGN_OR_RETURN(const std::vector<store::MessageRef> refs,
                        store.FindMessage(request.message_key()));
  if (refs.empty()) return absl::NotFoundError("no such message");
  MTRK_ASSIGN_OR_RETURN(const link::Timeline t, link::BuildTimeline(store, refs));
  if (!InDomains(t, request.domains())) return absl::NotFoundError("no such message");
  TimelineToProto(t, response);
  return absl::OkStatus();
}

}  // namespace mtrk::collector::lookup
