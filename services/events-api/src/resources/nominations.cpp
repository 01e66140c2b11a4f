#include "resources/nominations.hpp"

#include "resources/awards.hpp"
#include "resources/json_util.hpp"
#include "resources/references.hpp"

namespace civic::events::resources {

namespace {

constexpr const char* kColumns = "id, award_id, title, description, created_at, updated_at";

}  // namespace

Result<Nomination> Nominations::FromJson(const nlohmann::json& body, rest::JsonReader::Mode mode) {
  Violations violations;
  rest::JsonReader reader(body, violations, mode);
  Nomination nomination;
  nomination.award_id = reader.Id("award_id", true).value_or(0);
  nomination.title = reader.String("title", true).value_or("");
  nomination.description = reader.String("description", false).value_or("");
  reader.RejectUnknown();
  Validate(nomination, violations);
  if (!violations.empty()) {
    return violations.ToError();
  }
  return nomination;
}

nlohmann::json Nominations::ToJson(const Nomination& nomination) {
  return {{"id", nomination.id},
          {"award_id", nomination.award_id},
          {"title", nomination.title},
          {"description", nomination.description},
          {"created_at", FormatUtc(nomination.created_at)},
          {"updated_at", FormatUtc(nomination.updated_at)}};
}

void Nominations::CheckReferences(sqlite::Database& db, const Nomination& nomination,
                                  Violations& violations) {
  RequireExists(db, "awards", "award", "award_id", nomination.award_id, violations);
  if (!violations.empty()) {
    return;
  }
  std::optional<Nomination> current;
  if (nomination.id != 0) {
    current = Get(db, nomination.id);
    if (current && current->award_id != nomination.award_id) {
      violations.Add("award_id", "a nomination stays with its award; create a new one instead");
      return;
    }
  }
  // Once the award is final, a new nomination is refused on its award_id, a change on each
  // member it changes; a PATCH that changes nothing passes.
  std::vector<std::string> changed;
  if (!current) {
    changed.emplace_back("award_id");
  } else {
    if (current->title != nomination.title) {
      changed.emplace_back("title");
    }
    if (current->description != nomination.description) {
      changed.emplace_back("description");
    }
  }
  if (!changed.empty()) {
    if (auto reason = FinalAwardReason(db, nomination.award_id, "nominations")) {
      for (const auto& field : changed) {
        violations.Add(field, current ? "cannot change: " + *reason : *reason);
      }
      return;
    }
  }
  auto same_title =
      db.Prepare("SELECT id FROM nominations WHERE award_id = ? AND title = ? AND id <> ?");
  same_title.Bind(1, nomination.award_id).Bind(2, nomination.title).Bind(3, nomination.id);
  if (same_title.Step()) {
    violations.Add("title", "the award already has this nomination (id " +
                                std::to_string(same_title.ColumnInt64(0)) + ")");
  }
}

Nomination Nominations::FromRow(sqlite::Statement& row) {
  Nomination nomination;
  nomination.id = row.ColumnInt64(0);
  nomination.award_id = row.ColumnInt64(1);
  nomination.title = row.ColumnText(2);
  nomination.description = row.ColumnText(3);
  nomination.created_at = FromMillis(row.ColumnInt64(4));
  nomination.updated_at = FromMillis(row.ColumnInt64(5));
  return nomination;
}

std::optional<Nomination> Nominations::Get(sqlite::Database& db, int64_t id) {
  auto statement = db.Prepare(std::string("SELECT ") + kColumns + " FROM nominations WHERE id = ?");
  statement.Bind(1, id);
  if (!statement.Step()) {
    return std::nullopt;
  }
  return FromRow(statement);
}

void Nominations::Insert(sqlite::Database& db, Nomination& nomination) {
  db.Prepare(
        "INSERT INTO nominations(award_id, title, description, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?)")
      .Bind(1, nomination.award_id)
      .Bind(2, nomination.title)
      .Bind(3, nomination.description)
      .Bind(4, Millis(nomination.created_at))
      .Bind(5, Millis(nomination.updated_at))
      .Run();
  nomination.id = db.LastInsertRowid();
  BumpAwardVersion(db, nomination.award_id);
}

void Nominations::Update(sqlite::Database& db, const Nomination& nomination) {
  db.Prepare("UPDATE nominations SET title = ?, description = ?, updated_at = ? WHERE id = ?")
      .Bind(1, nomination.title)
      .Bind(2, nomination.description)
      .Bind(3, Millis(nomination.updated_at))
      .Bind(4, nomination.id)
      .Run();
  BumpAwardVersion(db, nomination.award_id);
}

std::optional<std::string> Nominations::DeleteConflict(sqlite::Database& db, int64_t id,
                                                       Instant now) {
  if (auto award_id = AwardOfNomination(db, id)) {
    if (auto reason = FinalAwardReason(db, *award_id, "nominations")) {
      return "The nomination is kept: " + *reason + ".";
    }
    auto award = Awards::Get(db, *award_id);
    if (award && VotingHasOpened(*award, now)) {
      return "Voting on award " + std::to_string(*award_id) +
             " has opened: its nominations are kept (withdraw nominees instead).";
    }
  }
  return FindReferences(db, "nominations", "nomination", id);
}

void Nominations::Delete(sqlite::Database& db, int64_t id) {
  const auto award_id = AwardOfNomination(db, id);
  db.Prepare("DELETE FROM nominations WHERE id = ?").Bind(1, id).Run();
  if (award_id) {
    BumpAwardVersion(db, *award_id);
  }
}

const rest::ListSpec& Nominations::List() {
  using rest::Filter;
  static const rest::ListSpec kSpec = {
      .table = "nominations",
      .columns = kColumns,
      .filters =
          {
              rest::SearchFilter("nominations"),
              Filter{"award_id", "award_id = ?", Filter::Kind::kId, {}},
              Filter{"title", "title = ?", Filter::Kind::kText, {}},
          },
      .sorts = {{"id", "id", false}, {"title", "title", true}, {"created_at", "created_at", false}},
      .access =
          {.program_sql = "(SELECT program_id FROM awards WHERE awards.id = nominations.award_id)",
           .public_sql =
               "(SELECT status FROM awards WHERE awards.id = nominations.award_id) <> 'draft'",
           .expert_sql = "",
           .frontend_reads = false,
           .frontend_own_sql = ""},
  };
  return kSpec;
}

std::optional<int64_t> Nominations::ProgramOf(sqlite::Database& db, const Nomination& nomination) {
  return ProgramOfRow(db, "SELECT program_id FROM awards WHERE id = ?", nomination.award_id);
}
}  // namespace civic::events::resources
