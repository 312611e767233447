#include "mtqp-gateway/mtqp/session.h"

#include <variant>

#include "absl/strings/str_cat.h"
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

void Session::TlsEstablished() {
  tls_active_ = true;
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
  if (std::holds_alternative<CommentCommand>(*command)) return {"+OK\r\n", Next::kContinue};
  if (const auto* starttls = std::get_if<StartTlsCommand>(&*command)) {
    if (tls_active_) return Bad("TLS already active", "/tls-in-progress");
    if (!options_.tls_available) {
      return {"-ERR/unsupported TLS not supported\r\n", Next::kContinue};
    }
    // TODO(#tls): check starttls->fqdn against the certificate's dNSName SANs (-BAD/bad-fqdn).
    (void)starttls;
    return {"+OK begin TLS negotiation\r\n", Next::kStartTls};
  }
  return Track(std::get<TrackCommand>(*command));
}

Session::Reply Session::Track(const TrackCommand& track) {
  if (options_.tls_required && !tls_active_) {
    return {"-ERR/tls-required TLS required\r\n", Next::kContinue};
  }
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
        return {std::string(kUnavailableLine), Next::kContinue};
    }
  }
  absl::StatusOr<std::string> body =
      BuildTrackingStatusBody(track.envid, *hops, options_.tracking_status);
  if (!body.ok()) return {std::string(kNoInfoLine), Next::kContinue};
  return {absl::StrCat("+OK+ tracking information follows\r\n", DotStuff(*body)), Next::kContinue};
}

}  // namespace mtrk::gateway::mtqp
