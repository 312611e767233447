#include "common/model/hop_event_proto.h"

#include "absl/strings/str_cat.h"

namespace mtrk::model {
namespace {

int64_t Micros(absl::Time t) { return t == absl::InfinitePast() ? 0 : absl::ToUnixMicros(t); }
absl::Time FromMicros(int64_t us) {
  return us == 0 ? absl::InfinitePast() : absl::FromUnixMicros(us);
}

}  // namespace

void ToProto(const HopEvent& e, v1::HopEvent* out) {
  out->set_event_id(e.event_id);
  out->set_reporting_host(e.reporting_host);
  out->set_reporting_mta(e.reporting_mta);
  out->set_mta_instance(e.mta_instance);
  out->set_queue_id(e.queue_id);
  out->set_queue_first_seen_us(Micros(e.queue_first_seen));
  out->set_message_id(e.message_id);
  out->set_sender(e.sender);
  out->set_client(e.client);
  out->set_envid(e.envid);
  out->set_certifier(e.certifier);
  out->set_mtrk_timeout_s(e.mtrk_timeout_s);
  out->set_original_recipient(e.original_recipient);
  out->set_final_recipient(e.final_recipient);
  out->set_action(static_cast<v1::Action>(e.action));
  out->set_status(e.status);
  out->set_remote_mta(e.remote_mta);
  out->set_relay(e.relay);
  out->set_diagnostic(e.diagnostic);
  out->set_arrival_time_us(Micros(e.arrival_time));
  out->set_last_attempt_time_us(Micros(e.last_attempt_time));
  out->set_will_retry_until_us(Micros(e.will_retry_until));
  out->set_next_queue_id(e.next_queue_id);
  out->set_expansion_member(e.expansion_member);
  out->set_event_time_us(Micros(e.event_time));
}

HopEvent FromProto(const v1::HopEvent& p) {
  HopEvent e;
  e.event_id = p.event_id();
  e.reporting_host = p.reporting_host();
  e.reporting_mta = p.reporting_mta();
  e.mta_instance = p.mta_instance();
  e.queue_id = p.queue_id();
  e.queue_first_seen = FromMicros(p.queue_first_seen_us());
  e.message_id = p.message_id();
  e.sender = p.sender();
  e.client = p.client();
  e.envid = p.envid();
  e.certifier = p.certifier();
  e.mtrk_timeout_s = p.mtrk_timeout_s();
  e.original_recipient = p.original_recipient();
  e.final_recipient = p.final_recipient();
  const int action = static_cast<int>(p.action());
  e.action =
      (action >= 0 && action <= 7) ? static_cast<DsnAction>(action) : DsnAction::kUnspecified;
  e.status = p.status();
  e.remote_mta = p.remote_mta();
  e.relay = p.relay();
  e.diagnostic = p.diagnostic();
  e.arrival_time = FromMicros(p.arrival_time_us());
  e.last_attempt_time = FromMicros(p.last_attempt_time_us());
  e.will_retry_until = FromMicros(p.will_retry_until_us());
  e.next_queue_id = p.next_queue_id();
  e.expansion_member = p.expansion_member();
  e.event_time = FromMicros(p.event_time_us());
  return e;
}

absl::StatusOr<std::vector<HopEvent>> HopEventsFromProto(
    const google::protobuf::RepeatedPtrField<v1::HopEvent>& events) {
  if (events.size() > kMaxEventsPerBatch) {
    return absl::InvalidArgumentError(absl::StrCat(
        "batch of ", events.size(), " events exceeds the limit of ", kMaxEventsPerBatch));
  }
  std::vector<HopEvent> out;
  out.reserve(events.size());
  for (int i = 0; i < events.size(); ++i) {
    HopEvent e = FromProto(events[i]);
    absl::Status st = ValidateHopEvent(e);
    if (st.ok()) st = ValidateHopEventText(e);  // protobuf checked UTF-8, not NUL
    if (!st.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("event #", i, ": ", st.message()));
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace mtrk::model
