#include "resources/cities.hpp"

#include "civic/domain/registration.hpp"
#include "resources/attendances.hpp"
#include "resources/events.hpp"
#include "resources/json_util.hpp"
#include "resources/references.hpp"

namespace civic::events::resources {

namespace {

constexpr const char* kColumns =
    "id, name, region, time_zone, population, tags, created_at, updated_at";

}  // namespace

Result<City> Cities::FromJson(const nlohmann::json& body, rest::JsonReader::Mode mode) {
  Violations violations;
  rest::JsonReader reader(body, violations, mode);
  City city;
  city.name = reader.String("name", true).value_or("");
  city.region = reader.String("region", false).value_or("");
  city.time_zone = reader.String("time_zone", true).value_or("");
  city.population = reader.Integer("population", false);
  city.tags = reader.StringArray("tags", false, 20).value_or(std::vector<std::string>{});
  reader.RejectUnknown();
  Validate(city, violations);
  if (!violations.empty()) {
    return violations.ToError();
  }
  return city;
}

nlohmann::json Cities::ToJson(const City& city) {
  return {{"id", city.id},
          {"name", city.name},
          {"region", city.region},
          {"time_zone", city.time_zone},
          {"population", OrNull(city.population)},
          {"tags", city.tags},
          {"created_at", FormatUtc(city.created_at)},
          {"updated_at", FormatUtc(city.updated_at)}};
}

void Cities::CheckReferences(sqlite::Database& db, const City& city, Violations& violations) {
  if (city.id == 0) {
    return;
  }
  const auto stored = Get(db, city.id);
  if (!stored || stored->time_zone == city.time_zone) {
    return;
  }
  // The city's events take its zone, and their days with it: no check-in for a day may fall
  // outside its event's days in the new zone.
  auto events = db.Prepare(
      "SELECT id FROM events WHERE city_id = ? AND EXISTS (SELECT 1 FROM attendances WHERE "
      "attendances.event_id = events.id AND attendances.day IS NOT NULL) ORDER BY id");
  events.Bind(1, city.id);
  int64_t count = 0;
  std::string first;
  while (events.Step()) {
    auto event = Events::Get(db, events.ColumnInt64(0));
    if (!event) {
      continue;
    }
    const EventDays stored_days = DaysOf(*event);
    event->time_zone = city.time_zone;
    const EventDays days = DaysOf(*event);
    const CheckInsOutside outside = CheckInsOutsideDays(db, event->id, days);
    // As for a change of the event itself: only an end of its days that moves inward counts.
    const int64_t before = days.first > stored_days.first ? outside.before : 0;
    const int64_t after = days.last < stored_days.last ? outside.after : 0;
    if (before + after == 0) {
      continue;
    }
    if (first.empty()) {
      first = "event " + std::to_string(event->id) + " «" + event->title + "» (its days would be " +
              days.first + " to " + days.last + ", and it has a check-in on " +
              (before > 0 ? outside.earliest : outside.latest) + ")";
    }
    count += before + after;
  }
  if (count > 0) {
    violations.Add("time_zone", std::to_string(count) +
                                    " check-in(s) would fall outside their event's days in " +
                                    city.time_zone + ", first " + first +
                                    ": undo them first (DELETE /v1/attendances/{id}) or keep "
                                    "the zone");
  }
}

City Cities::FromRow(sqlite::Statement& row) {
  City city;
  city.id = row.ColumnInt64(0);
  city.name = row.ColumnText(1);
  city.region = row.ColumnText(2);
  city.time_zone = row.ColumnText(3);
  city.population = row.ColumnOptionalInt64(4);
  city.tags = StringsFromJsonText(row.ColumnText(5));
  city.created_at = FromMillis(row.ColumnInt64(6));
  city.updated_at = FromMillis(row.ColumnInt64(7));
  return city;
}

std::optional<City> Cities::Get(sqlite::Database& db, int64_t id) {
  auto statement = db.Prepare(std::string("SELECT ") + kColumns + " FROM cities WHERE id = ?");
  statement.Bind(1, id);
  if (!statement.Step()) {
    return std::nullopt;
  }
  return FromRow(statement);
}

void Cities::Insert(sqlite::Database& db, City& city) {
  db.Prepare(
        "INSERT INTO cities(name, region, time_zone, population, tags, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)")
      .Bind(1, city.name)
      .Bind(2, city.region)
      .Bind(3, city.time_zone)
      .Bind(4, city.population)
      .Bind(5, ToJsonText(city.tags))
      .Bind(6, Millis(city.created_at))
      .Bind(7, Millis(city.updated_at))
      .Run();
  city.id = db.LastInsertRowid();
}

void Cities::Update(sqlite::Database& db, const City& city) {
  const std::optional<City> before = Get(db, city.id);
  db.Prepare(
        "UPDATE cities SET name = ?, region = ?, time_zone = ?, population = ?, tags = ?, "
        "updated_at = ? WHERE id = ?")
      .Bind(1, city.name)
      .Bind(2, city.region)
      .Bind(3, city.time_zone)
      .Bind(4, city.population)
      .Bind(5, ToJsonText(city.tags))
      .Bind(6, Millis(city.updated_at))
      .Bind(7, city.id)
      .Run();
  if (before && (before->name != city.name || before->region != city.region)) {
    // Award snapshots name each nominee's city and its region: every award with a nominee here
    // changed.
    db.Prepare(
          "UPDATE awards SET version = version + 1 WHERE id IN (SELECT m.award_id FROM nominees "
          "AS n JOIN nominations AS m ON m.id = n.nomination_id WHERE n.city_id = ?)")
        .Bind(1, city.id)
        .Run();
  }
}

std::optional<std::string> Cities::DeleteConflict(sqlite::Database& db, int64_t id) {
  return FindReferences(db, "cities", "city", id);
}

void Cities::Delete(sqlite::Database& db, int64_t id) {
  db.Prepare("DELETE FROM cities WHERE id = ?").Bind(1, id).Run();
}

const rest::ListSpec& Cities::List() {
  using rest::Filter;
  static const rest::ListSpec kSpec = {
      .table = "cities",
      .columns = kColumns,
      .filters =
          {
              rest::SearchFilter("cities"),
              Filter{"region", "region = ?", Filter::Kind::kText, {}},
              Filter{"tag",
                     "EXISTS (SELECT 1 FROM json_each(cities.tags) WHERE value = ?)",
                     Filter::Kind::kText,
                     {}},
              Filter{"name", "name = ?", Filter::Kind::kText, {}},
          },
      .sorts = {{"id", "id", false},
                {"name", "name_key", true},
                {"population", "coalesce(population, -1)", false},
                {"created_at", "created_at", false}},
      .access = {},  // every row is public
  };
  return kSpec;
}

}  // namespace civic::events::resources
