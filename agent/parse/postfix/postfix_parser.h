// PostfixParser: Postfix 3.x log records -> LineFact.
//
// Tracked records, by daemon (ProgramName of the syslog tag; the instance is InstanceName):
//   smtpd     QID: client=host[ip]
//   pickup    QID: uid=N from=<s>
//   cleanup   QID: message-id=<id>, QID: resent-message-id=<id>
//             QID: info: header X-MTRK: <value> from host[ip]; from=<s> to=<r> ...: <text>
//   smtpd, cleanup (access maps, header/body_checks, milters; "milter-" prefix alike)
//             QID: reject: DATA|END-OF-MESSAGE|header|body ...   -> MessageRejected
//             QID: reject: RCPT|MAIL|... ...   -> Unrelated "rcpt-reject" (that command only)
//             QID: discard: ... to=<r> ...     -> MessageDiscarded
//             QID: hold: ... to=<r> ...        -> MessageHeld
//             QID: redirect|filter|warning|info|replace|prepend: ... -> Unrelated of that kind
//   postsuper QID: removed (-d)                -> MessageDeleted
//             QID: placed on hold (-h)         -> MessageHeld (by_admin)
//             QID: released from hold | requeued | expired -> Unrelated (qmgr records follow)
//   qmgr      QID: from=<s>, size=N, nrcpt=N (queue active)
//             QID: from=<s>, status=expired|force-expired, returned to sender
//             QID: removed
//             QID: to=<r>, ... status=...          (qmgr logs some outcomes itself)
//   bounce    QID: sender non-delivery notification: NEWQID  (and the other notification kinds)
//   smtp lmtp local virtual pipe error discard retry
//             QID: to=<r>, [orig_to=<o>,] relay=R, [conn_use=N,] delay=D, delays=a/b/c/d,
//                  dsn=X.Y.Z, status=sent|deferred|bounced|expired (text)
// Queue ids are the short hex form (336F1A7420B) or the long form (4jXwvs15pBz1bcHw,
// enable_long_queue_ids). Everything else is Unrelated (with a kind: see Unrelated), including
// "NOQUEUE: ..." records, address-verification probes
// (status=deliverable/undeliverable) and rejects before or at RCPT: the client got the answer
// synchronously and the recipient was never ours, so the failure is the client MTA's to report.
//
// Postfix truncates a logged header to 200 characters; the X-MTRK value is what precedes the last
// " from <client>" before "; from=<". A malformed X-MTRK header is InvalidArgument: the caller
// counts it, and the message stays untracked.
#pragma once

#include <memory>

#include "agent/parse/line_parser.h"

namespace mtrk::agent::parse {

class PostfixParser : public LineParser {
 public:
  absl::StatusOr<LineFact> Parse(const LogLine& line) const override;
};

std::unique_ptr<LineParser> NewPostfixParser();

// True for a Postfix queue id in either form.
bool IsPostfixQueueId(absl::string_view s);

}  // namespace mtrk::agent::parse
