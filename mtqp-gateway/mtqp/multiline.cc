#include "mtqp-gateway/mtqp/multiline.h"

namespace mtrk::gateway::mtqp {

std::string DotStuff(absl::string_view body) {
  std::string out;
  out.reserve(body.size() + body.size() / 64 + 8);
  size_t i = 0;
  while (i < body.size()) {
    size_t lf = body.find('\n', i);
    absl::string_view line = body.substr(i, lf == absl::string_view::npos ? lf : lf - i);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty() && line.front() == '.') out.push_back('.');
    out.append(line.data(), line.size());
    out.append("\r\n");
    if (lf == absl::string_view::npos) break;
    i = lf + 1;
  }
  out.append(".\r\n");
  return out;
}

bool MultilineDecoder::Add(absl::string_view line) {
  if (done_) return false;
  if (line == ".") {
    done_ = true;
    return false;
  }
  if (!line.empty() && line.front() == '.') line.remove_prefix(1);
  body_.append(line.data(), line.size());
  body_.append("\r\n");
  return true;
}

}  // namespace mtrk::gateway::mtqp
