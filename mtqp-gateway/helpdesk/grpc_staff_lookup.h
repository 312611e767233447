// StaffLookup backed by the collector's mtrk.v1.Lookup (StaffSearch, GetTimeline). The gateway
// holds no hop-event database credentials (STYLE §1). Thread-safe: gRPC stubs are.
//
// Until a collector implements StaffSearch, it answers UNIMPLEMENTED; we then say so plainly
// ("collector does not implement StaffSearch yet") and, for a query that names only a
// Message-ID, fall back to FindByMessageId so the helpdesk stays useful. Such fallback results
// carry message keys of the form "mid:<message-id>", which Timeline() understands.
#pragma once

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "mtqp-gateway/helpdesk/staff_lookup.h"
#include "mtrk/v1/lookup.grpc.pb.h"

namespace mtrk::gateway::helpdesk {

class GrpcStaffLookup : public StaffLookup {
 public:
  static constexpr absl::Duration kDefaultDeadline = absl::Seconds(10);

  // `channel` is shared because gRPC's API hands channels out as shared_ptr.
  explicit GrpcStaffLookup(std::shared_ptr<grpc::Channel> channel,
                           absl::Duration deadline = kDefaultDeadline);

  absl::StatusOr<SearchPage> Search(const StaffQuery& query) override;
  absl::StatusOr<MessageTimeline> Timeline(const std::string& message_key,
                                           const std::vector<std::string>& domains) override;

 private:
  absl::StatusOr<SearchPage> SearchByMessageId(const StaffQuery& query);

  std::unique_ptr<v1::Lookup::Stub> stub_;
  const absl::Duration deadline_;
};

// Groups hops (e.g. from FindByMessageId) into one timeline keyed "mid:<message-id>". Exposed
// for tests.
MessageTimeline TimelineFromHops(const std::string& message_id, std::vector<model::HopEvent> hops);

// True when any hop's sender or (original or final) recipient is in one of `domains`.
bool TimelineInDomains(const MessageTimeline& timeline, const std::vector<std::string>& domains);

}  // namespace mtrk::gateway::helpdesk
