#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "civic/sqlite/sqlite.hpp"

namespace {

namespace fs = std::filesystem;
using civic::sqlite::Database;
using civic::sqlite::Error;
using civic::sqlite::Migration;
using civic::sqlite::Options;
using civic::sqlite::Statement;
using civic::sqlite::Synchronous;
using civic::sqlite::Transaction;

// A unique directory under /tmp, removed with everything in it when the test ends.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/civic_sqlite_test_XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    path_ = tmpl;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

int64_t QueryInt(const Database& db, const std::string& sql) {
  Statement stmt = db.Prepare(sql);
  REQUIRE(stmt.Step());
  return stmt.ColumnInt64(0);
}

std::string QueryText(const Database& db, const std::string& sql) {
  Statement stmt = db.Prepare(sql);
  REQUIRE(stmt.Step());
  return stmt.ColumnText(0);
}

bool TableExists(const Database& db, const std::string& table) {
  Statement stmt = db.Prepare("SELECT count(*) FROM sqlite_schema WHERE type='table' AND name=?");
  stmt.Bind(1, table);
  REQUIRE(stmt.Step());
  return stmt.ColumnInt(0) == 1;
}

std::vector<Migration> BaseMigrations() {
  return {
      {1, "create_a", "CREATE TABLE a(id INTEGER PRIMARY KEY, v TEXT NOT NULL);"},
      {2, "create_b", "CREATE TABLE b(x INTEGER); INSERT INTO b VALUES (42);"},
  };
}

}  // namespace

TEST_CASE("Open creates the file with WAL, foreign keys and the chosen synchronous level",
          "[sqlite]") {
  TempDir dir;
  const std::string path = dir.File("new.db");
  REQUIRE_FALSE(fs::exists(path));

  Options options;
  options.synchronous = Synchronous::kNormal;
  Database db = Database::Open(path, options);

  CHECK(fs::exists(path));
  CHECK(db.path() == path);
  CHECK(db.handle() != nullptr);
  CHECK(QueryText(db, "PRAGMA journal_mode") == "wal");
  CHECK(QueryInt(db, "PRAGMA foreign_keys") == 1);
  CHECK(QueryInt(db, "PRAGMA synchronous") == 1);  // NORMAL

  Database full = Database::Open(path);  // defaults: synchronous FULL
  CHECK(QueryInt(full, "PRAGMA synchronous") == 2);
  CHECK_FALSE(full.InTransaction());
}

TEST_CASE("Open of :memory: works and enforces foreign keys", "[sqlite]") {
  Database db = Database::Open(":memory:");
  db.Exec(
      "CREATE TABLE parent(id INTEGER PRIMARY KEY);"
      "CREATE TABLE child(pid INTEGER REFERENCES parent(id));");
  try {
    db.Exec("INSERT INTO child VALUES (7)");
    FAIL("expected a foreign key violation");
  } catch (const Error& e) {
    CHECK(e.IsConstraint());
  }
}

TEST_CASE("Open with create=false on a missing file throws", "[sqlite]") {
  TempDir dir;
  Options options;
  options.create = false;
  CHECK_THROWS_AS(Database::Open(dir.File("absent.db"), options), Error);
}

TEST_CASE("Open in a missing directory throws an Error naming the path", "[sqlite]") {
  TempDir dir;
  const std::string path = dir.File("no/such/dir/x.db");
  try {
    Database::Open(path);
    FAIL("expected Error");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::Contains(path));
    CHECK_FALSE(e.IsConstraint());
  }
}

