// A blocking MTQP client over plain TCP (RFC 3887): connect, read the greeting, send commands,
// read (multi-line) responses. Every operation has a deadline; RFC 3887 §2.5 asks a client to
// wait at least 2 minutes for an answer, since the server may be chaining. StartTls upgrades the
// connection (RFC 3887 §6) with a verified certificate. Not thread-safe.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "asio/ssl/context.hpp"
#include "mtqp-gateway/mtqp/response.h"

namespace mtrk::gateway::client {

struct Response {
  mtqp::ResponseLine status;
  std::string status_line;
  std::string body;  // un-stuffed data lines of a +OK+ response, CRLF-terminated
};

class MtqpClient {
 public:
  static constexpr absl::Duration kDefaultTimeout = absl::Seconds(150);

  // Connects and reads the greeting; FailedPrecondition if it lacks /MTQP or is negative,
  // Unavailable if the server cannot be reached, DeadlineExceeded on timeout.
  static absl::StatusOr<std::unique_ptr<MtqpClient>> Connect(
      const std::string& host, const std::string& port, absl::Duration timeout = kDefaultTimeout);
  ~MtqpClient();

  const Response& greeting() const { return greeting_; }

  // The limit for each later operation (a chaining server shrinks it to what its budget has left).
  void set_timeout(absl::Duration timeout) { timeout_ = timeout; }

  // Sends one command line (CRLF added) and reads its response.
  absl::StatusOr<Response> Command(absl::string_view line);

  // True if the greeting lists the STARTTLS option (RFC 3887 §3); `required` tells whether it
  // said "STARTTLS required".
  bool OffersStartTls(bool* required = nullptr) const;

  // STARTTLS `fqdn`, then the handshake with `context` (which verifies the chain), checking
  // that the certificate matches `verify_name` (a DNS name or an IP literal), then the new
  // greeting, which replaces greeting(). FailedPrecondition if the server refused STARTTLS,
  // Unauthenticated if the handshake or the certificate check failed.
  absl::Status StartTls(const std::string& fqdn, asio::ssl::context& context,
                        const std::string& verify_name);
  bool tls_active() const;
  // "TLSv1.3 TLS_AES_256_GCM_SHA384" once TLS is up; empty before.
  std::string tls_description() const;

 private:
  struct Io;
  MtqpClient(std::unique_ptr<Io> io, absl::Duration timeout);
  absl::StatusOr<std::string> ReadLine();
  absl::StatusOr<Response> ReadResponse();
  absl::Status ReadGreeting();

  std::unique_ptr<Io> io_;
  absl::Duration timeout_;
  Response greeting_;
};

}  // namespace mtrk::gateway::client
