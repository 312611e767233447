// Process-wide logging setup shared by the mtrk binaries (STYLE §4): one spdlog logger per
// binary, writing to stderr (stdout is reserved for program output such as --dry-run JSON), as
// human text or as one JSON object per line for log pipelines. Call once from main before any
// thread starts; spdlog's default logger is thread-safe afterwards.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace mtrk::log {

enum class Format { kText, kJson };

struct LogOptions {
  std::string level = "info";  // trace, debug, info, warn, error, critical, off
  Format format = Format::kText;
};

// Parses "text" / "json".
absl::Status ParseFormat(absl::string_view text, Format* format);
// Checks a --log-level value; spdlog maps every unknown word to "off", which would silence a
// typo'd production logger.
absl::Status ValidateLevel(absl::string_view level);

// Makes `binary` the default logger with `options`. SPDLOG_LEVEL in the environment, when set,
// overrides the level (per-logger syntax as spdlog documents it).
absl::Status InitLogging(absl::string_view binary, const LogOptions& options);

}  // namespace mtrk::log
