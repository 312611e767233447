// The MTRK secret A and certifier B = SHA1(A) (RFC 3885 §3.1, DIGEST §6.1, §6.13).
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace mtrk::net {

inline constexpr size_t kMinSecretBytes = 16;   // 128 bits
inline constexpr size_t kMaxSecretBytes = 128;  // 1024 bits

// SHA1 of the raw secret octets: 20 raw octets.
std::string CertifierOf(absl::string_view secret);

// True when SHA1(secret) equals the stored certifier, compared in constant time. A secret outside
// 16..128 octets never matches (DIGEST §6.13: treated as a wrong secret).
bool SecretMatchesCertifier(absl::string_view secret, absl::string_view certifier);

// Strict RFC 2045 base64 (+ and /), with or without '=' padding; false for anything else, such as
// URL-safe '-' or '_'.
bool DecodeBase64Strict(absl::string_view in, std::string* out);
// Base64 without padding: how a certifier goes on the wire (ESMTP values cannot hold '=').
std::string EncodeBase64Unpadded(absl::string_view in);

}  // namespace mtrk::net
