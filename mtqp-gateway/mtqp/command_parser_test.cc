#include "mtqp-gateway/mtqp/command_parser.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace mtrk::gateway::mtqp {
namespace {

// A = 8f3b5a1c9d2e4f60718293a4b5c6d7e8 (DIGEST §2), base64 with and without padding.
constexpr absl::string_view kSecretPadded = "jztaHJ0uT2BxgpOktcbX6A==";
constexpr absl::string_view kSecretUnpadded = "jztaHJ0uT2BxgpOktcbX6A";

// One line per outcome, so a table row states what it expects.
std::string Describe(const absl::StatusOr<Command>& c) {
  if (!c.ok()) return "BAD";
  if (const auto* t = std::get_if<TrackCommand>(&*c)) {
    return absl::StrCat("TRACK envid=", t->envid, " secret_bytes=", t->secret.size());
  }
  if (std::holds_alternative<CommentCommand>(*c)) return "COMMENT";
  if (std::holds_alternative<QuitCommand>(*c)) return "QUIT";
  return absl::StrCat("STARTTLS ", std::get<StartTlsCommand>(*c).fqdn);
}

TEST(Conformance, Item07_CaseInsensitiveCommands) {
  const struct {
    std::string line, want;
  } kCases[] = {
      {absl::StrCat("TRACK x@a.example ", kSecretPadded),
       "TRACK envid=x@a.example secret_bytes=16"},
      {absl::StrCat("track x@a.example ", kSecretPadded),
       "TRACK envid=x@a.example secret_bytes=16"},
      {absl::StrCat("Track x@a.example ", kSecretPadded),
       "TRACK envid=x@a.example secret_bytes=16"},
      {absl::StrCat("TRACK  \t x@a.example\t\t", kSecretPadded),
       "TRACK envid=x@a.example secret_bytes=16"},
      {absl::StrCat("TRACK x@a.example ", kSecretPadded, " \t"),  // trailing WSP, DIGEST §6.12
       "TRACK envid=x@a.example secret_bytes=16"},
      {"quit", "QUIT"},
      {"Quit  ", "QUIT"},
      {"comment", "COMMENT"},
      {"CoMmEnT hello  there\t!", "COMMENT"},
      {"starttls mtqp.a.example", "STARTTLS mtqp.a.example"},
      {"STARTTLS\tmtqp.a.example  ", "STARTTLS mtqp.a.example"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.line);
    EXPECT_EQ(Describe(ParseCommand(c.line)), c.want);
  }
}

TEST(Conformance, Item09_EmptyLineAndWrongParameterCountAreBad) {
  const std::string kCases[] = {
      "",
      " ",
      "TRACK",
      "TRACK x@a.example",
      absl::StrCat("TRACK x@a.example ", kSecretPadded, " extra"),
      "QUIT now",
      "STARTTLS",  // DIGEST §7 item 37
      "STARTTLS a.example b.example",
      "STARTTLS localhost",                                // not an FQDN (RFC 3887 §6 grammar)
      absl::StrCat(" TRACK x@a.example ", kSecretPadded),  // must start with the keyword
  };
  for (const std::string& line : kCases) {
    SCOPED_TRACE(line);
    EXPECT_THAT(ParseCommand(line), test::StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

TEST(Conformance, Item08_UnknownCommandIsBad) {
  for (absl::string_view line : {"HELO a.example", "TRACKX a b", "COMMENTx", "LIST", "\x7f"}) {
    SCOPED_TRACE(line);
    EXPECT_THAT(ParseCommand(line), test::StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

TEST(Conformance, Item10_LineLongerThan998IsBad) {
  const std::string comment_998 = "COMMENT " + std::string(990, 'x');
  ASSERT_EQ(comment_998.size(), 998u);
  EXPECT_EQ(Describe(ParseCommand(comment_998)), "COMMENT");
  EXPECT_THAT(ParseCommand(comment_998 + "x"), test::StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(Conformance, Item11_NonPrintableIsBad) {
  const std::string kCases[] = {
      std::string("COMMENT a\0b", 11),
      "COMMENT a\rb",
      "COMMENT a\nb",
      "COMMENT caf\xc3\xa9",
      absl::StrCat("TRACK x@a.example\x01 ", kSecretPadded),
      "\x1b[A",
  };
  for (const std::string& line : kCases) {
    SCOPED_TRACE(line);
    EXPECT_THAT(ParseCommand(line), test::StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

TEST(Conformance, Item33_SecretWithOrWithoutPaddingUrlSafeIsBad) {
  EXPECT_EQ(Describe(ParseCommand(absl::StrCat("TRACK e@a.example ", kSecretPadded))),
            "TRACK envid=e@a.example secret_bytes=16");
  EXPECT_EQ(Describe(ParseCommand(absl::StrCat("TRACK e@a.example ", kSecretUnpadded))),
            "TRACK envid=e@a.example secret_bytes=16");
  // The same 16 octets written URL-safe would need '-' or '_': rejected, not "fixed".
  for (absl::string_view secret :
       {"jztaHJ0uT2BxgpOktcbX6A-_", "abc_def-", "a", "ab=c", "YWJj==="}) {
    SCOPED_TRACE(secret);
    EXPECT_THAT(ParseCommand(absl::StrCat("TRACK e@a.example ", secret)),
                test::StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

TEST(Conformance, Item34_EnvidAngleBracketsStrippedCaseKept) {
  EXPECT_EQ(Describe(ParseCommand(absl::StrCat("TRACK <Id-1@A.example> ", kSecretPadded))),
            "TRACK envid=Id-1@A.example secret_bytes=16");
  EXPECT_EQ(Describe(ParseCommand(absl::StrCat("TRACK Id-1@A.example ", kSecretPadded))),
            "TRACK envid=Id-1@A.example secret_bytes=16");
  // Only one matching pair goes; an unmatched bracket stays part of the ENVID.
  EXPECT_EQ(Describe(ParseCommand(absl::StrCat("TRACK <<x@a>> ", kSecretPadded))),
            "TRACK envid=<x@a> secret_bytes=16");
  EXPECT_EQ(Describe(ParseCommand(absl::StrCat("TRACK <x@a ", kSecretPadded))),
            "TRACK envid=<x@a secret_bytes=16");
  EXPECT_THAT(ParseCommand(absl::StrCat("TRACK <> ", kSecretPadded)),
              test::StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(CommandParserTest, SecretLengthIsNotCheckedHere) {
  // DIGEST §6.13: a short secret is a wrong secret (Session answers -ERR/noinfo), not -BAD.
  EXPECT_EQ(Describe(ParseCommand("TRACK e@a.example YWJj")),
            "TRACK envid=e@a.example secret_bytes=3");
}

TEST(CommandParserTest, EnvidXtextIsDecoded) {
  EXPECT_EQ(Describe(ParseCommand(absl::StrCat("TRACK a+2Bb@x.example ", kSecretPadded))),
            "TRACK envid=a+b@x.example secret_bytes=16");
  EXPECT_THAT(ParseCommand(absl::StrCat("TRACK a+zz@x.example ", kSecretPadded)),
              test::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseCommand(absl::StrCat("TRACK ", std::string(101, 'e'), " ", kSecretPadded)),
              test::StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(CommandParserTest, XtextRoundTrip) {
  const std::string raw = "a+b=c d\x01@x";
  std::string decoded;
  ASSERT_TRUE(DecodeXtext(EncodeXtext(raw), &decoded));
  EXPECT_EQ(decoded, raw);
  EXPECT_EQ(EncodeXtext("a+b=c"), "a+2Bb+3Dc");
  EXPECT_FALSE(DecodeXtext("ab+2", &decoded));
}

}  // namespace
}  // namespace mtrk::gateway::mtqp
