// Nominee cards at the events API: what a voting page shows (summary, story, links, a project's
// own summary) and the photo the service keeps (type, size and bytes checked), in the snapshot
// the ballot reads.
#include <catch2/catch.hpp>
#include <string>

#include "events_api_helpers.hpp"
#include "harness.hpp"

using civic::test::Call;
using civic::test::Create;
using civic::test::ErrorFields;
using civic::test::FromNow;
using civic::test::Has;
using nlohmann::json;

namespace {

// The smallest PNG: an 8-byte signature and an IHDR chunk's start are all the check reads.
std::string PngBytes() {
  static constexpr char kPng[] =
      "\x89PNG\r\n\x1A\n"                   // signature
      "\0\0\0\rIHDR"                        // chunk length 13, type
      "\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0"  // 1x1, 8-bit RGBA
      "\x1F\x15\xC4\x89";                   // CRC
  return std::string(kPng, sizeof kPng - 1);
}

struct CardAward {
  int64_t city = 0;
  int64_t award = 0;
  int64_t nomination = 0;
  int64_t person = 0;
};

CardAward MakeAward(httplib::Client& api, const std::string& status) {
  CardAward made;
  made.city = Create(api, "/v1/cities",
                     {{"name", "Саров"},
                      {"region", "Нижегородская область"},
                      {"time_zone", "Europe/Moscow"}})["id"];
  made.award = Create(api, "/v1/awards",
                      {{"title", "Новые Созидатели"},
                       {"edition_year", 2026},
                       {"voting_opens_at", FromNow(std::chrono::hours(24))},
                       {"voting_closes_at", FromNow(std::chrono::hours(48))},
                       {"status", status}})["id"];
  made.nomination = Create(api, "/v1/nominations",
                           {{"award_id", made.award}, {"title", "Лидер изменений"}})["id"];
  made.person =
      Create(api, "/v1/people", {{"name", "Ирина Лебедева"}, {"city_id", made.city}})["id"];
  return made;
}

}  // namespace

TEST_CASE("Nominee cards: summary, story, links and a project's summary are kept and checked",
          "[events][awards][cards]") {
  civic::test::Service service(civic::test::EventsApiBinary());
  auto api = service.Client();
  const CardAward a = MakeAward(*api, "published");
  const json irina = Create(*api, "/v1/nominees",
                            {{"nomination_id", a.nomination},
                             {"kind", "person"},
                             {"person_id", a.person},
                             {"name", "Ирина Лебедева"},
                             {"city_id", a.city},
                             {"summary", "Открыла в Сарове первую детскую инженерную школу"},
                             {"story", "Три года назад Ирина собрала команду волонтёров..."},
                             {"links", {"https://sarov.example/school"}}});
  CHECK(irina["summary"] == "Открыла в Сарове первую детскую инженерную школу");
  CHECK(irina["links"] == json{"https://sarov.example/school"});
  CHECK(irina["photo"].is_null());
  CHECK(irina["project_summary"] == "");
  const std::string path = "/v1/nominees/" + std::to_string(irina["id"].get<int64_t>());
  CHECK(Call(*api, "GET", path).body["story"] ==
        "Три года назад Ирина собрала команду волонтёров...");

  const json project =
      Create(*api, "/v1/nominees",
             {{"nomination_id", a.nomination},
              {"kind", "project"},
              {"project_title", "Парк у реки"},
              {"name", "Парк у реки"},
              {"city_id", a.city},
              {"project_summary", "Набережная, которую жители спроектировали сами"}});
  CHECK(project["project_summary"] == "Набережная, которую жители спроектировали сами");

  // Bad input is a 422 naming each field, and nothing changes.
  const auto refused = Call(*api, "PATCH", path,
                            {{"summary", std::string(301, 'a')},
                             {"links", {"ftp://sarov.example", "https://ok.example/"}},
                             {"project_summary", "только для проектов"}});
  REQUIRE(refused.status == 422);
  const auto fields = ErrorFields(refused);
  CHECK(Has(fields, "summary"));
  CHECK(Has(fields, "links[0]"));
  CHECK(Has(fields, "project_summary"));
  // The photo is uploaded, never named by a link.
  CHECK(Has(ErrorFields(Call(*api, "POST", "/v1/nominees",
                             {{"nomination_id", a.nomination},
                              {"kind", "project"},
                              {"project_title", "Сквер"},
                              {"name", "Сквер"},
                              {"city_id", a.city},
                              {"photo", {{"url", "https://elsewhere.example/a.jpg"}}}})),
            "photo"));
  CHECK(Call(*api, "PATCH", path,
             {{"links",
               {"https://a.example/1", "https://a.example/2", "https://a.example/3",
                "https://a.example/4", "https://a.example/5", "https://a.example/6"}}})
            .status == 422);
  CHECK(Call(*api, "GET", path).body["summary"] ==
        "Открыла в Сарове первую детскую инженерную школу");

  // The ballot's snapshot carries the summary (results pages show it under the name).
  const json snapshot = Call(*api, "GET", "/v1/sync/awards/" + std::to_string(a.award), nullptr,
                             {{"Authorization", std::string("Bearer ") + service.admin_key()}})
                            .body;
  bool found = false;
  for (const json& who : snapshot["nominees"]) {
    if (who["id"] == irina["id"]) {
      found = true;
      CHECK(who["summary"] == "Открыла в Сарове первую детскую инженерную школу");
      CHECK(who["photo"].is_null());
    }
  }
  CHECK(found);
}

