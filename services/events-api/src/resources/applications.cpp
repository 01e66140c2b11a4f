#include "resources/applications.hpp"

#include <openssl/rand.h>

#include <map>
#include <stdexcept>

#include "access/audit.hpp"
#include "access/scope.hpp"
#include "civic/domain/award.hpp"
#include "civic/domain/person.hpp"
#include "civic/domain/text_search.hpp"
#include "civic/http/problem.hpp"
#include "civic/runtime/secret.hpp"
#include "resources/awards.hpp"
#include "resources/json_util.hpp"
#include "resources/nominees.hpp"
#include "resources/people.hpp"
#include "resources/references.hpp"
#include "rest/crud.hpp"
#include "rest/json_reader.hpp"

namespace civic::events::resources {

namespace {

constexpr const char* kColumns =
    "id, award_id, nomination_id, kind, person_id, name, project_title, city_id, summary, story, "
    "links, project_summary, applicant_name, applicant_email, applicant_phone, consent_at, "
    "consent_text, status, reason, nominee_id, duplicate_key, created_at, updated_at";
constexpr const char* kTokenTag = "apl_";
constexpr const char* kProgramSql =
    "(SELECT program_id FROM awards WHERE awards.id = applications.award_id)";

Application FromRow(sqlite::Statement& row) {
  Application a;
  a.id = row.ColumnInt64(0);
  a.award_id = row.ColumnInt64(1);
  a.nomination_id = row.ColumnInt64(2);
  a.kind = row.ColumnText(3);
  a.person_id = row.ColumnOptionalInt64(4);
  a.name = row.ColumnText(5);
  a.project_title = row.ColumnText(6);
  a.city_id = row.ColumnInt64(7);
  a.summary = row.ColumnText(8);
  a.story = row.ColumnText(9);
  a.links = StringsFromJsonText(row.ColumnText(10));
  a.project_summary = row.ColumnText(11);
  a.applicant_name = row.ColumnText(12);
  a.applicant_email = row.ColumnText(13);
  a.applicant_phone = row.ColumnText(14);
  a.consent_at = FromMillis(row.ColumnInt64(15));
  a.consent_text = row.ColumnText(16);
  a.status = row.ColumnText(17);
  a.reason = row.ColumnText(18);
  a.nominee_id = row.ColumnOptionalInt64(19);
  a.duplicate_key = row.ColumnText(20);
  a.created_at = FromMillis(row.ColumnInt64(21));
  a.updated_at = FromMillis(row.ColumnInt64(22));
  return a;
}

std::optional<Application> Get(sqlite::Database& db, int64_t id) {
  auto statement =
      db.Prepare(std::string("SELECT ") + kColumns + " FROM applications WHERE id = ?");
  statement.Bind(1, id);
  if (!statement.Step()) {
    return std::nullopt;
  }
  return FromRow(statement);
}

const rest::RowAccess& Access() {
  static const rest::RowAccess kAccess = {.program_sql = kProgramSql,
                                          .public_sql = "0",
                                          .expert_sql = "",
                                          .frontend_reads = false,
                                          .frontend_own_sql = ""};
  return kAccess;
}

// What the applicant and the public may see: no contact, no token.
nlohmann::json StatusJson(const Application& a) {
  return {{"id", a.id},
          {"award_id", a.award_id},
          {"nomination_id", a.nomination_id},
          {"kind", a.kind},
          {"name", a.name},
          {"status", a.status},
          {"reason", a.reason},
          {"nominee_id", OrNull(a.nominee_id)},
          {"created_at", FormatUtc(a.created_at)},
          {"updated_at", FormatUtc(a.updated_at)}};
}

// The whole application, for moderators (contacts included).
nlohmann::json FullJson(const Application& a) {
  return {{"id", a.id},
          {"award_id", a.award_id},
          {"nomination_id", a.nomination_id},
          {"kind", a.kind},
          {"person_id", OrNull(a.person_id)},
          {"name", a.name},
          {"project_title",
           a.project_title.empty() ? nlohmann::json(nullptr) : nlohmann::json(a.project_title)},
          {"city_id", a.city_id},
          {"summary", a.summary},
          {"story", a.story},
          {"links", a.links},
          {"project_summary", a.project_summary},
          {"applicant",
           {{"name", a.applicant_name},
            {"email", a.applicant_email.empty() ? nlohmann::json(nullptr)
                                                : nlohmann::json(a.applicant_email)},
            {"phone", a.applicant_phone.empty() ? nlohmann::json(nullptr)
                                                : nlohmann::json(a.applicant_phone)}}},
          {"consent", {{"given_at", FormatUtc(a.consent_at)}, {"text", a.consent_text}}},
          {"status", a.status},
          {"reason", a.reason},
          {"nominee_id", OrNull(a.nominee_id)},
          {"created_at", FormatUtc(a.created_at)},
          {"updated_at", FormatUtc(a.updated_at)}};
}

// Whether a candidate without a person record (`kind`, the name or a project's title, the city)
// is probably `a`'s: the same kind and city, and a name or title alike in case and form.
bool SameCandidate(const Application& a, std::string_view kind, std::string_view name,
                   std::string_view title, int64_t city_id) {
  if (a.kind != kind || a.city_id != city_id) {
    return false;
  }
  return kind == "project" ? SameName(a.project_title, title) : SameName(a.name, name);
}

// Whether `a` was applied for an existing person (its duplicate key names the person).
bool ForPerson(const Application& a) { return a.duplicate_key.rfind("person:", 0) == 0; }

// Other applications (not rejected) and nominees of the nomination for the same candidate: the
// same person, or (without a person record) the same kind, city and name in case and form.
nlohmann::json Duplicates(sqlite::Database& db, const Application& a) {
  nlohmann::json applications = nlohmann::json::array();
  if (ForPerson(a)) {
    auto same = db.Prepare(
        "SELECT id FROM applications WHERE nomination_id = ? AND duplicate_key = ? AND id <> ? "
        "AND status <> 'rejected' ORDER BY id");
    same.Bind(1, a.nomination_id).Bind(2, a.duplicate_key).Bind(3, a.id);
    while (same.Step()) {
      applications.push_back(same.ColumnInt64(0));
    }
  } else {
    auto alike = db.Prepare(
        "SELECT id, kind, name, project_title FROM applications WHERE nomination_id = ? AND "
        "city_id = ? AND id <> ? AND status <> 'rejected' AND duplicate_key NOT LIKE 'person:%' "
        "ORDER BY id");
    alike.Bind(1, a.nomination_id).Bind(2, a.city_id).Bind(3, a.id);
    while (alike.Step()) {
      if (SameCandidate(a, alike.ColumnText(1), alike.ColumnText(2), alike.ColumnText(3),
                        a.city_id)) {
        applications.push_back(alike.ColumnInt64(0));
      }
    }
  }
  nlohmann::json nominees = nlohmann::json::array();
  auto nominated = db.Prepare(
      "SELECT id, person_id, name, project_title, city_id FROM nominees WHERE nomination_id = ? "
      "ORDER BY id");
  nominated.Bind(1, a.nomination_id);
  while (nominated.Step()) {
    const int64_t id = nominated.ColumnInt64(0);
    if (a.nominee_id && *a.nominee_id == id) {
      continue;
    }
    const auto person = nominated.ColumnOptionalInt64(1);
    const bool same_person = a.person_id && person && *person == *a.person_id;
    const std::string title = nominated.ColumnText(3);
    if (same_person || SameCandidate(a, title.empty() ? "person" : "project",
                                     nominated.ColumnText(2), title, nominated.ColumnInt64(4))) {
      nominees.push_back(id);
    }
  }
  return {{"applications", std::move(applications)}, {"nominees", std::move(nominees)}};
}

// The whole application for the audit trail: the applicant's contact redacted, as a person's.
nlohmann::json AuditJson(const Application& a) {
  nlohmann::json out = FullJson(a);
  for (const char* member : {"email", "phone"}) {
    if (!out["applicant"][member].is_null()) {
      out["applicant"][member] = "[redacted]";
    }
  }
  return out;
}

nlohmann::json ModeratorJson(sqlite::Database& db, const Application& a) {
  nlohmann::json out = FullJson(a);
  out["duplicates"] = Duplicates(db, a);
  return out;
}

// "person:<id>" for an application for an existing person (its duplicates are that person's);
// else the candidate's stems and city (kept for the record: duplicates are found by SameName).
std::string DuplicateKey(const Application& a) {
  if (a.person_id) {
    return "person:" + std::to_string(*a.person_id);
  }
  return (a.kind == "project" ? "project:" + SearchStems(a.project_title)
                              : "name:" + SearchStems(a.name)) +
         "|city:" + std::to_string(a.city_id);
}

std::string NewStatusToken() {
  unsigned char random[32];
  if (RAND_bytes(random, sizeof random) != 1) {
    throw std::runtime_error("no random bytes for a token");
  }
  return kTokenTag +
         rest::Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(random), 32));
}

