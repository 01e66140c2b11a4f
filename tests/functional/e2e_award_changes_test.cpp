// Changes made while voting is open reach the ballot before the events API answers them
// (proto-docs/awards-sync.md, message 3 with the snapshot): a withdrawal, a visibility change, a
// moved window and the close. Each answer is followed at once by a read of the public results and
// a vote.
#include <catch2/catch.hpp>
#include <chrono>
#include <sstream>
#include <string>

#include "both_services.hpp"

using civic::test::BothServices;
using civic::test::Call;
using civic::test::Create;
using civic::test::FromNow;
using civic::test::JsonReply;
using civic::test::Path;
using civic::test::Str;
using civic::test::Vote;
using nlohmann::json;

namespace {

// An award open for votes with one nomination and two nominees, at the events API.
struct OpenAward {
  int64_t award = 0;
  int64_t nomination = 0;
  int64_t first = 0;
  int64_t second = 0;
};

OpenAward MakeOpenAward(httplib::Client& api) {
  OpenAward made;
  const int64_t city = Create(api, "/v1/cities",
                              {{"name", "Саров"},
                               {"region", "Нижегородская область"},
                               {"time_zone", "Europe/Moscow"}})["id"];
  made.award = Create(api, "/v1/awards",
                      {{"title", "Новые Созидатели"},
                       {"edition_year", 2026},
                       {"voting_opens_at", FromNow(-std::chrono::hours(1))},
                       {"voting_closes_at", FromNow(std::chrono::hours(1))},
                       {"results_visibility", "live"},
                       {"status", "published"}})["id"];
  made.nomination = Create(api, "/v1/nominations",
                           {{"award_id", made.award}, {"title", "Лидер изменений"}})["id"];
  const auto nominee = [&](const std::string& name) {
    return Create(api, "/v1/nominees",
                  {{"nomination_id", made.nomination},
                   {"kind", "project"},
                   {"project_title", name},
                   {"name", name},
                   {"city_id", city}})["id"]
        .get<int64_t>();
  };
  made.first = nominee("Парк у реки");
  made.second = nominee("Двор без заборов");
  return made;
}

// The public results at the ballot: the status and the parsed body (null unless 200).
std::pair<int, json> PublicResults(httplib::Client& ballot, int64_t award) {
  auto r = ballot.Get(Str("/v1/awards/", award, "/results"));
  if (!r) {
    return {0, nullptr};
  }
  return {r->status, r->status == 200 ? json::parse(r->body) : json(nullptr)};
}

constexpr const char* kTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
constexpr const char* kTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";

// The ballot's text access log line whose request id is `id`, or "".
std::string BallotLineOf(const BothServices& both, const std::string& id) {
  std::istringstream out(both.ballot.Stdout());
  std::string line;
  while (std::getline(out, line)) {
    if (line.find(" access ") != std::string::npos &&
        (line + " ").find(" request_id=" + id + " ") != std::string::npos) {
      return line;
    }
  }
  return "";
}

}  // namespace

