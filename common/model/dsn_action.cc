#include "common/model/dsn_action.h"

#include "absl/strings/match.h"

namespace mtrk::model {

absl::string_view ActionName(DsnAction action) {
  switch (action) {
    case DsnAction::kDelivered:
      return "delivered";
    case DsnAction::kExpanded:
      return "expanded";
    case DsnAction::kRelayed:
      return "relayed";
    case DsnAction::kTransferred:
      return "transferred";
    case DsnAction::kDelayed:
      return "delayed";
    case DsnAction::kFailed:
      return "failed";
    case DsnAction::kOpaque:
      return "opaque";
    case DsnAction::kUnspecified:
      break;
  }
  return "unspecified";
}

std::optional<DsnAction> ParseActionName(absl::string_view name) {
  for (int i = 1; i <= 7; ++i) {
    const auto action = static_cast<DsnAction>(i);
    if (absl::EqualsIgnoreCase(name, ActionName(action))) return action;
  }
  return std::nullopt;
}

}  // namespace mtrk::model