// Reads the candidate and card members (shared by an application and an applicant's changes).
void ReadCandidate(rest::JsonReader& reader, Application& a, bool creating) {
  if (creating) {
    a.nomination_id = reader.Id("nomination_id", true).value_or(0);
    a.kind = reader.Enum("kind", NomineeKinds(), true).value_or("");
    a.person_id = reader.Id("person_id", false);
  }
  a.name = reader.String("name", true).value_or("");
  a.project_title = reader.String("project_title", false).value_or("");
  a.city_id = reader.Id("city_id", true).value_or(0);
  a.summary = reader.String("summary", false).value_or("");
  a.story = reader.String("story", false).value_or("");
  a.links = reader.StringArray("links", false, 5).value_or(std::vector<std::string>{});
  a.project_summary = reader.String("project_summary", false).value_or("");
}

void ValidateCandidate(const Application& a, Violations& violations) {
  violations.Text("name", a.name, 1, 200);
  if (a.kind == "project") {
    if (a.person_id) {
      violations.Add("person_id", "must be absent for a project");
    }
    violations.Text("project_title", a.project_title, 1, 300);
  } else {
    if (!a.project_title.empty()) {
      violations.Add("project_title", "must be absent for a person");
    }
    if (!a.project_summary.empty()) {
      violations.Add("project_summary", "must be absent for a person");
    }
  }
  violations.Text("summary", a.summary, 0, 300);
  violations.Text("story", a.story, 0, 5000);
  violations.Text("project_summary", a.project_summary, 0, 2000);
  for (size_t i = 0; i < a.links.size(); ++i) {
    if (auto reason = LinkError(a.links[i])) {
      violations.Add("links[" + std::to_string(i) + "]", *reason);
    }
  }
}

