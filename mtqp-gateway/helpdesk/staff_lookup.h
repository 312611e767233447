// StaffLookup: how the helpdesk asks the collector for messages (mtrk.v1.Lookup.StaffSearch and
// GetTimeline). The product implementation (grpc_staff_lookup.h) calls the collector over gRPC;
// unit tests use FakeStaffLookup (fake_staff_lookup.h). The helpdesk authenticates staff, checks
// their role and writes the audit record before calling; a StaffLookup only answers.
// Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/model/dsn_action.h"
#include "common/model/hop_event.h"

namespace mtrk::gateway::helpdesk {

enum class MatchMode { kExact, kPrefix, kSubstring };

// Mirrors mtrk.v1.StaffSearchRequest; every field already validated (search_query.h).
struct StaffQuery {
  std::string sender;
  std::string recipient;
  std::string message_id;  // without <>
  std::string envid;
  std::string queue_id;
  absl::Time from = absl::InfinitePast();                    // first_seen >= from
  absl::Time to = absl::InfiniteFuture();                    // first_seen < to
  model::DsnAction action = model::DsnAction::kUnspecified;  // kUnspecified: any
  MatchMode match = MatchMode::kExact;
  std::vector<std::string> domains;  // non-empty: restrict to these (domain admins)
  uint32_t page_size = 50;
  std::string cursor;
};

// One message's path across every MTA (mtrk.v1.MessageTimeline).
struct MessageTimeline {
  std::string message_key;
  std::string message_id;
  std::string sender;
  std::string envid;
  absl::Time first_seen = absl::InfinitePast();
  std::vector<model::HopEvent> hops;  // ordered by event time
};

struct SearchPage {
  std::vector<MessageTimeline> messages;
  std::string next_cursor;  // empty: no more
};

class StaffLookup {
 public:
  virtual ~StaffLookup() = default;
  // Unimplemented if the collector does not offer staff search yet; Unavailable or
  // DeadlineExceeded when it cannot answer now; InvalidArgument for a bad cursor.
  virtual absl::StatusOr<SearchPage> Search(const StaffQuery& query) = 0;
  // NotFound for an unknown key and for a message outside `domains` (non-empty) alike.
  virtual absl::StatusOr<MessageTimeline> Timeline(const std::string& message_key,
                                                   const std::vector<std::string>& domains) = 0;
};

}  // namespace mtrk::gateway::helpdesk
