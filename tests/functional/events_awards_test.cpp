// Awards, nominations, nominees and laureates of the events API, the ballot sync endpoints
// (proto-docs/awards-sync.md) and the close action, which calls a fake ballot.
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>

#include "events_api_helpers.hpp"
#include "harness.hpp"

using civic::test::Call;
using civic::test::Create;
using civic::test::ErrorFields;
using civic::test::FromNow;
using civic::test::Has;
using nlohmann::json;

namespace {

constexpr const char* kAdminKey = "test-ballot-admin-key-4f1c";

std::string Path(const std::string& base, int64_t id, const std::string& tail = "") {
  return base + "/" + std::to_string(id) + tail;
}

// A FAKE of the ballot service (the peer of the close action), inside the test process: an
// httplib::Server on 127.0.0.1 and a free port that answers GET
// /v1/awards/{id}/results?final=true with whatever `answer` returns, accepts POST
// /v1/awards/{id}/sync with 202, and records each request.
class FakeBallot {
 public:
  struct Seen {
    std::string path;
    std::string final_param;
    std::string authorization;
    std::string protocol;
  };
  using Answer = std::function<std::pair<int, json>(int64_t award_id)>;

  explicit FakeBallot(Answer answer) : answer_(std::move(answer)) {
    server_.Get(R"(/v1/awards/(\d+)/results)",
                [this](const httplib::Request& request, httplib::Response& response) {
                  Answer current;
                  {
                    std::lock_guard<std::mutex> lock(mu_);
                    results_.push_back(Record(request));
                    current = answer_;
                  }
                  auto [status, body] = current(std::stoll(request.matches[1]));
                  response.status = status;
                  response.set_content(body.dump(), "application/json");
                });
    server_.Post(R"(/v1/awards/(\d+)/sync)",
                 [this](const httplib::Request& request, httplib::Response& response) {
                   {
                     std::lock_guard<std::mutex> lock(mu_);
                     syncs_.push_back(Record(request));
                   }
                   response.status = 202;
                 });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  ~FakeBallot() {
    server_.stop();
    thread_.join();
  }
  FakeBallot(const FakeBallot&) = delete;
  FakeBallot& operator=(const FakeBallot&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void set_answer(Answer answer) {
    std::lock_guard<std::mutex> lock(mu_);
    answer_ = std::move(answer);
  }
  // The final-results requests (call 4) received so far.
  std::vector<Seen> results() {
    std::lock_guard<std::mutex> lock(mu_);
    return results_;
  }
  // The "award changed" requests (call 3) received so far.
  std::vector<Seen> syncs() {
    std::lock_guard<std::mutex> lock(mu_);
    return syncs_;
  }

 private:
  static Seen Record(const httplib::Request& request) {
    return {request.path, request.get_param_value("final"),
            request.get_header_value("Authorization"),
            request.get_header_value("X-Civic-Protocol")};
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;  // guards answer_, results_, syncs_
  Answer answer_;
  std::vector<Seen> results_;
  std::vector<Seen> syncs_;
};

// A base URL where nothing listens: a fake ballot's port after it stopped.
std::string DeadUrl() {
  FakeBallot gone([](int64_t) { return std::pair<int, json>{500, json::object()}; });
  return gone.url();
}

civic::test::ServiceOptions WithBallot(const std::string& url) {
  civic::test::ServiceOptions options;
  options.args = {"--ballot-url", url, "--log-level", "debug"};
  options.env = {{"CIVIC_EVENTS_BALLOT_ADMIN_KEY", kAdminKey}};
  return options;
}

// Seed 001: the people's award "Новые Созидатели" of the atom cities, with invented people.
struct AtomCities {
  civic::test::Service service;
  std::unique_ptr<httplib::Client> client = service.Client();
  std::map<std::string, int64_t> city;
  int64_t program = 0;

  explicit AtomCities(civic::test::ServiceOptions options = {})
      : service(civic::test::EventsApiBinary(), std::move(options)) {
    const std::vector<std::pair<std::string, std::string>> cities = {
        {"Саров", "Europe/Moscow"},
        {"Снежинск", "Asia/Yekaterinburg"},
        {"Озёрск", "Asia/Yekaterinburg"},
        {"Железногорск", "Asia/Krasnoyarsk"},
        {"Северск", "Asia/Tomsk"}};
    for (const auto& [name, zone] : cities) {
      city[name] = Create(*client, "/v1/cities",
                          {{"name", name}, {"time_zone", zone}, {"tags", {"atom-city"}}})["id"];
    }
    program = Create(*client, "/v1/programs",
                     {{"title", "Премия народного призвания «атомных» городов"},
                      {"kind", "award"},
                      {"starts_on", "2026-09-01"}})["id"];
  }

  // "Новые Созидатели" with its window from `opens` to `closes` (relative to now).
  int64_t Award(const std::string& status, std::chrono::seconds opens,
                std::chrono::seconds closes) {
    return Create(*client, "/v1/awards",
                  {{"title", "Новые Созидатели"},
                   {"edition_year", 2026},
                   {"program_id", program},
                   {"voting_opens_at", FromNow(opens)},
                   {"voting_closes_at", FromNow(closes)},
                   {"results_visibility", "live"},
                   {"status", status}})["id"];
  }
  int64_t Nomination(int64_t award, const std::string& title) {
    return Create(*client, "/v1/nominations", {{"award_id", award}, {"title", title}})["id"];
  }
  int64_t Person(const std::string& name, const std::string& city_name) {
    return Create(*client, "/v1/people", {{"name", name}, {"city_id", city.at(city_name)}})["id"];
  }
  int64_t PersonNominee(int64_t nomination, const std::string& name, const std::string& city_name) {
    return Create(*client, "/v1/nominees",
                  {{"nomination_id", nomination},
                   {"kind", "person"},
                   {"person_id", Person(name, city_name)},
                   {"name", name},
                   {"city_id", city.at(city_name)}})["id"];
  }
  int64_t Version(int64_t award) {
    auto list = Call(*client, "GET", "/v1/sync/awards");
    for (const auto& item : list.body["awards"]) {
      if (item["id"] == award) {
        return item["version"];
      }
    }
    return 0;
  }
};

using std::chrono::hours;

}  // namespace

TEST_CASE("Awards: created with defaults, validated field by field, filtered", "[events][awards]") {
  AtomCities w;
  auto created = Call(*w.client, "POST", "/v1/awards",
                      {{"title", "Новые Созидатели"},
                       {"edition_year", 2026},
                       {"voting_opens_at", "2026-11-01T00:00:00+03:00"},
                       {"voting_closes_at", "2026-12-01T00:00:00+03:00"}});
  REQUIRE(created.status == 201);
  CHECK(created.Header("Location") == Path("/v1/awards", created.body["id"]));
  CHECK(created.body["status"] == "draft");
  CHECK(created.body["max_choices_per_nomination"] == 1);
  CHECK(created.body["results_visibility"] == "hidden_until_close");
  CHECK(created.body["voting_opens_at"] == "2026-10-31T21:00:00.000Z");
  CHECK(created.body["program_id"].is_null());

  auto bad = Call(*w.client, "POST", "/v1/awards",
                  {{"title", ""},
                   {"edition_year", 2026},
                   {"program_id", 999},
                   {"voting_opens_at", "2026-12-01T00:00:00+03:00"},
                   {"voting_closes_at", "2026-11-01T00:00:00+03:00"},
                   {"max_choices_per_nomination", 0},
                   {"results_visibility", "never"},
                   {"status", "closed"}});
  CHECK(bad.status == 422);
  for (const char* field :
       {"title", "voting_closes_at", "max_choices_per_nomination", "results_visibility"}) {
    INFO(field);
    CHECK(Has(ErrorFields(bad), field));
  }
  auto unknown = Call(*w.client, "POST", "/v1/awards",
                      {{"title", "Х"},
                       {"edition_year", 2026},
                       {"program_id", 999},
                       {"voting_opens_at", "2026-11-01T00:00:00+03:00"},
                       {"voting_closes_at", "2026-12-01T00:00:00+03:00"},
                       {"status", "closed"}});
  CHECK(unknown.status == 422);
  CHECK(Has(ErrorFields(unknown), "program_id"));
  CHECK(Has(ErrorFields(unknown), "status"));
  CHECK(Call(*w.client, "GET", "/v1/awards").body["items"].size() == 1);

  w.Award("published", hours(1), hours(24 * 30));
  auto published = Call(*w.client, "GET", "/v1/awards?status=published");
  REQUIRE(published.body["items"].size() == 1);
  CHECK(published.body["items"][0]["program_id"] == w.program);
  CHECK(Call(*w.client, "GET", "/v1/awards?program_id=" + std::to_string(w.program))
            .body["items"]
            .size() == 1);
  CHECK(Call(*w.client, "GET", "/v1/awards?edition_year=2026").body["items"].size() == 2);
  CHECK(Call(*w.client, "GET", "/v1/awards?edition_year=2025").body["items"].empty());
  auto year_zero = Call(*w.client, "GET", "/v1/awards?edition_year=0");
  CHECK(year_zero.status == 422);
  CHECK(year_zero.body["errors"][0]["field"] == "edition_year");
  CHECK(year_zero.body["errors"][0]["reason"] == "must be an integer between 2000 and 2100");
  CHECK(Call(*w.client, "GET", "/v1/awards?edition_year=20x6").status == 422);
  CHECK(Call(*w.client, "GET", "/v1/awards?status=finished").status == 422);
  // A program with awards cannot be deleted.
  CHECK(Call(*w.client, "DELETE", Path("/v1/programs", w.program)).status == 409);
}

TEST_CASE("Awards: status moves forward only and never to closed by PATCH",
          "[events][awards][status]") {
  AtomCities w;
  const int64_t award = w.Award("draft", -hours(1), hours(48));
  const std::string path = Path("/v1/awards", award);
  CHECK(Call(*w.client, "PATCH", path, {{"status", "published"}}).status == 200);
  auto back = Call(*w.client, "PATCH", path, {{"status", "draft"}});
  CHECK(back.status == 422);
  CHECK(Has(ErrorFields(back), "status"));
  auto closed = Call(*w.client, "PATCH", path, {{"status", "closed"}});
  CHECK(closed.status == 422);
  CHECK(Has(ErrorFields(closed), "status"));
  auto archived = Call(*w.client, "PATCH", path, {{"status", "archived"}});
  CHECK(archived.status == 422);
  CHECK(Call(*w.client, "PATCH", path, {{"status", "voting"}}).body["status"] == "voting");
  CHECK(Call(*w.client, "GET", path).body["status"] == "voting");
  // An award whose voting opened is history: it is not deleted.
  auto removed = Call(*w.client, "DELETE", path);
  CHECK(removed.status == 409);
  CHECK(removed.body["detail"].get<std::string>().find("archive") != std::string::npos);
}

TEST_CASE("Nominees: a person or a project from a city, award_id follows the nomination",
          "[events][awards][nominees]") {
  AtomCities w;
  const int64_t award = w.Award("published", hours(24), hours(48));
  const int64_t leaders = w.Nomination(award, "Лидер изменений");
  const int64_t keepers = w.Nomination(award, "Хранитель традиций");
  auto same_title = Call(*w.client, "POST", "/v1/nominations",
                         {{"award_id", award}, {"title", "Лидер изменений"}});
  CHECK(same_title.status == 422);
  CHECK(Has(ErrorFields(same_title), "title"));
  CHECK(Call(*w.client, "POST", "/v1/nominations", {{"award_id", 999}, {"title", "Х"}}).status ==
        422);

  // An unknown kind is the only error: no rule of a kind is checked against a guess.
  auto robot = Call(*w.client, "POST", "/v1/nominees",
                    {{"nomination_id", leaders},
                     {"kind", "robot"},
                     {"name", "Р2-Д2"},
                     {"city_id", w.city["Саров"]}});
  CHECK(robot.status == 422);
  CHECK(ErrorFields(robot) == std::vector<std::string>{"kind"});

  const int64_t irina = w.Person("Ирина Лебедева", "Саров");
  auto person = Call(*w.client, "POST", "/v1/nominees",
                     {{"nomination_id", leaders},
                      {"kind", "person"},
                      {"person_id", irina},
                      {"name", "Ирина Лебедева"},
                      {"city_id", w.city["Саров"]}});
  REQUIRE(person.status == 201);
  CHECK(person.body["award_id"] == award);
  CHECK(person.body["status"] == "active");
  CHECK(person.body["project_title"].is_null());
  auto project = Call(*w.client, "POST", "/v1/nominees",
                      {{"nomination_id", keepers},
                       {"kind", "project"},
                       {"project_title", "Музей атомграда под открытым небом"},
                       {"name", "Музей под открытым небом"},
                       {"city_id", w.city["Снежинск"]}});
  REQUIRE(project.status == 201);
  w.PersonNominee(leaders, "Павел Кречетов", "Озёрск");
  w.PersonNominee(keepers, "Олеся Гарипова", "Железногорск");
  w.PersonNominee(keepers, "Вера Солнцева", "Северск");

  auto bad = Call(*w.client, "POST", "/v1/nominees",
                  {{"nomination_id", leaders},
                   {"award_id", award},
                   {"kind", "person"},
                   {"project_title", "Лишнее"},
                   {"name", ""},
                   {"city_id", 999}});
  CHECK(bad.status == 422);
  for (const char* field : {"award_id", "person_id", "project_title", "name"}) {
    INFO(field);
    CHECK(Has(ErrorFields(bad), field));
  }
  auto missing = Call(*w.client, "POST", "/v1/nominees",
                      {{"nomination_id", 999},
                       {"kind", "person"},
                       {"person_id", 999},
                       {"name", "Никто"},
                       {"city_id", 999}});
  CHECK(missing.status == 422);
  for (const char* field : {"nomination_id", "person_id", "city_id"}) {
    INFO(field);
    CHECK(Has(ErrorFields(missing), field));
  }
  auto twice = Call(*w.client, "POST", "/v1/nominees",
                    {{"nomination_id", leaders},
                     {"kind", "person"},
                     {"person_id", irina},
                     {"name", "Ирина Лебедева"},
                     {"city_id", w.city["Саров"]}});
  CHECK(twice.status == 422);
  CHECK(Has(ErrorFields(twice), "person_id"));

  // Moves within the award are fine; award_id cannot be patched; another award's nomination no.
  const std::string irina_path = person.Header("Location");
  auto moved = Call(*w.client, "PATCH", irina_path, {{"nomination_id", keepers}});
  CHECK(moved.status == 200);
  CHECK(moved.body["nomination_id"] == keepers);
  CHECK(Has(ErrorFields(Call(*w.client, "PATCH", irina_path, {{"award_id", award + 1}})),
            "award_id"));
  const int64_t other_award = w.Award("draft", hours(24), hours(48));
  const int64_t other = w.Nomination(other_award, "Лидер изменений");
  auto across = Call(*w.client, "PATCH", irina_path, {{"nomination_id", other}});
  CHECK(across.status == 422);
  CHECK(Has(ErrorFields(across), "nomination_id"));
  auto across_nomination =
      Call(*w.client, "PATCH", Path("/v1/nominations", leaders), {{"award_id", other_award}});
  CHECK(across_nomination.status == 422);

  // Lists: flat with filters, and nested under the award and the nomination.
  auto in_award = Call(*w.client, "GET", Path("/v1/awards", award, "/nominees?limit=2"));
  CHECK(in_award.status == 200);
  CHECK(in_award.body["items"].size() == 2);
  CHECK(in_award.body["next"].is_string());
  CHECK(Call(*w.client, "GET", Path("/v1/awards", award, "/nominees?limit=100"))
            .body["items"]
            .size() == 5);
  CHECK(Call(*w.client, "GET", "/v1/nominees?award_id=" + std::to_string(award))
            .body["items"]
            .size() == 5);
  CHECK(Call(*w.client, "GET", "/v1/nominees?city_id=" + std::to_string(w.city["Северск"]))
            .body["items"]
            .size() == 1);
  CHECK(
      Call(*w.client, "GET", Path("/v1/nominations", keepers, "/nominees")).body["items"].size() ==
      4);
  CHECK(Call(*w.client, "GET", Path("/v1/awards", award, "/nominations")).body["items"].size() ==
        2);
  CHECK(Call(*w.client, "GET", "/v1/nominations?award_id=" + std::to_string(award))
            .body["items"]
            .size() == 2);
  CHECK(Call(*w.client, "GET", Path("/v1/awards", award, "/nominees?award_id=1")).status == 422);
  CHECK(Call(*w.client, "GET", "/v1/awards/999/nominees").status == 404);

  auto withdrawn = Call(*w.client, "PATCH", irina_path, {{"status", "withdrawn"}});
  CHECK(withdrawn.body["status"] == "withdrawn");
  CHECK(Call(*w.client, "GET", "/v1/nominees?status=withdrawn").body["items"].size() == 1);
  // A nominated person is referenced.
  CHECK(Call(*w.client, "DELETE", Path("/v1/people", irina)).status == 409);
}

TEST_CASE("Nominations and nominees: deleted before voting opens, kept once it opened",
          "[events][awards][delete]") {
  AtomCities w;
  const int64_t future = w.Award("published", hours(24), hours(48));
  const int64_t nomination = w.Nomination(future, "Лидер изменений");
  const int64_t nominee = w.PersonNominee(nomination, "Ирина Лебедева", "Саров");
  // Before voting opens the rules may still change.
  CHECK(Call(*w.client, "PATCH", Path("/v1/awards", future),
             {{"max_choices_per_nomination", 2}, {"voting_opens_at", FromNow(hours(12))}})
            .status == 200);
  CHECK(Call(*w.client, "DELETE", Path("/v1/nominations", nomination)).status == 409);
  CHECK(Call(*w.client, "DELETE", Path("/v1/nominees", nominee)).status == 204);
  CHECK(Call(*w.client, "DELETE", Path("/v1/nominations", nomination)).status == 204);
  CHECK(Call(*w.client, "DELETE", Path("/v1/awards", future)).status == 204);

  // Announced as `voting` ahead of its start: the ballot takes no vote before voting_opens_at,
  // so until then the rules and the nominees may still change.
  const int64_t announced = w.Award("voting", hours(24), hours(48));
  const int64_t announced_nominee =
      w.PersonNominee(w.Nomination(announced, "Голос города"), "Вера Солнцева", "Северск");
  CHECK(Call(*w.client, "PATCH", Path("/v1/awards", announced),
             {{"max_choices_per_nomination", 3}, {"voting_opens_at", FromNow(hours(6))}})
            .status == 200);
  CHECK(Call(*w.client, "DELETE", Path("/v1/nominees", announced_nominee)).status == 204);

  const int64_t open = w.Award("published", -hours(1), hours(48));
  const int64_t open_nomination = w.Nomination(open, "Лидер изменений");
  const int64_t open_nominee = w.PersonNominee(open_nomination, "Павел Кречетов", "Снежинск");
  auto kept = Call(*w.client, "DELETE", Path("/v1/nominees", open_nominee));
  CHECK(kept.status == 409);
  CHECK(kept.body["detail"].get<std::string>().find("withdraw") != std::string::npos);
  CHECK(Call(*w.client, "DELETE", Path("/v1/nominations", open_nomination)).status == 409);
  CHECK(Call(*w.client, "GET", Path("/v1/nominees", open_nominee)).status == 200);
  // Adding a nominee while voting is open is allowed (the ballot syncs it).
  w.PersonNominee(open_nomination, "Тимур Ахмеров", "Железногорск");
}

TEST_CASE("Awards: once voting opened, its start, K and nominees' nominations stay as they were",
          "[events][awards][rules]") {
  AtomCities w;
  const int64_t award = w.Award("published", -hours(1), hours(48));
  const int64_t leaders = w.Nomination(award, "Лидер изменений");
  const int64_t keepers = w.Nomination(award, "Хранитель традиций");
  const int64_t nominee = w.PersonNominee(leaders, "Павел Кречетов", "Снежинск");
  const std::string path = Path("/v1/awards", award);
  const auto before = Call(*w.client, "GET", path).body;

  // Moving the window later would make the award look unopened and its history deletable.
  auto later =
      Call(*w.client, "PATCH", path,
           {{"voting_opens_at", FromNow(hours(24))}, {"voting_closes_at", FromNow(hours(30))}});
  CHECK(later.status == 422);
  CHECK(Has(ErrorFields(later), "voting_opens_at"));
  // Fewer (or more) choices per nomination than the votes were cast under.
  auto fewer = Call(*w.client, "PATCH", path, {{"max_choices_per_nomination", 2}});
  CHECK(fewer.status == 422);
  CHECK(Has(ErrorFields(fewer), "max_choices_per_nomination"));
  // The end moves to now or later, never into the past.
  auto past =
      Call(*w.client, "PATCH", path, {{"voting_closes_at", FromNow(-std::chrono::minutes(5))}});
  CHECK(past.status == 422);
  CHECK(Has(ErrorFields(past), "voting_closes_at"));
  CHECK(Call(*w.client, "GET", path).body == before);
  CHECK(Call(*w.client, "DELETE", Path("/v1/nominees", nominee)).status == 409);

  // A nominee stays in the nomination its votes were cast in.
  auto moved =
      Call(*w.client, "PATCH", Path("/v1/nominees", nominee), {{"nomination_id", keepers}});
  CHECK(moved.status == 422);
  CHECK(Has(ErrorFields(moved), "nomination_id"));
  CHECK(Call(*w.client, "GET", Path("/v1/nominees", nominee)).body["nomination_id"] == leaders);

  // What may change: the end (extended), the visibility, the text; status forward.
  auto extended = Call(*w.client, "PATCH", path,
                       {{"voting_closes_at", FromNow(hours(72))},
                        {"results_visibility", "hidden_until_close"},
                        {"description", "Голосование продлено"},
                        {"status", "voting"}});
  CHECK(extended.status == 200);
  CHECK(extended.body["status"] == "voting");
  CHECK(Call(*w.client, "PATCH", Path("/v1/nominees", nominee), {{"status", "withdrawn"}}).status ==
        200);
}

TEST_CASE("Sync: renaming a nominee's city is a new version of each award that names it",
          "[events][awards][sync]") {
  AtomCities w;
  const int64_t sarov_award = w.Award("published", hours(24), hours(48));
  const int64_t nomination = w.Nomination(sarov_award, "Лидер изменений");
  w.PersonNominee(nomination, "Ирина Лебедева", "Саров");
  const int64_t other_award = w.Award("published", hours(24), hours(48));
  w.PersonNominee(w.Nomination(other_award, "Голос города"), "Вера Солнцева", "Северск");
  const int64_t sarov_v1 = w.Version(sarov_award);
  const int64_t other_v1 = w.Version(other_award);
  const std::string city = Path("/v1/cities", w.city["Саров"]);

  // Not the name: the snapshots stay as they are.
  REQUIRE(Call(*w.client, "PATCH", city, {{"population", 83000}}).status == 200);
  CHECK(w.Version(sarov_award) == sarov_v1);

  REQUIRE(Call(*w.client, "PATCH", city, {{"name", "Саров (ЗАТО)"}}).status == 200);
  CHECK(w.Version(sarov_award) > sarov_v1);
  CHECK(w.Version(other_award) == other_v1);
  auto snapshot = Call(*w.client, "GET", Path("/v1/sync/awards", sarov_award));
  REQUIRE(snapshot.status == 200);
  CHECK(snapshot.body["nominees"][0]["city"]["name"] == "Саров (ЗАТО)");
}

TEST_CASE("Sync: drafts are hidden, the version grows on every change to the award's data",
          "[events][awards][sync]") {
  AtomCities w;
  const int64_t award = w.Award("draft", hours(24), hours(48));
  auto empty = Call(*w.client, "GET", "/v1/sync/awards");
  CHECK(empty.status == 200);
  CHECK(empty.Header("X-Civic-Protocol") == "1");
  CHECK(empty.body["protocol"] == 1);
  CHECK(empty.body["awards"].empty());
  CHECK(Call(*w.client, "GET", Path("/v1/sync/awards", award)).status == 404);

  const std::string path = Path("/v1/awards", award);
  Call(*w.client, "PATCH", path, {{"status", "published"}});
  const int64_t v1 = w.Version(award);
  CHECK(v1 > 0);
  const int64_t nomination = w.Nomination(award, "Лидер изменений");
  const int64_t v2 = w.Version(award);
  CHECK(v2 > v1);
  const int64_t nominee = w.PersonNominee(nomination, "Ирина Лебедева", "Саров");
  const int64_t v3 = w.Version(award);
  CHECK(v3 > v2);
  Call(*w.client, "PATCH", Path("/v1/nominees", nominee), {{"status", "withdrawn"}});
  const int64_t v4 = w.Version(award);
  CHECK(v4 > v3);
  Call(*w.client, "PATCH", Path("/v1/nominations", nomination), {{"title", "Лидер перемен"}});
  const int64_t v5 = w.Version(award);
  CHECK(v5 > v4);
  Call(*w.client, "PATCH", path, {{"voting_closes_at", FromNow(hours(72))}});
  const int64_t v6 = w.Version(award);
  CHECK(v6 > v5);
  Call(*w.client, "PATCH", path, {{"results_visibility", "live"}});  // unchanged: no write
  CHECK(w.Version(award) == v6);
  const int64_t extra = w.PersonNominee(nomination, "Вера Солнцева", "Северск");
  const int64_t v7 = w.Version(award);
  CHECK(v7 > v6);
  CHECK(Call(*w.client, "DELETE", Path("/v1/nominees", extra)).status == 204);
  const int64_t v8 = w.Version(award);
  CHECK(v8 > v7);

  // The list: ETag and 304.
  auto list = Call(*w.client, "GET", "/v1/sync/awards");
  REQUIRE(list.body["awards"].size() == 1);
  CHECK(list.body["awards"][0]["status"] == "published");
  CHECK(list.body["awards"][0]["updated_at"].is_string());
  const std::string list_etag = list.Header("ETag");
  CHECK(Call(*w.client, "GET", "/v1/sync/awards", nullptr, {{"If-None-Match", list_etag}}).status ==
        304);
  // The list is whole: it takes no paging or filter, and says so rather than ignore one.
  auto paged = Call(*w.client, "GET", "/v1/sync/awards?limit=5");
  CHECK(paged.status == 422);
  CHECK(ErrorFields(paged) == std::vector<std::string>{"limit"});
  CHECK(Call(*w.client, "GET", Path("/v1/sync/awards", award) + "?fields=title").status == 422);

  // The snapshot: ETag is the version; 304 on a match; the nominee's city is named.
  auto snapshot = Call(*w.client, "GET", Path("/v1/sync/awards", award), nullptr,
                       {{"X-Civic-Protocol", "1"}, {"Accept", "application/json"}});
  REQUIRE(snapshot.status == 200);
  CHECK(snapshot.Header("ETag") == std::string(1, '"') + std::to_string(v8) + '"');
  CHECK(snapshot.body["protocol"] == 1);
  CHECK(snapshot.body["version"] == v8);
  CHECK(snapshot.body["title"] == "Новые Созидатели");
  CHECK(snapshot.body["max_choices_per_nomination"] == 1);
  CHECK(snapshot.body["results_visibility"] == "live");
  REQUIRE(snapshot.body["nominations"].size() == 1);
  CHECK(snapshot.body["nominations"][0] == json({{"id", nomination}, {"title", "Лидер перемен"}}));
  REQUIRE(snapshot.body["nominees"].size() == 1);
  CHECK(snapshot.body["nominees"][0]["city"] ==
        json({{"id", w.city["Саров"]}, {"name", "Саров"}, {"region", ""}}));
  CHECK(snapshot.body["nominees"][0]["status"] == "withdrawn");
  auto same = Call(*w.client, "GET", Path("/v1/sync/awards", award), nullptr,
                   {{"If-None-Match", snapshot.Header("ETag")}});
  CHECK(same.status == 304);
  CHECK(same.Header("ETag") == snapshot.Header("ETag"));

  w.PersonNominee(nomination, "Олеся Гарипова", "Озёрск");
  CHECK(Call(*w.client, "GET", "/v1/sync/awards", nullptr, {{"If-None-Match", list_etag}}).status ==
        200);
  CHECK(Call(*w.client, "GET", Path("/v1/sync/awards", award), nullptr,
             {{"If-None-Match", snapshot.Header("ETag")}})
            .status == 200);

  // Another protocol version is refused.
  auto v2_protocol =
      Call(*w.client, "GET", "/v1/sync/awards", nullptr, {{"X-Civic-Protocol", "2"}});
  CHECK(v2_protocol.status == 400);
  CHECK(v2_protocol.Header("Content-Type") == "application/problem+json");
  CHECK(Call(*w.client, "GET", Path("/v1/sync/awards", award), nullptr, {{"X-Civic-Protocol", "2"}})
            .status == 400);
}

TEST_CASE("Sync: the ballot is told when a published award changes, never about drafts",
          "[events][awards][sync][notify]") {
  FakeBallot ballot([](int64_t) { return std::pair<int, json>{500, json::object()}; });
  AtomCities w(WithBallot(ballot.url()));
  const int64_t draft = w.Award("draft", hours(24), hours(48));
  w.Nomination(draft, "Лидер изменений");
  const int64_t award = w.Award("published", hours(24), hours(48));
  const int64_t nomination = w.Nomination(award, "Лидер изменений");
  const int64_t nominee = w.PersonNominee(nomination, "Ирина Лебедева", "Саров");
  const std::string told = Path("/v1/awards", award, "/sync");
  auto told_count = [&] {
    auto syncs = ballot.syncs();
    return std::count_if(syncs.begin(), syncs.end(),
                         [&](const FakeBallot::Seen& seen) { return seen.path == told; });
  };
  // Best effort and asynchronous: wait for it (a change made while the service was starting
  // may be taken as the baseline, so keep changing).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (int i = 0; told_count() == 0 && std::chrono::steady_clock::now() < deadline; ++i) {
    Call(*w.client, "PATCH", Path("/v1/nominees", nominee),
         {{"name", "Ирина Лебедева " + std::to_string(i)}});
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(told_count() > 0);
  auto syncs = ballot.syncs();
  CHECK(syncs[0].authorization == std::string("Bearer ") + kAdminKey);
  CHECK(syncs[0].protocol == "1");
  for (const auto& seen : syncs) {
    CHECK(seen.path != Path("/v1/awards", draft, "/sync"));
  }
  // A withdrawal is announced too.
  const auto before = told_count();
  Call(*w.client, "PATCH", Path("/v1/nominees", nominee), {{"status", "withdrawn"}});
  const auto withdrawal_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (told_count() == before && std::chrono::steady_clock::now() < withdrawal_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(told_count() > before);
}

TEST_CASE("Close: refused before the window ends, without asking the ballot",
          "[events][awards][close]") {
  FakeBallot ballot([](int64_t) { return std::pair<int, json>{500, json::object()}; });
  AtomCities w(WithBallot(ballot.url()));
  const int64_t award = w.Award("voting", -hours(1), hours(1));
  auto early = Call(*w.client, "POST", Path("/v1/awards", award, "/close"));
  CHECK(early.status == 409);
  CHECK(ballot.results().empty());
  const int64_t draft = w.Award("draft", -hours(2), -hours(1));
  CHECK(Call(*w.client, "POST", Path("/v1/awards", draft, "/close")).status == 409);
  CHECK(Call(*w.client, "POST", "/v1/awards/999/close").status == 404);
  CHECK(ballot.results().empty());
}

TEST_CASE("Close: laureates are the most voted active nominees per nomination, ties all win",
          "[events][awards][close]") {
  FakeBallot ballot([](int64_t) { return std::pair<int, json>{500, json::object()}; });
  AtomCities w(WithBallot(ballot.url()));
  const int64_t award = w.Award("voting", -hours(2), -hours(1));
  const int64_t leaders = w.Nomination(award, "Лидер изменений");
  const int64_t keepers = w.Nomination(award, "Хранитель традиций");
  const int64_t youth = w.Nomination(award, "Молодёжный активист");
  const int64_t irina = w.PersonNominee(leaders, "Ирина Лебедева", "Саров");
  const int64_t pavel = w.PersonNominee(leaders, "Павел Кречетов", "Снежинск");
  const int64_t olesya = w.PersonNominee(keepers, "Олеся Гарипова", "Озёрск");
  const int64_t timur = w.PersonNominee(keepers, "Тимур Ахмеров", "Железногорск");
  const int64_t vera = w.PersonNominee(keepers, "Вера Солнцева", "Северск");
  const int64_t quiet = w.PersonNominee(youth, "Глеб Иванцов", "Северск");
  // Олеся withdrew: her votes stay counted, but she is not a laureate.
  Call(*w.client, "PATCH", Path("/v1/nominees", olesya), {{"status", "withdrawn"}});
  const int64_t version_before = w.Version(award);

  ballot.set_answer([=](int64_t id) {
    return std::pair<int, json>{
        200,
        {{"award_id", id},
         {"final", true},
         {"nominations",
          {{{"id", leaders},
            {"total_votes", 5300},
            {"nominees",
             {{{"id", irina}, {"votes", 4100}, {"share", 0.7736}, {"rank", 1}},
              {{"id", pavel}, {"votes", 1200}, {"share", 0.2264}, {"rank", 2}}}}},
           {{"id", keepers},
            {"total_votes", 7000},
            {"nominees",
             {{{"id", olesya}, {"votes", 3000}, {"share", 0.4286}, {"rank", 1}},
              {{"id", timur}, {"votes", 2000}, {"share", 0.2857}, {"rank", 2}},
              {{"id", vera}, {"votes", 2000}, {"share", 0.2857}, {"rank", 2}}}}},
           {{"id", youth},
            {"total_votes", 0},
            {"nominees", {{{"id", quiet}, {"votes", 0}, {"share", 0.0}, {"rank", 1}}}}}}}}};
  });

  const std::string close = Path("/v1/awards", award, "/close");
  auto closed = Call(*w.client, "POST", close, nullptr, {{"Idempotency-Key", "close-ns-2026"}});
  REQUIRE(closed.status == 200);
  CHECK(closed.body["award"]["status"] == "closed");
  const auto& laureates = closed.body["laureates"];
  REQUIRE(laureates.size() == 3);
  CHECK(laureates[0]["nominee_id"] == irina);
  CHECK(laureates[0]["votes"] == 4100);
  CHECK(laureates[0]["rank"] == 1);
  CHECK(laureates[1]["nominee_id"] == timur);
  CHECK(laureates[2]["nominee_id"] == vera);
  CHECK(laureates[2]["nomination_id"] == keepers);
  CHECK(laureates[2]["rank"] == 2);

  // What the fake ballot received: the final results, with the admin key and protocol 1.
  auto seen = ballot.results();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].path == Path("/v1/awards", award, "/results"));
  CHECK(seen[0].final_param == "true");
  CHECK(seen[0].authorization == std::string("Bearer ") + kAdminKey);
  CHECK(seen[0].protocol == "1");

  // Stored: status, laureates (nested list), a new version for the ballot.
  CHECK(Call(*w.client, "GET", Path("/v1/awards", award)).body["status"] == "closed");
  auto stored = Call(*w.client, "GET", Path("/v1/awards", award, "/laureates"));
  CHECK(stored.status == 200);
  CHECK(stored.body["items"] == laureates);
  CHECK(Call(*w.client, "GET",
             Path("/v1/awards", award, "/laureates?nomination_id=") + std::to_string(leaders))
            .body["items"]
            .size() == 1);
  CHECK(w.Version(award) > version_before);

  // A retry with the key replays; without it the award is already closed. No new ballot call.
  auto replay = Call(*w.client, "POST", close, nullptr, {{"Idempotency-Key", "close-ns-2026"}});
  CHECK(replay.status == 200);
  CHECK(replay.Header("Idempotency-Replayed") == "true");
  CHECK(replay.body == closed.body);
  CHECK(Call(*w.client, "POST", close).status == 409);
  CHECK(ballot.results().size() == 1);

  // The results are final: the nominees and the rules no longer change; archiving is allowed.
  // Each refusal names the member the request changes.
  auto late = Call(*w.client, "PATCH", Path("/v1/nominees", timur), {{"status", "withdrawn"}});
  CHECK(late.status == 422);
  CHECK(ErrorFields(late) == std::vector<std::string>{"status"});
  CHECK(late.body["errors"][0]["reason"] ==
        "cannot change: award " + std::to_string(award) + " is closed; its nominees are final");
  auto renamed = Call(*w.client, "PATCH", Path("/v1/nominees", timur), {{"name", "Тимур К."}});
  CHECK(renamed.status == 422);
  CHECK(ErrorFields(renamed) == std::vector<std::string>{"name"});
  auto retitled =
      Call(*w.client, "PATCH", Path("/v1/nominations", leaders), {{"title", "Лидер перемен"}});
  CHECK(retitled.status == 422);
  CHECK(ErrorFields(retitled) == std::vector<std::string>{"title"});
  auto added = Call(*w.client, "POST", "/v1/nominees",
                    {{"nomination_id", leaders},
                     {"kind", "project"},
                     {"project_title", "Поздний проект"},
                     {"name", "Поздний проект"},
                     {"city_id", w.city["Саров"]}});
  CHECK(added.status == 422);
  CHECK(ErrorFields(added) == std::vector<std::string>{"nomination_id"});
  auto frozen = Call(*w.client, "PATCH", Path("/v1/awards", award),
                     {{"voting_closes_at", FromNow(hours(1))}});
  CHECK(frozen.status == 422);
  CHECK(Has(ErrorFields(frozen), "voting_closes_at"));
  CHECK(Call(*w.client, "PATCH", Path("/v1/awards", award), {{"status", "archived"}})
            .body["status"] == "archived");
  CHECK(Call(*w.client, "DELETE", Path("/v1/awards", award)).status == 409);
  auto kept = Call(*w.client, "DELETE", Path("/v1/nominees", quiet));
  CHECK(kept.status == 409);
  CHECK(kept.body["detail"] == "The nominee is kept: award " + std::to_string(award) +
                                   " is archived; its nominees are final.");

  // An award archived from draft never opened voting: its nominees are kept as final, and the
  // refusal says so (not that voting opened).
  const int64_t shelved = w.Award("draft", hours(24), hours(48));
  const int64_t shelved_nomination = w.Nomination(shelved, "Лидер изменений");
  const int64_t shelved_nominee = w.PersonNominee(shelved_nomination, "Ирина Лебедева", "Саров");
  REQUIRE(Call(*w.client, "PATCH", Path("/v1/awards", shelved), {{"status", "archived"}}).status ==
          200);
  auto shelved_delete = Call(*w.client, "DELETE", Path("/v1/nominees", shelved_nominee));
  CHECK(shelved_delete.status == 409);
  CHECK(shelved_delete.body["detail"] == "The nominee is kept: award " + std::to_string(shelved) +
                                             " is archived; its nominees are final.");
  auto shelved_nomination_delete =
      Call(*w.client, "DELETE", Path("/v1/nominations", shelved_nomination));
  CHECK(shelved_nomination_delete.status == 409);
  CHECK(shelved_nomination_delete.body["detail"] == "The nomination is kept: award " +
                                                        std::to_string(shelved) +
                                                        " is archived; its nominations are final.");
}

TEST_CASE("Close: what the ballot reports as removed counts for ranks, never wins",
          "[events][awards][close]") {
  // The ballot's copy lagged: before voting opened here, Павел moved to another nomination and
  // a nominee and a nomination were deleted, while the ballot took votes for them.
  FakeBallot ballot([](int64_t) { return std::pair<int, json>{500, json::object()}; });
  AtomCities w(WithBallot(ballot.url()));
  const int64_t award = w.Award("voting", -hours(2), -hours(1));
  const int64_t leaders = w.Nomination(award, "Лидер изменений");
  const int64_t keepers = w.Nomination(award, "Хранитель традиций");
  const int64_t irina = w.PersonNominee(leaders, "Ирина Лебедева", "Саров");
  const int64_t pavel = w.PersonNominee(keepers, "Павел Кречетов", "Снежинск");
  const int64_t deleted_nominee = pavel + 1000;
  const int64_t deleted_nomination = keepers + 1000;
  ballot.set_answer([=](int64_t id) {
    return std::pair<int, json>{
        200,
        {{"award_id", id},
         {"final", true},
         {"nominations",
          {{{"id", leaders},
            {"removed", false},
            {"total_votes", 1200},
            {"nominees",
             {{{"id", deleted_nominee}, {"votes", 500}, {"status", "removed"}},
              {{"id", pavel}, {"votes", 400}, {"status", "removed"}},
              {{"id", irina}, {"votes", 300}, {"status", "active"}}}}},
           {{"id", keepers},
            {"removed", false},
            {"total_votes", 100},
            {"nominees", {{{"id", pavel}, {"votes", 100}, {"status", "active"}}}}},
           {{"id", deleted_nomination},
            {"removed", true},
            {"total_votes", 50},
            {"nominees",
             {{{"id", deleted_nominee + 1}, {"votes", 50}, {"status", "removed"}}}}}}}}};
  });
  auto closed = Call(*w.client, "POST", Path("/v1/awards", award, "/close"));
  REQUIRE(closed.status == 200);
  const auto& laureates = closed.body["laureates"];
  REQUIRE(laureates.size() == 2);
  CHECK(laureates[0]["nomination_id"] == leaders);
  CHECK(laureates[0]["nominee_id"] == irina);
  CHECK(laureates[0]["votes"] == 300);
  CHECK(laureates[0]["rank"] == 3);  // two removed entries had more votes
  CHECK(laureates[1]["nomination_id"] == keepers);
  CHECK(laureates[1]["nominee_id"] == pavel);
  CHECK(laureates[1]["votes"] == 100);
}

TEST_CASE("Close: results naming a nominee the award does not have, not marked removed, are 502",
          "[events][awards][close]") {
  FakeBallot ballot([](int64_t) { return std::pair<int, json>{500, json::object()}; });
  AtomCities w(WithBallot(ballot.url()));
  const int64_t award = w.Award("voting", -hours(2), -hours(1));
  const int64_t leaders = w.Nomination(award, "Лидер изменений");
  const int64_t irina = w.PersonNominee(leaders, "Ирина Лебедева", "Саров");
  ballot.set_answer([=](int64_t id) {
    return std::pair<int, json>{200,
                                {{"award_id", id},
                                 {"final", true},
                                 {"nominations",
                                  {{{"id", leaders},
                                    {"total_votes", 2},
                                    {"nominees",
                                     {{{"id", irina + 1000}, {"votes", 1}, {"status", "active"}},
                                      {{"id", irina}, {"votes", 1}, {"status", "active"}}}}}}}}};
  });
  auto refused = Call(*w.client, "POST", Path("/v1/awards", award, "/close"));
  CHECK(refused.status == 502);
  CHECK(Call(*w.client, "GET", Path("/v1/awards", award)).body["status"] == "voting");
}

TEST_CASE("Close: a ballot that is down or failing changes nothing, a retry then succeeds",
          "[events][awards][close][failure]") {
  SECTION("down: 503") {
    AtomCities w(WithBallot(DeadUrl()));
    const int64_t award = w.Award("voting", -hours(2), -hours(1));
    const int64_t version = w.Version(award);
    auto down = Call(*w.client, "POST", Path("/v1/awards", award, "/close"), nullptr,
                     {{"Idempotency-Key", "close-1"}});
    CHECK(down.status == 503);
    CHECK(down.Header("Content-Type") == "application/problem+json");
    CHECK_FALSE(down.Header("Retry-After").empty());
    CHECK(Call(*w.client, "GET", Path("/v1/awards", award)).body["status"] == "voting");
    CHECK(w.Version(award) == version);
  }
  SECTION("500, unusable results and unknown nominees: 502; then it recovers") {
    FakeBallot ballot([](int64_t) { return std::pair<int, json>{500, {{"title", "boom"}}}; });
    AtomCities w(WithBallot(ballot.url()));
    const int64_t award = w.Award("published", -hours(2), -hours(1));
    const int64_t nomination = w.Nomination(award, "Лидер изменений");
    const int64_t nominee = w.PersonNominee(nomination, "Ирина Лебедева", "Саров");
    const std::string close = Path("/v1/awards", award, "/close");
    const httplib::Headers key = {{"Idempotency-Key", "close-2"}};
    CHECK(Call(*w.client, "POST", close, nullptr, key).status == 502);

    ballot.set_answer([](int64_t id) {
      return std::pair<int, json>{200, {{"award_id", id}, {"final", false}}};
    });
    CHECK(Call(*w.client, "POST", close, nullptr, key).status == 502);

    auto results = [=](int64_t nominee_id) {
      return [=](int64_t id) {
        return std::pair<int, json>{200,
                                    {{"award_id", id},
                                     {"final", true},
                                     {"nominations",
                                      {{{"id", nomination},
                                        {"total_votes", 10},
                                        {"nominees", {{{"id", nominee_id}, {"votes", 10}}}}}}}}};
      };
    };
    ballot.set_answer(results(nominee + 1000));
    CHECK(Call(*w.client, "POST", close, nullptr, key).status == 502);
    CHECK(Call(*w.client, "GET", Path("/v1/awards", award)).body["status"] == "published");
    CHECK(Call(*w.client, "GET", Path("/v1/awards", award, "/laureates")).body["items"].empty());

    ballot.set_answer([](int64_t) { return std::pair<int, json>{409, json::object()}; });
    CHECK(Call(*w.client, "POST", close, nullptr, key).status == 503);

    ballot.set_answer(results(nominee));
    auto closed = Call(*w.client, "POST", close, nullptr, key);
    CHECK(closed.status == 200);
    REQUIRE(closed.body["laureates"].size() == 1);
    CHECK(closed.body["laureates"][0]["nominee_id"] == nominee);
    CHECK(ballot.results().size() == 5);
  }
}

TEST_CASE("Close: without an admin key the close answers 503, the key never reaches the logs",
          "[events][awards][config]") {
  AtomCities w;  // no key configured
  const int64_t award = w.Award("voting", -hours(2), -hours(1));
  auto reply = Call(*w.client, "POST", Path("/v1/awards", award, "/close"));
  CHECK(reply.status == 503);
  CHECK(reply.body["detail"].get<std::string>().find("admin key") != std::string::npos);

  civic::test::TempDir dir;
  const std::string key_file = dir.path() + "/ballot-admin-key";
  {
    std::ofstream out(key_file);
    out << "from-file-key-9d2e\n";
  }
  FakeBallot ballot([](int64_t) { return std::pair<int, json>{503, json::object()}; });
  civic::test::ServiceOptions options;
  options.args = {"--ballot-url", ballot.url(),  "--ballot-admin-key-file",
                  key_file,       "--log-level", "trace"};
  AtomCities with_file(options);
  const int64_t other = with_file.Award("voting", -hours(2), -hours(1));
  CHECK(Call(*with_file.client, "POST", Path("/v1/awards", other, "/close")).status == 502);
  REQUIRE(ballot.results().size() == 1);
  CHECK(ballot.results()[0].authorization == "Bearer from-file-key-9d2e");
  CHECK(with_file.service.Stderr().find("from-file-key") == std::string::npos);

  civic::test::ServiceOptions missing;
  missing.args = {"--ballot-admin-key-file", dir.path() + "/absent"};
  missing.expect_listening = false;
  civic::test::Service refused(civic::test::EventsApiBinary(), missing);
  CHECK(refused.WaitExit() != 0);
  CHECK(refused.Stderr().find("--ballot-admin-key-file") != std::string::npos);

  civic::test::ServiceOptions bad_url;
  bad_url.args = {"--ballot-url", "ftp://ballot"};
  bad_url.expect_listening = false;
  civic::test::Service refused_url(civic::test::EventsApiBinary(), bad_url);
  CHECK(refused_url.WaitExit() != 0);
}

TEST_CASE("Nominees and nominations: ?q= finds them by name in any form, under their award too",
          "[events][awards][search]") {
  AtomCities w;
  const int64_t award = w.Award("draft", hours(24), hours(48));
  const int64_t leaders = w.Nomination(award, "Лидер изменений");
  const int64_t teams = w.Nomination(award, "Команда года");
  w.PersonNominee(leaders, "Ирина Созидаева", "Саров");
  w.PersonNominee(leaders, "Олег Городецкий", "Снежинск");
  Create(*w.client, "/v1/nominees",
         {{"nomination_id", teams},
          {"kind", "project"},
          {"project_title", "Зелёный двор"},
          {"name", "Команда Озёрска"},
          {"city_id", w.city.at("Озёрск")}});
  const auto names = [&](const std::string& path) {
    auto reply = Call(*w.client, "GET", path);
    REQUIRE(reply.status == 200);
    std::vector<std::string> out;
    for (const auto& item : reply.body["items"]) {
      out.push_back(item.contains("name") ? item["name"].get<std::string>()
                                          : item["title"].get<std::string>());
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  const std::string a = "/v1/awards/" + std::to_string(award);
  // «Созидаевой» finds «Созидаева»; a project nominee by its project's title.
  CHECK(names(a + "/nominees?q=%D0%A1%D0%BE%D0%B7%D0%B8%D0%B4%D0%B0%D0%B5%D0%B2%D0%BE%D0%B9") ==
        std::vector<std::string>{"Ирина Созидаева"});
  CHECK(names("/v1/nominees?q=%D0%B4%D0%B2%D0%BE%D1%80%D1%8B") ==  // дворы
        std::vector<std::string>{"Команда Озёрска"});
  CHECK(names("/v1/nominations/" + std::to_string(leaders) +
              "/nominees?q=%D0%B3%D0%BE%D1%80%D0%BE%D0%B4%D0%B5%D1%86%D0%BA%D0%BE%D0%B3%D0%BE") ==
        std::vector<std::string>{"Олег Городецкий"});  // городецкого
  CHECK(names(a + "/nominations?q=%D0%BB%D0%B8%D0%B4%D0%B5%D1%80%D1%8B") ==  // лидеры
        std::vector<std::string>{"Лидер изменений"});
}
