#include "agent/parse/syslog_header.h"

#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace mtrk::agent::parse {
namespace {

absl::Time Utc(int y, int mo, int d, int h, int mi, int s) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
}

SyslogHeaderParser ParserAt(absl::Time reference, absl::TimeZone zone = absl::UTCTimeZone()) {
  return SyslogHeaderParser({.zone = zone, .reference = reference});
}

TEST(SyslogHeaderTest, Rfc3164) {  // from tests/data/postfix-lab/postfix-a.maillog
  const SyslogHeaderParser parser = ParserAt(Utc(2026, 11, 23, 18, 0, 0));
  ASSERT_OK_AND_ASSIGN(
      const LogLine line,
      parser.Parse("Nov 23 06:27:04 mta-a postfix-a/smtp[7711]: 336F1A7420B: to=<user@c.example>"));
  EXPECT_EQ(line.time, Utc(2026, 11, 23, 6, 27, 4));
  EXPECT_EQ(line.host, "mta-a");
  EXPECT_EQ(line.program, "postfix-a/smtp");
  EXPECT_EQ(line.pid, 7711);
  EXPECT_EQ(line.text, "336F1A7420B: to=<user@c.example>");
}

TEST(SyslogHeaderTest, Rfc3164SpacePaddedDayAndNoPid) {
  const SyslogHeaderParser parser = ParserAt(Utc(2026, 11, 23, 18, 0, 0));
  ASSERT_OK_AND_ASSIGN(const LogLine line, parser.Parse("Nov  3 06:27:04 mta-b kernel: hello\n"));
  EXPECT_EQ(line.time, Utc(2026, 11, 3, 6, 27, 4));
  EXPECT_EQ(line.program, "kernel");
  EXPECT_EQ(line.pid, -1);
  EXPECT_EQ(line.text, "hello");
}

TEST(SyslogHeaderTest, Rfc3164ReadInConfiguredZone) {
  const SyslogHeaderParser parser =
      ParserAt(Utc(2026, 11, 23, 18, 0, 0), absl::FixedTimeZone(3600));  // UTC+1
  ASSERT_OK_AND_ASSIGN(const LogLine line, parser.Parse("Nov 23 06:27:04 h postfix/qmgr[1]: x"));
  EXPECT_EQ(line.time, Utc(2026, 11, 23, 5, 27, 4));
}

TEST(SyslogHeaderTest, YearInferredAcrossNewYear) {
  const struct {
    const char* raw;
    absl::Time reference;
    absl::Time want;
  } kCases[] = {
      // A December line read just after New Year belongs to the old year.
      {"Dec 31 23:59:58 h postfix/qmgr[1]: x", Utc(2027, 1, 1, 0, 0, 5),
       Utc(2026, 12, 31, 23, 59, 58)},
      // A January line read just before New Year (reader's clock behind) is the new year's.
      {"Jan  1 00:00:02 h postfix/qmgr[1]: x", Utc(2026, 12, 31, 23, 59, 59),
       Utc(2027, 1, 1, 0, 0, 2)},
      // Two weeks in the future is clock skew, still this year.
      {"Dec  7 10:00:00 h postfix/qmgr[1]: x", Utc(2026, 11, 23, 0, 0, 0),
       Utc(2026, 12, 7, 10, 0, 0)},
      // More than a month ahead: last year's.
      {"Feb 10 10:00:00 h postfix/qmgr[1]: x", Utc(2026, 1, 5, 0, 0, 0),
       Utc(2025, 2, 10, 10, 0, 0)},
      // Feb 29 only exists in a leap year: read in March 2025 it is 2024's.
      {"Feb 29 12:00:00 h postfix/qmgr[1]: x", Utc(2025, 3, 1, 0, 0, 0),
       Utc(2024, 2, 29, 12, 0, 0)},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.raw);
    ASSERT_OK_AND_ASSIGN(const LogLine line, ParserAt(c.reference).Parse(c.raw));
    EXPECT_EQ(line.time, c.want);
  }
}

TEST(SyslogHeaderTest, Rfc3339) {
  const SyslogHeaderParser parser = ParserAt(Utc(2000, 1, 1, 0, 0, 0));  // reference unused
  ASSERT_OK_AND_ASSIGN(
      const LogLine line,
      parser.Parse("2026-11-23T06:27:04.123456+01:00 mta-b postfix/legacy/smtpd[7793]: hi there"));
  EXPECT_EQ(line.time, Utc(2026, 11, 23, 5, 27, 4) + absl::Microseconds(123456));
  EXPECT_EQ(line.host, "mta-b");
  EXPECT_EQ(line.program, "postfix/legacy/smtpd");
  EXPECT_EQ(line.pid, 7793);
  EXPECT_EQ(line.text, "hi there");

  ASSERT_OK_AND_ASSIGN(const LogLine z, parser.Parse("2026-11-23T06:27:04Z h p[1]: x"));
  EXPECT_EQ(z.time, Utc(2026, 11, 23, 6, 27, 4));
}

