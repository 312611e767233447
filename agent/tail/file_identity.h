// FileIdentity: which log file a checkpoint's offset belongs to, robust to rotation and to inode
// reuse. A file is the same if device and inode match AND the first `head_len` bytes (the first
// line, at most kHeadBytes) hash the same: a new file that reuses a freed inode starts with a
// different first line (syslog lines carry a timestamp and pid). A copy made by copytruncate has
// a new inode but the same head: MatchesHead() finds it.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace mtrk::agent::tail {

inline constexpr uint32_t kHeadBytes = 1024;

struct FileIdentity {
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint32_t head_len = 0;   // bytes hashed: through the first '\n', at most kHeadBytes
  uint64_t head_hash = 0;  // FNV-1a 64 of those bytes

  bool SameInode(const FileIdentity& o) const { return dev == o.dev && ino == o.ino; }
  // "dev:ino:len:hash", for checkpoints and logs.
  std::string ToString() const;
  static absl::StatusOr<FileIdentity> FromString(const std::string& s);
};

// Identity of an open file (fstat + pread of its head). Unavailable on I/O errors.
absl::StatusOr<FileIdentity> IdentifyFd(int fd);

// True if the file's first `want.head_len` bytes hash to `want.head_hash` (any inode).
bool MatchesHead(int fd, const FileIdentity& want);

uint64_t Fnv1a64(const char* data, size_t n);

}  // namespace mtrk::agent::tail
