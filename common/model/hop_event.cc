#include "common/model/hop_event.h"

#include <openssl/sha.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

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

}  // namespace

std::string ComputeEventId(const HopEvent& e) {
  // Fields joined with a separator that cannot occur in a log-derived value (NUL).
  const std::string key = absl::StrCat(
      e.reporting_host, std::string(1, '\0'), e.mta_instance, std::string(1, '\0'), e.queue_id,
      std::string(1, '\0'), Micros(e.queue_first_seen), std::string(1, '\0'), e.original_recipient,
      std::string(1, '\0'), e.final_recipient, std::string(1, '\0'), static_cast<int>(e.action),
      std::string(1, '\0'), e.status, std::string(1, '\0'), Micros(e.event_time),
      std::string(1, '\0'), e.relay, std::string(1, '\0'), e.expansion_member ? 1 : 0);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

bool IsEnhancedStatus(absl::string_view status) {
  const std::vector<absl::string_view> parts = absl::StrSplit(status, '.');
  if (parts.size() != 3) return false;
  if (parts[0] != "2" && parts[0] != "4" && parts[0] != "5") return false;
  for (int i = 1; i < 3; ++i) {
    const absl::string_view p = parts[i];
    if (p.empty() || p.size() > 3) return false;
    if (p.size() > 1 && p[0] == '0') return false;
    for (char c : p) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
    }
  }
  return true;
}

absl::Status ValidateHopEvent(const HopEvent& e) {
  if (e.event_id.size() != 64) return FieldError(e, "event_id", "not a 64-char hex id");
  for (char c : e.event_id) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) {
      return FieldError(e, "event_id", "not hex");
    }
  }
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
  const struct {
    absl::string_view name;
    const std::string& value;
    size_t max;
  } kSizes[] = {
      {"reporting_host", e.reporting_host, 255},
      {"reporting_mta", e.reporting_mta, 255},
      {"mta_instance", e.mta_instance, 255},
      {"queue_id", e.queue_id, 64},
      {"message_id", e.message_id, 998},
      {"sender", e.sender, kMaxAddressBytes},
      {"client", e.client, 512},
      {"envid", e.envid, kMaxEnvidBytes},
      {"original_recipient", e.original_recipient, kMaxAddressBytes},
      {"final_recipient", e.final_recipient, kMaxAddressBytes},
      {"remote_mta", e.remote_mta, 512},
      {"relay", e.relay, 512},
      {"diagnostic", e.diagnostic, kMaxTextBytes},
      {"next_queue_id", e.next_queue_id, 64},
  };
  for (const auto& s : kSizes) {
    absl::Status st = CheckSize(e, s.name, s.value, s.max);
    if (!st.ok()) return st;
  }
  return absl::OkStatus();
}

}  // namespace mtrk::model
