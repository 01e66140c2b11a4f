#include "civic/sqlite/sqlite.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <system_error>

namespace civic::sqlite {
namespace {

// SQLITE_TRANSIENT without the C-style cast of the macro: SQLite copies the bytes.
const sqlite3_destructor_type kTransient =
    reinterpret_cast<sqlite3_destructor_type>(static_cast<intptr_t>(-1));

// SQL text for error messages, in double quotes: whitespace-trimmed and bounded so that a long
// script does not flood logs. Never contains bound values (callers pass the SQL as written, not
// expanded).
std::string Quoted(std::string_view sql) {
  constexpr size_t kMaxChars = 300;
  const size_t first = sql.find_first_not_of(" \t\r\n");
  sql.remove_prefix(first == std::string_view::npos ? sql.size() : first);
  sql = sql.substr(0, sql.find_last_not_of(" \t\r\n") + 1);  // npos + 1 == 0 for ""
  const bool truncated = sql.size() > kMaxChars;
  std::string result;
  result.reserve(std::min(sql.size(), kMaxChars) + 5);
  result.push_back('"');
  result.append(sql.substr(0, kMaxChars));
  if (truncated) {
    result.append("...");
  }
  result.push_back('"');
  return result;
}

// Builds an Error for result code `rc` on connection `db` (may be null). Uses sqlite3_errmsg
// when it describes `rc`, the generic text for the code otherwise.
Error MakeError(sqlite3* db, int rc, const std::string& context) {
  std::string detail;
  if (db != nullptr && sqlite3_extended_errcode(db) == rc) {
    detail = sqlite3_errmsg(db);
  } else {
    detail = sqlite3_errstr(rc);
  }
  return Error(rc, rc, context + ": " + detail + " (code " + std::to_string(rc) + ")");
}

std::string SqlContext(sqlite3_stmt* stmt) {
  const char* sql = sqlite3_sql(stmt);
  return Quoted(sql == nullptr ? "" : sql);
}

const char* SynchronousPragma(Synchronous s) {
  switch (s) {
    case Synchronous::kOff:
      return "PRAGMA synchronous=OFF";
    case Synchronous::kNormal:
      return "PRAGMA synchronous=NORMAL";
    case Synchronous::kFull:
      return "PRAGMA synchronous=FULL";
  }
  return "PRAGMA synchronous=FULL";
}

const char* BeginSql(TransactionMode mode) {
  switch (mode) {
    case TransactionMode::kDeferred:
      return "BEGIN DEFERRED";
    case TransactionMode::kImmediate:
      return "BEGIN IMMEDIATE";
    case TransactionMode::kExclusive:
      return "BEGIN EXCLUSIVE";
  }
  return "BEGIN IMMEDIATE";
}

// "file:" URI of `path` with `query`: the characters a URI gives a meaning to are escaped.
std::string FileUri(const std::string& path, const char* query) {
  std::string uri = "file:";
  for (const char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      static constexpr char kHex[] = "0123456789ABCDEF";
      uri.push_back('%');
      uri.push_back(kHex[(static_cast<unsigned char>(c) >> 4) & 0xF]);
      uri.push_back(kHex[static_cast<unsigned char>(c) & 0xF]);
    } else {
      uri.push_back(c);
    }
  }
  return uri + "?" + query;
}

}  // namespace

// ---- Error ---------------------------------------------------------------------------------

Error::Error(int code, int extended_code, const std::string& message)
    : std::runtime_error(message), code_(code & 0xff), extended_code_(extended_code) {}

bool Error::IsConstraint() const { return code_ == SQLITE_CONSTRAINT; }
bool Error::IsBusy() const { return code_ == SQLITE_BUSY || code_ == SQLITE_LOCKED; }
bool Error::IsFull() const { return code_ == SQLITE_FULL; }
bool Error::IsIo() const { return code_ == SQLITE_IOERR; }

// ---- Database ------------------------------------------------------------------------------

Database::Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

Database::Database(Database&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), path_(std::move(other.path_)) {}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    if (db_ != nullptr) {
      sqlite3_close_v2(db_);
    }
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
  }
  return *this;
}

Database::~Database() {
  if (db_ != nullptr) {
    // close_v2: if a Statement was leaked past us, the connection closes when it is finalized.
    sqlite3_close_v2(db_);
  }
}

sqlite3* Database::Require() const {
  if (db_ == nullptr) {
    throw Error(SQLITE_MISUSE, SQLITE_MISUSE, "sqlite: use of a closed (moved-from) Database");
  }
  return db_;
}

