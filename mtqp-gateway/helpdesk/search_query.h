// Search parameters from the web page or the JSON API -> a validated StaffQuery. Pure.
//
// Every field is bounded and restricted to the characters it can legitimately hold, so hostile
// input (SQL or HTML fragments, control characters, overlong values) is refused with a message
// naming the field, before it reaches the audit log, the collector or a page. Times are
// RFC 3339 with an explicit zone (the page sends the user's zone), stored and compared in UTC.
#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "mtqp-gateway/helpdesk/staff_lookup.h"

namespace mtrk::gateway::helpdesk {

// Parameter names: sender, recipient, message_id, envid, queue_id, from, to, status
// (an RFC 3886 action), match (exact|prefix|substring), page_size (1-500), cursor.
// InvalidArgument "<field>: <reason>" for an unknown parameter, an overlong or malformed value,
// a range with from >= to, or no criterion at all.
absl::StatusOr<StaffQuery> ParseStaffQuery(const std::map<std::string, std::string>& params);

// RFC 3339 with zone ("2026-11-23T07:27:00+01:00", "...Z", seconds optional) -> UTC.
absl::StatusOr<absl::Time> ParseZonedTime(absl::string_view field, absl::string_view value);

// The query as canonical JSON (for the audit log): only the fields that were set.
std::string QueryToJson(const StaffQuery& query);

// Originator lookups take an ENVID (xtext-decoded, RFC 3461 §4.4: at most 100 printable ASCII
// characters) and a base64 secret. InvalidArgument names the field.
absl::Status ValidateEnvid(absl::string_view field, absl::string_view envid);

}  // namespace mtrk::gateway::helpdesk
