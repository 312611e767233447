#include "agent/parse/syslog_header.h"

#include <array>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "agent/parse/error_text.h"

namespace mtrk::agent::parse {
namespace {

constexpr std::array<absl::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

absl::Status Malformed(absl::string_view why, absl::string_view raw) {
  return absl::InvalidArgumentError(absl::StrCat("syslog: ", why, ": ", Quote(raw)));
}

bool ParseFixedDigits(absl::string_view s, int* out) {
  int v = 0;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return !s.empty();
}

// "Nov 23 06:27:04 " or "Nov  3 06:27:04 ": consumes the timestamp and the space after it.
absl::StatusOr<absl::Time> ParseRfc3164Time(absl::string_view* rest, absl::string_view raw,
                                            const SyslogHeaderOptions& options) {
  absl::string_view s = *rest;
  if (s.size() < 16) return Malformed("line too short for a timestamp", raw);
  int month = 0;
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (s.substr(0, 3) == kMonths[i]) month = static_cast<int>(i) + 1;
  }
  if (month == 0 || s[3] != ' ') return Malformed("no month", raw);
  s.remove_prefix(4);
  if (s[0] == ' ') s.remove_prefix(1);  // space-padded day
  const size_t day_end = s.find(' ');
  int day = 0;
  if (day_end == absl::string_view::npos || day_end > 2 ||
      !ParseFixedDigits(s.substr(0, day_end), &day) || day < 1 || day > 31) {
    return Malformed("bad day of month", raw);
  }
  s.remove_prefix(day_end + 1);
  int hh = 0, mm = 0, ss = 0;
  if (s.size() < 9 || s[2] != ':' || s[5] != ':' || s[8] != ' ' ||
      !ParseFixedDigits(s.substr(0, 2), &hh) || !ParseFixedDigits(s.substr(3, 2), &mm) ||
      !ParseFixedDigits(s.substr(6, 2), &ss) || hh > 23 || mm > 59 || ss > 60) {
    return Malformed("bad time of day", raw);
  }
  s.remove_prefix(9);
  *rest = s;

  // The latest candidate year that is not implausibly far in the future of the reference.
  const int ref_year = static_cast<int>(absl::ToCivilYear(options.reference, options.zone).year());
  for (int year = ref_year + 1; year >= ref_year - 1; --year) {
    const absl::CivilSecond civil(year, month, day, hh, mm, ss);
    if (civil.month() != month || civil.day() != day) continue;  // Feb 29 in a common year
    const absl::Time t = absl::FromCivil(civil, options.zone);
    if (t <= options.reference + kMaxFuture) return t;
  }
  return Malformed("no plausible year for the date", raw);
}

// "2026-11-23T06:27:04.123456+01:00 ": consumes the timestamp and the space after it.
absl::StatusOr<absl::Time> ParseRfc3339Time(absl::string_view* rest, absl::string_view raw) {
  const size_t end = rest->find(' ');
  if (end == absl::string_view::npos) return Malformed("no space after timestamp", raw);
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, std::string(rest->substr(0, end)), &t, &error)) {
    return Malformed(absl::StrCat("bad RFC 3339 timestamp (", error, ")"), raw);
  }
  rest->remove_prefix(end + 1);
  return t;
}

}  // namespace

absl::string_view ProgramName(absl::string_view program) {
  const size_t slash = program.rfind('/');
  return slash == absl::string_view::npos ? program : program.substr(slash + 1);
}

absl::string_view InstanceName(absl::string_view program) {
  const size_t slash = program.find('/');
  return slash == absl::string_view::npos ? program : program.substr(0, slash);
}

absl::StatusOr<LogLine> SyslogHeaderParser::Parse(absl::string_view raw) const {
  absl::string_view rest = raw;
  while (!rest.empty() && (rest.back() == '\n' || rest.back() == '\r')) rest.remove_suffix(1);
  LogLine line;
  if (rest.size() > 4 && absl::ascii_isdigit(static_cast<unsigned char>(rest[0])) &&
      rest[4] == '-') {
    absl::StatusOr<absl::Time> t = ParseRfc3339Time(&rest, raw);
    if (!t.ok()) return t.status();
    line.time = *t;
  } else {
    absl::StatusOr<absl::Time> t = ParseRfc3164Time(&rest, raw, options_);
    if (!t.ok()) return t.status();
    line.time = *t;
  }

  const size_t host_end = rest.find(' ');
  if (host_end == 0 || host_end == absl::string_view::npos) return Malformed("no host", raw);
  line.host = rest.substr(0, host_end);
  rest.remove_prefix(host_end + 1);

  // The tag: "program[pid]: " or "program: ".
  const size_t tag_end = rest.find_first_of("[: ");
  if (tag_end == 0 || tag_end == absl::string_view::npos) return Malformed("no program", raw);
  line.program = rest.substr(0, tag_end);
  rest.remove_prefix(tag_end);
  if (rest[0] == '[') {
    const size_t close = rest.find(']');
    int64_t pid = 0;
    if (close == absl::string_view::npos || !absl::SimpleAtoi(rest.substr(1, close - 1), &pid) ||
        pid < 0) {
      return Malformed("bad [pid]", raw);
    }
    line.pid = pid;
    rest.remove_prefix(close + 1);
  }
  if (rest.empty() || rest[0] != ':') return Malformed("no ':' after the program", raw);
  rest.remove_prefix(1);
  if (!rest.empty() && rest[0] == ' ') rest.remove_prefix(1);
  line.text = rest;
  return line;
}

}  // namespace mtrk::agent::parse
