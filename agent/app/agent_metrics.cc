#include "agent/app/agent_metrics.h"

#include <httplib.h>

#include <array>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace mtrk::agent::app {
namespace {

// Label values, index = position; the last one is "other". Postfix's daemons and commands, as
// in the parser's list (agent/parse/postfix/postfix_parser.cc).
constexpr std::array<absl::string_view, SkippedLineCounts::kPrograms> kProgramLabels = {
    "smtpd",           "smtp",     "lmtp",       "local",     "virtual",     "pipe",     "error",
    "discard",         "retry",    "qmgr",       "oqmgr",     "cleanup",     "pickup",   "bounce",
    "defer",           "trace",    "postsuper",  "postqueue", "postdrop",    "sendmail", "master",
    "anvil",           "scache",   "tlsmgr",     "tlsproxy",  "postscreen",  "dnsblog",  "verify",
    "trivial-rewrite", "proxymap", "proxywrite", "showq",     "flush",       "spawn",    "qmqpd",
    "postfix-script",  "postlog",  "postmap",    "postalias", "postmulti",   "postconf", "postcat",
    "postkick",        "postlock", "postfix",    "smtp-sink", "smtp-source", "nqmgr",    "other"};
// The kinds of parse::Unrelated the Postfix parser names, then "malformed" (InvalidArgument).
constexpr std::array<absl::string_view, SkippedLineCounts::kKinds> kKindLabels = {
    "not-postfix", "no-queue-id",  "noqueue-reject", "noqueue",  "verify-probe",
    "info",        "rcpt-reject",  "milter-action",  "redirect", "filter",
    "warning",     "header-edit",  "released",       "requeued", "expire-requested",
    "skipped",     "attempt-note", "unrecognised",   "",         "malformed",
    "other"};

template <size_t N>
size_t IndexOf(const std::array<absl::string_view, N>& labels, absl::string_view value) {
  // The first labels are the usual ones (smtpd; not-postfix, no-queue-id: connect and
  // disconnect lines): compared before hashing, which was most of the cost (issue 8).
  for (size_t i = 0; i < 2; ++i) {
    if (labels[i] == value) return i;
  }
  // Built once; a hash lookup per skipped line (about a quarter of a Postfix log).
  static const absl::flat_hash_map<absl::string_view, size_t>* const kIndex = [&labels] {
    auto* m = new absl::flat_hash_map<absl::string_view, size_t>();
    for (size_t i = 0; i + 1 < N; ++i) m->emplace(labels[i], i);
    return m;
  }();
  const auto it = kIndex->find(value);
  return it == kIndex->end() ? N - 1 : it->second;
}

}  // namespace

void SkippedLineCounts::Add(absl::string_view program, absl::string_view kind) {
  counts_[IndexOf(kProgramLabels, program)][IndexOf(kKindLabels, kind)].fetch_add(
      1, std::memory_order_relaxed);
}

int64_t SkippedLineCounts::Get(absl::string_view program, absl::string_view kind) const {
  return counts_[IndexOf(kProgramLabels, program)][IndexOf(kKindLabels, kind)].load(
      std::memory_order_relaxed);
}

void SkippedLineCounts::Render(std::string* out) const {
  for (size_t p = 0; p < kPrograms; ++p) {
    for (size_t k = 0; k < kKinds; ++k) {
      const int64_t v = counts_[p][k].load(std::memory_order_relaxed);
      if (v == 0) continue;
      absl::StrAppend(out, "mtrk_agent_lines_skipped_by_kind_total{program=\"", kProgramLabels[p],
                      "\",kind=\"", kKindLabels[k].empty() ? "unclassified" : kKindLabels[k],
                      "\"} ", v, "\n");
    }
  }
}

