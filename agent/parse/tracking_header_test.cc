#include "agent/parse/tracking_header.h"

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace mtrk::agent::parse {
namespace {

// DIGEST §2: A = 8f3b5a1c9d2e4f60718293a4b5c6d7e8 gives B = 3a213f66...8d57.
const std::string kB = absl::HexStringToBytes("3a213f661481c4791bf083f200afd6324f948d57");

TEST(TrackingHeaderTest, ParsesAllParameters) {
  ASSERT_OK_AND_ASSIGN(
      const TrackingHeader h,
      ParseTrackingHeaderValue("envid=20261123.a1b2c3@a.example; "
                               "certifier=OiE/ZhSBxHkb8IPyAK/WMk+UjVc; timeout=864000"));
  EXPECT_EQ(h.envid, "20261123.a1b2c3@a.example");
  EXPECT_EQ(h.certifier, kB);
  EXPECT_EQ(h.timeout_s, 864000);
}

TEST(TrackingHeaderTest, LiberalInWhatItAccepts) {
  const char* kCases[] = {
      "ENVID=x@a.example;Certifier=OiE/ZhSBxHkb8IPyAK/WMk+UjVc=",  // case, padding, no space
      "  certifier=OiE/ZhSBxHkb8IPyAK/WMk+UjVc ;  envid=x@a.example ; future=1;",  // order, unknown
  };
  for (const char* value : kCases) {
    SCOPED_TRACE(value);
    ASSERT_OK_AND_ASSIGN(const TrackingHeader h, ParseTrackingHeaderValue(value));
    EXPECT_EQ(h.envid, "x@a.example");
    EXPECT_EQ(h.certifier, kB);
    EXPECT_EQ(h.timeout_s, 0);
  }
}

TEST(TrackingHeaderTest, EnvidIsXtextDecoded) {
  ASSERT_OK_AND_ASSIGN(
      const TrackingHeader h,
      ParseTrackingHeaderValue("envid=a+2Bb+3Dc@x; certifier=OiE/ZhSBxHkb8IPyAK/WMk+UjVc"));
  EXPECT_EQ(h.envid, "a+b=c@x");
}

TEST(TrackingHeaderTest, MalformedIsInvalidArgument) {
  const char* kCases[] = {
      "certifier=OiE/ZhSBxHkb8IPyAK/WMk+UjVc",                                 // no envid
      "envid=x@a.example",                                                     // no certifier
      "envid=x@a.example; certifier=OiE_ZhSBxHkb8IPyAK_WMk-UjVc",              // URL-safe base64
      "envid=x@a.example; certifier=YWJjZGVmZ2g",                              // 8 octets, not 20
      "envid=x+2@a.example; certifier=OiE/ZhSBxHkb8IPyAK/WMk+UjVc",            // bad hexchar
      "envid=x=y; certifier=OiE/ZhSBxHkb8IPyAK/WMk+UjVc",                      // '=' not xtext
      "envid=x@a; certifier=OiE/ZhSBxHkb8IPyAK/WMk+UjVc; timeout=1234567890",  // 10 digits
      "envid=x@a; certifier=OiE/ZhSBxHkb8IPyAK/WMk+UjVc; timeout=-5",
      "envid=a; envid=b; certifier=OiE/ZhSBxHkb8IPyAK/WMk+UjVc",
      "envid",
  };
  for (const char* value : kCases) {
    SCOPED_TRACE(value);
    EXPECT_THAT(ParseTrackingHeaderValue(value),
                test::StatusIs(absl::StatusCode::kInvalidArgument));
  }
  const std::string long_envid =
      "envid=" + std::string(101, 'e') + "; certifier=OiE/ZhSBxHkb8IPyAK/WMk+UjVc";
  EXPECT_THAT(ParseTrackingHeaderValue(long_envid),
              test::StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace mtrk::agent::parse
