// The events API's schema: every migration applies to an empty database, and an existing
// database upgraded to ids that never repeat keeps its rows and references.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "civic/sqlite/sqlite.hpp"
#include "migrations.hpp"
#include "resources/references.hpp"

namespace {

using civic::sqlite::Database;

int64_t QueryInt(const Database& db, const std::string& sql) {
  auto statement = db.Prepare(sql);
  REQUIRE(statement.Step());
  return statement.ColumnInt64(0);
}

}  // namespace

TEST_CASE("Events schema: a database from before migration 10 keeps its rows and stops reusing ids",
          "[events][migrations]") {
  Database db = Database::Open(":memory:");
  std::vector<civic::sqlite::Migration> up_to_9(civic::events::Migrations().begin(),
                                                civic::events::Migrations().begin() + 9);
  REQUIRE(civic::sqlite::Migrate(db, up_to_9) == 9);
  db.Exec(R"sql(
INSERT INTO cities(name, region, time_zone, created_at, updated_at) VALUES
  ('Саров', 'Нижегородская область', 'Europe/Moscow', 0, 0),
  ('Снежинск', 'Челябинская область', 'Asia/Yekaterinburg', 0, 0),
  ('Озёрск', 'Челябинская область', 'Asia/Yekaterinburg', 0, 0);
INSERT INTO teams(city_id, name, description, status, created_at, updated_at) VALUES
  (1, 'Команда Сарова', '', 'forming', 0, 0), (3, 'Команда Озёрска', '', 'forming', 0, 0);
DELETE FROM teams WHERE id = 2;
)sql");
  REQUIRE(civic::sqlite::Migrate(db, civic::events::Migrations()) ==
          static_cast<int>(civic::events::Migrations().size()) - 9);

  CHECK(QueryInt(db, "SELECT count(*) FROM cities") == 3);
  CHECK(QueryInt(db, "SELECT city_id FROM teams WHERE id = 1") == 1);
  CHECK(QueryInt(db,
                 "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND "
                 "name = 'teams_city'") == 1);
  CHECK(QueryInt(db, "PRAGMA foreign_keys") == 1);
  auto check = db.Prepare("PRAGMA foreign_key_check");
  CHECK_FALSE(check.Step());
  // A city still referenced by a team cannot go; the newest city's id is not given again.
  CHECK_THROWS(db.Exec("DELETE FROM cities WHERE id = 1"));
  db.Exec("DELETE FROM cities WHERE id = 3");
  db.Exec(
      "INSERT INTO cities(name, region, time_zone, created_at, updated_at) VALUES ('Северск', "
      "'Томская область', 'Asia/Tomsk', 0, 0)");
  CHECK(db.LastInsertRowid() == 4);
  // The team deleted before the upgrade was the newest: its id is gone for good only from now
  // on (the upgrade continues from the highest id stored).
  db.Exec(
      "INSERT INTO teams(city_id, name, description, status, created_at, updated_at) VALUES "
      "(2, 'Команда Снежинска', '', 'forming', 0, 0)");
  CHECK(db.LastInsertRowid() == 2);
  db.Exec("DELETE FROM teams WHERE id = 2");
  db.Exec(
      "INSERT INTO teams(city_id, name, description, status, created_at, updated_at) VALUES "
      "(2, 'Команда Снежинска', '', 'forming', 0, 0)");
  CHECK(db.LastInsertRowid() == 3);
}

TEST_CASE("Events schema: every reference that can refuse a DELETE has words for the API",
          "[events][migrations]") {
  Database db = Database::Open(":memory:");
  civic::sqlite::Migrate(db, civic::events::Migrations());
  std::vector<std::string> tables;
  auto list = db.Prepare(
      "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
  while (list.Step()) {
    tables.push_back(list.ColumnText(0));
  }
  int references = 0;
  for (const auto& table : tables) {
    for (const auto& [from_table, column] :
         civic::events::resources::RestrictingReferences(db, table)) {
      INFO(from_table << "." << column << " -> " << table);
      const auto words = civic::events::resources::DescribeReference(from_table, column);
      REQUIRE(words);
      ++references;
    }
  }
  CHECK(references >= 20);
  CHECK(civic::events::resources::DescribeReference("session_people", "person_id") ==
        "session(s) (speaker_ids or moderator_ids)");
}
