// lunal::db — RAII over SQLite 3 (https://sqlite.org/c3ref/intro.html): a connection, prepared
// statements with typed binds and columns, transactions, and a schema-version migration helper.
// Generic: the CDS keeps its state here, and the control plane's embedded store will too.
//
//   LUNAL_ASSIGN_OR_RETURN(db::Database d, db::Database::Open("state.db"));
//   LUNAL_RETURN_IF_ERROR(db::Migrate(d, {{1, "CREATE TABLE t (k TEXT PRIMARY KEY, v BLOB)"}}));
//   LUNAL_ASSIGN_OR_RETURN(db::Statement put, d.Prepare("INSERT INTO t VALUES (?1, ?2)"));
//   LUNAL_RETURN_IF_ERROR(put.Bind(1, "key"));
//   LUNAL_RETURN_IF_ERROR(put.Bind(2, bytes));
//   LUNAL_RETURN_IF_ERROR(put.Run());
//
// Open() sets: journal_mode=WAL (readers never block the writer; https://sqlite.org/wal.html),
// synchronous=FULL, foreign_keys=ON (off by default in SQLite: https://sqlite.org/foreignkeys.html
// §2), a busy timeout (default 5 s) so a second connection waits for a lock instead of failing at
// once, and secure_delete=ON so deleted rows (ciphertext, but still) are overwritten. The file is
// created with mode 0600 when it does not exist.
//
// Errors (stable reasons; messages carry SQLite's text and the SQL):
//   db.open_failed (kUnavailable)       the file cannot be opened or is not a database
//   db.prepare_failed (kInternal)       SQL that does not compile (our bug)
//   db.bind_failed (kInternal)          parameter index out of range
//   db.busy (kUnavailable)              the database stayed locked past the busy timeout
//   db.constraint (kConflict)           UNIQUE / PRIMARY KEY / FOREIGN KEY / CHECK violated
//   db.step_failed (kInternal)          any other step failure (I/O, corruption, full disk)
//   db.column_type (kInternal)          a column read as the wrong type (our bug)
//   db.no_row (kNotFound)               Statement::Single found no row
//   db.migration.too_new (kUnsupported) the file's schema version is newer than this binary's
//   db.migration.bad_list (kInvalidArgument) versions not strictly increasing from 1
//
// Thread-safety: a Database is one SQLite connection opened in serialized mode
// (SQLITE_OPEN_FULLMUTEX), so calls on it from several threads are safe, but a Statement and a
// Transaction belong to one thread at a time; callers that need multi-statement atomicity across
// threads hold their own mutex around the Transaction (the CDS store does).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/common/bytes.h"
#include "lunal/common/result.h"
#include "lunal/common/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace lunal::db {

struct OpenOptions {
  std::chrono::milliseconds busy_timeout{5'000};
  bool create = true;  // create the file (mode 0600) when missing; else db.open_failed
};

class Statement;

class Database {
 public:
  // A file path, or ":memory:" for a private in-memory database (tests).
  static Result<Database> Open(const std::filesystem::path& path, const OpenOptions& options = {});

  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // Runs one or more statements that take no parameters and return no rows we read (DDL).
  Status Exec(std::string_view sql);
  Result<Statement> Prepare(std::string_view sql);
  // The rowid of the last INSERT on this connection.
  std::int64_t LastInsertRowId() const;
  // Rows changed by the last INSERT/UPDATE/DELETE on this connection.
  std::int64_t Changes() const;
  // PRAGMA user_version (0 for a new file).
  Result<std::int64_t> UserVersion();

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
  friend class Statement;
  friend class Transaction;
};

// A prepared statement. Parameters are 1-based (?1, ?2, …); columns 0-based. After Step()
// returned true, the Column* accessors read the current row.
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Status Bind(int index, std::int64_t value);
  Status Bind(int index, std::string_view text);  // TEXT
  Status Bind(int index, ByteSpan blob);          // BLOB (an empty span binds a zero-length blob)
  Status BindNull(int index);
  // Avoid the implicit conversions of literals picking the wrong overload.
  Status Bind(int index, const char* text) { return Bind(index, std::string_view(text)); }
  Status Bind(int index, int value) { return Bind(index, static_cast<std::int64_t>(value)); }
  Status Bind(int index, const Bytes& blob) { return Bind(index, ByteSpan(blob)); }
  Status Bind(int index, const std::string& text) { return Bind(index, std::string_view(text)); }
  // Binds ?1, ?2, … to `values` in order; the first failure stops it and is returned.
  template <class... Values>
  Status BindAll(const Values&... values) {
    int index = 0;
    Status status;
    ((status = status.ok() ? Bind(++index, values) : status), ...);
    return status;
  }

  // Advances: true with a row ready, false when done.
  Result<bool> Step();
  // Steps to completion, expecting no rows (INSERT/UPDATE/DELETE); then resets for reuse.
  Status Run();
  // Resets to run again; bindings are kept until rebound or ClearBindings().
  void Reset();
  void ClearBindings();

  bool ColumnIsNull(int column) const;
  Result<std::int64_t> ColumnInt(int column) const;
  Result<std::string> ColumnText(int column) const;
  Result<Bytes> ColumnBlob(int column) const;

 private:
  friend class Database;
  Statement(sqlite3* db, sqlite3_stmt* stmt, std::string sql) : db_(db), stmt_(stmt), sql_(sql) {}
  Status BindResult(int rc, int index);
  Status ColumnType(int column, int want, std::string_view name) const;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  std::string sql_;
};

// BEGIN IMMEDIATE on construction (takes the write lock at once, so two writers never deadlock
// upgrading read locks: https://sqlite.org/lang_transaction.html); ROLLBACK on destruction
// unless Commit() succeeded.
class Transaction {
 public:
  static Result<Transaction> Begin(Database& db);
  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  Status Commit();

 private:
  explicit Transaction(Database* db) : db_(db) {}
  Database* db_ = nullptr;
};

// One schema step: run `sql` to go from version-1 to version.
struct Migration {
  std::int64_t version = 0;
  std::string sql = {};
};

// Applies, each in its own transaction together with the PRAGMA user_version update, every
// migration whose version is above the file's. Versions must be 1, 2, 3, … in order. A file
// whose version is above the last migration is refused (db.migration.too_new): an older binary
// must not write a newer schema.
Status Migrate(Database& db, const std::vector<Migration>& migrations);

}  // namespace lunal::db
