// The events API's schema: every migration applies to an empty database, and an existing
// database upgraded to ids that never repeat keeps its rows and references.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "civic/sqlite/sqlite.hpp"
#include "migrations.hpp"
#include "resources/references.hpp"
#include "storage/local_dates.hpp"
#include "storage/search.hpp"
#include "storage/sort_keys.hpp"

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
  civic::events::RegisterSearchFunctions(db);
  civic::events::RegisterSortKeyFunction(db);
  civic::events::RegisterLocalDateFunction(db);
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
  civic::events::RegisterSearchFunctions(db);
  civic::events::RegisterSortKeyFunction(db);
  civic::events::RegisterLocalDateFunction(db);
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

TEST_CASE("Events schema: migration 11 indexes the rows already stored for text search",
          "[events][migrations][search]") {
  Database db = Database::Open(":memory:");
  civic::events::RegisterSearchFunctions(db);
  civic::events::RegisterSortKeyFunction(db);
  civic::events::RegisterLocalDateFunction(db);
  std::vector<civic::sqlite::Migration> up_to_10(civic::events::Migrations().begin(),
                                                 civic::events::Migrations().begin() + 10);
  REQUIRE(civic::sqlite::Migrate(db, up_to_10) == 10);
  db.Exec(R"sql(
INSERT INTO cities(name, region, time_zone, created_at, updated_at) VALUES
  ('Новоуральск', 'Свердловская область', 'Asia/Yekaterinburg', 0, 0),
  ('Железногорск', 'Красноярский край', 'Asia/Krasnoyarsk', 0, 0);
INSERT INTO organizations(name, sector, created_at, updated_at) VALUES
  ('Городской совет Новоуральска', 'government', 0, 0), ('Фонд «Добрые города»', 'ngo', 0, 0),
  ('Волонтёры Заречного', 'volunteer', 0, 0);
)sql");
  REQUIRE(civic::sqlite::Migrate(db, civic::events::Migrations()) ==
          static_cast<int>(civic::events::Migrations().size()) - 10);
  const auto found = [&](const std::string& table, const std::string& q) {
    std::string error;
    const auto match = civic::events::SearchMatch(q, error);
    REQUIRE(match);
    auto statement = db.Prepare("SELECT group_concat(rowid, ',') FROM (SELECT rowid FROM " + table +
                                "_search WHERE " + table + "_search MATCH ? ORDER BY rowid)");
    statement.Bind(1, *match);
    REQUIRE(statement.Step());
    return statement.ColumnText(0);
  };
  // Rows from before the migration are found; "город" as a prefix of stems finds «Городской»
  // and «города».
  CHECK(found("organizations", "город") == "1,2");
  CHECK(found("organizations", "волонтер") == "3");
  CHECK(found("cities", "красноярский") == "2");
  // From now on the triggers keep the index in step with inserts, updates and deletes.
  db.Exec("UPDATE organizations SET name = 'Совет ветеранов' WHERE id = 1");
  CHECK(found("organizations", "город") == "2");
  CHECK(found("organizations", "ветеран") == "1");
  db.Exec("DELETE FROM organizations WHERE id = 2");
  CHECK(found("organizations", "город") == "");
  db.Exec(
      "INSERT INTO organizations(name, sector, created_at, updated_at) VALUES ('Молодёжный "
      "центр города', 'ngo', 0, 0)");
  CHECK(found("organizations", "молодежный город") == "4");
}

TEST_CASE("Events schema: names get Russian sort keys, and a name sort is an index range scan",
          "[events][migrations]") {
  Database db = Database::Open(":memory:");
  civic::events::RegisterSearchFunctions(db);
  civic::events::RegisterSortKeyFunction(db);
  civic::events::RegisterLocalDateFunction(db);
  std::vector<civic::sqlite::Migration> up_to_12(civic::events::Migrations().begin(),
                                                 civic::events::Migrations().begin() + 12);
  REQUIRE(civic::sqlite::Migrate(db, up_to_12) == 12);
  db.Exec(
      "INSERT INTO cities(name, region, time_zone, created_at, updated_at) VALUES "
      "('Якутск', '', 'Asia/Yakutsk', 0, 0), ('Ёкатерина', '', 'Asia/Yakutsk', 0, 0), "
      "('абакан', '', 'Asia/Krasnoyarsk', 0, 0)");
  civic::sqlite::Migrate(db, civic::events::Migrations());
  // Rows stored before the migration have keys; new and renamed rows get theirs from triggers.
  db.Exec(
      "INSERT INTO cities(name, region, time_zone, created_at, updated_at) VALUES "
      "('Елизово', '', 'Asia/Kamchatka', 0, 0)");
  db.Exec("UPDATE cities SET name = 'Абакан' WHERE name = 'абакан'");
  auto ordered = db.Prepare("SELECT name FROM cities ORDER BY name_key, id");
  std::vector<std::string> names;
  while (ordered.Step()) {
    names.push_back(ordered.ColumnText(0));
  }
  CHECK(names == std::vector<std::string>{"Абакан", "Ёкатерина", "Елизово", "Якутск"});

  for (const char* sql : {
           "SELECT id FROM people WHERE (name_key, id) > ('a', 1) ORDER BY name_key, id LIMIT 21",
           "SELECT id FROM people WHERE city_id = 1 ORDER BY name_key, id LIMIT 21",
           "SELECT id FROM teams WHERE program_id = 1 ORDER BY name_key DESC, id DESC LIMIT 21",
       }) {
    auto plan = db.Prepare(std::string("EXPLAIN QUERY PLAN ") + sql);
    std::string text;
    while (plan.Step()) {
      text += plan.ColumnText(3) + "\n";
    }
    INFO(sql << "\n" << text);
    CHECK(text.find("name_key") != std::string::npos);
    CHECK(text.find("TEMP B-TREE") == std::string::npos);
  }
}

