// Follower: reads one log path forever, line by line, across rotations (STYLE §1 tail/).
//
// Rotation: rename+create (the path gets a new inode: the old file is read to its end through
// the descriptor still open, then the new one from 0), copytruncate (same inode, size shrinks:
// the bytes between our offset and the truncation are read from the rotated copy, found by the
// hash of its head, then the truncated file from 0). After a restart, Start() finds the
// checkpoint's file by device+inode+head hash at the path or among `rotated` (in that order),
// reads it to its end and goes on with the path. A new file reusing the checkpoint's inode has
// another head and is read from 0.
//
// Lines: a partial last line waits for its newline; a line longer than max_line_bytes is
// delivered as too_long without its text (and never buffered whole).
//
// Positions: every line has an encoded position, (file sequence << 40) | byte offset, which
// grows monotonically across files; CheckpointAt() maps one back to (file identity, offset).
// Polling, not inotify: Poll() is cheap at EOF (one fstat + one stat), and the caller polls every
// ~200 ms, which keeps "new lines within a second". Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
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
  std::vector<std::string> rotated;  // empty: {path + ".1"}
  size_t max_line_bytes = 64 * 1024;
  size_t read_bytes = 64 * 1024;  // per read(2)
};

struct FollowerStats {
  int64_t rotations = 0;  // renames and truncations noticed
  int64_t truncations = 0;
  int64_t too_long = 0;
  int64_t bytes = 0;
};

class Follower {
 public:
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

  // Encoded position of the first byte not yet delivered as part of a complete line.
  uint64_t next_position() const;
  // (identity, offset) of an encoded position; nullopt if its file is no longer known.
  std::optional<TailCheckpoint> CheckpointAt(uint64_t position);
  // Forgets identities of files before `position`'s file (they can no longer be checkpointed).
  void ForgetBefore(uint64_t position);

  const FollowerStats& stats() const { return stats_; }

 private:
  absl::Status OpenCurrent(int fd, uint64_t offset);
  // Reads and delivers from fd_ until EOF or max_lines. Sets *eof.
  absl::StatusOr<size_t> Drain(const LineSink& sink, size_t max_lines, bool* eof);
  // At EOF: detect rename/truncation/switch. Returns true if the current file changed.
  absl::StatusOr<bool> CheckRotation(const LineSink& sink);
  void Deliver(const LineSink& sink, size_t* delivered, size_t max_lines);
  void CloseCurrent();

  FollowerOptions options_;
  int fd_ = -1;
  uint64_t seq_ = 0;
  uint64_t offset_ = 0;      // of buffer_[0] in the current file
  std::string buffer_;       // bytes read past offset_, no complete line among them after Deliver
  bool discarding_ = false;  // inside a too-long line
  uint64_t discard_start_ = 0;
  // fd_ is a rotated file found at Start; then_ are the newer ones to read after it, the
  // path last (rotated[i] resumed: rotated[i-1], ..., rotated[0], path).
  bool draining_rotated_ = false;
  std::vector<std::string> then_;
  std::map<uint64_t, FileIdentity> identities_;  // seq -> identity
  FollowerStats stats_;
};

}  // namespace mtrk::agent::tail
