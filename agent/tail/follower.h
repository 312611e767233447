// Follower: reads one log path forever, line by line, across rotations (STYLE §1 tail/).
//
// Identity: a file is device + inode + hash of its first line (FileIdentity). That is the only
// truth about "which file"; names and inotify events are hints.
//
// Rotation: when the path gets a new inode (rename+create) the old file is read to its end
// through the descriptor still open; when the path shrinks or its head changes (copytruncate)
// the bytes after our offset are read from the rotated copy, found by the hash of its head, at
// the same offsets; a live file opened while empty has no head to find its copy by, so until its
// first byte is read, a rotated sibling that appears meanwhile (beside the same inode at the
// path) is taken as its copy. Either way the follower then reads every rotated sibling NEWER than
// the file it finished, oldest first, before the path again: a second rotation before we noticed
// the first (agent slow or stopped) does not skip the middle file. Siblings are the `rotated` names
// and patterns, plus every "<path><sep><digits>" in the path's directory (`mail.log.1`,
// `maillog-20261123`; compressed names are never read: `mtrk-agent backfill` does .gz). Order:
// by rotation number (`.3` before `.1`) when every sibling is numbered, else by mtime then name.
// After a restart, Start() finds the checkpoint's file by device+inode+head hash at the path or
// among the siblings (a copytruncate copy by head alone), reads it from the offset, then the
// newer siblings, then the path. A new file reusing the checkpoint's inode has another head and
// is read from 0.
//
// Waking: with inotify (FollowerOptions::inotify, on by default) WaitForChange() returns as soon
// as the live file is written, moved or deleted, or a name beginning with the path's appears or
// goes in its directory; the caller's poll interval stays as the fallback (no inotify: instance
// or watch limits, some network filesystems) and as a safety timeout.
//
// Lines: a partial last line waits for its newline; a line longer than max_line_bytes is
// delivered as too_long without its text (and never buffered whole).
//
// Positions: every line has an encoded position, (file sequence << 40) | byte offset, which
// grows monotonically across files; CheckpointAt() maps one back to (file identity, offset).
// Not thread-safe.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "agent/tail/file_identity.h"

namespace mtrk::agent::tail {

inline constexpr int kOffsetBits = 40;
inline uint64_t EncodePosition(uint64_t seq, uint64_t offset) {
  return (seq << kOffsetBits) | offset;
}

struct TailCheckpoint {
  FileIdentity file;
  uint64_t offset = 0;  // next unread byte in that file
};

struct FollowerOptions {
  std::string path;
  // Where rotation moves the file: names or glob(7) patterns, in addition to the rotated-looking
  // siblings of `path` in its directory, which are always considered.
  std::vector<std::string> rotated;
  size_t max_line_bytes = 64 * 1024;
  size_t read_bytes = 64 * 1024;  // per read(2)
  bool inotify = true;            // false: WaitForChange() just sleeps (polling only)
  // After a rename+create rotation, how long the old file must stay unchanged before the
  // follower leaves it for the new one. The writer appends to the old file until it reopens:
  // rsyslog until logrotate's postrotate HUP reaches it, after logrotate has already created
  // the new file. Zero: leave at once. Never longer than kMaxRotateWait after the rotation.
  absl::Duration rotate_grace = absl::ZeroDuration();
};

// A writer that never goes quiet on the old file does not hold the new one back longer.
inline constexpr absl::Duration kMaxRotateWait = absl::Minutes(1);

struct FollowerStats {
  int64_t rotations = 0;  // renames and truncations noticed
  int64_t truncations = 0;
  int64_t rotated_files = 0;  // rotated siblings read after the one we were in (missed rotations)
  // Bytes written to a renamed file after its rotation was seen, read during rotate_grace (lost
  // without it).
  int64_t late_bytes = 0;
  int64_t too_long = 0;
  int64_t bytes = 0;
  bool inotify = false;  // watches in place
};

// One file beside the path that rotation may have made, opened and identified.
struct RotatedFile {
  std::string name;
  int fd = -1;  // owned by whoever holds the RotatedFile; see ScanRotated()
  FileIdentity id;
  struct stat st {};
  int64_t number = -1;  // N of "<path>.N", else -1
};

class Follower {
 public:
  // Lifetime: `text` views the follower's read buffer, which the next read reuses. It is valid
  // only during the LineSink call; whatever must outlive it is copied (LinePipeline::Feed
  // consumes the line before it returns, and the correlator copies what it keeps).
  struct Line {
    absl::string_view text;  // without '\n'; empty if too_long
    uint64_t position = 0;   // encoded start
    bool too_long = false;
  };
  using LineSink = std::function<void(const Line&)>;

  explicit Follower(FollowerOptions options);
  ~Follower();
  Follower(const Follower&) = delete;
  Follower& operator=(const Follower&) = delete;