TEST_CASE("Events schema: registration counters start from the registrations already stored",
          "[events][migrations][statistics]") {
  Database db = Database::Open(":memory:");
  civic::events::RegisterSearchFunctions(db);
  civic::events::RegisterSortKeyFunction(db);
  civic::events::RegisterLocalDateFunction(db);
  std::vector<civic::sqlite::Migration> up_to_16(civic::events::Migrations().begin(),
                                                 civic::events::Migrations().begin() + 16);
  REQUIRE(civic::sqlite::Migrate(db, up_to_16) == 16);
  db.Exec(R"sql(
INSERT INTO cities(name, region, time_zone, created_at, updated_at) VALUES
  ('Саров', '', 'Europe/Moscow', 0, 0);
INSERT INTO organizations(name, sector, created_at, updated_at) VALUES ('НКО', 'ngo', 0, 0);
INSERT INTO people(name, city_id, organization_id, created_at, updated_at) VALUES
  ('Анна', 1, 1, 0, 0), ('Борис', 1, NULL, 0, 0), ('Вера', NULL, 1, 0, 0);
INSERT INTO events(kind, title, city_id, format, starts_at, ends_at, status, created_at,
                   updated_at) VALUES ('forum', 'Форум', 1, 'offline', 0, 1, 'published', 0, 0);
INSERT INTO registrations(event_id, person_id, status, checked_in_at, created_at, updated_at)
  VALUES (1, 1, 'confirmed', 5, 0, 0), (1, 2, 'cancelled', NULL, 0, 0),
         (1, 3, 'waitlisted', NULL, 0, 0);
)sql");
  civic::sqlite::Migrate(db, civic::events::Migrations());
  auto count = [&](const std::string& dimension, const std::string& key,
                   const std::string& status) {
    auto statement = db.Prepare(
        "SELECT coalesce(sum(count), 0) FROM registration_counts WHERE event_id = 1 AND "
        "dimension = ? AND key = ? AND status = ?");
    statement.Bind(1, dimension).Bind(2, key).Bind(3, status);
    REQUIRE(statement.Step());
    return statement.ColumnInt64(0);
  };
  CHECK(count("all", "", "confirmed") == 1);
  CHECK(count("all", "", "attended") == 1);
  CHECK(count("all", "", "waitlisted") == 1);
  CHECK(count("city", "1", "cancelled") == 1);
  CHECK(count("city", "", "waitlisted") == 1);
  CHECK(count("sector", "ngo", "confirmed") == 1);
  CHECK(count("sector", "", "cancelled") == 1);
  // Then the triggers keep them in step.
  db.Exec("UPDATE registrations SET status = 'confirmed' WHERE person_id = 3");
  CHECK(count("all", "", "confirmed") == 2);
  CHECK(count("all", "", "waitlisted") == 0);
  CHECK(count("sector", "ngo", "confirmed") == 2);
}