void CheckCandidateReferences(sqlite::Database& db, const Application& a, Violations& violations) {
  RequireExists(db, "cities", "city", "city_id", a.city_id, violations);
  RequireExists(db, "people", "person", "person_id", a.person_id, violations);
}

Result<Application> ParseApplication(const nlohmann::json& body) {
  Violations violations;
  rest::JsonReader reader(body, violations, rest::JsonReader::Mode::kCreate);
  Application a;
  ReadCandidate(reader, a, true);
  if (const nlohmann::json* applicant = reader.Object("applicant", true)) {
    rest::JsonReader inner(*applicant, violations, rest::JsonReader::Mode::kCreate, "applicant.");
    a.applicant_name = inner.String("name", true).value_or("");
    a.applicant_email = inner.String("email", false).value_or("");
    a.applicant_phone = inner.String("phone", false).value_or("");
    inner.RejectUnknown();
    violations.Text("applicant.name", a.applicant_name, 1, 200);
    if (a.applicant_email.empty() && a.applicant_phone.empty()) {
      violations.Add("applicant.email",
                     "an e-mail or a phone is required (to reach the applicant)");
    }
    if (!a.applicant_email.empty() && !IsEmailAddress(a.applicant_email)) {
      violations.Add("applicant.email", "must be an e-mail address");
    }
    if (!a.applicant_phone.empty() && !IsE164Phone(a.applicant_phone)) {
      violations.Add("applicant.phone", "must be an E.164 number, e.g. +79161234567");
    }
  }
  if (const nlohmann::json* consent = reader.Object("consent", true)) {
    rest::JsonReader inner(*consent, violations, rest::JsonReader::Mode::kCreate, "consent.");
    const auto given = inner.Bool("publication", true);
    a.consent_text = inner.String("text", true).value_or("");
    inner.RejectUnknown();
    if (given && !*given) {
      violations.Add("consent.publication",
                     "must be true: the candidate's card is published once approved");
    }
    violations.Text("consent.text", a.consent_text, 1, 2000);
  }
  reader.RejectUnknown();
  ValidateCandidate(a, violations);
  if (!violations.empty()) {
    return violations.ToError();
  }
  return a;
}