  // Resumes at `checkpoint` (see the header comment), or reads the path from its start.
  // NotFound if the path does not exist yet (call again later).
  absl::Status Start(const std::optional<TailCheckpoint>& checkpoint);

  // Delivers the complete lines available now, at most max_lines, and handles a rotation
  // noticed at end of file. Returns how many lines were delivered (0: nothing new).
  absl::StatusOr<size_t> Poll(const LineSink& sink, size_t max_lines);

  // Blocks until inotify reports a change to the file or to a rotated name beside it (true), or
  // `timeout` passes (false). Without inotify, sleeps `timeout`. Also returns true, early, when
  // the rotate_grace of a rotation ends (Poll then moves to the new file). Spurious wakeups are
  // possible.
  bool WaitForChange(absl::Duration timeout);

  // Encoded position of the first byte not yet delivered as part of a complete line.
  uint64_t next_position() const;
  // (identity, offset) of an encoded position; nullopt if its file is no longer known.
  std::optional<TailCheckpoint> CheckpointAt(uint64_t position);
  // Forgets identities of files before `position`'s file (they can no longer be checkpointed).
  void ForgetBefore(uint64_t position);

  const FollowerStats& stats() const { return stats_; }

 private:
  // The rotated siblings of the path that exist now, opened, oldest first (see the header
  // comment); the path's own inode is left out. The caller closes the descriptors.
  std::vector<RotatedFile> ScanRotated() const;
  // The names ScanRotated looks at: rotated-looking siblings in the directory and the configured
  // `rotated` names and patterns (unchecked: missing, duplicate, compressed ones included).
  std::vector<std::string> RotatedNames() const;
  // (device, inode) of the uncompressed regular files among them, by stat(2) alone: no file
  // opened or read.
  std::set<std::pair<dev_t, ino_t>> SiblingInodes() const;
  absl::Status OpenCurrent(int fd, uint64_t offset, bool live);
  // Reads and delivers from fd_ until EOF or max_lines. Sets *eof.
  absl::StatusOr<size_t> Drain(const LineSink& sink, size_t max_lines, bool* eof);
  // At EOF: detect rename/truncation/switch. Returns true if the current file changed.
  absl::StatusOr<bool> CheckRotation(const LineSink& sink);
  // Before the first read of a live file opened empty: if a rotated sibling appeared since (not
  // among siblings_at_empty_open_, not our own inode), it is a copytruncate copy of what was
  // written to ours before we read any of it: reads it first (true). See the header comment.
  absl::StatusOr<bool> TakeCopyOfEmptyFile();
  // copytruncate: the current file goes on in `copy`, one of `files` (which this closes), at the
  // same offsets, so seq_, offset_ and buffer_ stay: the copy is the same file under another
  // inode (CheckRotation, TakeCopyOfEmptyFile).
  void ContinueInCopy(RotatedFile& copy, std::vector<RotatedFile>& files);
  // The current (rotated) file is finished: goes on with the oldest sibling newer than it, or
  // the path. False if there is nothing to go on with yet (the path is not recreated).
  absl::StatusOr<bool> SwitchToNext();
  void Deliver(const LineSink& sink, size_t* delivered, size_t max_lines);
  // Completes the current file's head identity from the bytes read at offset 0.
  void LearnHead();
  void CloseCurrent();
  void WatchDirectory();
  void WatchCurrent();

  FollowerOptions options_;
  std::string dir_, base_;  // of options_.path
  int fd_ = -1;
  bool live_ = false;  // fd_ is the file at the path (else a rotated file being read to its end)
  uint64_t seq_ = 0;
  uint64_t offset_ = 0;      // of buffer_[0] in the current file
  std::string buffer_;       // bytes read past offset_, no complete line among them after Deliver
  bool discarding_ = false;  // inside a too-long line
  uint64_t discard_start_ = 0;
  std::map<uint64_t, FileIdentity> identities_;  // seq -> identity
  // Set while the live file was opened empty and nothing of it has been read: the rotated
  // siblings (device, inode) at that time. An empty head matches every file, so a copytruncate
  // then shows no truncation at all; a new sibling is the only sign (TakeCopyOfEmptyFile).
  std::optional<std::set<std::pair<dev_t, ino_t>>> siblings_at_empty_open_;
  // A rename+create rotation seen while the old file (still fd_, still live_) may be written
  // (rotate_grace): its size when last looked at, when that size last changed, when the
  // rotation was first seen.
  struct PendingRotation {
    off_t size = 0;
    off_t size_at_rotation = 0;
    absl::Time changed;
    absl::Time seen;
  };
  std::optional<PendingRotation> pending_rotation_;
  // When the pending rotation's grace ends; InfiniteFuture if none is pending.
  absl::Time RotationDue() const;
  FollowerStats stats_;
  int inotify_fd_ = -1;
  int dir_watch_ = -1;
  bool dir_watch_warned_ = false;
  int file_watch_ = -1;
};

}  // namespace mtrk::agent::tail
