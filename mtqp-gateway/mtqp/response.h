// MTQP status lines (RFC 3887 §2.3): "+OK", "+OK+", "-TEMP", "-ERR", "-BAD", then "/code"s, then
// optional text. Parsed generically; codes compare case-insensitively (DIGEST §6.10). Pure.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mtrk::gateway::mtqp {

struct ResponseLine {
  enum class Indicator { kOk, kOkMulti, kTemp, kErr, kBad };
  Indicator indicator;
  std::vector<std::string> codes;  // as sent, without the '/'
  std::string text;

  bool HasCode(absl::string_view code) const;  // case-insensitive
};

// InvalidArgument if the line does not start with a known indicator.
absl::StatusOr<ResponseLine> ParseResponseLine(absl::string_view line);

}  // namespace mtrk::gateway::mtqp
