// Text fields of hop events come from MTA logs, which promise no encoding: a remote server's
// reply in Latin-1, an 8-bit local part, a stray NUL. Protobuf `string` fields and PostgreSQL
// `text` both take only valid UTF-8 without NUL, and a single bad byte made the collector refuse
// (or gRPC fail to parse) a whole batch. So the agent repairs such text where it builds an event,
// and ValidateHopEvent refuses what is still bad, naming the field.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "absl/strings/string_view.h"

namespace mtrk::model {
namespace log_text_internal {

template <typename Word>
inline constexpr Word kOnes = static_cast<Word>(~Word{0}) / 0xff;  // 0x01 in every byte
template <typename Word>
inline constexpr Word kTops = kOnes<Word> * 0x80;

// The word at p + at, with the top bit of each byte that is 0 or 0x80 and above set (among
// others): ((w - 0x01..01) | w), see IsAsciiWithoutNul.
template <typename Word>
inline Word Flags(const unsigned char* p, size_t at) {
  Word w;
  std::memcpy(&w, p + at, sizeof(w));
  return (w - kOnes<Word>) | w;
}

}  // namespace log_text_internal

// Whether every byte is in 0x01..0x7F. This runs over every log line the agent reads and every
// text field of every event the collector takes, and nearly all of it is ASCII; a byte loop
// (even vectorised: the fields are short, so its tail dominates) cost several % of the agent's
// time (issue 8). So: 16 bytes at a time with SSE2 (every x86-64 has it) where the input is that
// long, else 8 or 4 at a time, the last word overlapping the one before, never a byte loop but
// under 4 bytes. For a word w, ((w - 0x01..01) | w) & 0x80..80 is non-zero exactly when some
// byte is 0 (the subtraction borrows there; without a zero byte nothing borrows) or is 0x80 or
// above.
inline bool IsAsciiWithoutNul(absl::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
#if defined(__SSE2__)
  if (n >= 16) {
    // As signed bytes, exactly 0x01..0x7F are greater than 0: one compare and one AND per 16
    // bytes, a chain of one instruction per step.
    const __m128i zero = _mm_setzero_si128();
    const auto good = [p, zero](size_t at) {
      return _mm_cmpgt_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + at)), zero);
    };
    __m128i all = good(n - 16);
    for (size_t i = 0; i + 16 < n; i += 16) all = _mm_and_si128(all, good(i));
    return _mm_movemask_epi8(all) == 0xffff;
  }
#endif
  using log_text_internal::Flags;
  using log_text_internal::kTops;
  if (n >= 8) {
    uint64_t bad = Flags<uint64_t>(p, n - 8);
    for (size_t i = 0; i + 8 < n; i += 8) bad |= Flags<uint64_t>(p, i);
    return (bad & kTops<uint64_t>) == 0;
  }
  if (n >= 4) {
    return ((Flags<uint32_t>(p, 0) | Flags<uint32_t>(p, n - 4)) & kTops<uint32_t>) == 0;
  }
  unsigned bad = 0;
  for (size_t i = 0; i < n; ++i) bad |= (p[i] - 1u) | p[i];
  return (bad & 0x80) == 0;
}

// IsLogText for text that is not all ASCII.
bool IsMultiByteLogText(absl::string_view s);

// True if `s` is valid UTF-8 (RFC 3629: no overlong forms, surrogates or code points above
// U+10FFFF) and holds no NUL.
inline bool IsLogText(absl::string_view s) { return IsAsciiWithoutNul(s) || IsMultiByteLogText(s); }

// Makes *s pass IsLogText and fit `max_bytes`, and says whether it changed anything. Valid UTF-8
// sequences are kept; every other byte is read as Latin-1 (the commonest legacy encoding in mail,
// so "j\xfcrgen" becomes "jürgen", which staff can search for), and NUL becomes U+FFFD. If the
// result outgrows max_bytes it is cut at a character boundary. Text that already passes is not
// touched (and costs one pass over its bytes).
bool RepairLogText(std::string* s, size_t max_bytes);

}  // namespace mtrk::model