TEST_CASE(
    "Events schema: check-ins stored before attendance become check-ins for the event's "
    "local day",
    "[events][migrations][attendance]") {
  Database db = Database::Open(":memory:");
  civic::events::RegisterSearchFunctions(db);
  civic::events::RegisterSortKeyFunction(db);
  civic::events::RegisterLocalDateFunction(db);
  std::vector<civic::sqlite::Migration> up_to_20(civic::events::Migrations().begin(),
                                                 civic::events::Migrations().begin() + 20);
  REQUIRE(civic::sqlite::Migrate(db, up_to_20) == 20);
  // A two-day forum in Yakutsk (UTC+9): 2022-09-08T09:00+09:00 (00:00Z) to
  // 2022-09-09T18:00+09:00 (09:00Z). Anna checked in at 2022-09-08T16:00Z, 01:00 on 9 September
  // in Yakutsk; Boris the evening before the forum (clamped to its first day); Vera not at all.
  db.Exec(R"sql(
INSERT INTO cities(name, region, time_zone, created_at, updated_at) VALUES
  ('Якутск', '', 'Asia/Yakutsk', 0, 0);
INSERT INTO people(name, city_id, created_at, updated_at) VALUES
  ('Анна', 1, 0, 0), ('Борис', 1, 0, 0), ('Вера', 1, 0, 0);
INSERT INTO events(kind, title, city_id, format, starts_at, ends_at, status, created_at,
                   updated_at) VALUES
  ('forum', 'Якутск 4.0.0 Старт', 1, 'offline', 1662595200000, 1662714000000, 'published', 0, 0);
INSERT INTO registrations(event_id, person_id, status, checked_in_at, created_at, updated_at)
  VALUES (1, 1, 'confirmed', 1662652800000, 0, 0), (1, 2, 'confirmed', 1662548400000, 0, 0),
         (1, 3, 'confirmed', NULL, 0, 0);
)sql");
  civic::sqlite::Migrate(db, civic::events::Migrations());
  auto rows = db.Prepare(
      "SELECT person_id, day, session_id IS NULL, checked_in_at, registration_id "
      "FROM attendances ORDER BY person_id");
  std::vector<std::string> seen;
  while (rows.Step()) {
    CHECK(rows.ColumnInt64(2) == 1);
    CHECK(rows.ColumnInt64(4) == rows.ColumnInt64(0));
    seen.push_back(std::to_string(rows.ColumnInt64(0)) + " " + rows.ColumnText(1) + " " +
                   std::to_string(rows.ColumnInt64(3)));
  }
  CHECK(seen ==
        std::vector<std::string>{"1 2022-09-09 1662652800000", "2 2022-09-08 1662548400000"});
  auto counts = db.Prepare(
      "SELECT day, session_id, count FROM attendance_counts WHERE event_id = 1 ORDER BY day");
  std::vector<std::string> counted;
  while (counts.Step()) {
    counted.push_back(counts.ColumnText(0) + " " + std::to_string(counts.ColumnInt64(1)) + " " +
                      std::to_string(counts.ColumnInt64(2)));
  }
  CHECK(counted == std::vector<std::string>{"2022-09-08 0 1", "2022-09-09 0 1"});
  // One check-in per person and day, whatever the writer.
  CHECK_THROWS(
      db.Exec("INSERT INTO attendances(registration_id, event_id, person_id, day, checked_in_at) "
              "VALUES (1, 1, 1, '2022-09-09', 0)"));
}

TEST_CASE("Events schema: attendance lists and name-sorted nominee pages are index range scans",
          "[events][migrations][attendance][collation]") {
  Database db = Database::Open(":memory:");
  civic::events::RegisterSearchFunctions(db);
  civic::events::RegisterSortKeyFunction(db);
  civic::events::RegisterLocalDateFunction(db);
  civic::sqlite::Migrate(db, civic::events::Migrations());
  for (const char* sql : {
           "SELECT id FROM nominees WHERE award_id = 1 AND (name_key, id) > ('a', 1) "
           "ORDER BY name_key, id LIMIT 21",
           "SELECT id FROM nominees WHERE nomination_id = 1 ORDER BY name_key DESC, id DESC "
           "LIMIT 21",
           "SELECT id FROM nominees ORDER BY name_key, id LIMIT 21",
           "SELECT id FROM attendances WHERE event_id = 1 AND day = '2022-09-08' AND id > 5 "
           "ORDER BY id LIMIT 21",
           "SELECT id FROM attendances WHERE event_id = 1 AND session_id = 2 ORDER BY id LIMIT 21",
       }) {
    auto plan = db.Prepare(std::string("EXPLAIN QUERY PLAN ") + sql);
    std::string text;
    while (plan.Step()) {
      text += plan.ColumnText(3) + "\n";
    }
    INFO(sql << "\n" << text);
    CHECK(text.find("INDEX") != std::string::npos);
    CHECK(text.find("TEMP B-TREE") == std::string::npos);
  }
  // Nominees carry their award (kept by a trigger) and a Russian sort key.
  db.Exec(R"sql(
INSERT INTO cities(name, region, time_zone, created_at, updated_at) VALUES
  ('Саров', '', 'Europe/Moscow', 0, 0);
INSERT INTO awards(title, edition_year, voting_opens_at, voting_closes_at, results_visibility,
                   status, created_at, updated_at)
  VALUES ('Новые Созидатели', 2026, 0, 1, 'live', 'draft', 0, 0);
INSERT INTO nominations(award_id, title, created_at, updated_at) VALUES (1, 'Лидер', 0, 0);
INSERT INTO nominees(nomination_id, kind, name, city_id, status, created_at, updated_at) VALUES
  (1, 'person', 'Юдина', 1, 'active', 0, 0), (1, 'person', 'Ёлкина', 1, 'active', 0, 0),
  (1, 'person', 'Елисеев', 1, 'active', 0, 0), (1, 'person', 'абрамов', 1, 'active', 0, 0),
  (1, 'person', 'Абрамова', 1, 'active', 0, 0);
)sql");
  auto ordered = db.Prepare("SELECT name, award_id FROM nominees ORDER BY name_key, id");
  std::vector<std::string> names;
  while (ordered.Step()) {
    CHECK(ordered.ColumnInt64(1) == 1);
    names.push_back(ordered.ColumnText(0));
  }
  CHECK(names == std::vector<std::string>{"абрамов", "Абрамова", "Елисеев", "Ёлкина", "Юдина"});
}
