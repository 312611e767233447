#include "mtqp-gateway/mtqp/command_parser.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/model/hop_event.h"
#include "common/net/certifier.h"

namespace mtrk::gateway::mtqp {
namespace {

bool IsWsp(char c) { return c == ' ' || c == '\t'; }

// Splits on runs of SP/HTAB. Trailing whitespace is accepted on every command (DIGEST §6.12);
// leading whitespace is not, since a line must start with its keyword.
std::vector<absl::string_view> SplitWords(absl::string_view line) {
  std::vector<absl::string_view> words;
  size_t i = 0;
  while (i < line.size()) {
    size_t j = i;
    while (j < line.size() && !IsWsp(line[j])) ++j;
    words.push_back(line.substr(i, j - i));
    while (j < line.size() && IsWsp(line[j])) ++j;
    i = j;
  }
  return words;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;  // lenient: RFC 3461 wants upper case
  return -1;
}

// RFC 3887 §6: domain = sub-domain 1*("." sub-domain), i.e. a name with at least one dot.
bool IsFqdn(absl::string_view name) {
  if (name.empty() || name.size() > 255 || !absl::StrContains(name, '.')) return false;
  size_t label = 0;
  for (size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '.') {
      if (label == 0 || label > 63) return false;
      if (name[i - 1] == '-' || name[i - label] == '-') return false;
      label = 0;
      continue;
    }
    const char c = name[i];
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    ++label;
  }
  return true;
}

absl::Status Bad(absl::string_view why) { return absl::InvalidArgumentError(why); }

absl::StatusOr<Command> ParseTrack(const std::vector<absl::string_view>& words) {
  if (words.size() != 3) return Bad("TRACK takes exactly two parameters");
  absl::string_view envid = words[1];
  if (envid.size() >= 2 && envid.front() == '<' && envid.back() == '>') {
    envid = envid.substr(1, envid.size() - 2);  // RFC 3887 examples use <>; DIGEST §6.3
  }
  // RFC 3461 §4.4: an ENVID is at most 100 characters (xtext form).
  if (envid.empty() || envid.size() > model::kMaxEnvidBytes) return Bad("bad envid length");
  TrackCommand track;
  if (!DecodeXtext(envid, &track.envid)) return Bad("envid is not xtext");
  if (!net::DecodeBase64Strict(words[2], &track.secret)) return Bad("secret is not base64");
  return track;
}

}  // namespace

bool DecodeXtext(absl::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c < 33 || c > 126) return false;
    if (c != '+') {
      out->push_back(c);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = HexValue(in[i + 1]);
    const int lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

std::string EncodeXtext(absl::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : in) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 33 || u > 126 || c == '+' || c == '=') {
      out.push_back('+');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

absl::StatusOr<Command> ParseCommand(absl::string_view line) {
  if (line.size() > kMaxLineBytes) return Bad("line too long");
  for (const char c : line) {
    if (!IsWsp(c) && (c < 33 || c > 126)) return Bad("non-printable character");
  }
  if (line.empty() || IsWsp(line.front())) return Bad("no command keyword");
  const std::vector<absl::string_view> words = SplitWords(line);
  const absl::string_view keyword = words[0];
  if (absl::EqualsIgnoreCase(keyword, "TRACK")) return ParseTrack(words);
  if (absl::EqualsIgnoreCase(keyword, "COMMENT")) {
    absl::string_view text = line.substr(keyword.size());
    while (!text.empty() && IsWsp(text.front())) text.remove_prefix(1);
    return CommentCommand{std::string(text)};
  }
  if (absl::EqualsIgnoreCase(keyword, "QUIT")) {
    if (words.size() != 1) return Bad("QUIT takes no parameters");
    return QuitCommand{};
  }
  if (absl::EqualsIgnoreCase(keyword, "STARTTLS")) {
    if (words.size() != 2) return Bad("STARTTLS takes exactly one FQDN");
    if (!IsFqdn(words[1])) return Bad("STARTTLS parameter is not an FQDN");
    return StartTlsCommand{std::string(words[1])};
  }
  return Bad("unknown command");
}

}  // namespace mtrk::gateway::mtqp
