#include "mtqp-gateway/chain/multipart.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace mtrk::gateway::chain {
namespace {

// The header block of an entity, unfolded, and where its content starts.
struct Header {
  std::string content_type;  // the Content-Type value, unfolded
  size_t content_start = 0;
};

absl::StatusOr<Header> ReadHeader(absl::string_view entity) {
  const size_t end = entity.find("\r\n\r\n");
  if (end == absl::string_view::npos) return absl::InvalidArgumentError("mime: no end of header");
  Header h;
  h.content_start = end + 4;
  std::string current;
  std::vector<std::string> fields;
  for (absl::string_view line : absl::StrSplit(entity.substr(0, end), "\r\n")) {
    if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
      absl::StrAppend(&current, " ", absl::StripAsciiWhitespace(line));
    } else {
      if (!current.empty()) fields.push_back(current);
      current = std::string(line);
    }
  }
  if (!current.empty()) fields.push_back(current);
  for (const std::string& f : fields) {
    if (absl::StartsWithIgnoreCase(f, "Content-Type:")) {
      h.content_type = std::string(absl::StripAsciiWhitespace(f.substr(13)));
    }
  }
  return h;
}

std::string Boundary(absl::string_view content_type) {
  const std::string lower = absl::AsciiStrToLower(content_type);
  const size_t at = lower.find("boundary=");
  if (at == std::string::npos) return "";
  absl::string_view v = content_type.substr(at + 9);
  if (absl::ConsumePrefix(&v, "\"")) return std::string(v.substr(0, v.find('"')));
  return std::string(v.substr(0, v.find_first_of("; \t")));
}

bool IsTrackingStatus(absl::string_view content_type) {
  return absl::StartsWithIgnoreCase(absl::StripAsciiWhitespace(content_type),
                                    "message/tracking-status");
}

}  // namespace

absl::StatusOr<std::vector<std::string>> SplitTrackingParts(absl::string_view body) {
  absl::StatusOr<Header> top = ReadHeader(body);
  if (!top.ok()) return top.status();
  if (IsTrackingStatus(top->content_type)) return std::vector<std::string>{std::string(body)};
  if (!absl::StartsWithIgnoreCase(top->content_type, "multipart/related")) {
    return absl::InvalidArgumentError("mime: not multipart/related");
  }
  const std::string boundary = Boundary(top->content_type);
  if (boundary.empty() || boundary.size() > 70) return absl::InvalidArgumentError("mime: boundary");
  const std::string delimiter = absl::StrCat("--", boundary);
  std::vector<std::string> parts;
  std::string current;
  bool in_part = false;
  bool closed = false;
  absl::string_view rest = body.substr(top->content_start);
  while (!rest.empty() && !closed) {
    size_t eol = rest.find("\r\n");
    absl::string_view line = rest.substr(0, eol);
    rest = eol == absl::string_view::npos ? absl::string_view() : rest.substr(eol + 2);
    const absl::string_view trimmed = absl::StripTrailingAsciiWhitespace(line);
    if (trimmed == delimiter || trimmed == absl::StrCat(delimiter, "--")) {
      if (in_part) parts.push_back(std::move(current));
      current.clear();
      in_part = true;
      closed = trimmed != delimiter;
      continue;
    }
    if (in_part) absl::StrAppend(&current, line, "\r\n");
  }
  if (!closed) return absl::InvalidArgumentError("mime: no closing delimiter");
  for (const std::string& p : parts) {
    absl::StatusOr<Header> h = ReadHeader(p);
    if (!h.ok()) return h.status();
    if (!IsTrackingStatus(h->content_type)) {
      return absl::InvalidArgumentError("mime: a part is not message/tracking-status");
    }
  }
  return parts;
}

}  // namespace mtrk::gateway::chain
