#include "agent/parse/tracking_header.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "agent/parse/error_text.h"
#include "common/model/hop_event.h"
#include "common/net/certifier.h"

namespace mtrk::agent::parse {
namespace {

absl::Status Bad(absl::string_view why, absl::string_view value) {
  return absl::InvalidArgumentError(absl::StrCat("tracking header: ", why, ": ", Quote(value)));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

absl::StatusOr<std::string> DecodeXtext(absl::string_view xtext) {
  std::string out;
  out.reserve(xtext.size());
  for (size_t i = 0; i < xtext.size(); ++i) {
    const char c = xtext[i];
    if (c == '+') {
      if (i + 2 >= xtext.size()) return Bad("truncated xtext hexchar", xtext);
      const int hi = HexValue(xtext[i + 1]);
      const int lo = HexValue(xtext[i + 2]);
      if (hi < 0 || lo < 0) return Bad("bad xtext hexchar", xtext);
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c < '!' || c > '~' || c == '=') {
      return Bad("character not allowed in xtext", xtext);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

absl::StatusOr<TrackingHeader> ParseTrackingHeaderValue(absl::string_view value) {
  TrackingHeader header;
  bool have_envid = false, have_certifier = false, have_timeout = false;
  for (absl::string_view param : absl::StrSplit(value, ';')) {
    param = absl::StripAsciiWhitespace(param);
    if (param.empty()) continue;
    const size_t eq = param.find('=');
    if (eq == absl::string_view::npos) return Bad("parameter without '='", value);
    const std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(param.substr(0, eq)));
    const absl::string_view arg = absl::StripAsciiWhitespace(param.substr(eq + 1));
    if (name == "envid") {
      if (have_envid) return Bad("envid given twice", value);
      have_envid = true;
      absl::StatusOr<std::string> envid = DecodeXtext(arg);
      if (!envid.ok()) return envid.status();
      if (envid->empty()) return Bad("empty envid", value);
      if (envid->size() > model::kMaxEnvidBytes) return Bad("envid longer than 100 octets", value);
      header.envid = *std::move(envid);
    } else if (name == "certifier") {
      if (have_certifier) return Bad("certifier given twice", value);
      have_certifier = true;
      if (!net::DecodeBase64Strict(arg, &header.certifier)) {
        return Bad("certifier is not base64", value);
      }
      if (header.certifier.size() != model::kCertifierBytes) {
        return Bad("certifier is not 20 octets (SHA-1)", value);
      }
    } else if (name == "timeout") {
      if (have_timeout) return Bad("timeout given twice", value);
      have_timeout = true;
      const bool digits =
          !arg.empty() && arg.size() <= 9 && std::all_of(arg.begin(), arg.end(), [](char c) {
            return absl::ascii_isdigit(static_cast<unsigned char>(c));
          });
      if (!digits || !absl::SimpleAtoi(arg, &header.timeout_s)) {
        return Bad("timeout is not 1*9DIGIT seconds", value);
      }
    }  // Unknown parameters are ignored, so the header can grow.
  }
  if (!have_envid) return Bad("no envid", value);
  if (!have_certifier) return Bad("no certifier", value);
  return header;
}

}  // namespace mtrk::agent::parse
