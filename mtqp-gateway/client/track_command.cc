#include "mtqp-gateway/client/track_command.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/net/certifier.h"

namespace mtrk::gateway::client {
namespace {

// Keeps a value in one whitespace-separated column.
std::string Column(absl::string_view v) {
  if (v.empty()) return "-";
  std::string out(v);
  for (char& c : out) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c)) || c < 32 || c > 126) c = '_';
  }
  return out;
}

std::string JsonString(absl::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          absl::StrAppendFormat(&out, "\\u%04x", static_cast<unsigned char>(c));
        } else {
          out.push_back(c);  // server data is 7bit; anything else is passed as is
        }
    }
  }
  out += "\"";
  return out;
}

void JsonField(std::string* out, bool* first, absl::string_view name, absl::string_view value) {
  absl::StrAppend(out, *first ? "" : ",", JsonString(name), ":", JsonString(value));
  *first = false;
}

}  // namespace

absl::Status SplitHostPort(absl::string_view in, std::string* host, std::string* port) {
  *port = "1038";
  if (absl::StartsWith(in, "[")) {
    const size_t close = in.find(']');
    if (close == absl::string_view::npos) return absl::InvalidArgumentError("bad server: no ]");
    *host = std::string(in.substr(1, close - 1));
    absl::string_view rest = in.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return absl::InvalidArgumentError("bad server: junk after ]");
      *port = std::string(rest.substr(1));
    }
  } else if (std::count(in.begin(), in.end(), ':') == 1) {
    const size_t colon = in.find(':');
    *host = std::string(in.substr(0, colon));
    *port = std::string(in.substr(colon + 1));
  } else {
    *host = std::string(in);  // a name, or a bare IPv6 address
  }
  int port_number = 0;
  if (host->empty() || !absl::SimpleAtoi(*port, &port_number) || port_number < 1 ||
      port_number > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("bad server '", in, "'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<TrackOptions> ParseTrackArgs(std::span<const std::string> args) {
  TrackOptions options;
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--json") {
      options.json = true;
    } else if (a == "--server" || absl::StartsWith(a, "--server=")) {
      std::string value;
      if (a == "--server") {
        if (++i == args.size()) return absl::InvalidArgumentError("--server needs a value");
        value = args[i];
      } else {
        value = a.substr(9);
      }
      if (absl::Status s = SplitHostPort(value, &options.host, &options.port); !s.ok()) return s;
    } else if (absl::StartsWith(a, "-") && a.size() > 1) {
      return absl::InvalidArgumentError(absl::StrCat("unknown option ", a));
    } else {
      positional.push_back(a);
    }
  }
  if (positional.size() != 2) return absl::InvalidArgumentError("need ENVID and SECRET");
  options.envid = positional[0];
  options.secret_base64 = positional[1];
  for (const char c : options.envid) {
    if (c < 33 || c > 126) return absl::InvalidArgumentError("ENVID has a non-printable byte");
  }
  std::string secret;
  if (!net::DecodeBase64Strict(options.secret_base64, &secret)) {
    return absl::InvalidArgumentError("SECRET is not base64 (RFC 2045, + and /)");
  }
  return options;
}

std::string ToIsoUtc(absl::string_view rfc5322_date) {
  // Drop a trailing comment and collapse runs of whitespace ("Mon,  1 Jan 2001" in RFC 3887).
  absl::string_view d = rfc5322_date.substr(0, rfc5322_date.find('('));
  const std::string norm = absl::StrJoin(
      absl::StrSplit(absl::StripAsciiWhitespace(d), absl::ByAnyChar(" \t"), absl::SkipEmpty()),
      " ");
  absl::Time t;
  std::string error;
  for (const char* format : {"%a, %d %b %Y %H:%M:%S %z", "%d %b %Y %H:%M:%S %z"}) {
    if (absl::ParseTime(format, norm, &t, &error)) {
      return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
    }
  }
  return Column(rfc5322_date);
}

