// civic-bench-events-statistics: what GET /v1/events/{id}/statistics costs with few and with many
// registrations. Fills a fresh events database (the service's own Store and registration code,
// so the counters' triggers run as in production) with one event of N registrations from people
// of 30 cities and 7 sectors, 30 % of them in teams, a tenth cancelled and a third checked in
// (on one of the event's two days, half of those also at one of its three sessions); then times, in
// one process, the statistics as the service reads them (the counters) and, as the baseline, the
// same numbers aggregated from the registrations themselves.
//
//   civic-bench-events-statistics --registrations 100 --registrations 100000 [--runs 200]
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "civic/domain/registration.hpp"
#include "resources/registration_flow.hpp"
#include "resources/statistics.hpp"
#include "storage/store.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using civic::events::Store;

constexpr const char* kSectors[] = {"government", "ngo",   "business", "volunteer",
                                    "education",  "media", "other"};

// Fills `store` with one event of `n` registrations; returns the event's id.
int64_t Fill(Store& store, int n) {
  return store.Write([&](civic::sqlite::Database& db) {
    db.Exec(
        "INSERT INTO programs(title, kind, starts_on, created_at, updated_at) "
        "VALUES ('Добрые города', 'accelerator', '2026-09-01', 0, 0)");
    for (int c = 0; c < 30; ++c) {
      db.Prepare(
            "INSERT INTO cities(name, region, time_zone, created_at, updated_at) "
            "VALUES (?, '', 'Europe/Moscow', 0, 0)")
          .Bind(1, "Город " + std::to_string(c + 1))
          .Run();
    }
    for (int o = 0; o < 7; ++o) {
      db.Prepare(
            "INSERT INTO organizations(name, sector, created_at, updated_at) VALUES (?, ?, 0, 0)")
          .Bind(1, "Организация " + std::to_string(o + 1))
          .Bind(2, kSectors[o])
          .Run();
    }
    for (int t = 0; t < 100; ++t) {
      db.Prepare(
            "INSERT INTO teams(city_id, program_id, name, status, created_at, updated_at) "
            "VALUES (?, 1, ?, 'active', 0, 0)")
          .Bind(1, static_cast<int64_t>(t % 30 + 1))
          .Bind(2, "Команда " + std::to_string(t + 1))
          .Run();
    }
    civic::Event event;
    event.status = "published";
    const civic::Instant now{std::chrono::milliseconds(1'800'000'000'000)};
    db.Prepare(
          "INSERT INTO events(kind, title, program_id, city_id, format, starts_at, ends_at, "
          "capacity, status, created_at, updated_at) VALUES ('forum', 'Форум', 1, 1, 'offline', "
          "?, ?, ?, 'published', 0, 0)")
        .Bind(1, static_cast<int64_t>(1'900'000'000'000))
        .Bind(2, static_cast<int64_t>(1'900'100'000'000))
        .Bind(3, static_cast<int64_t>(n * 9 / 10))
        .Run();
    event.id = db.LastInsertRowid();
    event.capacity = n * 9 / 10;
    event.time_zone = "Europe/Moscow";
    event.starts_at = civic::Instant{std::chrono::milliseconds(1'900'000'000'000)};
    event.ends_at = civic::Instant{std::chrono::milliseconds(1'900'100'000'000)};
    const civic::EventDays days = civic::DaysOf(event);
    for (int s = 0; s < 3; ++s) {
      db.Prepare(
            "INSERT INTO sessions(event_id, kind, title, starts_at, ends_at, created_at, "
            "updated_at) VALUES (?, 'master_class', ?, ?, ?, 0, 0)")
          .Bind(1, event.id)
          .Bind(2, "Мастер-класс " + std::to_string(s + 1))
          .Bind(3, static_cast<int64_t>(1'900'000'000'000 + s * 3'600'000))
          .Bind(4, static_cast<int64_t>(1'900'003'600'000 + s * 3'600'000))
          .Run();
    }
    auto attend = db.Prepare(
        "INSERT INTO attendances(registration_id, event_id, person_id, day, session_id, "
        "checked_in_at) VALUES (?, ?, ?, ?, ?, 0)");
    auto person = db.Prepare(
        "INSERT INTO people(name, city_id, organization_id, created_at, updated_at) "
        "VALUES (?, ?, ?, 0, 0)");
    auto cancel =
        db.Prepare("UPDATE registrations SET status = 'cancelled', cancelled_at = 0 WHERE id = ?");
    auto check_in = db.Prepare("UPDATE registrations SET checked_in_at = 0 WHERE id = ?");
    for (int i = 0; i < n; ++i) {
      person.Bind(1, "Участник " + std::to_string(i + 1))
          .Bind(2, static_cast<int64_t>(i % 30 + 1))
          .Bind(3, static_cast<int64_t>(i % 7 + 1))
          .Run();
      person.Reset();
      const int64_t person_id = db.LastInsertRowid();
      const std::optional<int64_t> team =
          i % 10 < 3 ? std::optional<int64_t>(i % 100 + 1) : std::nullopt;
      const civic::Registration r =
          civic::events::resources::AdmitToEvent(db, event, person_id, team, now);
      if (i % 10 == 9) {
        cancel.Bind(1, r.id).Run();
        cancel.Reset();
      } else if (i % 3 == 0 && r.status == "confirmed") {
        check_in.Bind(1, r.id).Run();
        check_in.Reset();
        attend.Bind(1, r.id)
            .Bind(2, event.id)
            .Bind(3, person_id)
            .Bind(4, i % 2 == 0 ? days.first : days.last)
            .Bind(5, nullptr)
            .Run();
        attend.Reset();
        if (i % 6 == 0) {
          attend.Bind(1, r.id)
              .Bind(2, event.id)
              .Bind(3, person_id)
              .Bind(4, nullptr)
              .Bind(5, static_cast<int64_t>(i % 3 + 1))
              .Run();
          attend.Reset();
        }
      }
    }
    return event.id;
  });
}

