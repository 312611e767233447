#include "agent/spool/spool.h"

#include <sqlite3.h>

#include <utility>

#include "absl/strings/str_cat.h"

namespace mtrk::agent::spool {
namespace {

// Finalizes a statement on every path out of a function.
struct Stmt {
  sqlite3_stmt* s = nullptr;
  ~Stmt() { sqlite3_finalize(s); }
};

}  // namespace

absl::Status Spool::Error(const char* what) const {
  const int code = sqlite3_errcode(db_);
  const std::string msg = absl::StrCat("spool: ", options_.path, ": ", what, ": ",
                                       db_ != nullptr ? sqlite3_errmsg(db_) : "no database");
  if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) return absl::DataLossError(msg);
  return absl::UnavailableError(msg);
}

absl::Status Spool::Exec(const char* sql) {
  if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return Error(sql);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Spool>> Spool::Open(SpoolOptions options) {
  std::unique_ptr<Spool> spool(new Spool(std::move(options)));
  absl::MutexLock lock(&spool->mu_);
  if (sqlite3_open_v2(spool->options_.path.c_str(), &spool->db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    return spool->Error("open");
  }
  sqlite3_busy_timeout(spool->db_, 5000);
  // WAL + FULL: every commit fsyncs the WAL, so a returned Append survives a crash or power loss.
  for (const char* sql :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
        "CREATE TABLE IF NOT EXISTS records (seq INTEGER PRIMARY KEY AUTOINCREMENT, data BLOB "
        "NOT NULL)",
        "CREATE TABLE IF NOT EXISTS state (k TEXT PRIMARY KEY, v BLOB NOT NULL)"}) {
    if (absl::Status s = spool->Exec(sql); !s.ok()) return s;
  }
  Stmt st;
  if (sqlite3_prepare_v2(spool->db_, "SELECT count(*), coalesce(sum(length(data)), 0) FROM records",
                         -1, &st.s, nullptr) != SQLITE_OK ||
      sqlite3_step(st.s) != SQLITE_ROW) {
    return spool->Error("count records");
  }
  spool->records_ = sqlite3_column_int64(st.s, 0);
  spool->bytes_ = static_cast<uint64_t>(sqlite3_column_int64(st.s, 1));
  Stmt cp;
  if (sqlite3_prepare_v2(spool->db_, "SELECT v FROM state WHERE k = 'checkpoint'", -1, &cp.s,
                         nullptr) != SQLITE_OK) {
    return spool->Error("read checkpoint");
  }
  if (sqlite3_step(cp.s) == SQLITE_ROW) {
    const void* blob = sqlite3_column_blob(cp.s, 0);
    const int n = sqlite3_column_bytes(cp.s, 0);
    spool->checkpoint_ = std::string(static_cast<const char*>(blob), static_cast<size_t>(n));
  }
  return spool;
}

Spool::~Spool() {
  absl::MutexLock lock(&mu_);
  sqlite3_close_v2(db_);
}

absl::Status Spool::Append(const std::vector<std::string>& records,
                           const std::optional<std::string>& checkpoint) {
  if (records.empty() && !checkpoint.has_value()) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  const auto fail = [&](const char* what) {
    absl::Status s = Error(what);
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return s;
  };
  uint64_t added = 0;
  {
    Stmt ins;
    if (sqlite3_prepare_v2(db_, "INSERT INTO records (data) VALUES (?)", -1, &ins.s, nullptr) !=
        SQLITE_OK) {
      return fail("prepare insert");
    }
    for (const std::string& r : records) {
      sqlite3_bind_blob(ins.s, 1, r.data(), static_cast<int>(r.size()), SQLITE_STATIC);
      if (sqlite3_step(ins.s) != SQLITE_DONE) return fail("insert record");
      sqlite3_reset(ins.s);
      added += r.size();
    }
  }
  if (checkpoint.has_value()) {
    Stmt up;
    if (sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO state (k, v) VALUES ('checkpoint', ?)", -1,
                           &up.s, nullptr) != SQLITE_OK) {
      return fail("prepare checkpoint");
    }
    sqlite3_bind_blob(up.s, 1, checkpoint->data(), static_cast<int>(checkpoint->size()),
                      SQLITE_STATIC);
    if (sqlite3_step(up.s) != SQLITE_DONE) return fail("write checkpoint");
  }
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) return fail("commit");
  bytes_ += added;
  records_ += static_cast<int64_t>(records.size());
  if (checkpoint.has_value()) checkpoint_ = checkpoint;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Spool::Record>> Spool::Peek(size_t max_records, size_t max_bytes) {
  absl::MutexLock lock(&mu_);
  Stmt st;
  if (sqlite3_prepare_v2(db_, "SELECT seq, data FROM records ORDER BY seq LIMIT ?", -1, &st.s,
                         nullptr) != SQLITE_OK) {
    return Error("prepare peek");
  }
  sqlite3_bind_int64(st.s, 1, static_cast<sqlite3_int64>(max_records));
  std::vector<Record> out;
  size_t total = 0;
  for (int rc = sqlite3_step(st.s); rc != SQLITE_DONE; rc = sqlite3_step(st.s)) {
    if (rc != SQLITE_ROW) return Error("peek");
    const int n = sqlite3_column_bytes(st.s, 1);
    if (!out.empty() && total + static_cast<size_t>(n) > max_bytes) break;
    Record r;
    r.seq = sqlite3_column_int64(st.s, 0);
    r.data.assign(static_cast<const char*>(sqlite3_column_blob(st.s, 1)), static_cast<size_t>(n));
    total += r.data.size();
    out.push_back(std::move(r));
  }
  return out;
}

absl::Status Spool::Ack(int64_t seq) {
  absl::MutexLock lock(&mu_);
  Stmt sum;
  if (sqlite3_prepare_v2(db_,
                         "SELECT count(*), coalesce(sum(length(data)), 0) FROM records WHERE seq "
                         "<= ?",
                         -1, &sum.s, nullptr) != SQLITE_OK) {
    return Error("prepare ack");
  }
  sqlite3_bind_int64(sum.s, 1, seq);
  if (sqlite3_step(sum.s) != SQLITE_ROW) return Error("ack count");
  const int64_t n = sqlite3_column_int64(sum.s, 0);
  const uint64_t freed = static_cast<uint64_t>(sqlite3_column_int64(sum.s, 1));
  Stmt del;
  if (sqlite3_prepare_v2(db_, "DELETE FROM records WHERE seq <= ?", -1, &del.s, nullptr) !=
      SQLITE_OK) {
    return Error("prepare delete");
  }
  sqlite3_bind_int64(del.s, 1, seq);
  if (sqlite3_step(del.s) != SQLITE_DONE) return Error("ack delete");
  records_ -= n;
  bytes_ -= std::min(bytes_, freed);
  return absl::OkStatus();
}

std::optional<std::string> Spool::checkpoint() const {
  absl::MutexLock lock(&mu_);
  return checkpoint_;
}

uint64_t Spool::bytes() const {
  absl::MutexLock lock(&mu_);
  return bytes_;
}

int64_t Spool::records() const {
  absl::MutexLock lock(&mu_);
  return records_;
}

}  // namespace mtrk::agent::spool