TEST_CASE("Bind, Step and Column round-trip every type", "[sqlite]") {
  Database db = Database::Open(":memory:");
  db.Exec(
      "CREATE TABLE t(i INTEGER, small INTEGER, d REAL, s TEXT, n, oi INTEGER, os TEXT, b BLOB,"
      " eb BLOB, es TEXT, cs TEXT)");

  const int64_t big = std::numeric_limits<int64_t>::min() + 1;
  const std::string cyrillic = "Привет, мир — ёЁ";
  const std::string blob("\0\x01\xff\0tail", 8);
  const std::optional<int64_t> some_int = 99;
  const std::optional<std::string> no_text;

  Statement insert = db.Prepare("INSERT INTO t VALUES (?,?,?,?,?,?,?,?,?,?,?)");
  insert.Bind(1, big)
      .Bind(2, -7)
      .Bind(3, 2.5)
      .Bind(4, std::string_view(cyrillic))
      .BindNull(5)
      .Bind(6, some_int)
      .Bind(7, no_text)
      .BindBlob(8, blob.data(), blob.size())
      .BindBlob(9, nullptr, 0)
      .Bind(10, std::string_view())
      .Bind(11, "plain");
  insert.Run();
  CHECK(db.Changes() == 1);
  CHECK(db.LastInsertRowid() == 1);

  Statement select = db.Prepare("SELECT i, small, d, s, n, oi, os, b, eb, es, cs FROM t");
  REQUIRE(select.ColumnCount() == 11);
  CHECK(select.ColumnName(3) == "s");
  REQUIRE(select.Step());
  CHECK(select.ColumnInt64(0) == big);
  CHECK(select.ColumnInt(1) == -7);
  CHECK(select.ColumnDouble(2) == 2.5);
  CHECK(select.ColumnText(3) == cyrillic);
  CHECK(select.IsNull(4));
  CHECK(select.ColumnText(4).empty());
  CHECK(select.ColumnOptionalText(4) == std::nullopt);
  CHECK(select.ColumnOptionalInt64(4) == std::nullopt);
  CHECK(select.ColumnOptionalInt64(5) == std::optional<int64_t>(99));
  CHECK(select.IsNull(6));
  CHECK(select.ColumnBlob(7) == blob);
  CHECK(select.ColumnBlob(7).size() == 8);
  CHECK_FALSE(select.IsNull(8));  // empty blob, not NULL
  CHECK(select.ColumnBlob(8).empty());
  CHECK_FALSE(select.IsNull(9));  // empty text, not NULL
  CHECK(select.ColumnOptionalText(9) == std::optional<std::string>(""));
  CHECK(select.ColumnText(10) == "plain");
  CHECK_FALSE(select.Step());
}

TEST_CASE("Named parameters bind by name", "[sqlite]") {
  Database db = Database::Open(":memory:");
  Statement stmt = db.Prepare("SELECT :num + 1, :text, @nothing, typeof($blob)");
  const std::string text = "имя";
  stmt.Bind(":num", int64_t{41}).Bind("text", text).BindNull("@nothing").BindBlob("$blob", "ab", 2);
  REQUIRE(stmt.Step());
  CHECK(stmt.ColumnInt64(0) == 42);
  CHECK(stmt.ColumnText(1) == text);
  CHECK(stmt.IsNull(2));
  CHECK(stmt.ColumnText(3) == "blob");
  CHECK_THROWS_AS(stmt.Bind(":missing", 1), Error);
}

TEST_CASE("Reset clears bindings so a statement can be reused", "[sqlite]") {
  Database db = Database::Open(":memory:");
  db.Exec("CREATE TABLE t(v INTEGER)");
  Statement insert = db.Prepare("INSERT INTO t VALUES (?)");
  insert.Bind(1, 1).Run();
  insert.Reset();
  insert.Run();  // bindings cleared: inserts NULL
  insert.Reset();
  insert.Bind(1, 3).Run();
  CHECK(QueryInt(db, "SELECT count(*) FROM t") == 3);
  CHECK(QueryInt(db, "SELECT count(*) FROM t WHERE v IS NULL") == 1);
  CHECK(QueryInt(db, "SELECT sum(v) FROM t") == 4);
}

TEST_CASE("Misuse of bind indexes and columns throws Error", "[sqlite]") {
  Database db = Database::Open(":memory:");
  Statement stmt = db.Prepare("SELECT ?");
  CHECK_THROWS_AS(stmt.Bind(2, 1), Error);
  CHECK_THROWS_AS(stmt.ColumnInt(0), Error);  // no row ready yet
  stmt.Bind(1, 1);
  REQUIRE(stmt.Step());
  CHECK_THROWS_AS(stmt.ColumnInt(1), Error);
  CHECK_THROWS_AS(stmt.ColumnName(5), Error);
}

TEST_CASE("Prepare rejects syntax errors, empty SQL and multiple statements", "[sqlite]") {
  Database db = Database::Open(":memory:");
  CHECK_THROWS_AS(db.Prepare("SELEC 1"), Error);
  CHECK_THROWS_AS(db.Prepare("   "), Error);
  CHECK_THROWS_AS(db.Prepare("SELECT 1; SELECT 2"), Error);
  CHECK_NOTHROW(db.Prepare("SELECT 1; -- trailing comment\n"));
}

