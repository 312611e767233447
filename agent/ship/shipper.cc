#include "agent/ship/shipper.h"

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "common/base/status_macros.h"
#include "common/net/grpc_status.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/support/channel_arguments.h"
#include "spdlog/spdlog.h"

namespace mtrk::agent::ship {

Shipper::Shipper(spool::Spool& spool, ShipperOptions options)
    : spool_(spool), options_(std::move(options)) {
  std::shared_ptr<grpc::ChannelCredentials> credentials =
      options_.credentials != nullptr ? options_.credentials : grpc::InsecureChannelCredentials();
  // gRPC's own reconnect backoff grows to 120 s by default: after a long collector outage the
  // channel would stay down long after the collector is back. Ours is the one that counts.
  grpc::ChannelArguments args;
  const int max_ms = static_cast<int>(absl::ToInt64Milliseconds(options_.max_backoff));
  const int initial_ms = static_cast<int>(absl::ToInt64Milliseconds(options_.initial_backoff));
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, std::max(initial_ms, 100));
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, std::max(initial_ms, 100));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, std::max(max_ms, 100));
  stub_ = v1::Ingest::NewStub(grpc::CreateCustomChannel(options_.target, credentials, args));
}

void Shipper::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
}

bool Shipper::Wait(absl::Duration d) { return !stop_.WaitForNotificationWithTimeout(d); }

void Shipper::Run() {
  absl::BitGen bitgen;
  absl::Duration backoff = options_.initial_backoff;
  const auto back_off = [&] {
    ++stats_.retries;
    // Full jitter: agents that lost the collector together do not come back in lockstep.
    const absl::Duration d = absl::Uniform(bitgen, 0.0, 1.0) * backoff;
    backoff = std::min(backoff * 2, options_.max_backoff);
    return Wait(d);
  };
  while (!stop_.HasBeenNotified()) {
    absl::StatusOr<std::vector<spool::Spool::Record>> records = spool_.Peek(1, 64 << 20);
    if (!records.ok()) {
      spdlog::error("ship: {}", records.status().ToString());
      if (!back_off()) return;
      continue;
    }
    if (records->empty()) {
      if (!Wait(options_.idle_wait)) return;
      continue;
    }
    const spool::Spool::Record& record = records->front();
    v1::PushEventsRequest request;
    if (!request.ParseFromString(record.data)) {
      // STYLE §3 DataLoss; SQLite's checksums make it rare.
      if (absl::Status s = spool_.Quarantine(
              record.seq,
              {.events = 0, .reason = "spool record does not parse", .data = record.data},
              std::nullopt);
          !s.ok()) {
        spdlog::error("ship: {}", s.ToString());
        if (!back_off()) return;
        continue;
      }
      spdlog::error("ship: spool record {} ({} bytes) does not parse; quarantined", record.seq,
                    record.data.size());
      continue;
    }
    request.set_agent_id(options_.agent_id);
    request.set_batch_sequence(static_cast<uint64_t>(record.seq));
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + options_.deadline));
    v1::PushEventsResponse response;
    const absl::Status status =
        net::FromGrpcStatus(stub_->PushEvents(&context, request, &response));
    if (!status.ok()) {
      stats_.connected = false;
      if (status.code() == absl::StatusCode::kInvalidArgument) {
        ++stats_.failures_rejected;
        stats_.connected = true;  // it answered
        if (absl::Status s = QuarantineRejected(record.seq, request, status); !s.ok()) {
          spdlog::error("ship: {}", s.ToString());
          if (!back_off()) return;
        }
        continue;  // the rest of the batch, or the next one, at once
      }
      if (status.code() == absl::StatusCode::kFailedPrecondition) {
        ++stats_.failures_rejected;
        spdlog::error("ship: collector rejected spool record {}: {}", record.seq,
                      std::string(status.message()));
        backoff = options_.max_backoff;
      } else {
        spdlog::warn("ship: push failed ({}), retrying", status.ToString());
      }
      if (!back_off()) return;
      continue;
    }
    stats_.connected = true;
    backoff = options_.initial_backoff;
    if (absl::Status s = spool_.Ack(record.seq); !s.ok()) {
      spdlog::error("ship: {}", s.ToString());  // resent after a restart: harmless
    }
    ++stats_.batches;
    stats_.events_sent += request.events_size();
    stats_.events_stored += response.stored_events();
  }
}

namespace {

// Which event of `request` the collector's rejection names: "event #N: ..." (as
// model::HopEventsFromProto words it), else an event_id quoted in the message; -1 if neither.
int BadEventIndex(const v1::PushEventsRequest& request, absl::string_view message) {
  const size_t at = message.find("event #");
  if (at != absl::string_view::npos) {
    absl::string_view digits = message.substr(at + 7);
    size_t n = 0;
    while (n < digits.size() && absl::ascii_isdigit(static_cast<unsigned char>(digits[n]))) ++n;
    int index = -1;
    if (n > 0 && absl::SimpleAtoi(digits.substr(0, n), &index) && index >= 0 &&
        index < request.events_size()) {
      return index;
    }
  }
  for (int i = 0; i < request.events_size(); ++i) {
    const std::string& id = request.events(i).event_id();
    if (id.size() >= 16 && absl::StrContains(message, id)) return i;
  }
  return -1;
}

}  // namespace

bool Shipper::LogAllowed() {
  uint64_t suppressed = 0;
  if (!quarantine_log_.Allow("ship-quarantine", &suppressed)) return false;
  if (suppressed > 0) {
    spdlog::error(
        "ship: {} more quarantines were not logged (see mtrk_agent_events_quarantined_total)",
        suppressed);
  }
  return true;
}

absl::Status Shipper::QuarantineRejected(int64_t seq, const v1::PushEventsRequest& request,
                                         const absl::Status& rejection) {
  const std::string reason = std::string(rejection.message()).substr(0, 1000);
  const int bad = BadEventIndex(request, rejection.message());
  if (bad >= 0 && request.events_size() > 1) {
    // Split: the named event goes to quarantine, the others are sent again.
    v1::PushEventsRequest one, rest;
    for (int i = 0; i < request.events_size(); ++i) {
      *(i == bad ? one.add_events() : rest.add_events()) = request.events(i);
    }
    MTRK_RETURN_IF_ERROR(
        spool_.Quarantine(seq, {.events = 1, .reason = reason, .data = one.SerializeAsString()},
                          rest.SerializeAsString()));
    ++stats_.events_quarantined;
    if (LogAllowed()) {
      spdlog::error(
          "ship: collector rejected event {} (#{}, queue id {}) of spool record {}: {}; "
          "quarantined it, sending the other {} events",
          request.events(bad).event_id(), bad, request.events(bad).queue_id(), seq, reason,
          rest.events_size());
    }
    return absl::OkStatus();
  }
  v1::PushEventsRequest stored = request;  // without this agent's id and sequence
  stored.clear_agent_id();
  stored.clear_batch_sequence();
  MTRK_RETURN_IF_ERROR(spool_.Quarantine(
      seq, {.events = request.events_size(), .reason = reason, .data = stored.SerializeAsString()},
      std::nullopt));
  stats_.events_quarantined += request.events_size();
  if (LogAllowed()) {
    spdlog::error(
        "ship: collector rejected spool record {} ({} events): {}; quarantined the whole batch",
        seq, request.events_size(), reason);
  }
  return absl::OkStatus();
}

}  // namespace mtrk::agent::ship
