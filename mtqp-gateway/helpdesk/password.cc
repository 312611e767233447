#include "mtqp-gateway/helpdesk/password.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace mtrk::gateway::helpdesk {
namespace {

constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;
constexpr uint64_t kMaxMem = uint64_t{256} << 20;  // refuses stored params costing more

bool Scrypt(absl::string_view password, absl::string_view salt, const ScryptParams& p,
            std::string* out, size_t out_len) {
  out->assign(out_len, '\0');
  return EVP_PBE_scrypt(password.data(), password.size(),
                        reinterpret_cast<const unsigned char*>(salt.data()), salt.size(), p.n, p.r,
                        p.p, kMaxMem, reinterpret_cast<unsigned char*>(out->data()), out_len) == 1;
}

std::string HexOf(const unsigned char* data, size_t n) {
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(data), n));
}

}  // namespace

absl::StatusOr<std::string> HashPassword(absl::string_view password, const ScryptParams& params) {
  if (password.size() > kMaxPasswordBytes) {
    return absl::InvalidArgumentError("password: longer than 256 bytes");
  }
  std::string salt(kSaltBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), kSaltBytes) != 1) {
    return absl::InternalError("password: RAND_bytes failed");
  }
  std::string hash;
  if (!Scrypt(password, salt, params, &hash, kHashBytes)) {
    return absl::InternalError("password: EVP_PBE_scrypt failed");
  }
  return absl::StrCat("scrypt$", params.n, "$", params.r, "$", params.p, "$",
                      absl::Base64Escape(salt), "$", absl::Base64Escape(hash));
}

bool VerifyPassword(absl::string_view password, absl::string_view stored) {
  if (password.size() > kMaxPasswordBytes) return false;
  const std::vector<absl::string_view> parts = absl::StrSplit(stored, '$');
  if (parts.size() != 6 || parts[0] != "scrypt") return false;
  ScryptParams params;
  std::string salt, want;
  if (!absl::SimpleAtoi(parts[1], &params.n) || !absl::SimpleAtoi(parts[2], &params.r) ||
      !absl::SimpleAtoi(parts[3], &params.p) || !absl::Base64Unescape(parts[4], &salt) ||
      !absl::Base64Unescape(parts[5], &want) || want.empty() || want.size() > 64) {
    return false;
  }
  std::string got;
  if (!Scrypt(password, salt, params, &got, want.size())) return false;
  return CRYPTO_memcmp(got.data(), want.data(), want.size()) == 0;
}

std::string RandomToken() {
  unsigned char buf[32];
  if (RAND_bytes(buf, sizeof buf) != 1) abort();  // no entropy: nothing safe to hand out
  return HexOf(buf, sizeof buf);
}

std::string Sha256Hex(absl::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return HexOf(md, sizeof md);
}

}  // namespace mtrk::gateway::helpdesk
