// civic-bench-events-export-fill: makes an events database for the export bench
// (bench/events-api/export-rss.sh): one program, event 1 with N registrations and event 2 with
// the first M of the same people, every person with an organisation, a city, an e-mail and a
// phone, a tenth of the names with a comma and quotes (quoted fields), every phone starting with
// '+' (a neutralised cell). Written with the service's own Store (so the
// schema and its migrations are the service's); the people's sort-key and text-search triggers
// are dropped for the fill and put back after it (the exports read neither), which makes
// 100,000 people seconds instead of minutes.
//
//   civic-bench-events-export-fill --data-dir DIR --registrations 100000 --small 1000
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "storage/store.hpp"

namespace {

constexpr const char* kSectors[] = {"government", "ngo", "business", "volunteer"};

void Fill(civic::events::Store& store, int n, int small) {
  store.Write([&](civic::sqlite::Database& db) {
    std::vector<std::string> triggers;
    {
      auto saved = db.Prepare(
          "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'people'");
      std::vector<std::string> names;
      while (saved.Step()) {
        names.push_back(saved.ColumnText(0));
        triggers.push_back(saved.ColumnText(1));
      }
      saved.Reset();
      for (const std::string& name : names) {
        db.Exec("DROP TRIGGER " + name);
      }
    }
    db.Exec(
        "INSERT INTO programs(title, kind, starts_on, created_at, updated_at) "
        "VALUES ('Люди для города', 'education', '2026-09-01', 0, 0)");
    for (int c = 0; c < 7; ++c) {
      db.Prepare(
            "INSERT INTO cities(name, region, time_zone, created_at, updated_at) "
            "VALUES (?, '', 'Asia/Novokuznetsk', 0, 0)")
          .Bind(1, "Город " + std::to_string(c + 1))
          .Run();
    }
    for (int o = 0; o < 4; ++o) {
      db.Prepare(
            "INSERT INTO organizations(name, sector, created_at, updated_at) VALUES (?, ?, 0, 0)")
          .Bind(1, "Организация «" + std::to_string(o + 1) + "», город")
          .Bind(2, kSectors[o])
          .Run();
    }
    for (int e = 0; e < 2; ++e) {
      db.Prepare(
            "INSERT INTO events(kind, title, program_id, city_id, format, starts_at, ends_at, "
            "status, created_at, updated_at) VALUES ('rally', ?, 1, 1, 'offline', "
            "1900000000000, 1900100000000, 'published', 0, 0)")
          .Bind(1, e == 0 ? "Слёт «Люди для города»" : "Малый семинар")
          .Run();
    }
    auto person = db.Prepare(
        "INSERT INTO people(name, city_id, organization_id, position, email, phone, created_at, "
        "updated_at) VALUES (?, ?, ?, 'координатор', ?, ?, 0, 0)");
    auto registration = db.Prepare(
        "INSERT INTO registrations(event_id, person_id, status, checked_in_at, created_at, "
        "updated_at, city_id, sector) VALUES (?, ?, 'confirmed', ?, ?, ?, ?, ?)");
    for (int i = 0; i < n; ++i) {
      const std::string number = std::to_string(i + 1);
      const std::string name =
          i % 10 == 0 ? "Участникова, Анна \"" + number + "\"" : "Участник Номер " + number;
      person.Bind(1, name)
          .Bind(2, static_cast<int64_t>(i % 7 + 1))
          .Bind(3, static_cast<int64_t>(i % 4 + 1))
          .Bind(4, "person" + number + "@example.org")
          .Bind(5, "+7912" + std::to_string(1000000 + i))
          .Run();
      person.Reset();
      const int64_t person_id = db.LastInsertRowid();
      for (int64_t event = 1; event <= (i < small ? 2 : 1); ++event) {
        const int64_t at = 1'800'000'000'000 + i * 1000;
        registration.Bind(1, event)
            .Bind(2, person_id)
            .Bind(3, at + 500)
            .Bind(4, at)
            .Bind(5, at)
            .Bind(6, static_cast<int64_t>(i % 7 + 1))
            .Bind(7, kSectors[i % 4])
            .Run();
        registration.Reset();
      }
    }
    for (const std::string& sql : triggers) {
      db.Exec(sql);
    }
    return 0;
  });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Fills an events database for the export bench"};
  std::string data_dir;
  int registrations = 100'000;
  int small = 1'000;
  app.add_option("--data-dir", data_dir, "Directory of events.db (created)")->required();
  app.add_option("--registrations", registrations, "Registrations of event 1")
      ->check(CLI::Range(1, 10'000'000));
  app.add_option("--small", small, "Registrations of event 2 (the first people of event 1)")
      ->check(CLI::Range(0, 10'000'000));
  CLI11_PARSE(app, argc, argv);
  std::filesystem::create_directories(data_dir);
  const auto start = std::chrono::steady_clock::now();
  civic::events::Store store((std::filesystem::path(data_dir) / "events.db").string(), 1,
                             civic::sqlite::Synchronous::kNormal);
  Fill(store, registrations, small < registrations ? small : registrations);
  store.Close();
  std::printf("filled %d + %d registrations in %.1f s\n", registrations, small,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return 0;
}
