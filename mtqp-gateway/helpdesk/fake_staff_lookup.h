// FakeStaffLookup: an in-memory StaffLookup for unit tests of the helpdesk. It applies the
// contract of mtrk.v1.StaffSearch (exact/prefix/substring on sender and recipient, exact on the
// rest, domains, time range, one page) to a fixed set of timelines. Thread-safe after setup.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "mtqp-gateway/helpdesk/grpc_staff_lookup.h"
#include "mtqp-gateway/helpdesk/staff_lookup.h"

namespace mtrk::gateway::helpdesk {

class FakeStaffLookup : public StaffLookup {
 public:
  void Add(MessageTimeline t) { messages_.push_back(std::move(t)); }
  // Every call fails with this status when set (e.g. Unimplemented, as an old collector says).
  void FailWith(absl::Status s) { fail_ = std::move(s); }

  absl::StatusOr<SearchPage> Search(const StaffQuery& q) override {
    if (!fail_.ok()) return fail_;
    SearchPage page;
    for (const MessageTimeline& t : messages_) {
      if (!q.domains.empty() && !TimelineInDomains(t, q.domains)) continue;
      if (!q.message_id.empty() && t.message_id != q.message_id) continue;
      if (!q.envid.empty() && t.envid != q.envid) continue;
      if (t.first_seen < q.from || t.first_seen >= q.to) continue;
      bool sender = q.sender.empty(), rcpt = q.recipient.empty(), qid = q.queue_id.empty();
      bool action = q.action == model::DsnAction::kUnspecified;
      for (const model::HopEvent& h : t.hops) {
        sender |= Matches(h.sender, q.sender, q.match);
        rcpt |= Matches(h.final_recipient, q.recipient, q.match) ||
                Matches(h.original_recipient, q.recipient, q.match);
        qid |= h.queue_id == q.queue_id;
        action |= h.action == q.action;
      }
      if (sender && rcpt && qid && action) page.messages.push_back(t);
    }
    return page;
  }

  absl::StatusOr<MessageTimeline> Timeline(const std::string& key,
                                           const std::vector<std::string>& domains) override {
    if (!fail_.ok()) return fail_;
    for (const MessageTimeline& t : messages_) {
      if (t.message_key == key && (domains.empty() || TimelineInDomains(t, domains))) return t;
    }
    return absl::NotFoundError("fake: no such message");
  }

 private:
  static bool Matches(const std::string& value, const std::string& want, MatchMode m) {
    switch (m) {
      case MatchMode::kPrefix:
        return absl::StartsWith(value, want);
      case MatchMode::kSubstring:
        return absl::StrContains(value, want);
      case MatchMode::kExact:
        break;
    }
    return value == want;
  }

  std::vector<MessageTimeline> messages_;
  absl::Status fail_;
};

}  // namespace mtrk::gateway::helpdesk
