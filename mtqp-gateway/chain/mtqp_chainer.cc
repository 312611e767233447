#include "mtqp-gateway/chain/mtqp_chainer.h"

#include <algorithm>
#include <set>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "mtqp-gateway/chain/multipart.h"
#include "mtqp-gateway/client/mtqp_client.h"
#include "mtqp-gateway/mtqp/command_parser.h"

namespace mtrk::gateway::chain {
namespace {

std::string Key(absl::string_view host, uint16_t port) {
  return absl::StrCat(absl::AsciiStrToLower(host), ":", port);
}

}  // namespace

absl::StatusOr<std::unique_ptr<MtqpChainer>> MtqpChainer::Create(ChainOptions options) {
  if (options.max_depth < 0 || options.budget <= absl::ZeroDuration() ||
      options.budget > absl::Minutes(2)) {
    return absl::InvalidArgumentError("chain: depth must be >= 0, budget within 2 minutes");
  }
  // --chain-ca, --chain-cert, --chain-key: a bad file stops the gateway at start, named.
  absl::StatusOr<std::shared_ptr<asio::ssl::context>> tls = server::MakeClientTls(options.tls);
  if (!tls.ok()) {
    return absl::Status(tls.status().code(), absl::StrCat("chain: ", tls.status().message()));
  }
  return std::unique_ptr<MtqpChainer>(new MtqpChainer(std::move(options), *std::move(tls)));
}

MtqpChainer::MtqpChainer(ChainOptions options, std::shared_ptr<asio::ssl::context> tls)
    : options_(std::move(options)),
      discovery_(options_.dns_server, absl::Seconds(5)),
      tls_(std::move(tls)) {}

bool MtqpChainer::IsOwnHost(absl::string_view host) const {
  for (const std::string& own : options_.own_hosts) {
    if (absl::StartsWith(own, ".") ? absl::EndsWithIgnoreCase(host, own)
                                   : absl::EqualsIgnoreCase(host, own)) {
      return true;
    }
  }
  return false;
}

void MtqpChainer::Failed(absl::string_view next, const absl::Status& status) {
  const int64_t failures = failures_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (uint64_t suppressed = 0; warnings_.Allow("chain-failure", &suppressed)) {
    spdlog::warn(
        "chain: {}: {} (our transferred record stays the referral; {} failures so far, {} such "
        "lines suppressed)",
        std::string_view(next.data(), next.size()), status.ToString(), failures, suppressed);
  }
}

std::vector<std::string> MtqpChainer::DownstreamParts(absl::string_view envid,
                                                      absl::string_view secret,
                                                      std::span<const model::HopEvent> hops,
                                                      const mtqp::ChainContext& context) {
  const absl::Time deadline = absl::Now() + options_.budget;
  std::vector<std::string> parts;
  if (context.depth >= options_.max_depth) return parts;  // item 55: depth limit

  // RFC 3886 §3.3.3 / DIGEST: only transferred records lead anywhere (item 53).
  std::vector<std::string> next_hosts;
  for (const model::HopEvent& hop : hops) {
    if (hop.action != model::DsnAction::kTransferred || hop.expansion_member) continue;
    if (hop.remote_mta.empty() || IsOwnHost(hop.remote_mta)) continue;
    const std::string host = absl::AsciiStrToLower(hop.remote_mta);
    if (std::find(next_hosts.begin(), next_hosts.end(), host) == next_hosts.end()) {
      next_hosts.push_back(host);
    }
  }
  std::set<std::string> asked(context.asked.begin(), context.asked.end());
  for (const std::string& s : options_.self) asked.insert(absl::AsciiStrToLower(s));

  for (const std::string& host : next_hosts) {
    if (absl::Now() >= deadline) break;
    absl::StatusOr<std::vector<MtqpTarget>> targets = discovery_.Find(host);
    if (!targets.ok()) {
      Failed(host, targets.status());
      continue;
    }
    bool answered = false;
    for (const MtqpTarget& target : *targets) {
      if (answered || absl::Now() >= deadline) break;
      const std::string key = Key(target.host, target.port);
      if (!asked.insert(key).second) continue;  // item 55: loop
      for (const std::string& address : target.addresses) {
        if (absl::Now() >= deadline) break;
        asked.insert(Key(address, target.port));
        absl::StatusOr<std::unique_ptr<client::MtqpClient>> c = client::MtqpClient::Connect(
            address, std::to_string(target.port), deadline - absl::Now());
        if (!c.ok()) {
          Failed(Key(address, target.port), c.status());
          continue;
        }
        // Every step gets only what is left of the one budget (item 51).
        const auto left = [&] { return std::max(deadline - absl::Now(), absl::Milliseconds(1)); };
        (*c)->set_timeout(left());
        if ((*c)->OffersStartTls()) {
          if (absl::Status s = (*c)->StartTls(target.host, *tls_, target.host); !s.ok()) {
            Failed(key, s);
            continue;
          }
        } else if (context.client_used_tls || !options_.allow_plaintext) {
          // item 54: never weaker than what our client used
          Failed(key, absl::FailedPreconditionError("offers no STARTTLS"));
          continue;
        }
        std::vector<std::string> chain(asked.begin(), asked.end());
        (*c)->set_timeout(left());
        (void)(*c)->Command(absl::StrCat("COMMENT ", mtqp::kChainCommentKeyword, " depth=",
                                         context.depth + 1, " asked=", absl::StrJoin(chain, ",")));
        (*c)->set_timeout(left());
        absl::StatusOr<client::Response> r = (*c)->Command(
            absl::StrCat("TRACK ", mtqp::EncodeXtext(envid), " ", absl::Base64Escape(secret)));
        if (!r.ok()) {  // the command we sent holds the secret: log only the reply's status
          Failed(key, r.status());
          continue;
        }
        (*c)->set_timeout(std::min(left(), absl::Seconds(2)));  // politeness, not worth waiting
        (void)(*c)->Command("QUIT");
        answered = true;  // this site answered, even if with noinfo: do not ask its others
        if (r->status.indicator != mtqp::ResponseLine::Indicator::kOkMulti) break;
        absl::StatusOr<std::vector<std::string>> downstream = SplitTrackingParts(r->body);
        if (downstream.ok()) parts.insert(parts.end(), downstream->begin(), downstream->end());
        break;
      }
    }
  }
  return parts;
}

}  // namespace mtrk::gateway::chain
