// LookupService: mtrk.v1.Lookup over gRPC, for the MTQP gateway and staff tools. Thread-safe if
// the store is. Does not own the store.
//
// Track (originator): the ENVID is looked up exactly (case-sensitive) after stripping one
// matching pair of <> (DIGEST §6.3); the messages found are linked across MTAs
// (collector/link) and the answer is OriginatorView of the linked hops, i.e. those carrying
// the matching certifier. An unknown ENVID and a wrong
// secret both give NOT_FOUND "no information".
// FindByMessageId (staff; the caller audits): every event, expansion members included; the
// Message-ID matches with or without its <>.
#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "collector/store/event_store.h"
#include "mtrk/v1/lookup.grpc.pb.h"

namespace mtrk::collector::lookup {

// "<x@y>" -> "x@y"; anything else unchanged (a lone '<' or '>' is part of the value).
absl::string_view StripAngleBrackets(absl::string_view s);

class LookupService final : public v1::Lookup::Service {
 public:
  explicit LookupService(store::EventStore& store) : store_(store) {}

  grpc::Status Track(grpc::ServerContext* context, const v1::TrackRequest* request,
                     v1::TrackResponse* response) override;
  grpc::Status FindByMessageId(grpc::ServerContext* context,
                               const v1::FindByMessageIdRequest* request,
                               v1::FindResponse* response) override;
  // Staff (the caller audits): see staff_search.h.
  grpc::Status StaffSearch(grpc::ServerContext* context, const v1::StaffSearchRequest* request,
                           v1::StaffSearchResponse* response) override;
  grpc::Status GetTimeline(grpc::ServerContext* context, const v1::GetTimelineRequest* request,
                           v1::MessageTimeline* response) override;

 private:
  store::EventStore& store_;
};

}  // namespace mtrk::collector::lookup
