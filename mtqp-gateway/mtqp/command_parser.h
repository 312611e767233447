// MTQP command lines (RFC 3887 §2.2, §4-§7; DIGEST §4, §6.3, §6.12, §6.13): one line, without
// its CRLF, in; one Command, or the reason for a -BAD, out. Pure and stateless: no I/O, so it
// unit-tests and fuzzes cleanly. Deciding whether a command is allowed in the current state is
// Session's job.
#pragma once

#include <string>
#include <variant>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mtrk::gateway::mtqp {

// RFC 3887 §2.2: a command line is at most 998 characters before the CRLF.
inline constexpr size_t kMaxLineBytes = 998;

struct TrackCommand {
  std::string envid;   // xtext decoded, one <> pair stripped (DIGEST §6.3)
  std::string secret;  // A: decoded octets. Its length is NOT checked here (DIGEST §6.13)
};
struct CommentCommand {
  std::string text;  // after the keyword and its whitespace; servers ignore it (RFC 3887 §5)
};
struct QuitCommand {};
struct StartTlsCommand {
  std::string fqdn;
};

using Command = std::variant<TrackCommand, CommentCommand, QuitCommand, StartTlsCommand>;

// InvalidArgument (answered with -BAD) for an empty, over-long, non-printable, unknown or
// malformed command. The message is short and never quotes the secret.
absl::StatusOr<Command> ParseCommand(absl::string_view line);

// RFC 3461 §4 xtext: "+HH" escapes decoded. False for a '+' without two hex digits or a
// character outside 33..126.
bool DecodeXtext(absl::string_view in, std::string* out);
// The inverse, for clients: escapes '+', '=' and anything outside 33..126.
std::string EncodeXtext(absl::string_view in);

}  // namespace mtrk::gateway::mtqp