void Insert(sqlite::Database& db, Application& a, const std::string& token_sha256, int64_t key_id) {
  db.Prepare(
        "INSERT INTO applications(award_id, nomination_id, kind, person_id, name, project_title, "
        "city_id, summary, story, links, project_summary, applicant_name, applicant_email, "
        "applicant_phone, consent_at, consent_text, status, reason, nominee_id, duplicate_key, "
        "token_sha256, submitted_by_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
        "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)")
      .Bind(1, a.award_id)
      .Bind(2, a.nomination_id)
      .Bind(3, a.kind)
      .Bind(4, a.person_id)
      .Bind(5, a.name)
      .Bind(6, a.project_title)
      .Bind(7, a.city_id)
      .Bind(8, a.summary)
      .Bind(9, a.story)
      .Bind(10, ToJsonText(a.links))
      .Bind(11, a.project_summary)
      .Bind(12, a.applicant_name)
      .Bind(13, a.applicant_email)
      .Bind(14, a.applicant_phone)
      .Bind(15, Millis(a.consent_at))
      .Bind(16, a.consent_text)
      .Bind(17, a.status)
      .Bind(18, a.reason)
      .Bind(19, a.duplicate_key)
      .Bind(20, token_sha256)
      .Bind(21, key_id)
      .Bind(22, Millis(a.created_at))
      .Bind(23, Millis(a.updated_at))
      .Run();
  a.id = db.LastInsertRowid();
}

void Update(sqlite::Database& db, const Application& a) {
  db.Prepare(
        "UPDATE applications SET name = ?, project_title = ?, city_id = ?, summary = ?, story = ?, "
        "links = ?, project_summary = ?, status = ?, reason = ?, nominee_id = ?, duplicate_key = "
        "?, updated_at = ?, person_id = ? WHERE id = ?")
      .Bind(1, a.name)
      .Bind(2, a.project_title)
      .Bind(3, a.city_id)
      .Bind(4, a.summary)
      .Bind(5, a.story)
      .Bind(6, ToJsonText(a.links))
      .Bind(7, a.project_summary)
      .Bind(8, a.status)
      .Bind(9, a.reason)
      .Bind(10, a.nominee_id)
      .Bind(11, a.duplicate_key)
      .Bind(12, Millis(a.updated_at))
      .Bind(13, a.person_id)
      .Bind(14, a.id)
      .Run();
}

// The application whose status token is in the Application-Token header, or nothing.
std::optional<Application> ByToken(sqlite::Database& db, const http::Request& request) {
  const auto token = request.Header("application-token");
  if (!token || token->rfind(kTokenTag, 0) != 0 || token->size() > 100) {
    return std::nullopt;
  }
  auto statement =
      db.Prepare(std::string("SELECT ") + kColumns + " FROM applications WHERE token_sha256 = ?");
  statement.Bind(1, runtime::TokenSha256Hex(*token));
  if (!statement.Step()) {
    return std::nullopt;
  }
  return FromRow(statement);
}

http::Response NoSuchToken() {
  return http::ErrorResponse(Error::NotFound(
      "No application has this status token (header Application-Token, as given when applying)."));
}

// The application `id` for a moderator: the answer that refuses, or nothing.
std::optional<http::Response> ModeratedApplication(sqlite::Database& db,
                                                   const http::Request& request, int64_t id,
                                                   std::optional<Application>& out) {
  out = Get(db, id);
  const access::Caller& caller = access::Current();
  if (!out || !access::MayRead(db, "applications", Access(), id, caller)) {
    return rest::NotFound("application", request.Param("id"));
  }
  const auto award = Awards::Get(db, out->award_id);
  if (!award || !access::MayWriteIn(caller, award->program_id) ||
      caller.role == access::Role::kFrontend) {
    return access::WriteDenied(caller, true, "application", request.Param("id"));
  }
  return std::nullopt;
}

// The moderator's reason (1..1000 characters), or the problem.
Result<std::string> ReasonOf(const nlohmann::json& body, bool required) {
  Violations violations;
  rest::JsonReader reader(body, violations, rest::JsonReader::Mode::kCreate);
  std::string reason = reader.String("reason", required).value_or("");
  reader.RejectUnknown();
  if (required || !reason.empty()) {
    violations.Text("reason", reason, 1, 1000);
  }
  if (!violations.empty()) {
    return violations.ToError();
  }
  return reason;
}

