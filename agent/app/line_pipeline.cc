#include "agent/app/line_pipeline.h"

#include <algorithm>
#include <cassert>
#include <iterator>
#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "agent/parse/postfix/postfix_parser.h"
#include "spdlog/spdlog.h"

namespace mtrk::agent::app {
namespace {

correlate::CorrelatorOptions CorrelatorOptionsOf(const RunConfig& c) {
  correlate::CorrelatorOptions o;
  o.reporting_mta = c.reporting_mta;
  o.tracked_next_hops.insert(c.tracked_next_hops.begin(), c.tracked_next_hops.end());
  o.max_queue_lifetime = c.max_queue_lifetime;
  return o;
}

// The queue id a fact is about; empty for Unrelated. A view into the fact.
absl::string_view QueueIdOf(const parse::LineFact& fact) {
  return std::visit(
      [](const auto& f) -> absl::string_view {
        if constexpr (requires { f.queue_id; }) {
          return f.queue_id;
        } else {
          return {};
        }
      },
      fact);
}

}  // namespace

LinePipeline::LinePipeline(const RunConfig& config, absl::Time reference, AgentMetrics& metrics,
                           Options options)
    : metrics_(metrics),
      options_(options),
      idle_eviction_(config.idle_eviction),
      headers_({.zone = config.zone, .reference = reference}),
      parser_(parse::NewPostfixParser()),
      correlator_(CorrelatorOptionsOf(config)) {}

void LinePipeline::Take(std::vector<model::HopEvent> events, std::vector<model::HopEvent>* out) {
  const size_t first = out->size();
  out->insert(out->end(), std::make_move_iterator(events.begin()),
              std::make_move_iterator(events.end()));
  ValidateFrom(first, out);
}

void LinePipeline::ValidateFrom(size_t first, std::vector<model::HopEvent>* out) {
  size_t kept = first;
  for (size_t i = first; i < out->size(); ++i) {
    model::HopEvent& e = (*out)[i];
    if (absl::Status valid = model::ValidateHopEvent(e); !valid.ok()) {
      // The collector rejects a whole batch for one bad event; drop it here, counted.
      ++metrics_.invalid_events;
      spdlog::warn("dropping invalid event of queue id {}: {}", e.queue_id,
                   std::string(valid.message()));
      continue;
    }
    if (kept != i) (*out)[kept] = std::move(e);
    ++kept;
  }
  // One atomic add per call, not per event: a backfill updates the line counters from another
  // thread (LineBatchPipeline).
  metrics_.events.fetch_add(static_cast<int64_t>(kept - first), std::memory_order_relaxed);
  metrics_.events_text_repaired.store(correlator_.stats().text_repaired, std::memory_order_relaxed);
  out->resize(kept);
}

void LinePipeline::SetYearReference(absl::Time reference) {
  if (absl::AbsDuration(reference - headers_.reference()) < absl::Minutes(1)) return;
  headers_.SetReference(reference);  // not a new parser: it keeps its place in the log
}

void LinePipeline::FeedTooLong() {
  ++metrics_.lines_read;
  ++metrics_.skipped_too_long;
}

void LinePipeline::Feed(absl::string_view raw, uint64_t position,
                        std::vector<model::HopEvent>* out) {
  ParsedLine parsed;
  if (ParseLine(raw, position, &parsed)) CorrelateLine(parsed, out);
}

bool LinePipeline::ParseLine(absl::string_view raw, uint64_t position, ParsedLine* parsed) const {
  metrics_.lines_read.fetch_add(1, std::memory_order_relaxed);
  absl::StatusOr<parse::LogLine> line = headers_.Parse(raw);
  if (!line.ok()) {
    metrics_.skipped_bad_header.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  absl::StatusOr<parse::LineFact> fact = parser_->Parse(*line);
  if (!fact.ok()) {
    metrics_.skipped_malformed.fetch_add(1, std::memory_order_relaxed);
    metrics_.skipped_by_kind.Add(parse::ProgramName(line->program), "malformed");
    return false;
  }
  if (const auto* unrelated = std::get_if<parse::Unrelated>(&*fact)) {
    metrics_.skipped_unrelated.fetch_add(1, std::memory_order_relaxed);
    metrics_.skipped_by_kind.Add(parse::ProgramName(line->program), unrelated->kind);
    return false;
  }
  parsed->line = *line;
  parsed->fact = *std::move(fact);
  parsed->position = position;
  return true;
}

void LinePipeline::CorrelateLine(const ParsedLine& parsed, std::vector<model::HopEvent>* out) {
  const parse::LogLine* const line = &parsed.line;
  const uint64_t position = parsed.position;
  const parse::LineFact* const fact = &parsed.fact;
  const absl::string_view queue_id = QueueIdOf(*fact);
  if (!skip_.empty() && line->time > skip_until_) skip_.clear();  // replay is past them
  if (options_.checkpoints && !queue_id.empty()) {
    std::string key =
        absl::StrCat(line->host, "|", parse::InstanceName(line->program), "|", queue_id);
    // client=/uid= opens a new message even for a queue id seen before (Postfix reuses them).
    const bool opening = std::holds_alternative<parse::MessageReceived>(*fact);
    if (!skip_.empty() && skip_.contains(key)) {
      if (!opening) {
        // A message finished before the restart: its events are already spooled.
        ++metrics_.skipped_replayed;
        latest_time_ = std::max(latest_time_, line->time);
        return;
      }
      skip_.erase(key);
    }
    auto [it, inserted] = first_position_.try_emplace(key, position);
    if (opening) it->second = position;
    recent_.push_back(Recent{position, it->second, std::move(key)});
  }
  latest_time_ = std::max(latest_time_, line->time);
  const size_t first_new = out->size();
  correlator_.Add(*line, parsed.fact, position, out);
  if (out->size() > first_new) ValidateFrom(first_new, out);
  // Idle eviction once per minute of log time: decided by the lines alone, so a replay after a
  // restart evicts the same messages.
  if (const int64_t minute = absl::ToUnixSeconds(latest_time_) / 60; minute != eviction_minute_) {
    eviction_minute_ = minute;
    Take(correlator_.EvictIdle(latest_time_, idle_eviction_), out);
  }
}

void LinePipeline::Flush(std::vector<model::HopEvent>* out) { Take(correlator_.Flush(), out); }

LinePipeline::Checkpoint LinePipeline::SafeCheckpoint(uint64_t next_position) {
  assert(options_.checkpoints);
  Checkpoint cp;
  const std::optional<correlate::Correlator::OpenLine> oldest = correlator_.OldestOpenLine();
  if (oldest.has_value() && oldest->position < next_position) {
    cp.position = oldest->position;
    cp.resume_time = oldest->time;
  } else {
    cp.position = next_position;
    cp.resume_time = latest_time_;  // the next line follows it
  }
  // Carried skip keys must stay active as long as in the checkpoint they came from.
  cp.latest = std::max(latest_time_, skip_.empty() ? absl::InfinitePast() : skip_until_);
  while (!recent_.empty() && recent_.front().position < cp.position) recent_.pop_front();
  absl::flat_hash_set<std::string> keys(skip_.begin(), skip_.end());
  for (const Recent& r : recent_) {
    if (r.first < cp.position) keys.insert(r.key);
  }
  cp.skip_keys.assign(keys.begin(), keys.end());
  std::sort(cp.skip_keys.begin(), cp.skip_keys.end());
  // Keys of messages that started before the checkpoint and have no line after it are closed;
  // a later line with such a key starts a new message.
  absl::erase_if(first_position_, [&](const auto& kv) {
    return kv.second < cp.position && !keys.contains(kv.first);
  });
  return cp;
}

void LinePipeline::Resume(const Checkpoint& checkpoint) {
  skip_.insert(checkpoint.skip_keys.begin(), checkpoint.skip_keys.end());
  skip_until_ = checkpoint.latest;
  if (checkpoint.resume_time != absl::InfinitePast()) headers_.ResumeAt(checkpoint.resume_time);
}

}  // namespace mtrk::agent::app
