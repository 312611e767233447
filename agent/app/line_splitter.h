// LineSplitter: cuts a byte stream, handed over in blocks of any size, into lines (without the
// '\n'), with bounded memory whatever the input: a line longer than max_line_bytes is skipped,
// and reported once its end is seen, without being held. Lines within a block are passed as
// views into the block (no copy, the hot path of a backfill: a copy per line showed in the
// profile, issue 8); only a line that spans two blocks is copied. Shared by `mtrk-agent
// backfill`, the one-shot run and the parser benchmark, so they count lines alike.
//
// Offsets count bytes from the start of the stream: each line's is where it starts, as the
// follower's positions do. Header-only so that the per-line callbacks inline. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/string_view.h"

namespace mtrk::agent::app {

class LineSplitter {
 public:
  explicit LineSplitter(size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

  // Calls on_line(absl::string_view line, uint64_t offset) for every line `block` completes, and
  // on_too_long(uint64_t offset) for every over-long one, in order. The views live until the
  // callback returns.
  template <typename OnLine, typename OnTooLong>
  void Feed(absl::string_view block, OnLine&& on_line, OnTooLong&& on_too_long) {
    const char* p = block.data();
    const char* const end = p + block.size();
    while (p < end) {
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
      const size_t len = (nl == nullptr ? end : nl) - p;
      if (!too_long_ && partial_.size() + len > max_line_bytes_) {
        too_long_ = true;
        std::string().swap(partial_);  // give back what a long partial line took
      }
      if (nl == nullptr) {  // the line goes on in the next block
        if (!too_long_) partial_.append(p, len);
        offset_ += len;
        return;
      }
      if (too_long_) {
        on_too_long(line_start_);
      } else if (partial_.empty()) {
        on_line(absl::string_view(p, len), line_start_);
      } else {
        partial_.append(p, len);
        on_line(absl::string_view(partial_), line_start_);
        partial_.clear();
      }
      offset_ += len + 1;
      line_start_ = offset_;
      too_long_ = false;
      p = nl + 1;
    }
  }

  // End of the stream: a last line without its '\n' is a line too (or too long).
  template <typename OnLine, typename OnTooLong>
  void Finish(OnLine&& on_line, OnTooLong&& on_too_long) {
    if (too_long_) {
      on_too_long(line_start_);
    } else if (!partial_.empty()) {
      on_line(absl::string_view(partial_), line_start_);
    }
    partial_.clear();
    too_long_ = false;
    line_start_ = offset_;
  }

  // Bytes fed so far.
  uint64_t offset() const { return offset_; }

 private:
  const size_t max_line_bytes_;
  std::string partial_;  // the start of a line that spans blocks, never over max_line_bytes_
  bool too_long_ = false;
  uint64_t offset_ = 0;
  uint64_t line_start_ = 0;
};

}  // namespace mtrk::agent::app
