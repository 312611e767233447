#include "collector/lookup/lookup_service.h"

#include <algorithm>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "collector/link/linker.h"
#include "collector/lookup/originator_view.h"
#include "collector/lookup/staff_search.h"
#include "common/model/hop_event_proto.h"
#include "common/net/grpc_status.h"
#include "spdlog/spdlog.h"

namespace mtrk::collector::lookup {
namespace {

// Toward the gateway, a storage failure says only that we are unavailable; details go to our log.
grpc::Status StoreError(absl::string_view method, const absl::Status& status) {
  spdlog::warn("lookup: {}: {}", std::string(method), status.ToString());
  if (status.code() == absl::StatusCode::kInternal) {
    return grpc::Status(grpc::StatusCode::INTERNAL, "internal error");
  }
  return net::ToGrpcStatus(status);
}

}  // namespace

absl::string_view StripAngleBrackets(absl::string_view s) {
  if (s.size() >= 2 && s.front() == '<' && s.back() == '>') return s.substr(1, s.size() - 2);
  return s;
}

grpc::Status LookupService::Track(grpc::ServerContext* /*context*/, const v1::TrackRequest* request,
                                  v1::TrackResponse* response) {
  const absl::string_view envid = StripAngleBrackets(request->envid());
  if (envid.empty() || envid.size() > model::kMaxEnvidBytes) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrCat("track: envid must be 1..", model::kMaxEnvidBytes, " bytes"));
  }
  // The ENVID names messages (at one MTA each); linking follows them to the hops of other MTAs
  // and reads every hop once. OriginatorView keeps only those that carry the certifier.
  absl::StatusOr<std::vector<store::MessageRef>> seeds = store_.FindMessagesByEnvid(envid);
  if (!seeds.ok()) return StoreError("track", seeds.status());
  std::vector<model::HopEvent> events;
  if (!seeds->empty()) {
    absl::StatusOr<link::Timeline> timeline = link::BuildTimeline(store_, *seeds);
    if (timeline.ok()) {
      events = std::move(timeline->hops);
    } else {
      // If linking fails (e.g. too large), the ENVID's own hops still answer.
      spdlog::warn("lookup: track: linking: {}", timeline.status().ToString());
      absl::StatusOr<std::vector<model::HopEvent>> own = store_.FindByEnvid(envid);
      if (!own.ok()) return StoreError("track", own.status());
      events = std::move(*own);
    }
  }
  absl::StatusOr<std::vector<model::HopEvent>> view = OriginatorView(events, request->secret());
  if (!view.ok()) return net::ToGrpcStatus(view.status());  // NotFound("no information")
  for (const model::HopEvent& e : *view) model::ToProto(e, response->add_hops());
  return grpc::Status::OK;
}

grpc::Status LookupService::FindByMessageId(grpc::ServerContext* /*context*/,
                                            const v1::FindByMessageIdRequest* request,
                                            v1::FindResponse* response) {
  const absl::string_view bare = StripAngleBrackets(request->message_id());
  if (bare.empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "find: empty message-id");
  }
  // Agents store the Message-ID as logged, which may or may not keep the brackets: try both.
  std::vector<model::HopEvent> all;
  for (const std::string& form : {std::string(bare), absl::StrCat("<", bare, ">")}) {
    absl::StatusOr<std::vector<model::HopEvent>> events = store_.FindByMessageId(form);
    if (!events.ok()) return StoreError("find by message-id", events.status());
    all.insert(all.end(), events->begin(), events->end());
  }
  std::sort(all.begin(), all.end(), [](const model::HopEvent& a, const model::HopEvent& b) {
    return std::tie(a.event_time, a.reporting_host, a.final_recipient, a.event_id) <
           std::tie(b.event_time, b.reporting_host, b.final_recipient, b.event_id);
  });
  for (const model::HopEvent& e : all) model::ToProto(e, response->add_hops());
  return grpc::Status::OK;
}

grpc::Status LookupService::StaffSearch(grpc::ServerContext* /*context*/,
                                        const v1::StaffSearchRequest* request,
                                        v1::StaffSearchResponse* response) {
  const absl::Status status = lookup::StaffSearch(store_, *request, response);
  if (status.code() == absl::StatusCode::kInvalidArgument) return net::ToGrpcStatus(status);
  if (!status.ok()) return StoreError("staff search", status);
  return grpc::Status::OK;
}

grpc::Status LookupService::GetTimeline(grpc::ServerContext* /*context*/,
                                        const v1::GetTimelineRequest* request,
                                        v1::MessageTimeline* response) {
  const absl::Status status = lookup::GetTimeline(store_, *request, response);
  if (status.code() == absl::StatusCode::kInvalidArgument ||
      status.code() == absl::StatusCode::kNotFound) {
    return net::ToGrpcStatus(status);
  }
  if (!status.ok()) return StoreError("get timeline", status);
  return grpc::Status::OK;
}

}  // namespace mtrk::collector::lookup