Database Database::Open(const std::string& path, const Options& options) {
  int flags = SQLITE_OPEN_NOMUTEX;
  if (options.read_only) {
    flags |= SQLITE_OPEN_READONLY;
  } else {
    flags |= SQLITE_OPEN_READWRITE;
    if (options.create) {
      flags |= SQLITE_OPEN_CREATE;
    }
  }
#ifdef SQLITE_OPEN_EXRESCODE
  flags |= SQLITE_OPEN_EXRESCODE;
#endif

  const bool immutable = options.read_only && options.immutable && path != ":memory:";
  std::string target = path;
  if (immutable) {
    flags |= SQLITE_OPEN_URI;
    target = FileUri(path, "immutable=1");
  }
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(target.c_str(), &raw, flags, nullptr);
  // Own the handle at once (sqlite3_open_v2 may allocate one even when it fails).
  Database db(raw, path);
  const std::string context = "sqlite: cannot open database '" + path + "'";
  if (rc != SQLITE_OK) {
    if (raw == nullptr) {
      throw Error(rc, rc, context + ": " + sqlite3_errstr(rc));
    }
    std::string message = context + ": " + sqlite3_errmsg(raw);
    const int extended = sqlite3_extended_errcode(raw);
    // Name the most common cause explicitly.
    const std::filesystem::path parent = std::filesystem::path(path).parent_path();
    std::error_code ec;
    if (!parent.empty() && !std::filesystem::is_directory(parent, ec)) {
      message += " (directory '" + parent.string() + "' does not exist)";
    }
    throw Error(rc, extended, message + " (code " + std::to_string(extended) + ")");
  }
  sqlite3_extended_result_codes(raw, 1);

  try {
    if (sqlite3_busy_timeout(raw, options.busy_timeout_ms > 0 ? options.busy_timeout_ms : 0) !=
        SQLITE_OK) {
      throw MakeError(raw, sqlite3_extended_errcode(raw), "sqlite: setting busy timeout");
    }
    db.Exec(options.foreign_keys ? "PRAGMA foreign_keys=ON" : "PRAGMA foreign_keys=OFF");
    db.Exec(SynchronousPragma(options.synchronous));

    // sqlite3_db_filename is "" for in-memory and temporary databases: WAL does not apply.
    const char* filename = sqlite3_db_filename(raw, "main");
    const bool is_file = filename != nullptr && filename[0] != '\0';
    if (options.wal && is_file && !options.read_only) {
      Statement stmt = db.Prepare("PRAGMA journal_mode=WAL");
      const std::string mode = stmt.Step() ? stmt.ColumnText(0) : std::string();
      if (mode != "wal") {
        throw Error(SQLITE_ERROR, SQLITE_ERROR,
                    "could not enable WAL (journal_mode is '" + mode + "')");
      }
    }
  } catch (const Error& e) {
    throw Error(e.code(), e.extended_code(),
                "sqlite: configuring database '" + path + "': " + e.what());
  }
  return db;
}

void Database::Exec(std::string_view sql) {
  sqlite3* db = Require();
  const char* pos = sql.data();
  const char* const end = sql.data() + sql.size();
  while (pos < end) {
    const std::ptrdiff_t remaining = end - pos;
    if (remaining > INT_MAX) {
      throw Error(SQLITE_TOOBIG, SQLITE_TOOBIG, "sqlite: SQL script too large for Exec");
    }
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v2(db, pos, static_cast<int>(remaining), &raw, &tail);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(raw);
      throw MakeError(db, rc, "sqlite: preparing " + Quoted(std::string_view(pos, remaining)));
    }
    pos = (tail != nullptr && tail > pos) ? tail : end;
    if (raw == nullptr) {  // only whitespace or comments
      continue;
    }
    Statement stmt(raw);
    stmt.Run();
  }
}

