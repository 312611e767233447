#include "agent/parse/line_parser.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace mtrk::agent::parse {
namespace {

absl::string_view StatusName(DeliveryStatus s) {
  switch (s) {
    case DeliveryStatus::kSent:
      return "sent";
    case DeliveryStatus::kDeferred:
      return "deferred";
    case DeliveryStatus::kBounced:
      return "bounced";
    case DeliveryStatus::kExpired:
      return "expired";
  }
  return "?";
}

struct Describer {
  std::string operator()(const Unrelated&) const { return "unrelated"; }
  std::string operator()(const MessageReceived& f) const {
    return absl::StrCat("received qid=", f.queue_id, " client=", f.client,
                        f.sender.empty() ? "" : absl::StrCat(" sender=", f.sender));
  }
  std::string operator()(const MessageIdSeen& f) const {
    return absl::StrCat(f.resent ? "resent-message-id" : "message-id", " qid=", f.queue_id,
                        " id=", f.message_id);
  }
  std::string operator()(const TrackingHeaderSeen& f) const {
    return absl::StrCat("tracking qid=", f.queue_id, " envid=", f.header.envid,
                        " certifier=", absl::BytesToHexString(f.header.certifier),
                        " timeout=", f.header.timeout_s);
  }
  std::string operator()(const MessageQueued& f) const {
    return absl::StrCat("queued qid=", f.queue_id, " from=", f.sender, " size=", f.size,
                        " nrcpt=", f.nrcpt);
  }
  std::string operator()(const MessageRemoved& f) const {
    return absl::StrCat("removed qid=", f.queue_id);
  }
  std::string operator()(const MessageExpired& f) const {
    return absl::StrCat("expired qid=", f.queue_id, " from=", f.sender, f.forced ? " forced" : "");
  }
  std::string operator()(const RecipientOutcome& f) const {
    std::string s =
        absl::StrCat("outcome qid=", f.queue_id, " agent=", f.agent, " rcpt=", f.recipient);
    if (!f.orig_recipient.empty()) absl::StrAppend(&s, " orig=", f.orig_recipient);
    absl::StrAppend(&s, " relay=", f.relay, " dsn=", f.dsn, " status=", StatusName(f.status));
    if (!f.next_queue_id.empty()) {
      absl::StrAppend(&s, f.forwarded ? " forwarded=" : " next=", f.next_queue_id);
    }
    return s;
  }
  std::string operator()(const NotificationQueued& f) const {
    return absl::StrCat("notification qid=", f.queue_id, " kind=", f.kind,
                        " new=", f.notification_queue_id);
  }
  std::string operator()(const MessageRejected& f) const {
    return absl::StrCat("rejected qid=", f.queue_id, " reason=", f.reason);
  }
  std::string operator()(const MessageDiscarded& f) const {
    return absl::StrCat("discarded qid=", f.queue_id, " rcpt=", f.recipient);
  }
  std::string operator()(const MessageHeld& f) const {
    return absl::StrCat("held qid=", f.queue_id, " rcpt=", f.recipient,
                        f.by_admin ? " by-admin" : "");
  }
  std::string operator()(const MessageDeleted& f) const {
    return absl::StrCat("deleted qid=", f.queue_id);
  }
};

}  // namespace

std::string Describe(const LineFact& fact) { return std::visit(Describer{}, fact); }

}  // namespace mtrk::agent::parse
