#include "agent/app/agent_metrics.h"

#include <httplib.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace mtrk::agent::app {

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
  metric("mtrk_agent_bytes_read_total", "counter", "Log bytes read.", bytes_read.load());
  metric("mtrk_agent_events_total", "counter", "Hop events derived and spooled.", events.load());
  metric("mtrk_agent_invalid_events_total", "counter", "Events failing validation (not sent).",
         invalid_events.load());
  metric("mtrk_agent_events_sent_total", "counter", "Events acked by the collector.",
         events_sent.load());
  metric("mtrk_agent_events_stored_total", "counter", "Events new in the collector's store.",
         events_stored.load());
  metric("mtrk_agent_push_retries_total", "counter", "PushEvents retries.", push_retries.load());
  metric("mtrk_agent_rotations_total", "counter", "Log rotations followed.", rotations.load());
  metric("mtrk_agent_spool_full_total", "counter", "Times reading paused on a full spool.",
         spool_full.load());
  metric("mtrk_agent_spool_bytes", "gauge", "Bytes of unacked records in the spool.",
         spool_bytes.load());
  metric("mtrk_agent_spool_records", "gauge", "Unacked records in the spool.",
         spool_records.load());
  metric("mtrk_agent_lag_seconds", "gauge", "Age of the oldest spooled, unacked log line.",
         lag_seconds.load());
  metric("mtrk_agent_open_messages", "gauge", "Messages the correlator holds open.",
         open_messages.load());
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
