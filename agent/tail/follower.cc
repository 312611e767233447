#include "agent/tail/follower.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace mtrk::agent::tail {
namespace {

constexpr uint64_t kOffsetMask = (uint64_t{1} << kOffsetBits) - 1;

int OpenRead(const std::string& path) {
  return open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
}

int64_t SizeOf(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return -1;
  return static_cast<int64_t>(st.st_size);
}

}  // namespace

Follower::Follower(FollowerOptions options) : options_(std::move(options)) {
  if (options_.rotated.empty()) options_.rotated.push_back(options_.path + ".1");
  if (options_.max_line_bytes == 0) options_.max_line_bytes = 1;
  if (options_.read_bytes == 0) options_.read_bytes = 64 * 1024;
}

Follower::~Follower() { CloseCurrent(); }

void Follower::CloseCurrent() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

absl::Status Follower::OpenCurrent(int fd, uint64_t offset) {
  CloseCurrent();
  fd_ = fd;
  offset_ = offset;
  buffer_.clear();
  discarding_ = false;
  absl::StatusOr<FileIdentity> id = IdentifyFd(fd_);
  if (!id.ok()) return id.status();
  identities_[seq_] = *id;
  return absl::OkStatus();
}

absl::Status Follower::Start(const std::optional<TailCheckpoint>& checkpoint) {
  const int fd = OpenRead(options_.path);
  if (fd < 0) {
    const int err = errno;
    const std::string what = absl::StrCat("tail: ", options_.path, ": ", std::strerror(err));
    return err == ENOENT ? absl::NotFoundError(what) : absl::UnavailableError(what);
  }
  seq_ = 0;
  identities_.clear();
  if (!checkpoint.has_value()) return OpenCurrent(fd, 0);

  const TailCheckpoint& cp = *checkpoint;
  absl::StatusOr<FileIdentity> id = IdentifyFd(fd);
  if (id.ok() && id->SameInode(cp.file) && MatchesHead(fd, cp.file) &&
      SizeOf(fd) >= static_cast<int64_t>(cp.offset)) {
    return OpenCurrent(fd, cp.offset);
  }
  for (size_t i = 0; i < options_.rotated.size(); ++i) {
    const std::string& rotated = options_.rotated[i];
    const int rfd = OpenRead(rotated);
    if (rfd < 0) continue;
    // Same inode (renamed) or same head (copytruncate's copy), long enough to hold the offset.
    absl::StatusOr<FileIdentity> rid = IdentifyFd(rfd);
    const bool same_inode = rid.ok() && rid->SameInode(cp.file);
    if ((same_inode || cp.file.head_len > 0) && MatchesHead(rfd, cp.file) &&
        SizeOf(rfd) >= static_cast<int64_t>(cp.offset)) {
      close(fd);
      spdlog::info("tail: resuming in rotated {} at offset {}", rotated, cp.offset);
      draining_rotated_ = true;
      then_.clear();
      for (size_t j = i; j-- > 0;) then_.push_back(options_.rotated[j]);
      then_.push_back(options_.path);
      return OpenCurrent(rfd, cp.offset);
    }
    close(rfd);
  }
  // XXX: rotated more than once while stopped (or deleted): what lay between is not read.
  spdlog::warn("tail: checkpointed file {} not found at {} or its rotated names; reading from 0",
               cp.file.ToString(), options_.path);
  return OpenCurrent(fd, 0);
}

uint64_t Follower::next_position() const {
  return EncodePosition(seq_, discarding_ ? discard_start_ : offset_);
}

std::optional<TailCheckpoint> Follower::CheckpointAt(uint64_t position) {
  const auto it = identities_.find(position >> kOffsetBits);
  if (it == identities_.end()) return std::nullopt;
  return TailCheckpoint{it->second, position & kOffsetMask};
}

void Follower::ForgetBefore(uint64_t position) {
  const uint64_t seq = position >> kOffsetBits;
  for (auto it = identities_.begin(); it != identities_.end() && it->first < seq;) {
    it = identities_.erase(it);
  }
}

void Follower::Deliver(const LineSink& sink, size_t* delivered, size_t max_lines) {
  size_t begin = 0;
  while (*delivered < max_lines && begin < buffer_.size()) {
    const size_t nl = buffer_.find('\n', begin);
    if (discarding_) {
      if (nl == std::string::npos) {
        begin = buffer_.size();
        break;
      }
      ++stats_.too_long;
      sink(Line{.text = {}, .position = EncodePosition(seq_, discard_start_), .too_long = true});
      ++*delivered;
      discarding_ = false;
      begin = nl + 1;
      continue;
    }
    if (nl == std::string::npos) {
      if (buffer_.size() - begin > options_.max_line_bytes) {
        // Never buffer a pathological line whole: remember where it started and skip to '\n'.
        discarding_ = true;
        discard_start_ = offset_ + begin;
        begin = buffer_.size();
      }
      break;
    }
    const size_t len = nl - begin;
    const uint64_t position = EncodePosition(seq_, offset_ + begin);
    if (len > options_.max_line_bytes) {
      ++stats_.too_long;
      sink(Line{.text = {}, .position = position, .too_long = true});
    } else {
      sink(Line{.text = absl::string_view(buffer_).substr(begin, len), .position = position});
    }
    ++*delivered;
    begin = nl + 1;
  }
  offset_ += begin;
  buffer_.erase(0, begin);
}

