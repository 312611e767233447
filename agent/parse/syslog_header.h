// SyslogHeader: splits one raw log line into time, host, program, pid and message text.
//
// Two header forms are accepted:
//   RFC 3164  "Nov 23 06:27:04 mta-a postfix-a/smtp[7711]: text"   (no year, no zone)
//   RFC 3339  "2026-11-23T06:27:04.123456+01:00 mta-a postfix-a/smtp[7711]: text"
// An RFC 3164 time is read in the configured zone, and its year is inferred from a reference time
// the caller passes in (normally "now" at the edge; tests pass a fixed instant), so this module
// owns no clock. A line that fits neither form is InvalidArgument; the caller counts and skips it.
//
// Local times that happen twice (the hour repeated when daylight saving time ends) are read as
// their second occurrence when the first would put the line back in time: the parser remembers
// the latest local time it has read, and takes the second reading if the first is more than
// kLateLineTolerance before it and the second is not. So one parser reads one log, in order.
// Thread-compatible.
#pragma once

#include <atomic>
#include <cstdint>

#include "absl/base/attributes.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace mtrk::agent::parse {

// What SyslogHeaderParser leaves of a line. The views point into the caller's buffer.
struct LogLine {
  absl::Time time;            // UTC
  absl::string_view host;     // "mta-a"
  absl::string_view program;  // "postfix-a/smtp", "postfix/legacy/smtpd"
  int64_t pid = -1;           // -1 when the tag has no [pid]
  absl::string_view text;     // after "program[pid]: "
  // Every byte of the line is 0x01..0x7F, so no text taken from it needs repair into UTF-8
  // (model::RepairHopEventText). False when unknown (a LogLine not made by the parser).
  bool plain_text = false;
};

// Postfix programs log as "<syslog_name>/<daemon>". ProgramName is the daemon, the part after the
// last '/': "postfix/legacy/smtpd" -> "smtpd". An untagged program is its own name.
// Inline plain loops: they run several times per line on a short tag, Debian's
// absl::string_view::find/rfind are out-of-line library calls, and so were these (profile,
// issue 8).
inline absl::string_view ProgramName(absl::string_view program) {
  for (size_t i = program.size(); i > 0; --i) {
    if (program[i - 1] == '/') return program.substr(i);
  }
  return program;
}

// The MTA instance: the first path component of the program, "postfix-a/smtp" -> "postfix-a",
// "postfix/legacy/smtpd" -> "postfix". Not "everything before the last '/'": master.cf services
// are often given "-o syslog_name=postfix/submission" (or postfix/legacy in the lab) while they
// share the queue of instance "postfix", and the instance is part of the queue-id key, so the
// client= line of such a service must join the cleanup/qmgr lines of the same queue file.
// Distinct instances (postmulti) use distinct first components, e.g. "postfix-a".
inline absl::string_view InstanceName(absl::string_view program) {
  for (size_t i = 0; i < program.size(); ++i) {
    if (program[i] == '/') return program.substr(0, i);
  }
  return program;
}

struct SyslogHeaderOptions {
  absl::TimeZone zone = absl::UTCTimeZone();  // for RFC 3164 times, which carry no offset
  // RFC 3164 has no year. The year chosen is the latest of reference year +1, +0, -1 that puts the
  // line no more than kMaxFuture after the reference: a December line read in January is last
  // year's, a line read a little before the clock catches up (skew) is still this year's.
  absl::Time reference = absl::UnixEpoch();
};

// Lines from a clock that runs this far ahead of the reader are still taken as this year's.
inline constexpr absl::Duration kMaxFuture = absl::Hours(31 * 24);

// How far behind the latest line a line of a log in order may be stamped (processes log through
// syslog concurrently): within it, a repeated local time is still read as its first occurrence.
inline constexpr absl::Duration kLateLineTolerance = absl::Minutes(1);

class SyslogHeaderParser {
 public:
  explicit SyslogHeaderParser(SyslogHeaderOptions options);