// Approves `a`: the candidate becomes a nominee (a new person is created first). The problem
// when the nominee cannot be made (a rule of nominees refuses it). REQUIRES: in a transaction.
std::optional<http::Response> Approve(sqlite::Database& db, Application& a, Instant now) {
  Nominee nominee;
  nominee.nomination_id = a.nomination_id;
  nominee.kind = a.kind;
  nominee.name = a.name;
  nominee.city_id = a.city_id;
  nominee.summary = a.summary;
  nominee.story = a.story;
  nominee.links = a.links;
  nominee.project_summary = a.project_summary;
  nominee.project_title = a.project_title;
  nominee.created_at = nominee.updated_at = now;
  if (a.kind == "person") {
    if (a.person_id) {
      nominee.person_id = a.person_id;
    } else {
      Person person;
      person.name = a.name;
      person.city_id = a.city_id;
      person.created_at = person.updated_at = now;
      People::Insert(db, person);
      audit::Record(db, People::kName, person.id, nullptr, People::ToJson(person), 201);
      nominee.person_id = person.id;
    }
    a.person_id = nominee.person_id;  // the nominee's person, linked or just created
  }
  Violations violations;
  Validate(nominee, violations);
  Nominees::CheckReferences(db, nominee, violations, now);
  if (!violations.empty()) {
    Error error = violations.ToError();
    error.message = "The candidate cannot be nominated as applied: " + error.message;
    return http::ErrorResponse(error);
  }
  Nominees::Insert(db, nominee);
  audit::Record(db, Nominees::kName, nominee.id, nullptr, Nominees::ToJson(nominee), 201);
  a.nominee_id = nominee.id;
  return std::nullopt;
}

// Counts of `where` (with one ? for the award id) by status, and by city with its region.
nlohmann::json Numbers(sqlite::Database& db, int64_t award_id, const std::string& where,
                       std::optional<int64_t> nomination_id) {
  const std::string scope =
      "a.award_id = ?" + std::string(nomination_id ? " AND a.nomination_id = ?" : "") + where;
  nlohmann::json by_status = nlohmann::json::object();
  for (const auto& status : ApplicationStatuses()) {
    by_status[status] = 0;
  }
  int64_t total = 0;
  auto statuses = db.Prepare("SELECT a.status, count(*) FROM applications AS a WHERE " + scope +
                             " GROUP BY a.status");
  statuses.Bind(1, award_id);
  if (nomination_id) {
    statuses.Bind(2, *nomination_id);
  }
  while (statuses.Step()) {
    by_status[statuses.ColumnText(0)] = statuses.ColumnInt64(1);
    total += statuses.ColumnInt64(1);
  }
  nlohmann::json by_city = nlohmann::json::array();
  auto cities = db.Prepare(
      "SELECT c.id, c.name, c.region, count(*) FROM applications AS a JOIN cities AS c ON c.id = "
      "a.city_id WHERE " +
      scope + " GROUP BY c.id ORDER BY count(*) DESC, c.id");
  cities.Bind(1, award_id);
  if (nomination_id) {
    cities.Bind(2, *nomination_id);
  }
  while (cities.Step()) {
    by_city.push_back({{"city",
                        {{"id", cities.ColumnInt64(0)},
                         {"name", cities.ColumnText(1)},
                         {"region", cities.ColumnText(2)}}},
                       {"applications", cities.ColumnInt64(3)}});
  }
  return {{"total", total}, {"by_status", std::move(by_status)}, {"by_city", std::move(by_city)}};
}

const rest::ListSpec& ListSpec() {
  using rest::Filter;
  static const rest::ListSpec kSpec = {
      .table = "applications",
      .columns = kColumns,
      .filters =
          {
              Filter{"award_id", "award_id = ?", Filter::Kind::kId, {}},
              Filter{"nomination_id", "nomination_id = ?", Filter::Kind::kId, {}},
              Filter{"status", "status = ?", Filter::Kind::kEnum, ApplicationStatuses()},
              Filter{"city_id", "city_id = ?", Filter::Kind::kId, {}},
          },
      .sorts = {{"id", "id", false}, {"created_at", "created_at", false}},
      .access = Access(),
  };
  return kSpec;
}

