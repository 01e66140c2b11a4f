// CSV exports for organisers' spreadsheets (issue #28): an event's registrations and attendance,
// a program's teams, an award's nominees. Each body is read back with Python's csv module (an
// independent RFC 4180 reader, tests/functional/csv_check.py), and the Content-Disposition with
// Python's RFC 2231/5987 decoder. «Люди для города» rally (seed 002); people are invented.
#include <catch2/catch.hpp>
#include <fstream>
#include <string>
#include <vector>

#include "events_api_helpers.hpp"
#include "harness.hpp"

using civic::test::Call;
using civic::test::Create;
using civic::test::FromNow;
using nlohmann::json;

namespace {

std::string Str(int64_t id) { return std::to_string(id); }

constexpr const char* kTrickyName = "Лебедева, Ирина \"Ира\"\nвторая строка";
constexpr const char* kFormulaName = "=HYPERLINK(\"http://evil.example\",\"click\")";

// An export as Python's csv module and e-mail parser read it.
struct Csv {
  int status = 0;
  std::string content_type;
  std::string cache_control;
  std::string body;
  json parsed;  // csv_check.py's answer

  const json& rows() const { return parsed["rows"]; }
  const json& header() const { return rows()[0]; }
  // The column named `name` (-1 when absent).
  int Column(const std::string& name) const {
    for (size_t i = 0; i < header().size(); ++i) {
      if (header()[i] == name) {
        return static_cast<int>(i);
      }
    }
    return -1;
  }
  // The data row whose column `key` is `value`.
  json Row(const std::string& key, const std::string& value) const {
    const int column = Column(key);
    REQUIRE(column >= 0);
    for (size_t i = 1; i < rows().size(); ++i) {
      if (rows()[i][column] == value) {
        return rows()[i];
      }
    }
    FAIL("no row with " << key << " = " << value << " in " << rows().dump());
    return nullptr;
  }
  std::string Cell(const json& row, const std::string& name) const {
    const int column = Column(name);
    REQUIRE(column >= 0);
    return row[column].get<std::string>();
  }
};

// GET `path` with the key `token` ("" for none); a 200's body is read by csv_check.py, which
// also reads the file names from a HEAD of the same path.
Csv Export(civic::test::Service& service, const std::string& token, const std::string& path) {
  Csv csv;
  auto client = service.ClientWithKey(token);
  auto reply = client->Get(path);
  REQUIRE(reply);
  csv.status = reply->status;
  csv.content_type = reply->get_header_value("Content-Type");
  csv.cache_control = reply->get_header_value("Cache-Control");
  csv.body = reply->body;
  if (csv.status != 200) {
    csv.parsed = json::parse(csv.body, nullptr, false);
    return csv;
  }
  civic::test::TempDir dir;
  const std::string file = dir.path() + "/export.csv";
  {
    std::ofstream out(file, std::ios::binary);
    out << csv.body;
  }
  // Paths and tokens are URL-safe ASCII: no shell quoting needed.
  const auto result = civic::test::RunToEnd("python3 " + civic::test::SourceDir() +
                                            "/tests/functional/csv_check.py " + file + " " +
                                            service.base_url() + path + " " + token);
  REQUIRE(result.exit_code == 0);
  csv.parsed = json::parse(result.output);
  return csv;
}

void CheckShape(const Csv& csv, const std::string& ascii_name, const std::string& utf8_name) {
  CHECK(csv.status == 200);
  CHECK(csv.content_type == "text/csv; charset=utf-8; header=present");
  CHECK(csv.cache_control == "no-store");
  CHECK(csv.body.rfind("\xEF\xBB\xBF", 0) == 0);
  CHECK(csv.parsed["bom"] == true);
  // Writing the rows back with RFC 4180's rules gives the very same bytes.
  CHECK(csv.parsed["rfc4180_roundtrip"] == true);
  CHECK(csv.body.substr(csv.body.size() - 2) == "\r\n");
  CHECK(csv.parsed["disposition"] == "attachment");
  CHECK(csv.parsed["ascii_filename"] == ascii_name);
  INFO(csv.parsed["raw_disposition"].get<std::string>());
  CHECK(csv.parsed["head_status"] == 200);
  CHECK(csv.parsed["filename"] == utf8_name);
  for (const auto& row : csv.rows()) {
    CHECK(row.size() == csv.header().size());
  }
}

civic::test::ServiceOptions Limits(const std::string& more) {
  civic::test::ServiceOptions options;
  options.env["CIVIC_EVENTS_RATE_LIMITS"] = "*@public=100000:100000,exports@*=off" + more;
  return options;
}

// A rally of program «Люди для города» with people registered, one of them checked in, and
// keys of each kind.
struct Rally {
  civic::test::Service service;
  std::unique_ptr<httplib::Client> admin = service.Client();
  int64_t city = 0;
  int64_t program = 0;
  int64_t other_program = 0;
  int64_t event = 0;
  int64_t draft_elsewhere = 0;
  int64_t tricky = 0;
  int64_t formula = 0;
  int64_t plain = 0;
  std::vector<int64_t> registrations;
  std::vector<std::string> days;

