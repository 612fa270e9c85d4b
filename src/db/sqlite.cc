#include "lunal/db/sqlite.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>

namespace lunal::db {
namespace {

std::string ErrorText(sqlite3* db) { return db ? sqlite3_errmsg(db) : "out of memory"; }

// The Status for a failed step, by SQLite's primary result code
// (https://sqlite.org/rescode.html).
Status StepFailure(sqlite3* db, int rc, std::string_view sql) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Unavailable("db.busy", "database locked: {} ({})", ErrorText(db), sql);
    case SQLITE_CONSTRAINT:
      return Conflict("db.constraint", "{} ({})", ErrorText(db), sql);
    default:
      return Internal("db.step_failed", "{} ({})", ErrorText(db), sql);
  }
}

// Creates the file 0600 before SQLite does, so the database is never readable by others even for
// an instant (SQLite creates with 0644 less the umask). The -wal and -shm files inherit the
// main file's permissions (https://sqlite.org/tempfiles.html).
Status CreatePrivate(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Unavailable("db.open_failed", "{}: cannot create", path.string());
  ::close(fd);
  return Status::Ok();
}

}  // namespace

Result<Database> Database::Open(const std::filesystem::path& path, const OpenOptions& options) {
  const bool memory = path == ":memory:";
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX;
  if (options.create && !memory) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) LUNAL_RETURN_IF_ERROR(CreatePrivate(path));
  }
  if (memory) flags |= SQLITE_OPEN_CREATE | SQLITE_OPEN_MEMORY;
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Database db(raw);
  if (rc != SQLITE_OK) {
    return Unavailable("db.open_failed", "{}: {}", path.string(), ErrorText(raw));
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, static_cast<int>(options.busy_timeout.count()));
  // journal_mode returns a row; Exec ignores it. On ":memory:" it stays "memory".
  if (Status s = db.Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                         "PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;");
      !s.ok()) {
    return Unavailable("db.open_failed", "{}: {}", path.string(), s.message());
  }
  return db;
}

Database::Database(Database&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    if (db_) sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}

Database::~Database() {
  if (db_) sqlite3_close_v2(db_);
}

Status Database::Exec(std::string_view sql) {
  const std::string text(sql);
  char* error = nullptr;
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    std::string message = error ? error : ErrorText(db_);
    sqlite3_free(error);
    Status failure = StepFailure(db_, rc, text);
    return Status(failure.code(), failure.reason(), fmt::format("{} ({})", message, text));
  }
  return Status::Ok();
}

Result<Statement> Database::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK || stmt == nullptr) {
    sqlite3_finalize(stmt);
    return Internal("db.prepare_failed", "{} ({})", ErrorText(db_), sql);
  }
  return Statement(db_, stmt, std::string(sql));
}

std::int64_t Database::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }
std::int64_t Database::Changes() const { return sqlite3_changes64(db_); }

Result<std::int64_t> Database::UserVersion() {
  LUNAL_ASSIGN_OR_RETURN(Statement st, Prepare("PRAGMA user_version"));
  LUNAL_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return Internal("db.step_failed", "PRAGMA user_version returned no row");
  return st.ColumnInt(0);
}

// ---- Statement ----

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)), sql_(std::move(other.sql_)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = std::exchange(other.stmt_, nullptr);
    sql_ = std::move(other.sql_);
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Status Statement::BindResult(int rc, int index) {
  if (rc == SQLITE_OK) return Status::Ok();
  return Internal("db.bind_failed", "parameter {}: {} ({})", index, ErrorText(db_), sql_);
}

Status Statement::Bind(int index, std::int64_t value) {
  return BindResult(sqlite3_bind_int64(stmt_, index, value), index);
}

Status Statement::Bind(int index, std::string_view text) {
  return BindResult(
      sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
      index);
}

Status Statement::Bind(int index, ByteSpan blob) {
  // A null data pointer would bind NULL, not an empty blob.
  if (blob.empty()) return BindResult(sqlite3_bind_zeroblob(stmt_, index, 0), index);
  return BindResult(sqlite3_bind_blob64(stmt_, index, blob.data(), blob.size(), SQLITE_TRANSIENT),
                    index);
}

Status Statement::BindNull(int index) { return BindResult(sqlite3_bind_null(stmt_, index), index); }

Result<bool> Statement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status failure = StepFailure(db_, rc, sql_);
  sqlite3_reset(stmt_);
  return failure;
}

