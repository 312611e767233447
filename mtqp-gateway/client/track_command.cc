#include "mtqp-gateway/client/track_command.h"

#include <unistd.h>

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "asio/ip/address.hpp"
#include "common/net/certifier.h"
#include "mtqp-gateway/chain/mtqp_discovery.h"
#include "mtqp-gateway/client/originator.h"
#include "mtqp-gateway/server/tls_context.h"

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
    } else if (a == "--insecure") {
      options.insecure = true;
    } else if (a == "--verbose" || a == "-v") {
      options.verbose = true;
    } else if (a == "--no-referrals") {
      options.max_referrals = 0;
    } else if (a == "--ca" || a == "--tls-name" || a == "--submission-host" ||
               a == "--dns-server") {
      if (++i == args.size()) return absl::InvalidArgumentError(absl::StrCat(a, " needs a value"));
      std::string* target = a == "--ca"                ? &options.ca_file
                            : a == "--tls-name"        ? &options.tls_name
                            : a == "--submission-host" ? &options.submission_host
                                                       : &options.dns_server;
      *target = args[i];
    } else if (a == "--server" || absl::StartsWith(a, "--server=")) {
      std::string value;
      if (a == "--server") {
        if (++i == args.size()) return absl::InvalidArgumentError("--server needs a value");
        value = args[i];
      } else {
        value = a.substr(9);
      }
      if (absl::Status s = SplitHostPort(value, &options.host, &options.port); !s.ok()) return s;
      options.server_given = true;
    } else if (absl::StartsWith(a, "-") && a.size() > 1) {
      return absl::InvalidArgumentError(absl::StrCat("unknown option ", a));
    } else {
      positional.push_back(a);
    }
  }
  if (positional.size() == 1 && absl::StartsWithIgnoreCase(positional[0], "mtqp://")) {
    absl::StatusOr<MtqpUri> uri = ParseMtqpUri(positional[0]);
    if (!uri.ok()) return absl::InvalidArgumentError(uri.status().message());
    if (!options.server_given) {
      options.host = uri->host;
      options.port = uri->port;
      options.server_given = true;
    }
    positional = {uri->envid, uri->secret_base64};
  } else if (positional.size() == 1) {
    absl::StatusOr<std::string> stored = LookupSecret(SecretStorePath(), positional[0]);
    if (!stored.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("no SECRET given and none kept: ", stored.status().message()));
    }
    positional.push_back(*stored);
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

namespace {

bool IsLoopback(absl::string_view host) {
  std::error_code ec;
  const asio::ip::address a = asio::ip::make_address(std::string(host), ec);
  if (ec) return absl::EqualsIgnoreCase(host, "localhost");
  return a.is_loopback();
}

bool IsIpLiteral(absl::string_view host) {
  std::error_code ec;
  (void)asio::ip::make_address(std::string(host), ec);
  return !ec;
}

// Where to connect (`address`) and who the server is (`name`: STARTTLS and the certificate).
struct Endpoint {
  std::string address;
  std::string port;
  std::string name;
  bool given = false;  // named by the user (--server), not found by DNS or a referral
};

absl::Status SecureConnection(MtqpClient& client, const TrackOptions& options,
                              const Endpoint& endpoint) {
  if (!client.OffersStartTls()) {
    // A server the user named on loopback is on this machine: nothing crosses a network.
    if (options.insecure || (endpoint.given && IsLoopback(endpoint.address))) {
      return absl::OkStatus();
    }
    return absl::FailedPreconditionError(
        absl::StrCat("server ", endpoint.name,
                     " does not offer STARTTLS; refusing to send the "
                     "secret in clear (use --insecure to allow it)"));
  }
  // STARTTLS takes a domain name (RFC 3887 §6); an IP literal cannot be sent.
  if (IsIpLiteral(endpoint.name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("server ", endpoint.name, " is an address: give --tls-name for STARTTLS"));
  }
  absl::StatusOr<std::shared_ptr<asio::ssl::context>> context =
      server::MakeClientTls({.ca_file = options.ca_file, .cert_file = "", .key_file = ""});
  if (!context.ok()) return context.status();
  return client.StartTls(endpoint.name, **context, endpoint.name);
}

// One server's answer to our TRACK.
absl::StatusOr<Response> Ask(const TrackOptions& options, const Endpoint& endpoint) {
  absl::StatusOr<std::unique_ptr<MtqpClient>> client =
      MtqpClient::Connect(endpoint.address, endpoint.port, options.timeout);
  if (!client.ok()) return client.status();
  if (absl::Status s = SecureConnection(**client, options, endpoint); !s.ok()) return s;
  absl::StatusOr<Response> response =
      (*client)->Command(absl::StrCat("TRACK ", options.envid, " ", options.secret_base64));
  // RFC 3887 §7: say goodbye; the answer does not matter any more.
  if (response.ok()) (void)(*client)->Command("QUIT");
  return response;
}

// The servers to try for an MTA host, in order (RFC 3887 §2.1).
absl::StatusOr<std::vector<Endpoint>> Discover(const TrackOptions& options,
                                               const std::string& host) {
  chain::Discovery discovery(options.dns_server);
  absl::StatusOr<std::vector<chain::MtqpTarget>> targets = discovery.Find(host);
  if (!targets.ok()) return targets.status();
  std::vector<Endpoint> out;
  for (const chain::MtqpTarget& t : *targets) {
    for (const std::string& a : t.addresses) {
      out.push_back({a, std::to_string(t.port), t.host, false});
    }
  }
  return out;
}

// The first endpoint that answers; Unavailable with the last error if none does. Failures are
// logged to `log` when it is not null.
absl::StatusOr<Response> AskAny(const TrackOptions& options, const std::vector<Endpoint>& endpoints,
                                std::ostream* log) {
  absl::Status last = absl::UnavailableError("no server to ask");
  for (const Endpoint& e : endpoints) {
    absl::StatusOr<Response> r = Ask(options, e);
    if (r.ok()) return r;
    if (log != nullptr) {
      *log << "mtrk-track: " << e.name << " [" << e.address << "]:" << e.port << ": "
           << r.status().message() << "\n";
    }
    last = r.status();
  }
  return last;
}

bool IsNoInfo(const Response& r) {
  return r.status.indicator == mtqp::ResponseLine::Indicator::kErr && r.status.HasCode("noinfo");
}

}  // namespace