std::string AgentMetrics::Render() const {
  std::string out;
  const auto metric = [&](const char* name, const char* type, const char* help, int64_t v,
                          const char* labels = "") {
    absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n", name,
                    labels, " ", v, "\n");
  };
  metric("mtrk_agent_lines_read_total", "counter", "Log lines read.", lines_read.load());
  absl::StrAppend(
      &out,
      "# HELP mtrk_agent_lines_skipped_total Lines skipped, by reason.\n"
      "# TYPE mtrk_agent_lines_skipped_total counter\n",
      "mtrk_agent_lines_skipped_total{reason=\"unrelated\"} ", skipped_unrelated.load(), "\n",
      "mtrk_agent_lines_skipped_total{reason=\"bad_header\"} ", skipped_bad_header.load(), "\n",
      "mtrk_agent_lines_skipped_total{reason=\"malformed\"} ", skipped_malformed.load(), "\n",
      "mtrk_agent_lines_skipped_total{reason=\"too_long\"} ", skipped_too_long.load(), "\n",
      "mtrk_agent_lines_skipped_total{reason=\"replayed\"} ", skipped_replayed.load(), "\n");
  absl::StrAppend(&out,
                  "# HELP mtrk_agent_lines_skipped_by_kind_total Unrelated and malformed lines, "
                  "by Postfix daemon and kind of line.\n"
                  "# TYPE mtrk_agent_lines_skipped_by_kind_total counter\n");
  skipped_by_kind.Render(&out);
  metric("mtrk_agent_bytes_read_total", "counter", "Log bytes read.", bytes_read.load());
  metric("mtrk_agent_events_total", "counter", "Hop events derived and spooled.", events.load());
  metric("mtrk_agent_invalid_events_total", "counter", "Events failing validation (not sent).",
         invalid_events.load());
  metric("mtrk_agent_events_text_repaired_total", "counter",
         "Events whose log text was not UTF-8 or held NUL: stray bytes read as Latin-1.",
         events_text_repaired.load());
  metric("mtrk_agent_events_sent_total", "counter", "Events acked by the collector.",
         events_sent.load());
  metric("mtrk_agent_events_stored_total", "counter", "Events new in the collector's store.",
         events_stored.load());
  metric("mtrk_agent_push_retries_total", "counter", "PushEvents retries.", push_retries.load());
  metric("mtrk_agent_rotations_total", "counter", "Log rotations followed.", rotations.load());
  metric("mtrk_agent_rotation_late_bytes_total", "counter",
         "Bytes written to a renamed log after its rotation, read during log.rotate_grace.",
         rotation_late_bytes.load());
  metric("mtrk_agent_spool_full_total", "counter", "Times reading paused on a full spool.",
         spool_full.load());
  metric("mtrk_agent_spool_bytes", "gauge", "Bytes of unacked records in the spool.",
         spool_bytes.load());
  metric("mtrk_agent_spool_records", "gauge", "Unacked records in the spool.",
         spool_records.load());
  metric("mtrk_agent_lag_seconds", "gauge",
         "Read lag: now minus the log time of the latest line read.", lag_seconds.load());
  metric("mtrk_agent_open_messages", "gauge", "Messages the correlator holds open.",
         open_messages.load());
  metric("mtrk_agent_events_quarantined_total", "counter",
         "Events the collector rejected as invalid, moved to the spool's quarantine table.",
         events_quarantined.load());
  metric("mtrk_agent_ship_lag_seconds", "gauge",
         "Now minus the log time of the oldest event not yet acked (0: spool empty).",
         ship_lag_seconds.load());
  metric("mtrk_agent_tail_inotify", "gauge", "1 if inotify wakes the reader, 0 if polling only.",
         tail_inotify.load());
  return out;
}

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& listen,
                                                                    const AgentMetrics& metrics) {
  const size_t colon = listen.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &port)) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics: listen address '", listen, "' is not HOST:PORT"));
  }
  std::unique_ptr<MetricsServer> server(new MetricsServer());
  server->server_ = std::make_unique<httplib::Server>();
  server->server_->Get("/metrics", [&metrics](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics.Render(), "text/plain; version=0.0.4");
  });
  const std::string host = listen.substr(0, colon);
  if (port == 0) {
    server->port_ = server->server_->bind_to_any_port(host);
  } else {
    server->port_ = server->server_->bind_to_port(host, port) ? port : -1;
  }
  if (server->port_ <= 0) {
    return absl::UnavailableError(absl::StrCat("metrics: cannot listen on ", listen));
  }
  httplib::Server* raw = server->server_.get();
  server->thread_ = std::thread([raw] { raw->listen_after_bind(); });
  return server;
}

MetricsServer::~MetricsServer() {
  if (server_ != nullptr) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace mtrk::agent::app