Statement Database::Prepare(std::string_view sql) const {
  sqlite3* db = Require();
  if (sql.size() > static_cast<size_t>(INT_MAX)) {
    throw Error(SQLITE_TOOBIG, SQLITE_TOOBIG, "sqlite: SQL too large for Prepare");
  }
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  const int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &raw, &tail);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(raw);
    throw MakeError(db, rc, "sqlite: preparing " + Quoted(sql));
  }
  if (raw == nullptr) {
    throw Error(SQLITE_MISUSE, SQLITE_MISUSE, "sqlite: Prepare got no SQL statement");
  }
  Statement stmt(raw);

  // Reject trailing statements, which sqlite3_prepare would silently ignore. Trailing
  // whitespace, ';' and comments are fine (they compile to no statement).
  const char* const end = sql.data() + sql.size();
  if (tail != nullptr && tail < end &&
      std::string_view(tail, end - tail).find_first_not_of(" \t\r\n;") != std::string_view::npos) {
    sqlite3_stmt* extra = nullptr;
    const int extra_rc =
        sqlite3_prepare_v2(db, tail, static_cast<int>(end - tail), &extra, nullptr);
    sqlite3_finalize(extra);
    if (extra_rc != SQLITE_OK || extra != nullptr) {
      throw Error(
          SQLITE_MISUSE, SQLITE_MISUSE,
          "sqlite: Prepare accepts a single statement, use Exec for scripts: " + Quoted(sql));
    }
  }
  return stmt;
}

int64_t Database::LastInsertRowid() const { return sqlite3_last_insert_rowid(Require()); }

int Database::Changes() const { return sqlite3_changes(Require()); }

bool Database::InTransaction() const { return sqlite3_get_autocommit(Require()) == 0; }

// ---- Statement -----------------------------------------------------------------------------

Statement::Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}

Statement::Statement(Statement&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);  // no-op on nullptr
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

sqlite3_stmt* Statement::Require() const {
  if (stmt_ == nullptr) {
    throw Error(SQLITE_MISUSE, SQLITE_MISUSE, "sqlite: use of a moved-from Statement");
  }
  return stmt_;
}

sqlite3_stmt* Statement::RequireColumn(int col) const {
  sqlite3_stmt* stmt = Require();
  const int count = sqlite3_data_count(stmt);
  if (count == 0) {
    throw Error(SQLITE_MISUSE, SQLITE_MISUSE,
                "sqlite: reading column " + std::to_string(col) +
                    " but no row is ready (Step() must return true first) for " + SqlContext(stmt));
  }
  if (col < 0 || col >= count) {
    throw Error(SQLITE_RANGE, SQLITE_RANGE,
                "sqlite: column " + std::to_string(col) + " out of range (row has " +
                    std::to_string(count) + " columns) for " + SqlContext(stmt));
  }
  return stmt;
}

int Statement::ParameterIndex(const char* name) const {
  sqlite3_stmt* stmt = Require();
  if (name == nullptr) {
    throw Error(SQLITE_MISUSE, SQLITE_MISUSE, "sqlite: null parameter name");
  }
  int index = sqlite3_bind_parameter_index(stmt, name);
  if (index == 0 && name[0] != ':' && name[0] != '@' && name[0] != '$' && name[0] != '?') {
    index = sqlite3_bind_parameter_index(stmt, (std::string(":") + name).c_str());
  }
  if (index == 0) {
    throw Error(SQLITE_RANGE, SQLITE_RANGE,
                std::string("sqlite: no parameter named '") + name + "' in " + SqlContext(stmt));
  }
  return index;
}

void Statement::CheckBind(int rc, int index) {
  if (rc != SQLITE_OK) {
    throw MakeError(
        sqlite3_db_handle(stmt_), rc,
        "sqlite: binding parameter " + std::to_string(index) + " of " + SqlContext(stmt_));
  }
}

Statement& Statement::Bind(int index, int64_t v) {
  CheckBind(sqlite3_bind_int64(Require(), index, v), index);
  return *this;
}

Statement& Statement::Bind(int index, int v) {
  CheckBind(sqlite3_bind_int(Require(), index, v), index);
  return *this;
}

Statement& Statement::Bind(int index, double v) {
  CheckBind(sqlite3_bind_double(Require(), index, v), index);
  return *this;
}

Statement& Statement::Bind(int index, std::string_view text) {
  // A null data() (empty view) would bind NULL; bind the empty string instead.
  const char* data = text.data() != nullptr ? text.data() : "";
  CheckBind(sqlite3_bind_text64(Require(), index, data, text.size(), kTransient, SQLITE_UTF8),
            index);
  return *this;
}

Statement& Statement::Bind(int index, const char* text) {
  if (text == nullptr) {
    return BindNull(index);
  }
  return Bind(index, std::string_view(text));
}

