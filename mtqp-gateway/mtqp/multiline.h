// RFC 3887 §2.3 multi-line responses: dot-stuffing on the server, un-stuffing on the client.
// Pure; no I/O.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace mtrk::gateway::mtqp {

// `body` is CRLF-terminated lines (a missing final CRLF is added). Returns the lines with a '.'
// prepended to each line that starts with '.', followed by the terminating ".\r\n".
std::string DotStuff(absl::string_view body);

// Client side, one received line (without CRLF) at a time.
class MultilineDecoder {
 public:
  // False once the terminating "." line has been seen (that line is not data).
  bool Add(absl::string_view line);
  bool done() const { return done_; }
  // The data lines, un-stuffed, each followed by CRLF.
  const std::string& body() const { return body_; }

 private:
  std::string body_;
  bool done_ = false;
};

}  // namespace mtrk::gateway::mtqp
