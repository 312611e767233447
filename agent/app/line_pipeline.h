// LinePipeline: one raw log line in, validated hop events out (syslog header -> Postfix parser ->
// correlator), counting every skip in AgentMetrics. Shared by `run` (tail) and `backfill`, so
// both derive the same events, with the same ids, from the same lines.
//
// Checkpoints (SafeCheckpoint / Resume): the replay start is c = min(next unread line, first
// line of the oldest message still open), as the correlator's OldestOpenPosition suggests. Lines
// at or after c of messages that started before c were already turned into events (those
// messages are closed, else c would be earlier); replaying them alone would build fragments
// with other event ids. So the checkpoint also names those messages' keys ("skip keys"), and the
// resumed pipeline drops their lines until a line is later (log time) than the checkpoint's
// latest line, after which none of them can appear (they were closed by then), or until such a
// key is opened anew (client=, a reused queue id). Not thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/time/time.h"
#include "agent/app/agent_metrics.h"
#include "agent/app/run_config.h"
#include "agent/correlate/correlator.h"
#include "agent/parse/line_parser.h"
#include "agent/parse/syslog_header.h"
#include "common/model/hop_event.h"

namespace mtrk::agent::app {

class LinePipeline {
 public:
  struct Options {
    // Keep what SafeCheckpoint needs (a message key per tracked line since the last checkpoint,
    // and every open key's first position). Tailing needs it; a one-pass backfill, which never
    // checkpoints, turns it off: it costs an allocation per line and grows without a checkpoint.
    bool checkpoints = true;
  };

  // `reference`: the time RFC 3164 years are inferred from (year_reference.h).
  LinePipeline(const RunConfig& config, absl::Time reference, AgentMetrics& metrics)
      : LinePipeline(config, reference, metrics, Options{}) {}
  LinePipeline(const RunConfig& config, absl::Time reference, AgentMetrics& metrics,
               Options options);

  // Feeds one line (without '\n') that starts at `position`; appends the events it completes.
  // `raw` is used only during the call (the correlator copies what it keeps): the caller may
  // reuse its buffer as soon as Feed returns. Feed is ParseLine then CorrelateLine.
  void Feed(absl::string_view raw, uint64_t position, std::vector<model::HopEvent>* out);

  // A line the parser turned into a fact for the correlator. Its views point into the raw line's
  // buffer, which must outlive the ParsedLine (LineBatchPipeline keeps them together).
  struct ParsedLine {
    // Not `= default`: value-initialisation (emplace_back()) would zero the struct before the
    // members' own initialisers run: 6% of LineBatchPipeline's reading thread (profile, issue 8).
    ParsedLine() {}  // NOLINT(modernize-use-equals-default)
    parse::LogLine line;
    parse::LineFact fact;
    uint64_t position = 0;
  };
  // The first half of Feed (syslog header, Postfix parser, skip counters): true if the line
  // goes on to CorrelateLine. Touches no correlator state, so it may run on another thread
  // than CorrelateLine (LineBatchPipeline), one thread at a time.
  bool ParseLine(absl::string_view raw, uint64_t position, ParsedLine* parsed) const;
  // The second half: checkpoint bookkeeping, correlator, ids, validation, idle eviction. Lines
  // must come in input order.
  void CorrelateLine(const ParsedLine& parsed, std::vector<model::HopEvent>* out);
  // A skipped over-long line still counts as read.
  void FeedTooLong();
  // A new time to infer RFC 3164 years from (year_reference.h): the clock as a tail runs, or the
  // next file's modification time. Between lines, on the thread that runs ParseLine. A move of
  // less than a minute is ignored (it rebuilds the header parser and its hour cache).
  void SetYearReference(absl::Time reference);
  // End of input (backfill): emits every open message.
  void Flush(std::vector<model::HopEvent>* out);

  struct Checkpoint {
    uint64_t position = 0;                     // replay start
    absl::Time latest = absl::InfinitePast();  // log time of the latest line read
    std::vector<std::string> skip_keys;        // see above
    // Log time of the line at `position` (or of the latest line before it), InfinitePast if
    // unknown: how far the syslog header parser had read the log when it came to the replay
    // start, so that a replay inside an hour repeated at the end of daylight saving time reads
    // it as the first run did (syslog_header.h).
    absl::Time resume_time = absl::InfinitePast();
  };
  // The replay start for what has been fed so far (see above); forgets what it no longer needs.
  // Only with Options::checkpoints.
  Checkpoint SafeCheckpoint(uint64_t next_position);
  // After a restart, before the first Feed: the checkpoint's skip keys, latest time and resume
  // time (its position is the caller's: where it reads from).
  void Resume(const Checkpoint& checkpoint);

  absl::Time latest_line_time() const { return latest_time_; }
  size_t open_messages() const { return correlator_.open_messages(); }

 private:
  void Take(std::vector<model::HopEvent> events, std::vector<model::HopEvent>* out);
  // Drops (and counts) the invalid events among (*out)[first...], keeping the order.
  void ValidateFrom(size_t first, std::vector<model::HopEvent>* out);

  AgentMetrics& metrics_;
  const Options options_;
  const absl::Duration idle_eviction_;
  parse::SyslogHeaderParser headers_;
  const std::unique_ptr<parse::LineParser> parser_;
  correlate::Correlator correlator_;
  absl::Time latest_time_ = absl::InfinitePast();
  int64_t eviction_minute_ = 0;
  struct Recent {
    uint64_t position;
    uint64_t first;  // first position of its message
    std::string key;
  };
  // Tracked lines since the last checkpoint.
  std::deque<Recent> recent_;
  absl::flat_hash_map<std::string, uint64_t> first_position_;  // message key -> first line
  // Resumed skip keys, active while lines are no later than skip_until_.
  absl::flat_hash_set<std::string> skip_;
  absl::Time skip_until_ = absl::InfinitePast();
};

}  // namespace mtrk::agent::app