  // Exports unlimited (each export here is read twice: GET and HEAD); `limits` adds to that.
  explicit Rally(const std::string& limits = "")
      : service(civic::test::EventsApiBinary(), Limits(limits)) {
    city = Create(*admin, "/v1/cities",
                  {{"name", "Новокузнецк"}, {"time_zone", "Asia/Novokuznetsk"}})["id"];
    const int64_t ngo =
        Create(*admin, "/v1/organizations",
               {{"name", "АНО «Город, люди»"}, {"sector", "ngo"}, {"city_id", city}})["id"];
    program = Create(
        *admin, "/v1/programs",
        {{"title", "Люди для города"}, {"kind", "education"}, {"starts_on", "2026-09-01"}})["id"];
    other_program = Create(
        *admin, "/v1/programs",
        {{"title", "Другая программа"}, {"kind", "education"}, {"starts_on", "2026-09-01"}})["id"];
    event = Create(*admin, "/v1/events",
                   {{"kind", "rally"},
                    {"title", "Слёт «Люди для города»: день 1/2"},
                    {"program_id", program},
                    {"city_id", city},
                    {"starts_at", FromNow(std::chrono::hours(24 * 30))},
                    {"ends_at", FromNow(std::chrono::hours(24 * 31))},
                    {"status", "published"}})["id"];
    draft_elsewhere = Create(*admin, "/v1/events",
                             {{"kind", "seminar"},
                              {"title", "Черновик"},
                              {"program_id", other_program},
                              {"city_id", city},
                              {"starts_at", FromNow(std::chrono::hours(24 * 30))},
                              {"ends_at", FromNow(std::chrono::hours(24 * 31))},
                              {"status", "draft"}})["id"];
    tricky = Create(*admin, "/v1/people",
                    {{"name", kTrickyName},
                     {"city_id", city},
                     {"organization_id", ngo},
                     {"email", "ira@example.org"},
                     {"phone", "+79123456789"}})["id"];
    formula =
        Create(*admin, "/v1/people",
               {{"name", kFormulaName}, {"position", "-1+1"}, {"email", "x@example.org"}})["id"];
    plain = Create(*admin, "/v1/people", {{"name", "Павел Кречетов"}, {"city_id", city}})["id"];
    for (const int64_t person : {tricky, formula, plain}) {
      registrations.push_back(Create(*admin, "/v1/events/" + Str(event) + "/registrations",
                                     {{"person_id", person}})["id"]);
    }
    // The rally's days, as its attendance report names them (local dates in its zone).
    const auto report = Call(*admin, "GET", "/v1/events/" + Str(event) + "/attendance");
    INFO(report.body.dump());
    for (const auto& day : report.body["days"]) {
      days.push_back(day["day"].get<std::string>());
    }
    REQUIRE(days.size() >= 2);
    REQUIRE(Call(*admin, "POST", "/v1/registrations/" + Str(registrations[0]) + "/check-in",
                 {{"day", days[0]}})
                .status == 200);
    REQUIRE(Call(*admin, "DELETE", "/v1/registrations/" + Str(registrations[2])).status == 200);
  }

  // A new key's token.
  std::string Key(const std::string& role, int64_t in_program) {
    const json key =
        Create(*admin, "/v1/api-keys",
               {{"name", "ключ " + role}, {"role", role}, {"program_ids", {in_program}}});
    return key["token"].get<std::string>();
  }
};

}  // namespace

