// libFuzzer target: the input is a log (lines split at '\n') fed through the header parser, the
// Postfix parser and one Correlator, with an idle eviction every 64 lines and a final Flush.
// Properties checked beyond "no crash": every event is valid (ValidateHopEvent, and its text
// UTF-8 without NUL: ValidateHopEventText), nothing stays
// open after Flush, and OldestOpenPosition never points past the current line.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "agent/correlate/correlator.h"
#include "agent/parse/postfix/postfix_parser.h"
#include "agent/parse/syslog_header.h"

namespace {

void Check(const std::vector<mtrk::model::HopEvent>& events) {
  for (const mtrk::model::HopEvent& e : events) {
    absl::Status st = mtrk::model::ValidateHopEvent(e);
    // The correlator must have repaired text that was not UTF-8 (Message::plain_text).
    if (st.ok()) st = mtrk::model::ValidateHopEventText(e);
    if (!st.ok()) {
      std::fprintf(stderr, "invalid event for %s: %s\n", e.queue_id.c_str(),
                   std::string(st.message()).c_str());
      std::abort();
    }
    if (e.expansion_member && !e.certifier.empty()) std::abort();  // RFC 3885 §3.3
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const mtrk::agent::parse::SyslogHeaderParser headers(
      {.zone = absl::UTCTimeZone(), .reference = absl::FromUnixSeconds(1795415225)});
  static const std::unique_ptr<mtrk::agent::parse::LineParser> parser =
      mtrk::agent::parse::NewPostfixParser();
  mtrk::agent::correlate::CorrelatorOptions options;
  options.tracked_next_hops = {"127.0.0.2", "127.0.0.1:2525"};
  mtrk::agent::correlate::Correlator correlator(std::move(options));
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  uint64_t position = 0;
  absl::Time latest = absl::InfinitePast();
  for (int n = 1; !input.empty(); ++n) {
    const size_t end = input.find('\n');
    const absl::string_view raw = input.substr(0, end);
    input.remove_prefix(end == absl::string_view::npos ? input.size() : end + 1);
    const uint64_t here = position;
    position += raw.size() + 1;
    absl::StatusOr<mtrk::agent::parse::LogLine> line = headers.Parse(raw);
    if (!line.ok()) continue;
    absl::StatusOr<mtrk::agent::parse::LineFact> fact = parser->Parse(*line);
    if (!fact.ok()) continue;
    Check(correlator.Add(*line, *fact, here));
    if (std::optional<uint64_t> oldest = correlator.OldestOpenPosition();
        oldest && *oldest > here) {
      std::abort();
    }
    if (latest < line->time) latest = line->time;
    if (n % 64 == 0) Check(correlator.EvictIdle(latest, absl::Hours(1)));
  }
  Check(correlator.Flush());
  if (correlator.open_messages() != 0) std::abort();
  return 0;
}
