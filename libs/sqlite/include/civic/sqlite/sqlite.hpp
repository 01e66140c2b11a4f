#pragma once

// civic::sqlite — thin RAII layer over the SQLite C API; the only place the project touches
// SQLite directly.
//
// Threading: a Database and the Statements prepared from it are NOT thread-safe (connections
// are opened with SQLITE_OPEN_NOMUTEX). Use one Database per thread, or guard it with a mutex.
//
// Errors: every SQLite failure throws civic::sqlite::Error. Error messages contain the SQLite
// error text and the SQL text (or other context) but never the values of bound parameters,
// which may hold personal data.
//
// Lifetimes: a Statement must not outlive the Database it was prepared from, and a Transaction
// must not outlive its Database.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace civic::sqlite {

// Thrown on any SQLite failure. code() is the primary result code (e.g. SQLITE_CONSTRAINT),
// extended_code() the extended one (e.g. SQLITE_CONSTRAINT_UNIQUE).
class Error : public std::runtime_error {
 public:
  // `message` should include sqlite3_errmsg and the SQL/context, never bound values.
  // `code` is reduced to its primary part (code & 0xff).
  Error(int code, int extended_code, const std::string& message);

  int code() const { return code_; }
  int extended_code() const { return extended_code_; }

  bool IsConstraint() const;  // SQLITE_CONSTRAINT
  bool IsBusy() const;        // SQLITE_BUSY or SQLITE_LOCKED
  bool IsFull() const;        // SQLITE_FULL
  bool IsIo() const;          // SQLITE_IOERR

 private:
  int code_;
  int extended_code_;
};

enum class Synchronous { kOff, kNormal, kFull };

struct Options {
  bool read_only = false;  // SQLITE_OPEN_READONLY; `create` and `wal` are then ignored.
  // With read_only: opens the file as `immutable=1` (no locks, no -shm, no -wal: SQLite reads
  // the database file alone and assumes nothing changes it). Only safe when the file holds
  // every committed transaction (no -wal with frames in it) and nothing writes it while this
  // connection reads. Lets a WAL database be read where no -shm can be created (a full disk).
  bool immutable = false;
  bool create = true;  // SQLITE_OPEN_CREATE: create the file if it does not exist.
  bool wal = true;     // PRAGMA journal_mode=WAL; ignored for in-memory databases.
  Synchronous synchronous = Synchronous::kFull;
  int busy_timeout_ms = 5000;  // sqlite3_busy_timeout; <= 0 disables the busy handler.
  bool foreign_keys = true;    // PRAGMA foreign_keys
};

class Statement;

// An open connection. RAII (closed in the destructor), move-only. A moved-from Database may
// only be destroyed or assigned to; any other use throws Error (SQLITE_MISUSE).
class Database {
 public:
  // Opens (and, if options.create, creates) the database at `path`; ":memory:" gives a private
  // in-memory database. Applies `options` and, for file databases with options.wal, verifies
  // that WAL mode actually took effect. Throws Error on failure; the message names the path.
  static Database Open(const std::string& path, const Options& options = {});

  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // Runs every statement in `sql` (one or many, separated by ';'), discarding result rows.
  // Stops at and throws Error for the first failing statement; statements before it have run
  // (wrap in a Transaction for all-or-nothing).
  void Exec(std::string_view sql);

  // Compiles exactly one statement. Throws Error on a syntax error, on empty SQL and when `sql`
  // holds more than one statement (use Exec for scripts).
  Statement Prepare(std::string_view sql) const;

  int64_t LastInsertRowid() const;
  int Changes() const;         // rows changed by the most recent INSERT/UPDATE/DELETE
  bool InTransaction() const;  // an explicit transaction is open (!sqlite3_get_autocommit)

  sqlite3* handle() const { return db_; }  // escape hatch to the C API; still owned by us
  const std::string& path() const { return path_; }

 private:
  Database(sqlite3* db, std::string path);
  sqlite3* Require() const;  // db_, or throws if moved-from

  sqlite3* db_ = nullptr;
  std::string path_;
};

