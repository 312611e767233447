#include "agent/app/line_splitter.h"

#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mtrk::agent::app {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

// What the splitter reported, in order: ("line text", offset), or ("<too long>", offset).
using Seen = std::vector<std::pair<std::string, uint64_t>>;

// Feeds `input` in blocks of `block` bytes (the whole of it if 0), then finishes.
Seen Split(const std::string& input, size_t max_line_bytes, size_t block = 0) {
  Seen seen;
  const auto on_line = [&](absl::string_view line, uint64_t offset) {
    seen.emplace_back(std::string(line), offset);
  };
  const auto on_too_long = [&](uint64_t offset) { seen.emplace_back("<too long>", offset); };
  LineSplitter splitter(max_line_bytes);
  const size_t step = block == 0 ? input.size() : block;
  for (size_t at = 0; at < input.size(); at += step) {
    splitter.Feed(absl::string_view(input).substr(at, step), on_line, on_too_long);
  }
  splitter.Finish(on_line, on_too_long);
  EXPECT_EQ(splitter.offset(), input.size());
  return seen;
}

TEST(LineSplitterTest, LinesAndTheirStartOffsetsWhateverTheBlocks) {
  const std::string input = "one\n\nthree 3\nfour\n";
  const Seen whole = Split(input, 100);
  EXPECT_THAT(whole,
              ElementsAre(Pair("one", 0), Pair("", 4), Pair("three 3", 5), Pair("four", 13)));
  for (size_t block = 1; block <= input.size(); ++block) {
    EXPECT_EQ(Split(input, 100, block), whole) << "blocks of " << block;
  }
}

TEST(LineSplitterTest, ALastLineWithoutNewlineIsALine) {
  EXPECT_THAT(Split("a\nlast", 100), ElementsAre(Pair("a", 0), Pair("last", 2)));
  EXPECT_THAT(Split("a\nlast", 100, 1), ElementsAre(Pair("a", 0), Pair("last", 2)));
  EXPECT_THAT(Split("", 100), ElementsAre());
}

TEST(LineSplitterTest, OverLongLinesAreReportedOnceAndNotHeld) {
  const std::string input = "short\n" + std::string(25, 'x') + "\nok\n" + std::string(11, 'y');
  const Seen expected = {{"short", 0}, {"<too long>", 6}, {"ok", 32}, {"<too long>", 35}};
  for (size_t block : {size_t{0}, size_t{1}, size_t{4}, size_t{7}}) {
    EXPECT_EQ(Split(input, 10, block), expected) << "blocks of " << block;
  }
  // Exactly the limit is not too long, across blocks too.
  EXPECT_THAT(Split(std::string(10, 'z') + "\n", 10, 3),
              ElementsAre(Pair(std::string(10, 'z'), 0)));
}

}  // namespace
}  // namespace mtrk::agent::app
