#include "agent/spool/spool.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

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

absl::Status Spool::RollBack(const char* what) {
  absl::Status s = Error(what);
  sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  return s;
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
  // A lock file of its own, not the database: closing any descriptor of the database would drop
  // the fcntl(2) locks SQLite holds on it in this process.
  const std::string lock_path = spool->options_.path + ".lock";
  spool->lock_fd_ = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (spool->lock_fd_ < 0) {
    return absl::UnavailableError(
        absl::StrCat("spool: ", lock_path, ": open: ", std::strerror(errno)));
  }
  if (flock(spool->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return absl::FailedPreconditionError(
          absl::StrCat("spool: ", spool->options_.path,
                       " is in use by another process (a running mtrk-agent?); stop it first"));
    }
    return absl::UnavailableError(
        absl::StrCat("spool: ", spool->options_.path, ": flock: ", std::strerror(errno)));
  }
  // WAL + FULL: every commit fsyncs the WAL, so a returned Append survives a crash or power loss.
  for (const char* sql :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
        "CREATE TABLE IF NOT EXISTS records (seq INTEGER PRIMARY KEY AUTOINCREMENT, data BLOB "
        "NOT NULL)",
        "CREATE TABLE IF NOT EXISTS state (k TEXT PRIMARY KEY, v BLOB NOT NULL)",
        "CREATE TABLE IF NOT EXISTS quarantine (id INTEGER PRIMARY KEY AUTOINCREMENT, "
        "record_seq INTEGER NOT NULL, events INTEGER NOT NULL, reason TEXT NOT NULL, "
        "quarantined_at INTEGER NOT NULL, data BLOB NOT NULL)"}) {
    if (absl::Status s = spool->Exec(sql); !s.ok()) return s;
  }
  // log_time (unix seconds of a record's oldest event; 0 unknown) came after the first release:
  // add it to spools written before.
  {
    Stmt cols;
    bool has_log_time = false;
    if (sqlite3_prepare_v2(spool->db_, "PRAGMA table_info(records)", -1, &cols.s, nullptr) !=
        SQLITE_OK) {
      return spool->Error("table_info");
    }
    while (sqlite3_step(cols.s) == SQLITE_ROW) {
      const unsigned char* name = sqlite3_column_text(cols.s, 1);
      if (name != nullptr && std::string(reinterpret_cast<const char*>(name)) == "log_time") {
        has_log_time = true;
      }
    }
    if (!has_log_time) {
      if (absl::Status s =
              spool->Exec("ALTER TABLE records ADD COLUMN log_time INTEGER NOT NULL DEFAULT 0");
          !s.ok()) {
        return s;
      }
    }
    if (absl::Status s = spool->Exec(
            "CREATE INDEX IF NOT EXISTS records_log_time ON records (log_time) WHERE log_time > 0");
        !s.ok()) {
      return s;
    }
  }
  {
    Stmt q;
    if (sqlite3_prepare_v2(spool->db_, "SELECT coalesce(sum(events), 0) FROM quarantine", -1, &q.s,
                           nullptr) != SQLITE_OK ||
        sqlite3_step(q.s) != SQLITE_ROW) {
      return spool->Error("count quarantine");
    }
    spool->quarantined_events_ = sqlite3_column_int64(q.s, 0);
  }
  if (absl::Status s = spool->ReadOldestLogTime(); !s.ok()) return s;
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
  if (lock_fd_ >= 0) close(lock_fd_);  // releases the flock
}

absl::Status Spool::ReadOldestLogTime() {
  Stmt st;
  if (sqlite3_prepare_v2(db_, "SELECT min(log_time) FROM records WHERE log_time > 0", -1, &st.s,
                         nullptr) != SQLITE_OK ||
      sqlite3_step(st.s) != SQLITE_ROW) {
    return Error("oldest log time");
  }
  if (sqlite3_column_type(st.s, 0) == SQLITE_NULL) {
    oldest_log_time_.reset();
  } else {
    oldest_log_time_ = absl::FromUnixSeconds(sqlite3_column_int64(st.s, 0));
  }
  return absl::OkStatus();
}

