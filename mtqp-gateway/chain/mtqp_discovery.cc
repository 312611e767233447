#include "mtqp-gateway/chain/mtqp_discovery.h"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <sys/select.h>

#include <algorithm>
#include <mutex>

#include "absl/random/distributions.h"
#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace mtrk::gateway::chain {
namespace {

void InitLibraryOnce() {
  static std::once_flag once;
  std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
}

// One c-ares channel for the duration of a lookup.
class Channel {
 public:
  static absl::StatusOr<std::unique_ptr<Channel>> Make(const std::string& server) {
    InitLibraryOnce();
    auto c = std::unique_ptr<Channel>(new Channel);
    ares_options options{};
    options.timeout = 2000;
    options.tries = 2;
    if (int rc = ares_init_options(&c->channel_, &options, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
        rc != ARES_SUCCESS) {
      return absl::UnavailableError(absl::StrCat("dns: init: ", ares_strerror(rc)));
    }
    c->initialised_ = true;
    if (!server.empty()) {
      if (int rc = ares_set_servers_ports_csv(c->channel_, server.c_str()); rc != ARES_SUCCESS) {
        return absl::InvalidArgumentError(
            absl::StrCat("dns: bad server '", server, "': ", ares_strerror(rc)));
      }
    }
    return c;
  }
  ~Channel() {
    if (initialised_) ares_destroy(channel_);
  }
  ares_channel get() { return channel_; }

  // Runs the channel until its queries finish or the deadline passes.
  void Wait(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    for (;;) {
      fd_set read_fds, write_fds;
      FD_ZERO(&read_fds);
      FD_ZERO(&write_fds);
      const int nfds = ares_fds(channel_, &read_fds, &write_fds);
      if (nfds == 0) return;
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) {
        ares_cancel(channel_);
        return;
      }
      timeval max_tv = absl::ToTimeval(std::min(left, absl::Seconds(1)));
      timeval tv;
      timeval* tvp = ares_timeout(channel_, &max_tv, &tv);
      select(nfds, &read_fds, &write_fds, nullptr, tvp);
      ares_process(channel_, &read_fds, &write_fds);
    }
  }

 private:
  Channel() = default;
  ares_channel channel_ = nullptr;
  bool initialised_ = false;
};

struct SrvResult {
  bool done = false;
  int status = ARES_SUCCESS;
  std::vector<SrvRecord> records;
};

void OnSrv(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
  auto* r = static_cast<SrvResult*>(arg);
  r->done = true;
  r->status = status;
  if (status != ARES_SUCCESS) return;
  ares_srv_reply* reply = nullptr;
  r->status = ares_parse_srv_reply(abuf, alen, &reply);
  for (ares_srv_reply* s = reply; s != nullptr; s = s->next) {  // every record (RFC 2782)
    std::string target = s->host == nullptr ? "" : s->host;
    while (absl::EndsWith(target, ".") && target.size() > 1) target.pop_back();
    r->records.push_back({s->priority, s->weight, s->port, target});
  }
  if (reply != nullptr) ares_free_data(reply);
}

struct AddrResult {
  bool done = false;
  int status = ARES_SUCCESS;
  std::vector<std::string> addresses;
};

void OnAddrInfo(void* arg, int status, int /*timeouts*/, ares_addrinfo* result) {
  auto* r = static_cast<AddrResult*>(arg);
  r->done = true;
  r->status = status;
  if (result == nullptr) return;
  for (ares_addrinfo_node* n = result->nodes; n != nullptr; n = n->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* src =
        n->ai_family == AF_INET
            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(n->ai_addr)->sin_addr)
            : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(n->ai_addr)->sin6_addr);
    if (inet_ntop(n->ai_family, src, text, sizeof text) != nullptr) {
      if (std::find(r->addresses.begin(), r->addresses.end(), text) == r->addresses.end()) {
        r->addresses.emplace_back(text);
      }
    }
  }
  ares_freeaddrinfo(result);
}

bool IsNoData(int status) { return status == ARES_ENOTFOUND || status == ARES_ENODATA; }

}  // namespace

std::vector<SrvRecord> OrderSrvRecords(std::vector<SrvRecord> records, absl::BitGenRef rng) {
  std::stable_sort(records.begin(), records.end(),
                   [](const SrvRecord& a, const SrvRecord& b) { return a.priority < b.priority; });
  std::vector<SrvRecord> out;
  size_t begin = 0;
  while (begin < records.size()) {
    size_t end = begin;
    while (end < records.size() && records[end].priority == records[begin].priority) ++end;
    // RFC 2782: zero-weight records first, then pick by running sum until none are left.
    std::vector<SrvRecord> group(records.begin() + begin, records.begin() + end);
    std::stable_partition(group.begin(), group.end(),
                          [](const SrvRecord& r) { return r.weight == 0; });
    while (!group.empty()) {
      uint64_t total = 0;
      for (const SrvRecord& r : group) total += r.weight;
      const uint64_t pick = absl::Uniform<uint64_t>(absl::IntervalClosed, rng, 0, total);
      uint64_t sum = 0;
      size_t chosen = group.size() - 1;
      for (size_t i = 0; i < group.size(); ++i) {
        sum += group[i].weight;
        if (sum >= pick) {
          chosen = i;
          break;
        }
      }
      out.push_back(group[chosen]);
      group.erase(group.begin() + static_cast<std::ptrdiff_t>(chosen));
    }
    begin = end;
  }
  return out;
}

