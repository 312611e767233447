#include "agent/tail/file_identity.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace mtrk::agent::tail {
namespace {

// Reads up to n bytes at offset 0; returns how many were read, or -1.
ssize_t ReadHead(int fd, char* buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    const ssize_t r = pread(fd, buf + got, n - got, static_cast<off_t>(got));
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return static_cast<ssize_t>(got);
}

}  // namespace

uint64_t Fnv1a64(const char* data, size_t n) {
  uint64_t h = 14695981039346656037ull;
  for (size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
    h *= 1099511628211ull;
  }
  return h;
}

std::string FileIdentity::ToString() const {
  return absl::StrCat(dev, ":", ino, ":", head_len, ":", head_hash);
}

absl::StatusOr<FileIdentity> FileIdentity::FromString(const std::string& s) {
  const std::vector<std::string> parts = absl::StrSplit(s, ':');
  FileIdentity id;
  if (parts.size() != 4 || !absl::SimpleAtoi(parts[0], &id.dev) ||
      !absl::SimpleAtoi(parts[1], &id.ino) || !absl::SimpleAtoi(parts[2], &id.head_len) ||
      !absl::SimpleAtoi(parts[3], &id.head_hash) || id.head_len > kHeadBytes) {
    return absl::DataLossError(absl::StrCat("tail: bad file identity '", s.substr(0, 80), "'"));
  }
  return id;
}

absl::StatusOr<FileIdentity> IdentifyFd(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) {
    return absl::UnavailableError(absl::StrCat("tail: fstat: ", std::strerror(errno)));
  }
  FileIdentity id;
  id.dev = static_cast<uint64_t>(st.st_dev);
  id.ino = static_cast<uint64_t>(st.st_ino);
  char buf[kHeadBytes];
  const ssize_t n = ReadHead(fd, buf, sizeof buf);
  if (n < 0) return absl::UnavailableError(absl::StrCat("tail: read: ", std::strerror(errno)));
  size_t len = static_cast<size_t>(n);
  if (const void* nl = memchr(buf, '\n', len); nl != nullptr) {
    len = static_cast<size_t>(static_cast<const char*>(nl) - buf) + 1;
  }
  id.head_len = static_cast<uint32_t>(len);
  id.head_hash = Fnv1a64(buf, len);
  return id;
}

bool MatchesHead(int fd, const FileIdentity& want) {
  char buf[kHeadBytes];
  if (want.head_len > sizeof buf) return false;
  const ssize_t n = ReadHead(fd, buf, want.head_len);
  return n == static_cast<ssize_t>(want.head_len) && Fnv1a64(buf, want.head_len) == want.head_hash;
}

}  // namespace mtrk::agent::tail
