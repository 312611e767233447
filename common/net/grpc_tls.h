// gRPC TLS credentials from PEM files, shared by the collector (server, mutual TLS with agents),
// the agent and the gateway (clients). Files are read once at start; errors name the file.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"

namespace mtrk::net {

struct TlsFiles {
  std::string cert_file;  // PEM certificate chain of this side
  std::string key_file;   // PEM private key of this side
  std::string ca_file;    // PEM CA bundle to verify the peer
};

// Server credentials. With require_client_cert, a client without a certificate signed by
// ca_file is refused during the handshake (agents -> collector is mutual TLS).
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> GrpcServerCredentials(
    const TlsFiles& files, bool require_client_cert);

// Client credentials: verifies the server against ca_file; presents cert/key when given.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> GrpcChannelCredentials(
    const TlsFiles& files);

// Reads a whole (small) file; NotFound / PermissionDenied / DataLoss name the path.
absl::StatusOr<std::string> ReadSmallFile(const std::string& path, size_t max_bytes = 1 << 20);

}  // namespace mtrk::net
