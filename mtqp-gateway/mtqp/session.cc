#include "mtqp-gateway/mtqp/session.h"

#include <algorithm>
#include <variant>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/net/certifier.h"
#include "mtqp-gateway/mtqp/multiline.h"

namespace mtrk::gateway::mtqp {

Session::Session(const SessionOptions& options, TrackLookup& lookup)
    : options_(options), lookup_(lookup) {}

std::string Session::Greeting() const {
  const std::string text = absl::StrCat(options_.server_name, " MTQP server ready");
  if (options_.tls_available && !tls_active_) {
    return absl::StrCat("+OK+/MTQP ", text, "\r\nSTARTTLS",
                        options_.tls_required ? " required" : "", "\r\n.\r\n");
  }
  return absl::StrCat("+OK/MTQP ", text, "\r\n");
}

bool MatchesCertificateName(absl::string_view fqdn, absl::string_view pattern) {
  if (absl::EndsWith(fqdn, ".")) fqdn.remove_suffix(1);  // an absolute name is the same name
  if (absl::StartsWith(pattern, "*.")) {
    const size_t dot = fqdn.find('.');
    if (dot == absl::string_view::npos || dot == 0) return false;
    return absl::EqualsIgnoreCase(fqdn.substr(dot), pattern.substr(1));
  }
  return absl::EqualsIgnoreCase(fqdn, pattern);
}

void Session::TlsEstablished(bool strong_enough) {
  tls_active_ = true;
  insecure_ = !strong_enough;
  chain_ = ChainContext();  // nothing said before TLS counts (RFC 3887 §6.2)
  commands_ = 0;
  bad_commands_ = 0;
}

Session::Reply Session::Bad(absl::string_view why, absl::string_view code) {
  if (++bad_commands_ > options_.max_bad_commands) {
    return {"-BAD too many bad commands, closing\r\n", Next::kClose};
  }
  return {absl::StrCat("-BAD", code, " ", why, "\r\n"), Next::kContinue};
}

Session::Reply Session::HandleTooLongLine() {
  if (++commands_ > options_.max_commands) {
    return {"-ERR too many commands, closing\r\n", Next::kClose};
  }
  return Bad("line too long");
}

Session::Reply Session::HandleLine(absl::string_view line) {
  absl::StatusOr<Command> command = ParseCommand(line);
  // QUIT is always honoured, even past a limit (RFC 3887 §7: the server MUST reply success).
  if (command.ok() && std::holds_alternative<QuitCommand>(*command)) {
    return {"+OK bye\r\n", Next::kClose};
  }
  if (++commands_ > options_.max_commands) {
    return {"-ERR too many commands, closing\r\n", Next::kClose};
  }
  if (!command.ok()) return Bad(command.status().message());
  if (insecure_) return {"-ERR/insecure TLS too weak\r\n", Next::kContinue};
  if (const auto* comment = std::get_if<CommentCommand>(&*command)) {
    NoteComment(comment->text);
    return {"+OK\r\n", Next::kContinue};
  }
  if (const auto* starttls = std::get_if<StartTlsCommand>(&*command)) {
    if (tls_active_) return Bad("TLS already active", "/tls-in-progress");
    if (!options_.tls_available) {
      return {"-ERR/unsupported TLS not supported\r\n", Next::kContinue};
    }
    const bool known = std::any_of(
        options_.certificate_names.begin(), options_.certificate_names.end(),
        [&](const std::string& name) { return MatchesCertificateName(starttls->fqdn, name); });
    if (!known) return Bad("name not in the certificate", "/bad-fqdn");
    return {"+OK begin TLS negotiation\r\n", Next::kStartTls};
  }
  return Track(std::get<TrackCommand>(*command));
}

// "vnd.mtrk.chain depth=N asked=h1:p1,h2:p2". Anything else is an ordinary comment. A client can
// only lower what it gets by lying here (less chaining), never see more.
void Session::NoteComment(absl::string_view text) {
  std::vector<absl::string_view> words =
      absl::StrSplit(text, absl::ByAnyChar(" \t"), absl::SkipEmpty());
  if (words.empty() || !absl::EqualsIgnoreCase(words[0], kChainCommentKeyword)) return;
  for (size_t i = 1; i < words.size(); ++i) {
    if (absl::ConsumePrefix(&words[i], "depth=")) {
      int depth = 0;
      if (absl::SimpleAtoi(words[i], &depth) && depth >= 0 && depth < 100) chain_.depth = depth;
    } else if (absl::ConsumePrefix(&words[i], "asked=")) {
      for (absl::string_view a : absl::StrSplit(words[i], ',', absl::SkipEmpty())) {
        if (chain_.asked.size() < 32) chain_.asked.emplace_back(a);
      }
    }
  }
}

Session::Reply Session::Track(const TrackCommand& track) {
  if (options_.tls_required && !tls_active_) {
    return {"-ERR/tls-required TLS required\r\n", Next::kContinue};
  }
  // Every TRACK takes a token before anything about it is checked; only a noinfo answer keeps
  // it (mtqp/track_limiter.h), whatever the reason for the noinfo.
  TrackLimiter* const limiter = options_.track_limiter;
  if (limiter != nullptr && !limiter->TryAcquire(client_)) {
    return {std::string(kRateLimitedLine), Next::kContinue};
  }
  const auto refund = [&] {
    if (limiter != nullptr) limiter->Refund(client_);
  };
  // DIGEST §6.13: a secret of the wrong size is a wrong secret, not a syntax error.
  if (track.secret.size() < net::kMinSecretBytes || track.secret.size() > net::kMaxSecretBytes) {
    return {std::string(kNoInfoLine), Next::kContinue};
  }
  absl::StatusOr<std::vector<model::HopEvent>> hops = lookup_.Track(track.envid, track.secret);
  if (!hops.ok()) {
    switch (hops.status().code()) {
      case absl::StatusCode::kNotFound:
      case absl::StatusCode::kInvalidArgument:  // e.g. an ENVID the collector cannot hold
        return {std::string(kNoInfoLine), Next::kContinue};
      default:
        refund();  // the collector's trouble, not the client's
        return {std::string(kUnavailableLine), Next::kContinue};
    }
  }
  refund();
  std::vector<std::string> downstream;
  if (options_.chainer != nullptr) {
    ChainContext context = chain_;
    context.client_used_tls = tls_active_;
    downstream = options_.chainer->DownstreamParts(track.envid, track.secret, *hops, context);
  }
  absl::StatusOr<std::string> body =
      BuildTrackingStatusBody(track.envid, *hops, downstream, options_.tracking_status);
  if (!body.ok()) return {std::string(kNoInfoLine), Next::kContinue};
  return {absl::StrCat("+OK+ tracking information follows\r\n", DotStuff(*body)), Next::kContinue};
}

}  // namespace mtrk::gateway::mtqp
