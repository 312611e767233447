// The MTQP TCP server (RFC 3887 §2): accepts connections, runs one mtqp::Session per connection,
// and moves bytes. A few I/O threads run Asio; TRACK lookups (a blocking gRPC call of up to 10 s)
// run on a separate worker pool so a slow collector never stalls the I/O threads. Per connection:
// commands are handled strictly one at a time, in order (pipelining, RFC 3887 §8); input is read
// only when no complete line is pending, so memory stays bounded; an idle timer closes the
// connection. STARTTLS (RFC 3887 §6) upgrades the socket in place: clear-text bytes buffered
// before the handshake are discarded (DIGEST §6.14), a failed handshake closes the connection.
// Thread-safe: Start/Stop may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "mtqp-gateway/mtqp/session.h"
#include "mtqp-gateway/mtqp/track_lookup.h"
#include "mtqp-gateway/server/client_rate_limiter.h"

namespace mtrk::gateway::server {

struct ServerOptions {
  std::string listen_host = "0.0.0.0";
  uint16_t listen_port = 1038;  // RFC 3887 §2; 0 picks a free port (tests)
  int io_threads = 2;
  int lookup_threads = 4;  // concurrent TRACK lookups
  // RFC 3887 §2.5: an idle timer MUST be at least 10 minutes.
  absl::Duration idle_timeout = absl::Minutes(10);
  mtqp::SessionOptions session;
  // TLS: both set enables STARTTLS (session.tls_available and certificate_names are filled in
  // from the certificate); session.tls_required makes TLS mandatory for TRACK.
  std::string tls_cert_file;
  std::string tls_key_file;
  // PEM bundle: when set, STARTTLS requires a client certificate that chains to it (the
  // handshake fails without one, and the connection closes, RFC 3887 §6.1).
  std::string tls_client_ca_file;
  // Per client address (IPv4 address, IPv6 /64), token buckets (server/client_rate_limiter.h);
  // burst 0 turns one off. New connections: over the limit, the client gets a negative greeting
  // (-TEMP/MTQP/admin) and the connection closes. Failed TRACKs (-ERR/noinfo, whatever the
  // reason): over the limit, every TRACK gets -TEMP/admin without a lookup until the bucket
  // refills. A legitimate originator rarely fails; a whole site behind one NAT or a chaining
  // gateway shares a bucket, hence the generous bursts.
  RateLimit connection_limit = {.burst = 300, .period = absl::Minutes(1)};
  RateLimit failed_track_limit = {.burst = 30, .period = absl::Minutes(5)};
  size_t rate_limit_clients = ClientRateLimiter::kDefaultMaxClients;  // buckets kept per limit
};

// InvalidArgument for options the RFC forbids (idle timeout under 600 s) or that cannot work.
absl::Status ValidateServerOptions(const ServerOptions& options);

class MtqpServer {
 public:
  // Binds and starts serving. `lookup` must outlive the server. InvalidArgument for bad options,
  // Unavailable if the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<MtqpServer>> Start(const ServerOptions& options,
                                                           mtqp::TrackLookup& lookup);
  ~MtqpServer();  // Stop()s

  MtqpServer(const MtqpServer&) = delete;
  MtqpServer& operator=(const MtqpServer&) = delete;

  // The bound port: the chosen one when listen_port was 0.
  uint16_t port() const;
  // "HOST:PORT" as bound (IPv6 in brackets).
  std::string endpoint() const;

  // The limiters, for counters and tests.
  const ClientRateLimiter& connection_limiter() const;
  const ClientRateLimiter& failed_track_limiter() const;

  // Stops accepting, closes every connection, waits for the threads. Idempotent.
  void Stop();

 private:
  struct State;
  explicit MtqpServer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace mtrk::gateway::server