absl::StatusOr<size_t> Follower::Drain(const LineSink& sink, size_t max_lines, bool* eof) {
  *eof = false;
  size_t delivered = 0;
  Deliver(sink, &delivered, max_lines);
  std::string chunk(options_.read_bytes, '\0');
  while (delivered < max_lines) {
    const ssize_t r =
        pread(fd_, chunk.data(), chunk.size(), static_cast<off_t>(offset_ + buffer_.size()));
    if (r < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(absl::StrCat("tail: read: ", std::strerror(errno)));
    }
    if (r == 0) {
      *eof = true;
      break;
    }
    stats_.bytes += r;
    buffer_.append(chunk.data(), static_cast<size_t>(r));
    Deliver(sink, &delivered, max_lines);
  }
  return delivered;
}

absl::StatusOr<bool> Follower::CheckRotation(const LineSink& sink) {
  // A finished file's last line may lack its newline: deliver it, nothing will follow.
  const auto finish_file = [&] {
    if (!buffer_.empty() && !discarding_) {
      buffer_.push_back('\n');
      size_t n = 0;
      Deliver(sink, &n, 1);
    }
  };
  if (draining_rotated_) {
    finish_file();
    const std::string next = then_.front();
    const int fd = OpenRead(next);
    if (fd < 0) {
      if (next == options_.path) return false;  // not recreated yet
      then_.erase(then_.begin());               // gone: nothing to read there
      return true;
    }
    then_.erase(then_.begin());
    draining_rotated_ = !then_.empty();
    ++seq_;
    spdlog::info("tail: going on with {}", next);
    absl::Status s = OpenCurrent(fd, 0);
    if (!s.ok()) return s;
    return true;
  }
  struct stat path_st, fd_st;
  if (fstat(fd_, &fd_st) != 0) {
    return absl::UnavailableError(absl::StrCat("tail: fstat: ", std::strerror(errno)));
  }
  const bool path_exists = stat(options_.path.c_str(), &path_st) == 0;
  if (path_exists && (path_st.st_ino != fd_st.st_ino || path_st.st_dev != fd_st.st_dev)) {
    // Renamed away and recreated. XXX: a writer that still appends to the old file after we
    // switched (syslog before its HUP) loses those lines; rotate_grace would cover it.
    finish_file();
    const int fd = OpenRead(options_.path);
    if (fd < 0) return false;
    ++seq_;
    ++stats_.rotations;
    spdlog::info("tail: {} rotated (new inode); reading the new file", options_.path);
    absl::Status s = OpenCurrent(fd, 0);
    if (!s.ok()) return s;
    return true;
  }
  const uint64_t read_end = offset_ + buffer_.size();
  // Shrunk, or (written past our offset again before we looked) a different head.
  const FileIdentity& current = identities_[seq_];
  if (static_cast<uint64_t>(fd_st.st_size) < read_end ||
      (current.head_len > 0 && !MatchesHead(fd_, current))) {
    // copytruncate: what was written after our last read is in the copy, at the same offsets.
    const FileIdentity old = identities_[seq_];
    for (const std::string& rotated : options_.rotated) {
      const int rfd = OpenRead(rotated);
      if (rfd < 0) continue;
      if (MatchesHead(rfd, old) && SizeOf(rfd) >= static_cast<int64_t>(read_end)) {
        const int live = fd_;
        fd_ = rfd;
        bool eof = false;
        while (!eof) {
          absl::StatusOr<size_t> n = Drain(sink, SIZE_MAX, &eof);
          if (!n.ok()) {
            fd_ = live;
            close(rfd);
            return n.status();
          }
        }
        finish_file();
        fd_ = live;
        close(rfd);
        break;
      }
      close(rfd);
    }
    ++seq_;
    ++stats_.rotations;
    ++stats_.truncations;
    spdlog::info("tail: {} truncated (copytruncate); reading it from 0", options_.path);
    const int fd = dup(fd_);
    if (fd < 0) return absl::UnavailableError("tail: dup failed");
    absl::Status s = OpenCurrent(fd, 0);
    if (!s.ok()) return s;
    return true;
  }
  // Still the same file: complete a head identity taken while its first line was partial.
  if (FileIdentity& id = identities_[seq_];
      id.head_len<kHeadBytes&& static_cast<uint64_t>(fd_st.st_size)> id.head_len) {
    absl::StatusOr<FileIdentity> now = IdentifyFd(fd_);
    if (now.ok()) id = *now;
  }
  return false;
}

absl::StatusOr<size_t> Follower::Poll(const LineSink& sink, size_t max_lines) {
  if (fd_ < 0) return absl::FailedPreconditionError("tail: Poll before Start");
  size_t total = 0;
  for (int round = 0; round < 4 && total < max_lines; ++round) {
    bool eof = false;
    absl::StatusOr<size_t> n = Drain(sink, max_lines - total, &eof);
    if (!n.ok()) return n.status();
    total += *n;
    if (!eof) break;
    absl::StatusOr<bool> switched = CheckRotation(sink);
    if (!switched.ok()) return switched.status();
    if (!*switched) break;
  }
  return total;
}

}  // namespace mtrk::agent::tail