TEST_CASE("End to end: changes made while voting is open are at the ballot when answered",
          "[e2e][awards][ballot][sync]") {
  BothServices both;
  auto api = both.events.Client();
  auto ballot = both.ballot.Client();
  const OpenAward a = MakeOpenAward(*api);
  // Written while voting is open: the nominees' creation was already pushed and answered so.
  REQUIRE(PublicResults(*ballot, a.award).first == 200);
  REQUIRE(PublicResults(*ballot, a.award).second["nominations"][0]["nominees"].size() == 2);
  REQUIRE(Vote(*ballot, a.award, "resident-1", a.nomination, a.first)->status == 201);

  // A withdrawal: the next vote for the nominee is refused.
  JsonReply answer = Call(*api, "PATCH", Path("/v1/nominees", a.first), {{"status", "withdrawn"}});
  REQUIRE(answer.status == 200);
  CHECK(answer.Header("X-Civic-Ballot-Sync") == "applied");
  CHECK(Vote(*ballot, a.award, "resident-2", a.nomination, a.first)->status == 403);
  bool shown_withdrawn = false;
  const json after_withdrawal = PublicResults(*ballot, a.award).second;
  INFO(after_withdrawal.dump());
  for (const json& who : after_withdrawal["nominations"][0]["nominees"]) {
    if (who["id"] == a.first) {
      shown_withdrawn = who["status"] == "withdrawn";
    }
  }
  CHECK(shown_withdrawn);

  // The push is made for the write: it carries the write's X-Request-Id and traceparent, so the
  // ballot's access log names them.
  answer = Call(*api, "PATCH", Path("/v1/nominees", a.second), {{"summary", "Двор для всех"}},
                {{"X-Request-Id", "push-req-29"}, {"traceparent", kTraceparent}});
  REQUIRE(answer.status == 200);
  CHECK(answer.Header("X-Civic-Ballot-Sync") == "applied");
  CHECK(answer.Header("X-Request-Id") == "push-req-29");
  REQUIRE(civic::test::Eventually([&] { return !BallotLineOf(both, "push-req-29").empty(); }));
  const std::string pushed = BallotLineOf(both, "push-req-29");
  INFO(pushed);
  CHECK(pushed.find("method=POST route=/v1/awards/{award}/sync status=200") != std::string::npos);
  CHECK(pushed.find(Str("trace_id=", kTraceId)) != std::string::npos);

  // Visibility: hidden results are refused to the public at once, and shown again at once.
  answer = Call(*api, "PATCH", Path("/v1/awards", a.award),
                {{"results_visibility", "hidden_until_close"}});
  REQUIRE(answer.status == 200);
  CHECK(answer.Header("X-Civic-Ballot-Sync") == "applied");
  CHECK(PublicResults(*ballot, a.award).first == 403);
  CHECK(Vote(*ballot, a.award, "resident-3", a.nomination, a.second)->status == 201);
  answer = Call(*api, "PATCH", Path("/v1/awards", a.award), {{"results_visibility", "live"}});
  REQUIRE(answer.status == 200);
  CHECK(answer.Header("X-Civic-Ballot-Sync") == "applied");
  CHECK(PublicResults(*ballot, a.award).first == 200);

  // A moved window: the results name the new end at once; votes are taken until it.
  const auto ends_steady = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  const std::string ends = FromNow(std::chrono::seconds(2));
  answer = Call(*api, "PATCH", Path("/v1/awards", a.award), {{"voting_closes_at", ends}});
  REQUIRE(answer.status == 200);
  CHECK(answer.Header("X-Civic-Ballot-Sync") == "applied");
  const auto [status, moved] = PublicResults(*ballot, a.award);
  REQUIRE(status == 200);
  CHECK(moved["voting_closes_at"] == answer.body["voting_closes_at"]);
  CHECK(moved["final"] == false);
  CHECK(Vote(*ballot, a.award, "resident-4", a.nomination, a.second)->status == 201);

  // The close: the public results are closed and final, and no vote is taken, at once.
  std::this_thread::sleep_until(ends_steady + std::chrono::milliseconds(100));
  answer = Call(*api, "POST", Path("/v1/awards", a.award, "/close"));
  REQUIRE(answer.status == 200);
  CHECK(answer.Header("X-Civic-Ballot-Sync") == "applied");
  const auto [closed_status, closed] = PublicResults(*ballot, a.award);
  REQUIRE(closed_status == 200);
  CHECK(closed["status"] == "closed");
  CHECK(closed["final"] == true);
  CHECK(closed["total_votes"] == 3);
  CHECK(Vote(*ballot, a.award, "resident-5", a.nomination, a.second)->status == 403);
}

TEST_CASE(
    "End to end: a change during voting that the ballot cannot take in time is answered as "
    "pending, and the periodic sync catches up",
    "[e2e][awards][ballot][sync]") {
  // A "ballot" that accepts connections and never answers: the push waits its bounded timeout.
  httplib::Server silent;
  const int silent_port = silent.bind_to_any_port("127.0.0.1");
  civic::test::Relay relay;
  civic::test::Service ballot{civic::test::BallotBinary(), civic::test::BallotOptions(relay.url())};
  civic::test::Service events{civic::test::EventsApiBinary(),
                              civic::test::EventsOptions(Str("http://127.0.0.1:", silent_port))};
  relay.SetTarget(events.base_url());
  auto api = events.Client();
  auto votes = ballot.Client();
  const OpenAward a = MakeOpenAward(*api);
  REQUIRE(civic::test::Eventually([&] {
    const auto [status, results] = PublicResults(*votes, a.award);
    return status == 200 && results["nominations"][0]["nominees"].size() == 2;
  }));

  const auto started = std::chrono::steady_clock::now();
  const JsonReply answer =
      Call(*api, "PATCH", Path("/v1/nominees", a.first), {{"status", "withdrawn"}});
  const auto took = std::chrono::steady_clock::now() - started;
  REQUIRE(answer.status == 200);
  CHECK(answer.body["status"] == "withdrawn");  // the change itself is made
  CHECK(answer.Header("X-Civic-Ballot-Sync") == "pending");
  CHECK(took < std::chrono::seconds(8));  // the push's bound (about 2 s), with room for load
  // The ballot's own sync (every 200 ms here) takes it.
  CHECK(civic::test::Eventually(
      [&] { return Vote(*votes, a.award, "resident-1", a.nomination, a.first)->status == 403; },
      std::chrono::seconds(10)));
  CHECK(Vote(*votes, a.award, "resident-2", a.nomination, a.second)->status == 201);
}

