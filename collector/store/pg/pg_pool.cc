#include "collector/store/pg/pg_pool.h"

#include <utility>

#include "absl/status/status.h"
#include "collector/store/pg/pg_error.h"

namespace mtrk::collector::store {

PgPool::Lease::Lease(Lease&& other) noexcept
    : pool_(other.pool_), conn_(std::move(other.conn_)), discard_(other.discard_) {
  other.pool_ = nullptr;
}

PgPool::Lease::~Lease() {
  if (pool_ != nullptr && conn_ != nullptr) pool_->Release(std::move(conn_), discard_);
}

PgPool::PgPool(std::string conninfo, Options options, Setup setup)
    : conninfo_(std::move(conninfo)), options_(options), setup_(std::move(setup)) {}

PgPool::~PgPool() = default;

absl::StatusOr<std::unique_ptr<pqxx::connection>> PgPool::Open() {
  try {
    auto conn = std::make_unique<pqxx::connection>(conninfo_);
    if (setup_) setup_(*conn);
    return conn;
  } catch (...) {
    absl::Status status = CurrentPgErrorToStatus("connect to postgresql");
    // A database we cannot reach or log in to is an outage to wait out, whatever libpqxx says.
    if (status.code() == absl::StatusCode::kInternal) {
      return absl::UnavailableError(status.message());
    }
    return status;
  }
}

absl::StatusOr<PgPool::Lease> PgPool::Acquire() {
  std::unique_ptr<pqxx::connection> conn;
  {
    absl::MutexLock lock(&mu_);
    auto can_proceed = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !idle_.empty() || open_ < options_.size;
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&can_proceed), options_.acquire_timeout)) {
      return absl::UnavailableError("postgresql pool: no connection free within timeout");
    }
    if (!idle_.empty()) {
      conn = std::move(idle_.back());
      idle_.pop_back();
      if (!conn->is_open()) {  // closed while idle: replace it below
        conn.reset();
      }
    } else {
      ++open_;
    }
  }
  if (conn == nullptr) {
    absl::StatusOr<std::unique_ptr<pqxx::connection>> opened = Open();
    if (!opened.ok()) {
      absl::MutexLock lock(&mu_);
      --open_;
      return opened.status();
    }
    conn = *std::move(opened);
  }
  return Lease(this, std::move(conn));
}

void PgPool::Release(std::unique_ptr<pqxx::connection> conn, bool discard) {
  const bool drop = discard || !conn->is_open();
  {
    absl::MutexLock lock(&mu_);
    if (drop) {
      --open_;
    } else {
      idle_.push_back(std::move(conn));
    }
  }
  conn.reset();  // if dropped: closes the session outside the lock (it may wait on the network)
}

}  // namespace mtrk::collector::store
