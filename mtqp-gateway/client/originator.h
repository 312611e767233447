// The originator's side of RFC 3885 (DIGEST §2, §4 "mtqp URI"; §7 items 56-58): making A, B
// and a unique ENVID for a new message, keeping A locally, and reading mtqp:// URIs.
#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace mtrk::gateway::client {

struct TrackingIds {
  std::string envid;          // unique-envid, xtext-safe, <= 100 characters
  std::string secret;         // A: the raw random octets
  std::string secret_base64;  // A in base64 (what TRACK sends)
  std::string certifier;      // B = SHA1(A) in base64 without padding (what MTRK= sends)
};

inline constexpr size_t kNewSecretBytes = 32;  // 256 bits: within 16..128 (RFC 3885 §3.1)

// RFC 3885 §3.2: local-envid "@" fqhn; when that is over 100 characters, fqhn becomes
// base64(SHA1(fqhn)) (27 characters; "/" and "+" are xtext-safe but "+" is escaped). The
// local part is cut if it still does not fit.
std::string MakeUniqueEnvid(absl::string_view local_envid, absl::string_view fqhn);

// New A (from OpenSSL's CSPRNG), B and an ENVID unique in time and randomness at `fqhn`.
absl::StatusOr<TrackingIds> NewTrackingIds(absl::string_view fqhn, absl::Time now = absl::Now());

// The lines an originator adds: the X-MTRK header (README.md) and the MAIL FROM parameters.
std::string TrackingHeader(const TrackingIds& ids);
std::string MailFromParameters(const TrackingIds& ids);

// The local secret store: $MTRK_HOME/secrets, else ~/.mtrk/secrets; lines "ENVID base64(A)".
// Created with mode 0600 in a 0700 directory; a store readable by others is refused.
std::string SecretStorePath();
absl::Status StoreSecret(const std::string& path, absl::string_view envid,
                         absl::string_view secret_base64);
// NotFound when the ENVID is not in the store.
absl::StatusOr<std::string> LookupSecret(const std::string& path, absl::string_view envid);

// RFC 3887 §9: mtqp://host[:port]/track/<envid>/<secret>, "/track/" case-insensitive, %XX
// decoded in the ENVID and the secret.
struct MtqpUri {
  std::string host;
  std::string port = "1038";
  std::string envid;
  std::string secret_base64;
};
absl::StatusOr<MtqpUri> ParseMtqpUri(absl::string_view uri);

}  // namespace mtrk::gateway::client
