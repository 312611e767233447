// CollectorServer: the collector's gRPC server, serving mtrk.v1.Ingest and mtrk.v1.Lookup on
// one address. Used by main and by in-process tests. Does not own the store, which must outlive
// the server. TLS with client certificates when given credentials (mtrk-collector --tls-*).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "collector/ingest/ingest_service.h"
#include "collector/lookup/lookup_service.h"
#include "collector/store/event_store.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"

namespace mtrk::collector::app {

// Largest request accepted: a full batch (model::kMaxEventsPerBatch events of up to a few KiB).
inline constexpr int kMaxRequestBytes = 64 << 20;

class CollectorServer {
 public:
  // `listen` is HOST:PORT; port 0 picks a free one (see port()). Unavailable if it cannot bind.
  // `credentials`: null for insecure (loopback, tests); else e.g. net::GrpcServerCredentials
  // with require_client_cert (agents authenticate with client certificates).
  static absl::StatusOr<std::unique_ptr<CollectorServer>> Start(
      const std::string& listen, store::EventStore& store,
      std::shared_ptr<grpc::ServerCredentials> credentials = nullptr);
  ~CollectorServer();  // Shutdown(absl::ZeroDuration()) if still serving

  int port() const { return port_; }
  // HOST:PORT with the chosen port, e.g. "127.0.0.1:40123".
  const std::string& address() const { return address_; }

  // Stops accepting calls, lets running ones finish within `grace`, then cancels the rest.
  void Shutdown(absl::Duration grace);

 private:
  explicit CollectorServer(store::EventStore& store) : ingest_(store), lookup_(store) {}

  ingest::IngestService ingest_;
  lookup::LookupService lookup_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::string address_;
  bool shut_down_ = false;
};

}  // namespace mtrk::collector::app
