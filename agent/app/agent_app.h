// The agent's one-shot run: read each file once, parse, correlate, validate, then push (or print).
// Wiring only; the logic lives in parse/, correlate/ and ship/.
#pragma once

#include <cstdint>
#include <map>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "agent/app/agent_config.h"

namespace mtrk::agent::app {

// Lines longer than this are skipped and counted (Postfix's own line_length_limit is 2048 for
// SMTP; log lines are shorter still). Guards the parsers against pathological input.
inline constexpr size_t kMaxLineBytes = 64 * 1024;

struct RunSummary {
  int64_t files = 0;
  int64_t lines = 0;
  int64_t recognised = 0;
  // Skipped lines, by reason.
  int64_t unrelated = 0;
  int64_t bad_header = 0;
  int64_t malformed = 0;
  int64_t too_long = 0;
  std::map<std::string, int64_t> unrelated_by_program;  // "smtpd" -> n
  int64_t events = 0;
  int64_t invalid_events = 0;  // failed model::ValidateHopEvent: dropped, never sent
  int64_t text_repaired = 0;   // events whose log text was not UTF-8, repaired by the correlator
  int64_t stored = 0;
  int64_t push_retries = 0;
  bool dry_run = false;
};

// One line: "mtrk-agent: files=1 lines=299 recognised=... skipped{...} events=... stored=...".
std::string FormatSummary(const RunSummary& summary);

// Runs the agent. `reference` is the clock (absl::Now() in main); RFC 3164 years of each file are
// inferred from the earlier of it and the file's modification time (year_reference.h).
// Events go to `out` as JSON lines under --dry-run. Returns the first error (unreadable file,
// failed push) after doing all it could; the summary is filled either way.
absl::Status RunAgent(const AgentConfig& config, absl::Time reference, std::ostream& out,
                      RunSummary* summary);

}  // namespace mtrk::agent::app