absl::Status Spool::Append(const std::vector<std::string>& records,
                           const std::optional<std::string>& checkpoint,
                           const std::vector<absl::Time>& log_times) {
  if (records.empty() && !checkpoint.has_value()) return absl::OkStatus();
  const auto unix_seconds = [&](size_t i) -> int64_t {
    if (i >= log_times.size() || log_times[i] == absl::InfinitePast() ||
        log_times[i] == absl::InfiniteFuture()) {
      return 0;
    }
    return std::max<int64_t>(absl::ToUnixSeconds(log_times[i]), 1);
  };
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  uint64_t added = 0;
  {
    Stmt ins;
    if (sqlite3_prepare_v2(db_, "INSERT INTO records (data, log_time) VALUES (?, ?)", -1, &ins.s,
                           nullptr) != SQLITE_OK) {
      return RollBack("prepare insert");
    }
    for (size_t i = 0; i < records.size(); ++i) {
      const std::string& r = records[i];
      sqlite3_bind_blob(ins.s, 1, r.data(), static_cast<int>(r.size()), SQLITE_STATIC);
      sqlite3_bind_int64(ins.s, 2, unix_seconds(i));
      if (sqlite3_step(ins.s) != SQLITE_DONE) return RollBack("insert record");
      sqlite3_reset(ins.s);
      added += r.size();
    }
  }
  if (checkpoint.has_value()) {
    Stmt up;
    if (sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO state (k, v) VALUES ('checkpoint', ?)", -1,
                           &up.s, nullptr) != SQLITE_OK) {
      return RollBack("prepare checkpoint");
    }
    sqlite3_bind_blob(up.s, 1, checkpoint->data(), static_cast<int>(checkpoint->size()),
                      SQLITE_STATIC);
    if (sqlite3_step(up.s) != SQLITE_DONE) return RollBack("write checkpoint");
  }
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return RollBack("commit");
  }
  bytes_ += added;
  records_ += static_cast<int64_t>(records.size());
  if (checkpoint.has_value()) checkpoint_ = checkpoint;
  for (size_t i = 0; i < records.size(); ++i) {
    if (const int64_t t = unix_seconds(i); t > 0) {
      const absl::Time time = absl::FromUnixSeconds(t);
      if (!oldest_log_time_.has_value() || time < *oldest_log_time_) oldest_log_time_ = time;
    }
  }
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
  return ReadOldestLogTime();
}

absl::Status Spool::Quarantine(int64_t seq, const Quarantined& q,
                               const std::optional<std::string>& rest) {
  absl::MutexLock lock(&mu_);
  Stmt size;
  if (sqlite3_prepare_v2(db_, "SELECT length(data) FROM records WHERE seq = ?", -1, &size.s,
                         nullptr) != SQLITE_OK) {
    return Error("prepare quarantine");
  }
  sqlite3_bind_int64(size.s, 1, seq);
  if (sqlite3_step(size.s) != SQLITE_ROW) {
    return absl::NotFoundError(absl::StrCat("spool: quarantine: no record ", seq));
  }
  const uint64_t old_bytes = static_cast<uint64_t>(sqlite3_column_int64(size.s, 0));
  if (absl::Status s = Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  {
    Stmt ins;
    if (sqlite3_prepare_v2(db_,
                           "INSERT INTO quarantine (record_seq, events, reason, quarantined_at, "
                           "data) VALUES (?, ?, ?, ?, ?)",
                           -1, &ins.s, nullptr) != SQLITE_OK) {
      return RollBack("prepare quarantine insert");
    }
    sqlite3_bind_int64(ins.s, 1, seq);
    sqlite3_bind_int64(ins.s, 2, q.events);
    sqlite3_bind_text(ins.s, 3, q.reason.data(), static_cast<int>(q.reason.size()), SQLITE_STATIC);
    sqlite3_bind_int64(ins.s, 4, absl::ToUnixSeconds(absl::Now()));
    sqlite3_bind_blob(ins.s, 5, q.data.data(), static_cast<int>(q.data.size()), SQLITE_STATIC);
    if (sqlite3_step(ins.s) != SQLITE_DONE) return RollBack("quarantine insert");
  }
  {
    Stmt up;
    const char* sql = rest.has_value() ? "UPDATE records SET data = ? WHERE seq = ?"
                                       : "DELETE FROM records WHERE seq = ?";
    if (sqlite3_prepare_v2(db_, sql, -1, &up.s, nullptr) != SQLITE_OK) {
      return RollBack("prepare quarantine update");
    }
    if (rest.has_value()) {
      sqlite3_bind_blob(up.s, 1, rest->data(), static_cast<int>(rest->size()), SQLITE_STATIC);
      sqlite3_bind_int64(up.s, 2, seq);
    } else {
      sqlite3_bind_int64(up.s, 1, seq);
    }
    if (sqlite3_step(up.s) != SQLITE_DONE) return RollBack("quarantine update");
  }
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return RollBack("quarantine commit");
  }
  bytes_ -= std::min(bytes_, old_bytes);
  if (rest.has_value()) {
    bytes_ += rest->size();
  } else {
    --records_;
  }
  quarantined_events_ += q.events;
  return ReadOldestLogTime();
}

