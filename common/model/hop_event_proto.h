// Conversion between model::HopEvent and the wire type mtrk.v1.HopEvent.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "common/model/hop_event.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "mtrk/v1/event.pb.h"

namespace mtrk::model {

void ToProto(const HopEvent& event, v1::HopEvent* out);
HopEvent FromProto(const v1::HopEvent& proto);

inline constexpr int kMaxEventsPerBatch = 10000;

// Converts and validates a whole batch; the first bad event fails all (InvalidArgument naming
// its index and field), so a bad batch is rejected whole.
absl::StatusOr<std::vector<HopEvent>> HopEventsFromProto(
    const google::protobuf::RepeatedPtrField<v1::HopEvent>& events);

}  // namespace mtrk::model
