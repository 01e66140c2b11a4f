#include "resources/programs.hpp"

#include <algorithm>
#include <limits>
#include <set>

#include "access/scope.hpp"
#include "civic/domain/organization.hpp"
#include "resources/json_util.hpp"
#include "resources/references.hpp"

namespace civic::events::resources {

namespace {

// `value` as an int, out-of-range values pinned to the int's limits so that the range checks
// refuse them (4294967299 must not become 3).
int Saturated(int64_t value) {
  return static_cast<int>(
      std::clamp<int64_t>(value, std::numeric_limits<int>::min(), std::numeric_limits<int>::max()));
}

constexpr const char* kColumns =
    "id, title, kind, description, starts_on, ends_on, parent_program_id, team_rules, "
    "review_criteria, created_at, updated_at, "
    "(SELECT json_group_array(organization_id) FROM (SELECT organization_id FROM "
    "program_organizations WHERE program_id = programs.id AND role = 'organizer' ORDER BY "
    "position)), "
    "(SELECT json_group_array(organization_id) FROM (SELECT organization_id FROM "
    "program_organizations WHERE program_id = programs.id AND role = 'partner' ORDER BY "
    "position))";

nlohmann::json CriteriaToJson(const std::vector<ReviewCriterion>& criteria) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& criterion : criteria) {
    out.push_back({{"name", criterion.name}, {"weight", criterion.weight}});
  }
  return out;
}

void WriteOrganizations(sqlite::Database& db, const Program& program) {
  db.Prepare("DELETE FROM program_organizations WHERE program_id = ?").Bind(1, program.id).Run();
  auto insert = db.Prepare(
      "INSERT INTO program_organizations(program_id, organization_id, role, position) "
      "VALUES (?, ?, ?, ?)");
  auto write = [&](const std::vector<int64_t>& ids, const char* role) {
    for (size_t i = 0; i < ids.size(); ++i) {
      insert.Bind(1, program.id).Bind(2, ids[i]).Bind(3, role).Bind(4, static_cast<int64_t>(i));
      insert.Run();
      insert.Reset();
    }
  };
  write(program.organizer_ids, "organizer");
  write(program.partner_ids, "partner");
}

}  // namespace

nlohmann::json TeamRulesToJson(const TeamRules& rules) {
  return {{"required_sectors", rules.required_sectors},
          {"min_size", rules.min_size},
          {"max_size", rules.max_size}};
}

TeamRules TeamRulesFromJson(const nlohmann::json& json) {
  TeamRules rules;
  rules.required_sectors = json.at("required_sectors").get<std::vector<std::string>>();
  rules.min_size = json.at("min_size").get<int>();
  rules.max_size = json.at("max_size").get<int>();
  return rules;
}

Result<Program> Programs::FromJson(const nlohmann::json& body, rest::JsonReader::Mode mode) {
  Violations violations;
  rest::JsonReader reader(body, violations, mode);
  Program program;
  program.title = reader.String("title", true).value_or("");
  program.kind = reader.Enum("kind", ProgramKinds(), true).value_or("other");
  program.description = reader.String("description", false).value_or("");
  program.starts_on = reader.String("starts_on", true).value_or("");
  const auto ends_on = reader.String("ends_on", false);
  if (ends_on && ends_on->empty()) {
    // "No end" is null; an empty string is not a date.
    violations.Add("ends_on", "must be a date YYYY-MM-DD, or null for no end");
  }
  program.ends_on = ends_on.value_or("");
  program.organizer_ids =
      reader.IdArray("organizer_ids", false, 50).value_or(std::vector<int64_t>{});
  program.partner_ids = reader.IdArray("partner_ids", false, 100).value_or(std::vector<int64_t>{});
  program.parent_program_id = reader.Id("parent_program_id", false);
  if (const auto* rules_json = reader.Object("team_rules", false)) {
    rest::JsonReader rules_reader(*rules_json, violations, mode, "team_rules.");
    TeamRules rules;
    rules.required_sectors = rules_reader.StringArray("required_sectors", false, Sectors().size())
                                 .value_or(std::vector<std::string>{});
    rules.min_size = Saturated(rules_reader.Integer("min_size", false).value_or(1));
    rules.max_size = Saturated(rules_reader.Integer("max_size", false).value_or(100));
    rules_reader.RejectUnknown();
    program.team_rules = rules;
  }
  if (const auto* criteria = reader.Array("review_criteria", false, 20)) {
    for (size_t i = 0; i < criteria->size(); ++i) {
      rest::JsonReader item((*criteria)[i], violations, mode,
                            "review_criteria[" + std::to_string(i) + "].");
      ReviewCriterion criterion;
      criterion.name = item.String("name", true).value_or("");
      criterion.weight = Saturated(item.Integer("weight", true).value_or(1));
      item.RejectUnknown();
      program.review_criteria.push_back(criterion);
    }
  }
  reader.RejectUnknown();
  Validate(program, violations);
  if (!violations.empty()) {
    return violations.ToError();
  }
  return program;
}

