#include "agent/tail/follower.h"

#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "spdlog/spdlog.h"

namespace mtrk::agent::tail {
namespace {

constexpr uint64_t kOffsetMask = (uint64_t{1} << kOffsetBits) - 1;
// A directory with more rotated names than this is misconfigured; we look at the first ones.
constexpr size_t kMaxRotatedFiles = 256;
// The live file: written, truncated (IN_MODIFY), renamed or deleted.
constexpr uint32_t kFileEvents = IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF;
// Its directory: names created, moved or deleted (rotation), and the directory itself going.
// No IN_MODIFY here: it would wake us for every write to every other log in /var/log.
constexpr uint32_t kDirEvents =
    IN_CREATE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE | IN_MOVE_SELF | IN_DELETE_SELF;

int OpenRead(const std::string& path) {
  return open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
}

int64_t SizeOf(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return -1;
  return static_cast<int64_t>(st.st_size);
}

std::string BaseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// "<base>" followed by a separator and digits/separators only: `.1`, `-20261123`, `.2026-11-23`.
// Not `.1.gz` (compressed: backfill's job), `.bak`, `.swp`.
bool LooksRotated(absl::string_view name, absl::string_view base) {
  if (!absl::StartsWith(name, base)) return false;
  const absl::string_view suffix = name.substr(base.size());
  if (suffix.size() < 2 || (suffix[0] != '.' && suffix[0] != '-' && suffix[0] != '_')) {
    return false;
  }
  bool digit = false;
  for (const char c : suffix.substr(1)) {
    if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      digit = true;
    } else if (c != '.' && c != '-' && c != '_') {
      return false;
    }
  }
  return digit;
}

bool Compressed(absl::string_view name) {
  for (const absl::string_view ext :
       {".gz", ".bz2", ".xz", ".zst", ".lz4", ".lzma", ".Z", ".zip"}) {
    if (absl::EndsWith(name, ext)) return true;
  }
  return false;
}

// N of "<base>.N", else -1.
int64_t RotationNumber(const std::string& path, absl::string_view base) {
  const std::string name = BaseName(path);
  int64_t n = -1;
  if (name.size() > base.size() + 1 && absl::StartsWith(name, base) && name[base.size()] == '.' &&
      absl::SimpleAtoi(absl::string_view(name).substr(base.size() + 1), &n) && n >= 0) {
    return n;
  }
  return -1;
}

bool MtimeBefore(const struct stat& a, const struct stat& b) {
  return std::pair(a.st_mtim.tv_sec, a.st_mtim.tv_nsec) <
         std::pair(b.st_mtim.tv_sec, b.st_mtim.tv_nsec);
}

void CloseAll(std::vector<RotatedFile>& files) {
  for (RotatedFile& f : files) {
    if (f.fd >= 0) close(f.fd);
    f.fd = -1;
  }
}

}  // namespace

Follower::Follower(FollowerOptions options) : options_(std::move(options)) {
  if (options_.max_line_bytes == 0) options_.max_line_bytes = 1;
  if (options_.read_bytes == 0) options_.read_bytes = 64 * 1024;
  const size_t slash = options_.path.rfind('/');
  dir_ = slash == std::string::npos ? "." : options_.path.substr(0, std::max<size_t>(slash, 1));
  base_ = BaseName(options_.path);
  if (options_.inotify) {
    inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (inotify_fd_ < 0) {
      spdlog::warn("tail: inotify unavailable ({}); polling only", std::strerror(errno));
    }
    WatchDirectory();
  }
}

Follower::~Follower() {
  CloseCurrent();
  if (inotify_fd_ >= 0) close(inotify_fd_);
}

void Follower::CloseCurrent() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

void Follower::WatchDirectory() {
  if (inotify_fd_ < 0 || dir_watch_ >= 0) return;
  dir_watch_ = inotify_add_watch(inotify_fd_, dir_.c_str(), kDirEvents);
  if (dir_watch_ < 0 && !dir_watch_warned_) {
    dir_watch_warned_ = true;
    spdlog::warn("tail: cannot watch {} with inotify ({}); polling for rotations", dir_,
                 std::strerror(errno));
  }
  stats_.inotify = dir_watch_ >= 0 && file_watch_ >= 0;
}

