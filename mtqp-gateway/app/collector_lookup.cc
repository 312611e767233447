#include "mtqp-gateway/app/collector_lookup.h"

#include "common/model/hop_event_proto.h"
#include "common/net/grpc_status.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace mtrk::gateway::app {

CollectorLookup::CollectorLookup(std::shared_ptr<grpc::Channel> channel, absl::Duration deadline)
    : channel_(channel), stub_(v1::Lookup::NewStub(channel)), deadline_(deadline) {}

std::unique_ptr<CollectorLookup> CollectorLookup::ConnectInsecure(const std::string& target) {
  return std::make_unique<CollectorLookup>(
      grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
}

absl::StatusOr<std::unique_ptr<CollectorLookup>> CollectorLookup::ConnectTls(
    const std::string& target, const net::TlsFiles& files) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      net::GrpcChannelCredentials(files);
  if (!credentials.ok()) return credentials.status();
  return std::make_unique<CollectorLookup>(grpc::CreateChannel(target, *credentials));
}

absl::StatusOr<std::vector<model::HopEvent>> CollectorLookup::Track(absl::string_view envid,
                                                                    absl::string_view secret) {
  v1::TrackRequest request;
  request.set_envid(std::string(envid));
  request.set_secret(std::string(secret));
  v1::TrackResponse response;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + deadline_));
  const grpc::Status status = stub_->Track(&context, request, &response);
  if (!status.ok()) {
    absl::Status s = net::FromGrpcStatus(status);
    if (!absl::IsNotFound(s) && !absl::IsInvalidArgument(s)) {
      const int64_t failures = failures_.fetch_add(1, std::memory_order_relaxed) + 1;
      if (uint64_t suppressed = 0; warnings_.Allow("collector-unavailable", &suppressed)) {
        spdlog::warn("collector lookup failed: {} ({} failures so far, {} such lines suppressed)",
                     s.ToString(), failures, suppressed);
      }
    }
    return s;
  }
  std::vector<model::HopEvent> hops;
  hops.reserve(static_cast<size_t>(response.hops_size()));
  for (const v1::HopEvent& hop : response.hops()) hops.push_back(model::FromProto(hop));
  return hops;
}

}  // namespace mtrk::gateway::app