TEST_CASE("Nominee cards: a photo is uploaded with its text alternative, type and size checked",
          "[events][awards][cards][photo]") {
  civic::test::Service service(civic::test::EventsApiBinary());
  auto api = service.Client();
  auto anonymous = service.ClientWithKey("");
  const CardAward a = MakeAward(*api, "published");
  const int64_t id = Create(*api, "/v1/nominees",
                            {{"nomination_id", a.nomination},
                             {"kind", "person"},
                             {"person_id", a.person},
                             {"name", "Ирина Лебедева"},
                             {"city_id", a.city}})["id"];
  const std::string nominee = "/v1/nominees/" + std::to_string(id);
  const std::string photo = nominee + "/photo";
  const auto put = [&](const std::string& body, const std::string& type) {
    auto r = api->Put(photo, body, type);
    REQUIRE(r);
    return std::make_pair(r->status, civic::test::ParseJson(r->body));
  };

  // No text alternative yet: refused, naming photo_alt.
  auto [status, body] = put(PngBytes(), "image/png");
  CHECK(status == 422);
  CHECK(body["errors"][0]["field"] == "photo_alt");
  REQUIRE(
      Call(*api, "PATCH", nominee, {{"photo_alt", "Ирина у входа в инженерную школу"}}).status ==
      200);

  // Another type, bytes that are not the declared type, an empty or oversized body: refused.
  CHECK(put("GIF89a", "image/gif").first == 415);
  const auto mismatched = put(PngBytes(), "image/jpeg");
  CHECK(mismatched.first == 422);
  CHECK(mismatched.second["errors"][0]["field"] == "body");
  CHECK(put("", "image/png").first == 422);
  CHECK(put(PngBytes() + std::string(2 * 1024 * 1024, 'x'), "image/png").first == 413);
  CHECK(Call(*api, "GET", nominee).body["photo"].is_null());

  // Uploaded: the nominee names it with its alt; anyone reads the bytes back, as uploaded.
  std::tie(status, body) = put(PngBytes(), "image/png");
  REQUIRE(status == 200);
  CHECK(body["photo"] == json{{"url", photo}, {"alt", "Ирина у входа в инженерную школу"}});
  auto read = anonymous->Get(photo);
  REQUIRE(read);
  CHECK(read->status == 200);
  CHECK(read->get_header_value("Content-Type") == "image/png");
  CHECK(read->body == PngBytes());
  const std::string etag = read->get_header_value("ETag");
  auto again = anonymous->Get(photo, {{"If-None-Match", etag}});
  REQUIRE(again);
  CHECK(again->status == 304);
  // The snapshot names it too.
  const json snapshot = Call(*api, "GET", "/v1/sync/awards/" + std::to_string(a.award), nullptr,
                             {{"Authorization", std::string("Bearer ") + service.admin_key()}})
                            .body;
  CHECK(snapshot["nominees"][0]["photo"] ==
        json{{"url", photo}, {"alt", "Ирина у входа в инженерную школу"}});
  // The text alternative stays while there is a photo.
  const auto no_alt = Call(*api, "PATCH", nominee, {{"photo_alt", ""}});
  CHECK(no_alt.status == 422);
  CHECK(Has(ErrorFields(no_alt), "photo_alt"));
  // The public cannot upload or delete.
  CHECK(anonymous->Put(photo, PngBytes(), "image/png")->status == 401);
  CHECK(anonymous->Delete(photo)->status == 401);

  REQUIRE(api->Delete(photo)->status == 204);
  CHECK(Call(*api, "GET", nominee).body["photo"].is_null());
  CHECK(anonymous->Get(photo)->status == 404);
  CHECK(api->Delete(photo)->status == 404);
}

TEST_CASE("Nominee cards: a draft award's nominee photos are not public",
          "[events][awards][cards][photo][access]") {
  civic::test::Service service(civic::test::EventsApiBinary());
  auto api = service.Client();
  const CardAward a = MakeAward(*api, "draft");
  const int64_t id = Create(*api, "/v1/nominees",
                            {{"nomination_id", a.nomination},
                             {"kind", "person"},
                             {"person_id", a.person},
                             {"name", "Ирина Лебедева"},
                             {"city_id", a.city},
                             {"photo_alt", "Портрет"}})["id"];
  const std::string photo = "/v1/nominees/" + std::to_string(id) + "/photo";
  REQUIRE(api->Put(photo, PngBytes(), "image/png")->status == 200);
  CHECK(api->Get(photo)->status == 200);
  CHECK(service.ClientWithKey("")->Get(photo)->status == 404);
}