// The same numbers from the registrations themselves: what the statistics would cost without
// the counters (GROUP BY over the event's rows, one query per dimension, and one over its
// check-ins per day and session).
int64_t Aggregated(civic::sqlite::Database& db, int64_t event) {
  int64_t sum = 0;
  for (const char* key :
       {"''", "coalesce(city_id, '')", "coalesce(sector, '')", "coalesce(team_id, '')"}) {
    auto statement = db.Prepare(std::string("SELECT ") + key +
                                ", status, count(*), count(checked_in_at) FROM registrations "
                                "WHERE event_id = ? GROUP BY 1, 2");
    statement.Bind(1, event);
    while (statement.Step()) {
      sum += statement.ColumnInt64(2) + statement.ColumnInt64(3);
    }
  }
  auto attended = db.Prepare(
      "SELECT day, session_id, count(*) FROM attendances WHERE event_id = ? GROUP BY 1, 2");
  attended.Bind(1, event);
  while (attended.Step()) {
    sum += attended.ColumnInt64(2);
  }
  return sum;
}

double MedianMicros(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Times the events API's registration statistics at several sizes"};
  std::vector<int> sizes;
  int runs = 200;
  app.add_option("--registrations", sizes, "Registrations of the event (repeat for each size)")
      ->required();
  app.add_option("--runs", runs, "Timed requests per size (the median is printed)");
  CLI11_PARSE(app, argc, argv);
  std::printf("%14s %16s %16s %14s\n", "registrations", "counters_us", "aggregate_us", "fill_s");
  for (const int n : sizes) {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("civic-bench-statistics-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    {
      Store store((dir / "events.db").string(), 1, civic::sqlite::Synchronous::kNormal);
      const auto fill_start = Clock::now();
      const int64_t event = Fill(store, n);
      const double fill_s = std::chrono::duration<double>(Clock::now() - fill_start).count();
      std::vector<double> counters;
      std::vector<double> aggregate;
      int64_t check = 0;
      for (int i = 0; i < runs; ++i) {
        store.Read([&](civic::sqlite::Database& db) {
          auto start = Clock::now();
          const auto body = civic::events::resources::RegistrationStatistics(db, "?", event);
          counters.push_back(
              std::chrono::duration<double, std::micro>(Clock::now() - start).count());
          check += body["totals"]["confirmed"].get<int64_t>();
          start = Clock::now();
          check += Aggregated(db, event);
          aggregate.push_back(
              std::chrono::duration<double, std::micro>(Clock::now() - start).count());
          return 0;
        });
      }
      std::printf("%14d %16.1f %16.1f %14.1f\n", n, MedianMicros(counters), MedianMicros(aggregate),
                  fill_s);
      if (check == 0) {
        std::printf("(no confirmed registrations)\n");
      }
    }
    std::filesystem::remove_all(dir);
  }
  return 0;
}
