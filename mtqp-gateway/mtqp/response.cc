#include "mtqp-gateway/mtqp/response.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace mtrk::gateway::mtqp {

bool ResponseLine::HasCode(absl::string_view code) const {
  for (const std::string& c : codes) {
    if (absl::EqualsIgnoreCase(c, code)) return true;
  }
  return false;
}

absl::StatusOr<ResponseLine> ParseResponseLine(absl::string_view line) {
  static constexpr struct {
    absl::string_view prefix;
    ResponseLine::Indicator indicator;
  } kIndicators[] = {
      // "+OK+" before "+OK": the longer one must win.
      {"+OK+", ResponseLine::Indicator::kOkMulti}, {"+OK", ResponseLine::Indicator::kOk},
      {"-TEMP", ResponseLine::Indicator::kTemp},   {"-ERR", ResponseLine::Indicator::kErr},
      {"-BAD", ResponseLine::Indicator::kBad},
  };
  ResponseLine out;
  absl::string_view rest;
  bool found = false;
  for (const auto& k : kIndicators) {
    if (absl::StartsWith(line, k.prefix)) {
      out.indicator = k.indicator;
      rest = line.substr(k.prefix.size());
      found = true;
      break;
    }
  }
  if (!found ||
      (!rest.empty() && rest.front() != '/' && rest.front() != ' ' && rest.front() != '\t')) {
    return absl::InvalidArgumentError(
        absl::StrCat("mtqp: not a status line: '", absl::CHexEscape(line.substr(0, 40)), "'"));
  }
  while (!rest.empty() && rest.front() == '/') {
    rest.remove_prefix(1);
    size_t end = 0;
    while (end < rest.size() && rest[end] != '/' && rest[end] != ' ' && rest[end] != '\t') ++end;
    out.codes.emplace_back(rest.substr(0, end));
    rest.remove_prefix(end);
  }
  out.text = std::string(absl::StripAsciiWhitespace(rest));
  return out;
}

}  // namespace mtrk::gateway::mtqp
