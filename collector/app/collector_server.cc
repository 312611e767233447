#include "collector/app/collector_server.h"

#include <chrono>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace mtrk::collector::app {

absl::StatusOr<std::unique_ptr<CollectorServer>> CollectorServer::Start(
    const std::string& listen, store::EventStore& store,
    std::shared_ptr<grpc::ServerCredentials> credentials) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("collector: listen address '", listen, "' is not HOST:PORT"));
  }
  std::unique_ptr<CollectorServer> server(new CollectorServer(store));
  grpc::ServerBuilder builder;
  builder.AddListeningPort(listen,
                           credentials != nullptr ? credentials : grpc::InsecureServerCredentials(),
                           &server->port_);
  builder.SetMaxReceiveMessageSize(kMaxRequestBytes);
  builder.RegisterService(&server->ingest_);
  builder.RegisterService(&server->lookup_);
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(absl::StrCat("collector: cannot listen on '", listen, "'"));
  }
  server->address_ = absl::StrCat(listen.substr(0, colon), ":", server->port_);
  return server;
}

CollectorServer::~CollectorServer() { Shutdown(absl::ZeroDuration()); }

void CollectorServer::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(grace));
  server_->Wait();
}

}  // namespace mtrk::collector::app