// One moderator decision: `decide` changes `a` (and may write more); the answer is the
// application for moderators, recorded in the audit trail.
template <class Decide>
http::Response Decision(Store& store, const Clock& clock, const http::Request& request,
                        const char* action, bool reason_required, Decide decide) {
  const auto id = rest::PathId(request);
  if (!id) {
    return rest::NotFound("application", request.Param("id"));
  }
  // The body is optional (a reason); the reason is checked once who may decide is known.
  nlohmann::json body = nlohmann::json::object();
  if (!request.body.empty()) {
    if (!http::IsJsonMediaType(request.Header("content-type"))) {
      return http::ErrorResponse(Error::UnsupportedMediaType(
          "The body must be UTF-8 JSON (Content-Type: application/json)."));
    }
    body = nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded()) {
      return http::ErrorResponse(Error::Malformed("The body is not JSON."));
    }
    if (!body.is_object()) {
      return http::ErrorResponse(Error::Invalid("body", "must be a JSON object"));
    }
  }
  return rest::Guarded([&] {
    return store.Write([&](sqlite::Database& db) {
      std::optional<Application> a;
      if (auto refused = ModeratedApplication(db, request, *id, a)) {
        return std::move(*refused);
      }
      if (a->status == "approved" || a->status == "rejected") {
        return http::ErrorResponse(Error::Conflict("Application " + std::to_string(a->id) +
                                                   " is already " + a->status + "; it cannot be " +
                                                   action + "."));
      }
      auto reason = ReasonOf(body, reason_required);
      if (!reason.ok()) {
        return http::ErrorResponse(reason.error());
      }
      const nlohmann::json before = AuditJson(*a);
      const Instant now = clock.Now();
      a->reason = reason.value();
      if (auto refused = decide(db, *a, now)) {
        return std::move(*refused);
      }
      a->updated_at = now;
      Update(db, *a);
      audit::Record(db, "application", a->id, before, AuditJson(*a), 200);
      return rest::Ok(ModeratorJson(db, *a));
    });
  });
}

}  // namespace

const std::vector<std::string>& ApplicationStatuses() {
  static const std::vector<std::string> kStatuses = {"submitted", "changes_requested", "approved",
                                                     "rejected"};
  return kStatuses;
}

