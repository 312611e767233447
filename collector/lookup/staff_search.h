// Staff search and timelines (mtrk.v1.Lookup StaffSearch, GetTimeline): every result is a whole
// linked timeline (collector/link), expansion members included. The gateway authenticates staff
// and audits; this only answers. Thread-safe if the store is.
//
// Pagination: candidates are the MTA-level messages with a hop matching the filter, in
// (first_seen, message_key) order. A timeline is returned once, at its earliest matching message,
// so timelines that match at several MTAs never repeat across pages; the cursor is the last
// candidate examined, so a page boundary is stable under concurrent ingest of newer mail.
// The action and domains criteria apply to the whole timeline.
#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "collector/link/linker.h"
#include "collector/store/event_store.h"
#include "mtrk/v1/lookup.pb.h"

namespace mtrk::collector::lookup {

inline constexpr uint32_t kDefaultPageSize = 50;
inline constexpr uint32_t kMaxPageSize = 500;

// InvalidArgument for an oversized value or a bad cursor.
absl::StatusOr<store::SearchFilter> FilterFromRequest(const v1::StaffSearchRequest& request);
// The same predicate as the store's Search, on one hop.
bool HopMatches(const model::HopEvent& hop, const store::SearchFilter& filter);
// True if `domains` is empty, or the sender or a recipient of the timeline is in one of them.
bool InDomains(const link::Timeline& timeline,
               const google::protobuf::RepeatedPtrField<std::string>& domains);

std::string EncodeCursor(const store::MessageRef& ref);
absl::StatusOr<store::MessageRef> DecodeCursor(const std::string& cursor);

void TimelineToProto(const link::Timeline& timeline, v1::MessageTimeline* out);

absl::Status StaffSearch(store::EventStore& store, const v1::StaffSearchRequest& request,
                         v1::StaffSearchResponse* response);
// NotFound for an unknown key or one outside the caller's domains.
absl::Status GetTimeline(store::EventStore& store, const v1::GetTimelineRequest& request,
                         v1::MessageTimeline* response);

}  // namespace mtrk::collector::lookup
