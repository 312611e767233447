#include "agent/ship/shipper.h"

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
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
      // XXX: should go to a quarantine table (STYLE §3 DataLoss); SQLite checksums make it rare.
      spdlog::error("ship: spool record {} does not parse; skipping it", record.seq);
      (void)spool_.Ack(record.seq);
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
      if (status.code() == absl::StatusCode::kInvalidArgument ||
          status.code() == absl::StatusCode::kFailedPrecondition) {
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

}  // namespace mtrk::agent::ship
