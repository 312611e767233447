// A blocking MTQP client over plain TCP (RFC 3887): connect, read the greeting, send commands,
// read (multi-line) responses. Every operation has a deadline; RFC 3887 §2.5 asks a client to
// wait at least 2 minutes for an answer, since the server may be chaining. Not thread-safe.
// TODO(#tls): STARTTLS.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
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

  // Sends one command line (CRLF added) and reads its response.
  absl::StatusOr<Response> Command(absl::string_view line);

 private:
  struct Io;
  MtqpClient(std::unique_ptr<Io> io, absl::Duration timeout);
  absl::StatusOr<std::string> ReadLine();
  absl::StatusOr<Response> ReadResponse();

  std::unique_ptr<Io> io_;
  absl::Duration timeout_;
  Response greeting_;
};

}  // namespace mtrk::gateway::client