TEST_CASE("Exports: an event's registrations are a UTF-8 CSV with a BOM that RFC 4180 readers take",
          "[events][exports][csv]") {
  Rally rally;
  const std::string organizer = rally.Key("organizer", rally.program);
  const Csv csv =
      Export(rally.service, organizer, "/v1/events/" + Str(rally.event) + "/registrations.csv");
  CheckShape(csv, "event-" + Str(rally.event) + "-registrations.csv",
             "Слёт «Люди для города»_ день 1_2 — регистрации.csv");
  CHECK(csv.header() == json({"registration_id", "status", "registered_at", "checked_in_at",
                              "cancelled_at", "person_id", "name", "position", "city",
                              "organization", "sector", "team", "email", "phone"}));
  REQUIRE(csv.rows().size() == 4);

  // A comma, quotes and a line break in a name come back as they were.
  const json ira = csv.Row("person_id", Str(rally.tricky));
  CHECK(csv.Cell(ira, "name") == kTrickyName);
  CHECK(csv.Cell(ira, "organization") == "АНО «Город, люди»");
  CHECK(csv.Cell(ira, "sector") == "ngo");
  CHECK(csv.Cell(ira, "city") == "Новокузнецк");
  CHECK(csv.Cell(ira, "status") == "confirmed");
  // Times in the event's zone (Novokuznetsk, +07:00).
  CHECK(csv.Cell(ira, "checked_in_at").find("+07:00") != std::string::npos);
  // Contacts for the organiser of the program; the phone is neutralised but readable.
  CHECK(csv.Cell(ira, "email") == "ira@example.org");
  CHECK(csv.Cell(ira, "phone") == "'+79123456789");
  CHECK(csv.body.find(",'+79123456789\r\n") != std::string::npos);

  // A formula in a name or position is text, not a formula.
  const json evil = csv.Row("person_id", Str(rally.formula));
  CHECK(csv.Cell(evil, "name") == std::string("'") + kFormulaName);
  CHECK(csv.Cell(evil, "position") == "'-1+1");
  CHECK(csv.body.find(",=HYPERLINK") == std::string::npos);

  // A cancelled registration is listed with its status.
  const json pavel = csv.Row("person_id", Str(rally.plain));
  CHECK(csv.Cell(pavel, "status") == "cancelled");
  CHECK_FALSE(csv.Cell(pavel, "cancelled_at").empty());
  CHECK(csv.Cell(pavel, "checked_in_at").empty());

  // An admin gets the same export.
  const Csv by_admin = Export(rally.service, civic::test::kTestAdminKey,
                              "/v1/events/" + Str(rally.event) + "/registrations.csv");
  CHECK(by_admin.body == csv.body);
}

TEST_CASE("Exports: a name with a semicolon is one quoted cell, not a formula in ru-RU Excel",
          "[events][exports][csv][injection]") {
  Rally rally;
  // Excel in a Russian locale splits an unquoted line at ';' and would run the second part.
  const std::string name = "Иван;=cmd|' /C calc'!A0";
  const int64_t ivan = Create(*rally.admin, "/v1/people", {{"name", name}})["id"];
  Create(*rally.admin, "/v1/events/" + Str(rally.event) + "/registrations", {{"person_id", ivan}});
  const Csv csv = Export(rally.service, civic::test::kTestAdminKey,
                         "/v1/events/" + Str(rally.event) + "/registrations.csv");
  CHECK(csv.status == 200);
  CHECK(csv.parsed["rfc4180_roundtrip"] == true);
  CHECK(csv.Cell(csv.Row("person_id", Str(ivan)), "name") == name);
  // The raw line holds the name quoted, so no separator inside it starts a cell.
  CHECK(csv.body.find(",\"" + name + "\",") != std::string::npos);
  CHECK(csv.body.find("," + name + ",") == std::string::npos);
}

