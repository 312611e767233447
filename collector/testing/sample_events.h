// Hop events for collector tests, built around the DIGEST §2 test vector.
#pragma once

#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/time/time.h"
#include "common/model/hop_event.h"

namespace mtrk::collector::testing {

// DIGEST §2: A = 8f3b…e8 (16 octets), B = SHA1(A) = 3a21…8d57.
inline std::string SecretA() { return absl::HexStringToBytes("8f3b5a1c9d2e4f60718293a4b5c6d7e8"); }
inline std::string CertifierB() {
  return absl::HexStringToBytes("3a213f661481c4791bf083f200afd6324f948d57");
}
inline constexpr char kEnvid[] = "20261123.a1b2c3@a.example";
inline constexpr char kMessageId[] = "<20261123062713.A606DA7424D@a.example>";

inline absl::Time At(int hour, int minute, int second) {
  return absl::FromCivil(absl::CivilSecond(2026, 11, 23, hour, minute, second),
                         absl::UTCTimeZone());
}

// Sets the event id from the event's facts, as an agent does. Call after changing fields.
inline model::HopEvent WithId(model::HopEvent e) {
  e.event_id = model::ComputeEventId(e);
  return e;
}

// A tracked message A606DA7424D at mta-a delivered to alice@b.example.
inline model::HopEvent Delivered(std::string recipient = "alice@b.example") {
  model::HopEvent e;
  e.reporting_host = "mta-a";
  e.reporting_mta = "mta-a.a.example";
  e.mta_instance = "postfix-a";
  e.queue_id = "A606DA7424D";
  e.queue_first_seen = At(6, 27, 13) + absl::Microseconds(123456);
  e.message_id = kMessageId;
  e.sender = "sender@a.example";
  e.client = "localhost[127.0.0.1]";
  e.envid = kEnvid;
  e.certifier = CertifierB();
  e.mtrk_timeout_s = 864000;
  e.original_recipient = "rfc822;" + recipient;
  e.final_recipient = std::move(recipient);
  e.action = model::DsnAction::kDelivered;
  e.status = "2.0.0";
  e.remote_mta = "mx.b.example";
  e.relay = "127.0.0.2[127.0.0.2]:2526";
  e.diagnostic = "250 2.0.0 Ok: queued as 1B2C3D4E5F";
  e.arrival_time = e.queue_first_seen;
  e.last_attempt_time = At(6, 27, 14);
  e.next_queue_id = "1B2C3D4E5F";
  e.event_time = At(6, 27, 14);
  return WithId(std::move(e));
}

// The same message deferred for `recipient` at `when`.
inline model::HopEvent Delayed(std::string recipient, absl::Time when) {
  model::HopEvent e = Delivered(std::move(recipient));
  e.action = model::DsnAction::kDelayed;
  e.status = "4.4.1";
  e.diagnostic = "connect to mx.b.example[127.0.0.2]:25: Connection refused";
  e.next_queue_id.clear();
  e.last_attempt_time = when;
  e.will_retry_until = when + absl::Hours(120);
  e.event_time = when;
  return WithId(std::move(e));
}

// A member of a list expansion: staff may see it, the originator never.
inline model::HopEvent ExpansionMember(std::string member) {
  model::HopEvent e = Delivered(std::move(member));
  e.original_recipient = "rfc822;list@b.example";
  e.expansion_member = true;
  return WithId(std::move(e));
}

}  // namespace mtrk::collector::testing