void Follower::WatchCurrent() {
  if (inotify_fd_ < 0) return;
  // Through /proc: the inode we opened, not whatever the path names by now.
  int wd = inotify_add_watch(inotify_fd_, absl::StrCat("/proc/self/fd/", fd_).c_str(), kFileEvents);
  if (wd < 0) wd = inotify_add_watch(inotify_fd_, options_.path.c_str(), kFileEvents);
  if (wd < 0 && file_watch_ != -2) {
    spdlog::warn("tail: cannot watch {} with inotify ({}); polling", options_.path,
                 std::strerror(errno));
  }
  // The same inode (after copytruncate) keeps its watch descriptor.
  if (file_watch_ >= 0 && file_watch_ != wd) inotify_rm_watch(inotify_fd_, file_watch_);
  file_watch_ = wd >= 0 ? wd : -2;  // -2: warned
  stats_.inotify = dir_watch_ >= 0 && file_watch_ >= 0;
}

absl::Time Follower::RotationDue() const {
  if (!pending_rotation_.has_value()) return absl::InfiniteFuture();
  return std::min(pending_rotation_->changed + options_.rotate_grace,
                  pending_rotation_->seen + kMaxRotateWait);
}

bool Follower::WaitForChange(absl::Duration timeout) {
  absl::Time end = absl::Now() + timeout;
  // A rotation's grace ending is a change too: the caller polls, and Poll moves on.
  const bool grace_ends_first = RotationDue() < end;
  if (grace_ends_first) end = RotationDue();
  if (inotify_fd_ < 0) {
    absl::SleepFor(std::max(end - absl::Now(), absl::ZeroDuration()));
    return grace_ends_first;
  }
  for (;;) {
    const absl::Duration left = std::max(end - absl::Now(), absl::ZeroDuration());
    struct pollfd p = {.fd = inotify_fd_, .events = POLLIN, .revents = 0};
    const int r =
        poll(&p, 1,
             static_cast<int>(absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1)))));
    if (r < 0 && errno != EINTR) {
      absl::SleepFor(left);
      return false;
    }
    bool relevant = false;
    if (r > 0) {
      alignas(struct inotify_event) char buf[8192];
      for (;;) {
        const ssize_t n = read(inotify_fd_, buf, sizeof buf);
        if (n <= 0) break;
        for (ssize_t i = 0; i < n;) {
          const auto* ev = reinterpret_cast<const struct inotify_event*>(buf + i);
          i += static_cast<ssize_t>(sizeof(struct inotify_event) + ev->len);
          if (ev->mask & IN_IGNORED) {  // the watched file or directory is gone
            if (ev->wd == file_watch_) file_watch_ = -1;
            if (ev->wd == dir_watch_) dir_watch_ = -1;
            relevant = true;
            continue;
          }
          // In the directory, only names that can be the log or a rotated copy of it matter.
          if (ev->wd != dir_watch_ ||
              (ev->mask & (IN_Q_OVERFLOW | IN_DELETE_SELF | IN_MOVE_SELF)) ||
              (ev->len > 0 && absl::StartsWith(ev->name, base_))) {
            relevant = true;
          }
        }
      }
    }
    if (relevant) {
      if (dir_watch_ < 0) WatchDirectory();
      return true;
    }
    if (absl::Now() >= end) return grace_ends_first;
  }
}

absl::Status Follower::OpenCurrent(int fd, uint64_t offset, bool live) {
  CloseCurrent();
  fd_ = fd;
  live_ = live;
  offset_ = offset;
  buffer_.clear();
  discarding_ = false;
  absl::StatusOr<FileIdentity> id = IdentifyFd(fd_);
  if (!id.ok()) return id.status();
  identities_[seq_] = *id;
  siblings_at_empty_open_.reset();
  pending_rotation_.reset();
  if (live_ && offset == 0 && id->head_len == 0) siblings_at_empty_open_ = SiblingInodes();
  if (live_) WatchCurrent();
  return absl::OkStatus();
}

absl::StatusOr<bool> Follower::TakeCopyOfEmptyFile() {
  struct stat cur;
  if (fstat(fd_, &cur) != 0) {
    return absl::UnavailableError(absl::StrCat("tail: fstat: ", std::strerror(errno)));
  }
  // Polled while the file stays empty: stat the names, and open the siblings only when one is
  // new (empty ones are skipped below). Our own inode under a rotated name is a rename, which
  // CheckRotation handles; an empty copy holds nothing to read.
  std::set<std::pair<dev_t, ino_t>> fresh = SiblingInodes();
  fresh.erase({cur.st_dev, cur.st_ino});
  for (const auto& inode : *siblings_at_empty_open_) fresh.erase(inode);
  if (fresh.empty()) return false;
  std::vector<RotatedFile> files = ScanRotated();  // oldest first: an older copy comes first
  for (RotatedFile& f : files) {
    if (f.st.st_size == 0 || !fresh.contains({f.st.st_dev, f.st.st_ino})) continue;
    ++stats_.rotations;
    ++stats_.truncations;
    spdlog::info("tail: {} was copied to {} and truncated before we read it; reading the copy",
                 options_.path, f.name);
    // As for any copytruncate: read from our offset (0), then the newer siblings and the path
    // (SwitchToNext).
    siblings_at_empty_open_.reset();
    ContinueInCopy(f, files);
    return true;
  }
  CloseAll(files);
  return false;
}