TEST_CASE("Nominee cards: a photo the public may not read is for no shared cache, a public one is",
          "[events][awards][cards][photo][cache]") {
  civic::test::Service service(civic::test::EventsApiBinary());
  auto api = service.Client();
  auto anonymous = service.ClientWithKey("");
  const auto photo_of = [&](const CardAward& a) {
    const int64_t id = Create(*api, "/v1/nominees",
                              {{"nomination_id", a.nomination},
                               {"kind", "person"},
                               {"person_id", a.person},
                               {"name", "Ирина Лебедева"},
                               {"city_id", a.city},
                               {"photo_alt", "Портрет"}})["id"];
    const std::string photo = "/v1/nominees/" + std::to_string(id) + "/photo";
    REQUIRE(api->Put(photo, PngBytes(), "image/png")->status == 200);
    return photo;
  };

  // A draft award's photo: only its organisers and admins read it, so a shared cache (nginx, a
  // CDN) must not keep the answer to their request and hand it to anyone.
  const std::string draft = photo_of(MakeAward(*api, "draft"));
  auto read = api->Get(draft);
  REQUIRE(read);
  REQUIRE(read->status == 200);
  const std::string cache = read->get_header_value("Cache-Control");
  CHECK(cache.find("private") != std::string::npos);
  CHECK(cache.find("public") == std::string::npos);
  CHECK(read->get_header_value("Vary").find("Authorization") != std::string::npos);
  // A 304 says the same (RFC 9110: it carries the Cache-Control and Vary a 200 would).
  auto again = api->Get(draft, {{"If-None-Match", read->get_header_value("ETag")}});
  REQUIRE(again);
  CHECK(again->status == 304);
  CHECK(again->get_header_value("Cache-Control") == cache);
  CHECK(anonymous->Get(draft)->status == 404);

  // A published award's photo is the same for everyone: any cache may keep it, whoever asked.
  const std::string published = photo_of(MakeAward(*api, "published"));
  for (auto* client : {api.get(), anonymous.get()}) {
    auto shown = client->Get(published);
    REQUIRE(shown);
    CHECK(shown->status == 200);
    CHECK(shown->get_header_value("Cache-Control") == "public, max-age=300");
  }
}

TEST_CASE("Nominee cards: If-Match guards a photo's replacement and removal",
          "[events][awards][cards][photo][etag]") {
  civic::test::Service service(civic::test::EventsApiBinary());
  auto api = service.Client();
  const CardAward a = MakeAward(*api, "published");
  const int64_t id = Create(*api, "/v1/nominees",
                            {{"nomination_id", a.nomination},
                             {"kind", "person"},
                             {"person_id", a.person},
                             {"name", "Ирина Лебедева"},
                             {"city_id", a.city},
                             {"photo_alt", "Портрет"}})["id"];
  const std::string photo = "/v1/nominees/" + std::to_string(id) + "/photo";
  const std::string first = PngBytes();
  const std::string second = PngBytes() + std::string(16, '\0');
  const auto put = [&](const std::string& bytes, const std::string& if_match) {
    auto r = api->Put(photo, {{"If-Match", if_match}}, bytes, "image/png");
    REQUIRE(r);
    return r->status;
  };
  const auto current = [&] {
    auto r = api->Get(photo);
    REQUIRE(r);
    return std::make_pair(r->body, r->get_header_value("ETag"));
  };

  // No photo yet: no If-Match can match (not even "*"), and nothing is stored.
  CHECK(put(first, "\"nope\"") == 412);
  CHECK(put(first, "*") == 412);
  CHECK(api->Get(photo)->status == 404);
  REQUIRE(api->Put(photo, first, "image/png")->status == 200);
  const auto [bytes, etag] = current();
  CHECK(bytes == first);

  // Another ETag, or the current one weak (If-Match compares strongly): 412, not naming the
  // current ETag (GET it again), and the photo stays.
  CHECK(put(second, "\"nope\"") == 412);
  auto weak = api->Put(photo, {{"If-Match", "W/" + etag}}, second, "image/png");
  REQUIRE(weak);
  CHECK(weak->status == 412);
  CHECK(civic::test::ParseJson(weak->body)["detail"].get<std::string>().find(etag) ==
        std::string::npos);
  CHECK(current().first == first);
  CHECK(api->Delete(photo, {{"If-Match", "\"nope\""}})->status == 412);
  CHECK(current().first == first);

  // The current ETag: replaced; the old ETag no longer deletes it, the new one does.
  CHECK(put(second, etag) == 200);
  const auto [replaced, new_etag] = current();
  CHECK(replaced == second);
  CHECK(new_etag != etag);
  CHECK(api->Delete(photo, {{"If-Match", etag}})->status == 412);
  CHECK(api->Delete(photo, {{"If-Match", new_etag}})->status == 204);
  CHECK(api->Get(photo)->status == 404);
}
