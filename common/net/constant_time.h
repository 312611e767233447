// Secret comparison that takes the same time wherever the inputs differ (CRYPTO_memcmp), so a
// TRACK's response time cannot reveal how much of a certifier matched (RFC 3887 §4; DIGEST §7.32).
#pragma once

#include <openssl/crypto.h>

#include "absl/strings/string_view.h"

namespace mtrk::net {

inline bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  // Lengths are not secret (a certifier is always 20 octets); contents are.
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace mtrk::net