void AddApplicationRoutes(http::Router& router, Store& store, const Clock& clock) {
  const http::RouteOptions json_route{.json_body = true, .offload = true};
  const http::RouteOptions plain_route{.offload = true};

  router.Post(
      "/v1/awards/{id}/applications",
      [&store, &clock](const http::Request& request) {
        const auto award_id = rest::PathId(request);
        if (!award_id) {
          return rest::NotFound("award", request.Param("id"));
        }
        if (!request.json.is_object()) {
          return http::ErrorResponse(Error::Invalid("body", "must be a JSON object"));
        }
        auto parsed = ParseApplication(request.json);
        if (!parsed.ok()) {
          return http::ErrorResponse(parsed.error());
        }
        const std::string token = NewStatusToken();
        return rest::Guarded([&] {
          // Not through Idempotent(): a stored answer would keep the status token in the
          // database. A retried submission shows to the moderator as a duplicate.
          return store.Write([&](sqlite::Database& db) {
            const auto award = Awards::Get(db, *award_id);
            if (!award || !rest::MayRead<Awards>(db, *award_id)) {
              return rest::NotFound("award", request.Param("id"));
            }
            const access::Caller& caller = access::Current();
            if (!access::MayWriteIn(caller, award->program_id)) {
              return access::Forbidden("This key (" + std::string(access::ToString(caller.role)) +
                                       ") takes no applications for award " +
                                       std::to_string(*award_id) +
                                       ": it is not a frontend of the award's program.");
            }
            const Instant now = clock.Now();
            if (!ApplicationsOpen(*award, now)) {
              return http::ErrorResponse(Error::Conflict(
                  award->applications_open_at
                      ? "Applications for award " + std::to_string(*award_id) + " are taken from " +
                            FormatUtc(*award->applications_open_at) + " until " +
                            FormatUtc(*award->applications_close_at) + " only."
                      : "Award " + std::to_string(*award_id) + " takes no applications."));
            }
            Application a = std::move(parsed.value());
            a.award_id = *award_id;
            Violations violations;
            if (AwardOfNomination(db, a.nomination_id) != *award_id) {
              violations.Add("nomination_id",
                             "must be a nomination of award " + std::to_string(*award_id));
            }
            CheckCandidateReferences(db, a, violations);
            if (!violations.empty()) {
              return http::ErrorResponse(violations.ToError());
            }
            a.consent_at = a.created_at = a.updated_at = now;
            a.status = "submitted";
            a.duplicate_key = DuplicateKey(a);
            Insert(db, a, runtime::TokenSha256Hex(token), caller.key_id);
            audit::Record(db, "application", a.id, nullptr, AuditJson(a), 201);
            nlohmann::json shown = StatusJson(a);
            // The status token is shown once: no cache may keep it.
            return rest::Created("/v1/applications/" + std::to_string(a.id),
                                 {{"application", std::move(shown)}, {"status_token", token}})
                .WithHeader("Cache-Control", "no-store");
          });
        });
      },
      json_route);

  router.Get(
      "/v1/application-status",
      [&store](const http::Request& request) {
        if (auto rejected = rest::RejectQuery(request)) {
          return std::move(*rejected);
        }
        return rest::Guarded([&] {
          return store.Read([&](sqlite::Database& db) {
            const auto a = ByToken(db, request);
            if (!a) {
              return NoSuchToken();
            }
            return http::Response::Json(200, StatusJson(*a))
                .WithHeader("Cache-Control", "no-store");
          });
        });
      },
      plain_route);

  router.Patch(
      "/v1/application-status",
      [&store, &clock](const http::Request& request) {
        if (!request.json.is_object()) {
          return http::ErrorResponse(Error::Invalid("body", "must be a JSON object"));
        }
        return rest::Guarded([&] {
          return store.Write([&](sqlite::Database& db) {
            auto a = ByToken(db, request);
            if (!a) {
              return NoSuchToken();
            }
            if (a->status != "changes_requested") {
              return http::ErrorResponse(
                  Error::Conflict("The application is " + a->status +
                                  ": it can be changed only when the moderator asks for changes."));
            }
            const nlohmann::json before = AuditJson(*a);
            nlohmann::json merged = {
                {"name", a->name},
                {"project_title", a->project_title.empty() ? nlohmann::json(nullptr)
                                                           : nlohmann::json(a->project_title)},
                {"city_id", a->city_id},
                {"summary", a->summary},
                {"story", a->story},
                {"links", a->links},
                {"project_summary", a->project_summary}};
            merged.merge_patch(request.json);
            Violations violations;
            rest::JsonReader reader(merged, violations, rest::JsonReader::Mode::kMerged);
            Application changed = *a;
            ReadCandidate(reader, changed, false);
            reader.RejectUnknown();
            ValidateCandidate(changed, violations);
            CheckCandidateReferences(db, changed, violations);
            if (!violations.empty()) {
              return http::ErrorResponse(violations.ToError());
            }
            changed.status = "submitted";
            changed.updated_at = clock.Now();
            changed.duplicate_key = DuplicateKey(changed);
            Update(db, changed);
            audit::Record(db, "application", changed.id, before, AuditJson(changed), 200);
            return http::Response::Json(200, StatusJson(changed));
          });
        });
      },
      json_route);

  router.Get(
      "/v1/applications",
      [&store](const http::Request& request) {
        auto query = rest::ParseListQuery(request, ListSpec());
        if (!query.ok()) {
          return http::ErrorResponse(query.error());
        }
        return rest::Guarded([&] {
          return store.Read([&](sqlite::Database& db) {
            const rest::SqlWithParams sql = rest::BuildListSql(
                ListSpec(), query.value(), access::ReadCondition(Access(), access::Current()));
            auto statement = db.Prepare(sql.sql);
            rest::BindParams(statement, sql);
            nlohmann::json items = nlohmann::json::array();
            std::optional<std::string> next;
            int count = 0;
            int64_t last_number = 0;
            int64_t last_id = 0;
            while (statement.Step()) {
              if (count == query->limit) {
                next = rest::MakeCursor(query.value(), "", last_number, last_id);
                break;
              }
              items.push_back(ModeratorJson(db, FromRow(statement)));
              const int sort_column = statement.ColumnCount() - 2;
              last_number = statement.ColumnInt64(sort_column);
              last_id = statement.ColumnInt64(sort_column + 1);
              ++count;
            }
            return rest::ListResponse(request, std::move(items), next, query->limit);
          });
        });
      },
      plain_route);

  router.Get(
      "/v1/applications/{id}",
      [&store](const http::Request& request) {
        const auto id = rest::PathId(request);
        if (!id) {
          return rest::NotFound("application", request.Param("id"));
        }
        return rest::Guarded([&] {
          return store.Read([&](sqlite::Database& db) {
            const auto a = Get(db, *id);
            if (!a || !access::MayRead(db, "applications", Access(), *id, access::Current())) {
              return rest::NotFound("application", request.Param("id"));
            }
            return rest::Ok(ModeratorJson(db, *a));
          });
        });
      },
      plain_route);

  router.Post(
      "/v1/applications/{id}/approve",
      [&store, &clock](const http::Request& request) {
        return Decision(store, clock, request, "approved", false,
                        [](sqlite::Database& db, Application& a, Instant now) {
                          a.status = "approved";
                          return Approve(db, a, now);
                        });
      },
      plain_route);
  router.Post(
      "/v1/applications/{id}/reject",
      [&store, &clock](const http::Request& request) {
        return Decision(store, clock, request, "rejected", true,
                        [](sqlite::Database&, Application& a, Instant) {
                          a.status = "rejected";
                          return std::optional<http::Response>();
                        });
      },
      plain_route);
  router.Post(
      "/v1/applications/{id}/request-changes",
      [&store, &clock](const http::Request& request) {
        return Decision(store, clock, request, "sent back for changes", true,
                        [](sqlite::Database&, Application& a, Instant) {
                          a.status = "changes_requested";
                          return std::optional<http::Response>();
                        });
      },
      plain_route);

  router.Get(
      "/v1/awards/{id}/application-stats",
      [&store](const http::Request& request) {
        const auto award_id = rest::PathId(request);
        if (!award_id) {
          return rest::NotFound("award", request.Param("id"));
        }
        if (auto rejected = rest::RejectQuery(request)) {
          return std::move(*rejected);
        }
        return rest::Guarded([&] {
          return store.Read([&](sqlite::Database& db) {
            const auto award = Awards::Get(db, *award_id);
            const access::Caller& caller = access::Current();
            if (!award || !rest::MayRead<Awards>(db, *award_id)) {
              return rest::NotFound("award", request.Param("id"));
            }
            if (!access::MayWriteIn(caller, award->program_id) ||
                caller.role == access::Role::kFrontend) {
              return access::Forbidden(
                  "The numbers of an award's applications are for the "
                  "organisers of its program.");
            }
            nlohmann::json out = Numbers(db, *award_id, "", std::nullopt);
            out["award_id"] = *award_id;
            nlohmann::json nominations = nlohmann::json::array();
            auto rows =
                db.Prepare("SELECT id, title FROM nominations WHERE award_id = ? ORDER BY id");
            rows.Bind(1, *award_id);
            while (rows.Step()) {
              nlohmann::json one = Numbers(db, *award_id, "", rows.ColumnInt64(0));
              one["nomination_id"] = rows.ColumnInt64(0);
              one["title"] = rows.ColumnText(1);
              nominations.push_back(std::move(one));
            }
            out["nominations"] = std::move(nominations);
            return http::Response::Json(200, out);
          });
        });
      },
      plain_route);
}

std::optional<int64_t> ProgramOfApplication(sqlite::Database& db, int64_t id) {
  auto statement =
      db.Prepare(std::string("SELECT ") + kProgramSql + " FROM applications WHERE id = ?");
  statement.Bind(1, id);
  if (!statement.Step()) {
    return std::nullopt;
  }
  return statement.ColumnOptionalInt64(0);
}

std::optional<nlohmann::json> ApplicationAsShown(sqlite::Database& db, int64_t id) {
  const auto a = Get(db, id);
  if (!a || !access::MayRead(db, "applications", Access(), id, access::Current())) {
    return std::nullopt;
  }
  return ModeratorJson(db, *a);
}

}  // namespace civic::events::resources
