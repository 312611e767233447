// OpenSSL contexts for MTQP over STARTTLS (RFC 3887 §6), shared by the server, the chaining
// client and mtrk-track. TLS 1.2 is the floor (RFC 8996: no TLS 1.0 or 1.1; DIGEST §7 item 44).
// Files are read once, when the context is made; errors name the file.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "asio/ssl.hpp"

namespace mtrk::gateway::server {

struct ServerTls {
  std::shared_ptr<asio::ssl::context> context;
  // dNSName entries of the certificate's subjectAltName, for STARTTLS -BAD/bad-fqdn.
  std::vector<std::string> dns_names;
};

// `cert_file` is a PEM chain (leaf first), `key_file` its PEM private key. With
// `client_ca_file` (PEM bundle), every client must present a certificate that chains to it, or
// the handshake fails (a gateway that only answers known chaining peers).
absl::StatusOr<ServerTls> MakeServerTls(const std::string& cert_file, const std::string& key_file,
                                        const std::string& client_ca_file = "");

struct ClientTlsOptions {
  std::string ca_file;    // PEM bundle; empty: the system's trust store
  std::string cert_file;  // optional client certificate (chaining to a peer that asks for one)
  std::string key_file;
};

// A client context that verifies the peer's chain. The host name is checked per connection
// (ExpectHostName), since one context serves many servers.
absl::StatusOr<std::shared_ptr<asio::ssl::context>> MakeClientTls(const ClientTlsOptions& options);

// Sets SNI and makes the handshake fail unless the certificate matches `host` (a DNS name or an
// IP literal), using OpenSSL's RFC 6125 checks.
absl::Status ExpectHostName(SSL* ssl, const std::string& host);

// "TLSv1.3 TLS_AES_256_GCM_SHA384": the negotiated protocol and cipher, for logs.
std::string Describe(const SSL* ssl);

}  // namespace mtrk::gateway::server
