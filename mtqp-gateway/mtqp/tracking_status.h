// Hop events -> the body of a TRACK answer (RFC 3887 §4, RFC 3886 §3; DIGEST §3, §6.4-§6.7): a
// multipart/related body with type="message/tracking-status", one message/tracking-status part per
// reporting MTA, 7bit, CRLF lines. Pure; no I/O. Dot-stuffing for the wire is multiline.h's job.
#pragma once

#include <span>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/model/hop_event.h"

namespace mtrk::gateway::mtqp {

struct TrackingStatusOptions {
  // Diagnostic-Code is only an extension field in RFC 3886 and may name internal hosts, so it is
  // off unless the operator asks for it; even then only for failed and delayed (DIGEST §3).
  bool include_diagnostic = false;
};

// `envid` is the ENVID the client asked for (decoded, no <>); it is used when a hop lacks one.
// Hops are grouped by (reporting_mta or reporting_host, mta_instance); within a group the latest
// event per recipient wins. Expansion members are dropped defensively (RFC 3886 §4.2): the
// collector's originator view already excludes them. NotFound if nothing is left to report.
//
// The result starts with the Content-Type header line, then a blank line, then the multipart
// body; every line ends in CRLF and holds only printable ASCII (7bit, RFC 3886 §3.1).
absl::StatusOr<std::string> BuildTrackingStatusBody(absl::string_view envid,
                                                    std::span<const model::HopEvent> hops,
                                                    const TrackingStatusOptions& options = {});

// The same, with `extra_parts` (complete MIME parts from downstream servers, each starting with
// its Content-Type header) appended unchanged after ours (DIGEST §7 item 52).
absl::StatusOr<std::string> BuildTrackingStatusBody(absl::string_view envid,
                                                    std::span<const model::HopEvent> hops,
                                                    std::span<const std::string> extra_parts,
                                                    const TrackingStatusOptions& options);

// RFC 5322 date-time in UTC with a numeric zone (RFC 3886 §3.2.3): "Mon, 23 Nov 2026 06:27:05
// +0000".
std::string FormatRfc5322Date(absl::Time t);

}  // namespace mtrk::gateway::mtqp
