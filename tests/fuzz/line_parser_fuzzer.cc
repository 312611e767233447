// libFuzzer target: one raw log line through SyslogHeaderParser (in UTC, and in a zone with
// daylight saving time) and PostfixParser, as the agent runs them. Properties checked beyond "no
// crash": a fact is printable, and a RecipientOutcome always names a recipient.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "agent/parse/postfix/postfix_parser.h"
#include "agent/parse/syslog_header.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const mtrk::agent::parse::SyslogHeaderParser headers(
      {.zone = absl::UTCTimeZone(), .reference = absl::FromUnixSeconds(1795415225)});
  static const std::unique_ptr<mtrk::agent::parse::LineParser> parser =
      mtrk::agent::parse::NewPostfixParser();
  // The same line in a zone with daylight saving time as well: the repeated hour's choice of
  // reading depends on the lines before (syslog_header.h), so this parser keeps its history
  // across inputs, as it would across the lines of a log.
  static const mtrk::agent::parse::SyslogHeaderParser local_headers = [] {
    absl::TimeZone zone = absl::FixedTimeZone(3600);  // if tzdata is missing
    (void)absl::LoadTimeZone("Europe/Berlin", &zone);
    return mtrk::agent::parse::SyslogHeaderParser(
        {.zone = zone, .reference = absl::FromUnixSeconds(1795415225)});
  }();
  const absl::string_view raw(reinterpret_cast<const char*>(data), size);
  (void)local_headers.Parse(raw);
  absl::StatusOr<mtrk::agent::parse::LogLine> line = headers.Parse(raw);
  if (!line.ok()) return 0;
  absl::StatusOr<mtrk::agent::parse::LineFact> fact = parser->Parse(*line);
  if (!fact.ok()) return 0;
  (void)mtrk::agent::parse::Describe(*fact);
  if (const auto* o = std::get_if<mtrk::agent::parse::RecipientOutcome>(&*fact)) {
    if (o->recipient.empty() || o->queue_id.empty()) std::abort();
  }
  return 0;
}