bool SaysNoService(const std::vector<SrvRecord>& records) {
  return records.size() == 1 && (records[0].target == "." || records[0].target.empty());
}

Discovery::Discovery(std::string dns_server, absl::Duration timeout)
    : dns_server_(std::move(dns_server)), timeout_(timeout) {}

absl::StatusOr<std::vector<SrvRecord>> Discovery::LookupSrv(const std::string& host) const {
  absl::StatusOr<std::unique_ptr<Channel>> channel = Channel::Make(dns_server_);
  if (!channel.ok()) return channel.status();
  SrvResult result;
  const std::string name = absl::StrCat("_mtqp._tcp.", host);
  ares_query((*channel)->get(), name.c_str(), ns_c_in, ns_t_srv, OnSrv, &result);
  (*channel)->Wait(timeout_);
  if (!result.done) return absl::DeadlineExceededError(absl::StrCat("dns: ", name, " timed out"));
  if (IsNoData(result.status)) return std::vector<SrvRecord>{};
  if (result.status != ARES_SUCCESS) {
    return absl::UnavailableError(absl::StrCat("dns: ", name, ": ", ares_strerror(result.status)));
  }
  return result.records;
}

absl::StatusOr<std::vector<std::string>> Discovery::LookupAddresses(const std::string& host) const {
  // An address literal needs no lookup.
  in6_addr ignored;
  if (inet_pton(AF_INET, host.c_str(), &ignored) == 1 ||
      inet_pton(AF_INET6, host.c_str(), &ignored) == 1) {
    return std::vector<std::string>{host};
  }
  absl::StatusOr<std::unique_ptr<Channel>> channel = Channel::Make(dns_server_);
  if (!channel.ok()) return channel.status();
  AddrResult result;
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_flags = ARES_AI_NOSORT;
  ares_getaddrinfo((*channel)->get(), host.c_str(), nullptr, &hints, OnAddrInfo, &result);
  (*channel)->Wait(timeout_);
  if (!result.done) return absl::DeadlineExceededError(absl::StrCat("dns: ", host, " timed out"));
  if (IsNoData(result.status) || (result.status == ARES_SUCCESS && result.addresses.empty())) {
    return absl::NotFoundError(absl::StrCat("dns: no address for ", host));
  }
  if (result.status != ARES_SUCCESS) {
    return absl::UnavailableError(absl::StrCat("dns: ", host, ": ", ares_strerror(result.status)));
  }
  return result.addresses;
}

absl::StatusOr<std::vector<MtqpTarget>> Discovery::Find(const std::string& mta_host) const {
  // An address has no _mtqp._tcp name to ask for: straight to the port-1038 fallback.
  in6_addr ignored;
  if (inet_pton(AF_INET, mta_host.c_str(), &ignored) == 1 ||
      inet_pton(AF_INET6, mta_host.c_str(), &ignored) == 1) {
    return std::vector<MtqpTarget>{{mta_host, kMtqpPort, {mta_host}}};
  }
  absl::StatusOr<std::vector<SrvRecord>> srv = LookupSrv(mta_host);
  if (!srv.ok()) return srv.status();
  if (SaysNoService(*srv)) {
    return absl::NotFoundError(absl::StrCat("mtqp: ", mta_host, " offers no MTQP service (SRV .)"));
  }
  std::vector<MtqpTarget> targets;
  if (srv->empty()) {
    targets.push_back({mta_host, kMtqpPort, {}});  // RFC 3887 §2.1 fallback
  } else {
    absl::BitGen rng;
    for (const SrvRecord& r : OrderSrvRecords(*std::move(srv), rng)) {
      if (r.target.empty() || r.target == ".") continue;
      targets.push_back({r.target, r.port, {}});
    }
  }
  std::vector<MtqpTarget> resolved;
  absl::Status last = absl::NotFoundError(absl::StrCat("mtqp: no address for ", mta_host));
  for (MtqpTarget& t : targets) {
    absl::StatusOr<std::vector<std::string>> addresses = LookupAddresses(t.host);
    if (!addresses.ok()) {
      last = addresses.status();
      continue;
    }
    t.addresses = *std::move(addresses);
    resolved.push_back(std::move(t));
  }
  if (resolved.empty()) return last;
  return resolved;
}

}  // namespace mtrk::gateway::chain
