// The product Chainer (RFC 3887 §2.4; DIGEST §4 "Chaining", §7 items 51-55): for each
// `transferred` record whose Remote-MTA is not one of our own hosts, find that host's MTQP
// server (chain/mtqp_discovery.h), STARTTLS with a verified certificate, send the same ENVID and
// secret, and return the downstream parts unchanged. One deadline covers the whole chain; a
// server already asked (here or upstream, per vnd.mtrk.chain) is never asked again, and nothing
// is asked past max_depth. Failures leave our own transferred record as the referral.
// Failures are counted (failures()) and logged at warn, rate-limited, with the next server's name
// and the reason, never the secret. Thread-safe: each call uses its own connections.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "asio/ssl/context.hpp"
#include "common/log/rate_limited_log.h"
#include "mtqp-gateway/chain/mtqp_discovery.h"
#include "mtqp-gateway/mtqp/chainer.h"
#include "mtqp-gateway/server/tls_context.h"

namespace mtrk::gateway::chain {

struct ChainOptions {
  // Our own MTA hosts: transfers to them are internal hops, answered by our own collector.
  // "host.example" matches exactly, ".example" matches any host under it (case-insensitive).
  std::vector<std::string> own_hosts;
  // Ourselves, "host:port", so a chain never comes back to us.
  std::vector<std::string> self;
  int max_depth = 4;
  // RFC 3887 §2.4: the whole answer within 2 minutes; leave room for our own lookup and reply.
  absl::Duration budget = absl::Seconds(100);
  std::string dns_server;  // "IP:PORT" for tests; empty: the system resolver
  server::ClientTlsOptions tls;
  // Ask servers that offer no TLS, when our client did not use TLS either. Off by default.
  bool allow_plaintext = false;
};

class MtqpChainer : public mtqp::Chainer {
 public:
  static absl::StatusOr<std::unique_ptr<MtqpChainer>> Create(ChainOptions options);

  std::vector<std::string> DownstreamParts(absl::string_view envid, absl::string_view secret,
                                           std::span<const model::HopEvent> hops,
                                           const mtqp::ChainContext& context) override;

  // True if `host` is one of options.own_hosts.
  bool IsOwnHost(absl::string_view host) const;

  // Next servers that could not be found or asked (no SRV, refused, TLS, timeout), so far.
  int64_t failures() const { return failures_.load(std::memory_order_relaxed); }

 private:
  MtqpChainer(ChainOptions options, std::shared_ptr<asio::ssl::context> tls);
  // Counts and logs a next server (`next`: a host, or host:port) that did not answer.
  void Failed(absl::string_view next, const absl::Status& status);

  const ChainOptions options_;
  const Discovery discovery_;
  std::shared_ptr<asio::ssl::context> tls_;
  std::atomic<int64_t> failures_{0};
  mtrk::log::RateLimitedLog warnings_{5, absl::Minutes(1)};
};

}  // namespace mtrk::gateway::chain
