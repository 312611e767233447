#include "agent/parse/syslog_header.h"

#include <array>

#include "absl/functional/function_ref.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "agent/parse/error_text.h"
#include "common/model/hop_event.h"
#include "common/model/log_text.h"

namespace mtrk::agent::parse {
namespace {

constexpr std::array<absl::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

absl::Status Malformed(absl::string_view why, absl::string_view raw) {
  return absl::InvalidArgumentError(absl::StrCat("syslog: ", why, ": ", Quote(raw)));
}

// The fast paths' byte checks (no locale, inline).
constexpr bool IsDigit(char c) { return c >= '0' && c <= '9'; }
constexpr int TwoDigits(const char* d) { return (d[0] - '0') * 10 + (d[1] - '0'); }

// Whether any local time in the civil hour of `civil` happens twice (the clocks go back within
// or at the end of it): its start or its last second is ambiguous.
bool RepeatsInHour(absl::TimeZone zone, const absl::CivilSecond& civil) {
  const absl::CivilHour hour(civil);
  return zone.At(absl::CivilSecond(hour)).kind == absl::TimeZone::TimeInfo::REPEATED ||
         zone.At(absl::CivilSecond(hour) + 3599).kind == absl::TimeZone::TimeInfo::REPEATED;
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

// "Nov 23 06:27:04 " or "Nov  3 06:27:04 ": consumes the timestamp and the space after it, and
// returns its fields (the year is chosen by SyslogHeaderParser::Rfc3164Time).
absl::Status ParseRfc3164Fields(absl::string_view* rest, absl::string_view raw, int* month_out,
                                int* day_out, int* hh_out, int* mm_out, int* ss_out) {
  absl::string_view s = *rest;
  if (s.size() < 16) return Malformed("line too short for a timestamp", raw);
  int month = 0;
  for (size_t i = 0; i < kMonths.size() && month == 0; ++i) {
    if (s[0] == kMonths[i][0] && s[1] == kMonths[i][1] && s[2] == kMonths[i][2]) {
      month = static_cast<int>(i) + 1;
    }
  }
  if (month == 0 || s[3] != ' ') return Malformed("no month", raw);
  s.remove_prefix(4);
  if (s[0] == ' ') s.remove_prefix(1);  // space-padded day
  const size_t day_end = s[0] == ' ' ? 0 : s[1] == ' ' ? 1 : s[2] == ' ' ? 2 : s.find(' ');
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
  *month_out = month;
  *day_out = day;
  *hh_out = hh;
  *mm_out = mm;
  *ss_out = ss;
  return absl::OkStatus();
}

// "2026-11-23T06:27:04.123456+01:00 " (RFC 3339) or "2026-11-23T06:27:04.123456 " (ISO 8601
// without an offset, as some syslog daemons write it: read in the configured zone, by `local`).
// Consumes the timestamp and the space after it. *zoned: whether the stamp had an offset.
absl::StatusOr<absl::Time> ParseRfc3339Time(
    absl::string_view* rest, absl::string_view raw,
    absl::FunctionRef<absl::Time(const absl::CivilSecond&)> local, bool* zoned) {
  const size_t end = rest->find(' ');
  if (end == absl::string_view::npos) return Malformed("no space after timestamp", raw);
  const absl::string_view stamp = rest->substr(0, end);
  // An offset is 'Z' or [+-]hh:mm after the time of day, which starts at 'T' (index 10).
  *zoned = stamp.size() > 11 && (stamp.back() == 'Z' || stamp.back() == 'z' ||
                                 stamp.find_first_of("+-", 11) != absl::string_view::npos);
  absl::Time t;
  std::string error;
  // Without an offset: read as UTC for the civil time and the fraction, then placed in the zone.
  const bool ok =
      *zoned ? absl::ParseTime(absl::RFC3339_full, stamp, &t, &error)
             : absl::ParseTime("%Y-%m-%dT%H:%M:%E*S", stamp, absl::UTCTimeZone(), &t, &error);
  if (!ok) return Malformed(absl::StrCat("bad RFC 3339 timestamp (", error, ")"), raw);
  if (!*zoned) {
    const absl::CivilSecond civil = absl::ToCivilSecond(t, absl::UTCTimeZone());
    t = local(civil) + (t - absl::FromCivil(civil, absl::UTCTimeZone()));
  }
  rest->remove_prefix(end + 1);
  return t;
}

}  // namespace

SyslogHeaderParser::SyslogHeaderParser(SyslogHeaderOptions options) : options_(options) {
  SetReference(options.reference);
}

void SyslogHeaderParser::SetReference(absl::Time reference) {
  options_.reference = reference;
  reference_year_ = static_cast<int>(absl::ToCivilYear(reference, options_.zone).year());
  // The cached hour's year was chosen for the old reference.
  hour_cache_.packed.store(0, std::memory_order_relaxed);
}

absl::Time SyslogHeaderParser::LocalToUtc(const absl::CivilSecond& civil) const {
  const absl::TimeZone::TimeInfo info = options_.zone.At(civil);
  if (info.kind != absl::TimeZone::TimeInfo::REPEATED) return info.pre;  // FromCivil's choice
  const uint64_t packed = latest_local_.packed.load(std::memory_order_relaxed);
  if (packed == 0) return info.pre;  // nothing to go by: the first reading
  const absl::Time floor = absl::FromUnixSeconds(LatestLocalSeconds(packed)) - kLateLineTolerance;
  // The first reading would go back in time, the second would not: the log, read in order, is
  // in the second pass (also after a quiet spell, as long as a line of either pass came before).
  // A line late by less than the tolerance, or a stray far older than the log, keeps the first.
  return info.pre < floor && info.post >= floor ? info.post : info.pre;
}

absl::StatusOr<absl::Time> SyslogHeaderParser::Rfc3164Time(int month, int day, int hh, int mm,
                                                           int ss, absl::string_view raw) const {
  const absl::Time latest = options_.reference + kMaxFuture;
  const uint64_t key = (static_cast<uint64_t>(month) << 10 | static_cast<uint64_t>(day) << 5 |
                        static_cast<uint64_t>(hh))
                       << 40;
  const uint64_t cached = hour_cache_.packed.load(std::memory_order_relaxed);
  if (cached != 0 && (cached & ~((uint64_t{1} << 40) - 1)) == key) {
    const int64_t hours = static_cast<int64_t>(cached & ((uint64_t{1} << 40) - 1)) - 1;
    const absl::Time t = absl::FromUnixSeconds(hours * 3600 + mm * 60 + ss);
    if (t <= latest) return t;  // else the year choice may differ: take the slow path
  }
  // The latest candidate year that is not implausibly far in the future of the reference.
  for (int year = reference_year_ + 1; year >= reference_year_ - 1; --year) {
    const absl::CivilSecond civil(year, month, day, hh, mm, ss);
    if (civil.month() != month || civil.day() != day) continue;  // Feb 29 in a common year
    const absl::Time t = LocalToUtc(civil);
    if (t > latest) continue;
    // Cache the hour if it starts on a whole hour in UTC (not in zones with :30/:45 offsets) and
    // minute and second are plain offsets within it (no transition inside the hour), and it
    // happens once (a repeated hour needs LocalToUtc for every line).
    const absl::Time hour =
        absl::FromCivil(absl::CivilSecond(year, month, day, hh, 0, 0), options_.zone);
    const int64_t hour_s = absl::ToUnixSeconds(hour);
    // The year must be the choice for every second of the hour: all of it before `latest`, and
    // all of the next year's same hour after it.
    bool same_year_all_hour = hour + absl::Hours(1) <= latest;
    if (same_year_all_hour && year < reference_year_ + 1) {
      const absl::CivilSecond next(year + 1, month, day, hh, 0, 0);
      same_year_all_hour = next.month() != month || next.day() != day ||
                           absl::FromCivil(next, options_.zone) > latest;
    }
    if (same_year_all_hour && hour_s >= 0 && hour_s % 3600 == 0 &&
        hour + absl::Seconds(mm * 60 + ss) == t && !RepeatsInHour(options_.zone, civil)) {
      hour_cache_.packed.store(key | static_cast<uint64_t>(hour_s / 3600 + 1),
                               std::memory_order_relaxed);
    }
    return t;
  }
  return Malformed("no plausible year for the date", raw);
}

// The common case in one pass, without Status objects: "Mmm dd hh:mm:ss host prog[pid]: text"
// (day space-padded or not) in an hour the cache holds. Anything else, including every error,
// returns false and takes the general path below, which gives the same result for what this
// accepts. Measured: the general path was 8% of the agent's per-line instructions (issue 8).
bool SyslogHeaderParser::ParseCommon(absl::string_view raw, LogLine* line) const {
  const char* p = raw.data();
  const char* const end = p + raw.size();
  if (raw.size() < 20 || p[3] != ' ' || p[6] != ' ' || p[9] != ':' || p[12] != ':' ||
      p[15] != ' ') {
    return false;
  }
  if (!IsDigit(p[5]) || !IsDigit(p[7]) || !IsDigit(p[8]) || !IsDigit(p[10]) || !IsDigit(p[11]) ||
      !IsDigit(p[13]) || !IsDigit(p[14]) || !(p[4] == ' ' || IsDigit(p[4]))) {
    return false;
  }
  int month = 0;
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (p[0] == kMonths[i][0] && p[1] == kMonths[i][1] && p[2] == kMonths[i][2]) {
      month = static_cast<int>(i) + 1;
      break;
    }
  }
  const int day = (p[4] == ' ' ? 0 : (p[4] - '0') * 10) + (p[5] - '0');
  const int hh = TwoDigits(p + 7);
  const int mm = TwoDigits(p + 10);
  const int ss = TwoDigits(p + 13);
  if (month == 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60) return false;
  // The hour cache (see Rfc3164Time); a miss takes the general path, which fills it.
  const uint64_t key = (static_cast<uint64_t>(month) << 10 | static_cast<uint64_t>(day) << 5 |
                        static_cast<uint64_t>(hh))
                       << 40;
  const uint64_t cached = hour_cache_.packed.load(std::memory_order_relaxed);
  if (cached == 0 || (cached & ~((uint64_t{1} << 40) - 1)) != key) return false;
  const int64_t hours = static_cast<int64_t>(cached & ((uint64_t{1} << 40) - 1)) - 1;
  const int64_t unix_seconds = hours * 3600 + mm * 60 + ss;
  const absl::Time t = absl::FromUnixSeconds(unix_seconds);
  if (t > options_.reference + kMaxFuture) return false;

