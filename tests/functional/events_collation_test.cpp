// Russian alphabetical order for ?sort=name (ICU sort keys stored with each row): a Russian
// reader expects «абрамов, Абрамова, Елисеев, Ёлкина, Юдина», byte order gives
// «Ёлкина, Абрамова, Елисеев, Юдина, абрамов».
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "events_api_helpers.hpp"
#include "harness.hpp"

using civic::test::Call;
using civic::test::Create;
using nlohmann::json;

namespace {

// Every page of `path` (which ends in a query), one `limit` at a time: the names in order.
std::vector<std::string> AllNames(httplib::Client& client, const std::string& path, int limit) {
  std::vector<std::string> names;
  std::string next = path + "&limit=" + std::to_string(limit);
  while (true) {
    auto reply = Call(client, "GET", next);
    REQUIRE(reply.status == 200);
    CHECK(reply.body["items"].size() <= static_cast<size_t>(limit));
    for (const auto& item : reply.body["items"]) {
      names.push_back(item["name"]);
    }
    if (reply.body["next"].is_null()) {
      return names;
    }
    next = path + "&limit=" + std::to_string(limit) +
           "&cursor=" + reply.body["next"].get<std::string>();
  }
}

}  // namespace

TEST_CASE("Collation: people sorted by name follow the Russian alphabet across cursor pages",
          "[events][collation]") {
  civic::test::Service service(civic::test::EventsApiBinary());
  auto client = service.Client();
  const int64_t yakutsk =
      Create(*client, "/v1/cities", {{"name", "Якутск"}, {"time_zone", "Asia/Yakutsk"}})["id"];
  for (const char* name : {"Ёлкина", "Абрамова", "Елисеев", "Юдина", "абрамов"}) {
    Create(*client, "/v1/people", {{"name", name}, {"city_id", yakutsk}});
  }
  const std::vector<std::string> expected = {"абрамов", "Абрамова", "Елисеев", "Ёлкина", "Юдина"};
  CHECK(AllNames(*client, "/v1/people?sort=name", 2) == expected);
  CHECK(AllNames(*client, "/v1/people?sort=name&city_id=" + std::to_string(yakutsk), 100) ==
        expected);
  const std::vector<std::string> reversed(expected.rbegin(), expected.rend());
  CHECK(AllNames(*client, "/v1/people?sort=-name", 3) == reversed);

  // A rename moves the person to the new name's place.
  auto people = Call(*client, "GET", "/v1/people?name=Юдина");
  REQUIRE(people.body["items"].size() == 1);
  const int64_t yudina = people.body["items"][0]["id"];
  REQUIRE(Call(*client, "PATCH", "/v1/people/" + std::to_string(yudina), {{"name", "Ёжикова"}})
              .status == 200);
  CHECK(AllNames(*client, "/v1/people?sort=name", 10) ==
        std::vector<std::string>{"абрамов", "Абрамова", "Ёжикова", "Елисеев", "Ёлкина"});
}

TEST_CASE("Collation: cities, organisations and teams sort by name in Russian order",
          "[events][collation]") {
  civic::test::Service service(civic::test::EventsApiBinary());
  auto client = service.Client();
  int64_t city = 0;
  for (const char* name : {"Ёмва", "Абакан", "Елабуга", "Юрга", "абинск"}) {
    city = Create(*client, "/v1/cities", {{"name", name}, {"time_zone", "Europe/Moscow"}})["id"];
  }
  CHECK(AllNames(*client, "/v1/cities?sort=name", 2) ==
        std::vector<std::string>{"Абакан", "абинск", "Елабуга", "Ёмва", "Юрга"});
  for (const char* name : {"«Ёлочка»", "АНО «Развитие»", "ёж", "Ёж"}) {
    Create(*client, "/v1/organizations", {{"name", name}, {"sector", "ngo"}, {"city_id", city}});
  }
  // Letters first, then case: «ёж» before «Ёж». Punctuation sorts before letters.
  CHECK(AllNames(*client, "/v1/organizations?sort=name", 10) ==
        std::vector<std::string>{"«Ёлочка»", "АНО «Развитие»", "ёж", "Ёж"});
  for (const char* name : {"Юрга-2030", "Ёмва вместе", "Елабуга: город"}) {
    Create(*client, "/v1/teams", {{"name", name}, {"city_id", city}, {"status", "forming"}});
  }
  CHECK(AllNames(*client, "/v1/teams?sort=name", 1) ==
        std::vector<std::string>{"Елабуга: город", "Ёмва вместе", "Юрга-2030"});
}

TEST_CASE("Collation: an award's nominees sort by name in Russian order across cursor pages",
          "[events][collation][awards]") {
  civic::test::Service service(civic::test::EventsApiBinary());
  auto client = service.Client();
  const int64_t sarov =
      Create(*client, "/v1/cities", {{"name", "Саров"}, {"time_zone", "Europe/Moscow"}})["id"];
  const int64_t award = Create(*client, "/v1/awards",
                               {{"title", "Новые Созидатели"},
                                {"edition_year", 2026},
                                {"voting_opens_at", civic::test::FromNow(std::chrono::hours(240))},
                                {"voting_closes_at", civic::test::FromNow(std::chrono::hours(480))},
                                {"status", "published"}})["id"];
  std::vector<int64_t> nominations;
  for (const char* title : {"Лидер изменений", "Добрый сосед"}) {
    nominations.push_back(
        Create(*client, "/v1/nominations", {{"award_id", award}, {"title", title}})["id"]);
  }
  // Projects named after their leaders, spread over two nominations, in byte order's worst case.
  int i = 0;
  for (const char* name : {"Ёлкина", "Абрамова", "Елисеев", "Юдина", "абрамов"}) {
    Create(*client, "/v1/nominees",
           {{"nomination_id", nominations[i++ % 2]},
            {"kind", "project"},
            {"project_title", name},
            {"name", name},
            {"city_id", sarov}});
  }
  const std::vector<std::string> expected = {"абрамов", "Абрамова", "Елисеев", "Ёлкина", "Юдина"};
  const std::string award_path = "/v1/awards/" + std::to_string(award) + "/nominees?sort=name";
  CHECK(AllNames(*client, award_path, 2) == expected);
  CHECK(AllNames(*client, "/v1/nominees?sort=name&award_id=" + std::to_string(award), 100) ==
        expected);
  CHECK(AllNames(*client, "/v1/nominees?sort=name", 3) == expected);
  const std::vector<std::string> reversed(expected.rbegin(), expected.rend());
  CHECK(AllNames(*client, "/v1/awards/" + std::to_string(award) + "/nominees?sort=-name", 2) ==
        reversed);
  // One nomination: Ёлкина, Елисеев and абрамов (in the order a Russian reader expects).
  CHECK(AllNames(*client,
                 "/v1/nominations/" + std::to_string(nominations[0]) + "/nominees?sort=name",
                 1) == std::vector<std::string>{"абрамов", "Елисеев", "Ёлкина"});
  // A renamed nominee takes the new name's place (the public sees the same order).
  auto public_client = service.ClientWithKey("");
  auto yudina = Call(*client, "GET", award_path + "&q=Юдина");
  REQUIRE(yudina.body["items"].size() == 1);
  REQUIRE(Call(*client, "PATCH",
               "/v1/nominees/" + std::to_string(yudina.body["items"][0]["id"].get<int64_t>()),
               {{"name", "Ёжикова"}})
              .status == 200);
  CHECK(AllNames(*public_client, award_path, 2) ==
        std::vector<std::string>{"абрамов", "Абрамова", "Ёжикова", "Елисеев", "Ёлкина"});
}
