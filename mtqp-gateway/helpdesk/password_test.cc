#include "mtqp-gateway/helpdesk/password.h"

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mtrk::gateway::helpdesk {
namespace {

// Cheap parameters: the format and comparison are under test, not the cost.
constexpr ScryptParams kFast{.n = 1024, .r = 8, .p = 1};

TEST(PasswordTest, RightPasswordVerifiesWrongOneDoesNot) {
  absl::StatusOr<std::string> hash = HashPassword("correct horse", kFast);
  ASSERT_TRUE(hash.ok()) << hash.status();
  EXPECT_TRUE(absl::StartsWith(*hash, "scrypt$1024$8$1$"));
  EXPECT_TRUE(VerifyPassword("correct horse", *hash));
  EXPECT_FALSE(VerifyPassword("correct hors", *hash));
  EXPECT_FALSE(VerifyPassword("", *hash));
}

TEST(PasswordTest, SaltMakesEveryHashDifferent) {
  EXPECT_NE(HashPassword("same", kFast).value(), HashPassword("same", kFast).value());
}

TEST(PasswordTest, DefaultParamsAreMemoryHard) {
  absl::StatusOr<std::string> hash = HashPassword("pw");
  ASSERT_TRUE(hash.ok());
  EXPECT_TRUE(absl::StartsWith(*hash, "scrypt$32768$8$1$")) << *hash;
}

TEST(PasswordTest, MalformedStoredHashNeverVerifies) {
  for (const char* stored : {"", "scrypt", "scrypt$1024$8$1$!!$!!", "bcrypt$x$y$z$a$b",
                             "scrypt$99999999999999$8$1$AAAA$AAAA"}) {
    SCOPED_TRACE(stored);
    EXPECT_FALSE(VerifyPassword("pw", stored));
  }
}

TEST(PasswordTest, OverlongPasswordRefused) {
  EXPECT_FALSE(HashPassword(std::string(kMaxPasswordBytes + 1, 'x'), kFast).ok());
}

TEST(PasswordTest, TokensAreRandomHex) {
  const std::string a = RandomToken(), b = RandomToken();
  EXPECT_EQ(a.size(), 64u);
  EXPECT_NE(a, b);
  EXPECT_THAT(a, ::testing::MatchesRegex("[0-9a-f]+"));
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace mtrk::gateway::helpdesk
