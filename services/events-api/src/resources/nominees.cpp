#include "resources/nominees.hpp"

#include "resources/awards.hpp"
#include "resources/json_util.hpp"
#include "resources/references.hpp"

namespace civic::events::resources {

namespace {

constexpr const char* kColumns =
    "id, nomination_id, "
    "(SELECT award_id FROM nominations WHERE nominations.id = nominees.nomination_id), "
    "kind, person_id, project_title, name, city_id, status, created_at, updated_at, "
    "summary, story, links, project_summary, photo_alt, "
    "EXISTS (SELECT 1 FROM nominee_photos AS p WHERE p.nominee_id = nominees.id)";

// The writable members `a` changes from `b`, by name.
std::vector<std::string> ChangedFields(const Nominee& a, const Nominee& b) {
  std::vector<std::string> changed;
  const std::pair<const char*, bool> fields[] = {
      {"nomination_id", a.nomination_id != b.nomination_id},
      {"kind", a.kind != b.kind},
      {"person_id", a.person_id != b.person_id},
      {"project_title", a.project_title != b.project_title},
      {"name", a.name != b.name},
      {"city_id", a.city_id != b.city_id},
      {"status", a.status != b.status},
      {"summary", a.summary != b.summary},
      {"story", a.story != b.story},
      {"links", a.links != b.links},
      {"project_summary", a.project_summary != b.project_summary},
      {"photo_alt", a.photo_alt != b.photo_alt},
  };
  for (const auto& [name, differs] : fields) {
    if (differs) {
      changed.emplace_back(name);
    }
  }
  return changed;
}

}  // namespace

Result<Nominee> Nominees::FromJson(const nlohmann::json& body, rest::JsonReader::Mode mode) {
  Violations violations;
  rest::JsonReader reader(body, violations, mode);
  Nominee nominee;
  nominee.nomination_id = reader.Id("nomination_id", true).value_or(0);
  if (mode == rest::JsonReader::Mode::kCreate) {
    if (body.is_object() && body.contains("award_id") && !body["award_id"].is_null()) {
      violations.Add("award_id", "is read-only: it is the award of nomination_id");
    }
    (void)reader.Id("award_id", false);
  } else {
    // The stored value, unless the patch changed it (CheckReferences refuses that).
    nominee.award_id = reader.Id("award_id", false).value_or(0);
  }
  // No kind (missing or unknown): none of the person/project rules is checked against a guess.
  nominee.kind = reader.Enum("kind", NomineeKinds(), true).value_or("");
  nominee.person_id = reader.Id("person_id", false);
  nominee.project_title = reader.String("project_title", false).value_or("");
  nominee.name = reader.String("name", true).value_or("");
  nominee.city_id = reader.Id("city_id", true).value_or(0);
  nominee.status = reader.Enum("status", NomineeStatuses(), false).value_or("active");
  nominee.summary = reader.String("summary", false).value_or("");
  nominee.story = reader.String("story", false).value_or("");
  nominee.links = reader.StringArray("links", false, 5).value_or(std::vector<std::string>{});
  nominee.project_summary = reader.String("project_summary", false).value_or("");
  nominee.photo_alt = reader.String("photo_alt", false).value_or("");
  // `photo` is derived (PUT /v1/nominees/{id}/photo uploads it).
  reader.ReadOnly("photo");
  reader.RejectUnknown();
  Validate(nominee, violations);
  if (!violations.empty()) {
    return violations.ToError();
  }
  return nominee;
}

nlohmann::json Nominees::ToJson(const Nominee& nominee) {
  return {{"id", nominee.id},
          {"nomination_id", nominee.nomination_id},
          {"award_id", nominee.award_id},
          {"kind", nominee.kind},
          {"person_id", OrNull(nominee.person_id)},
          {"project_title", nominee.project_title.empty() ? nlohmann::json(nullptr)
                                                          : nlohmann::json(nominee.project_title)},
          {"name", nominee.name},
          {"city_id", nominee.city_id},
          {"status", nominee.status},
          {"summary", nominee.summary},
          {"story", nominee.story},
          {"links", nominee.links},
          {"project_summary", nominee.project_summary},
          {"photo_alt", nominee.photo_alt},
          {"photo", nominee.has_photo
                        ? nlohmann::json{{"url", PhotoPath(nominee.id)}, {"alt", nominee.photo_alt}}
                        : nlohmann::json(nullptr)},
          {"created_at", FormatUtc(nominee.created_at)},
          {"updated_at", FormatUtc(nominee.updated_at)}};
}

std::string Nominees::PhotoPath(int64_t id) {
  return "/v1/nominees/" + std::to_string(id) + "/photo";
}

void Nominees::Resolve(sqlite::Database& db, Nominee& nominee) {
  nominee.has_photo = false;
  if (nominee.id != 0) {
    auto photo = db.Prepare("SELECT 1 FROM nominee_photos WHERE nominee_id = ?");
    photo.Bind(1, nominee.id);
    nominee.has_photo = photo.Step();
  }
}

void Nominees::CheckReferences(sqlite::Database& db, const Nominee& nominee, Violations& violations,
                               Instant now) {
  RequireExists(db, "nominations", "nomination", "nomination_id", nominee.nomination_id,
                violations);
  RequireExists(db, "people", "person", "person_id", nominee.person_id, violations);
  RequireExists(db, "cities", "city", "city_id", nominee.city_id, violations);
  if (nominee.has_photo && nominee.photo_alt.empty()) {
    violations.Add("photo_alt",
                   "is required while the nominee has a photo (its text alternative); delete the "
                   "photo first");
  }
  const auto award_id = AwardOfNomination(db, nominee.nomination_id);
  if (!award_id) {
    return;
  }
  std::optional<Nominee> current;
  if (nominee.id != 0) {
    current = Get(db, nominee.id);
  }
  if (current) {
    if (nominee.award_id != current->award_id) {
      violations.Add("award_id", "is read-only: it is the award of nomination_id");
    }
    if (*award_id != current->award_id) {
      violations.Add("nomination_id", "must be a nomination of award " +
                                          std::to_string(current->award_id) +
                                          " (a nominee stays with its award)");
      return;
    }
    if (nominee.nomination_id != current->nomination_id) {
      const auto award = Awards::Get(db, current->award_id);
      if (award && !IsFinal(*award) && VotingHasOpened(*award, now)) {
        violations.Add("nomination_id", "cannot change once voting on award " +
                                            std::to_string(award->id) +
                                            " has opened: its votes were cast in nomination " +
                                            std::to_string(current->nomination_id));
        return;
      }
    }
  }
  // Once the award is final, a new nominee is refused on its nomination_id, a change on each
  // member it changes; a PATCH that changes nothing passes.
  const auto changed =
      current ? ChangedFields(nominee, *current) : std::vector<std::string>{"nomination_id"};
  if (!changed.empty()) {
    if (auto reason = FinalAwardReason(db, *award_id, "nominees")) {
      for (const auto& field : changed) {
        violations.Add(field, current ? "cannot change: " + *reason : *reason);
      }
      return;
    }
  }
  if (nominee.person_id) {
    auto same_person =
        db.Prepare("SELECT id FROM nominees WHERE nomination_id = ? AND person_id = ? AND id <> ?");
    same_person.Bind(1, nominee.nomination_id).Bind(2, *nominee.person_id).Bind(3, nominee.id);
    if (same_person.Step()) {
      violations.Add("person_id", "is already nominated in this nomination (nominee " +
                                      std::to_string(same_person.ColumnInt64(0)) + ")");
    }
  }
}

Nominee Nominees::FromRow(sqlite::Statement& row) {
  Nominee nominee;
  nominee.id = row.ColumnInt64(0);
  nominee.nomination_id = row.ColumnInt64(1);
  nominee.award_id = row.ColumnInt64(2);
  nominee.kind = row.ColumnText(3);
  nominee.person_id = row.ColumnOptionalInt64(4);
  nominee.project_title = row.ColumnText(5);
  nominee.name = row.ColumnText(6);
  nominee.city_id = row.ColumnInt64(7);
  nominee.status = row.ColumnText(8);
  nominee.created_at = FromMillis(row.ColumnInt64(9));
  nominee.updated_at = FromMillis(row.ColumnInt64(10));
  nominee.summary = row.ColumnText(11);
  nominee.story = row.ColumnText(12);
  nominee.links = StringsFromJsonText(row.ColumnText(13));
  nominee.project_summary = row.ColumnText(14);
  nominee.photo_alt = row.ColumnText(15);
  nominee.has_photo = row.ColumnInt64(16) != 0;
  return nominee;
}

std::optional<Nominee> Nominees::Get(sqlite::Database& db, int64_t id) {
  auto statement = db.Prepare(std::string("SELECT ") + kColumns + " FROM nominees WHERE id = ?");
  statement.Bind(1, id);
  if (!statement.Step()) {
    return std::nullopt;
  }
  return FromRow(statement);
}

namespace {

// Binds the columns an insert and an update both write, as parameters 1 to 12.
sqlite::Statement& BindWritable(sqlite::Statement& statement, const Nominee& nominee) {
  return statement.Bind(1, nominee.nomination_id)
      .Bind(2, nominee.kind)
      .Bind(3, nominee.person_id)
      .Bind(4, nominee.project_title)
      .Bind(5, nominee.name)
      .Bind(6, nominee.city_id)
      .Bind(7, nominee.status)
      .Bind(8, nominee.summary)
      .Bind(9, nominee.story)
      .Bind(10, ToJsonText(nominee.links))
      .Bind(11, nominee.project_summary)
      .Bind(12, nominee.photo_alt);
}

}  // namespace

void Nominees::Insert(sqlite::Database& db, Nominee& nominee) {
  auto statement = db.Prepare(
      "INSERT INTO nominees(nomination_id, kind, person_id, project_title, name, city_id, "
      "status, summary, story, links, project_summary, photo_alt, created_at, updated_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  BindWritable(statement, nominee)
      .Bind(13, Millis(nominee.created_at))
      .Bind(14, Millis(nominee.updated_at))
      .Run();
  nominee.id = db.LastInsertRowid();
  nominee.award_id = AwardOfNomination(db, nominee.nomination_id).value_or(0);
  BumpAwardVersion(db, nominee.award_id);
}

void Nominees::Update(sqlite::Database& db, const Nominee& nominee) {
  auto statement = db.Prepare(
      "UPDATE nominees SET nomination_id = ?, kind = ?, person_id = ?, project_title = ?, "
      "name = ?, city_id = ?, status = ?, summary = ?, story = ?, links = ?, project_summary = ?, "
      "photo_alt = ?, updated_at = ? WHERE id = ?");
  BindWritable(statement, nominee).Bind(13, Millis(nominee.updated_at)).Bind(14, nominee.id).Run();
  BumpAwardVersion(db, nominee.award_id);
}

std::optional<std::string> Nominees::DeleteConflict(sqlite::Database& db, int64_t id, Instant now) {
  auto nominee = Get(db, id);
  if (nominee) {
    if (auto reason = FinalAwardReason(db, nominee->award_id, "nominees")) {
      return "The nominee is kept: " + *reason + ".";
    }
    auto award = Awards::Get(db, nominee->award_id);
    if (award && VotingHasOpened(*award, now)) {
      return "Voting on award " + std::to_string(nominee->award_id) +
             " has opened, so the nominee is kept: withdraw it instead (PATCH "
             "{\"status\": \"withdrawn\"}).";
    }
  }
  return FindReferences(db, "nominees", "nominee", id);
}

void Nominees::Delete(sqlite::Database& db, int64_t id) {
  const auto nominee = Get(db, id);
  db.Prepare("DELETE FROM nominees WHERE id = ?").Bind(1, id).Run();
  if (nominee) {
    BumpAwardVersion(db, nominee->award_id);
  }
}

const rest::ListSpec& Nominees::List() {
  using rest::Filter;
  static const rest::ListSpec kSpec = {
      .table = "nominees",
      .columns = kColumns,
      .filters =
          {
              rest::SearchFilter("nominees"),
              Filter{"nomination_id", "nomination_id = ?", Filter::Kind::kId, {}},
              Filter{"award_id", "nominees.award_id = ?", Filter::Kind::kId, {}},
              Filter{"city_id", "city_id = ?", Filter::Kind::kId, {}},
              Filter{"status", "status = ?", Filter::Kind::kEnum, NomineeStatuses()},
              Filter{"kind", "kind = ?", Filter::Kind::kEnum, NomineeKinds()},
              Filter{"person_id", "person_id = ?", Filter::Kind::kId, {}},
          },
      .sorts = {{"id", "id", false},
                {"name", "name_key", true},
                {"created_at", "created_at", false}},
      .access = {.program_sql =
                     "(SELECT a.program_id FROM nominations n JOIN awards a ON a.id = n.award_id "
                     "WHERE n.id = nominees.nomination_id)",
                 .public_sql =
                     "(SELECT a.status FROM nominations n JOIN awards a ON a.id = n.award_id "
                     "WHERE n.id = nominees.nomination_id) <> 'draft'",
                 .expert_sql = "",
                 .frontend_reads = false,
                 .frontend_own_sql = ""},
  };
  return kSpec;
}

std::optional<int64_t> Nominees::ProgramOf(sqlite::Database& db, const Nominee& nominee) {
  return ProgramOfRow(db,
                      "SELECT a.program_id FROM nominations n JOIN awards a ON a.id = n.award_id "
                      "WHERE n.id = ?",
                      nominee.nomination_id);
}
}  // namespace civic::events::resources
