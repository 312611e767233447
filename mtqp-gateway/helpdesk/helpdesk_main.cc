#include "mtqp-gateway/helpdesk/helpdesk_main.h"

#include <fstream>
#include <iostream>
#include <map>
#include <span>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "mtqp-gateway/app/flag_reader.h"
#include "mtqp-gateway/helpdesk/grpc_staff_lookup.h"
#include "mtqp-gateway/helpdesk/helpdesk_server.h"
#include "mtqp-gateway/helpdesk/helpdesk_store.h"
#include "mtqp-gateway/helpdesk/password.h"

namespace mtrk::gateway::helpdesk {

const char kHelpdeskUsage[] =
    "helpdesk (HTTPS web page and /api/v1 for staff; off unless --helpdesk-listen is given):\n"
    "  --helpdesk-listen HOST:PORT --helpdesk-db CONNINFO --helpdesk-cert PEM --helpdesk-key PEM\n"
    "helpdesk accounts (password read from the first line of stdin):\n"
    "  mtrk-gateway helpdesk-user add --db CONNINFO --name NAME --role "
    "helpdesk|domain_admin|auditor|admin [--domains a.example,b.example]\n"
    "  mtrk-gateway helpdesk-user passwd|disable|enable --db CONNINFO --name NAME\n"
    "  mtrk-gateway helpdesk-user list --db CONNINFO\n"
    "  mtrk-gateway helpdesk-token create --db CONNINFO --name NAME [--label TEXT] "
    "[--ttl-days N]\n"
    "  mtrk-gateway helpdesk-token revoke --db CONNINFO --id N\n";

namespace {

bool SplitHostPort(const std::string& in, std::string* host, uint16_t* port) {
  const size_t colon = in.rfind(':');
  if (colon == std::string::npos) return false;
  *host = in.substr(0, colon);
  if (absl::StartsWith(*host, "[") && absl::EndsWith(*host, "]")) {
    *host = host->substr(1, host->size() - 2);
  }
  int p = 0;
  if (!absl::SimpleAtoi(in.substr(colon + 1), &p) || p < 0 || p > 65535) return false;
  *port = static_cast<uint16_t>(p);
  return !host->empty();
}

class Runtime : public HelpdeskRuntime {
 public:
  std::string endpoint() const override { return server->endpoint(); }
  void Stop() override { server->Stop(); }