std::string FormatHuman(absl::string_view envid,
                        const std::vector<mtqp::TrackingStatusPart>& parts) {
  std::string out = absl::StrCat("ENVID ", Column(envid), "\n");
  for (const mtqp::TrackingStatusPart& part : parts) {
    for (const mtqp::RecipientRecord& r : part.recipients) {
      absl::StrAppend(&out, Column(part.reporting_mta.value), "  ", Column(r.final_recipient.value),
                      "  ", Column(r.action), "  ", Column(r.status), "  ",
                      r.last_attempt_date.empty() ? "-" : ToIsoUtc(r.last_attempt_date));
      if (!r.remote_mta.value.empty())
        absl::StrAppend(&out, "  remote=", Column(r.remote_mta.value));
      if (!r.original_recipient.value.empty() &&
          r.original_recipient.value != r.final_recipient.value) {
        absl::StrAppend(&out, "  orcpt=", Column(r.original_recipient.value));
      }
      if (!r.will_retry_until.empty()) {
        absl::StrAppend(&out, "  retry-until=", ToIsoUtc(r.will_retry_until));
      }
      out += "\n";
    }
  }
  return out;
}

std::string FormatJson(absl::string_view envid, absl::string_view result,
                       const std::vector<mtqp::TrackingStatusPart>& parts) {
  std::string out = absl::StrCat("{\"envid\":", JsonString(envid),
                                 ",\"result\":", JsonString(result), ",\"parts\":[");
  for (size_t p = 0; p < parts.size(); ++p) {
    const mtqp::TrackingStatusPart& part = parts[p];
    bool first = true;
    out += p == 0 ? "{" : ",{";
    JsonField(&out, &first, "original_envelope_id", part.original_envelope_id);
    JsonField(&out, &first, "reporting_mta", part.reporting_mta.value);
    JsonField(&out, &first, "reporting_mta_type", part.reporting_mta.type);
    if (!part.arrival_date.empty()) {
      JsonField(&out, &first, "arrival_date", ToIsoUtc(part.arrival_date));
    }
    out += ",\"recipients\":[";
    for (size_t i = 0; i < part.recipients.size(); ++i) {
      const mtqp::RecipientRecord& r = part.recipients[i];
      bool f = true;
      out += i == 0 ? "{" : ",{";
      JsonField(&out, &f, "original_recipient", r.original_recipient.value);
      JsonField(&out, &f, "final_recipient", r.final_recipient.value);
      JsonField(&out, &f, "action", r.action);
      JsonField(&out, &f, "status", r.status);
      if (!r.remote_mta.value.empty()) JsonField(&out, &f, "remote_mta", r.remote_mta.value);
      if (!r.last_attempt_date.empty()) {
        JsonField(&out, &f, "last_attempt_date", ToIsoUtc(r.last_attempt_date));
      }
      if (!r.will_retry_until.empty()) {
        JsonField(&out, &f, "will_retry_until", ToIsoUtc(r.will_retry_until));
      }
      out += "}";
    }
    out += "]}";
  }
  out += "]}\n";
  return out;
}

int RunTrack(const TrackOptions& options, std::ostream& out, std::ostream& err) {
  absl::StatusOr<std::unique_ptr<MtqpClient>> client =
      MtqpClient::Connect(options.host, options.port, options.timeout);
  if (!client.ok()) {
    err << "mtrk-track: " << client.status().message() << "\n";
    return kExitError;
  }
  absl::StatusOr<Response> response =
      (*client)->Command(absl::StrCat("TRACK ", options.envid, " ", options.secret_base64));
  // RFC 3887 §7: say goodbye; the answer does not matter any more.
  if (response.ok()) (void)(*client)->Command("QUIT");
  if (!response.ok()) {
    err << "mtrk-track: " << response.status().message() << "\n";
    return kExitError;
  }
  const mtqp::ResponseLine& status = response->status;
  if (status.indicator == mtqp::ResponseLine::Indicator::kErr && status.HasCode("noinfo")) {
    if (options.json) {
      out << FormatJson(options.envid, "noinfo", {});
    } else {
      out << "ENVID " << Column(options.envid) << "\nno tracking information\n";
    }
    return kExitNoInfo;
  }
  if (status.indicator != mtqp::ResponseLine::Indicator::kOkMulti) {
    err << "mtrk-track: server said: " << response->status_line << "\n";
    return kExitError;
  }
  absl::StatusOr<std::vector<mtqp::TrackingStatusPart>> parts =
      mtqp::ParseTrackingStatusBody(response->body);
  if (!parts.ok()) {
    err << "mtrk-track: " << parts.status().message() << "\n";
    return kExitError;
  }
  out << (options.json ? FormatJson(options.envid, "found", *parts)
                       : FormatHuman(options.envid, *parts));
  return kExitFound;
}

}  // namespace mtrk::gateway::client
