// Chainer: how a TRACK answer grows by the next domain's records (RFC 3887 §2.4; DIGEST §4
// "Chaining"). The session calls it after its own lookup; the product implementation
// (chain/mtqp_chainer.h) asks the next MTQP server, tests use a fake. Thread-safe.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/model/hop_event.h"

namespace mtrk::gateway::mtqp {

// What the session knows about the query it answers.
struct ChainContext {
  bool client_used_tls = false;    // RFC 3887 §11: ask downstream at the same strength or better
  int depth = 0;                   // servers between the originator and us (vnd.mtrk.chain)
  std::vector<std::string> asked;  // servers already asked upstream, "host:port"
};

class Chainer {
 public:
  virtual ~Chainer() = default;
  // MIME parts (each with its own Content-Type header, without boundary lines) to append to our
  // answer, passed on unchanged from downstream servers; empty when there is nothing to follow
  // or chaining failed (our own `transferred` record then stands as a referral).
  virtual std::vector<std::string> DownstreamParts(absl::string_view envid,
                                                   absl::string_view secret,
                                                   std::span<const model::HopEvent> hops,
                                                   const ChainContext& context) = 0;
};

// The COMMENT a chaining server sends before TRACK so the next mtrk server knows the depth and
// who was asked already (RFC 3887 §5: other servers ignore COMMENT text).
inline constexpr absl::string_view kChainCommentKeyword = "vnd.mtrk.chain";

}  // namespace mtrk::gateway::mtqp
