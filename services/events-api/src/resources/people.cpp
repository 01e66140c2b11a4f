#include "resources/people.hpp"

#include "access/scope.hpp"
#include "resources/json_util.hpp"
#include "resources/references.hpp"

namespace civic::events::resources {

namespace {

constexpr const char* kColumns =
    "id, name, city_id, organization_id, position, bio, email, phone, created_at, updated_at";

}  // namespace

Result<Person> People::FromJson(const nlohmann::json& body, rest::JsonReader::Mode mode) {
  Violations violations;
  rest::JsonReader reader(body, violations, mode);
  Person person;
  person.name = reader.String("name", true).value_or("");
  person.city_id = reader.Id("city_id", false);
  person.organization_id = reader.Id("organization_id", false);
  person.position = reader.String("position", false).value_or("");
  person.bio = reader.String("bio", false).value_or("");
  person.email = reader.String("email", false).value_or("");
  person.phone = reader.String("phone", false).value_or("");
  // Shown, never written: a PATCH of a GET's document passes, a POST naming them is refused.
  reader.ReadOnly("has_email");
  reader.ReadOnly("has_phone");
  reader.RejectUnknown();
  Validate(person, violations);
  if (!violations.empty()) {
    return violations.ToError();
  }
  return person;
}

nlohmann::json People::Present(const Person& person) {
  return {{"id", person.id},
          {"name", person.name},
          {"city_id", OrNull(person.city_id)},
          {"organization_id", OrNull(person.organization_id)},
          {"position", person.position},
          {"bio", person.bio},
          {"has_email", !person.email.empty()},
          {"has_phone", !person.phone.empty()},
          {"created_at", FormatUtc(person.created_at)},
          {"updated_at", FormatUtc(person.updated_at)}};
}

nlohmann::json People::ToJson(const Person& person) {
  nlohmann::json json = Present(person);
  json.erase("has_email");
  json.erase("has_phone");
  json["email"] = person.email.empty() ? nlohmann::json(nullptr) : nlohmann::json(person.email);
  json["phone"] = person.phone.empty() ? nlohmann::json(nullptr) : nlohmann::json(person.phone);
  return json;
}

void People::CheckReferences(sqlite::Database& db, const Person& person, Violations& violations) {
  RequireExists(db, "cities", "city", "city_id", person.city_id, violations);
  RequireExists(db, "organizations", "organization", "organization_id", person.organization_id,
                violations);
}

Person People::FromRow(sqlite::Statement& row) {
  Person person;
  person.id = row.ColumnInt64(0);
  person.name = row.ColumnText(1);
  person.city_id = row.ColumnOptionalInt64(2);
  person.organization_id = row.ColumnOptionalInt64(3);
  person.position = row.ColumnText(4);
  person.bio = row.ColumnText(5);
  person.email = row.ColumnText(6);
  person.phone = row.ColumnText(7);
  person.created_at = FromMillis(row.ColumnInt64(8));
  person.updated_at = FromMillis(row.ColumnInt64(9));
  return person;
}

std::optional<Person> People::Get(sqlite::Database& db, int64_t id) {
  auto statement = db.Prepare(std::string("SELECT ") + kColumns + " FROM people WHERE id = ?");
  statement.Bind(1, id);
  if (!statement.Step()) {
    return std::nullopt;
  }
  return FromRow(statement);
}

namespace {

// Binds the columns an insert and an update both write, as parameters 1 to 7.
sqlite::Statement& BindWritable(sqlite::Statement& statement, const Person& person) {
  return statement.Bind(1, person.name)
      .Bind(2, person.city_id)
      .Bind(3, person.organization_id)
      .Bind(4, person.position)
      .Bind(5, person.bio)
      .Bind(6, person.email)
      .Bind(7, person.phone);
}

}  // namespace

void People::Insert(sqlite::Database& db, Person& person) {
  auto statement = db.Prepare(
      "INSERT INTO people(name, city_id, organization_id, position, bio, email, phone, "
      "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  BindWritable(statement, person)
      .Bind(8, Millis(person.created_at))
      .Bind(9, Millis(person.updated_at))
      .Run();
  person.id = db.LastInsertRowid();
}

void People::Update(sqlite::Database& db, const Person& person) {
  auto statement = db.Prepare(
      "UPDATE people SET name = ?, city_id = ?, organization_id = ?, position = ?, bio = ?, "
      "email = ?, phone = ?, updated_at = ? WHERE id = ?");
  BindWritable(statement, person).Bind(8, Millis(person.updated_at)).Bind(9, person.id).Run();
}

std::optional<std::string> People::DeleteConflict(sqlite::Database& db, int64_t id) {
  // Registrations are never removed (a cancelled one stays for history), so FindReferences'
  // "remove those first" would be advice nobody can follow.
  auto registrations = db.Prepare("SELECT count(*) FROM registrations WHERE person_id = ?");
  registrations.Bind(1, id);
  if (registrations.Step() && registrations.ColumnInt64(0) > 0) {
    return "The person has " + std::to_string(registrations.ColumnInt64(0)) +
           " event registration(s), kept for history (cancelled ones too), so the person is "
           "kept.";
  }
  // Reviews of decided projects are their record and cannot be removed either.
  auto reviews = db.Prepare("SELECT count(*) FROM reviews WHERE expert_id = ?");
  reviews.Bind(1, id);
  if (reviews.Step() && reviews.ColumnInt64(0) > 0) {
    return "The person wrote " + std::to_string(reviews.ColumnInt64(0)) +
           " expert review(s) of projects, kept as their record, so the person is kept.";
  }
  return FindReferences(db, "people", "person", id);
}

void People::Delete(sqlite::Database& db, int64_t id) {
  db.Prepare("DELETE FROM people WHERE id = ?").Bind(1, id).Run();
}

const rest::ListSpec& People::List() {
  using rest::Filter;
  static const rest::ListSpec kSpec = {
      .table = "people",
      .columns = kColumns,
      .filters =
          {
              rest::SearchFilter("people"),
              Filter{"organization_id", "organization_id = ?", Filter::Kind::kId, {}},
              Filter{"city_id", "city_id = ?", Filter::Kind::kId, {}},
              Filter{"name", "name = ?", Filter::Kind::kText, {}},
          },
      .sorts = {{"id", "id", false},
                {"name", "name_key", true},
                {"created_at", "created_at", false}},
      .access = {},  // the route admits organizers only; each reads every row
  };
  return kSpec;
}

nlohmann::json People::PresentFor(sqlite::Database& db, const Person& person) {
  nlohmann::json json = Present(person);
  if (person.id != 0 && access::MaySeeContacts(db, access::Current(), person.id)) {
    json["email"] = person.email.empty() ? nlohmann::json(nullptr) : nlohmann::json(person.email);
    json["phone"] = person.phone.empty() ? nlohmann::json(nullptr) : nlohmann::json(person.phone);
  }
  return json;
}

bool People::MayWrite(sqlite::Database& db, const Person& person, const access::Caller& caller) {
  if (caller.is_admin() || person.id == 0) {
    return true;
  }
  return access::MaySeeContacts(db, caller, person.id);
}
}  // namespace civic::events::resources
