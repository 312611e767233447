#include "common/net/certifier.h"

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace mtrk::net {
namespace {

// Test vector from DIGEST §2 (not the RFC 3887 example, which is inconsistent: DIGEST §6.2).
TEST(CertifierTest, DigestVector) {
  const std::string a = absl::HexStringToBytes("8f3b5a1c9d2e4f60718293a4b5c6d7e8");
  const std::string b = CertifierOf(a);
  EXPECT_EQ(absl::BytesToHexString(b), "3a213f661481c4791bf083f200afd6324f948d57");
  EXPECT_EQ(EncodeBase64Unpadded(b), "OiE/ZhSBxHkb8IPyAK/WMk+UjVc");
  EXPECT_TRUE(SecretMatchesCertifier(a, b));
  EXPECT_FALSE(SecretMatchesCertifier(a + "x", b));
}

TEST(CertifierTest, SecretOutsideLengthBoundsNeverMatches) {
  const std::string short_secret(15, 'a');
  EXPECT_FALSE(SecretMatchesCertifier(short_secret, CertifierOf(short_secret)));
  const std::string long_secret(129, 'a');
  EXPECT_FALSE(SecretMatchesCertifier(long_secret, CertifierOf(long_secret)));
}

TEST(CertifierTest, StrictBase64) {
  std::string out;
  EXPECT_TRUE(DecodeBase64Strict("OiE/ZhSBxHkb8IPyAK/WMk+UjVc", &out));
  EXPECT_EQ(out.size(), 20u);
  EXPECT_TRUE(DecodeBase64Strict("OiE/ZhSBxHkb8IPyAK/WMk+UjVc=", &out));
  EXPECT_EQ(out.size(), 20u);
  EXPECT_FALSE(DecodeBase64Strict("OiE_ZhSBxHkb8IPyAK-WMk+UjVc", &out));
  EXPECT_FALSE(DecodeBase64Strict("a", &out));
  EXPECT_FALSE(DecodeBase64Strict("ab===", &out));
}

}  // namespace
}  // namespace mtrk::net