  // InvalidArgument (message quotes the start of the line) when no header is found.
  absl::StatusOr<LogLine> Parse(absl::string_view raw) const;

  // A new reference for the year of RFC 3164 lines (the reader's clock moved on). Unlike a new
  // parser, this one keeps what it knows of the log so far (see the repeated hour above).
  void SetReference(absl::Time reference);
  absl::Time reference() const { return options_.reference; }
  // Before the first line, when reading resumes within a log (a restart): the log had been read
  // up to time `t` (UTC), and a repeated local time is read as if those lines had been read.
  void ResumeAt(absl::Time t) { NoteLocalTime(absl::ToUnixSeconds(t)); }

 private:
  // One packed 64-bit cache entry. hour_cache_: the start of the hour of the last RFC 3164
  // line, as (month, day, hour) << 40 | unix hours + 1 (0: empty). day_cache_: the date of the
  // last RFC 3339 line, as (y * 10000 + m * 100 + d) << 32 | (unix days + 2^31). Consecutive
  // lines share them, which saves a civil-time conversion per line. Atomic (relaxed) so that
  // concurrent Parse calls stay safe; copyable for the class.
  struct PackedCache {
    std::atomic<uint64_t> packed{0};
    PackedCache() = default;
    PackedCache(const PackedCache& o) : packed(o.packed.load(std::memory_order_relaxed)) {}
    PackedCache& operator=(const PackedCache& o) {
      packed.store(o.packed.load(std::memory_order_relaxed), std::memory_order_relaxed);
      return *this;
    }
  };

  // The usual RFC 3164 line in an hour already cached; false: use the general path.
  bool ParseCommon(absl::string_view raw, LogLine* line) const;
  // The usual RFC 3339 line ("2026-11-23T06:27:04.123456+01:00 ", rsyslog's high-precision
  // format: 'T', 0-9 fraction digits, 'Z' or an offset); false: use the general path.
  bool ParseRfc3339Common(absl::string_view raw, LogLine* line) const;
  // Every form and every error: what the fast paths hand over.
  absl::StatusOr<LogLine> ParseGeneral(absl::string_view raw) const;
  // After the timestamp and its space: "host prog[pid]: text" (both fast paths).
  static bool ParseTagCommon(const char* host, const char* end, LogLine* line);
  absl::StatusOr<absl::Time> Rfc3164Time(int month, int day, int hh, int mm, int ss,
                                         absl::string_view raw) const;
  // A civil time in the configured zone as UTC. A repeated local time is read as its second
  // occurrence when the first is out of order (see the class comment), else as its first
  // (absl::FromCivil's choice).
  absl::Time LocalToUtc(const absl::CivilSecond& civil) const;
  // Remembers the latest time of a line whose time was local (no offset), for LocalToUtc. In
  // unix seconds: the fast path has them at hand (absl::ToUnixSeconds is a library call).
  ABSL_ATTRIBUTE_ALWAYS_INLINE void NoteLocalTime(int64_t unix_seconds) const {
    const uint64_t packed = static_cast<uint64_t>(unix_seconds) | kHaveLatestLocal;
    const uint64_t latest = latest_local_.packed.load(std::memory_order_relaxed);
    if (latest == 0 || LatestLocalSeconds(packed) > LatestLocalSeconds(latest)) {
      latest_local_.packed.store(packed, std::memory_order_relaxed);
    }
  }
  static constexpr uint64_t kHaveLatestLocal = uint64_t{1} << 63;  // |unix seconds| < 2^62
  // The unix seconds below the flag, sign-extended from their 63 bits.
  static int64_t LatestLocalSeconds(uint64_t packed) {
    return static_cast<int64_t>(packed << 1) >> 1;
  }

  SyslogHeaderOptions options_;
  int reference_year_;
  mutable PackedCache hour_cache_;
  mutable PackedCache day_cache_;
  // Unix seconds of the latest local time read | kHaveLatestLocal; 0 before the first.
  mutable PackedCache latest_local_;
};

}  // namespace mtrk::agent::parse
