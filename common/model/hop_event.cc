#include "common/model/hop_event.h"

// SHA256_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP, which allocates and
// frees a provider context per digest; see ComputeEventId. They remain supported in 3.x.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/model/log_text.h"

namespace mtrk::model {
namespace {

int64_t Micros(absl::Time t) { return t == absl::InfinitePast() ? 0 : absl::ToUnixMicros(t); }

absl::Status FieldError(const HopEvent& e, absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("hop event '", e.event_id.substr(0, 16), "': field ", field, ": ", why));
}

absl::Status CheckSize(const HopEvent& e, absl::string_view field, const std::string& value,
                       size_t max) {
  if (value.size() > max) {
    return FieldError(e, field, absl::StrCat("longer than ", max, " bytes"));
  }
  return absl::OkStatus();
}

// An event id's 64 bytes are all hex digits. Without an early exit and over a constant length,
// so that the compiler checks 16 bytes per instruction even at -O2: this runs for every event the
// agent makes and the collector takes, and a byte-at-a-time ascii_isxdigit loop was 40% of
// ValidateHopEvent's time (profile, issue 8).
constexpr size_t kEventIdBytes = 64;
bool IsHexEventId(const char* id) {
  unsigned char bad = 0;
  for (size_t i = 0; i < kEventIdBytes; ++i) {
    const unsigned char c = static_cast<unsigned char>(id[i]);
    const unsigned char digit = static_cast<unsigned char>(c - '0');
    const unsigned char letter = static_cast<unsigned char>((c | 0x20) - 'a');  // 'A'-'F' too
    bad |= static_cast<unsigned char>((digit > 9) & (letter > 5));
  }
  return bad == 0;
}

// Calls f(name, field, max bytes) for every text field of an event (all but event_id, whose
// form is checked on its own, and certifier, which is binary). E is HopEvent or const HopEvent.
template <typename E, typename F>
void ForEachTextField(E& e, F f) {
  f("reporting_host", e.reporting_host, kMaxNameBytes);
  f("reporting_mta", e.reporting_mta, kMaxNameBytes);
  f("mta_instance", e.mta_instance, kMaxNameBytes);
  f("queue_id", e.queue_id, 64);
  f("message_id", e.message_id, kMaxMessageIdBytes);
  f("sender", e.sender, kMaxAddressBytes);
  f("client", e.client, kMaxHostBytes);
  f("envid", e.envid, kMaxEnvidBytes);
  f("original_recipient", e.original_recipient, kMaxAddressBytes);
  f("final_recipient", e.final_recipient, kMaxAddressBytes);
  f("status", e.status, kMaxTextBytes);
  f("remote_mta", e.remote_mta, kMaxHostBytes);
  f("relay", e.relay, kMaxHostBytes);
  f("diagnostic", e.diagnostic, kMaxTextBytes);
  f("next_queue_id", e.next_queue_id, 64);
}

}  // namespace

bool RepairHopEventText(HopEvent* e) {
  bool changed = false;
  ForEachTextField(*e, [&](absl::string_view, std::string& value, size_t max) {
    changed |= RepairLogText(&value, max);
  });
  return changed;
}

std::string ComputeEventId(const HopEvent& e) {
  // SHA-256 over the fields joined with a separator that cannot occur in a log-derived value
  // (NUL), integers in decimal. The value must never change: the collector drops resends by it.
  // The correlator computes one per event, so (measured, issue 8) the key is built in a reused
  // thread-local buffer and hashed with the low-level SHA-256 on a stack context: no
  // allocation, no algorithm lookup, no context set-up and clean-up per call, which OpenSSL 3's
  // EVP_DigestInit/Final cost. It is the same code underneath (SHA-NI where the CPU has it).
  thread_local std::string key;
  key.clear();
  const auto field = [](absl::string_view v) {
    key.append(v.data(), v.size());
    key.push_back('\0');
  };
  const auto number = [&](int64_t v) { field(absl::AlphaNum(v).Piece()); };  // as StrCat
  field(e.reporting_host);
  field(e.mta_instance);
  field(e.queue_id);
  number(Micros(e.queue_first_seen));
  field(e.original_recipient);
  field(e.final_recipient);
  number(static_cast<int>(e.action));
  field(e.status);
  number(Micros(e.event_time));
  field(e.relay);
  key.push_back(e.expansion_member ? '1' : '0');

  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, key.data(), key.size());
  SHA256_Final(digest, &ctx);
  static constexpr char kHex[] = "0123456789abcdef";
  // Into a local array first: stores through the string's char pointer may alias it, so the
  // compiler reloaded the pointer for every byte.
  char hex[2 * sizeof(digest)];
  for (size_t i = 0; i < sizeof(digest); ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 0xf];
  }
  return std::string(hex, sizeof(hex));
}

