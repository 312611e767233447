#include "collector/store/pg/migrator.h"

#include <pqxx/connection>
#include <pqxx/transaction>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/pg_environment.h"
#include "tests/support/status_matchers.h"

namespace mtrk::collector::store {
namespace {

using ::mtrk::test::IsOkAndHolds;
using ::mtrk::test::StatusIs;

int CountRows(const std::string& conninfo, const std::string& sql) {
  pqxx::connection conn(conninfo);
  pqxx::read_transaction txn(conn);
  return txn.exec1(sql)[0].as<int>();
}

TEST(MigratorTest, ReadsTheRepositoryMigrations) {
  ASSERT_OK_AND_ASSIGN(const Migrator migrator, Migrator::FromDirectory("sql/migrations"));
  EXPECT_GE(migrator.latest_version(), 1);
  EXPECT_EQ(migrator.migrations().front().name, "0001_init.sql");
}

TEST(MigratorTest, MissingDirectoryOrDuplicateVersionsAreRejected) {
  EXPECT_THAT(Migrator::FromDirectory("/nonexistent/mtrk"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Migrator::FromMigrations({{.version = 1, .name = "0001_a.sql", .sql = ""},
                                        {.version = 1, .name = "0001_b.sql", .sql = ""}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(MigratorTest, ApplyingTwiceIsIdempotent) {
  ASSERT_OK_AND_ASSIGN(const test::PgDatabase db, test::PgEnvironment::Get().NewEmptyDatabase());
  ASSERT_OK_AND_ASSIGN(const Migrator migrator, Migrator::FromDirectory("sql/migrations"));
  EXPECT_THAT(migrator.Apply(db.conninfo()), IsOkAndHolds(migrator.latest_version()));
  EXPECT_THAT(migrator.Apply(db.conninfo()), IsOkAndHolds(migrator.latest_version()));
  EXPECT_EQ(CountRows(db.conninfo(), "SELECT count(*) FROM schema_migrations"),
            static_cast<int>(migrator.migrations().size()));
  EXPECT_EQ(CountRows(db.conninfo(), "SELECT count(*) FROM hop_events"), 0);
}

TEST(MigratorTest, ConcurrentStartsApplyOnce) {
  ASSERT_OK_AND_ASSIGN(const test::PgDatabase db, test::PgEnvironment::Get().NewEmptyDatabase());
  ASSERT_OK_AND_ASSIGN(const Migrator migrator, Migrator::FromDirectory("sql/migrations"));
  absl::StatusOr<int> results[3];
  {
    std::vector<std::jthread> collectors;
    for (absl::StatusOr<int>& result : results) {
      collectors.emplace_back([&] { result = migrator.Apply(db.conninfo()); });
    }
  }
  for (const absl::StatusOr<int>& result : results) {
    EXPECT_THAT(result, IsOkAndHolds(migrator.latest_version()));
  }
  EXPECT_EQ(CountRows(db.conninfo(), "SELECT count(*) FROM schema_migrations"),
            static_cast<int>(migrator.migrations().size()));
}

TEST(MigratorTest, TestTemplateIsAtTheSameVersion) {
  // PgEnvironment migrates its template itself; the collector must find nothing left to do.
  ASSERT_OK_AND_ASSIGN(const test::PgDatabase db, test::PgEnvironment::Get().NewDatabase());
  ASSERT_OK_AND_ASSIGN(const Migrator migrator, Migrator::FromDirectory("sql/migrations"));
  EXPECT_THAT(migrator.Apply(db.conninfo()), IsOkAndHolds(migrator.latest_version()));
}

TEST(MigratorTest, OnlyMissingMigrationsRunAndInOrder) {
  ASSERT_OK_AND_ASSIGN(const test::PgDatabase db, test::PgEnvironment::Get().NewEmptyDatabase());
  ASSERT_OK_AND_ASSIGN(
      const Migrator first,
      Migrator::FromMigrations(
          {{.version = 1, .name = "0001_t.sql", .sql = "CREATE TABLE t (x int)"}}));
  EXPECT_THAT(first.Apply(db.conninfo()), IsOkAndHolds(1));
  // Out of order on purpose: 3 depends on 2.
  ASSERT_OK_AND_ASSIGN(
      const Migrator both,
      Migrator::FromMigrations(
          {{.version = 3, .name = "0003_u.sql", .sql = "INSERT INTO u VALUES (1)"},
           {.version = 1, .name = "0001_t.sql", .sql = "CREATE TABLE t (x int)"},
           {.version = 2, .name = "0002_u.sql", .sql = "CREATE TABLE u (y int)"}}));
  EXPECT_THAT(both.Apply(db.conninfo()), IsOkAndHolds(3));
  EXPECT_EQ(CountRows(db.conninfo(), "SELECT count(*) FROM u"), 1);
}

TEST(MigratorTest, FailedMigrationLeavesThePreviousVersion) {
  ASSERT_OK_AND_ASSIGN(const test::PgDatabase db, test::PgEnvironment::Get().NewEmptyDatabase());
  ASSERT_OK_AND_ASSIGN(const Migrator migrator,
                       Migrator::FromMigrations(
                           {{.version = 1, .name = "0001_t.sql", .sql = "CREATE TABLE t (x int)"},
                            {.version = 2,
                             .name = "0002_bad.sql",
                             .sql = "CREATE TABLE half (x int); SELECT no_such_column FROM t"}}));
  const absl::StatusOr<int> applied = migrator.Apply(db.conninfo());
  EXPECT_THAT(applied, StatusIs(absl::StatusCode::kInternal));
  EXPECT_THAT(std::string(applied.status().message()), ::testing::HasSubstr("0002_bad.sql"));
  EXPECT_EQ(CountRows(db.conninfo(), "SELECT max(version) FROM schema_migrations"), 1);
  EXPECT_EQ(CountRows(db.conninfo(), "SELECT count(*) FROM pg_tables WHERE tablename = 'half'"), 0);
}

TEST(MigratorTest, NewerDatabaseIsRefused) {
  ASSERT_OK_AND_ASSIGN(const test::PgDatabase db, test::PgEnvironment::Get().NewDatabase());
  ASSERT_OK_AND_ASSIGN(
      const Migrator migrator,
      Migrator::FromMigrations({{.version = 1, .name = "0001_x.sql", .sql = ""},
                                {.version = 999, .name = "0999_x.sql", .sql = ""}}));
  ASSERT_THAT(migrator.Apply(db.conninfo()), IsOkAndHolds(999));
  ASSERT_OK_AND_ASSIGN(const Migrator older, Migrator::FromDirectory("sql/migrations"));
  EXPECT_THAT(older.Apply(db.conninfo()), StatusIs(absl::StatusCode::kFailedPrecondition));
}

// A database that stored hops before 0003/0004/0005 (the ENVID and recipient indexes) gets them
// indexed, and its identifier columns compare as bytes.
TEST(MigratorTest, EnvidIndexIsFilledFromHopsStoredBeforeIt) {
  ASSERT_OK_AND_ASSIGN(const test::PgDatabase db, test::PgEnvironment::Get().NewEmptyDatabase());
  ASSERT_OK_AND_ASSIGN(const Migrator all, Migrator::FromDirectory("sql/migrations"));
  std::vector<Migration> before;
  for (const Migration& m : all.migrations()) {
    if (m.version < 3) before.push_back(m);
  }
  ASSERT_OK_AND_ASSIGN(const Migrator old, Migrator::FromMigrations(before));
  ASSERT_THAT(old.Apply(db.conninfo()), IsOkAndHolds(2));
  {
    pqxx::connection conn(db.conninfo());
    pqxx::work txn(conn);
    txn.exec("SELECT mtrk_ensure_hop_events_partition('2026-11-23')");
    for (const char* hop : {"('k1', 'e1', 'env-1')", "('k1', 'e2', 'env-1')", "('k2', 'e3', '')"}) {
      txn.exec(absl::StrCat(
          "INSERT INTO hop_events (message_key, event_id, envid, first_seen, reporting_host, "
          "mta_instance, queue_id, final_recipient, action, event_time) "
          "SELECT k, e, v, '2026-11-23 06:27:13+00', 'mta-a', 'postfix', 'Q', 'a@b.example', "
          "'delivered', now() FROM (VALUES ",
          hop, ") AS t (k, e, v)"));
    }
    // Rewritten: ORCPT list@b.example, final recipient m@b.example; both get an entry.
    txn.exec(
        "INSERT INTO hop_events (message_key, event_id, first_seen, reporting_host, mta_instance, "
        "queue_id, original_recipient, final_recipient, action, event_time) VALUES ('k3', 'e4', "
        "'2026-11-23 06:27:13+00', 'mta-a', 'postfix', 'Q3', 'list@b.example', 'm@b.example', "
        "'delivered', now())");
    txn.commit();
  }
  ASSERT_THAT(all.Apply(db.conninfo()), IsOkAndHolds(all.latest_version()));
  // One entry per message and address: k1's two hops share one.
  EXPECT_EQ(CountRows(db.conninfo(),
                      "SELECT count(*) FROM hop_recipients WHERE (recipient, message_key) IN "
                      "(('a@b.example', 'k1'), ('a@b.example', 'k2'), ('m@b.example', 'k3'), "
                      "('list@b.example', 'k3'))"),
            4);
  EXPECT_EQ(CountRows(db.conninfo(), "SELECT count(*) FROM hop_recipients"), 4);
  // The month existed (0004 made its hop_envids partition); 0005 added its recipients partition.
  EXPECT_EQ(CountRows(db.conninfo(),
                      "SELECT count(*) FROM pg_inherits WHERE inhparent = "
                      "'hop_recipients'::regclass"),
            1);
  // hop_events keeps no recipient index: hop_recipients serves the searches.
  EXPECT_EQ(CountRows(db.conninfo(),
                      "SELECT count(*) FROM pg_indexes WHERE tablename = 'hop_events' AND "
                      "indexdef LIKE '%recipient%'"),
            0);
  EXPECT_EQ(
      CountRows(db.conninfo(),
                "SELECT count(*) FROM hop_envids WHERE envid = 'env-1' AND message_key = 'k1'"),
      1);
  EXPECT_EQ(CountRows(db.conninfo(), "SELECT count(*) FROM hop_envids"), 1);
  EXPECT_EQ(CountRows(db.conninfo(),
                      "SELECT count(*) FROM pg_attribute WHERE attrelid = 'hop_events'::regclass "
                      "AND attcollation = 'pg_catalog.\"C\"'::regcollation"),
            7);
}

TEST(MigratorTest, UnreachableDatabaseIsUnavailable) {
  ASSERT_OK_AND_ASSIGN(const Migrator migrator, Migrator::FromDirectory("sql/migrations"));
  EXPECT_THAT(migrator.Apply("host=127.0.0.1 port=1 user=postgres dbname=x connect_timeout=2"),
              StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace mtrk::collector::store
