#include "mtqp-gateway/mtqp/line_assembler.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace mtrk::gateway::mtqp {
namespace {

// Feeds `chunks` one by one, draining after each, and describes the events.
std::vector<std::string> Assemble(size_t max, const std::vector<std::string>& chunks) {
  LineAssembler a(max);
  std::vector<std::string> out;
  for (const std::string& c : chunks) {
    a.Feed(c);
    while (auto e = a.Next()) {
      out.push_back(e->kind == LineAssembler::Event::Kind::kLine ? "line:" + e->line : "too-long");
    }
  }
  return out;
}

TEST(LineAssemblerTest, SplitsPipelinedLinesInOrder) {
  EXPECT_EQ(Assemble(998, {"COMMENT a\r\nCOMMENT b\r\nQU", "IT\r\n"}),
            (std::vector<std::string>{"line:COMMENT a", "line:COMMENT b", "line:QUIT"}));
}

TEST(LineAssemblerTest, AcceptsBareLfAndKeepsInnerCr) {
  EXPECT_EQ(Assemble(998, {"a\nb\rc\r\n"}), (std::vector<std::string>{"line:a", "line:b\rc"}));
}

TEST(LineAssemblerTest, ExactLimitPassesOneMoreIsTooLong) {
  EXPECT_EQ(Assemble(10, {std::string(10, 'x') + "\r\n"}),
            (std::vector<std::string>{"line:" + std::string(10, 'x')}));
  EXPECT_EQ(Assemble(10, {std::string(11, 'x') + "\r\n", "ok\r\n"}),
            (std::vector<std::string>{"too-long", "line:ok"}));
}

TEST(LineAssemblerTest, LongLineAcrossChunksIsDroppedUpToItsEnd) {
  std::vector<std::string> chunks;
  for (int i = 0; i < 100; ++i) chunks.push_back(std::string(1000, 'y'));  // 100 KB, no LF
  chunks.push_back("yyy\r\nQUIT\r\n");
  EXPECT_EQ(Assemble(998, chunks), (std::vector<std::string>{"too-long", "line:QUIT"}));
}

TEST(LineAssemblerTest, EmptyLine) {
  EXPECT_EQ(Assemble(998, {"\r\n"}), (std::vector<std::string>{"line:"}));
}

}  // namespace
}  // namespace mtrk::gateway::mtqp