Statement& Statement::BindBlob(int index, const void* data, size_t size) {
  sqlite3_stmt* stmt = Require();
  if (size == 0 || data == nullptr) {
    // sqlite3_bind_blob with a null pointer would bind NULL, not an empty blob.
    CheckBind(sqlite3_bind_zeroblob(stmt, index, 0), index);
  } else {
    CheckBind(sqlite3_bind_blob64(stmt, index, data, size, kTransient), index);
  }
  return *this;
}

Statement& Statement::BindNull(int index) {
  CheckBind(sqlite3_bind_null(Require(), index), index);
  return *this;
}

bool Statement::Step() {
  sqlite3_stmt* stmt = Require();
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  // Capture the message first: sqlite3_reset may change it. Reset so the statement releases
  // its locks and can be stepped again; bindings are kept.
  Error error = MakeError(sqlite3_db_handle(stmt), rc, "sqlite: executing " + SqlContext(stmt));
  sqlite3_reset(stmt);
  throw error;
}

void Statement::Run() {
  while (Step()) {
  }
}

void Statement::Reset() {
  sqlite3_stmt* stmt = Require();
  sqlite3_reset(stmt);  // its return code repeats the last Step() error, already reported
  sqlite3_clear_bindings(stmt);
}

int Statement::ColumnCount() const { return sqlite3_column_count(Require()); }

bool Statement::IsNull(int col) const {
  return sqlite3_column_type(RequireColumn(col), col) == SQLITE_NULL;
}

int64_t Statement::ColumnInt64(int col) const {
  return sqlite3_column_int64(RequireColumn(col), col);
}

int Statement::ColumnInt(int col) const { return sqlite3_column_int(RequireColumn(col), col); }

double Statement::ColumnDouble(int col) const {
  return sqlite3_column_double(RequireColumn(col), col);
}

std::string Statement::ColumnText(int col) const {
  sqlite3_stmt* stmt = RequireColumn(col);
  // Order matters: text first, then bytes (of the converted value).
  const unsigned char* text = sqlite3_column_text(stmt, col);
  const int size = sqlite3_column_bytes(stmt, col);
  if (text == nullptr) {
    return std::string();
  }
  return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(size));
}

std::optional<std::string> Statement::ColumnOptionalText(int col) const {
  if (IsNull(col)) {
    return std::nullopt;
  }
  return ColumnText(col);
}

std::optional<int64_t> Statement::ColumnOptionalInt64(int col) const {
  if (IsNull(col)) {
    return std::nullopt;
  }
  return ColumnInt64(col);
}

std::string Statement::ColumnBlob(int col) const {
  sqlite3_stmt* stmt = RequireColumn(col);
  const void* data = sqlite3_column_blob(stmt, col);
  const int size = sqlite3_column_bytes(stmt, col);
  if (data == nullptr || size <= 0) {
    return std::string();
  }
  return std::string(static_cast<const char*>(data), static_cast<size_t>(size));
}

std::string_view Statement::ColumnName(int col) const {
  sqlite3_stmt* stmt = Require();
  if (col < 0 || col >= sqlite3_column_count(stmt)) {
    throw Error(SQLITE_RANGE, SQLITE_RANGE,
                "sqlite: column " + std::to_string(col) + " out of range for " + SqlContext(stmt));
  }
  const char* name = sqlite3_column_name(stmt, col);
  if (name == nullptr) {
    throw Error(SQLITE_NOMEM, SQLITE_NOMEM, "sqlite: out of memory reading a column name");
  }
  return name;
}

// ---- Transaction ---------------------------------------------------------------------------

Transaction::Transaction(Database& db, TransactionMode mode) : db_(db) {
  db_.Exec(BeginSql(mode));
  active_ = true;
}

void Transaction::Commit() {
  if (!active_) {
    throw Error(SQLITE_MISUSE, SQLITE_MISUSE,
                "sqlite: Commit() on a transaction that already ended");
  }
  db_.Exec("COMMIT");  // on failure active_ stays true: the destructor rolls back
  active_ = false;
}

void Transaction::Rollback() {
  if (!active_) {
    return;
  }
  if (db_.InTransaction()) {
    db_.Exec("ROLLBACK");  // on failure active_ stays true: the destructor retries
  }
  active_ = false;
}

Transaction::~Transaction() {
  if (!active_) {
    return;
  }
  try {
    if (db_.handle() != nullptr && db_.InTransaction()) {
      db_.Exec("ROLLBACK");
    }
  } catch (...) {
    // Never throw from a destructor. A failed ROLLBACK leaves SQLite to roll back when the
    // connection closes (or on the next open, via the journal/WAL).
  }
}

}  // namespace civic::sqlite