  line->time = t;
  if (!ParseTagCommon(p + 16, end, line)) return false;
  NoteLocalTime(unix_seconds);
  return true;
}

bool SyslogHeaderParser::ParseTagCommon(const char* host, const char* end, LogLine* line) {
  const char* q = host;
  while (q < end && *q != ' ') ++q;
  if (q == host || q == end) return false;
  const char* prog = q + 1;
  q = prog;
  while (q < end && *q != '[' && *q != ':' && *q != ' ') ++q;
  if (q == prog || q == end) return false;
  const char* prog_end = q;
  // Over-long names: the slow path below says why the line is malformed.
  if (static_cast<size_t>(prog - 1 - host) > model::kMaxNameBytes ||
      static_cast<size_t>(prog_end - prog) > model::kMaxNameBytes) {
    return false;
  }
  int64_t pid = -1;
  if (*q == '[') {
    pid = 0;
    const char* d = ++q;
    while (q < end && IsDigit(*q) && q - d < 16) pid = pid * 10 + (*q++ - '0');
    if (q == d || q == end || *q != ']') return false;
    ++q;
  }
  if (q == end || *q != ':') return false;
  ++q;
  if (q < end && *q == ' ') ++q;
  const char* text_end = end;
  while (text_end > q && (text_end[-1] == '\n' || text_end[-1] == '\r')) --text_end;
  if (text_end < q) return false;
  line->host = absl::string_view(host, static_cast<size_t>(prog - 1 - host));
  line->program = absl::string_view(prog, static_cast<size_t>(prog_end - prog));
  line->pid = pid;
  line->text = absl::string_view(q, static_cast<size_t>(text_end - q));
  return true;
}

// Measured (issue 8): absl::ParseTime made an RFC 3339 log (Debian 13's rsyslog default) take
// 1.9 times as long as the same log in RFC 3164. This reads the usual form by position and gives
// the same time as the general path for everything it accepts (tested against absl::ParseTime);
// anything else, including every error, returns false and takes the general path.
bool SyslogHeaderParser::ParseRfc3339Common(absl::string_view raw, LogLine* line) const {
  const char* p = raw.data();
  const char* const end = p + raw.size();
  // "YYYY-MM-DDTHH:MM:SS" then [.fraction] then Z or +hh:mm / -hh:mm, then a space.
  if (raw.size() < 21 || p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' ||
      p[16] != ':') {
    return false;
  }
  for (const int i : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18}) {
    if (!IsDigit(p[i])) return false;
  }
  const int year = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + TwoDigits(p + 2);
  const int month = TwoDigits(p + 5), day = TwoDigits(p + 8);
  const int hh = TwoDigits(p + 11), mm = TwoDigits(p + 14), ss = TwoDigits(p + 17);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 59) {
    return false;
  }
  const char* q = p + 19;
  int64_t nanos = 0;
  if (*q == '.') {
    const char* d = ++q;
    while (q < end && IsDigit(*q) && q - d < 10) nanos = nanos * 10 + (*q++ - '0');
    const int64_t n = q - d;
    if (n == 0 || n > 9) return false;
    for (int64_t i = n; i < 9; ++i) nanos *= 10;
  }
  int64_t offset_s = 0;
  if (q < end && *q == 'Z') {
    ++q;
  } else if (end - q >= 6 && (*q == '+' || *q == '-') && IsDigit(q[1]) && IsDigit(q[2]) &&
             q[3] == ':' && IsDigit(q[4]) && IsDigit(q[5])) {
    const int oh = TwoDigits(q + 1), om = TwoDigits(q + 4);
    if (oh > 23 || om > 59) return false;
    offset_s = (*q == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    q += 6;
  } else {
    return false;  // no offset: the configured zone, on the general path
  }
  if (q == end || *q != ' ') return false;
  // The date's unix day, cached: consecutive lines share it.
  const uint64_t key = static_cast<uint64_t>(year * 10000 + month * 100 + day) << 32;
  int64_t days;
  const uint64_t cached = day_cache_.packed.load(std::memory_order_relaxed);
  if (cached != 0 && (cached & ~uint64_t{0xffffffff}) == key) {
    days = static_cast<int64_t>(cached & 0xffffffff) - (int64_t{1} << 31);
  } else {
    const absl::CivilDay civil(year, month, day);
    if (civil.month() != month || civil.day() != day) return false;  // Feb 30: general path
    days = civil - absl::CivilDay(1970, 1, 1);
    day_cache_.packed.store(key | static_cast<uint64_t>(days + (int64_t{1} << 31)),
                            std::memory_order_relaxed);
  }
  line->time = absl::FromUnixSeconds(days * 86400 + hh * 3600 + mm * 60 + ss - offset_s) +
               absl::Nanoseconds(nanos);
  return ParseTagCommon(q + 1, end, line);
}