TEST_CASE(
    "Ballot: a snapshot pushed with a sync request is taken from the events API's key only, "
    "never older than the copy",
    "[ballot][sync]") {
  civic::test::FakeEventsApi fake;
  const std::string other_admin = "civ_other-admin-key-0123456789abcdefgh";
  fake.SetKeys(json::array({{{"id", 1},
                             {"prefix", other_admin.substr(0, 12)},
                             {"token_sha256", civic::test::Sha256Hex(other_admin)},
                             {"role", "admin"},
                             {"award_ids", json::array()},
                             {"expires_at", nullptr},
                             {"revoked_at", nullptr}}}));
  civic::test::Service ballot{civic::test::BallotBinary(), civic::test::BallotOptions(fake.url())};
  auto client = ballot.Client();
  fake.Put(civic::test::SampleAward());
  REQUIRE(civic::test::WaitForAward(*client, 7));
  json newer = civic::test::SampleAward();
  newer["protocol"] = 1;
  newer["version"] = 10;
  newer["title"] = "Новые Созидатели 2026";
  const std::string path = "/v1/awards/7/sync";
  httplib::Headers headers = civic::test::AdminAuth();
  headers.emplace("X-Civic-Protocol", "1");
  // Another admin key may ask for a sync, not hand the ballot a copy.
  const httplib::Headers other = {{"Authorization", "Bearer " + other_admin},
                                  {"X-Civic-Protocol", "1"}};
  REQUIRE(civic::test::Eventually([&] {
    auto asked = client->Post(path, other, "", "");
    return asked && asked->status == 200;
  }));
  auto forbidden = client->Post(path, other, newer.dump(), "application/json");
  REQUIRE(forbidden);
  CHECK(forbidden->status == 403);
  // Taken as it is, without a fetch (the fake still serves version 1).
  auto taken = client->Post(path, headers, newer.dump(), "application/json");
  REQUIRE(taken);
  CHECK(taken->status == 200);
  CHECK(json::parse(taken->body)["version"] == 10);
  CHECK(civic::test::Results(*client, 7)["title"] == "Новые Созидатели 2026");
  // An older copy pushed late changes nothing.
  json older = civic::test::SampleAward();
  older["protocol"] = 1;
  older["version"] = 9;
  auto late = client->Post(path, headers, older.dump(), "application/json");
  REQUIRE(late);
  CHECK(late->status == 200);
  CHECK(json::parse(late->body)["version"] == 10);
  // Not a snapshot of this award: 422 naming the body; not JSON: 400; the copy stays.
  json broken = newer;
  broken["version"] = 11;
  broken["id"] = 8;
  auto refused = client->Post(path, headers, broken.dump(), "application/json");
  REQUIRE(refused);
  CHECK(refused->status == 422);
  auto garbage = client->Post(path, headers, "{not json", "application/json");
  REQUIRE(garbage);
  CHECK(garbage->status == 400);
  CHECK(civic::test::Results(*client, 7)["award_version"] == 10);
  CHECK(civic::test::Results(*client, 7)["title"] == "Новые Созидатели 2026");
}

