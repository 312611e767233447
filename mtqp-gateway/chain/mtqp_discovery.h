// Which server answers MTQP for an MTA host (RFC 3887 §2.1; DIGEST §4, §7 items 2-3): SRV
// `_mtqp._tcp.<host>` first, in RFC 2782 order; a lone "." target means no service; no SRV record
// means the host itself on port 1038. Uses c-ares, so tests can point it at a private DNS server
// (dnsmasq on loopback). Thread-safe: every lookup makes its own c-ares channel.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/random/bit_gen_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace mtrk::gateway::chain {

inline constexpr uint16_t kMtqpPort = 1038;

struct SrvRecord {
  uint16_t priority = 0;
  uint16_t weight = 0;
  uint16_t port = 0;
  std::string target;  // without a trailing dot; "." or "" for "no service"
};

struct MtqpTarget {
  std::string host;  // the name to connect to and to check the certificate for
  uint16_t port = kMtqpPort;
  std::vector<std::string> addresses;  // resolved IPs, in the resolver's order
};

// RFC 2782: lowest priority first; within a priority, a weighted random permutation (records
// of weight 0 first in the running sum, as the RFC's algorithm puts them). Pure but for `rng`.
std::vector<SrvRecord> OrderSrvRecords(std::vector<SrvRecord> records, absl::BitGenRef rng);

// True if `records` is the single "." record that says the service is not offered.
bool SaysNoService(const std::vector<SrvRecord>& records);

class Discovery {
 public:
  // `dns_server` "IP:PORT" (tests) or empty for the system's resolv.conf.
  explicit Discovery(std::string dns_server = "", absl::Duration timeout = absl::Seconds(10));

  // Targets to try, in order (an IP address is its own target on 1038). NotFound if the domain says
  // no service ("."), or the host has neither SRV nor address records; Unavailable if DNS cannot be
  // asked.
  absl::StatusOr<std::vector<MtqpTarget>> Find(const std::string& mta_host) const;

  // The raw SRV records of `_mtqp._tcp.<host>`; an empty vector when there are none.
  absl::StatusOr<std::vector<SrvRecord>> LookupSrv(const std::string& host) const;
  // A and AAAA records, as text.
  absl::StatusOr<std::vector<std::string>> LookupAddresses(const std::string& host) const;

 private:
  const std::string dns_server_;
  const absl::Duration timeout_;
};

}  // namespace mtrk::gateway::chain