absl::StatusOr<LogLine> SyslogHeaderParser::Parse(absl::string_view raw) const {
  if (LogLine line; raw.empty() || (raw[0] >= '0' && raw[0] <= '9') ? ParseRfc3339Common(raw, &line)
                                                                    : ParseCommon(raw, &line)) {
    line.plain_text = model::IsAsciiWithoutNul(raw);
    return line;
  }
  return ParseGeneral(raw);
}

// Out of line: its frame (the zone conversion, Status objects) stays off the fast paths above.
absl::StatusOr<LogLine> SyslogHeaderParser::ParseGeneral(absl::string_view raw) const {
  absl::string_view rest = raw;
  while (!rest.empty() && (rest.back() == '\n' || rest.back() == '\r')) rest.remove_suffix(1);
  LogLine line;
  bool local = false;  // a time without offset, read in the configured zone
  if (rest.size() > 4 && absl::ascii_isdigit(static_cast<unsigned char>(rest[0])) &&
      rest[4] == '-') {
    bool zoned = false;
    absl::StatusOr<absl::Time> t = ParseRfc3339Time(
        &rest, raw, [this](const absl::CivilSecond& civil) { return LocalToUtc(civil); }, &zoned);
    if (!t.ok()) return t.status();
    line.time = *t;
    local = !zoned;
  } else {
    int month = 0, day = 0, hh = 0, mm = 0, ss = 0;
    if (absl::Status st = ParseRfc3164Fields(&rest, raw, &month, &day, &hh, &mm, &ss); !st.ok()) {
      return st;
    }
    absl::StatusOr<absl::Time> t = Rfc3164Time(month, day, hh, mm, ss, raw);
    if (!t.ok()) return t.status();
    line.time = *t;
    local = true;
  }

  size_t host_end = 0;  // a short inline scan beats a call to memchr here (profile, issue 8)
  while (host_end < rest.size() && rest[host_end] != ' ') ++host_end;
  if (host_end == 0 || host_end == rest.size()) return Malformed("no host", raw);
  // The host becomes the hop event's reporting host (found by a long fuzz run: a longer one
  // made an event the collector rejects).
  if (host_end > model::kMaxNameBytes) return Malformed("host longer than 255 bytes", raw);
  line.host = rest.substr(0, host_end);
  rest.remove_prefix(host_end + 1);

  // The tag: "program[pid]: " or "program: ". A plain loop: find_first_of builds a lookup
  // table per call, which showed in the profile (issue 8).
  size_t tag_end = 0;
  while (tag_end < rest.size() && rest[tag_end] != '[' && rest[tag_end] != ':' &&
         rest[tag_end] != ' ') {
    ++tag_end;
  }
  if (tag_end == 0 || tag_end == rest.size()) return Malformed("no program", raw);
  if (tag_end > model::kMaxNameBytes) return Malformed("program longer than 255 bytes", raw);
  line.program = rest.substr(0, tag_end);
  rest.remove_prefix(tag_end);
  if (rest[0] == '[') {
    size_t close = 1;
    int64_t pid = 0;
    bool digits = true;  // the usual "[1234]": no SimpleAtoi (which also takes signs, spaces)
    for (; close < rest.size() && rest[close] != ']'; ++close) {
      const char c = rest[close];
      if (c < '0' || c > '9') {
        digits = false;
      } else if (digits && close <= 17) {
        pid = pid * 10 + (c - '0');
      }
    }
    if (close == rest.size()) return Malformed("bad [pid]", raw);
    if (!digits || close == 1 || close > 17) {
      pid = 0;
      if (!absl::SimpleAtoi(rest.substr(1, close - 1), &pid) || pid < 0) {
        return Malformed("bad [pid]", raw);
      }
    }
    line.pid = pid;
    rest.remove_prefix(close + 1);
  }
  if (rest.empty() || rest[0] != ':') return Malformed("no ':' after the program", raw);
  rest.remove_prefix(1);
  if (!rest.empty() && rest[0] == ' ') rest.remove_prefix(1);
  line.text = rest;
  line.plain_text = model::IsAsciiWithoutNul(raw);
  if (local) NoteLocalTime(absl::ToUnixSeconds(line.time));
  return line;
}

}  // namespace mtrk::agent::parse