TEST_CASE("Exports: attendance lists the people checked in, with the same columns to extend",
          "[events][exports][csv]") {
  Rally rally;
  const std::string organizer = rally.Key("organizer", rally.program);
  const Csv csv =
      Export(rally.service, organizer, "/v1/events/" + Str(rally.event) + "/attendance.csv");
  CheckShape(csv, "event-" + Str(rally.event) + "-attendance.csv",
             "Слёт «Люди для города»_ день 1_2 — посещаемость.csv");
  CHECK(csv.header() == json({"attendance_id", "registration_id", "day", "session_id", "session",
                              "checked_in_at", "person_id", "name", "position", "city",
                              "organization", "sector", "team", "email", "phone"}));
  REQUIRE(csv.rows().size() == 2);
  CHECK(csv.Cell(csv.rows()[1], "registration_id") == Str(rally.registrations[0]));
  CHECK(csv.Cell(csv.rows()[1], "day") == rally.days[0]);
  CHECK(csv.Cell(csv.rows()[1], "session_id").empty());
  CHECK(csv.Cell(csv.rows()[1], "name") == kTrickyName);

  // Day 2 and a session: one row per check-in, in the order they were made.
  const int64_t session = Create(*rally.admin, "/v1/sessions",
                                 {{"event_id", rally.event},
                                  {"kind", "master_class"},
                                  {"title", "Мастер-класс: городские проекты"},
                                  {"starts_at", FromNow(std::chrono::hours(24 * 30 + 2))},
                                  {"ends_at", FromNow(std::chrono::hours(24 * 30 + 3))}})["id"];
  const std::string check_in = "/v1/registrations/" + Str(rally.registrations[0]) + "/check-in";
  REQUIRE(Call(*rally.admin, "POST", check_in, {{"day", rally.days[1]}}).status == 200);
  REQUIRE(Call(*rally.admin, "POST", check_in, {{"session_id", session}}).status == 200);
  REQUIRE(Call(*rally.admin, "POST",
               "/v1/registrations/" + Str(rally.registrations[1]) + "/check-in",
               {{"day", rally.days[1]}})
              .status == 200);
  const Csv more =
      Export(rally.service, organizer, "/v1/events/" + Str(rally.event) + "/attendance.csv");
  REQUIRE(more.rows().size() == 5);
  CHECK(more.Cell(more.rows()[2], "day") == rally.days[1]);
  CHECK(more.Cell(more.rows()[3], "session_id") == Str(session));
  CHECK(more.Cell(more.rows()[3], "session") == "Мастер-класс: городские проекты");
  CHECK(more.Cell(more.rows()[3], "day").empty());
  CHECK(more.Cell(more.rows()[4], "registration_id") == Str(rally.registrations[1]));
}

TEST_CASE("Exports: only organisers of the event's program and admins export its participants",
          "[events][exports][access]") {
  Rally rally;
  const std::string path = "/v1/events/" + Str(rally.event) + "/registrations.csv";
  const std::string foreign = rally.Key("organizer", rally.other_program);
  const std::string frontend = rally.Key("frontend", rally.program);
  const std::string anonymous;

  // Another program's organiser: 403, with a problem body and no personal data.
  const Csv refused = Export(rally.service, foreign, path);
  CHECK(refused.status == 403);
  CHECK(refused.content_type == "application/problem+json");
  CHECK(refused.body.find("ira@example.org") == std::string::npos);
  CHECK(
      Export(rally.service, foreign, "/v1/events/" + Str(rally.event) + "/attendance.csv").status ==
      403);
  CHECK(
      Export(rally.service, foreign, "/v1/programs/" + Str(rally.program) + "/teams.csv").status ==
      403);
  // A frontend of the program (its role may not export) and the public.
  CHECK(Export(rally.service, frontend, path).status == 403);
  CHECK(Export(rally.service, anonymous, path).status == 401);
  // An event the caller may not read, and one that does not exist: 404.
  const std::string own = rally.Key("organizer", rally.program);
  CHECK(
      Export(rally.service, own, "/v1/events/" + Str(rally.draft_elsewhere) + "/registrations.csv")
          .status == 404);
  CHECK(Export(rally.service, own, "/v1/events/999999/registrations.csv").status == 404);
  CHECK(Export(rally.service, own, "/v1/events/abc/registrations.csv").status == 404);
  CHECK(Export(rally.service, own, "/v1/programs/999999/teams.csv").status == 404);
  // The draft's own organiser exports it.
  const Csv draft = Export(rally.service, foreign,
                           "/v1/events/" + Str(rally.draft_elsewhere) + "/registrations.csv");
  CHECK(draft.status == 200);
  CHECK(draft.rows().size() == 1);  // the header alone
  // Unknown query parameters are refused by name.
  const Csv filtered = Export(rally.service, own, path + "?status=confirmed");
  CHECK(filtered.status == 422);
  CHECK(filtered.parsed["errors"][0]["field"] == "status");
}