absl::StatusOr<std::vector<Spool::Quarantined>> Spool::ListQuarantined() const {
  absl::MutexLock lock(&mu_);
  Stmt st;
  if (sqlite3_prepare_v2(db_, "SELECT record_seq, events, reason, data FROM quarantine ORDER BY id",
                         -1, &st.s, nullptr) != SQLITE_OK) {
    return Error("prepare list quarantine");
  }
  std::vector<Quarantined> out;
  for (int rc = sqlite3_step(st.s); rc != SQLITE_DONE; rc = sqlite3_step(st.s)) {
    if (rc != SQLITE_ROW) return Error("list quarantine");
    Quarantined q;
    q.record_seq = sqlite3_column_int64(st.s, 0);
    q.events = sqlite3_column_int64(st.s, 1);
    const unsigned char* reason = sqlite3_column_text(st.s, 2);
    if (reason != nullptr) q.reason = reinterpret_cast<const char*>(reason);
    q.data.assign(static_cast<const char*>(sqlite3_column_blob(st.s, 3)),
                  static_cast<size_t>(sqlite3_column_bytes(st.s, 3)));
    out.push_back(std::move(q));
  }
  return out;
}

absl::StatusOr<int64_t> Spool::RequeueQuarantined() {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  int64_t events = 0, batches = 0, bytes = 0;
  {
    Stmt sum;
    if (sqlite3_prepare_v2(db_,
                           "SELECT coalesce(sum(events), 0), count(*), "
                           "coalesce(sum(length(data)), 0) FROM quarantine",
                           -1, &sum.s, nullptr) != SQLITE_OK ||
        sqlite3_step(sum.s) != SQLITE_ROW) {
      return RollBack("count quarantine");
    }
    events = sqlite3_column_int64(sum.s, 0);
    batches = sqlite3_column_int64(sum.s, 1);
    bytes = sqlite3_column_int64(sum.s, 2);
  }
  if (sqlite3_exec(
          db_, "INSERT INTO records (data, log_time) SELECT data, 0 FROM quarantine ORDER BY id",
          nullptr, nullptr, nullptr) != SQLITE_OK) {
    return RollBack("requeue");
  }
  if (sqlite3_exec(db_, "DELETE FROM quarantine", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return RollBack("empty quarantine");
  }
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return RollBack("requeue commit");
  }
  records_ += batches;
  bytes_ += static_cast<uint64_t>(bytes);
  quarantined_events_ = 0;
  return events;
}

int64_t Spool::quarantined_events() const {
  absl::MutexLock lock(&mu_);
  return quarantined_events_;
}

std::optional<absl::Time> Spool::oldest_log_time() const {
  absl::MutexLock lock(&mu_);
  return oldest_log_time_;
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
