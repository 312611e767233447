#include "agent/app/agent_app.h"

#include <fstream>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/app/line_splitter.h"
#include "agent/app/year_reference.h"
#include "agent/correlate/correlator.h"
#include "agent/parse/postfix/postfix_parser.h"
#include "agent/parse/syslog_header.h"
#include "agent/ship/collector_client.h"
#include "common/model/hop_event_proto.h"
#include "google/protobuf/util/json_util.h"
#include "spdlog/spdlog.h"

namespace mtrk::agent::app {
namespace {

// Warn about the first few bad lines of a run only; the summary has the totals.
constexpr int64_t kMaxWarnings = 10;

std::string ToJsonLine(const model::HopEvent& event) {
  v1::HopEvent proto;
  model::ToProto(event, &proto);
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(proto, &json, options).ok()) {
    return "{}";  // cannot happen for a well-formed proto
  }
  return json;
}

}  // namespace

std::string FormatSummary(const RunSummary& s) {
  std::vector<std::string> by_program;
  for (const auto& [program, n] : s.unrelated_by_program) {
    by_program.push_back(absl::StrCat(program, "=", n));
  }
  return absl::StrCat("mtrk-agent: files=", s.files, " lines=", s.lines,
                      " recognised=", s.recognised, " skipped{unrelated=", s.unrelated,
                      " bad_header=", s.bad_header, " malformed=", s.malformed,
                      " too_long=", s.too_long, "} unrelated_by_program{",
                      absl::StrJoin(by_program, ","), "} events=", s.events,
                      " invalid_events=", s.invalid_events, " text_repaired=", s.text_repaired,
                      s.dry_run ? " stored=n/a(dry-run)" : absl::StrCat(" stored=", s.stored),
                      " push_retries=", s.push_retries);
}

absl::Status RunAgent(const AgentConfig& config, absl::Time reference, std::ostream& out,
                      RunSummary* summary) {
  *summary = RunSummary{};
  summary->dry_run = config.dry_run;
  const std::unique_ptr<parse::LineParser> parser = parse::NewPostfixParser();
  correlate::CorrelatorOptions correlator_options;
  correlator_options.reporting_mta = config.reporting_mta;
  correlator_options.tracked_next_hops.insert(config.tracked_next_hops.begin(),
                                              config.tracked_next_hops.end());
  correlator_options.max_queue_lifetime = config.max_queue_lifetime;
  // One correlator for all files: they are read in the order given, like rotated parts of one log.
  correlate::Correlator correlator(std::move(correlator_options));

  absl::Status first_error;
  std::vector<model::HopEvent> events;
  const auto take = [&](std::vector<model::HopEvent> batch) {
    for (model::HopEvent& e : batch) {
      ++summary->events;
      if (absl::Status valid = model::ValidateHopEvent(e); !valid.ok()) {
        // The collector rejects a whole batch for one bad event; drop it here instead.
        ++summary->invalid_events;
        spdlog::warn("dropping invalid event of queue id {}: {}", e.queue_id,
                     std::string(valid.message()));
        continue;
      }
      events.push_back(std::move(e));
    }
  };
  int64_t warnings = 0;
  const auto warn = [&](const std::string& path, int64_t n, const absl::Status& s) {
    if (warnings++ < kMaxWarnings) spdlog::warn("{}:{}: {}", path, n, std::string(s.message()));
  };

  for (const std::string& path : config.files) {
    const parse::SyslogHeaderParser headers(
        {.zone = config.zone, .reference = YearReferenceOfFile(path, reference)});
    std::ifstream in(path);
    if (!in.is_open()) {
      const absl::Status error = absl::NotFoundError(absl::StrCat(path, ": cannot open"));
      spdlog::error("{}", std::string(error.message()));
      if (first_error.ok()) first_error = error;
      continue;
    }
    ++summary->files;
    int64_t n = 0;
    const auto on_line = [&](absl::string_view raw, uint64_t /*offset*/) {
      ++n;
      ++summary->lines;
      absl::StatusOr<parse::LogLine> line = headers.Parse(raw);
      if (!line.ok()) {
        ++summary->bad_header;
        warn(path, n, line.status());
        return;
      }
      absl::StatusOr<parse::LineFact> fact = parser->Parse(*line);
      if (!fact.ok()) {
        ++summary->malformed;
        warn(path, n, fact.status());
        return;
      }
      if (std::holds_alternative<parse::Unrelated>(*fact)) {
        ++summary->unrelated;
        ++summary->unrelated_by_program[std::string(parse::ProgramName(line->program))];
        return;
      }
      ++summary->recognised;
      take(correlator.Add(*line, *fact));
    };
    const auto on_too_long = [&](uint64_t /*offset*/) {
      ++n;
      ++summary->lines;
      ++summary->too_long;
    };
    // Blocks, not getline: getline would hold a whole line, however long, before its length
    // could be checked.
    LineSplitter splitter(kMaxLineBytes);
    std::string block(64 * 1024, '\0');
    while (in.read(block.data(), static_cast<std::streamsize>(block.size())) || in.gcount() > 0) {
      splitter.Feed(absl::string_view(block.data(), static_cast<size_t>(in.gcount())), on_line,
                    on_too_long);
    }
    splitter.Finish(on_line, on_too_long);
    if (in.bad()) {
      const absl::Status error = absl::DataLossError(absl::StrCat(path, ": read error"));
      spdlog::error("{}", std::string(error.message()));
      if (first_error.ok()) first_error = error;
    }
  }
  take(correlator.Flush());
  summary->text_repaired = correlator.stats().text_repaired;

  if (config.dry_run) {
    for (const model::HopEvent& e : events) out << ToJsonLine(e) << "\n";
    out.flush();
    return first_error;
  }
  ship::CollectorClientOptions client_options;
  if (!config.reporting_mta.empty()) client_options.agent_id = config.reporting_mta;
  std::unique_ptr<ship::CollectorClient> client =
      ship::CollectorClient::Connect(config.collector, std::move(client_options));
  absl::StatusOr<int64_t> stored = client->Push(events);
  summary->push_retries = client->retries();
  if (!stored.ok()) {
    spdlog::error("{}", std::string(stored.status().message()));
    if (first_error.ok()) first_error = stored.status();
  } else {
    summary->stored = *stored;
  }
  return first_error;
}

}  // namespace mtrk::agent::app