TEST_CASE("Exports: a program's teams with each member, sectors and contacts",
          "[events][exports][csv]") {
  Rally rally;
  auto& admin = *rally.admin;
  const int64_t business =
      Create(admin, "/v1/organizations", {{"name", "ООО «Завод»"}, {"sector", "business"}})["id"];
  const int64_t team = Create(admin, "/v1/teams",
                              {{"city_id", rally.city},
                               {"name", "Команда Новокузнецка"},
                               {"program_id", rally.program}})["id"];
  const int64_t empty_team = Create(admin, "/v1/teams",
                                    {{"city_id", rally.city},
                                     {"name", "Пустая, но \"своя\""},
                                     {"program_id", rally.program}})["id"];
  const int64_t member =
      Create(admin, "/v1/people",
             {{"name", "@Мария"}, {"organization_id", business}, {"phone", "+79001234567"}})["id"];
  Create(admin, "/v1/team-members",
         {{"team_id", team}, {"person_id", member}, {"sector", "business"}, {"role", "lead"}});
  Create(admin, "/v1/team-members",
         {{"team_id", team}, {"person_id", rally.tricky}, {"sector", "ngo"}, {"role", "member"}});

  const std::string organizer = rally.Key("organizer", rally.program);
  const Csv csv =
      Export(rally.service, organizer, "/v1/programs/" + Str(rally.program) + "/teams.csv");
  CheckShape(csv, "program-" + Str(rally.program) + "-teams.csv", "Люди для города — команды.csv");
  REQUIRE(csv.rows().size() == 4);  // header, two members, the empty team
  const json lead = csv.Row("person_id", Str(member));
  CHECK(csv.Cell(lead, "team") == "Команда Новокузнецка");
  CHECK(csv.Cell(lead, "name") == "'@Мария");
  CHECK(csv.Cell(lead, "role") == "lead");
  CHECK(csv.Cell(lead, "member_sector") == "business");
  CHECK(csv.Cell(lead, "organization_sector") == "business");
  CHECK(csv.Cell(lead, "phone") == "'+79001234567");
  const json empty = csv.Row("team_id", Str(empty_team));
  CHECK(csv.Cell(empty, "team") == "Пустая, но \"своя\"");
  CHECK(csv.Cell(empty, "person_id").empty());
  // Grouped by team, in the order of membership.
  CHECK(csv.rows()[1][0] == Str(team));
  CHECK(csv.rows()[2][0] == Str(team));
  CHECK(csv.rows()[3][0] == Str(empty_team));
}

TEST_CASE("Exports: an award's nominees are public, contacts only for those who may see them",
          "[events][exports][csv][access]") {
  Rally rally;
  auto& admin = *rally.admin;
  const int64_t award = Create(admin, "/v1/awards",
                               {{"title", "Новые Созидатели"},
                                {"edition_year", 2026},
                                {"program_id", rally.program},
                                {"voting_opens_at", FromNow(std::chrono::hours(24))},
                                {"voting_closes_at", FromNow(std::chrono::hours(48))},
                                {"results_visibility", "live"},
                                {"status", "published"}})["id"];
  const int64_t nomination =
      Create(admin, "/v1/nominations", {{"award_id", award}, {"title", "Лидер, изменений"}})["id"];
  const int64_t nominee = Create(admin, "/v1/nominees",
                                 {{"nomination_id", nomination},
                                  {"kind", "person"},
                                  {"person_id", rally.tricky},
                                  {"name", "Ирина Лебедева"},
                                  {"city_id", rally.city}})["id"];
  const std::string path = "/v1/awards/" + Str(award) + "/nominees.csv";

  const std::string organizer = rally.Key("organizer", rally.program);
  const Csv full = Export(rally.service, organizer, path);
  CheckShape(full, "award-" + Str(award) + "-nominees.csv", "Новые Созидатели — номинанты.csv");
  REQUIRE(full.rows().size() == 2);
  const json row = full.Row("nominee_id", Str(nominee));
  CHECK(full.Cell(row, "nomination") == "Лидер, изменений");
  CHECK(full.Cell(row, "email") == "ira@example.org");
  CHECK(full.Cell(row, "phone") == "'+79123456789");

  // The public and another program's organiser: the same rows, no contact columns.
  const std::string anonymous;
  const std::string foreign = rally.Key("organizer", rally.other_program);
  for (const std::string& token : {anonymous, foreign}) {
    const Csv open = Export(rally.service, token, path);
    CheckShape(open, "award-" + Str(award) + "-nominees.csv", "Новые Созидатели — номинанты.csv");
    CHECK(open.Column("email") == -1);
    CHECK(open.Column("phone") == -1);
    CHECK(open.body.find("ira@example.org") == std::string::npos);
    CHECK(open.body.find("79123456789") == std::string::npos);
    CHECK(open.Cell(open.Row("nominee_id", Str(nominee)), "name") == "Ирина Лебедева");
  }
  // Results need voting to be over.
  auto results = Call(*rally.service.ClientWithKey(organizer), "GET",
                      "/v1/awards/" + Str(award) + "/results.csv");
  CHECK(results.status == 409);
  CHECK(Call(*rally.service.ClientWithKey(anonymous), "GET",
             "/v1/awards/" + Str(award) + "/results.csv")
            .status == 401);
  CHECK(Call(*rally.service.ClientWithKey(foreign), "GET",
             "/v1/awards/" + Str(award) + "/results.csv")
            .status == 403);
  // A draft award's nominees are not public.
  const int64_t draft = Create(admin, "/v1/awards",
                               {{"title", "Черновик"},
                                {"edition_year", 2026},
                                {"program_id", rally.program},
                                {"voting_opens_at", FromNow(std::chrono::hours(24))},
                                {"voting_closes_at", FromNow(std::chrono::hours(48))},
                                {"results_visibility", "live"},
                                {"status", "draft"}})["id"];
  CHECK(Export(rally.service, anonymous, "/v1/awards/" + Str(draft) + "/nominees.csv").status ==
        404);
  CHECK(Export(rally.service, organizer, "/v1/awards/" + Str(draft) + "/nominees.csv").status ==
        200);
}