// A prepared statement. RAII over sqlite3_stmt, move-only. Bind indexes are 1-based, column
// indexes 0-based, as in the C API. Bind* throw Error for an out-of-range index or unknown name.
// Column accessors throw Error unless a row is ready (the last Step() returned true) and the
// column index is within it.
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Statement& Bind(int index, int64_t v);
  Statement& Bind(int index, int v);
  Statement& Bind(int index, double v);
  Statement& Bind(int index, std::string_view text);  // UTF-8; copied (SQLITE_TRANSIENT)
  Statement& Bind(int index, const char* text);       // as string_view; nullptr binds NULL
  Statement& BindBlob(int index, const void* data, size_t size);  // copied; size 0 = empty blob
  Statement& BindNull(int index);
  template <class T>
  Statement& Bind(int index, const std::optional<T>& v) {  // NULL when empty
    if (!v.has_value()) {
      return BindNull(index);
    }
    return Bind(index, *v);
  }

  // Named parameters: `name` includes its prefix as written in the SQL (":id", "@id", "$id");
  // a bare "id" is looked up as ":id". Accepts every value type the index overloads accept.
  template <class T>
  Statement& Bind(const char* name, T&& value) {
    return Bind(ParameterIndex(name), std::forward<T>(value));
  }
  Statement& BindBlob(const char* name, const void* data, size_t size) {
    return BindBlob(ParameterIndex(name), data, size);
  }
  Statement& BindNull(const char* name) { return BindNull(ParameterIndex(name)); }

  // Advances: true when a row is ready, false when the statement has finished. Throws Error
  // (including constraint violations); the statement is then reset (bindings kept).
  bool Step();
  // Steps until done, discarding any rows; for INSERT/UPDATE/DELETE/DDL.
  void Run();
  // Resets and clears all bindings (to NULL) so the statement can be reused.
  void Reset();

  int ColumnCount() const;  // columns in the result set (0 for non-queries)
  bool IsNull(int col) const;
  int64_t ColumnInt64(int col) const;
  int ColumnInt(int col) const;  // truncates like sqlite3_column_int
  double ColumnDouble(int col) const;
  std::string ColumnText(int col) const;  // "" for NULL
  std::optional<std::string> ColumnOptionalText(int col) const;
  std::optional<int64_t> ColumnOptionalInt64(int col) const;
  std::string ColumnBlob(int col) const;       // raw bytes; "" for NULL or an empty blob
  std::string_view ColumnName(int col) const;  // valid while the statement lives

  sqlite3_stmt* handle() const { return stmt_; }  // escape hatch to the C API

 private:
  friend class Database;
  explicit Statement(sqlite3_stmt* stmt);
  sqlite3_stmt* Require() const;               // stmt_, or throws if moved-from
  sqlite3_stmt* RequireColumn(int col) const;  // also checks a row is ready and col in range
  int ParameterIndex(const char* name) const;
  void CheckBind(int rc, int index);

  sqlite3_stmt* stmt_ = nullptr;
};

enum class TransactionMode { kDeferred, kImmediate, kExclusive };

// RAII transaction: BEGIN in the constructor; Commit() makes it durable, otherwise the
// destructor rolls back (and never throws). Not copyable or movable. Transactions do not nest:
// the constructor throws Error if one is already open on `db`.
class Transaction {
 public:
  explicit Transaction(Database& db, TransactionMode mode = TransactionMode::kImmediate);
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  // COMMIT. Throws Error on failure (e.g. SQLITE_BUSY, a deferred foreign key violation); the
  // transaction then stays open and the destructor rolls it back. Throws Error when called
  // after Commit()/Rollback().
  void Commit();
  // ROLLBACK now. A no-op if the transaction already ended (including when SQLite rolled it
  // back automatically after an error). Throws Error if ROLLBACK itself fails.
  void Rollback();

 private:
  Database& db_;
  bool active_ = false;
};

struct Migration {
  int version;       // 1..n, consecutive
  std::string name;  // for error messages
  std::string sql;   // one or more statements; must not contain BEGIN/COMMIT/ROLLBACK
  // Runs after `sql`, in the same transaction (for a change SQL alone cannot say).
  std::function<void(Database&)> code = nullptr;
  // Runs with foreign key enforcement off (PRAGMA foreign_keys, which cannot change inside a
  // transaction), as SQLite's recipe for rebuilding a table others reference asks: a DROP TABLE
  // would otherwise delete (or cascade to) the rows that reference it. PRAGMA foreign_key_check
  // must find nothing before the migration commits; enforcement is restored afterwards.
  bool foreign_keys_off = false;
};

// Rebuilds `table` so that its `id INTEGER PRIMARY KEY` becomes AUTOINCREMENT (an id is never
// given again, even after the newest row is deleted), keeping its rows, columns, constraints,
// indexes and triggers. For a Migration with foreign_keys_off. Does nothing when the table
// already has AUTOINCREMENT. Throws Error when the table has no such id column.
void RebuildWithAutoincrementId(Database& db, const std::string& table);

// Applies, in order, every migration whose version is greater than the database's current
// schema version (PRAGMA user_version). Each migration runs in its own IMMEDIATE transaction
// together with the user_version bump: if any statement of it fails, that migration is rolled
// back entirely (the database is as it was before it) and Error is thrown naming its version
// and name; migrations applied before it stay applied.
// Throws std::invalid_argument unless the versions are exactly 1, 2, ..., n; Error if the
// database's version is newer than the newest migration ("database is newer than this binary")
// or if a transaction is already open on `db`. Safe against a concurrent Migrate() on another
// connection: the version is re-read inside each write transaction.
// A migration with foreign_keys_off runs with enforcement off (see Migration). Returns the number
// of migrations applied.
int Migrate(Database& db, const std::vector<Migration>& migrations);

// PRAGMA user_version of the main database.
int SchemaVersion(const Database& db);

// An online, consistent copy of the database at `db_path` into the new file `dest_path`, made
// while the service that owns it runs (VACUUM INTO on a read-only connection: one read
// transaction, so the copy holds every transaction committed before it began and none after).
// The copy is written beside `dest_path` first, checked (PRAGMA quick_check), synced and then
// renamed, so `dest_path` is whole or absent. Returns the copy's size in bytes. Throws Error,
// or std::runtime_error when `dest_path` exists already.
uint64_t Backup(const std::string& db_path, const std::string& dest_path);

// Migration 1 of both services: the `service_meta` key/value table (with the database's
// `created_at`), which the services use for their own small records.
Migration ServiceMetaMigration();

}  // namespace civic::sqlite
