// Public Postfix logs (tests/data/public, see its SOURCES.md): every line goes through the header
// parser, the Postfix parser and a correlator without crashing, and each file's lines are
// counted as recognised, skipped (by kind), malformed, or unrecognised with a queue id. The last
// is a coverage gap and must stay empty. The table is printed for the record.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "agent/correlate/correlator.h"
#include "agent/parse/postfix/postfix_parser.h"
#include "gtest/gtest.h"

namespace mtrk::agent::correlate {
namespace {

constexpr char kRoot[] = "tests/data/public";

// postfix-grok-patterns keeps one message per YAML file, without its syslog header; the file
// name names the daemon ("smtpd_0001.yaml"). Returns the `data:` string, unquoted.
std::string GrokData(const std::string& yaml) {
  std::ifstream in(yaml);
  for (std::string line; std::getline(in, line);) {
    absl::string_view v = line;
    if (!absl::ConsumePrefix(&v, "data: ")) continue;
    v = absl::StripAsciiWhitespace(v);
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
      const char q = v.front();
      v = v.substr(1, v.size() - 2);
      std::string out;
      for (size_t i = 0; i < v.size(); ++i) {
        if (q == '"' && v[i] == '\\' && i + 1 < v.size()) ++i;
        if (q == '\'' && v[i] == '\'' && i + 1 < v.size() && v[i + 1] == '\'') ++i;
        out.push_back(v[i]);
      }
      return out;
    }
    return std::string(v);
  }
  return "";
}

std::vector<std::string> LinesOf(const std::filesystem::path& path) {
  std::vector<std::string> lines;
  if (path.extension() == ".yaml") {
    const std::string name = path.stem().string();
    const std::string daemon = name.substr(0, name.rfind('_'));
    lines.push_back(
        absl::StrCat("Jan  1 00:00:00 grok postfix/", daemon, "[1]: ", GrokData(path.string())));
    return lines;
  }
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

struct FileCount {
  int lines = 0, no_header = 0, recognised = 0, malformed = 0, events = 0;
  std::map<std::string, int> skipped;  // kind -> lines
  std::vector<std::string> unrecognised;
  std::vector<std::string> malformed_lines;
};

FileCount RunFile(const std::filesystem::path& path, std::vector<model::HopEvent>* events) {
  const parse::SyslogHeaderParser headers(
      {.reference = absl::FromCivil(absl::CivilDay(2021, 12, 31), absl::UTCTimeZone())});
  const std::unique_ptr<parse::LineParser> parser = parse::NewPostfixParser();
  Correlator correlator({});
  FileCount c;
  uint64_t position = 0;
  for (const std::string& raw : LinesOf(path)) {
    ++c.lines;
    position += raw.size() + 1;
    if (raw.empty() || raw[0] == '#') {
      ++c.skipped["comment"];
      continue;
    }
    absl::StatusOr<parse::LogLine> line = headers.Parse(raw);
    if (!line.ok()) {
      ++c.no_header;
      continue;
    }
    absl::StatusOr<parse::LineFact> fact = parser->Parse(*line);
    if (!fact.ok()) {
      ++c.malformed;
      c.malformed_lines.push_back(raw);
      continue;
    }
    if (const auto* u = std::get_if<parse::Unrelated>(&*fact)) {
      if (u->kind == parse::kUnrecognised) {
        c.unrecognised.push_back(raw);
      } else {
        ++c.skipped[std::string(u->kind)];
      }
    } else {
      ++c.recognised;
    }
    for (model::HopEvent& e : correlator.Add(*line, *fact, position)) {
      EXPECT_TRUE(model::ValidateHopEvent(e).ok()) << raw;
      events->push_back(std::move(e));
    }
  }
  for (model::HopEvent& e : correlator.Flush()) events->push_back(std::move(e));
  c.events = static_cast<int>(events->size());
  return c;
}

TEST(PublicLogsTest, EveryFileParsesAndEveryQueueIdLineIsKnown) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(kRoot)) {
    if (entry.is_regular_file() && entry.path().filename() != "SOURCES.md") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  ASSERT_GT(files.size(), 100u);
  FileCount total;
  std::vector<std::string> gaps;
  for (const auto& path : files) {
    std::vector<model::HopEvent> events;
    const FileCount c = RunFile(path, &events);
    total.lines += c.lines;
    total.no_header += c.no_header;
    total.recognised += c.recognised;
    total.malformed += c.malformed;
    total.events += c.events;
    for (const auto& [kind, n] : c.skipped) total.skipped[kind] += n;
    for (const std::string& u : c.unrecognised)
      gaps.push_back(absl::StrCat(path.string(), ": ", u));
    for (const std::string& m : c.malformed_lines) {
      gaps.push_back(absl::StrCat(path.string(), ": malformed: ", m));
    }
    if (path.extension() != ".yaml") {
      std::cout << path.string().substr(sizeof(kRoot)) << ": lines=" << c.lines
                << " recognised=" << c.recognised << " no_header=" << c.no_header
                << " malformed=" << c.malformed << " unrecognised=" << c.unrecognised.size()
                << " events=" << c.events << " skipped{"
                << absl::StrJoin(c.skipped, ",", absl::PairFormatter("=")) << "}\n";
    }
  }
  std::cout << "TOTAL files=" << files.size() << " lines=" << total.lines
            << " recognised=" << total.recognised << " no_header=" << total.no_header
            << " malformed=" << total.malformed << " events=" << total.events << " skipped{"
            << absl::StrJoin(total.skipped, ",", absl::PairFormatter("=")) << "}\n";
  EXPECT_TRUE(gaps.empty()) << gaps.size() << " lines:\n" << absl::StrJoin(gaps, "\n");
  EXPECT_GT(total.recognised, 800);
}

// Lightmeter's sample: Postfix reused BABABABABA for a second message a minute later.
TEST(PublicLogsTest, LightmeterQueueIdReuseYieldsTwoMessages) {
  std::vector<model::HopEvent> events;
  RunFile(std::filesystem::path(kRoot) /
              "lightmeter-controlcenter/test_files/postfix_logs/"
              "individual_files/14_reuse_of_queueid.log",
          &events);
  std::set<std::string> message_ids, event_ids;
  std::set<absl::Time> first_seen;
  for (const model::HopEvent& e : events) {
    if (e.queue_id != "BABABABABA") continue;
    message_ids.insert(e.message_id);
    event_ids.insert(e.event_id);
    first_seen.insert(e.queue_first_seen);
  }
  EXPECT_EQ(message_ids.size(), 2u);
  EXPECT_EQ(event_ids.size(), 2u);
  EXPECT_EQ(first_seen.size(), 2u);
}

}  // namespace
}  // namespace mtrk::agent::correlate