TEST_CASE("Exports: a large registrations export streams in chunks, whole and in order",
          "[events][exports][stream]") {
  // The admin's writes unlimited: the fill is 2,400 of them.
  Rally rally(",writes@admin=off");
  auto& admin = *rally.admin;
  // 1,200 registrations: several pages of the keyset reader and several chunks on the wire.
  const int64_t big = Create(admin, "/v1/events",
                             {{"kind", "forum"},
                              {"title", "Форум"},
                              {"program_id", rally.program},
                              {"city_id", rally.city},
                              {"starts_at", FromNow(std::chrono::hours(24 * 30))},
                              {"ends_at", FromNow(std::chrono::hours(24 * 31))},
                              {"status", "published"}})["id"];
  constexpr int kPeople = 1200;
  for (int i = 0; i < kPeople; ++i) {
    const int64_t person = Create(admin, "/v1/people",
                                  {{"name", "Участник " + std::to_string(i) + ", \"гость\""},
                                   {"email", "p" + std::to_string(i) + "@example.org"}})["id"];
    Create(admin, "/v1/events/" + Str(big) + "/registrations", {{"person_id", person}});
  }
  auto reply = admin.Get("/v1/events/" + Str(big) + "/registrations.csv");
  REQUIRE(reply);
  CHECK(reply->status == 200);
  CHECK(reply->get_header_value("Transfer-Encoding") == "chunked");
  CHECK_FALSE(reply->has_header("Content-Length"));
  const Csv csv = Export(rally.service, civic::test::kTestAdminKey,
                         "/v1/events/" + Str(big) + "/registrations.csv");
  CHECK(csv.parsed["rfc4180_roundtrip"] == true);
  REQUIRE(csv.rows().size() == kPeople + 1);
  int64_t last = 0;
  for (size_t i = 1; i < csv.rows().size(); ++i) {
    const int64_t id = std::stoll(csv.rows()[i][0].get<std::string>());
    CHECK(id > last);
    last = id;
  }
  CHECK(csv.Cell(csv.rows()[kPeople], "name") ==
        "Участник " + std::to_string(kPeople - 1) + ", \"гость\"");
}

TEST_CASE("Exports: the CSV routes take from the exports rate limit, not the reads'",
          "[events][exports][rate-limit]") {
  // Two exports per address at once, refilled once a second; reads stay unlimited.
  Rally rally(",exports@public=1:2");
  auto anonymous = rally.service.ClientWithKey("");
  const std::string path = "/v1/programs/" + Str(rally.program);
  CHECK(Call(*anonymous, "GET", "/v1/awards/999/nominees.csv").status == 404);
  CHECK(Call(*anonymous, "GET", "/v1/awards/999/laureates.csv").status == 404);
  const auto limited = Call(*anonymous, "GET", "/v1/awards/999/nominees.csv");
  CHECK(limited.status == 429);
  CHECK(limited.body["policy"] == "exports");
  // A JSON read is of another class.
  CHECK(Call(*anonymous, "GET", path).status == 200);
}