void Follower::ContinueInCopy(RotatedFile& copy, std::vector<RotatedFile>& files) {
  CloseCurrent();
  fd_ = std::exchange(copy.fd, -1);
  live_ = false;
  CloseAll(files);
}

std::vector<std::string> Follower::RotatedNames() const {
  std::vector<std::string> names;
  if (DIR* d = opendir(dir_.c_str()); d != nullptr) {
    while (const struct dirent* e = readdir(d)) {
      if (LooksRotated(e->d_name, base_)) names.push_back(absl::StrCat(dir_, "/", e->d_name));
    }
    closedir(d);
  }
  for (const std::string& pattern : options_.rotated) {
    if (pattern.find_first_of("*?[") == std::string::npos) {
      names.push_back(pattern);
      continue;
    }
    glob_t g;
    if (glob(pattern.c_str(), 0, nullptr, &g) == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) names.push_back(g.gl_pathv[i]);
    }
    globfree(&g);
  }
  return names;
}

std::set<std::pair<dev_t, ino_t>> Follower::SiblingInodes() const {
  std::set<std::pair<dev_t, ino_t>> inodes;
  for (const std::string& name : RotatedNames()) {
    struct stat st;
    if (!Compressed(name) && stat(name.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      inodes.insert({st.st_dev, st.st_ino});
    }
  }
  return inodes;
}

std::vector<RotatedFile> Follower::ScanRotated() const {
  const std::vector<std::string> names = RotatedNames();
  struct stat path_st;
  const bool have_path = stat(options_.path.c_str(), &path_st) == 0;
  std::vector<RotatedFile> out;
  std::set<std::pair<dev_t, ino_t>> seen;
  if (have_path) seen.insert({path_st.st_dev, path_st.st_ino});
  for (const std::string& name : names) {
    if (out.size() >= kMaxRotatedFiles) break;
    if (Compressed(name)) continue;
    RotatedFile f;
    f.name = name;
    f.fd = OpenRead(name);
    if (f.fd < 0) continue;
    absl::StatusOr<FileIdentity> id;
    if (fstat(f.fd, &f.st) != 0 || !S_ISREG(f.st.st_mode) ||
        !seen.insert({f.st.st_dev, f.st.st_ino}).second || !(id = IdentifyFd(f.fd)).ok()) {
      close(f.fd);
      continue;
    }
    f.id = *id;
    f.number = RotationNumber(name, base_);
    out.push_back(std::move(f));
  }
  // `.N` names say the order exactly (mtimes can tie within a clock tick); others go by mtime.
  const bool numbered =
      std::all_of(out.begin(), out.end(), [](const RotatedFile& f) { return f.number >= 0; });
  std::sort(out.begin(), out.end(), [numbered](const RotatedFile& a, const RotatedFile& b) {
    if (numbered && a.number != b.number) return a.number > b.number;
    if (MtimeBefore(a.st, b.st)) return true;
    if (MtimeBefore(b.st, a.st)) return false;
    return a.name < b.name;
  });
  return out;
}

absl::Status Follower::Start(const std::optional<TailCheckpoint>& checkpoint) {
  WatchDirectory();
  const int fd = OpenRead(options_.path);
  if (fd < 0) {
    const int err = errno;
    const std::string what = absl::StrCat("tail: ", options_.path, ": ", std::strerror(err));
    return err == ENOENT ? absl::NotFoundError(what) : absl::UnavailableError(what);
  }
  seq_ = 0;
  identities_.clear();
  if (!checkpoint.has_value()) return OpenCurrent(fd, 0, /*live=*/true);

  const TailCheckpoint& cp = *checkpoint;
  absl::StatusOr<FileIdentity> id = IdentifyFd(fd);
  if (id.ok() && id->SameInode(cp.file) && MatchesHead(fd, cp.file) &&
      SizeOf(fd) >= static_cast<int64_t>(cp.offset)) {
    return OpenCurrent(fd, cp.offset, /*live=*/true);
  }
  // Same inode (renamed) or, failing that, same head (copytruncate's copy), long enough to hold
  // the offset. Then the newer rotated files and the path follow (SwitchToNext).
  std::vector<RotatedFile> files = ScanRotated();
  RotatedFile* found = nullptr;
  for (RotatedFile& f : files) {
    const bool same_inode = f.id.SameInode(cp.file);
    if ((same_inode || cp.file.head_len > 0) && MatchesHead(f.fd, cp.file) &&
        f.st.st_size >= static_cast<off_t>(cp.offset)) {
      if (found == nullptr || same_inode) found = &f;
      if (same_inode) break;
    }
  }
  if (found != nullptr) {
    close(fd);
    const int rfd = std::exchange(found->fd, -1);
    spdlog::info("tail: resuming in rotated {} at offset {}", found->name, cp.offset);
    CloseAll(files);
    return OpenCurrent(rfd, cp.offset, /*live=*/false);
  }
  CloseAll(files);
  // XXX: deleted or compressed while we were down: what it held after the offset is not read.
  spdlog::warn("tail: checkpointed file {} not found at {} or its rotated names; reading from 0",
               cp.file.ToString(), options_.path);
  return OpenCurrent(fd, 0, /*live=*/true);
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

void Follower::LearnHead() {
  // A file opened empty, or in the middle of its first line, got a partial head identity, and an
  // empty head matches every file. The first line as we read it is the file's head: take it from
  // the buffer (it starts at offset 0 until that line is delivered), not from a later pread,
  // which could see what a copytruncate put there since.
  if (offset_ != 0 || discarding_) return;
  FileIdentity& id = identities_[seq_];
  const size_t nl = buffer_.find('\n');
  size_t len = 0;
  if (nl != std::string::npos) {
    len = std::min<size_t>(nl + 1, kHeadBytes);
  } else if (buffer_.size() >= kHeadBytes) {
    len = kHeadBytes;
  }
  if (len > id.head_len) {
    id.head_len = static_cast<uint32_t>(len);
    id.head_hash = Fnv1a64(buffer_.data(), len);
  }
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
    // copytruncate race: if the live file was truncated and written again past our offset
    // before this read, these bytes are the new file's, not the continuation of what we read;
    // taking them would skip the old file's tail (which is in the copy). The head tells: new
    // content is in place from byte 0 on before it can reach our offset, so a head still ours
    // *after* the read proves the bytes were ours. Otherwise drop them; CheckRotation finds
    // the copy and reads the rest from there.
    if (const FileIdentity& id = identities_[seq_]; live_ && id.head_len > 0 &&
                                                    offset_ + buffer_.size() >= id.head_len &&
                                                    !MatchesHead(fd_, id)) {
      *eof = true;
      break;
    }
    stats_.bytes += r;
    buffer_.append(chunk.data(), static_cast<size_t>(r));
    LearnHead();
    Deliver(sink, &delivered, max_lines);
  }
  return delivered;
}

absl::StatusOr<bool> Follower::SwitchToNext() {
  struct stat cur;
  const bool have_cur = fstat(fd_, &cur) == 0;
  const FileIdentity finished = identities_[seq_];
  std::vector<RotatedFile> files = ScanRotated();
  // Where the finished file stands among them: by inode; if it is gone, by mtime.
  size_t first = 0;
  bool located = false;
  for (size_t i = 0; i < files.size(); ++i) {
    if (have_cur && files[i].st.st_dev == cur.st_dev && files[i].st.st_ino == cur.st_ino) {
      first = i + 1;
      located = true;
    }
  }
  RotatedFile* next = nullptr;
  for (size_t i = first; i < files.size() && next == nullptr; ++i) {
    if (!located && have_cur && MtimeBefore(files[i].st, cur)) continue;
    // Another copy of what we just read (a copytruncate copy of it kept twice): nothing new.
    if (finished.head_len > 0 && MatchesHead(files[i].fd, finished)) continue;
    next = &files[i];
  }
  if (next != nullptr) {
    const int fd = std::exchange(next->fd, -1);
    const std::string name = next->name;
    CloseAll(files);
    ++seq_;
    ++stats_.rotated_files;
    spdlog::info("tail: going on with rotated {} (rotated again before we got there)", name);
    absl::Status s = OpenCurrent(fd, 0, /*live=*/false);
    if (!s.ok()) return s;
    return true;
  }
  CloseAll(files);
  const int fd = OpenRead(options_.path);
  if (fd < 0) return false;  // not recreated yet
  ++seq_;
  spdlog::info("tail: going on with {}", options_.path);
  absl::Status s = OpenCurrent(fd, 0, /*live=*/true);
  if (!s.ok()) return s;
  return true;
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
  if (!live_) {  // a rotated file, read to its end: go on with the next one
    finish_file();
    return SwitchToNext();
  }
  struct stat path_st, fd_st;
  if (fstat(fd_, &fd_st) != 0) {
    return absl::UnavailableError(absl::StrCat("tail: fstat: ", std::strerror(errno)));
  }
  const bool path_exists = stat(options_.path.c_str(), &path_st) == 0;
  if (path_exists && (path_st.st_ino != fd_st.st_ino || path_st.st_dev != fd_st.st_dev)) {
    // Renamed away and recreated: the old file is now a rotated one. Its writer may still append
    // to it until it reopens (rsyslog until logrotate's HUP reaches it, which comes after the
    // new file exists): stay on it until it has not changed for rotate_grace.
    if (options_.rotate_grace > absl::ZeroDuration()) {
      const absl::Time now = absl::Now();
      if (!pending_rotation_.has_value()) {
        pending_rotation_ = PendingRotation{
            .size = fd_st.st_size, .size_at_rotation = fd_st.st_size, .changed = now, .seen = now};
        spdlog::info("tail: {} rotated (new inode); reading the old file until it is quiet for {}",
                     options_.path, absl::FormatDuration(options_.rotate_grace));
        return false;
      }
      if (pending_rotation_->size != fd_st.st_size) {
        pending_rotation_->size = fd_st.st_size;
        pending_rotation_->changed = now;
      }
      if (now < RotationDue()) return false;
      const off_t late = pending_rotation_->size - pending_rotation_->size_at_rotation;
      pending_rotation_.reset();
      if (late > 0) {
        stats_.late_bytes += late;
        spdlog::info("tail: {} bytes were written to the rotated file after its rotation", late);
      }
    }
    // Read it to its end through our descriptor, then whatever was rotated after it, then the
    // path. A writer that appends to it even later loses those lines (kMaxRotateWait).
    live_ = false;
    ++stats_.rotations;
    spdlog::info("tail: {} rotated (new inode); reading the old file to its end", options_.path);
    return true;
  }
  pending_rotation_.reset();  // the path is ours again (or gone): nothing to wait for
  const uint64_t read_end = offset_ + buffer_.size();
  // Shrunk, or (written past our offset again before we looked) a different head.
  const FileIdentity current = identities_[seq_];
  if (static_cast<uint64_t>(fd_st.st_size) < read_end ||
      (current.head_len > 0 && !MatchesHead(fd_, current))) {
    ++stats_.rotations;
    ++stats_.truncations;
    // copytruncate: what was written after our last read is in the copy, at the same offsets, so
    // seq_, offset_ and buffer_ stay: the copy is the same file under another inode. (A file
    // opened empty and copied before we read any of it shows no truncation here: Poll asks
    // TakeCopyOfEmptyFile first.)
    std::vector<RotatedFile> files = ScanRotated();
    for (RotatedFile& f : files) {
      // An empty head would match any file: such a copy cannot be told apart.
      if (current.head_len > 0 && MatchesHead(f.fd, current) &&
          f.st.st_size >= static_cast<off_t>(read_end)) {
        spdlog::info("tail: {} truncated (copytruncate); reading the rest from {}", options_.path,
                     f.name);
        ContinueInCopy(f, files);
        return true;
      }
    }
    CloseAll(files);
    ++seq_;
    spdlog::info("tail: {} truncated, no rotated copy found; reading it from 0", options_.path);
    const int fd = dup(fd_);
    if (fd < 0) return absl::UnavailableError("tail: dup failed");
    absl::Status s = OpenCurrent(fd, 0, /*live=*/true);
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
  if (siblings_at_empty_open_.has_value()) {
    if (!live_ || offset_ != 0 || !buffer_.empty()) {
      siblings_at_empty_open_.reset();  // something of it read: its head tells from now on
    } else if (absl::StatusOr<bool> took = TakeCopyOfEmptyFile(); !took.ok()) {
      return took.status();
    }
  }
  size_t total = 0;
  // Each switch moves to a newer file, the path last; the bound only guards against a loop.
  for (int round = 0; round < 64 && total < max_lines; ++round) {
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
