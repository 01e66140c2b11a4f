// REST conventions of the events API, shown on /v1/cities: create/read/patch/delete, 422
// validation, ETag/304, If-Match/412, Idempotency-Key, cursor pagination, filters, sort.
#include <algorithm>
#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <string_view>
#include <thread>

#include "events_api_helpers.hpp"
#include "harness.hpp"

using civic::test::Call;
using civic::test::Create;
using civic::test::ErrorFields;
using civic::test::Has;
using nlohmann::json;

namespace {

json Sarov() {
  return {{"name", "Саров"},
          {"region", "Нижегородская область"},
          {"time_zone", "Europe/Moscow"},
          {"population", 96000},
          {"tags", {"atom-city"}}};
}

constexpr char kBase64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Base64url without padding, as the API writes cursors.
std::string Base64Url(const std::string& bytes) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (const char c : bytes) {
    buffer = (buffer << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kBase64Url[(buffer >> bits) & 63];
    }
  }
  if (bits > 0) {
    out += kBase64Url[(buffer << (6 - bits)) & 63];
  }
  return out;
}

std::string FromBase64Url(const std::string& text) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (const char c : text) {
    buffer = (buffer << 6) | static_cast<uint32_t>(std::string_view(kBase64Url).find(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("Cities: create answers 201 with Location, ETag and the stored resource",
          "[events][cities]") {
  civic::test::Service service(civic::test::EventsApiBinary());
  auto client = service.Client();
  auto created = Call(*client, "POST", "/v1/cities", Sarov());
  REQUIRE(created.status == 201);
  const int64_t id = created.body["id"].get<int64_t>();
  CHECK(created.Header("Location") == "/v1/cities/" + std::to_string(id));
  CHECK_FALSE(created.Header("ETag").empty());
  CHECK(created.body["name"] == "Саров");
  CHECK(created.body["tags"] == json::array({"atom-city"}));
  CHECK(created.body["created_at"] == created.body["updated_at"]);

  auto read = Call(*client, "GET", "/v1/cities/" + std::to_string(id));
  CHECK(read.status == 200);
  CHECK(read.body == created.body);
  CHECK(read.Header("ETag") == created.Header("ETag"));
}

TEST_CASE("Cities: invalid input is a 422 naming every bad field, and nothing is stored",
          "[events][cities][validation]") {
  civic::test::Service service(civic::test::EventsApiBinary());
  auto client = service.Client();
  auto reply = Call(*client, "POST", "/v1/cities",
                    {{"name", ""},
                     {"time_zone", "Mars/Olympus"},
                     {"population", -5},
                     {"tags", {"Bad Tag"}},
                     {"id", 7},
                     {"colour", "red"}});
  CHECK(reply.status == 422);
  CHECK(reply.Header("Content-Type") == "application/problem+json");
  const auto fields = ErrorFields(reply);
  for (const char* field : {"name", "time_zone", "population", "tags[0]", "id", "colour"}) {
    INFO(field);
    CHECK(Has(fields, field));
  }
  CHECK(Call(*client, "GET", "/v1/cities").body["items"].empty());

  // A body that is not an object is that one error, not also every member it lacks.
  for (const json& body : {json::array({1, 2}), json(5), json("Саров"), json(false)}) {
    INFO(body.dump());
    reply = Call(*client, "POST", "/v1/cities", body);
    CHECK(reply.status == 422);
    CHECK(ErrorFields(reply) == std::vector<std::string>{"body"});
  }
  reply =
      Call(*client, "POST", "/v1/cities", {{"name", std::string(201, 'x')}, {"time_zone", "UTC"}});
  CHECK(reply.status == 422);
  CHECK(Has(ErrorFields(reply), "name"));
}

TEST_CASE("Cities: an unknown or malformed id is a 404 problem", "[events][cities]") {
  civic::test::Service service(civic::test::EventsApiBinary());
  auto client = service.Client();
  CHECK(Call(*client, "GET", "/v1/cities/999").status == 404);
  CHECK(Call(*client, "GET", "/v1/cities/abc").status == 404);
  CHECK(Call(*client, "PATCH", "/v1/cities/999", {{"name", "x"}}).status == 404);
  CHECK(Call(*client, "DELETE", "/v1/cities/999").status == 404);
}

TEST_CASE("Cities: GET with a matching If-None-Match is a 304", "[events][cities][etag]") {
  civic::test::Service service(civic::test::EventsApiBinary());
  auto client = service.Client();
  auto created = Call(*client, "POST", "/v1/cities", Sarov());
  const std::string path = created.Header("Location");
  const std::string etag = created.Header("ETag");
  auto r = client->Get(path.c_str(), {{"If-None-Match", etag}});
  REQUIRE(r);
  CHECK(r->status == 304);
  CHECK(r->body.empty());
  r = client->Get(path.c_str(), {{"If-None-Match", "\"something-else\""}});
  REQUIRE(r);
  CHECK(r->status == 200);
  // Lists carry ETags too.
  auto list = Call(*client, "GET", "/v1/cities");
  r = client->Get("/v1/cities", {{"If-None-Match", list.Header("ETag")}});
  REQUIRE(r);
  CHECK(r->status == 304);
}

TEST_CASE("Cities: PATCH is a JSON Merge Patch honouring If-Match", "[events][cities][patch]") {
  civic::test::Service service(civic::test::EventsApiBinary());
  auto client = service.Client();
  auto created = Call(*client, "POST", "/v1/cities", Sarov());
  const std::string path = created.Header("Location");
  const std::string etag = created.Header("ETag");

  auto stale = Call(*client, "PATCH", path, {{"population", 1}}, {{"If-Match", "\"stale\""}});
  CHECK(stale.status == 412);
  // The current ETag is not told: the client is to GET the resource again.
  CHECK(stale.body["detail"].get<std::string>().find(etag) == std::string::npos);
  CHECK(Call(*client, "GET", path).body["population"] == 96000);

  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto patched =
      Call(*client, "PATCH", path, {{"population", nullptr}, {"region", "Саровский округ"}},
           {{"If-Match", etag}});
  CHECK(patched.status == 200);
  CHECK(patched.body["population"].is_null());
  CHECK(patched.body["region"] == "Саровский округ");
  CHECK(patched.body["name"] == "Саров");
  CHECK(patched.body["updated_at"] != created.body["updated_at"]);
  CHECK(patched.body["created_at"] == created.body["created_at"]);
  CHECK(patched.Header("ETag") != etag);

  auto bad = Call(*client, "PATCH", path, {{"time_zone", "Nowhere/City"}});
  CHECK(bad.status == 422);
  CHECK(Has(ErrorFields(bad), "time_zone"));
  CHECK(Call(*client, "GET", path).body["time_zone"] == "Europe/Moscow");
  CHECK(Call(*client, "PATCH", path, {{"id", 99}}).status == 200);  // read-only: ignored
  CHECK(Call(*client, "GET", path).body["id"] == created.body["id"]);
}

TEST_CASE("Cities: DELETE honours If-Match and removes the city", "[events][cities][delete]") {
  civic::test::Service service(civic::test::EventsApiBinary());
  auto client = service.Client();
  auto created = Call(*client, "POST", "/v1/cities", Sarov());
  const std::string path = created.Header("Location");
  CHECK(Call(*client, "DELETE", path, nullptr, {{"If-Match", "\"stale\""}}).status == 412);
  CHECK(Call(*client, "DELETE", path, nullptr, {{"If-Match", created.Header("ETag")}}).status ==
        204);
  CHECK(Call(*client, "GET", path).status == 404);
}

TEST_CASE("Cities: If-Match compares strongly (a weak tag never matches), If-None-Match weakly",
          "[events][cities][etag]") {
  civic::test::Service service(civic::test::EventsApiBinary());
  auto client = service.Client();
  auto created = Call(*client, "POST", "/v1/cities", Sarov());
  const std::string path = created.Header("Location");
  const std::string etag = created.Header("ETag");
  const std::string weak = "W/" + etag;

  // RFC 9110 section 13.1.1: W/"x" does not match "x" for If-Match, even in a list...
  auto patched = Call(*client, "PATCH", path, {{"population", 1}}, {{"If-Match", weak}});
  CHECK(patched.status == 412);
  CHECK(
      Call(*client, "PATCH", path, {{"population", 1}}, {{"If-Match", "\"x\", " + weak}}).status ==
      412);
  CHECK(Call(*client, "DELETE", path, nullptr, {{"If-Match", weak}}).status == 412);
  CHECK(Call(*client, "GET", path).body["population"] == 96000);
  // ...while If-None-Match uses the weak comparison: the weak tag gives a 304.
  auto read = client->Get(path.c_str(), {{"If-None-Match", weak}});
  REQUIRE(read);
  CHECK(read->status == 304);
  // The strong tag itself, in a list, matches.
  CHECK(
      Call(*client, "PATCH", path, {{"population", 1}}, {{"If-Match", "\"x\", " + etag}}).status ==
      200);
}

TEST_CASE("Cities: a POST retried with the same Idempotency-Key creates once",
          "[events][cities][idempotency]") {
  civic::test::Service service(civic::test::EventsApiBinary());
  auto client = service.Client();
  httplib::Headers key = {{"Idempotency-Key", "retry-7f3a"}};
  auto first = Call(*client, "POST", "/v1/cities", Sarov(), key);
  auto second = Call(*client, "POST", "/v1/cities", Sarov(), key);
  CHECK(first.status == 201);
  CHECK(second.status == 201);
  CHECK(second.body == first.body);
  CHECK(second.Header("Location") == first.Header("Location"));
  CHECK(second.Header("Idempotency-Replayed") == "true");
  CHECK(Call(*client, "GET", "/v1/cities").body["items"].size() == 1);

  json other = Sarov();
  other["name"] = "Снежинск";
  auto conflict = Call(*client, "POST", "/v1/cities", other, key);
  CHECK(conflict.status == 422);
  CHECK(Has(ErrorFields(conflict), "Idempotency-Key"));
  CHECK(Call(*client, "GET", "/v1/cities").body["items"].size() == 1);
}

TEST_CASE("Cities: concurrent retries with one Idempotency-Key still create once",
          "[events][cities][idempotency]") {
  civic::test::Service service(civic::test::EventsApiBinary());
  std::vector<std::thread> threads;
  std::atomic<int> created{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto client = service.Client();
      auto reply = Call(*client, "POST", "/v1/cities", Sarov(), {{"Idempotency-Key", "burst-1"}});
      if (reply.status == 201) {
        ++created;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  CHECK(created == 8);
  auto client = service.Client();
  CHECK(Call(*client, "GET", "/v1/cities").body["items"].size() == 1);
}

TEST_CASE("Cities: cursor pages have no duplicates or gaps when rows are inserted between pages",
          "[events][cities][pagination]") {
  civic::test::Service service(civic::test::EventsApiBinary());
  auto client = service.Client();
  const std::vector<std::string> names = {"Ангарск",      "Балаково", "Глазов",   "Десногорск",
                                          "Железногорск", "Заречный", "Курчатов", "Лесной",
                                          "Нововоронеж",  "Обнинск"};
  for (const auto& name : names) {
    Create(*client, "/v1/cities", {{"name", name}, {"time_zone", "Europe/Moscow"}});
  }
  std::vector<std::string> seen;
  std::string path = "/v1/cities?sort=name&limit=3";
  int page = 0;
  while (true) {
    auto reply = Call(*client, "GET", path);
    REQUIRE(reply.status == 200);
    CHECK(reply.body["items"].size() <= 3);
    for (const auto& item : reply.body["items"]) {
      seen.push_back(item["name"].get<std::string>());
    }
    if (++page == 2) {
      // Inserted behind the cursor and ahead of it while paging.
      Create(*client, "/v1/cities", {{"name", "Алтай"}, {"time_zone", "Asia/Barnaul"}});
      Create(*client, "/v1/cities", {{"name", "Полярные Зори"}, {"time_zone", "Europe/Moscow"}});
    }
    if (reply.body["next"].is_null()) {
      break;
    }
    path = "/v1/cities?sort=name&limit=3&cursor=" + reply.body["next"].get<std::string>();
  }
  std::set<std::string> unique(seen.begin(), seen.end());
  CHECK(unique.size() == seen.size());
  for (const auto& name : names) {
    CHECK(unique.count(name) == 1);
  }
  CHECK(unique.count("Полярные Зори") == 1);  // ahead of the cursor: must appear
  CHECK(std::is_sorted(seen.begin(), seen.end()));
}

TEST_CASE("Cities: list filters, sort and parameter validation", "[events][cities][list]") {
  civic::test::Service service(civic::test::EventsApiBinary());
  auto client = service.Client();
  Create(*client, "/v1/cities", Sarov());
  Create(*client, "/v1/cities",
         {{"name", "Якутск"},
          {"region", "Республика Саха (Якутия)"},
          {"time_zone", "Asia/Yakutsk"},
          {"population", 355000}});
  // One city takes no query parameters: one given is a 422, not silently ignored.
  auto one = Call(*client, "GET", "/v1/cities/1?fields=name");
  CHECK(one.status == 422);
  CHECK(ErrorFields(one) == std::vector<std::string>{"fields"});
  auto atom = Call(*client, "GET", "/v1/cities?tag=atom-city");
  REQUIRE(atom.status == 200);
  REQUIRE(atom.body["items"].size() == 1);
  CHECK(atom.body["items"][0]["name"] == "Саров");
  auto region =
      Call(*client, "GET",
           "/v1/cities?region=" + httplib::detail::encode_query_param("Республика Саха (Якутия)"));
  REQUIRE(region.body["items"].size() == 1);
  CHECK(region.body["items"][0]["name"] == "Якутск");
  auto by_population = Call(*client, "GET", "/v1/cities?sort=-population");
  CHECK(by_population.body["items"][0]["name"] == "Якутск");

  auto bad = Call(*client, "GET", "/v1/cities?limit=0&sort=colour&flavour=1&cursor=zzz");
  CHECK(bad.status == 422);
  const auto fields = ErrorFields(bad);
  for (const char* field : {"limit", "sort", "flavour", "cursor"}) {
    INFO(field);
    CHECK(Has(fields, field));
  }
  // A cursor from one query is refused by another.
  auto page = Call(*client, "GET", "/v1/cities?sort=name&limit=1");
  auto reused = Call(*client, "GET",
                     "/v1/cities?sort=id&limit=1&cursor=" + page.body["next"].get<std::string>());
  CHECK(reused.status == 422);
}

TEST_CASE("Lists: a cursor altered, or issued by another collection, is a 422 on cursor",
          "[events][list][cursor]") {
  civic::test::Service service(civic::test::EventsApiBinary());
  auto client = service.Client();
  for (const char* name : {"Якутск", "Москва", "Екатеринбург"}) {
    Create(*client, "/v1/cities", {{"name", name}, {"time_zone", "Europe/Moscow"}});
  }
  for (const char* name : {"Айсен Николаев", "Вера Лыткина"}) {
    Create(*client, "/v1/people", {{"name", name}});
  }
  const auto expect_refused = [&](const std::string& path, const std::string& cursor) {
    INFO(path << " with cursor " << FromBase64Url(cursor));
    const auto reply = Call(*client, "GET", path + "&cursor=" + cursor);
    CHECK(reply.status == 422);
    CHECK(ErrorFields(reply) == std::vector<std::string>{"cursor"});
  };

  // A people cursor on cities, with the same sort and limit.
  const auto people = Call(*client, "GET", "/v1/people?sort=id&limit=1");
  REQUIRE(people.body["next"].is_string());
  expect_refused("/v1/cities?sort=id&limit=1", people.body["next"]);

  const std::string by_id = "/v1/cities?sort=id&limit=1";
  const auto page = Call(*client, "GET", by_id);
  REQUIRE(page.body["next"].is_string());
  const std::string issued = page.body["next"];
  CHECK(Call(*client, "GET", by_id + "&cursor=" + issued).status == 200);
  const json cursor = json::parse(FromBase64Url(issued));
  REQUIRE(cursor.size() == 3);

  json altered = cursor;
  altered["i"] = -1;
  expect_refused(by_id, Base64Url(altered.dump()));
  altered = cursor;
  altered["i"] = "1";
  expect_refused(by_id, Base64Url(altered.dump()));
  altered = cursor;
  altered["v"] = "";  // a string for an integer sort
  expect_refused(by_id, Base64Url(altered.dump()));
  altered = cursor;
  altered["v"] = 18446744073709551615ULL;  // beyond a 64-bit signed integer
  expect_refused(by_id, Base64Url(altered.dump()));
  altered = cursor;
  altered["x"] = 1;
  expect_refused(by_id, Base64Url(altered.dump()));
  altered = cursor;
  altered.erase("v");
  expect_refused(by_id, Base64Url(altered.dump()));
  // Bytes after the object: a NUL and garbage, white space.
  expect_refused(by_id, Base64Url(cursor.dump() + std::string(1, '\0') + "garbage"));
  expect_refused(by_id, Base64Url(cursor.dump() + " "));
  expect_refused(by_id, Base64Url(" " + cursor.dump()));

  // Sorted by name the value is a non-empty sort key.
  const std::string by_name = "/v1/cities?sort=name&limit=1";
  const auto named = Call(*client, "GET", by_name);
  REQUIRE(named.body["next"].is_string());
  CHECK(Call(*client, "GET", by_name + "&cursor=" + named.body["next"].get<std::string>()).status ==
        200);
  const json name_cursor = json::parse(FromBase64Url(named.body["next"]));
  altered = name_cursor;
  altered["v"] = "";
  expect_refused(by_name, Base64Url(altered.dump()));
  altered = name_cursor;
  altered["v"] = 5;
  expect_refused(by_name, Base64Url(altered.dump()));
}

TEST_CASE("Validation: a body of thousands of unknown members gets the first 50 errors and a count",
          "[events][validation]") {
  civic::test::Service service(civic::test::EventsApiBinary());
  auto client = service.Client();
  json body = {{"name", "Заречный"}, {"time_zone", "Asia/Yekaterinburg"}};
  for (int i = 0; i < 6000; ++i) {
    body["x" + std::to_string(1000 + i)] = 1;
  }
  const std::string text = body.dump();
  REQUIRE(text.size() < 65536);
  const auto reply = client->Post("/v1/cities", text, "application/json");
  REQUIRE(reply);
  CHECK(reply->status == 422);
  CHECK(reply->body.size() < 8192);
  const json problem = json::parse(reply->body);
  REQUIRE(problem["errors"].size() == 50);
  CHECK(problem["errors"][0]["field"] == "x1000");
  CHECK(problem["errors"][0]["reason"] == "is not a known field");
  CHECK(problem["errors_total"] == 6000);
  // Nothing was stored.
  CHECK(Call(*client, "GET", "/v1/cities").body["items"].empty());
}

TEST_CASE("Lists: a text or search parameter that is not UTF-8 is a 422 saying so",
          "[events][list][validation]") {
  civic::test::Service service(civic::test::EventsApiBinary());
  auto client = service.Client();
  for (const char* path : {"/v1/cities?q=a%FF", "/v1/cities?name=%D0", "/v1/people?q=%C0%AF"}) {
    INFO(path);
    const auto reply = Call(*client, "GET", path);
    CHECK(reply.status == 422);
    REQUIRE(reply.body["errors"].size() == 1);
    CHECK(reply.body["errors"][0]["reason"] == "is not valid UTF-8");
  }
  // Too long is still a matter of length.
  const auto long_name = Call(*client, "GET", "/v1/cities?name=" + std::string(201, 'a'));
  CHECK(long_name.body["errors"][0]["reason"] == "must be 1 to 200 characters");
}
