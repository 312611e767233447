// Quoting untrusted log text in error messages: truncated and made printable (STYLE §3).
#pragma once

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace mtrk::agent::parse {

// "'text'" with non-printable bytes C-escaped, cut to `max` bytes plus "..." if longer.
inline std::string Quote(absl::string_view text, size_t max = 80) {
  const bool cut = text.size() > max;
  return absl::StrCat("'", absl::CHexEscape(text.substr(0, max)), cut ? "...'" : "'");
}

}  // namespace mtrk::agent::parse