// The RFC 3339 fast path (ParseRfc3339Common) must read every stamp as absl::ParseTime does,
// and leave to the general path (the same verdict as before) what it does not take: random
// stamps over four centuries, every fraction length, offsets both ways, invalid dates, and
// forms it declines (lowercase t/z, leap seconds, 10 fraction digits, offsets over a day).
TEST(SyslogHeaderTest, Rfc3339FastPathAgreesWithAbslParseTime) {
  const SyslogHeaderParser parser = ParserAt(Utc(2026, 11, 23, 0, 0, 0));
  uint64_t x = 88172645463325252u;  // xorshift64: deterministic
  const auto next = [&x](uint64_t n) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x % n;
  };
  const char* const kExtra[] = {
      "2024-02-29T23:59:59.999999999Z",
      "2026-02-29T10:00:00Z",
      "2026-04-31T10:00:00Z",
      "2026-11-23t06:27:04Z",
      "2026-11-23T06:27:04z",
      "2026-12-31T23:59:60Z",
      "2026-11-23T06:27:04.1234567891Z",
      "2026-11-23T06:27:04.Z",
      "2026-11-23T06:27:04+24:00",
      "2026-11-23T06:27:04+0100",
      "1970-01-01T00:00:00Z",
      "1969-12-31T23:59:59-00:30",
      "9999-12-31T23:59:59.5+23:59",
      "0001-01-01T00:00:00Z",
      "2026-00-10T10:00:00Z",
  };
  std::vector<std::string> stamps(std::begin(kExtra), std::end(kExtra));
  for (int i = 0; i < 20000; ++i) {
    std::string stamp = absl::StrFormat("%04d-%02d-%02dT%02d:%02d:%02d", 1900 + next(400),
                                        1 + next(12), 1 + next(31), next(24), next(60), next(60));
    if (const int digits = static_cast<int>(next(11)); digits > 0) {
      stamp += '.';
      for (int d = 0; d < digits; ++d) stamp += static_cast<char>('0' + next(10));
    }
    if (next(3) == 0) {
      stamp += 'Z';
    } else {
      stamp += absl::StrFormat("%c%02d:%02d", next(2) ? '+' : '-', next(24), next(60));
    }
    stamps.push_back(stamp);
  }
  int fast_and_valid = 0;
  for (const std::string& stamp : stamps) {
    SCOPED_TRACE(stamp);
    absl::Time want;
    std::string error;
    const bool ok = absl::ParseTime(absl::RFC3339_full, stamp, &want, &error);
    // Twice: the first may fill the date cache, the second reads it.
    for (int round = 0; round < 2; ++round) {
      const std::string raw = stamp + " mx1 postfix/qmgr[12]: x";  // the line views it
      const absl::StatusOr<LogLine> got = parser.Parse(raw);
      ASSERT_EQ(got.ok(), ok) << got.status() << " / " << error;
      if (!ok) continue;
      EXPECT_EQ(got->time, want);
      EXPECT_EQ(got->host, "mx1");
      EXPECT_EQ(got->pid, 12);
      EXPECT_EQ(got->text, "x");
    }
    fast_and_valid += ok;
  }
  EXPECT_GT(fast_and_valid, 15000);  // most random dates exist
}

TEST(SyslogHeaderTest, Iso8601WithoutOffsetIsReadInConfiguredZone) {
  absl::TimeZone berlin;
  ASSERT_TRUE(absl::LoadTimeZone("Europe/Berlin", &berlin));
  const SyslogHeaderParser parser({.zone = berlin, .reference = Utc(2026, 11, 23, 0, 0, 0)});
  ASSERT_OK_AND_ASSIGN(const LogLine line,
                       parser.Parse("2026-11-23T06:27:04.5 mta-a postfix/qmgr[1]: x"));
  EXPECT_EQ(line.time, Utc(2026, 11, 23, 5, 27, 4) + absl::Milliseconds(500));
  ASSERT_OK_AND_ASSIGN(const LogLine neg,
                       parser.Parse("2026-11-23T06:27:04-05:00 mta-a postfix/qmgr[1]: x"));
  EXPECT_EQ(neg.time, Utc(2026, 11, 23, 11, 27, 4));
  EXPECT_FALSE(parser.Parse("2026-11-23T06:27 mta-a postfix/qmgr[1]: x").ok());
}

