// The mtrk tracking header, a product decision (see README):
//   X-MTRK: envid=<ENVID as xtext>; certifier=<base64 of B = SHA1(A)>[; timeout=<seconds>]
// Parameters are separated by ';' plus optional whitespace; names are case-insensitive; unknown
// parameters are ignored. MTA-independent: each MTA parser finds the header value in its own log
// format and hands it here. Pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mtrk::agent::parse {

struct TrackingHeader {
  std::string envid;      // xtext decoded (RFC 3461 §4), case kept
  std::string certifier;  // B: exactly 20 raw octets
  int64_t timeout_s = 0;  // 0 when the header gave none (the collector applies its default)

  friend bool operator==(const TrackingHeader&, const TrackingHeader&) = default;
};

// Parses the header value (what follows "X-MTRK:"). InvalidArgument when envid or certifier is
// missing or repeated, the xtext is bad, the ENVID is longer than 100 octets (RFC 3461 §4.4), the
// certifier is not strict base64 of 20 octets (DIGEST §6.1), or the timeout is not 1*9DIGIT.
absl::StatusOr<TrackingHeader> ParseTrackingHeaderValue(absl::string_view value);

// RFC 3461 §4 xtext: "+" and two hex digits encode one octet; other octets must be '!'..'~'
// except '+' and '='. Lower-case hex is accepted (be liberal in what you accept).
absl::StatusOr<std::string> DecodeXtext(absl::string_view xtext);

}  // namespace mtrk::agent::parse
