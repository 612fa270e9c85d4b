#include "lunal/db/sqlite.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <thread>

#include "lunal/testing/testing.h"

namespace lunal::db {
namespace {

using lunal::testing::TempDir;

TEST(Database, OpenSetsWalForeignKeysAndPrivateMode) {
  TempDir dir;
  auto db = Database::Open(dir / "a.db");
  ASSERT_TRUE(db.ok()) << db.error();
  auto st = db->Prepare("PRAGMA journal_mode");
  ASSERT_TRUE(st.ok());
  ASSERT_TRUE(*st->Step());
  EXPECT_EQ(*st->ColumnText(0), "wal");
  auto fk = db->Prepare("PRAGMA foreign_keys");
  ASSERT_TRUE(*fk->Step());
  EXPECT_EQ(*fk->ColumnInt(0), 1);
  struct stat info {};
  ASSERT_EQ(::stat((dir / "a.db").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
}

TEST(Database, OpenWithoutCreateRefusesMissingFile) {
  TempDir dir;
  auto db = Database::Open(dir / "missing.db", {.create = false});
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.error().reason(), "db.open_failed");
}

TEST(Database, OpenRefusesNonDatabase) {
  TempDir dir;
  lunal::testing::WriteFile(dir / "junk.db", std::string(4096, 'x'));
  auto db = Database::Open(dir / "junk.db");
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.error().reason(), "db.open_failed");
}

TEST(Statement, TypedBindAndColumnRoundTrip) {
  auto db = Database::Open(":memory:");
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(db->Exec("CREATE TABLE t (i INTEGER, s TEXT, b BLOB, n BLOB)").ok());
  auto put = db->Prepare("INSERT INTO t VALUES (?1, ?2, ?3, ?4)");
  ASSERT_TRUE(put.ok());
  const Bytes blob = {0, 1, 2, 0xff, 0};
  ASSERT_TRUE(put->Bind(1, std::int64_t{-1} << 40).ok());
  ASSERT_TRUE(put->Bind(2, std::string_view("h\0i", 3)).ok());
  ASSERT_TRUE(put->Bind(3, blob).ok());
  ASSERT_TRUE(put->BindNull(4).ok());
  ASSERT_TRUE(put->Run().ok());
  EXPECT_EQ(db->Changes(), 1);
  EXPECT_EQ(db->LastInsertRowId(), 1);

  auto get = db->Prepare("SELECT i, s, b, n FROM t");
  ASSERT_TRUE(*get->Step());
  EXPECT_EQ(*get->ColumnInt(0), std::int64_t{-1} << 40);
  EXPECT_EQ(*get->ColumnText(1), std::string("h\0i", 3));
  EXPECT_EQ(*get->ColumnBlob(2), blob);
  EXPECT_TRUE(get->ColumnIsNull(3));
  EXPECT_TRUE(get->ColumnBlob(3)->empty());
  // Reading a column as the wrong type is a bug and says so.
  EXPECT_EQ(get->ColumnInt(1).error().reason(), "db.column_type");
  EXPECT_EQ(get->ColumnText(0).error().reason(), "db.column_type");
  EXPECT_EQ(get->ColumnInt(9).error().reason(), "db.column_type");
  EXPECT_FALSE(*get->Step());
}

// BindAll numbers its values ?1, ?2, … in order, each through the overload its type selects, and
// stops at the first parameter the statement does not have.
TEST(Statement, BindAllBindsInOrderAndStopsAtTheFirstFailure) {
  auto db = Database::Open(":memory:");
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(db->Exec("CREATE TABLE t (i INTEGER, s TEXT, b BLOB, f INTEGER)").ok());
  auto put = db->Prepare("INSERT INTO t VALUES (?1, ?2, ?3, ?4)");
  ASSERT_TRUE(put.ok());
  const Bytes blob = {0, 7, 0};
  const std::string text = "two";
  ASSERT_TRUE(put->BindAll(std::int64_t{1} << 40, text, blob, 1).ok());
  ASSERT_TRUE(put->Run().ok());
  auto get = db->Prepare("SELECT i, s, b, f FROM t");
  ASSERT_TRUE(*get->Step());
  EXPECT_EQ(*get->ColumnInt(0), std::int64_t{1} << 40);
  EXPECT_EQ(*get->ColumnText(1), "two");  // TEXT, not a blob: the std::string overload
  EXPECT_EQ(*get->ColumnBlob(2), blob);
  EXPECT_EQ(*get->ColumnInt(3), 1);

  auto two = db->Prepare("SELECT ?1 + ?2");
  ASSERT_TRUE(two.ok());
  Status over = two->BindAll(1, 2, 3);  // there is no ?3
  EXPECT_EQ(over.reason(), "db.bind_failed");
  EXPECT_NE(over.message().find("parameter 3"), std::string::npos) << over;
  ASSERT_TRUE(*two->Step());
  EXPECT_EQ(*two->ColumnInt(0), 3);  // ?1 and ?2 were bound before it stopped
}

TEST(Statement, EmptyBlobIsNotNull) {
  auto db = Database::Open(":memory:");
  ASSERT_TRUE(db->Exec("CREATE TABLE t (b BLOB NOT NULL)").ok());
  auto put = db->Prepare("INSERT INTO t VALUES (?1)");
  ASSERT_TRUE(put->Bind(1, Bytes{}).ok());
  ASSERT_TRUE(put->Run().ok());
}

TEST(Statement, ErrorsHaveStableReasons) {
  auto db = Database::Open(":memory:");
  EXPECT_EQ(db->Prepare("SELEC nonsense").error().reason(), "db.prepare_failed");
  ASSERT_TRUE(db->Exec("CREATE TABLE p (id INTEGER PRIMARY KEY);"
                       "CREATE TABLE c (p INTEGER NOT NULL REFERENCES p(id))")
                  .ok());
  auto put = db->Prepare("INSERT INTO c VALUES (?1)");
  EXPECT_EQ(put->Bind(7, 1).reason(), "db.bind_failed");
  ASSERT_TRUE(put->Bind(1, 42).ok());
  // Foreign keys are enforced (SQLite leaves them off by default).
  Status s = put->Run();
  EXPECT_EQ(s.code(), Code::kConflict);
  EXPECT_EQ(s.reason(), "db.constraint");
}

TEST(Transaction, RollsBackUnlessCommitted) {
  auto db = Database::Open(":memory:");
  ASSERT_TRUE(db->Exec("CREATE TABLE t (x INTEGER)").ok());
  {
    auto tx = Transaction::Begin(*db);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (1)").ok());
  }
  {
    auto tx = Transaction::Begin(*db);
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (2)").ok());
    ASSERT_TRUE(tx->Commit().ok());
  }
  auto st = db->Prepare("SELECT group_concat(x) FROM t");
  ASSERT_TRUE(*st->Step());
  EXPECT_EQ(*st->ColumnText(0), "2");
}

TEST(Transaction, SecondWriterWaitsThenTimesOutAsBusy) {
  TempDir dir;
  auto a = Database::Open(dir / "w.db");
  auto b = Database::Open(dir / "w.db", {.busy_timeout = std::chrono::milliseconds(50)});
  ASSERT_TRUE(a.ok() && b.ok());
  auto tx = Transaction::Begin(*a);
  ASSERT_TRUE(tx.ok());
  auto other = Transaction::Begin(*b);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().reason(), "db.busy");
  ASSERT_TRUE(tx->Commit().ok());
  EXPECT_TRUE(Transaction::Begin(*b).ok());
}

const std::vector<Migration> kSchema = {
    {1, "CREATE TABLE a (x INTEGER)"},
    {2, "ALTER TABLE a ADD COLUMN y TEXT"},
};

TEST(Migrate, AppliesInOrderOnceAndPersists) {
  TempDir dir;
  {
    auto db = Database::Open(dir / "m.db");
    ASSERT_TRUE(Migrate(*db, {kSchema[0]}).ok());
    EXPECT_EQ(*db->UserVersion(), 1);
  }
  auto db = Database::Open(dir / "m.db");
  ASSERT_TRUE(Migrate(*db, kSchema).ok());
  EXPECT_EQ(*db->UserVersion(), 2);
  ASSERT_TRUE(Migrate(*db, kSchema).ok());  // idempotent
  EXPECT_TRUE(db->Exec("INSERT INTO a (x, y) VALUES (1, 'y')").ok());
}

TEST(Migrate, FailedStepLeavesVersionAndSchemaUnchanged) {
  auto db = Database::Open(":memory:");
  std::vector<Migration> bad = {kSchema[0], {2, "CREATE TABLE b (z); SELEC broken"}};
  Status s = Migrate(*db, bad);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(*db->UserVersion(), 1);
  EXPECT_FALSE(db->Prepare("SELECT z FROM b").ok());  // rolled back with the failed step
}

TEST(Migrate, RefusesNewerFileAndBadLists) {
  auto db = Database::Open(":memory:");
  ASSERT_TRUE(Migrate(*db, kSchema).ok());
  Status s = Migrate(*db, {kSchema[0]});
  EXPECT_EQ(s.reason(), "db.migration.too_new");
  EXPECT_EQ(Migrate(*db, {{2, "SELECT 1"}}).reason(), "db.migration.bad_list");
}

}  // namespace
}  // namespace lunal::db
