// Wiring of the helpdesk into mtrk-gateway, kept apart so main.cc needs only a few lines:
// the --helpdesk-* flags, the server's lifetime, and the `helpdesk-user` / `helpdesk-token`
// management subcommands (which talk to PostgreSQL directly; the roles and tables are in
// sql/migrations/0010_helpdesk.sql).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/channel.h"
#include "mtqp-gateway/mtqp/track_lookup.h"

namespace mtrk::gateway::helpdesk {

struct HelpdeskFlags {
  std::string listen;  // HOST:PORT; empty: no helpdesk
  std::string db;      // libpq conninfo for the helpdesk tables
  std::string cert;    // PEM files for HTTPS
  std::string key;
};

// Usage lines for the flags and subcommands, for main's --help.
extern const char kHelpdeskUsage[];

// True if `flag` is one of ours (--helpdesk-listen, --helpdesk-db, --helpdesk-cert,
// --helpdesk-key); then `value` was stored in *flags.
bool ParseHelpdeskFlag(absl::string_view flag, const std::string& value, HelpdeskFlags* flags);

class HelpdeskRuntime {
 public:
  virtual ~HelpdeskRuntime() = default;
  virtual std::string endpoint() const = 0;
  virtual void Stop() = 0;
};

// nullptr when flags.listen is empty. Connects to the database and starts HTTPS; staff lookups
// go over `collector`, the channel (and so the TLS credentials) the MTQP lookups use; `track`
// answers originators (the same lookup MTQP uses) and must outlive the runtime.
absl::StatusOr<std::unique_ptr<HelpdeskRuntime>> StartHelpdesk(
    const HelpdeskFlags& flags, std::shared_ptr<grpc::Channel> collector, mtqp::TrackLookup& track);

// `helpdesk-user ...` and `helpdesk-token ...`: argv[0] is the subcommand name.
bool IsHelpdeskCommand(absl::string_view arg);
int RunHelpdeskCommand(int argc, char** argv);

}  // namespace mtrk::gateway::helpdesk
