#include "mtqp-gateway/mtqp/line_assembler.h"

namespace mtrk::gateway::mtqp {

LineAssembler::LineAssembler(size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

void LineAssembler::Feed(absl::string_view bytes) {
  input_.erase(0, pos_);
  pos_ = 0;
  input_.append(bytes.data(), bytes.size());
}

std::optional<LineAssembler::Event> LineAssembler::Next() {
  while (pos_ < input_.size()) {
    const size_t lf = input_.find('\n', pos_);
    const size_t end = lf == std::string::npos ? input_.size() : lf;
    if (!discarding_) {
      partial_.append(input_, pos_, end - pos_);
      // +1 leaves room for the CR of a CRLF that has not arrived yet.
      if (partial_.size() > max_line_bytes_ + 1) {
        discarding_ = true;
        partial_.clear();
      }
    }
    pos_ = lf == std::string::npos ? input_.size() : lf + 1;
    if (lf == std::string::npos) break;
    if (discarding_) {
      discarding_ = false;
      return Event{Event::Kind::kTooLong, ""};
    }
    std::string line = std::move(partial_);
    partial_.clear();
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.size() > max_line_bytes_) return Event{Event::Kind::kTooLong, ""};
    return Event{Event::Kind::kLine, std::move(line)};
  }
  input_.clear();
  pos_ = 0;
  return std::nullopt;
}

void LineAssembler::Clear() {
  input_.clear();
  pos_ = 0;
  partial_.clear();
  discarding_ = false;
}

}  // namespace mtrk::gateway::mtqp
