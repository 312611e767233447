// Splits a byte stream into MTQP lines with a bounded buffer (RFC 3887 §2.2: 998 characters
// before the CRLF). A longer line is never buffered: its bytes are dropped up to the next LF and
// reported as one kTooLong event, so a client cannot make us hold more than ~1 KB per connection.
// Pure (no I/O) and not thread-safe; one per connection.
#pragma once

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace mtrk::gateway::mtqp {

class LineAssembler {
 public:
  struct Event {
    enum class Kind { kLine, kTooLong };
    Kind kind;
    std::string line;  // without CRLF (or bare LF), for kLine
  };

  explicit LineAssembler(size_t max_line_bytes);

  // Appends received bytes. Call only when Next() has returned nullopt, so unconsumed input stays
  // bounded by one read buffer (the caller stops reading while lines are pending: back-pressure).
  void Feed(absl::string_view bytes);
  // The next complete line or too-long event, in order; nullopt when more bytes are needed.
  std::optional<Event> Next();
  // Forgets all buffered input: after STARTTLS nothing received in clear may run (DIGEST §6.14).
  void Clear();

 private:
  const size_t max_line_bytes_;
  std::string input_;  // fed bytes not yet scanned
  size_t pos_ = 0;     // scan position in input_
  std::string partial_;
  bool discarding_ = false;  // inside an over-long line
};

}  // namespace mtrk::gateway::mtqp
