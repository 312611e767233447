#include "mtqp-gateway/helpdesk/grpc_staff_lookup.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/model/hop_event_proto.h"
#include "common/net/grpc_status.h"
#include "grpcpp/channel.h"

namespace mtrk::gateway::helpdesk {
namespace {

constexpr absl::string_view kMidKeyPrefix = "mid:";

int64_t ToMicros(absl::Time t) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return 0;
  return absl::ToUnixMicros(t);
}

v1::StaffSearchRequest::Match ToProto(MatchMode m) {
  switch (m) {
    case MatchMode::kPrefix:
      return v1::StaffSearchRequest::MATCH_PREFIX;
    case MatchMode::kSubstring:
      return v1::StaffSearchRequest::MATCH_SUBSTRING;
    case MatchMode::kExact:
      break;
  }
  return v1::StaffSearchRequest::MATCH_EXACT;
}

MessageTimeline FromProto(const v1::MessageTimeline& p) {
  MessageTimeline t;
  t.message_key = p.message_key();
  t.message_id = p.message_id();
  t.sender = p.sender();
  t.envid = p.envid();
  if (p.first_seen_us() != 0) t.first_seen = absl::FromUnixMicros(p.first_seen_us());
  t.hops.reserve(static_cast<size_t>(p.hops_size()));
  for (const v1::HopEvent& hop : p.hops()) t.hops.push_back(model::FromProto(hop));
  return t;
}

absl::Status Unimplemented(absl::string_view rpc) {
  return absl::UnimplementedError(
      absl::StrCat("helpdesk: the collector does not implement ", rpc,
                   " yet; only a search by Message-ID alone is possible until it is upgraded"));
}

bool InDomains(absl::string_view address, const std::vector<std::string>& domains) {
  const size_t at = address.rfind('@');
  if (at == absl::string_view::npos) return false;
  const std::string domain = absl::AsciiStrToLower(address.substr(at + 1));
  for (const std::string& d : domains) {
    if (domain == d || absl::EndsWith(domain, absl::StrCat(".", d))) return true;
  }
  return false;
}

}  // namespace

GrpcStaffLookup::GrpcStaffLookup(std::shared_ptr<grpc::Channel> channel, absl::Duration deadline)
    : stub_(v1::Lookup::NewStub(channel)), deadline_(deadline) {}

absl::StatusOr<SearchPage> GrpcStaffLookup::Search(const StaffQuery& query) {
  v1::StaffSearchRequest request;
  request.set_sender(query.sender);
  request.set_recipient(query.recipient);
  request.set_message_id(query.message_id);
  request.set_envid(query.envid);
  request.set_queue_id(query.queue_id);
  request.set_from_us(ToMicros(query.from));
  request.set_to_us(ToMicros(query.to));
  request.set_action(static_cast<v1::Action>(query.action));
  request.set_match(ToProto(query.match));
  for (const std::string& d : query.domains) request.add_domains(d);
  request.set_page_size(query.page_size);
  request.set_cursor(query.cursor);
  v1::StaffSearchResponse response;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + deadline_));
  const grpc::Status status = stub_->StaffSearch(&context, request, &response);
  if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED) return SearchByMessageId(query);
  if (!status.ok()) return net::FromGrpcStatus(status);
  SearchPage page;
  for (const v1::MessageTimeline& m : response.messages()) page.messages.push_back(FromProto(m));
  page.next_cursor = response.next_cursor();
  return page;
}

absl::StatusOr<SearchPage> GrpcStaffLookup::SearchByMessageId(const StaffQuery& query) {
  const bool only_message_id =
      !query.message_id.empty() && query.sender.empty() && query.recipient.empty() &&
      query.envid.empty() && query.queue_id.empty() && query.match == MatchMode::kExact &&
      query.action == model::DsnAction::kUnspecified && query.cursor.empty();
  if (!only_message_id) return Unimplemented("StaffSearch");
  v1::FindByMessageIdRequest request;
  request.set_message_id(query.message_id);
  v1::FindResponse response;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + deadline_));
  const grpc::Status status = stub_->FindByMessageId(&context, request, &response);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) return SearchPage{};
  if (!status.ok()) return net::FromGrpcStatus(status);
  std::vector<model::HopEvent> hops;
  for (const v1::HopEvent& hop : response.hops()) hops.push_back(model::FromProto(hop));
  SearchPage page;
  if (hops.empty()) return page;
  MessageTimeline t = TimelineFromHops(query.message_id, std::move(hops));
  if (t.first_seen < query.from || t.first_seen >= query.to) return page;
  if (!query.domains.empty() && !TimelineInDomains(t, query.domains)) return page;
  page.messages.push_back(std::move(t));
  return page;
}

absl::StatusOr<MessageTimeline> GrpcStaffLookup::Timeline(const std::string& message_key,
                                                          const std::vector<std::string>& domains) {
  if (absl::StartsWith(message_key, kMidKeyPrefix)) {
    StaffQuery q;
    q.message_id = message_key.substr(kMidKeyPrefix.size());
    q.domains = domains;
    v1::FindByMessageIdRequest request;
    request.set_message_id(q.message_id);
    v1::FindResponse response;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + deadline_));
    const grpc::Status status = stub_->FindByMessageId(&context, request, &response);
    if (!status.ok()) return net::FromGrpcStatus(status);
    std::vector<model::HopEvent> hops;
    for (const v1::HopEvent& hop : response.hops()) hops.push_back(model::FromProto(hop));
    if (hops.empty()) return absl::NotFoundError("helpdesk: no such message");
    MessageTimeline t = TimelineFromHops(q.message_id, std::move(hops));
    if (!domains.empty() && !TimelineInDomains(t, domains)) {
      return absl::NotFoundError("helpdesk: no such message");
    }
    return t;
  }
  v1::GetTimelineRequest request;
  request.set_message_key(message_key);
  for (const std::string& d : domains) request.add_domains(d);
  v1::MessageTimeline response;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + deadline_));
  const grpc::Status status = stub_->GetTimeline(&context, request, &response);
  if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED) return Unimplemented("GetTimeline");
  if (!status.ok()) return net::FromGrpcStatus(status);
  return FromProto(response);
}

MessageTimeline TimelineFromHops(const std::string& message_id, std::vector<model::HopEvent> hops) {
  std::stable_sort(hops.begin(), hops.end(),
                   [](const model::HopEvent& a, const model::HopEvent& b) {
                     return a.event_time < b.event_time;
                   });
  MessageTimeline t;
  t.message_key = absl::StrCat(kMidKeyPrefix, message_id);
  t.message_id = message_id;
  if (!hops.empty()) {
    t.first_seen = hops.front().queue_first_seen;
    for (const model::HopEvent& h : hops) t.first_seen = std::min(t.first_seen, h.queue_first_seen);
    t.sender = hops.front().sender;
    for (const model::HopEvent& h : hops) {
      if (!h.envid.empty()) {
        t.envid = h.envid;
        break;
      }
    }
  }
  t.hops = std::move(hops);
  return t;
}

bool TimelineInDomains(const MessageTimeline& timeline, const std::vector<std::string>& domains) {
  if (InDomains(timeline.sender, domains)) return true;
  for (const model::HopEvent& h : timeline.hops) {
    if (InDomains(h.sender, domains) || InDomains(h.original_recipient, domains) ||
        InDomains(h.final_recipient, domains)) {
      return true;
    }
  }
  return false;
}

}  // namespace mtrk::gateway::helpdesk
