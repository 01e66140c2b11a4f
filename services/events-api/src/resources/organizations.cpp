#include "resources/organizations.hpp"

#include "resources/json_util.hpp"
#include "resources/references.hpp"

namespace civic::events::resources {

namespace {

constexpr const char* kColumns = "id, name, sector, city_id, website, created_at, updated_at";

}  // namespace

Result<Organization> Organizations::FromJson(const nlohmann::json& body,
                                             rest::JsonReader::Mode mode) {
  Violations violations;
  rest::JsonReader reader(body, violations, mode);
  Organization organization;
  organization.name = reader.String("name", true).value_or("");
  organization.sector = reader.Enum("sector", Sectors(), true).value_or("other");
  organization.city_id = reader.Id("city_id", false);
  organization.website = reader.String("website", false).value_or("");
  reader.RejectUnknown();
  Validate(organization, violations);
  if (!violations.empty()) {
    return violations.ToError();
  }
  return organization;
}

nlohmann::json Organizations::ToJson(const Organization& organization) {
  return {{"id", organization.id},
          {"name", organization.name},
          {"sector", organization.sector},
          {"city_id", OrNull(organization.city_id)},
          {"website", organization.website},
          {"created_at", FormatUtc(organization.created_at)},
          {"updated_at", FormatUtc(organization.updated_at)}};
}

void Organizations::CheckReferences(sqlite::Database& db, const Organization& organization,
                                    Violations& violations) {
  RequireExists(db, "cities", "city", "city_id", organization.city_id, violations);
}

Organization Organizations::FromRow(sqlite::Statement& row) {
  Organization organization;
  organization.id = row.ColumnInt64(0);
  organization.name = row.ColumnText(1);
  organization.sector = row.ColumnText(2);
  organization.city_id = row.ColumnOptionalInt64(3);
  organization.website = row.ColumnText(4);
  organization.created_at = FromMillis(row.ColumnInt64(5));
  organization.updated_at = FromMillis(row.ColumnInt64(6));
  return organization;
}

std::optional<Organization> Organizations::Get(sqlite::Database& db, int64_t id) {
  auto statement =
      db.Prepare(std::string("SELECT ") + kColumns + " FROM organizations WHERE id = ?");
  statement.Bind(1, id);
  if (!statement.Step()) {
    return std::nullopt;
  }
  return FromRow(statement);
}

void Organizations::Insert(sqlite::Database& db, Organization& organization) {
  db.Prepare(
        "INSERT INTO organizations(name, sector, city_id, website, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?)")
      .Bind(1, organization.name)
      .Bind(2, organization.sector)
      .Bind(3, organization.city_id)
      .Bind(4, organization.website)
      .Bind(5, Millis(organization.created_at))
      .Bind(6, Millis(organization.updated_at))
      .Run();
  organization.id = db.LastInsertRowid();
}

void Organizations::Update(sqlite::Database& db, const Organization& organization) {
  db.Prepare(
        "UPDATE organizations SET name = ?, sector = ?, city_id = ?, website = ?, updated_at = ? "
        "WHERE id = ?")
      .Bind(1, organization.name)
      .Bind(2, organization.sector)
      .Bind(3, organization.city_id)
      .Bind(4, organization.website)
      .Bind(5, Millis(organization.updated_at))
      .Bind(6, organization.id)
      .Run();
}

std::optional<std::string> Organizations::DeleteConflict(sqlite::Database& db, int64_t id) {
  return FindReferences(db, "organizations", "organization", id);
}

void Organizations::Delete(sqlite::Database& db, int64_t id) {
  db.Prepare("DELETE FROM organizations WHERE id = ?").Bind(1, id).Run();
}

const rest::ListSpec& Organizations::List() {
  using rest::Filter;
  static const rest::ListSpec kSpec = {
      .table = "organizations",
      .columns = kColumns,
      .filters =
          {
              rest::SearchFilter("organizations"),
              Filter{"sector", "sector = ?", Filter::Kind::kEnum, Sectors()},
              Filter{"city_id", "city_id = ?", Filter::Kind::kId, {}},
              Filter{"name", "name = ?", Filter::Kind::kText, {}},
          },
      .sorts = {{"id", "id", false},
                {"name", "name_key", true},
                {"created_at", "created_at", false}},
      .access = {},  // every row is public
  };
  return kSpec;
}

}  // namespace civic::events::resources
