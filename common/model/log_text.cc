#include "common/model/log_text.h"

#include <cstdint>
#include <utility>

namespace mtrk::model {
namespace {

// The length of the valid UTF-8 sequence of two or more bytes at p (n bytes left), or 0.
size_t MultiByteLength(const unsigned char* p, size_t n) {
  const auto cont = [](unsigned char c) { return (c & 0xc0) == 0x80; };
  const unsigned char b0 = p[0];
  if (b0 >= 0xc2 && b0 <= 0xdf) return n >= 2 && cont(p[1]) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    if (n < 3 || !cont(p[1]) || !cont(p[2])) return 0;
    if (b0 == 0xe0 && p[1] < 0xa0) return 0;  // overlong
    if (b0 == 0xed && p[1] > 0x9f) return 0;  // UTF-16 surrogates
    return 3;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    if (n < 4 || !cont(p[1]) || !cont(p[2]) || !cont(p[3])) return 0;
    if (b0 == 0xf0 && p[1] < 0x90) return 0;  // overlong
    if (b0 == 0xf4 && p[1] > 0x8f) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;  // a continuation byte alone, C0/C1 (overlong) or F5..FF
}

}  // namespace

bool IsMultiByteLogText(absl::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  for (size_t i = 0; i < s.size();) {
    if (p[i] == 0) return false;
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    const size_t len = MultiByteLength(p + i, s.size() - i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

bool RepairLogText(std::string* s, size_t max_bytes) {
  if (IsLogText(*s) && s->size() <= max_bytes) return false;
  std::string out;
  out.reserve(s->size() + 8);
  const auto* p = reinterpret_cast<const unsigned char*>(s->data());
  const size_t n = s->size();
  for (size_t i = 0; i < n;) {
    size_t len = 1;
    if (p[i] == 0) {
      if (out.size() + 3 > max_bytes) break;
      out.append("\xef\xbf\xbd");  // U+FFFD
    } else if (p[i] < 0x80) {
      if (out.size() + 1 > max_bytes) break;
      out.push_back(static_cast<char>(p[i]));
    } else if ((len = MultiByteLength(p + i, n - i)) != 0) {
      if (out.size() + len > max_bytes) break;
      out.append(s->data() + i, len);
    } else {
      len = 1;  // not UTF-8 (MultiByteLength said 0): Latin-1, U+0080..U+00FF in two bytes
      if (out.size() + 2 > max_bytes) break;
      out.push_back(static_cast<char>(0xc0 | (p[i] >> 6)));
      out.push_back(static_cast<char>(0x80 | (p[i] & 0x3f)));
    }
    i += len;
  }
  *s = std::move(out);
  return true;
}

}  // namespace mtrk::model