// Europe/Berlin, 2026-10-25: at 03:00 CEST the clocks go back to 02:00 CET, so 02:00-02:59:59
// local happens twice (00:00-00:59:59 UTC, then 01:00-01:59:59 UTC).
TEST(SyslogHeaderTest, RepeatedHourAtEndOfDaylightSavingTimeIsReadInOrder) {
  absl::TimeZone berlin;
  ASSERT_TRUE(absl::LoadTimeZone("Europe/Berlin", &berlin));
  const struct {
    const char* stamp;
    absl::Time want;
  } kLog[] = {
      {"Oct 25 01:59:59", Utc(2026, 10, 24, 23, 59, 59)},
      {"Oct 25 02:00:00", Utc(2026, 10, 25, 0, 0, 0)},  // first pass (CEST)
      {"Oct 25 02:59:59", Utc(2026, 10, 25, 0, 59, 59)},
      {"Oct 25 02:00:00", Utc(2026, 10, 25, 1, 0, 0)},  // second pass (CET)
      {"Oct 25 02:00:01", Utc(2026, 10, 25, 1, 0, 1)},
      // Written just before the change, logged just after it (syslog lines may be a little out
      // of order): still the first pass.
      {"Oct 25 02:59:58", Utc(2026, 10, 25, 0, 59, 58)},
      // After a quiet spell: still the second pass.
      {"Oct 25 02:58:00", Utc(2026, 10, 25, 1, 58, 0)},
      {"Oct 25 02:59:59", Utc(2026, 10, 25, 1, 59, 59)},
      {"Oct 25 03:00:00", Utc(2026, 10, 25, 2, 0, 0)},
  };
  for (int form = 0; form < 2; ++form) {  // RFC 3164, then ISO 8601 without an offset
    const SyslogHeaderParser parser({.zone = berlin, .reference = Utc(2026, 11, 23, 0, 0, 0)});
    for (const auto& [stamp, want] : kLog) {
      std::string raw = absl::StrCat(stamp, " mx1 postfix/qmgr[1]: x");
      if (form == 1) {
        const absl::CivilSecond civil = absl::ToCivilSecond(want, berlin);
        raw = absl::StrCat(absl::FormatCivilTime(civil), ".25 mx1 postfix/qmgr[1]: x");
      }
      SCOPED_TRACE(raw);
      ASSERT_OK_AND_ASSIGN(const LogLine line, parser.Parse(raw));
      EXPECT_EQ(line.time, form == 0 ? want : want + absl::Milliseconds(250));
    }
  }
}

// With nothing read before it, a repeated local time is read as its first occurrence (as
// absl::FromCivil reads it); SetReference keeps what the parser has read, a new parser does not.
TEST(SyslogHeaderTest, RepeatedHourWithoutHistoryIsTheFirstPass) {
  absl::TimeZone berlin;
  ASSERT_TRUE(absl::LoadTimeZone("Europe/Berlin", &berlin));
  const SyslogHeaderOptions options{.zone = berlin, .reference = Utc(2026, 11, 23, 0, 0, 0)};
  SyslogHeaderParser parser(options);
  ASSERT_OK_AND_ASSIGN(const LogLine fresh, parser.Parse("Oct 25 02:10:00 h postfix/qmgr[1]: x"));
  EXPECT_EQ(fresh.time, Utc(2026, 10, 25, 0, 10, 0));
  ASSERT_OK(parser.Parse("Oct 25 02:59:59 h postfix/qmgr[1]: x").status());
  parser.SetReference(Utc(2026, 11, 23, 0, 5, 0));
  ASSERT_OK_AND_ASSIGN(const LogLine second, parser.Parse("Oct 25 02:00:05 h postfix/qmgr[1]: x"));
  EXPECT_EQ(second.time, Utc(2026, 10, 25, 1, 0, 5));
  ASSERT_OK_AND_ASSIGN(const LogLine again,
                       SyslogHeaderParser(options).Parse("Oct 25 02:00:05 h postfix/qmgr[1]: x"));
  EXPECT_EQ(again.time, Utc(2026, 10, 25, 0, 0, 5));
}