nlohmann::json Programs::ToJson(const Program& program) {
  return {{"id", program.id},
          {"title", program.title},
          {"kind", program.kind},
          {"description", program.description},
          {"starts_on", program.starts_on},
          {"ends_on",
           program.ends_on.empty() ? nlohmann::json(nullptr) : nlohmann::json(program.ends_on)},
          {"organizer_ids", program.organizer_ids},
          {"partner_ids", program.partner_ids},
          {"parent_program_id", OrNull(program.parent_program_id)},
          {"team_rules",
           program.team_rules ? TeamRulesToJson(*program.team_rules) : nlohmann::json(nullptr)},
          {"review_criteria", CriteriaToJson(program.review_criteria)},
          {"created_at", FormatUtc(program.created_at)},
          {"updated_at", FormatUtc(program.updated_at)}};
}

namespace {

// The same names with the same weights, in any order.
bool SameCriteria(std::vector<ReviewCriterion> a, std::vector<ReviewCriterion> b) {
  const auto by_name = [](const auto& x, const auto& y) { return x.name < y.name; };
  std::sort(a.begin(), a.end(), by_name);
  std::sort(b.begin(), b.end(), by_name);
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
    return x.name == y.name && x.weight == y.weight;
  });
}

}  // namespace

void Programs::CheckReferences(sqlite::Database& db, const Program& program,
                               Violations& violations) {
  for (size_t i = 0; i < program.organizer_ids.size(); ++i) {
    RequireExists(db, "organizations", "organization", "organizer_ids[" + std::to_string(i) + "]",
                  program.organizer_ids[i], violations);
  }
  for (size_t i = 0; i < program.partner_ids.size(); ++i) {
    RequireExists(db, "organizations", "organization", "partner_ids[" + std::to_string(i) + "]",
                  program.partner_ids[i], violations);
  }
  const std::optional<Program> stored = program.id != 0 ? Get(db, program.id) : std::nullopt;
  if (stored) {
    // Experts scored its projects against the criteria: changing them would change what the
    // scores mean.
    if (!SameCriteria(stored->review_criteria, program.review_criteria)) {
      auto reviews = db.Prepare(
          "SELECT count(*) FROM reviews JOIN projects ON projects.id = reviews.project_id "
          "WHERE projects.program_id = ?");
      reviews.Bind(1, program.id);
      if (reviews.Step() && reviews.ColumnInt64(0) > 0) {
        violations.Add("review_criteria", "cannot be changed: experts have scored " +
                                              std::to_string(reviews.ColumnInt64(0)) +
                                              " review(s) of the program's projects against them");
      }
    }
  }
  if (!program.parent_program_id) {
    return;
  }
  if (!Exists(db, "programs", *program.parent_program_id)) {
    violations.Add("parent_program_id",
                   "no program with id " + std::to_string(*program.parent_program_id));
    return;
  }
  // A key other than an admin's nests its program only inside one of its own: a program put
  // inside another's would block that program's own nesting (a cycle).
  const std::optional<int64_t> stored_parent = stored ? stored->parent_program_id : std::nullopt;
  if (stored_parent != program.parent_program_id &&
      !access::MayWriteIn(access::Current(), program.parent_program_id)) {
    violations.Add("parent_program_id",
                   "program " + std::to_string(*program.parent_program_id) +
                       " is not one this key may change: a program goes only inside a program "
                       "of the key's");
    return;
  }
  // Walk up from the parent: reaching this program again would make a cycle.
  std::set<int64_t> seen;
  std::optional<int64_t> current = program.parent_program_id;
  auto parent_of = db.Prepare("SELECT parent_program_id FROM programs WHERE id = ?");
  while (current && program.id != 0 && seen.insert(*current).second) {
    if (*current == program.id) {
      violations.Add("parent_program_id", "would make the program its own ancestor");
      return;
    }
    parent_of.Bind(1, *current);
    current = parent_of.Step() ? parent_of.ColumnOptionalInt64(0) : std::nullopt;
    parent_of.Reset();
  }
}