TEST_CASE(
    "End to end: residents apply, the organiser approves, voters vote, the close makes a "
    "laureate of an applicant's candidate",
    "[e2e][awards][applications][ballot][close]") {
  BothServices both;
  auto admin = both.events.Client();
  auto ballot = both.ballot.Client();
  const int64_t program =
      Create(*admin, "/v1/programs",
             {{"title", "Новые Созидатели"}, {"kind", "award"}, {"starts_on", "2026-09-01"}})["id"];
  const int64_t zarechny = Create(*admin, "/v1/cities",
                                  {{"name", "Заречный"},
                                   {"region", "Пензенская область"},
                                   {"time_zone", "Europe/Moscow"}})["id"];
  const auto opens = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  const int64_t award = Create(*admin, "/v1/awards",
                               {{"title", "Новые Созидатели"},
                                {"edition_year", 2026},
                                {"program_id", program},
                                {"applications_open_at", FromNow(-std::chrono::hours(1))},
                                {"applications_close_at", FromNow(std::chrono::seconds(3))},
                                {"voting_opens_at", FromNow(std::chrono::seconds(3))},
                                {"voting_closes_at", FromNow(std::chrono::hours(1))},
                                {"results_visibility", "live"},
                                {"status", "published"}})["id"];
  const int64_t leaders =
      Create(*admin, "/v1/nominations", {{"award_id", award}, {"title", "Лидер изменений"}})["id"];
  auto frontend = both.events.ClientWithKey(
      Create(*admin, "/v1/api-keys",
             {{"name", "портал"}, {"role", "frontend"}, {"program_ids", {program}}})["token"]);
  auto organizer = both.events.ClientWithKey(
      Create(*admin, "/v1/api-keys",
             {{"name", "оргкомитет"}, {"role", "organizer"}, {"program_ids", {program}}})["token"]);
  const auto apply = [&](const std::string& name) {
    const JsonReply r = Call(*frontend, "POST", Path("/v1/awards", award, "/applications"),
                             {{"nomination_id", leaders},
                              {"kind", "person"},
                              {"name", name},
                              {"city_id", zarechny},
                              {"summary", "Собрала соседей в совет дома"},
                              {"applicant", {{"name", "Сосед"}, {"phone", "+79001234567"}}},
                              {"consent", {{"publication", true}, {"text", "Согласен"}}}});
    REQUIRE(r.status == 201);
    return std::make_pair(r.body["application"]["id"].get<int64_t>(),
                          r.body["status_token"].get<std::string>());
  };
  const auto [vera, vera_token] = apply("Вера Соседова");
  const auto [oleg, oleg_token] = apply("Олег Дворов");
  const auto approve = [&](int64_t id) {
    const JsonReply r = Call(*organizer, "POST", Path("/v1/applications", id, "/approve"));
    REQUIRE(r.status == 200);
    return r.body["nominee_id"].get<int64_t>();
  };
  const int64_t vera_nominee = approve(vera);
  const int64_t oleg_nominee = approve(oleg);

  std::this_thread::sleep_until(opens + std::chrono::milliseconds(200));
  REQUIRE(civic::test::Eventually([&] {
    auto r = Vote(*ballot, award, "voter-1", leaders, vera_nominee);
    return r && r->status == 201;
  }));
  REQUIRE(Vote(*ballot, award, "voter-2", leaders, vera_nominee)->status == 201);
  REQUIRE(Vote(*ballot, award, "voter-3", leaders, oleg_nominee)->status == 201);
  // The public results show the approved card.
  const json results = json::parse(ballot->Get(Str("/v1/awards/", award, "/results"))->body);
  CHECK(results["nominations"][0]["nominees"][0]["summary"] == "Собрала соседей в совет дома");

  const auto ends = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  REQUIRE(Call(*admin, "PATCH", Path("/v1/awards", award),
               {{"voting_closes_at", FromNow(std::chrono::seconds(2))}})
              .Header("X-Civic-Ballot-Sync") == "applied");
  std::this_thread::sleep_until(ends + std::chrono::milliseconds(100));
  const JsonReply closed = Call(*admin, "POST", Path("/v1/awards", award, "/close"));
  REQUIRE(closed.status == 200);
  REQUIRE(closed.body["laureates"].size() == 1);
  CHECK(closed.body["laureates"][0]["nominee_id"] == vera_nominee);
  CHECK(closed.body["laureates"][0]["votes"] == 2);
  // The applicant follows it all with the token alone.
  auto anyone = both.events.ClientWithKey("");
  const JsonReply status =
      Call(*anyone, "GET", "/v1/application-status", nullptr, {{"Application-Token", vera_token}});
  CHECK(status.body["status"] == "approved");
  CHECK(status.body["nominee_id"] == vera_nominee);
  (void)oleg_token;
}