Status Statement::Run() {
  Result<bool> row = Step();
  while (row.ok() && *row) row = Step();
  sqlite3_reset(stmt_);
  return row.status();
}

void Statement::Reset() { sqlite3_reset(stmt_); }
void Statement::ClearBindings() { sqlite3_clear_bindings(stmt_); }

bool Statement::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

Status Statement::ColumnType(int column, int want, std::string_view name) const {
  if (column < 0 || column >= sqlite3_column_count(stmt_)) {
    return Internal("db.column_type", "column {} out of range ({})", column, sql_);
  }
  const int type = sqlite3_column_type(stmt_, column);
  if (type != want && !(want == SQLITE_BLOB && type == SQLITE_NULL)) {
    return Internal("db.column_type", "column {} is not {} ({})", column, name, sql_);
  }
  return Status::Ok();
}

Result<std::int64_t> Statement::ColumnInt(int column) const {
  LUNAL_RETURN_IF_ERROR(ColumnType(column, SQLITE_INTEGER, "an integer"));
  return static_cast<std::int64_t>(sqlite3_column_int64(stmt_, column));
}

Result<std::string> Statement::ColumnText(int column) const {
  LUNAL_RETURN_IF_ERROR(ColumnType(column, SQLITE_TEXT, "text"));
  const auto* text = sqlite3_column_text(stmt_, column);
  const int size = sqlite3_column_bytes(stmt_, column);
  return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size));
}

Result<Bytes> Statement::ColumnBlob(int column) const {
  LUNAL_RETURN_IF_ERROR(ColumnType(column, SQLITE_BLOB, "a blob"));
  const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, column));
  const int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr || size <= 0) return Bytes();
  return Bytes(data, data + size);
}

// ---- Transaction ----

Result<Transaction> Transaction::Begin(Database& db) {
  LUNAL_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  return Transaction(&db);
}

Transaction::~Transaction() {
  if (db_) db_->Exec("ROLLBACK").IgnoreError();  // nothing to report from a destructor
}

Status Transaction::Commit() {
  if (db_ == nullptr) return Internal("db.step_failed", "transaction already finished");
  Status s = db_->Exec("COMMIT");
  if (s.ok()) db_ = nullptr;  // on failure the destructor rolls back
  return s;
}

// ---- Migrations ----

Status Migrate(Database& db, const std::vector<Migration>& migrations) {
  for (std::size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<std::int64_t>(i) + 1) {
      return InvalidArgument("db.migration.bad_list", "migration {} has version {}, want {}", i,
                             migrations[i].version, i + 1);
    }
  }
  LUNAL_ASSIGN_OR_RETURN(Transaction check, Transaction::Begin(db));
  LUNAL_ASSIGN_OR_RETURN(std::int64_t current, db.UserVersion());
  LUNAL_RETURN_IF_ERROR(check.Commit());
  const auto latest = static_cast<std::int64_t>(migrations.size());
  if (current > latest) {
    return Unsupported("db.migration.too_new",
                       "the database has schema version {}; this binary knows up to {}", current,
                       latest);
  }
  for (const Migration& m : migrations) {
    if (m.version <= current) continue;
    LUNAL_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db));
    // Re-read under the write lock: another process may have migrated meanwhile.
    LUNAL_ASSIGN_OR_RETURN(std::int64_t now, db.UserVersion());
    if (now >= m.version) continue;
    LUNAL_RETURN_IF_ERROR(db.Exec(m.sql).WithContext(fmt::format("migration {}", m.version)));
    LUNAL_RETURN_IF_ERROR(db.Exec(fmt::format("PRAGMA user_version = {}", m.version)));
    LUNAL_RETURN_IF_ERROR(tx.Commit());
  }
  return Status::Ok();
}

}  // namespace lunal::db
