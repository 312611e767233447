// One message's path across three MTAs, for link/ and lookup/ tests: A (mta-a) relays it to B
// (mta-b) "queued as 1B2C3D4E5F"; B expands team@ by a local alias "forwarded as FWD0000001" to
// two members; A bounces nobody@ and its notification BNC0000001 carries client
// "bounce:A606DA7424D"; C (mta-c) logged only the Message-ID. Plus an unrelated message at A and
// a reused queue id at B eight days later. B's and the forward's hops have no Message-ID, so
// only queue ids link them.
#pragma once

#include <string>
#include <vector>

#include "collector/testing/sample_events.h"

namespace mtrk::collector::testing {

inline model::HopEvent AtHost(model::HopEvent e, std::string host, std::string instance,
                              std::string queue_id, absl::Time first_seen) {
  e.reporting_host = host;
  e.reporting_mta = host + ".example";
  e.mta_instance = std::move(instance);
  e.queue_id = std::move(queue_id);
  e.queue_first_seen = first_seen;
  e.arrival_time = first_seen;
  e.next_queue_id.clear();
  e.relay.clear();
  e.remote_mta.clear();
  e.diagnostic = "delivered to maildir";
  e.last_attempt_time = first_seen + absl::Seconds(1);
  e.event_time = first_seen + absl::Seconds(1);
  return e;
}

struct LinkedSample {
  std::vector<model::HopEvent> a;          // at mta-a: relayed (to B) + failed nobody@
  std::vector<model::HopEvent> b;          // at mta-b: delivered alice@, expanded team@
  std::vector<model::HopEvent> forward;    // at mta-b: the forward's two members
  std::vector<model::HopEvent> bounce;     // at mta-a: the NDR to the sender
  std::vector<model::HopEvent> c;          // at mta-c: Message-ID only
  std::vector<model::HopEvent> unrelated;  // at mta-a, another message
  std::vector<model::HopEvent> reused;     // at mta-b, queue id 1B2C3D4E5F reused 8 days later

  std::vector<model::HopEvent> Linked() const {
    std::vector<model::HopEvent> all;
    for (const auto* v : {&a, &b, &forward, &bounce, &c})
      all.insert(all.end(), v->begin(), v->end());
    return all;
  }
};

inline LinkedSample MakeLinkedSample() {
  LinkedSample s;
  model::HopEvent relayed = Delivered("alice@b.example");  // next_queue_id 1B2C3D4E5F
  relayed.action = model::DsnAction::kTransferred;
  s.a.push_back(WithId(relayed));
  model::HopEvent team = Delivered("team@lists.b.example");
  team.action = model::DsnAction::kTransferred;
  s.a.push_back(WithId(team));
  model::HopEvent nobody = Delivered("nobody@b.example");
  nobody.action = model::DsnAction::kFailed;
  nobody.status = "5.1.1";
  nobody.next_queue_id.clear();
  s.a.push_back(WithId(nobody));

  const absl::Time at_b = At(6, 27, 14) + absl::Milliseconds(500);
  model::HopEvent alice =
      AtHost(Delivered("alice@b.example"), "mta-b", "postfix", "1B2C3D4E5F", at_b);
  alice.client = "mta-a[127.0.0.1]";
  alice.message_id.clear();  // so that only queue ids can link B (and the forward) to A
  s.b.push_back(WithId(alice));
  model::HopEvent expanded =
      AtHost(Delivered("team@lists.b.example"), "mta-b", "postfix", "1B2C3D4E5F", at_b);
  expanded.client = alice.client;
  expanded.action = model::DsnAction::kExpanded;
  expanded.next_queue_id = "FWD0000001";
  s.b.push_back(WithId(expanded));
  for (const char* member : {"carol@b.example", "dan@b.example"}) {
    model::HopEvent m =
        AtHost(Delivered(member), "mta-b", "postfix", "FWD0000001", at_b + absl::Seconds(1));
    m.client = "local";
    m.message_id.clear();
    m.original_recipient = "rfc822;team@lists.b.example";
    m.expansion_member = true;
    m.envid.clear();
    m.certifier.clear();
    s.forward.push_back(WithId(m));
  }

  model::HopEvent ndr =
      AtHost(Delivered("sender@a.example"), "mta-a", "postfix-a", "BNC0000001", At(6, 27, 15));
  ndr.sender.clear();
  ndr.client = "bounce:A606DA7424D";
  ndr.message_id = "<20261123062715.BNC0000001@mta-a.a.example>";
  ndr.envid.clear();
  ndr.certifier.clear();
  s.bounce.push_back(WithId(ndr));

  model::HopEvent at_c =
      AtHost(Delivered("alice@b.example"), "mta-c", "postfix", "CCC0000001", At(6, 27, 20));
  at_c.client = "unknown[192.0.2.9]";
  s.c.push_back(WithId(at_c));

  model::HopEvent other =
      AtHost(Delivered("alice@b.example"), "mta-a", "postfix-a", "OTHER00001", At(7, 0, 0));
  other.message_id = "<other@a.example>";
  other.envid = "other-envid";
  s.unrelated.push_back(WithId(other));

  model::HopEvent reused = AtHost(Delivered("zoe@b.example"), "mta-b", "postfix", "1B2C3D4E5F",
                                  At(6, 0, 0) + absl::Hours(8 * 24));
  reused.message_id = "<reused@x.example>";
  reused.envid.clear();
  reused.certifier.clear();
  s.reused.push_back(WithId(reused));
  return s;
}

}  // namespace mtrk::collector::testing
