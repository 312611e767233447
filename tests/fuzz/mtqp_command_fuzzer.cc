// Fuzz target for the MTQP command side (issue 6): arbitrary bytes through the line assembler,
// the command parser and the session state machine, as a client would send them. Checks the
// invariants the server relies on: no crash, every response is CRLF-terminated printable ASCII
// starting with a status indicator, and a multi-line answer ends with ".".
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "mtqp-gateway/mtqp/command_parser.h"
#include "mtqp-gateway/mtqp/line_assembler.h"
#include "mtqp-gateway/mtqp/session.h"

namespace {

using mtrk::gateway::mtqp::TrackLookup;

class FakeLookup : public TrackLookup {
 public:
  absl::StatusOr<std::vector<mtrk::model::HopEvent>> Track(absl::string_view envid,
                                                           absl::string_view secret) override {
    if (secret.size() != 16) return absl::NotFoundError("no");
    mtrk::model::HopEvent e;
    e.reporting_mta = "mta.a.example";
    e.envid = std::string(envid);
    e.final_recipient = "a@b.example";
    e.action = mtrk::model::DsnAction::kDelivered;
    e.status = "2.0.0";
    e.arrival_time = absl::FromUnixSeconds(1795415225);
    e.last_attempt_time = e.arrival_time;
    return std::vector<mtrk::model::HopEvent>{e};
  }
};

void Check(bool ok) {
  if (!ok) std::abort();
}

void CheckResponse(const std::string& r) {
  Check(absl::EndsWith(r, "\r\n"));
  Check(absl::StartsWith(r, "+OK") || absl::StartsWith(r, "-ERR") || absl::StartsWith(r, "-BAD") ||
        absl::StartsWith(r, "-TEMP"));
  if (absl::StartsWith(r, "+OK+")) Check(absl::EndsWith(r, "\r\n.\r\n"));
  for (const char c : r) Check(c == '\r' || c == '\n' || (c >= 32 && c < 127));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  (void)mtrk::gateway::mtqp::ParseCommand(input);  // one line as is

  FakeLookup lookup;
  mtrk::gateway::mtqp::SessionOptions options;
  options.tls_available = true;
  options.certificate_names = {"*.a.example"};
  mtrk::gateway::mtqp::Session session(options, lookup);
  CheckResponse(session.Greeting());
  mtrk::gateway::mtqp::LineAssembler assembler(mtrk::gateway::mtqp::kMaxLineBytes);
  assembler.Feed(input);
  while (auto event = assembler.Next()) {
    mtrk::gateway::mtqp::Session::Reply reply =
        event->kind == mtrk::gateway::mtqp::LineAssembler::Event::Kind::kTooLong
            ? session.HandleTooLongLine()
            : session.HandleLine(event->line);
    CheckResponse(reply.response);
    if (reply.next == mtrk::gateway::mtqp::Session::Next::kClose) break;
    if (reply.next == mtrk::gateway::mtqp::Session::Next::kStartTls) {
      assembler.Clear();
      session.TlsEstablished();
      CheckResponse(session.Greeting());
    }
  }
  return 0;
}