Program Programs::FromRow(sqlite::Statement& row) {
  Program program;
  program.id = row.ColumnInt64(0);
  program.title = row.ColumnText(1);
  program.kind = row.ColumnText(2);
  program.description = row.ColumnText(3);
  program.starts_on = row.ColumnText(4);
  program.ends_on = row.ColumnText(5);
  program.parent_program_id = row.ColumnOptionalInt64(6);
  if (auto rules = row.ColumnOptionalText(7)) {
    program.team_rules = TeamRulesFromJson(nlohmann::json::parse(*rules));
  }
  for (const auto& criterion : nlohmann::json::parse(row.ColumnText(8))) {
    program.review_criteria.push_back(
        {criterion.at("name").get<std::string>(), criterion.at("weight").get<int>()});
  }
  program.created_at = FromMillis(row.ColumnInt64(9));
  program.updated_at = FromMillis(row.ColumnInt64(10));
  program.organizer_ids = IdsFromJsonText(row.ColumnText(11));
  program.partner_ids = IdsFromJsonText(row.ColumnText(12));
  return program;
}

std::optional<Program> Programs::Get(sqlite::Database& db, int64_t id) {
  auto statement = db.Prepare(std::string("SELECT ") + kColumns + " FROM programs WHERE id = ?");
  statement.Bind(1, id);
  if (!statement.Step()) {
    return std::nullopt;
  }
  return FromRow(statement);
}

namespace {

// Binds the columns an insert and an update both write, as parameters 1 to 8.
sqlite::Statement& BindWritable(sqlite::Statement& statement, const Program& program) {
  return statement.Bind(1, program.title)
      .Bind(2, program.kind)
      .Bind(3, program.description)
      .Bind(4, program.starts_on)
      .Bind(5, program.ends_on)
      .Bind(6, program.parent_program_id)
      .Bind(7, program.team_rules
                   ? std::optional<std::string>(TeamRulesToJson(*program.team_rules).dump())
                   : std::nullopt)
      .Bind(8, CriteriaToJson(program.review_criteria).dump());
}

}  // namespace

void Programs::Insert(sqlite::Database& db, Program& program) {
  auto statement = db.Prepare(
      "INSERT INTO programs(title, kind, description, starts_on, ends_on, parent_program_id, "
      "team_rules, review_criteria, created_at, updated_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  BindWritable(statement, program)
      .Bind(9, Millis(program.created_at))
      .Bind(10, Millis(program.updated_at))
      .Run();
  program.id = db.LastInsertRowid();
  WriteOrganizations(db, program);
}

void Programs::Update(sqlite::Database& db, const Program& program) {
  auto statement = db.Prepare(
      "UPDATE programs SET title = ?, kind = ?, description = ?, starts_on = ?, ends_on = ?, "
      "parent_program_id = ?, team_rules = ?, review_criteria = ?, updated_at = ? WHERE id = ?");
  BindWritable(statement, program).Bind(9, Millis(program.updated_at)).Bind(10, program.id).Run();
  WriteOrganizations(db, program);
}

std::optional<std::string> Programs::DeleteConflict(sqlite::Database& db, int64_t id) {
  return FindReferences(db, "programs", "program", id);
}

void Programs::Delete(sqlite::Database& db, int64_t id) {
  db.Prepare("DELETE FROM programs WHERE id = ?").Bind(1, id).Run();
}

const rest::ListSpec& Programs::List() {
  using rest::Filter;
  static const rest::ListSpec kSpec = {
      .table = "programs",
      .columns = kColumns,
      .filters =
          {
              rest::SearchFilter("programs"),
              Filter{"kind", "kind = ?", Filter::Kind::kEnum, ProgramKinds()},
              Filter{"parent_program_id", "parent_program_id = ?", Filter::Kind::kId, {}},
              Filter{"organization_id",
                     "EXISTS (SELECT 1 FROM program_organizations po WHERE po.program_id = "
                     "programs.id AND po.organization_id = ?)",
                     Filter::Kind::kId,
                     {}},
          },
      .sorts = {{"id", "id", false},
                {"title", "title", true},
                {"starts_on", "starts_on", true},
                {"created_at", "created_at", false}},
      .access = {},  // every row is public
  };
  return kSpec;
}

std::optional<int64_t> Programs::ProgramOf(sqlite::Database& /*db*/, const Program& program) {
  return program.id != 0 ? std::optional<int64_t>(program.id) : std::nullopt;
}
}  // namespace civic::events::resources
