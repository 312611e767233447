// HopEvent: what one MTA knows about one recipient of one message (RFC 3886 §3.3), plus the keys
// the collector uses to join hops across MTAs. The wire form is mtrk.v1.HopEvent; convert with
// hop_event_proto.h at the edges. Plain value type.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/model/dsn_action.h"

namespace mtrk::model {

struct HopEvent {
  // Not `= default`: with an implicit constructor, `HopEvent{}` and vector::emplace_back() would
  // zero all 648 bytes before constructing the members over them, which was 2% of the agent's
  // time (profile, issue 8). Every member has its own initialiser.
  HopEvent() {}  // NOLINT(modernize-use-equals-default)

  std::string event_id;  // see ComputeEventId

  std::string reporting_host;  // syslog host, "mta-a"
  std::string reporting_mta;   // FQDN for Reporting-MTA, if configured
  std::string mta_instance;    // syslog name, "postfix-a"

  std::string queue_id;
  absl::Time queue_first_seen = absl::InfinitePast();
  std::string message_id;
  std::string sender;
  std::string client;

  std::string envid;      // xtext decoded
  std::string certifier;  // B: 20 raw octets, or empty if the message is not tracked
  int64_t mtrk_timeout_s = 0;

  std::string original_recipient;
  std::string final_recipient;
  DsnAction action = DsnAction::kUnspecified;
  std::string status;  // "2.0.0"
  std::string remote_mta;
  std::string relay;
  std::string diagnostic;
  absl::Time arrival_time = absl::InfinitePast();
  absl::Time last_attempt_time = absl::InfinitePast();
  absl::Time will_retry_until = absl::InfinitePast();

  std::string next_queue_id;
  bool expansion_member = false;
  absl::Time event_time = absl::InfinitePast();

  friend bool operator==(const HopEvent&, const HopEvent&) = default;
};

// Limits on untrusted field sizes (bytes). An ENVID is at most 100 characters (RFC 3461 §4.4).
inline constexpr size_t kMaxEnvidBytes = 100;
inline constexpr size_t kMaxAddressBytes = 512;
inline constexpr size_t kMaxTextBytes = 2048;
inline constexpr size_t kMaxNameBytes = 255;       // reporting host (a DNS name), MTA, instance
inline constexpr size_t kMaxHostBytes = 512;       // client, relay, remote MTA: "host[ip]:port"
inline constexpr size_t kMaxMessageIdBytes = 998;  // RFC 5322's line length
inline constexpr size_t kCertifierBytes = 20;      // SHA-1 output

// A deterministic id from the facts of the event (hex SHA-256, 64 chars): the same log line
// always yields the same id, so the collector can drop resends.
std::string ComputeEventId(const HopEvent& event);

// Checks the invariants the collector relies on (fields present, forms, sizes). InvalidArgument
// names the field.
absl::Status ValidateHopEvent(const HopEvent& event);

// Checks that every text field (all but certifier) is UTF-8 without NUL (log_text.h), as
// protobuf strings and PostgreSQL text require. Apart from ValidateHopEvent because the agent
// knows most events are plain ASCII by construction (their lines were; the correlator repairs
// the others), and checking every field of every event was 5% of its time (issue 8). The
// collector checks both.
absl::Status ValidateHopEventText(const HopEvent& event);

// Makes every text field pass ValidateHopEventText and ValidateHopEvent's size limits
// (RepairLogText: stray bytes read as Latin-1, cut to the field's limit). True if it changed
// anything.
bool RepairHopEventText(HopEvent* event);

// "2.0.0"-style enhanced status (RFC 3463): class 2/4/5, no leading zeros, 1-3 digits.
bool IsEnhancedStatus(absl::string_view status);

}  // namespace mtrk::model
