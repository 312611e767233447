// RFC 3886 §3.3.3 actions: the meaning behind mtrk.v1.Action.
#pragma once

#include <optional>

#include "absl/strings/string_view.h"

namespace mtrk::model {

enum class DsnAction {
  kUnspecified = 0,
  kDelivered = 1,
  kExpanded = 2,
  kRelayed = 3,
  kTransferred = 4,
  kDelayed = 5,
  kFailed = 6,
  kOpaque = 7,
};

// "delivered", "expanded", ...: the RFC 3886 spelling, as written in an Action: field.
absl::string_view ActionName(DsnAction action);
// Case-insensitive inverse of ActionName; nullopt for anything else.
std::optional<DsnAction> ParseActionName(absl::string_view name);

}  // namespace mtrk::model
