// OriginatorView: what the originator of a message may see of it (RFC 3885 §4, RFC 3887 §4),
// given every event stored under its ENVID and the secret A it presented. Pure: no I/O, no
// clock; thread-compatible.
//
// - Only events whose certifier B equals SHA1(A) count (constant-time compare): an ENVID is
//   chosen by the sender, so two senders may share one, and neither sees the other's mail.
// - No such event: NotFound("no information"), exactly as for an unknown ENVID, so a wrong
//   secret cannot tell that the ENVID exists (DIGEST §7, STYLE §3).
// - Expansion members are dropped: list and alias members never leak (RFC 3886 §4.2); the
//   agent reports one `expanded` record in their place.
// - One record per recipient per message per MTA: the latest by event_time; at the same time, a
//   terminal action beats `delayed` (the deferral was logged before the final outcome).
// - Ordered by arrival time, then reporting host, then recipient (then ties broken stably).
#pragma once

#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/model/hop_event.h"

namespace mtrk::collector::lookup {

absl::StatusOr<std::vector<model::HopEvent>> OriginatorView(
    std::span<const model::HopEvent> events_for_envid, absl::string_view secret);

}  // namespace mtrk::collector::lookup
