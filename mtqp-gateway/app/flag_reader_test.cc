#include "mtqp-gateway/app/flag_reader.h"

#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace mtrk::gateway::app {
namespace {

using ::mtrk::test::StatusIs;
using ::testing::ElementsAre;
using ::testing::Pair;

// argv-like storage: FlagReader takes char* words, as main gets them.
class Args {
 public:
  explicit Args(std::vector<std::string> words) : words_(std::move(words)) {
    for (std::string& w : words_) pointers_.push_back(w.data());
  }
  std::span<char* const> span() const { return pointers_; }

 private:
  std::vector<std::string> words_;
  std::vector<char*> pointers_;
};

// Reads every flag; the first error ends the list as ("error", message).
std::vector<std::pair<std::string, std::string>> ReadAll(FlagReader reader) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!reader.done()) {
    absl::StatusOr<FlagReader::Flag> flag = reader.Next();
    if (!flag.ok()) {
      out.emplace_back("error", std::string(flag.status().message()));
      break;
    }
    out.emplace_back(flag->name, flag->value);
  }
  return out;
}

TEST(FlagReaderTest, SpaceAndEqualsFormsGiveTheSameFlags) {
  Args args({"--listen", "127.0.0.1:0", "--collector=c:1", "--own-host=", "--x", "a=b"});
  EXPECT_THAT(ReadAll(FlagReader(args.span())),
              ElementsAre(Pair("--listen", "127.0.0.1:0"), Pair("--collector", "c:1"),
                          Pair("--own-host", ""), Pair("--x", "a=b")));
}

TEST(FlagReaderTest, OnlyTheFirstEqualsSplits) {
  Args args({"--helpdesk-db=host=db port=5432"});
  EXPECT_THAT(ReadAll(FlagReader(args.span())),
              ElementsAre(Pair("--helpdesk-db", "host=db port=5432")));
}

TEST(FlagReaderTest, SwitchesTakeNoValue) {
  Args args({"--tls-required", "--listen", "h:1", "--help"});
  EXPECT_THAT(ReadAll(FlagReader(args.span(), {"--tls-required", "--help"})),
              ElementsAre(Pair("--tls-required", ""), Pair("--listen", "h:1"), Pair("--help", "")));
}

TEST(FlagReaderTest, SwitchWithEqualsIsAnError) {
  Args args({"--tls-required=yes"});
  FlagReader reader(args.span(), {"--tls-required"});
  EXPECT_THAT(reader.Next(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ReadAll(FlagReader(args.span(), {"--tls-required"})),
              ElementsAre(Pair("error", "--tls-required takes no value")));
}

TEST(FlagReaderTest, MissingValueIsAnError) {
  Args args({"--listen", "h:1", "--collector"});
  EXPECT_THAT(ReadAll(FlagReader(args.span())),
              ElementsAre(Pair("--listen", "h:1"), Pair("error", "--collector needs a value")));
}

TEST(FlagReaderTest, AFlagBeforeASwitchTakesItAsItsValue) {
  // As before the reader existed: a value is the next word, whatever it looks like.
  Args args({"--listen", "--help"});
  EXPECT_THAT(ReadAll(FlagReader(args.span(), {"--help"})),
              ElementsAre(Pair("--listen", "--help")));
}

TEST(FlagReaderTest, UnknownFlagIsAnErrorWhenTheKnownOnesAreListed) {
  Args args({"--db", "x", "--nmae", "alice"});
  EXPECT_THAT(ReadAll(FlagReader(args.span(), {}, {"--db", "--name"})),
              ElementsAre(Pair("--db", "x"), Pair("error", "unknown flag --nmae")));
  // Checked before the value is looked for: a trailing unknown flag is named as unknown.
  Args trailing({"--bogus"});
  EXPECT_THAT(ReadAll(FlagReader(trailing.span(), {}, {"--db"})),
              ElementsAre(Pair("error", "unknown flag --bogus")));
  // Without a list every flag is passed on; the caller decides.
  EXPECT_THAT(ReadAll(FlagReader(args.span())),
              ElementsAre(Pair("--db", "x"), Pair("--nmae", "alice")));
}

TEST(FlagReaderTest, NothingToRead) {
  Args args({});
  EXPECT_TRUE(FlagReader(args.span()).done());
}

}  // namespace
}  // namespace mtrk::gateway::app