  std::unique_ptr<HelpdeskStore> store;
  std::unique_ptr<GrpcStaffLookup> staff;
  std::unique_ptr<HelpdeskServer> server;  // last: stops before what it uses goes away
};

int Usage(absl::string_view why) {
  std::cerr << "mtrk-gateway: " << why << "\n" << kHelpdeskUsage;
  return 2;
}

int Failed(const absl::Status& s) {
  std::cerr << "mtrk-gateway: " << s.message() << "\n";
  return 1;
}

std::string ReadPassword() {
  std::string line;
  std::getline(std::cin, line);
  return std::string(absl::StripTrailingAsciiWhitespace(line));
}

}  // namespace

bool ParseHelpdeskFlag(absl::string_view flag, const std::string& value, HelpdeskFlags* flags) {
  if (flag == "--helpdesk-listen") {
    flags->listen = value;
  } else if (flag == "--helpdesk-db") {
    flags->db = value;
  } else if (flag == "--helpdesk-cert") {
    flags->cert = value;
  } else if (flag == "--helpdesk-key") {
    flags->key = value;
  } else {
    return false;
  }
  return true;
}

absl::StatusOr<std::unique_ptr<HelpdeskRuntime>> StartHelpdesk(
    const HelpdeskFlags& flags, std::shared_ptr<grpc::Channel> collector,
    mtqp::TrackLookup& track) {
  if (flags.listen.empty()) return nullptr;
  HelpdeskOptions options;
  if (!SplitHostPort(flags.listen, &options.listen_host, &options.listen_port)) {
    return absl::InvalidArgumentError(absl::StrCat("bad --helpdesk-listen '", flags.listen, "'"));
  }
  if (flags.db.empty()) return absl::InvalidArgumentError("--helpdesk-db is required");
  options.cert_file = flags.cert;
  options.key_file = flags.key;
  auto rt = std::make_unique<Runtime>();
  absl::StatusOr<std::unique_ptr<HelpdeskStore>> store = HelpdeskStore::Connect(flags.db);
  if (!store.ok()) return store.status();
  rt->store = *std::move(store);
  rt->staff = std::make_unique<GrpcStaffLookup>(std::move(collector));
  absl::StatusOr<std::unique_ptr<HelpdeskServer>> server =
      HelpdeskServer::Start(options, *rt->store, *rt->staff, track);
  if (!server.ok()) return server.status();
  rt->server = *std::move(server);
  return rt;
}

bool IsHelpdeskCommand(absl::string_view arg) {
  return arg == "helpdesk-user" || arg == "helpdesk-token";
}

int RunHelpdeskCommand(int argc, char** argv) {
  if (argc < 2) return Usage("missing subcommand");
  const std::string command = argv[0];
  const std::string verb = argv[1];
  std::map<std::string, std::string> f;
  app::FlagReader flags(std::span<char* const>(argv + 2, argc - 2), {},
                        {"--db", "--name", "--role", "--domains", "--label", "--ttl-days", "--id"});
  while (!flags.done()) {
    absl::StatusOr<app::FlagReader::Flag> flag = flags.Next();
    if (!flag.ok()) return Usage(flag.status().message());
    f[flag->name.substr(2)] = flag->value;
  }
  if (f["db"].empty()) return Usage("--db is required");
  absl::StatusOr<std::unique_ptr<HelpdeskStore>> store = HelpdeskStore::Connect(f["db"]);
  if (!store.ok()) return Failed(store.status());
  HelpdeskStore& db = **store;

  if (command == "helpdesk-user" && verb == "add") {
    const std::optional<Role> role = ParseRole(f["role"]);
    if (!role.has_value()) return Usage("--role: helpdesk, domain_admin, auditor or admin");
    std::vector<std::string> domains;
    if (!f["domains"].empty()) domains = absl::StrSplit(f["domains"], ',', absl::SkipEmpty());
    absl::StatusOr<std::string> hash = HashPassword(ReadPassword());
    if (!hash.ok()) return Failed(hash.status());
    absl::StatusOr<int64_t> id = db.AddUser(f["name"], *role, domains, *hash);
    if (!id.ok()) return Failed(id.status());
    std::cout << "added " << f["name"] << " (" << RoleName(*role) << ")\n";
    return 0;
  }
  if (command == "helpdesk-user" && verb == "passwd") {
    absl::StatusOr<std::string> hash = HashPassword(ReadPassword());
    if (!hash.ok()) return Failed(hash.status());
    if (absl::Status s = db.SetPassword(f["name"], *hash); !s.ok()) return Failed(s);
    return 0;
  }
  if (command == "helpdesk-user" && (verb == "disable" || verb == "enable")) {
    if (absl::Status s = db.SetDisabled(f["name"], verb == "disable"); !s.ok()) return Failed(s);
    return 0;
  }
  if (command == "helpdesk-user" && verb == "list") {
    absl::StatusOr<std::vector<User>> users = db.ListUsers();
    if (!users.ok()) return Failed(users.status());
    for (const User& u : *users) {
      std::cout << u.name << "\t" << RoleName(u.role) << "\t" << absl::StrJoin(u.domains, ",")
                << (u.disabled ? "\tdisabled" : "") << "\n";
    }
    return 0;
  }
  if (command == "helpdesk-token" && verb == "create") {
    absl::StatusOr<User> user = db.FindUser(f["name"]);
    if (!user.ok()) return Failed(user.status());
    std::optional<absl::Time> expires;
    if (!f["ttl-days"].empty()) {
      int days = 0;
      if (!absl::SimpleAtoi(f["ttl-days"], &days) || days < 1) return Usage("bad --ttl-days");
      expires = absl::Now() + absl::Hours(24) * days;
    }
    const std::string token = RandomToken();
    absl::StatusOr<int64_t> id = db.CreateApiToken(user->id, Sha256Hex(token), f["label"], expires);
    if (!id.ok()) return Failed(id.status());
    // Shown once; only its hash is stored.
    std::cout << "token id " << *id << "\n" << token << "\n";
    return 0;
  }
  if (command == "helpdesk-token" && verb == "revoke") {
    int64_t id = 0;
    if (!absl::SimpleAtoi(f["id"], &id)) return Usage("bad --id");
    if (absl::Status s = db.RevokeApiToken(id); !s.ok()) return Failed(s);
    return 0;
  }
  return Usage(absl::StrCat("unknown subcommand ", command, " ", verb));
}

}  // namespace mtrk::gateway::helpdesk