TEST_CASE("Constraint violation throws Error with IsConstraint and no bound values", "[sqlite]") {
  Database db = Database::Open(":memory:");
  db.Exec("CREATE TABLE people(email TEXT UNIQUE NOT NULL)");
  const std::string secret = "secret.person@example.org";
  Statement insert = db.Prepare("INSERT INTO people(email) VALUES (?)");
  insert.Bind(1, secret).Run();
  insert.Reset();
  insert.Bind(1, secret);
  try {
    insert.Run();
    FAIL("expected a UNIQUE violation");
  } catch (const Error& e) {
    CHECK(e.IsConstraint());
    CHECK_FALSE(e.IsBusy());
    CHECK(e.extended_code() != e.code());  // SQLITE_CONSTRAINT_UNIQUE
    CHECK_THAT(e.what(), Catch::Contains("UNIQUE"));
    CHECK_THAT(e.what(), Catch::Contains("INSERT INTO people"));
    CHECK_THAT(e.what(), !Catch::Contains(secret));
  }
  // The statement is usable again after the failure.
  insert.Reset();
  insert.Bind(1, "other@example.org").Run();
  CHECK(QueryInt(db, "SELECT count(*) FROM people") == 2);
}

TEST_CASE("Transaction commit persists and destructor without commit rolls back", "[sqlite]") {
  TempDir dir;
  const std::string path = dir.File("tx.db");
  {
    Database db = Database::Open(path);
    db.Exec("CREATE TABLE t(v INTEGER)");
    {
      Transaction tx(db);
      CHECK(db.InTransaction());
      db.Exec("INSERT INTO t VALUES (1)");
      tx.Commit();
      CHECK_FALSE(db.InTransaction());
      CHECK_THROWS_AS(tx.Commit(), Error);
    }
    {
      Transaction tx(db, civic::sqlite::TransactionMode::kDeferred);
      db.Exec("INSERT INTO t VALUES (2)");
      CHECK(QueryInt(db, "SELECT count(*) FROM t") == 2);
    }  // no Commit(): rolled back
    CHECK_FALSE(db.InTransaction());
    CHECK(QueryInt(db, "SELECT count(*) FROM t") == 1);
    {
      Transaction tx(db, civic::sqlite::TransactionMode::kExclusive);
      db.Exec("INSERT INTO t VALUES (3)");
      tx.Rollback();
      CHECK_FALSE(db.InTransaction());
    }
    CHECK(QueryInt(db, "SELECT count(*) FROM t") == 1);
  }
  Database reopened = Database::Open(path);
  CHECK(QueryInt(reopened, "SELECT sum(v) FROM t") == 1);
}

TEST_CASE("Transactions do not nest", "[sqlite]") {
  Database db = Database::Open(":memory:");
  Transaction outer(db);
  CHECK_THROWS_AS(Transaction(db), Error);
  CHECK(db.InTransaction());
}

TEST_CASE("Migrate applies pending migrations and is idempotent", "[sqlite]") {
  Database db = Database::Open(":memory:");
  CHECK(civic::sqlite::SchemaVersion(db) == 0);

  std::vector<Migration> migrations = BaseMigrations();
  migrations.resize(1);
  CHECK(civic::sqlite::Migrate(db, migrations) == 1);
  CHECK(civic::sqlite::SchemaVersion(db) == 1);
  CHECK(TableExists(db, "a"));
  CHECK_FALSE(TableExists(db, "b"));

  CHECK(civic::sqlite::Migrate(db, BaseMigrations()) == 1);  // only migration 2 pending
  CHECK(civic::sqlite::SchemaVersion(db) == 2);
  CHECK(QueryInt(db, "SELECT x FROM b") == 42);

  CHECK(civic::sqlite::Migrate(db, BaseMigrations()) == 0);
  CHECK(QueryInt(db, "SELECT count(*) FROM b") == 1);  // migration 2 did not run twice
}

TEST_CASE("A migration failing halfway leaves the database as it was", "[sqlite]") {
  Database db = Database::Open(":memory:");
  std::vector<Migration> broken = {
      BaseMigrations()[0],
      {2, "add_b", "CREATE TABLE b(x); INSERT INTO nope VALUES(1);"},
  };
  REQUIRE(civic::sqlite::Migrate(db, {BaseMigrations()[0]}) == 1);
  try {
    civic::sqlite::Migrate(db, broken);
    FAIL("expected Error");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("migration 2"));
    CHECK_THAT(e.what(), Catch::Contains("add_b"));
    CHECK_THAT(e.what(), Catch::Contains("nope"));
  }
  CHECK_FALSE(db.InTransaction());
  CHECK_FALSE(TableExists(db, "b"));
  CHECK(TableExists(db, "a"));
  CHECK(civic::sqlite::SchemaVersion(db) == 1);

  broken[1].sql = "CREATE TABLE b(x); INSERT INTO b VALUES(1);";
  CHECK(civic::sqlite::Migrate(db, broken) == 1);
  CHECK(TableExists(db, "b"));
  CHECK(civic::sqlite::SchemaVersion(db) == 2);
}

