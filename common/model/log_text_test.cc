#include "common/model/log_text.h"

#include <string>

#include "gtest/gtest.h"

namespace mtrk::model {
namespace {

using namespace std::string_literals;  // NOLINT(build/namespaces): "\0"s

TEST(LogTextTest, AcceptsAsciiAndWellFormedUtf8) {
  EXPECT_TRUE(IsLogText(""));
  EXPECT_TRUE(IsLogText("550 5.1.1 <bob@b.example>: Recipient address rejected"));
  EXPECT_TRUE(IsLogText("j\xc3\xbcrgen@a.example"));            // ü, 2 bytes
  EXPECT_TRUE(IsLogText("\xe2\x82\xac \xed\x9f\xbf"));          // €, U+D7FF
  EXPECT_TRUE(IsLogText("\xf0\x9f\x93\xa7 \xf4\x8f\xbf\xbf"));  // U+1F4E7, U+10FFFF
}

TEST(LogTextTest, RefusesNulAndMalformedUtf8) {
  EXPECT_FALSE(IsLogText("a\0b"s));
  EXPECT_FALSE(IsLogText("caf\xe9"));           // Latin-1
  EXPECT_FALSE(IsLogText("\x80"));              // continuation byte alone
  EXPECT_FALSE(IsLogText("\xc3"));              // cut short
  EXPECT_FALSE(IsLogText("\xe2\x82"));          // cut short
  EXPECT_FALSE(IsLogText("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsLogText("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(IsLogText("\xf0\x80\x80\xaf"));  // overlong
  EXPECT_FALSE(IsLogText("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(IsLogText("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsLogText("\xf5\x80\x80\x80"));
  EXPECT_FALSE(IsLogText("\xff"));
}

TEST(LogTextTest, EveryLengthAndPositionOfABadByteIsFound) {
  // The check reads 16, 8 or 4 bytes at a time with overlapping tails: a bad byte must be seen
  // wherever it is, and a clean input of any length must pass.
  for (size_t n = 0; n <= 70; ++n) {
    const std::string clean(n, 'a');
    EXPECT_TRUE(IsAsciiWithoutNul(clean)) << n;
    for (size_t at = 0; at < n; ++at) {
      for (const char bad : {'\0', '\x80', '\xff'}) {
        std::string s = clean;
        s[at] = bad;
        EXPECT_FALSE(IsAsciiWithoutNul(s)) << n << " " << at << " " << int{bad};
        EXPECT_FALSE(IsLogText(s)) << n << " " << at;
      }
      std::string s = clean;
      s[at] = '\x7f';
      EXPECT_TRUE(IsAsciiWithoutNul(s)) << n << " " << at;
      s[at] = '\x01';
      EXPECT_TRUE(IsAsciiWithoutNul(s)) << n << " " << at;
    }
  }
}

TEST(LogTextTest, RepairKeepsGoodTextAndReadsStrayBytesAsLatin1) {
  std::string good = "j\xc3\xbcrgen@a.example";
  EXPECT_FALSE(RepairLogText(&good, 512));
  EXPECT_EQ(good, "j\xc3\xbcrgen@a.example");

  std::string latin1 = "j\xfcrgen@a.example";
  EXPECT_TRUE(RepairLogText(&latin1, 512));
  EXPECT_EQ(latin1, "j\xc3\xbcrgen@a.example");  // the same address as typed in UTF-8

  std::string mixed = "\xe2\x82\xac caf\xe9 \x80 a\0b \xc3"s;
  EXPECT_TRUE(RepairLogText(&mixed, 512));
  EXPECT_EQ(mixed,
            "\xe2\x82\xac caf\xc3\xa9 \xc2\x80 a\xef\xbf\xbd"
            "b \xc3\x83");
  EXPECT_TRUE(IsLogText(mixed));
}

TEST(LogTextTest, RepairCutsAtACharacterBoundaryWithinTheLimit) {
  std::string s(10, '\xe9');  // 10 bytes of Latin-1: 20 bytes of UTF-8
  EXPECT_TRUE(RepairLogText(&s, 9));
  EXPECT_EQ(s.size(), 8u);
  EXPECT_TRUE(IsLogText(s));
  std::string long_clean(20, 'x');
  EXPECT_TRUE(RepairLogText(&long_clean, 16));
  EXPECT_EQ(long_clean, std::string(16, 'x'));
}

TEST(LogTextTest, EveryByteRepairsToValidText) {
  for (int b = 0; b < 256; ++b) {
    std::string s = "x" + std::string(1, static_cast<char>(b)) + "y";
    RepairLogText(&s, 16);
    EXPECT_TRUE(IsLogText(s)) << b;
    EXPECT_EQ(s.front(), 'x');
    EXPECT_EQ(s.back(), 'y');
  }
}

}  // namespace
}  // namespace mtrk::model
