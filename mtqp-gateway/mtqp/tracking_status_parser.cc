#include "mtqp-gateway/mtqp/tracking_status_parser.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"

namespace mtrk::gateway::mtqp {
namespace {

absl::Status Invalid(absl::string_view what, absl::string_view bad) {
  return absl::InvalidArgumentError(
      absl::StrCat("tracking-status: ", what, ": '", absl::CHexEscape(bad.substr(0, 60)), "'"));
}

std::vector<absl::string_view> SplitLines(absl::string_view text) {
  std::vector<absl::string_view> lines;
  size_t i = 0;
  while (i < text.size()) {
    size_t lf = text.find('\n', i);
    absl::string_view line = text.substr(i, lf == absl::string_view::npos ? lf : lf - i);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (lf == absl::string_view::npos) break;
    i = lf + 1;
  }
  return lines;
}

bool IsBlank(absl::string_view line) { return absl::StripAsciiWhitespace(line).empty(); }

using Fields = std::vector<std::pair<std::string, std::string>>;

// One block of RFC 822-style fields, continuation lines unfolded.
absl::StatusOr<Fields> ParseFields(const std::vector<absl::string_view>& lines) {
  Fields fields;
  for (absl::string_view line : lines) {
    if (line.front() == ' ' || line.front() == '\t') {
      if (fields.empty()) return Invalid("continuation without a field", line);
      absl::StrAppend(&fields.back().second, " ", absl::StripAsciiWhitespace(line));
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) return Invalid("field without a colon", line);
    const absl::string_view name = absl::StripTrailingAsciiWhitespace(line.substr(0, colon));
    if (name.empty() || absl::StrContains(name, ' ')) return Invalid("bad field name", line);
    fields.emplace_back(absl::AsciiStrToLower(name),
                        std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  }
  return fields;
}

// Splits a field block list on blank lines.
std::vector<std::vector<absl::string_view>> Blocks(const std::vector<absl::string_view>& lines) {
  std::vector<std::vector<absl::string_view>> blocks;
  std::vector<absl::string_view> current;
  for (absl::string_view line : lines) {
    if (IsBlank(line)) {
      if (!current.empty()) blocks.push_back(std::move(current));
      current.clear();
    } else {
      current.push_back(line);
    }
  }
  if (!current.empty()) blocks.push_back(std::move(current));
  return blocks;
}

TypedValue Typed(absl::string_view v) {
  const size_t semi = v.find(';');
  if (semi == absl::string_view::npos) return {"", std::string(v)};
  return {absl::AsciiStrToLower(absl::StripAsciiWhitespace(v.substr(0, semi))),
          std::string(absl::StripAsciiWhitespace(v.substr(semi + 1)))};
}

// "2.0.0 (no information)" -> "2.0.0".
std::string StatusCode(absl::string_view v) {
  const size_t end = v.find_first_of(" \t(");
  return std::string(v.substr(0, end));
}

// Value of a parameter in a Content-Type header: boundary="x" or boundary=x.
std::string Param(absl::string_view header, absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(header);
  size_t pos = 0;
  while ((pos = lower.find(absl::StrCat(name, "="), pos)) != std::string::npos) {
    const bool at_start =
        pos > 0 && (lower[pos - 1] == ';' || lower[pos - 1] == ' ' || lower[pos - 1] == '\t');
    pos += name.size() + 1;
    if (!at_start) continue;
    absl::string_view rest = header.substr(pos);
    if (!rest.empty() && rest.front() == '"') {
      rest.remove_prefix(1);
      return std::string(rest.substr(0, rest.find('"')));
    }
    return std::string(absl::StripAsciiWhitespace(rest.substr(0, rest.find_first_of("; \t"))));
  }
  return "";
}

// The Content-Type of a MIME header block, lower-cased type/subtype, plus the raw header.
struct MimeHeader {
  std::string type;
  std::string content_type;
};
absl::StatusOr<MimeHeader> ParseMimeHeader(const std::vector<absl::string_view>& lines) {
  MTRK_ASSIGN_OR_RETURN(Fields fields, ParseFields(lines));
  MimeHeader h;
  for (const auto& [name, value] : fields) {
    if (name == "content-type") {
      h.content_type = value;
      h.type = absl::AsciiStrToLower(
          absl::StripAsciiWhitespace(absl::string_view(value).substr(0, value.find(';'))));
    }
  }
  return h;
}

}  // namespace

absl::StatusOr<TrackingStatusPart> ParseTrackingStatusContent(absl::string_view content) {
  const std::vector<std::vector<absl::string_view>> blocks = Blocks(SplitLines(content));
  if (blocks.empty()) return absl::InvalidArgumentError("tracking-status: empty part");
  TrackingStatusPart part;
  MTRK_ASSIGN_OR_RETURN(Fields per_message, ParseFields(blocks[0]));
  bool have_mta = false;
  for (auto& [name, value] : per_message) {
    if (name == "original-envelope-id") {
      part.original_envelope_id = value;
    } else if (name == "reporting-mta") {
      part.reporting_mta = Typed(value);
      have_mta = true;
    } else if (name == "arrival-date") {
      part.arrival_date = value;
    } else {
      part.extension_fields.emplace_back(name, value);
    }
  }
  if (!have_mta) return Invalid("part without Reporting-MTA", content);
  for (size_t b = 1; b < blocks.size(); ++b) {
    MTRK_ASSIGN_OR_RETURN(Fields fields, ParseFields(blocks[b]));
    RecipientRecord r;
    bool have_final = false;
    bool have_action = false;
    for (auto& [name, value] : fields) {
      if (name == "original-recipient") {
        r.original_recipient = Typed(value);
      } else if (name == "final-recipient") {
        r.final_recipient = Typed(value);
        have_final = true;
      } else if (name == "action") {
        r.action = absl::AsciiStrToLower(value);
        have_action = true;
      } else if (name == "status") {
        r.status = StatusCode(value);
      } else if (name == "remote-mta") {
        r.remote_mta = Typed(value);
      } else if (name == "last-attempt-date") {
        r.last_attempt_date = value;
      } else if (name == "will-retry-until") {
        r.will_retry_until = value;
      } else {
        r.extension_fields.emplace_back(name, value);
      }
    }
    if (!have_final || !have_action) {
      return Invalid("recipient without Final-Recipient or Action", blocks[b].front());
    }
    part.recipients.push_back(std::move(r));
  }
  return part;
}

absl::StatusOr<std::vector<TrackingStatusPart>> ParseTrackingStatusBody(absl::string_view body) {
  const std::vector<absl::string_view> lines = SplitLines(body);
  size_t i = 0;
  std::vector<absl::string_view> header;
  while (i < lines.size() && !IsBlank(lines[i])) header.push_back(lines[i++]);
  MTRK_ASSIGN_OR_RETURN(MimeHeader top, ParseMimeHeader(header));
  std::vector<TrackingStatusPart> parts;
  if (top.type == "message/tracking-status") {
    const size_t offset = i < lines.size() ? lines[i].data() - body.data() : body.size();
    MTRK_ASSIGN_OR_RETURN(TrackingStatusPart part, ParseTrackingStatusContent(body.substr(offset)));
    parts.push_back(std::move(part));
    return parts;
  }
  if (top.type != "multipart/related") {
    return Invalid("not multipart/related", top.content_type);
  }
  const std::string boundary = Param(top.content_type, "boundary");
  if (boundary.empty()) return Invalid("multipart without boundary", top.content_type);
  const std::string delimiter = absl::StrCat("--", boundary);
  const std::string close = absl::StrCat(delimiter, "--");

  bool in_part = false;
  bool closed = false;
  std::vector<absl::string_view> part_lines;
  auto finish_part = [&]() -> absl::Status {
    size_t k = 0;
    std::vector<absl::string_view> part_header;
    while (k < part_lines.size() && !IsBlank(part_lines[k])) part_header.push_back(part_lines[k++]);
    MTRK_ASSIGN_OR_RETURN(MimeHeader h, ParseMimeHeader(part_header));
    if (h.type != "message/tracking-status") return absl::OkStatus();  // RFC 2046: skip
    std::string content;
    for (++k; k < part_lines.size(); ++k) absl::StrAppend(&content, part_lines[k], "\r\n");
    MTRK_ASSIGN_OR_RETURN(TrackingStatusPart part, ParseTrackingStatusContent(content));
    parts.push_back(std::move(part));
    return absl::OkStatus();
  };
  for (; i < lines.size(); ++i) {
    const absl::string_view line = absl::StripTrailingAsciiWhitespace(lines[i]);
    if (line == close || line == delimiter) {
      if (in_part) MTRK_RETURN_IF_ERROR(finish_part());
      part_lines.clear();
      in_part = line == delimiter;
      if (line == close) {
        closed = true;
        break;
      }
      continue;
    }
    if (in_part) part_lines.push_back(lines[i]);  // before the first delimiter: preamble
  }
  if (!closed) return absl::InvalidArgumentError("tracking-status: no closing boundary");
  return parts;
}

}  // namespace mtrk::gateway::mtqp
