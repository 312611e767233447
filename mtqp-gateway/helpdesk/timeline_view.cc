#include "mtqp-gateway/helpdesk/timeline_view.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace mtrk::gateway::helpdesk {
namespace {

bool Known(absl::Time t) { return t != absl::InfinitePast() && t != absl::InfiniteFuture(); }

std::string Where(const model::HopEvent& h) {
  const std::string& mta = h.reporting_mta.empty() ? h.reporting_host : h.reporting_mta;
  return h.mta_instance.empty() ? mta : absl::StrCat(mta, " (", h.mta_instance, ")");
}

std::string Next(const model::HopEvent& h) {
  if (!h.remote_mta.empty()) return h.remote_mta;
  return h.relay;
}

std::string Reason(const model::HopEvent& h) {
  std::string out = h.status;
  if (!h.diagnostic.empty()) absl::StrAppend(&out, out.empty() ? "" : " ", h.diagnostic);
  return out;
}

std::string WhereNow(const model::HopEvent& h) {
  const std::string at = Known(h.event_time) ? absl::StrCat(" at ", Rfc3339(h.event_time)) : "";
  switch (h.action) {
    case model::DsnAction::kDelivered:
      return absl::StrCat("Delivered to ", h.final_recipient, " by ", Where(h), at,
                          h.status.empty() ? "" : absl::StrCat(" (", h.status, ")"));
    case model::DsnAction::kRelayed:
    case model::DsnAction::kTransferred:
      return absl::StrCat("Handed over by ", Where(h), " to ", Next(h), at,
                          h.next_queue_id.empty() ? "" : absl::StrCat(" as ", h.next_queue_id),
                          "; no later record from the next MTA");
    case model::DsnAction::kDelayed:
      return absl::StrCat("Waiting in the queue of ", Where(h), " (queue id ", h.queue_id,
                          "), last attempt", at, ": ", Reason(h),
                          Known(h.will_retry_until)
                              ? absl::StrCat("; retries until ", Rfc3339(h.will_retry_until))
                              : "");
    case model::DsnAction::kFailed:
      return absl::StrCat("Failed at ", Where(h), at, ": ", Reason(h));
    case model::DsnAction::kExpanded:
      return absl::StrCat("Expanded (alias or list) by ", Where(h), at);
    case model::DsnAction::kOpaque:
      return absl::StrCat("Left tracking at ", Where(h), at);
    case model::DsnAction::kUnspecified:
      break;
  }
  return absl::StrCat("Seen at ", Where(h), at);
}

std::string CsvCell(absl::string_view v) {
  std::string s(v);
  if (!s.empty() && absl::string_view("=+-@\t\r").find(s[0]) != absl::string_view::npos) {
    s = absl::StrCat("'", s);
  }
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string DelaySeconds(const model::HopEvent& h) {
  if (!Known(h.arrival_time) || !Known(h.event_time)) return "";
  return absl::StrFormat("%.2f", absl::ToDoubleSeconds(h.event_time - h.arrival_time));
}

void WriteHopJson(const model::HopEvent& h, JsonWriter& w) {
  w.BeginObject()
      .Field("time", Rfc3339(h.event_time))
      .Field("reporting_host", h.reporting_host)
      .Field("reporting_mta", h.reporting_mta)
      .Field("mta_instance", h.mta_instance)
      .Field("queue_id", h.queue_id)
      .Field("original_recipient", h.original_recipient)
      .Field("final_recipient", h.final_recipient)
      .Field("action", model::ActionName(h.action))
      .Field("status", h.status)
      .Field("remote_mta", h.remote_mta)
      .Field("relay", h.relay)
      .Field("diagnostic", h.diagnostic)
      .Field("arrival_time", Rfc3339(h.arrival_time))
      .Field("delay_s", DelaySeconds(h))
      .Field("will_retry_until", Rfc3339(h.will_retry_until))
      .Field("next_queue_id", h.next_queue_id)
      .Field("expansion_member", h.expansion_member)
      .Field("client", h.client)
      .EndObject();
}

}  // namespace

std::string Rfc3339(absl::Time t) {
  if (!Known(t)) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

std::vector<RecipientState> SummarizeRecipients(const MessageTimeline& timeline) {
  std::vector<const model::HopEvent*> hops;
  for (const model::HopEvent& h : timeline.hops) hops.push_back(&h);
  std::stable_sort(hops.begin(), hops.end(),
                   [](const auto* a, const auto* b) { return a->event_time < b->event_time; });
  std::vector<RecipientState> out;
  std::map<std::string, size_t> index;
  for (const model::HopEvent* h : hops) {
    const std::string& key =
        h->final_recipient.empty() ? h->original_recipient : h->final_recipient;
    auto [it, inserted] = index.emplace(key, out.size());
    if (inserted) {
      RecipientState r;
      r.recipient = key;
      if (h->original_recipient != key) r.original_recipient = h->original_recipient;
      out.push_back(std::move(r));
    }
    RecipientState& r = out[it->second];
    r.hops.push_back(h);
    r.action = h->action;
    r.where_now = WhereNow(*h);
  }
  return out;
}

void WriteMessageJson(const MessageTimeline& t, bool with_hops, JsonWriter& w) {
  w.BeginObject()
      .Field("message_key", t.message_key)
      .Field("message_id", t.message_id)
      .Field("sender", t.sender)
      .Field("envid", t.envid)
      .Field("first_seen", Rfc3339(t.first_seen));
  w.Key("recipients").BeginArray();
  for (const RecipientState& r : SummarizeRecipients(t)) {
    w.BeginObject()
        .Field("recipient", r.recipient)
        .Field("original_recipient", r.original_recipient)
        .Field("state", model::ActionName(r.action))
        .Field("where_now", r.where_now)
        .Field("hop_count", static_cast<int64_t>(r.hops.size()))
        .EndObject();
  }
  w.EndArray();
  if (with_hops) {
    w.Key("hops").BeginArray();
    for (const model::HopEvent& h : t.hops) WriteHopJson(h, w);
    w.EndArray();
  }
  w.EndObject();
}

std::string TimelinesToCsv(const std::vector<MessageTimeline>& timelines) {
  std::string out =
      "message_key,message_id,sender,time,reporting_mta,queue_id,original_recipient,"
      "final_recipient,action,status,remote_mta,delay_s,diagnostic,next_queue_id\r\n";
  for (const MessageTimeline& t : timelines) {
    for (const model::HopEvent& h : t.hops) {
      const std::vector<std::string> cells = {t.message_key,
                                              t.message_id,
                                              h.sender.empty() ? t.sender : h.sender,
                                              Rfc3339(h.event_time),
                                              Where(h),
                                              h.queue_id,
                                              h.original_recipient,
                                              h.final_recipient,
                                              std::string(model::ActionName(h.action)),
                                              h.status,
                                              Next(h),
                                              DelaySeconds(h),
                                              h.diagnostic,
                                              h.next_queue_id};
      std::vector<std::string> quoted;
      for (const std::string& c : cells) quoted.push_back(CsvCell(c));
      absl::StrAppend(&out, absl::StrJoin(quoted, ","), "\r\n");
    }
  }
  return out;
}

}  // namespace mtrk::gateway::helpdesk