bool IsEnhancedStatus(absl::string_view status) {
  // class "." subject "." detail, without splitting into strings: the parser and the validator
  // call this for every delivery record and event.
  if (status.size() < 5 || (status[0] != '2' && status[0] != '4' && status[0] != '5') ||
      status[1] != '.') {
    return false;
  }
  absl::string_view rest = status.substr(2);
  for (int i = 0; i < 2; ++i) {
    const size_t dot = i == 0 ? rest.find('.') : rest.size();
    if (dot == absl::string_view::npos) return false;
    const absl::string_view p = rest.substr(0, dot);
    if (p.empty() || p.size() > 3) return false;
    if (p.size() > 1 && p[0] == '0') return false;
    for (char c : p) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
    }
    rest.remove_prefix(i == 0 ? dot + 1 : dot);
  }
  return true;
}

absl::Status ValidateHopEvent(const HopEvent& e) {
  if (e.event_id.size() != kEventIdBytes) {
    return FieldError(e, "event_id", "not a 64-char hex id");
  }
  if (!IsHexEventId(e.event_id.data())) return FieldError(e, "event_id", "not hex");
  if (e.reporting_host.empty()) return FieldError(e, "reporting_host", "empty");
  if (e.mta_instance.empty()) return FieldError(e, "mta_instance", "empty");
  if (e.queue_id.empty()) return FieldError(e, "queue_id", "empty");
  if (e.queue_first_seen == absl::InfinitePast()) {
    return FieldError(e, "queue_first_seen", "missing");
  }
  if (e.final_recipient.empty()) return FieldError(e, "final_recipient", "empty");
  if (e.action == DsnAction::kUnspecified) return FieldError(e, "action", "unspecified");
  if (e.action != DsnAction::kOpaque && !IsEnhancedStatus(e.status)) {
    return FieldError(e, "status",
                      absl::StrCat("not an enhanced status code: '",
                                   absl::CHexEscape(e.status.substr(0, 16)), "'"));
  }
  if (e.status == "2.1.9" && e.action != DsnAction::kRelayed) {
    return FieldError(e, "status", "2.1.9 is only for relayed (RFC 3886 §3.3.4)");
  }
  if (!e.certifier.empty() && e.certifier.size() != kCertifierBytes) {
    return FieldError(e, "certifier", "not 20 octets");
  }
  if (!e.certifier.empty() && e.envid.empty()) {
    return FieldError(e, "envid", "empty while a certifier is set");
  }
  if (e.mtrk_timeout_s < 0) return FieldError(e, "mtrk_timeout_s", "negative");
  if (e.event_time == absl::InfinitePast()) return FieldError(e, "event_time", "missing");
  absl::Status size_status;
  ForEachTextField(e, [&](absl::string_view name, const std::string& value, size_t max) {
    if (size_status.ok()) size_status = CheckSize(e, name, value, max);
  });
  return size_status;
}

absl::Status ValidateHopEventText(const HopEvent& e) {
  absl::Status text_status;
  ForEachTextField(e, [&](absl::string_view name, const std::string& value, size_t) {
    if (text_status.ok() && !IsLogText(value)) {
      text_status = FieldError(e, name, "not UTF-8 text, or holds NUL");
    }
  });
  return text_status;
}

}  // namespace mtrk::model
