// Participant lists that stand alone: one page of an event's registrations embeds each person
// (?expand=person), with contacts only for those who may see them. The Novokuznetsk rally of
// urban-change leaders (seed 002); people are invented.
#include <catch2/catch.hpp>
#include <string>

#include "events_api_helpers.hpp"
#include "harness.hpp"

using civic::test::Call;
using civic::test::Create;
using civic::test::ErrorFields;
using civic::test::FromNow;
using nlohmann::json;

namespace {

std::string Str(int64_t id) { return std::to_string(id); }

}  // namespace

TEST_CASE("Participants: ?expand=person embeds each person in one page, contacts as allowed",
          "[events][registrations][expand]") {
  civic::test::Service service(civic::test::EventsApiBinary());
  auto admin = service.Client();
  const int64_t city = Create(*admin, "/v1/cities",
                              {{"name", "Новокузнецк"}, {"time_zone", "Asia/Novokuznetsk"}})["id"];
  auto program = [&](const std::string& title) -> int64_t {
    return Create(*admin, "/v1/programs",
                  {{"title", title}, {"kind", "forum"}, {"starts_on", "2026-09-01"}})["id"];
  };
  const int64_t rusal = program("Люди для города");
  const int64_t other = program("Другая программа");
  const int64_t rally = Create(*admin, "/v1/events",
                               {{"kind", "rally"},
                                {"title", "Люди для города – город для людей"},
                                {"program_id", rusal},
                                {"city_id", city},
                                {"starts_at", FromNow(std::chrono::hours(24 * 30))},
                                {"ends_at", FromNow(std::chrono::hours(24 * 31))},
                                {"status", "published"}})["id"];
  const int64_t session = Create(*admin, "/v1/sessions",
                                 {{"event_id", rally},
                                  {"kind", "master_class"},
                                  {"title", "Мастер-класс"},
                                  {"starts_at", FromNow(std::chrono::hours(24 * 30 + 2))},
                                  {"ends_at", FromNow(std::chrono::hours(24 * 30 + 3))}})["id"];
  for (int i = 0; i < 3; ++i) {
    const int64_t person = Create(*admin, "/v1/people",
                                  {{"name", "Участник " + Str(i + 1)},
                                   {"city_id", city},
                                   {"email", "u" + Str(i + 1) + "@example.org"},
                                   {"phone", "+7900000000" + Str(i + 1)}})["id"];
    Create(*admin, "/v1/events/" + Str(rally) + "/registrations", {{"person_id", person}});
    Create(*admin, "/v1/sessions/" + Str(session) + "/registrations", {{"person_id", person}});
  }
  auto key = [&](int64_t program_id) {
    return Create(*admin, "/v1/api-keys",
                  {{"name", "организатор"},
                   {"role", "organizer"},
                   {"program_ids", {program_id}}})["token"]
        .get<std::string>();
  };
  auto organizer = service.ClientWithKey(key(rusal));
  auto stranger = service.ClientWithKey(key(other));

  const std::string path = "/v1/events/" + Str(rally) + "/registrations?expand=person";
  for (auto* client : {admin.get(), organizer.get()}) {
    auto page = Call(*client, "GET", path);
    REQUIRE(page.status == 200);
    REQUIRE(page.body["items"].size() == 3);
    for (size_t i = 0; i < 3; ++i) {
      const json& item = page.body["items"][i];
      CHECK(item["person"]["id"] == item["person_id"]);
      CHECK(item["person"]["name"] == "Участник " + Str(static_cast<int64_t>(i) + 1));
      CHECK(item["person"]["email"] == "u" + Str(static_cast<int64_t>(i) + 1) + "@example.org");
      CHECK(item["person"]["has_phone"] == true);
    }
  }
  // Another program's organiser sees no participant, so no contact either.
  auto foreign = Call(*stranger, "GET", path);
  REQUIRE(foreign.status == 200);
  CHECK(foreign.body["items"].empty());
  CHECK(Call(*stranger, "GET", "/v1/registrations?expand=person").body["items"].empty());
  CHECK(Call(*service.ClientWithKey(""), "GET", path).status == 401);

  // The same for a session's sign-ups; without expand, no person member.
  auto signed_up =
      Call(*organizer, "GET", "/v1/sessions/" + Str(session) + "/registrations?expand=person");
  REQUIRE(signed_up.status == 200);
  REQUIRE(signed_up.body["items"].size() == 3);
  CHECK(signed_up.body["items"][0]["person"]["email"] == "u1@example.org");
  auto plain = Call(*organizer, "GET", "/v1/events/" + Str(rally) + "/registrations");
  CHECK_FALSE(plain.body["items"][0].contains("person"));
  // Pages with expand go on with the same cursor.
  auto first = Call(*organizer, "GET", path + "&limit=2");
  REQUIRE(first.body["next"].is_string());
  auto second =
      Call(*organizer, "GET", path + "&limit=2&cursor=" + first.body["next"].get<std::string>());
  REQUIRE(second.body["items"].size() == 1);
  CHECK(second.body["items"][0]["person"]["name"] == "Участник 3");

  auto unknown = Call(*organizer, "GET", path + ",team");
  CHECK(unknown.status == 422);
  CHECK(ErrorFields(unknown) == std::vector<std::string>{"expand"});
  CHECK(Call(*organizer, "GET", "/v1/events?expand=person").status == 422);
}