int RunTrack(const TrackOptions& options, std::ostream& out, std::ostream& err) {
  std::vector<Endpoint> first;
  if (!options.server_given && !options.submission_host.empty()) {
    absl::StatusOr<std::vector<Endpoint>> found = Discover(options, options.submission_host);
    if (!found.ok()) {
      err << "mtrk-track: " << found.status().message() << "\n";
      return kExitError;
    }
    first = *std::move(found);
  } else {
    first.push_back({options.host, options.port,
                     options.tls_name.empty() ? options.host : options.tls_name, true});
  }
  absl::StatusOr<Response> response = AskAny(options, first, &err);
  if (!response.ok()) return kExitError;
  if (IsNoInfo(*response)) {
    if (options.json) {
      out << FormatJson(options.envid, "noinfo", {});
    } else {
      out << "ENVID " << Column(options.envid) << "\nno tracking information\n";
    }
    return kExitNoInfo;
  }
  if (response->status.indicator != mtqp::ResponseLine::Indicator::kOkMulti) {
    err << "mtrk-track: server said: " << response->status_line << "\n";
    return kExitError;
  }
  absl::StatusOr<std::vector<mtqp::TrackingStatusPart>> parts =
      mtqp::ParseTrackingStatusBody(response->body);
  if (!parts.ok()) {
    err << "mtrk-track: " << parts.status().message() << "\n";
    return kExitError;
  }

  // Referrals (RFC 3887 §2.4, DIGEST §4): a transferred record names the next MTA; ask its
  // server unless an answer from that MTA is already here. Each host is asked once.
  std::set<std::string> asked;
  for (int referrals = 0; referrals < options.max_referrals;) {
    std::set<std::string> reporting;
    for (const auto& p : *parts) reporting.insert(absl::AsciiStrToLower(p.reporting_mta.value));
    std::string next;
    for (const auto& p : *parts) {
      for (const mtqp::RecipientRecord& r : p.recipients) {
        const std::string remote = absl::AsciiStrToLower(r.remote_mta.value);
        if (absl::EqualsIgnoreCase(r.action, "transferred") && !remote.empty() &&
            !reporting.contains(remote) && !asked.contains(remote)) {
          next = remote;
          break;
        }
      }
      if (!next.empty()) break;
    }
    if (next.empty()) break;
    asked.insert(next);
    ++referrals;
    // A referral that leads nowhere is normal (the next domain may run no MTQP server): what we
    // have stands, and only --verbose says why.
    std::ostream* log = options.verbose ? &err : nullptr;
    absl::StatusOr<std::vector<Endpoint>> endpoints = Discover(options, next);
    if (!endpoints.ok()) {
      if (log != nullptr) {
        *log << "mtrk-track: referral to " << next << ": " << endpoints.status().message() << "\n";
      }
      continue;
    }
    absl::StatusOr<Response> downstream = AskAny(options, *endpoints, log);
    if (!downstream.ok() ||
        downstream->status.indicator != mtqp::ResponseLine::Indicator::kOkMulti) {
      continue;  // what we have stands: "passed on, no further information"
    }
    absl::StatusOr<std::vector<mtqp::TrackingStatusPart>> more =
        mtqp::ParseTrackingStatusBody(downstream->body);
    if (more.ok()) parts->insert(parts->end(), more->begin(), more->end());
  }
  out << (options.json ? FormatJson(options.envid, "found", *parts)
                       : FormatHuman(options.envid, *parts));
  return kExitFound;
}

int RunNew(std::span<const std::string> args, std::ostream& out, std::ostream& err) {
  std::string fqhn;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--fqhn" && i + 1 < args.size()) {
      fqhn = args[++i];
    } else {
      err << "mtrk-track new: unknown argument " << args[i] << "\n" << kTrackUsage;
      return kExitError;
    }
  }
  if (fqhn.empty()) {
    char name[256] = {};
    gethostname(name, sizeof name - 1);
    fqhn = name;
  }
  absl::StatusOr<TrackingIds> ids = NewTrackingIds(fqhn);
  if (!ids.ok()) {
    err << "mtrk-track new: " << ids.status().message() << "\n";
    return kExitError;
  }
  const std::string store = SecretStorePath();
  if (absl::Status s = StoreSecret(store, ids->envid, ids->secret_base64); !s.ok()) {
    err << "mtrk-track new: " << s.message() << "\n";
    return kExitError;
  }
  out << TrackingHeader(*ids) << "\n"
      << "MAIL FROM parameters: " << MailFromParameters(*ids) << "\n"
      << "envid: " << ids->envid << "\n"
      << "secret kept in " << store << "\n";
  return kExitFound;
}

}  // namespace mtrk::gateway::client
