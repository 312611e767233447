// Staff credentials: scrypt password hashes (memory-hard, RFC 7914, via OpenSSL 3's
// EVP_PBE_scrypt), random session/API tokens and their SHA-256 for storage. Thread-safe.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mtrk::gateway::helpdesk {

struct ScryptParams {
  // 2^15 x 8 x 128 B = 32 MiB per hash, ~0.1 s: an offline guesser pays the same per guess.
  uint64_t n = uint64_t{1} << 15;
  uint64_t r = 8;
  uint64_t p = 1;
};

// Longest accepted password (bytes): bounds the KDF input from an unauthenticated form.
inline constexpr size_t kMaxPasswordBytes = 256;

// "scrypt$N$r$p$<salt b64>$<hash b64>" with a 16-octet random salt and a 32-octet hash.
absl::StatusOr<std::string> HashPassword(absl::string_view password,
                                         const ScryptParams& params = {});

// Constant-time comparison of the derived key. False for a malformed stored hash (logged by the
// caller as a broken account, never as the user's fault) and for an empty `stored`.
bool VerifyPassword(absl::string_view password, absl::string_view stored);

// 32 random octets as 64 lower-case hex characters (cookie values, bearer tokens, CSRF tokens).
std::string RandomToken();

// Lower-case hex SHA-256: how tokens are stored, so a database leak yields no usable token.
std::string Sha256Hex(absl::string_view data);

}  // namespace mtrk::gateway::helpdesk
