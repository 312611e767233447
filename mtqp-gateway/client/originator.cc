#include "mtqp-gateway/client/originator.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/model/hop_event.h"
#include "common/net/certifier.h"
#include "mtqp-gateway/mtqp/command_parser.h"

namespace mtrk::gateway::client {
namespace {

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = absl::ascii_tolower(static_cast<unsigned char>(c));
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool PercentDecode(absl::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size() || Hex(in[i + 1]) < 0 || Hex(in[i + 2]) < 0) return false;
    out->push_back(static_cast<char>(Hex(in[i + 1]) * 16 + Hex(in[i + 2])));
    i += 2;
  }
  return true;
}

}  // namespace

std::string MakeUniqueEnvid(absl::string_view local_envid, absl::string_view fqhn) {
  const std::string local = mtqp::EncodeXtext(local_envid);
  std::string host = mtqp::EncodeXtext(fqhn);
  if (local.size() + 1 + host.size() > model::kMaxEnvidBytes) {
    host = mtqp::EncodeXtext(net::EncodeBase64Unpadded(net::CertifierOf(fqhn)));
  }
  const size_t room = model::kMaxEnvidBytes - 1 - host.size();
  return absl::StrCat(local.substr(0, room), "@", host);
}

absl::StatusOr<TrackingIds> NewTrackingIds(absl::string_view fqhn, absl::Time now) {
  TrackingIds ids;
  ids.secret.resize(kNewSecretBytes);
  std::string nonce(9, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(ids.secret.data()), kNewSecretBytes) != 1 ||
      RAND_bytes(reinterpret_cast<unsigned char*>(nonce.data()), nonce.size()) != 1) {
    return absl::InternalError("new: the random generator failed");
  }
  ids.secret_base64 = absl::Base64Escape(ids.secret);
  ids.certifier = net::EncodeBase64Unpadded(net::CertifierOf(ids.secret));
  // Time plus 72 random bits: unique without coordination. Hex keeps it xtext-clean.
  const std::string local =
      absl::StrCat(absl::FormatTime("%Y%m%dT%H%M%S", now, absl::UTCTimeZone()), ".",
                   absl::BytesToHexString(nonce));
  ids.envid = MakeUniqueEnvid(local, fqhn);
  return ids;
}

std::string TrackingHeader(const TrackingIds& ids) {
  return absl::StrCat("X-MTRK: envid=", ids.envid, "; certifier=", ids.certifier);
}

std::string MailFromParameters(const TrackingIds& ids) {
  return absl::StrCat("ENVID=", ids.envid, " MTRK=", ids.certifier);  // RFC 3885 §3.1, §3.2
}

std::string SecretStorePath() {
  if (const char* home = std::getenv("MTRK_HOME"); home != nullptr && *home != '\0') {
    return absl::StrCat(home, "/secrets");
  }
  const char* user_home = std::getenv("HOME");
  return absl::StrCat(user_home != nullptr ? user_home : ".", "/.mtrk/secrets");
}

absl::Status StoreSecret(const std::string& path, absl::string_view envid,
                         absl::string_view secret_base64) {
  const size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    const std::string dir = path.substr(0, slash);
    if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return absl::PermissionDeniedError(absl::StrCat("secrets: cannot create ", dir));
    }
  }
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return absl::PermissionDeniedError(absl::StrCat("secrets: cannot open ", path));
  // An older file may have a looser mode: A must stay the originator's alone.
  fchmod(fd, 0600);
  const std::string line = absl::StrCat(envid, " ", secret_base64, "\n");
  const bool ok = write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  const bool closed = close(fd) == 0;
  if (!ok || !closed) return absl::DataLossError(absl::StrCat("secrets: cannot write ", path));
  return absl::OkStatus();
}

absl::StatusOr<std::string> LookupSecret(const std::string& path, absl::string_view envid) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("secrets: no store at ", path));
  }
  if ((st.st_mode & 077) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("secrets: ", path, " is readable by others; chmod 600 it"));
  }
  std::ifstream in(path);
  std::string line;
  std::string found;
  while (std::getline(in, line)) {
    std::vector<absl::string_view> words =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (words.size() == 2 && words[0] == envid) found = std::string(words[1]);  // last one wins
  }
  if (found.empty()) return absl::NotFoundError(absl::StrCat("secrets: no secret for ", envid));
  return found;
}

absl::StatusOr<MtqpUri> ParseMtqpUri(absl::string_view uri) {
  if (!absl::ConsumePrefix(&uri, "mtqp://") && !absl::ConsumePrefix(&uri, "MTQP://")) {
    return absl::InvalidArgumentError("uri: not mtqp://");
  }
  const size_t slash = uri.find('/');
  if (slash == absl::string_view::npos) return absl::InvalidArgumentError("uri: no path");
  MtqpUri out;
  absl::string_view authority = uri.substr(0, slash);
  absl::string_view path = uri.substr(slash);
  if (absl::StartsWith(authority, "[")) {
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos) return absl::InvalidArgumentError("uri: no ]");
    out.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (absl::ConsumePrefix(&authority, ":")) out.port = std::string(authority);
  } else {
    const size_t colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != absl::string_view::npos) out.port = std::string(authority.substr(colon + 1));
  }
  int port = 0;
  if (out.host.empty() || !absl::SimpleAtoi(out.port, &port) || port < 1 || port > 65535) {
    return absl::InvalidArgumentError("uri: bad host or port");
  }
  if (path.size() < 7 || !absl::EqualsIgnoreCase(path.substr(0, 7), "/track/")) {
    return absl::InvalidArgumentError("uri: path is not /track/");
  }
  path.remove_prefix(7);
  std::vector<absl::string_view> pieces = absl::StrSplit(path, '/');
  if (pieces.size() != 2 || pieces[0].empty() || pieces[1].empty()) {
    return absl::InvalidArgumentError("uri: want /track/<envid>/<secret>");
  }
  if (!PercentDecode(pieces[0], &out.envid) || !PercentDecode(pieces[1], &out.secret_base64)) {
    return absl::InvalidArgumentError("uri: bad %XX escape");
  }
  return out;
}

}  // namespace mtrk::gateway::client
