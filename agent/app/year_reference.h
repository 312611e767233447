// RFC 3164 lines carry no year; the syslog header parser infers it from a reference time
// (parse::SyslogHeaderOptions::reference). Which reference, per source of lines:
//   tailing: the clock, advanced as the agent runs (a reference fixed at start took lines from
//     31 days after it for last year's);
//   a file read whole (backfill, one-shot): the file's modification time, when its last line was
//     written, so a log archived for more than a year gets its own year, not this one.
#pragma once

#include <string>

#include "absl/time/time.h"

namespace mtrk::agent::app {

// The file's modification time, or `now` if that is later or the file cannot be stat'ed.
absl::Time YearReferenceOfFile(const std::string& path, absl::Time now);

}  // namespace mtrk::agent::app
