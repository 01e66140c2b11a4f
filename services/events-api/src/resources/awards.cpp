#include "resources/awards.hpp"

#include "resources/json_util.hpp"
#include "resources/references.hpp"

namespace civic::events::resources {

namespace {

constexpr const char* kColumns =
    "id, title, edition_year, program_id, description, voting_opens_at, voting_closes_at, "
    "max_choices_per_nomination, results_visibility, status, created_at, updated_at, "
    "applications_open_at, applications_close_at";

}  // namespace

void BumpAwardVersion(sqlite::Database& db, int64_t award_id) {
  db.Prepare("UPDATE awards SET version = version + 1 WHERE id = ?").Bind(1, award_id).Run();
}

std::optional<int64_t> AwardOfNomination(sqlite::Database& db, int64_t nomination_id) {
  auto statement = db.Prepare("SELECT award_id FROM nominations WHERE id = ?");
  statement.Bind(1, nomination_id);
  if (!statement.Step()) {
    return std::nullopt;
  }
  return statement.ColumnInt64(0);
}

std::optional<std::string> FinalAwardReason(sqlite::Database& db, int64_t award_id,
                                            const std::string& what) {
  auto award = Awards::Get(db, award_id);
  if (!award || !IsFinal(*award)) {
    return std::nullopt;
  }
  return "award " + std::to_string(award_id) + " is " + award->status + "; its " + what +
         " are final";
}

Result<Award> Awards::FromJson(const nlohmann::json& body, rest::JsonReader::Mode mode) {
  Violations violations;
  rest::JsonReader reader(body, violations, mode);
  Award award;
  award.title = reader.String("title", true).value_or("");
  award.edition_year = reader.Integer("edition_year", true).value_or(2000);
  award.program_id = reader.Id("program_id", false);
  award.description = reader.String("description", false).value_or("");
  const auto opens = reader.Time("voting_opens_at", true);
  const auto closes = reader.Time("voting_closes_at", true);
  award.voting_opens_at = opens.value_or(Instant{});
  // A missing or malformed bound is already reported: do not also report the order.
  award.voting_closes_at =
      opens && closes ? *closes : award.voting_opens_at + std::chrono::milliseconds(1);
  award.max_choices_per_nomination =
      reader.Integer("max_choices_per_nomination", false).value_or(1);
  award.results_visibility = reader.Enum("results_visibility", ResultsVisibilities(), false)
                                 .value_or("hidden_until_close");
  award.status = reader.Enum("status", AwardStatuses(), false).value_or("draft");
  award.applications_open_at = reader.Time("applications_open_at", false);
  award.applications_close_at = reader.Time("applications_close_at", false);
  reader.RejectUnknown();
  Validate(award, violations);
  if (!violations.empty()) {
    return violations.ToError();
  }
  return award;
}

nlohmann::json Awards::ToJson(const Award& award) {
  return {{"id", award.id},
          {"title", award.title},
          {"edition_year", award.edition_year},
          {"program_id", OrNull(award.program_id)},
          {"description", award.description},
          {"voting_opens_at", FormatUtc(award.voting_opens_at)},
          {"voting_closes_at", FormatUtc(award.voting_closes_at)},
          {"max_choices_per_nomination", award.max_choices_per_nomination},
          {"results_visibility", award.results_visibility},
          {"status", award.status},
          {"applications_open_at", award.applications_open_at
                                       ? nlohmann::json(FormatUtc(*award.applications_open_at))
                                       : nlohmann::json(nullptr)},
          {"applications_close_at", award.applications_close_at
                                        ? nlohmann::json(FormatUtc(*award.applications_close_at))
                                        : nlohmann::json(nullptr)},
          {"created_at", FormatUtc(award.created_at)},
          {"updated_at", FormatUtc(award.updated_at)}};
}

void Awards::CheckReferences(sqlite::Database& db, const Award& award, Violations& violations,
                             Instant now) {
  RequireExists(db, "programs", "program", "program_id", award.program_id, violations);
  std::optional<Award> current;
  if (award.id != 0) {
    current = Get(db, award.id);
  }
  if (auto reason = StatusChangeError(current ? current->status : "", award.status)) {
    violations.Add("status", *reason);
  }
  if (!current) {
    return;
  }
  if (!IsFinal(*current)) {
    if (!VotingHasOpened(*current, now)) {
      return;
    }
    // Votes have been cast under these rules: the ballot's counts, its audit (recount) and the
    // laureates all read them, so they stay as they were when voting opened.
    const std::string reason = "cannot change once voting has opened (votes were cast under it)";
    if (award.voting_opens_at != current->voting_opens_at) {
      violations.Add("voting_opens_at", reason);
    }
    if (award.max_choices_per_nomination != current->max_choices_per_nomination) {
      violations.Add("max_choices_per_nomination", reason);
    }
    if (award.voting_closes_at != current->voting_closes_at && award.voting_closes_at < now) {
      violations.Add("voting_closes_at",
                     "cannot move into the past once voting has opened (votes were taken until "
                     "now): give the current time or later");
    }
    return;
  }
  // The results are recorded against these rules: only the status and description may change.
  const std::string reason = "cannot change once the award is " + current->status;
  if (award.title != current->title) {
    violations.Add("title", reason);
  }
  if (award.edition_year != current->edition_year) {
    violations.Add("edition_year", reason);
  }
  if (award.program_id != current->program_id) {
    violations.Add("program_id", reason);
  }
  if (award.voting_opens_at != current->voting_opens_at) {
    violations.Add("voting_opens_at", reason);
  }
  if (award.voting_closes_at != current->voting_closes_at) {
    violations.Add("voting_closes_at", reason);
  }
  if (award.max_choices_per_nomination != current->max_choices_per_nomination) {
    violations.Add("max_choices_per_nomination", reason);
  }
  if (award.results_visibility != current->results_visibility) {
    violations.Add("results_visibility", reason);
  }
}

Award Awards::FromRow(sqlite::Statement& row) {
  Award award;
  award.id = row.ColumnInt64(0);
  award.title = row.ColumnText(1);
  award.edition_year = row.ColumnInt64(2);
  award.program_id = row.ColumnOptionalInt64(3);
  award.description = row.ColumnText(4);
  award.voting_opens_at = FromMillis(row.ColumnInt64(5));
  award.voting_closes_at = FromMillis(row.ColumnInt64(6));
  award.max_choices_per_nomination = row.ColumnInt64(7);
  award.results_visibility = row.ColumnText(8);
  award.status = row.ColumnText(9);
  award.created_at = FromMillis(row.ColumnInt64(10));
  award.updated_at = FromMillis(row.ColumnInt64(11));
  if (const auto opens = row.ColumnOptionalInt64(12)) {
    award.applications_open_at = FromMillis(*opens);
  }
  if (const auto closes = row.ColumnOptionalInt64(13)) {
    award.applications_close_at = FromMillis(*closes);
  }
  return award;
}

std::optional<Award> Awards::Get(sqlite::Database& db, int64_t id) {
  auto statement = db.Prepare(std::string("SELECT ") + kColumns + " FROM awards WHERE id = ?");
  statement.Bind(1, id);
  if (!statement.Step()) {
    return std::nullopt;
  }
  return FromRow(statement);
}

namespace {

// Binds the columns an insert and an update both write, as parameters 1 to 9 and 12, 13.
sqlite::Statement& BindWritable(sqlite::Statement& statement, const Award& award) {
  return statement.Bind(12, OptionalMillis(award.applications_open_at))
      .Bind(13, OptionalMillis(award.applications_close_at))
      .Bind(1, award.title)
      .Bind(2, award.edition_year)
      .Bind(3, award.program_id)
      .Bind(4, award.description)
      .Bind(5, Millis(award.voting_opens_at))
      .Bind(6, Millis(award.voting_closes_at))
      .Bind(7, award.max_choices_per_nomination)
      .Bind(8, award.results_visibility)
      .Bind(9, award.status);
}

}  // namespace

void Awards::Insert(sqlite::Database& db, Award& award) {
  auto statement = db.Prepare(
      "INSERT INTO awards(title, edition_year, program_id, description, voting_opens_at, "
      "voting_closes_at, max_choices_per_nomination, results_visibility, status, version, "
      "created_at, updated_at, applications_open_at, applications_close_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)");
  BindWritable(statement, award)
      .Bind(10, Millis(award.created_at))
      .Bind(11, Millis(award.updated_at))
      .Run();
  award.id = db.LastInsertRowid();
}

void Awards::Update(sqlite::Database& db, const Award& award) {
  auto statement = db.Prepare(
      "UPDATE awards SET title = ?, edition_year = ?, program_id = ?, description = ?, "
      "voting_opens_at = ?, voting_closes_at = ?, max_choices_per_nomination = ?, "
      "results_visibility = ?, status = ?, updated_at = ?, version = version + 1, "
      "applications_open_at = ?12, applications_close_at = ?13 WHERE id = ?11");
  BindWritable(statement, award).Bind(10, Millis(award.updated_at)).Bind(11, award.id).Run();
}

std::optional<std::string> Awards::DeleteConflict(sqlite::Database& db, int64_t id, Instant now) {
  auto award = Get(db, id);
  if (award && VotingHasOpened(*award, now)) {
    return "Voting on the award has opened, so its history is kept: close and archive it "
           "instead of deleting it.";
  }
  return FindReferences(db, "awards", "award", id);
}

void Awards::Delete(sqlite::Database& db, int64_t id) {
  db.Prepare("DELETE FROM awards WHERE id = ?").Bind(1, id).Run();
}

const rest::ListSpec& Awards::List() {
  using rest::Filter;
  static const rest::ListSpec kSpec = {
      .table = "awards",
      .columns = kColumns,
      .filters =
          {
              rest::SearchFilter("awards"),
              Filter{"program_id", "program_id = ?", Filter::Kind::kId, {}},
              Filter{"status", "status = ?", Filter::Kind::kEnum, AwardStatuses()},
              Filter{"edition_year", "edition_year = ?", Filter::Kind::kInteger, {}, 2000, 2100},
          },
      .sorts = {{"id", "id", false},
                {"title", "title", true},
                {"edition_year", "edition_year", false},
                {"voting_opens_at", "voting_opens_at", false},
                {"created_at", "created_at", false}},
      .access = {.program_sql = "program_id",
                 .public_sql = "status <> 'draft'",
                 .expert_sql = "",
                 .frontend_reads = false,
                 .frontend_own_sql = ""},
  };
  return kSpec;
}

std::optional<int64_t> Awards::ProgramOf(sqlite::Database& /*db*/, const Award& award) {
  return award.program_id;
}
}  // namespace civic::events::resources
