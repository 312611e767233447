// What staff read: a message's hops grouped per recipient, with one "where it is now" line each,
// rendered as JSON (API and page) or CSV (export). Pure; no I/O.
#pragma once

#include <string>
#include <vector>

#include "mtqp-gateway/helpdesk/json_writer.h"
#include "mtqp-gateway/helpdesk/staff_lookup.h"

namespace mtrk::gateway::helpdesk {

struct RecipientState {
  std::string recipient;           // final recipient (or the original one if none)
  std::string original_recipient;  // as the sender wrote it, when different
  model::DsnAction action = model::DsnAction::kUnspecified;  // of the latest hop
  std::string where_now;  // one sentence, e.g. "delivered by mta-b at ... (2.0.0)"
  std::vector<const model::HopEvent*> hops;  // into the timeline, by event time
};

// Recipients in order of first appearance; a recipient's latest hop (by event time, across
// every MTA) decides its state.
std::vector<RecipientState> SummarizeRecipients(const MessageTimeline& timeline);

// RFC 3339 UTC with seconds, or "" for an unknown time.
std::string Rfc3339(absl::Time t);

// {"message_key":..,"message_id":..,"sender":..,"envid":..,"first_seen":..,
//  "recipients":[{"recipient":..,"original_recipient":..,"state":..,"where_now":..}...]
//  [,"hops":[...] when with_hops]}
void WriteMessageJson(const MessageTimeline& timeline, bool with_hops, JsonWriter& w);

// One line per hop, RFC 4180 quoting; cells that a spreadsheet would run as a formula
// (leading = + - @) get a leading apostrophe.
std::string TimelinesToCsv(const std::vector<MessageTimeline>& timelines);

}  // namespace mtrk::gateway::helpdesk