TEST_CASE("A rebuild with AUTOINCREMENT keeps rows, children, indexes and never repeats an id",
          "[sqlite]") {
  TempDir dir;
  Database db = Database::Open(dir.File("rebuild.db"));
  const std::vector<Migration> before = {
      {1, "cities and teams", R"sql(
CREATE TABLE cities (
  id   INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
) STRICT;
CREATE INDEX cities_name_id ON cities(name, id);
CREATE TABLE teams (
  id      INTEGER PRIMARY KEY,
  city_id INTEGER NOT NULL REFERENCES cities(id) ON DELETE CASCADE
) STRICT;
INSERT INTO cities(name) VALUES ('Саров'), ('Снежинск'), ('Озёрск');
INSERT INTO teams(city_id) VALUES (1), (2), (3), (3);
DELETE FROM cities WHERE id = 3;
INSERT INTO cities(name) VALUES ('Северск');  -- gets 3 again: the reuse this fixes
INSERT INTO teams(city_id) VALUES (3);
)sql"},
  };
  REQUIRE(civic::sqlite::Migrate(db, before) == 1);
  REQUIRE(QueryInt(db, "SELECT count(*) FROM teams") == 3);  // the cascade took two
  std::vector<Migration> after = before;
  after.push_back({2, "ids never repeat", "",
                   [](Database& d) {
                     civic::sqlite::RebuildWithAutoincrementId(d, "cities");
                     civic::sqlite::RebuildWithAutoincrementId(d, "teams");
                   },
                   true});
  REQUIRE(civic::sqlite::Migrate(db, after) == 1);

  // Rows, the children's rows (no cascade during the rebuild), the index and the UNIQUE
  // constraint are all there, and enforcement is back on.
  CHECK(
      QueryText(db, "SELECT group_concat(name, ',') FROM (SELECT name FROM cities ORDER BY id)") ==
      "Саров,Снежинск,Северск");
  CHECK(QueryInt(db, "SELECT count(*) FROM teams") == 3);
  CHECK(QueryInt(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'cities_name_id'") == 1);
  CHECK(
      QueryText(db, "SELECT sql FROM sqlite_schema WHERE name = 'cities'").find("AUTOINCREMENT") !=
      std::string::npos);
  CHECK(QueryInt(db, "PRAGMA foreign_keys") == 1);
  CHECK_THROWS_AS(db.Exec("INSERT INTO cities(name) VALUES ('Саров')"), Error);
  CHECK_THROWS_AS(db.Exec("INSERT INTO teams(city_id) VALUES (99)"), Error);

  // The newest city deleted (cascading to its team), the next one gets a new id.
  db.Exec("DELETE FROM cities WHERE id = 3");
  CHECK(QueryInt(db, "SELECT count(*) FROM teams") == 2);
  db.Exec("INSERT INTO cities(name) VALUES ('Железногорск')");
  CHECK(db.LastInsertRowid() == 4);
  // A second run changes nothing.
  CHECK(civic::sqlite::Migrate(db, after) == 0);
}

TEST_CASE("A migration with foreign keys off fails when it leaves a dangling reference",
          "[sqlite]") {
  Database db = Database::Open(":memory:");
  const std::vector<Migration> migrations = {
      {1, "parent and child", R"sql(
CREATE TABLE parent (id INTEGER PRIMARY KEY) STRICT;
CREATE TABLE child (parent_id INTEGER NOT NULL REFERENCES parent(id)) STRICT;
INSERT INTO parent VALUES (1);
INSERT INTO child VALUES (1);
)sql"},
      {2, "drops the parent's row", "DELETE FROM parent;", nullptr, true},
  };
  CHECK_THROWS_WITH(civic::sqlite::Migrate(db, migrations), Catch::Contains("migration 2"));
  CHECK(civic::sqlite::SchemaVersion(db) == 1);
  CHECK(QueryInt(db, "SELECT count(*) FROM parent") == 1);
  CHECK(QueryInt(db, "PRAGMA foreign_keys") == 1);
}

TEST_CASE("Migrate throws when the database is newer than this binary", "[sqlite]") {
  Database db = Database::Open(":memory:");
  db.Exec("PRAGMA user_version = 5");
  try {
    civic::sqlite::Migrate(db, BaseMigrations());
    FAIL("expected Error");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("newer than this binary"));
  }
  CHECK(civic::sqlite::SchemaVersion(db) == 5);
}

TEST_CASE("Migrate rejects versions that are not 1..n increasing", "[sqlite]") {
  Database db = Database::Open(":memory:");
  const std::vector<Migration> repeated = {{1, "a", "SELECT 1"}, {1, "b", "SELECT 1"}};
  const std::vector<Migration> decreasing = {{2, "a", "SELECT 1"}, {1, "b", "SELECT 1"}};
  const std::vector<Migration> from_zero = {{0, "a", "SELECT 1"}};
  CHECK_THROWS_AS(civic::sqlite::Migrate(db, repeated), std::invalid_argument);
  CHECK_THROWS_AS(civic::sqlite::Migrate(db, decreasing), std::invalid_argument);
  CHECK_THROWS_AS(civic::sqlite::Migrate(db, from_zero), std::invalid_argument);
  CHECK(civic::sqlite::SchemaVersion(db) == 0);
}

TEST_CASE("Reopening a file sees the migrated schema", "[sqlite]") {
  TempDir dir;
  const std::string path = dir.File("migrated.db");
  {
    Database db = Database::Open(path);
    REQUIRE(civic::sqlite::Migrate(db, BaseMigrations()) == 2);
    Statement insert = db.Prepare("INSERT INTO a(v) VALUES (?)");
    insert.Bind(1, "kept").Run();
  }
  Database db = Database::Open(path);
  CHECK(civic::sqlite::SchemaVersion(db) == 2);
  CHECK(civic::sqlite::Migrate(db, BaseMigrations()) == 0);
  CHECK(QueryText(db, "SELECT v FROM a") == "kept");
  CHECK(QueryInt(db, "SELECT x FROM b") == 42);
}

TEST_CASE("A read-only connection reads but cannot write", "[sqlite]") {
  TempDir dir;
  const std::string path = dir.File("ro.db");
  {
    Database db = Database::Open(path);
    db.Exec("CREATE TABLE t(v INTEGER); INSERT INTO t VALUES (5);");
  }
  Options options;
  options.read_only = true;
  Database ro = Database::Open(path, options);
  CHECK(QueryInt(ro, "SELECT v FROM t") == 5);
  CHECK_THROWS_AS(ro.Exec("INSERT INTO t VALUES (6)"), Error);
}

TEST_CASE("An immutable connection reads a WAL database without creating -shm or -wal",
          "[sqlite]") {
  TempDir dir;
  fs::create_directories(dir.File("odd?name#%20"));
  const std::string path = dir.File("odd?name#%20/imm.db");
  {
    Database db = Database::Open(path);
    db.Exec("CREATE TABLE t(v INTEGER); INSERT INTO t VALUES (5), (6);");
  }  // the last connection closed: the WAL was checkpointed and removed
  REQUIRE_FALSE(fs::exists(path + "-wal"));
  REQUIRE_FALSE(fs::exists(path + "-shm"));
  Options options;
  options.read_only = true;
  options.immutable = true;
  Database ro = Database::Open(path, options);
  CHECK(QueryInt(ro, "SELECT sum(v) FROM t") == 11);
  CHECK_FALSE(fs::exists(path + "-wal"));
  CHECK_FALSE(fs::exists(path + "-shm"));
  CHECK_THROWS_AS(ro.Exec("INSERT INTO t VALUES (7)"), Error);
}

TEST_CASE("In WAL a reader sees committed data while a writer holds an open transaction",
          "[sqlite]") {
  TempDir dir;
  const std::string path = dir.File("wal.db");
  Database writer = Database::Open(path);
  writer.Exec("CREATE TABLE t(v INTEGER); INSERT INTO t VALUES (1);");

  Options reader_options;
  reader_options.busy_timeout_ms = 0;  // a lock conflict would fail fast instead of waiting
  Database reader = Database::Open(path, reader_options);

  Transaction tx(writer);
  writer.Exec("INSERT INTO t VALUES (2)");
  CHECK(QueryInt(writer, "SELECT count(*) FROM t") == 2);
  CHECK(QueryInt(reader, "SELECT count(*) FROM t") == 1);  // not blocked, sees committed only

  // A second writer cannot start while the first holds the write lock.
  try {
    Transaction other(reader);
    FAIL("expected SQLITE_BUSY");
  } catch (const Error& e) {
    CHECK(e.IsBusy());
  }

  tx.Commit();
  CHECK(QueryInt(reader, "SELECT count(*) FROM t") == 2);
}
