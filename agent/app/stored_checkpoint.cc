#include "agent/app/stored_checkpoint.h"

#include <cstdint>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"

namespace mtrk::agent::app {
namespace {

int64_t SecondsOf(absl::Time t) { return t == absl::InfinitePast() ? 0 : absl::ToUnixSeconds(t); }

absl::Time TimeOf(int64_t seconds) {
  return seconds == 0 ? absl::InfinitePast() : absl::FromUnixSeconds(seconds);
}

}  // namespace

std::string FormatStoredCheckpoint(const StoredCheckpoint& checkpoint) {
  const LinePipeline::Checkpoint& p = checkpoint.pipeline;
  std::string out =
      absl::StrCat("tail3 ", checkpoint.tail.file.ToString(), " ", checkpoint.tail.offset, " ",
                   SecondsOf(p.latest), " ", SecondsOf(p.resume_time));
  for (const std::string& key : p.skip_keys) absl::StrAppend(&out, " ", key);
  return out;
}

absl::StatusOr<StoredCheckpoint> ParseStoredCheckpoint(absl::string_view text) {
  const std::vector<std::string> parts = absl::StrSplit(text, ' ', absl::SkipEmpty());
  const bool v3 = !parts.empty() && parts[0] == "tail3";
  const size_t first_key = v3 ? 5 : 4;
  const auto unreadable = [text](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("unreadable checkpoint '", text.substr(0, 200), "'", why));
  };
  StoredCheckpoint cp;
  int64_t latest = 0;
  int64_t resume = 0;
  if (parts.size() < first_key || (!v3 && parts[0] != "tail2") ||
      !absl::SimpleAtoi(parts[2], &cp.tail.offset) || !absl::SimpleAtoi(parts[3], &latest) ||
      (v3 && !absl::SimpleAtoi(parts[4], &resume))) {
    return unreadable("");
  }
  absl::StatusOr<tail::FileIdentity> file = tail::FileIdentity::FromString(parts[1]);
  if (!file.ok()) return unreadable(absl::StrCat(": ", file.status().message()));
  cp.tail.file = *file;
  cp.pipeline.latest = TimeOf(latest);
  cp.pipeline.resume_time = TimeOf(resume);
  cp.pipeline.skip_keys.assign(parts.begin() + static_cast<std::ptrdiff_t>(first_key), parts.end());
  return cp;
}

}  // namespace mtrk::agent::app
