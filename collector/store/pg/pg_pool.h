// PgPool: a small pool of libpqxx connections for one database. A connection serves one lease at
// a time (libpqxx connections are not thread-safe); the pool itself is thread-safe. A lease whose
// connection broke is discarded instead of returned, so the next Acquire opens a fresh one: that
// is how the store reconnects after PostgreSQL restarts or kills a session.
#pragma once

#include <functional>
#include <memory>
#include <pqxx/connection>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace mtrk::collector::store {

class PgPool {
 public:
  struct Options {
    int size = 4;  // connections; each is a PostgreSQL backend process
    absl::Duration acquire_timeout = absl::Seconds(10);  // then Unavailable: the caller retries
  };
  // Runs on every new connection, e.g. to register prepared statements. May throw libpqxx
  // exceptions (they are converted by Acquire).
  using Setup = std::function<void(pqxx::connection&)>;

  // Exclusive use of one connection until destroyed. Movable, not copyable.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    pqxx::connection& operator*() const { return *conn_; }
    pqxx::connection* operator->() const { return conn_.get(); }
    // Close the connection instead of returning it: call after it broke or its state is unknown.
    void Discard() { discard_ = true; }

   private:
    friend class PgPool;
    Lease(PgPool* pool, std::unique_ptr<pqxx::connection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    PgPool* pool_;
    std::unique_ptr<pqxx::connection> conn_;
    bool discard_ = false;
  };

  PgPool(std::string conninfo, Options options, Setup setup);
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;
  ~PgPool();  // all leases must have been returned

  // An idle connection, or a new one while fewer than `size` are open. Unavailable when the
  // database cannot be reached or no connection frees up within acquire_timeout.
  absl::StatusOr<Lease> Acquire();

 private:
  void Release(std::unique_ptr<pqxx::connection> conn, bool discard);
  absl::StatusOr<std::unique_ptr<pqxx::connection>> Open();

  const std::string conninfo_;
  const Options options_;
  const Setup setup_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;  // idle + leased
};

}  // namespace mtrk::collector::store
