#include "common/net/certifier.h"

#include <openssl/sha.h>

#include "absl/strings/escaping.h"
#include "common/net/constant_time.h"

namespace mtrk::net {

std::string CertifierOf(absl::string_view secret) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

bool SecretMatchesCertifier(absl::string_view secret, absl::string_view certifier) {
  if (secret.size() < kMinSecretBytes || secret.size() > kMaxSecretBytes) return false;
  return ConstantTimeEquals(CertifierOf(secret), certifier);
}

bool DecodeBase64Strict(absl::string_view in, std::string* out) {
  size_t body = in.size();
  while (body > 0 && in[body - 1] == '=') --body;
  if (in.size() - body > 2) return false;
  if (body % 4 == 1) return false;
  for (size_t i = 0; i < body; ++i) {
    const char c = in[i];
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '/';
    if (!ok) return false;
  }
  if (in.size() != body && (in.size() % 4) != 0) return false;  // padding must complete a quad
  return absl::Base64Unescape(in.substr(0, body), out);
}

std::string EncodeBase64Unpadded(absl::string_view in) {
  std::string s = absl::Base64Escape(in);
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

}  // namespace mtrk::net
