#include "tests/support/pg_environment.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/transaction>
#include <sstream>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

#ifndef MTRK_SOURCE_DIR
#define MTRK_SOURCE_DIR "."
#endif

namespace mtrk::test {
namespace {

constexpr char kTemplate[] = "mtrk_template";

// A port the kernel just handed out; free again once we close it. Another process could take it
// before the postmaster binds, so Start() retries with a new one.
absl::StatusOr<int> PickFreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError("pg environment: socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return absl::InternalError("pg environment: cannot pick a free port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Runs a shell command; returns its stdout (stderr goes to the test's stderr).
absl::StatusOr<std::string> RunCommand(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return absl::InternalError(absl::StrCat("cannot run: ", command));
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  const int rc = ::pclose(pipe);
  if (rc != 0) {
    return absl::InternalError(absl::StrCat("command failed (status ", rc, "): ", command));
  }
  return out;
}

std::string Quote(const std::string& s) { return absl::StrCat("'", s, "'"); }

absl::Status Error(absl::string_view what, const std::exception& e) {
  return absl::InternalError(
      absl::StrCat("pg environment: ", what, ": ",
                   absl::StripTrailingAsciiWhitespace(absl::string_view(e.what()))));
}

}  // namespace

absl::Status PgDatabase::TerminateBackends() const {
  try {
    pqxx::connection conn(admin_conninfo_);
    pqxx::nontransaction txn(conn);
    txn.exec_params(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = $1 AND pid <> pg_backend_pid()",
        name_);
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return Error("terminate backends", e);
  }
}

PgEnvironment& PgEnvironment::Get() {
  static PgEnvironment* const env = [] {
    auto* e = new PgEnvironment();  // never destroyed: the atexit hook below stops the cluster
    e->start_status_ = e->Start();
    std::atexit([] { Get().Stop(); });
    return e;
  }();
  return *env;
}

PgEnvironment::PgEnvironment() {
  std::error_code ec;
  repo_root_ = std::filesystem::exists("scripts/pg-local.sh", ec) ? "." : MTRK_SOURCE_DIR;
  repo_root_ = std::filesystem::absolute(repo_root_, ec).lexically_normal().string();
  if (repo_root_.ends_with("/")) repo_root_.pop_back();
}

absl::Status PgEnvironment::Start() {
  char dir_template[] = "/tmp/mtrk-pg-XXXXXX";
  if (::mkdtemp(dir_template) == nullptr) {
    return absl::InternalError("pg environment: mkdtemp failed");
  }
  dir_ = dir_template;
  // The postgres user (initdb and the server run as it when we are root) must reach the data
  // directory inside.
  ::chmod(dir_.c_str(), 0755);
  const std::string script = absl::StrCat(repo_root_, "/scripts/pg-local.sh");
  absl::Status last = absl::InternalError("pg environment: not started");
  for (int attempt = 0; attempt < 3; ++attempt) {
    absl::StatusOr<int> port = PickFreePort();
    if (!port.ok()) return port.status();
    absl::StatusOr<std::string> out = RunCommand(
        absl::StrCat("PG_FSYNC=off ", Quote(script), " start ", Quote(dir_ + "/data"), " ", *port));
    if (!out.ok()) {
      last = out.status();
      continue;
    }
    const std::string conninfo(absl::StripAsciiWhitespace(*out));
    if (!absl::StartsWith(conninfo, "host=")) {
      return absl::InternalError(absl::StrCat("pg environment: unexpected output: ", conninfo));
    }
    host_port_ = absl::StrCat("host=127.0.0.1 port=", *port, " user=postgres");
    admin_conninfo_ = absl::StrCat(host_port_, " dbname=postgres");
    return absl::OkStatus();
  }
  return last;
}

void PgEnvironment::Stop() {
  if (dir_.empty()) return;
  const std::string script = absl::StrCat(repo_root_, "/scripts/pg-local.sh");
  (void)RunCommand(absl::StrCat(Quote(script), " stop ", Quote(dir_ + "/data")));
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
  dir_.clear();
}

absl::Status PgEnvironment::CreateTemplate() {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& entry :
       std::filesystem::directory_iterator(repo_root_ + "/sql/migrations", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".sql") && !name.empty() && absl::ascii_isdigit(name[0])) {
      files.push_back(entry.path());
    }
  }
  if (ec || files.empty()) {
    return absl::InternalError(
        absl::StrCat("pg environment: no migrations in ", repo_root_, "/sql/migrations"));
  }
  std::sort(files.begin(), files.end());
  try {
    {
      pqxx::connection admin(admin_conninfo_);
      pqxx::nontransaction txn(admin);
      txn.exec(absl::StrCat("CREATE DATABASE ", kTemplate));
    }
    pqxx::connection conn(absl::StrCat(host_port_, " dbname=", kTemplate));
    // As collector/store/pg/migrator.cc does, so a collector started on a clone finds the
    // migrations already recorded (tests/support does not depend on collector/).
    for (const std::filesystem::path& file : files) {
      const std::string name = file.filename().string();
      int version = 0;
      if (!absl::SimpleAtoi(name.substr(0, name.find('_')), &version)) {
        return absl::InternalError(absl::StrCat("pg environment: bad migration name ", name));
      }
      std::ifstream in(file);
      std::ostringstream sql;
      sql << in.rdbuf();
      pqxx::work txn(conn);
      txn.exec(
          "CREATE TABLE IF NOT EXISTS schema_migrations ("
          "version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
      txn.exec(sql.str());
      txn.exec_params("INSERT INTO schema_migrations (version) VALUES ($1)", version);
      txn.commit();
    }
  } catch (const std::exception& e) {
    return Error("migrate template", e);
  }
  return absl::OkStatus();
}

absl::StatusOr<PgDatabase> PgEnvironment::Create(bool migrated) {
  if (!start_status_.ok()) return start_status_;
  std::string name;
  {
    absl::MutexLock lock(&mu_);
    if (migrated && !template_ready_) {
      const absl::Status status = CreateTemplate();
      if (!status.ok()) return status;
      template_ready_ = true;
    }
    name = absl::StrCat("mtrk_test_", next_database_++);
    // CREATE DATABASE ... TEMPLATE fails while another session uses the template, so clones
    // are made one at a time, under the lock.
    try {
      pqxx::connection admin(admin_conninfo_);
      pqxx::nontransaction txn(admin);
      txn.exec(absl::StrCat("CREATE DATABASE ", name, migrated ? " TEMPLATE " : "",
                            migrated ? kTemplate : ""));
    } catch (const std::exception& e) {
      return Error("create database", e);
    }
  }
  PgDatabase db;
  db.name_ = name;
  db.conninfo_ = absl::StrCat(host_port_, " dbname=", name);
  db.admin_conninfo_ = admin_conninfo_;
  return db;
}

absl::StatusOr<PgDatabase> PgEnvironment::NewDatabase() { return Create(/*migrated=*/true); }
absl::StatusOr<PgDatabase> PgEnvironment::NewEmptyDatabase() { return Create(/*migrated=*/false); }

}  // namespace mtrk::test