// SetReference moves the year choice as a new parser would, including for an hour it had cached.
TEST(SyslogHeaderTest, SetReferenceChoosesTheYearAsANewParser) {
  SyslogHeaderParser parser({.reference = Utc(2026, 12, 31, 23, 0, 0)});
  ASSERT_OK_AND_ASSIGN(const LogLine before, parser.Parse("Jan  1 00:00:01 h postfix/qmgr[1]: x"));
  EXPECT_EQ(before.time, Utc(2027, 1, 1, 0, 0, 1));  // a clock a little ahead: next year's
  parser.SetReference(Utc(2026, 11, 1, 0, 0, 0));    // now more than kMaxFuture before it
  ASSERT_OK_AND_ASSIGN(const LogLine after, parser.Parse("Jan  1 00:00:01 h postfix/qmgr[1]: x"));
  EXPECT_EQ(after.time, Utc(2026, 1, 1, 0, 0, 1));
}

TEST(SyslogHeaderTest, MalformedIsInvalidArgument) {
  const SyslogHeaderParser parser = ParserAt(Utc(2026, 11, 23, 18, 0, 0));
  const char* kCases[] = {
      "",
      "garbage",
      "Foo 23 06:27:04 mta-a postfix-a/smtp[7711]: x",
      "Nov 32 06:27:04 mta-a postfix-a/smtp[7711]: x",
      "Nov 23 25:27:04 mta-a postfix-a/smtp[7711]: x",
      "Nov 23 06:27:04 mta-a",
      "Nov 23 06:27:04 mta-a postfix-a/smtp[77x1]: x",
      "Nov 23 06:27:04 mta-a postfix-a/smtp[7711] x",
      "2026-13-23T06:27:04+01:00 mta-b postfix/smtpd[1]: x",
      "2026-11-23 06:27:04 mta-b postfix/smtpd[1]: x",
      "Feb 29 12:00:00 h postfix/qmgr[1]: x",  // no leap year near the 2026 reference
  };
  for (const char* raw : kCases) {
    SCOPED_TRACE(raw);
    EXPECT_THAT(parser.Parse(raw), test::StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

// A host or program longer than a hop event's reporting host or instance may be is malformed,
// on the cached-hour path and the general one (found by a long correlator fuzz run).
TEST(SyslogHeaderTest, OverlongHostOrProgramIsMalformed) {
  const SyslogHeaderParser parser = ParserAt(Utc(2026, 11, 23, 18, 0, 0));
  ASSERT_OK(parser.Parse("Nov 23 06:27:04 mta-a postfix-a/smtp[7711]: x"));  // caches the hour
  const std::string name(256, 'h');
  for (const std::string& raw :
       {absl::StrCat("Nov 23 06:27:04 ", name, " postfix-a/smtp[7711]: x"),
        absl::StrCat("Nov 23 06:27:04 mta-a ", name, "[7711]: x"),
        absl::StrCat("2026-11-23T06:27:04+01:00 ", name, " postfix/smtpd[1]: x")}) {
    SCOPED_TRACE(raw);
    EXPECT_THAT(parser.Parse(raw), test::StatusIs(absl::StatusCode::kInvalidArgument));
  }
  EXPECT_OK(parser.Parse(
      absl::StrCat("Nov 23 06:27:04 ", std::string(255, 'h'), " postfix-a/smtp[7711]: x")));
}

TEST(SyslogHeaderTest, ProgramAndInstance) {
  EXPECT_EQ(ProgramName("postfix-a/smtp"), "smtp");
  EXPECT_EQ(InstanceName("postfix-a/smtp"), "postfix-a");
  EXPECT_EQ(ProgramName("postfix/legacy/smtpd"), "smtpd");
  EXPECT_EQ(InstanceName("postfix/legacy/smtpd"), "postfix");  // shares postfix's queue
  EXPECT_EQ(ProgramName("sshd"), "sshd");
  EXPECT_EQ(InstanceName("sshd"), "sshd");
}

}  // namespace
}  // namespace mtrk::agent::parse

namespace mtrk::agent::parse {
namespace {

// The parser caches the last hour it converted: a shared parser must give every line the time a
// fresh parser gives it, across New Year, a DST change and the kMaxFuture edge.
TEST(SyslogHeaderCacheTest, SharedParserAgreesWithFreshOnes) {
  absl::TimeZone berlin;
  ASSERT_TRUE(absl::LoadTimeZone("Europe/Berlin", &berlin));
  const absl::Time reference = absl::FromCivil(absl::CivilSecond(2026, 12, 31, 23, 30, 0), berlin);
  const SyslogHeaderOptions options{.zone = berlin, .reference = reference};
  const char* kLines[] = {
      "Dec 31 23:59:58 h postfix/qmgr[1]: x", "Jan  1 00:00:02 h postfix/qmgr[1]: x",
      "Dec 31 23:10:00 h postfix/qmgr[1]: x", "Jan 31 23:29:59 h postfix/qmgr[1]: x",
      "Jan 31 23:30:00 h postfix/qmgr[1]: x", "Jan 31 23:30:01 h postfix/qmgr[1]: x",
      "Jan 31 23:00:00 h postfix/qmgr[1]: x", "Mar 29 01:59:59 h postfix/qmgr[1]: x",
      "Mar 29 03:00:00 h postfix/qmgr[1]: x", "Oct 25 02:30:00 h postfix/qmgr[1]: x",
      "Dec 31 23:59:58 h postfix/qmgr[1]: x", "Jan 31 23:29:59 h postfix/qmgr[1]: x",
  };
  const SyslogHeaderParser shared(options);
  for (int round = 0; round < 2; ++round) {
    for (const char* raw : kLines) {
      SCOPED_TRACE(raw);
      const absl::StatusOr<LogLine> fresh = SyslogHeaderParser(options).Parse(raw);
      const absl::StatusOr<LogLine> got = shared.Parse(raw);
      ASSERT_EQ(fresh.ok(), got.ok());
      if (got.ok()) {
        EXPECT_EQ(got->time, fresh->time);
      }
    }
  }
}

// The one-pass path for cached hours must agree with the general one on every shape of line,
// including the malformed ones it hands over.
TEST(SyslogHeaderCacheTest, CachedHourPathAgreesWithGeneralPath) {
  const SyslogHeaderOptions options{.reference = Utc(2026, 11, 23, 18, 0, 0)};
  const char* kLines[] = {
      "Nov 23 06:27:04 mta-a postfix-a/smtp[7711]: 336F1A7420B: to=<user@c.example>",
      "Nov 23 06:27:04 mta-a postfix-a/smtp[7711]: text\r\n",
      "Nov 23 06:27:04 mta-a postfix-a/smtp[7711]:text",
      "Nov 23 06:27:04 mta-a postfix-a/smtp[7711]: \n",
      "Nov 23 06:27:04 mta-a postfix-a/smtp[7711]:\n ",
      "Nov 23 06:27:04 mta-a kernel: hello",
      "Nov 23 06:27:04 mta-a postfix/smtpd[+12]: x",
      "Nov 23 06:27:04 mta-a postfix/smtpd[ 12]: x",
      "Nov 23 06:27:04 mta-a postfix/smtpd[-1]: x",
      "Nov 23 06:27:04 mta-a postfix/smtpd[]: x",
      "Nov 23 06:27:04 mta-a postfix/smtpd[12345678901234567890]: x",
      "Nov 23 06:27:04 mta-a postfix/smtpd[12: x",
      "Nov 23 06:27:04 mta-a postfix/smtpd[12]x",
      "Nov 23 06:27:04 mta-a postfix/smtpd text",
      "Nov 23 06:27:04 mta-a postfix/smtpd",
      "Nov 23 06:27:04  mta-a postfix/smtpd[1]: x",
      "Nov 23 06:27:04 mta-a\n",
      "Nov 23 06:27:04 mta-a \n",
      "Nov 23 06:27:61 mta-a postfix/smtpd[1]: x",
      "Nov 23 06:27:60 mta-a postfix/smtpd[1]: x",
      "Nov 23 06:60:00 mta-a postfix/smtpd[1]: x",
      "Nov 23 6:27:04 mta-a postfix/smtpd[1]: x",
      "Nov 3 06:27:04 mta-a postfix/smtpd[1]: x",
      "Nov 00 06:27:04 mta-a postfix/smtpd[1]: x",
      "Nov 32 06:27:04 mta-a postfix/smtpd[1]: x",
      "Nov 23 06:27:04 h p: x",
      "Nov 23 06:27:04 h p:",
      "Nov 23 06:27:04 h p",
      "Nox 23 06:27:04 mta-a postfix/smtpd[1]: x",
  };
  const SyslogHeaderParser warm(options);
  ASSERT_OK(warm.Parse("Nov 23 06:00:00 h p: fills the cache for Nov 23 06h").status());
  for (const char* raw : kLines) {
    SCOPED_TRACE(raw);
    const absl::StatusOr<LogLine> general = SyslogHeaderParser(options).Parse(raw);
    const absl::StatusOr<LogLine> got = warm.Parse(raw);
    ASSERT_EQ(got.status(), general.status());
    if (!got.ok()) continue;
    EXPECT_EQ(got->time, general->time);
    EXPECT_EQ(got->host, general->host);
    EXPECT_EQ(got->program, general->program);
    EXPECT_EQ(got->pid, general->pid);
    EXPECT_EQ(got->text, general->text);
  }
}

}  // namespace
}  // namespace mtrk::agent::parse
