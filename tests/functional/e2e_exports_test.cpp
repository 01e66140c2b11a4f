// The award exports that need both services (issue #28): the final results, which the events API
// takes from the ballot, and the laureates the close recorded, as CSV. Read back with Python's
// csv module (tests/functional/csv_check.py).
#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <string>

#include "both_services.hpp"

using civic::test::BothServices;
using civic::test::Call;
using civic::test::Create;
using civic::test::FromNow;
using civic::test::Path;
using civic::test::Results;
using civic::test::Str;
using civic::test::Vote;
using nlohmann::json;

namespace {

// The body of `path` read with the key `token` as rows (csv_check.py), after checking the CSV's
// shape and its file names (from a HEAD, read by Python).
json CsvRows(civic::test::Service& service, const std::string& token, const std::string& path,
             const std::string& ascii_name, const std::string& utf8_name) {
  auto reply = service.ClientWithKey(token)->Get(path);
  REQUIRE(reply);
  REQUIRE(reply->status == 200);
  CHECK(reply->get_header_value("Content-Type") == "text/csv; charset=utf-8; header=present");
  civic::test::TempDir dir;
  const std::string file = dir.path() + "/export.csv";
  {
    std::ofstream out(file, std::ios::binary);
    out << reply->body;
  }
  const auto result = civic::test::RunToEnd("python3 " + civic::test::SourceDir() +
                                            "/tests/functional/csv_check.py " + file + " " +
                                            service.base_url() + path + " " + token);
  REQUIRE(result.exit_code == 0);
  const json parsed = json::parse(result.output);
  CHECK(parsed["bom"] == true);
  CHECK(parsed["rfc4180_roundtrip"] == true);
  CHECK(parsed["ascii_filename"] == ascii_name);
  CHECK(parsed["filename"] == utf8_name);
  return parsed["rows"];
}

}  // namespace

TEST_CASE("Exports: an award's final results come from the ballot, its laureates from the close",
          "[e2e][exports][awards][ballot]") {
  BothServices both;
  auto api = both.events.Client();
  auto votes = both.ballot.Client();

  const int64_t sarov =
      Create(*api, "/v1/cities", {{"name", "Саров"}, {"time_zone", "Europe/Moscow"}})["id"];
  const int64_t program =
      Create(*api, "/v1/programs",
             {{"title", "Созидатели"}, {"kind", "contest"}, {"starts_on", "2026-09-01"}})["id"];
  const int64_t other =
      Create(*api, "/v1/programs",
             {{"title", "Другая"}, {"kind", "contest"}, {"starts_on", "2026-09-01"}})["id"];
  const int64_t award = Create(*api, "/v1/awards",
                               {{"title", "Новые Созидатели"},
                                {"edition_year", 2026},
                                {"program_id", program},
                                {"voting_opens_at", FromNow(-std::chrono::hours(1))},
                                {"voting_closes_at", FromNow(std::chrono::hours(1))},
                                {"results_visibility", "live"},
                                {"status", "published"}})["id"];
  const int64_t leaders =
      Create(*api, "/v1/nominations", {{"award_id", award}, {"title", "Лидер, изменений"}})["id"];
  const auto nominee = [&](const std::string& name) -> int64_t {
    const int64_t person = Create(
        *api, "/v1/people", {{"name", name}, {"city_id", sarov}, {"phone", "+79120000001"}})["id"];
    return Create(*api, "/v1/nominees",
                  {{"nomination_id", leaders},
                   {"kind", "person"},
                   {"person_id", person},
                   {"name", name},
                   {"city_id", sarov}})["id"];
  };
  const int64_t irina = nominee("Ирина \"Ира\" Лебедева");
  const int64_t pavel = nominee("-Павел");
  REQUIRE(civic::test::Eventually(
      [&] {
        const json results = Results(*votes, award);
        return !results.is_null() && results["nominations"].size() == 1 &&
               results["nominations"][0]["nominees"].size() == 2;
      },
      std::chrono::seconds(30)));
  int voter = 0;
  for (const auto& [who, times] : std::map<int64_t, int>{{irina, 3}, {pavel, 1}}) {
    for (int i = 0; i < times; ++i) {
      auto r = Vote(*votes, award, Str("resident-", ++voter), leaders, who);
      REQUIRE(r);
      REQUIRE(r->status == 201);
    }
  }
  const auto key = [&](int64_t in_program) {
    const json made =
        Create(*api, "/v1/api-keys",
               {{"name", "организатор"}, {"role", "organizer"}, {"program_ids", {in_program}}});
    return made["token"].get<std::string>();
  };
  const std::string organizer_key = key(program);
  auto organizer = both.events.ClientWithKey(organizer_key);
  auto foreign = both.events.ClientWithKey(key(other));
  const std::string results_path = Path("/v1/awards", award, "/results.csv");
  // Voting is open: no final results yet.
  CHECK(Call(*organizer, "GET", results_path).status == 409);

  REQUIRE(Call(*api, "PATCH", Path("/v1/awards", award),
               {{"voting_closes_at", FromNow(std::chrono::seconds(2))}})
              .status == 200);
  // The ballot has the new end once it gives final results.
  REQUIRE(civic::test::Eventually(
      [&] {
        auto r =
            votes->Get(Str("/v1/awards/", award, "/results?final=true"), civic::test::AdminAuth());
        return r && r->status == 200;
      },
      std::chrono::seconds(30)));
  CHECK(Call(*foreign, "GET", results_path).status == 403);
  CHECK(Call(*both.events.ClientWithKey(""), "GET", results_path).status == 401);

  const json rows =
      CsvRows(both.events, organizer_key, results_path, Str("award-", award, "-results.csv"),
              "Новые Созидатели — итоги голосования.csv");
  REQUIRE(rows.size() == 3);
  CHECK(rows[0] == json({"nomination_id", "nomination", "rank", "nominee_id", "name", "city",
                         "status", "votes", "share_percent", "nomination_total_votes"}));
  std::map<std::string, json> by_nominee;
  for (size_t i = 1; i < rows.size(); ++i) {
    by_nominee[rows[i][3].get<std::string>()] = rows[i];
  }
  CHECK(by_nominee[Str(irina)] ==
        json({Str(leaders), "Лидер, изменений", "1", Str(irina), "Ирина \"Ира\" Лебедева", "Саров",
              "active", "3", "75.00", "4"}));
  CHECK(by_nominee[Str(pavel)] == json({Str(leaders), "Лидер, изменений", "2", Str(pavel),
                                        "'-Павел", "Саров", "active", "1", "25.00", "4"}));

  // The close records the laureate; the laureates export lists it, with contacts for the
  // organiser and without them for the public.
  REQUIRE(Call(*api, "POST", Path("/v1/awards", award, "/close")).status == 200);
  const std::string laureates_path = Path("/v1/awards", award, "/laureates.csv");
  const json full =
      CsvRows(both.events, organizer_key, laureates_path, Str("award-", award, "-laureates.csv"),
              "Новые Созидатели — лауреаты.csv");
  REQUIRE(full.size() == 2);
  CHECK(full[0].back() == "phone");
  CHECK(full[1][2] == "1");  // rank
  CHECK(full[1][3] == Str(irina));
  CHECK(full[1][7] == "3");  // votes
  CHECK(full[1].back() == "'+79120000001");
  const json open = CsvRows(both.events, "", laureates_path, Str("award-", award, "-laureates.csv"),
                            "Новые Созидатели — лауреаты.csv");
  REQUIRE(open.size() == 2);
  CHECK(open[0].back() == "person_id");
  CHECK(open[1][4] == "Ирина \"Ира\" Лебедева");
}
