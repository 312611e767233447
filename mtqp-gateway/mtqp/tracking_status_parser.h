// Parses a TRACK answer body (what BuildTrackingStatusBody makes, or another server's) into
// per-part, per-recipient records, for the client and, later, for chaining. Lenient where the
// RFC examples are sloppy (DIGEST §6.4, §6.5): any field order, no space needed after the colon,
// field names case-insensitive, continuation lines, LF or CRLF. Strict where guessing is unsafe:
// a line that is neither a field nor a continuation is InvalidArgument. Pure; no I/O.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mtrk::gateway::mtqp {

// "rfc822; alice@b.example" -> {type "rfc822", value "alice@b.example"}. A value without ';'
// has an empty type.
struct TypedValue {
  std::string type;
  std::string value;
};

struct RecipientRecord {
  TypedValue original_recipient;
  TypedValue final_recipient;
  std::string action;  // lower-cased
  std::string status;  // the code only; a trailing "(comment)" is dropped
  TypedValue remote_mta;
  std::string last_attempt_date;  // raw RFC 5322 text, "" if absent
  std::string will_retry_until;
  std::vector<std::pair<std::string, std::string>> extension_fields;
};

struct TrackingStatusPart {
  std::string original_envelope_id;
  TypedValue reporting_mta;
  std::string arrival_date;
  std::vector<std::pair<std::string, std::string>> extension_fields;
  std::vector<RecipientRecord> recipients;
};

// `body` starts with the part's MIME header (Content-Type multipart/related with a boundary, or a
// single message/tracking-status). Parts of other types are skipped. InvalidArgument names what
// is wrong; a part missing Reporting-MTA, or a recipient missing Final-Recipient or Action, is an
// error.
absl::StatusOr<std::vector<TrackingStatusPart>> ParseTrackingStatusBody(absl::string_view body);

// The content of one message/tracking-status part (after its MIME header).
absl::StatusOr<TrackingStatusPart> ParseTrackingStatusContent(absl::string_view content);

}  // namespace mtrk::gateway::mtqp
