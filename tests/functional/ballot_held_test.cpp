// Held votes (README "Held votes"): a vote that trips a rule is stored and answered 202 with
// its receipt, is not in the results until an admin releases it (then it counts), and never
// counts once rejected; retries, receipts, the export and the recount say the same; admins see
// the rule and the evidence (counts, never ids); decisions and rule changes are audited.
#include <catch2/catch.hpp>

#include <map>
#include <ostream>
#include <sstream>
#include <string>

#include "ballot_fixture.hpp"

using civic::test::AdminAuth;
using civic::test::BallotOptions;
using civic::test::ClientAuth;
using civic::test::FakeEventsApi;
using civic::test::Results;
using civic::test::SampleAward;
using civic::test::Service;
using civic::test::Str;
using civic::test::VotesByNominee;
using civic::test::WaitForAward;
using nlohmann::json;

namespace {

struct Context {
  std::string device;
  std::string address;
};

httplib::Result VoteWith(httplib::Client& client, const std::string& voter, int64_t nomination,
                         int64_t nominee, const Context& context) {
  json body = civic::test::VoteBody(voter, nomination, nominee);
  if (!context.device.empty()) {
    body["device"] = context.device;
  }
  if (!context.address.empty()) {
    body["address"] = context.address;
  }
  return client.Post("/v1/awards/7/votes", ClientAuth(), body.dump(), "application/json");
}

json Held(httplib::Client& client, const std::string& query = "") {
  auto r = client.Get("/v1/awards/7/held-votes" + query, AdminAuth());
  REQUIRE(r);
  REQUIRE(r->status == 200);
  return json::parse(r->body);
}

httplib::Result Decide(httplib::Client& client, const json& body) {
  return client.Post("/v1/awards/7/held-votes/decisions", AdminAuth(), body.dump(),
                     "application/json");
}

// Each test's ballot: its rules set by flags, everything else as usual.
std::unique_ptr<Service> Ballot(FakeEventsApi& events, const std::string& rules,
                                const std::string& data_dir = "") {
  return std::make_unique<Service>(civic::test::BallotBinary(),
                                   BallotOptions(events.url(), data_dir, {"--hold-rules", rules}));
}

// Counted, held and rejected votes of nominee `nominee` in nomination 31 of an admin's results
// of award 7, and of the nomination and the award.
struct Standing3 {
  int64_t counted = -1;
  int64_t held = -1;
  int64_t rejected = -1;
  bool operator==(const Standing3& o) const {
    return counted == o.counted && held == o.held && rejected == o.rejected;
  }
};
std::ostream& operator<<(std::ostream& out, const Standing3& s) {
  return out << "{counted " << s.counted << ", held " << s.held << ", rejected " << s.rejected
             << "}";
}
struct AdminCounts {
  Standing3 nominee, nomination, award;
};
AdminCounts AdminResults(httplib::Client& client, int64_t nominee) {
  const json doc = Results(client, 7);
  REQUIRE(doc.is_object());
  AdminCounts out;
  out.award = {doc["total_votes"], doc.value("held_votes", -1), doc.value("rejected_votes", -1)};
  for (const auto& n : doc["nominations"]) {
    if (n["id"] != 31) {
      continue;
    }
    out.nomination = {n["total_votes"], n.value("held_votes", -1), n.value("rejected_votes", -1)};
    for (const auto& e : n["nominees"]) {
      if (e["id"] == nominee) {
        out.nominee = {e["votes"], e.value("held_votes", -1), e.value("rejected_votes", -1)};
      }
    }
  }
  return out;
}

}  // namespace

TEST_CASE("Held votes: more voters on one device than allowed are held, answered 202",
          "[ballot][held]") {
  FakeEventsApi events;
  events.Put(SampleAward());
  auto ballot = Ballot(events, "voters_per_device=2");
  auto client = ballot->Client();
  REQUIRE(WaitForAward(*client, 7));
  const Context phone{"phone-a1", ""};
  REQUIRE(VoteWith(*client, "v1", 31, 501, phone)->status == 201);
  REQUIRE(VoteWith(*client, "v2", 31, 501, phone)->status == 201);
  auto held = VoteWith(*client, "v3", 31, 501, phone);
  REQUIRE(held->status == 202);
  const json body = json::parse(held->body);
  CHECK(body["status"] == "held");
  const std::string receipt = body["receipt"];
  CHECK(held->get_header_value("Location") == "/v1/receipts/" + receipt);
  // Not counted; the receipt says held; the retry says held again with the same receipt.
  CHECK(VotesByNominee(Results(*client, 7)).at(501) == 2);
  auto shown = client->Get("/v1/receipts/" + receipt);
  REQUIRE(shown->status == 200);
  CHECK(json::parse(shown->body)["status"] == "held");
  CHECK(json::parse(shown->body)["counted"] == false);
  auto again = VoteWith(*client, "v3", 31, 501, phone);
  CHECK(again->status == 202);
  CHECK(json::parse(again->body)["receipt"] == receipt);
  // Another phone is another count.
  CHECK(VoteWith(*client, "v4", 31, 501, {"phone-b2", ""})->status == 201);
  // Admins see the rule and the evidence, never the device or the voter.
  const json list = Held(*client);
  REQUIRE(list["items"].size() == 1);
  const json& item = list["items"][0];
  CHECK(item["rule"] == "device");
  CHECK(item["evidence"]["count"] == 3);
  CHECK(item["evidence"]["limit"] == 2);
  CHECK(item["nominee_id"] == 501);
  CHECK(list.dump().find("phone-a1") == std::string::npos);
  CHECK(list.dump().find("v3") == std::string::npos);
  const std::string metrics = client->Get("/metrics")->body;
  CHECK(metrics.find("ballot_votes_held_total{rule=\"device\"} 1") != std::string::npos);
}

TEST_CASE("Held votes: addresses, address blocks and votes per voter", "[ballot][held]") {
  FakeEventsApi events;
  events.Put(SampleAward(7, 2));  // K = 2: a voter may back two nominees per nomination
  auto ballot = Ballot(
      events, "voters_per_address=1,voters_per_block=2,votes_per_voter=2,voters_per_device=0");
  auto client = ballot->Client();
  REQUIRE(WaitForAward(*client, 7));
  // One voter per address: a second voter from 203.0.113.7 is held.
  CHECK(VoteWith(*client, "a1", 31, 501, {"", "203.0.113.7"})->status == 201);
  CHECK(VoteWith(*client, "a2", 31, 501, {"", "203.0.113.7"})->status == 202);
  // Two voters per /24: a third address of 203.0.113.0/24 is held; another /24 is not.
  CHECK(VoteWith(*client, "a3", 31, 501, {"", "203.0.113.8"})->status == 202);
  CHECK(VoteWith(*client, "a4", 31, 501, {"", "198.51.100.1"})->status == 201);
  // IPv6 by /48.
  CHECK(VoteWith(*client, "a5", 31, 501, {"", "2001:db8:1:1::1"})->status == 201);
  CHECK(VoteWith(*client, "a6", 31, 501, {"", "2001:db8:1:2::1"})->status == 201);
  CHECK(VoteWith(*client, "a7", 31, 501, {"", "2001:db8:1:3::1"})->status == 202);
  // Two votes per voter across the award: the third is held.
  CHECK(VoteWith(*client, "m1", 31, 501, {})->status == 201);
  CHECK(VoteWith(*client, "m1", 31, 502, {})->status == 201);
  CHECK(VoteWith(*client, "m1", 32, 601, {})->status == 202);
  const json list = Held(*client);
  std::map<std::string, int> rules;
  for (const auto& item : list["items"]) {
    ++rules[item["rule"].get<std::string>()];
  }
  CHECK(rules["address"] == 1);
  CHECK(rules["address_block"] == 2);
  CHECK(rules["voter"] == 1);
  CHECK(Held(*client, "?rule=voter")["items"].size() == 1);
  CHECK(client->Get("/v1/awards/7/held-votes?rule=phone", AdminAuth())->status == 422);
  // A context that is empty or not a string is a 422 naming it.
  auto bad =
      client->Post("/v1/awards/7/votes", ClientAuth(),
                   R"({"voter":"x","nomination":31,"nominee":501,"device":7})", "application/json");
  CHECK(bad->status == 422);
  CHECK(bad->body.find("device") != std::string::npos);
}

TEST_CASE("Held votes: a burst for one nominee from one client is held", "[ballot][held]") {
  FakeEventsApi events;
  events.Put(SampleAward());
  auto ballot = Ballot(events, "voters_per_device=0,burst_min=5,burst_window_s=3600");
  auto client = ballot->Client();
  REQUIRE(WaitForAward(*client, 7));
  int held = 0;
  for (int i = 0; i < 8; ++i) {
    const int status = VoteWith(*client, Str("b", i), 31, 502, {"one-phone", ""})->status;
    CHECK((status == 201 || status == 202));
    held += status == 202 ? 1 : 0;
  }
  CHECK(held == 4);  // the 5th to the 8th
  CHECK(Held(*client)["items"][0]["rule"] == "burst");
  // Another nominee from the same phone is another count.
  CHECK(VoteWith(*client, "b100", 31, 501, {"one-phone", ""})->status == 201);
}

TEST_CASE("Held votes: release counts them, reject never does, and recount and export agree",
          "[ballot][held]") {
  civic::test::TempDir dir;
  FakeEventsApi events;
  events.Put(SampleAward());
  auto ballot = Ballot(events, "voters_per_device=1", dir.path());
  auto client = ballot->Client();
  REQUIRE(WaitForAward(*client, 7));
  REQUIRE(VoteWith(*client, "r0", 31, 501, {"farm", ""})->status == 201);
  std::vector<std::string> receipts;
  for (int i = 1; i <= 5; ++i) {
    auto r = VoteWith(*client, Str("r", i), 31, 502, {"farm", ""});
    REQUIRE(r->status == 202);
    receipts.push_back(json::parse(r->body)["receipt"]);
  }
  json list = Held(*client);
  REQUIRE(list["held"] == 5);
  const int64_t first = list["items"][0]["id"];
  const int64_t second = list["items"][1]["id"];
  // Admins' results show the held votes beside the counted ones; the public's never do.
  AdminCounts counts = AdminResults(*client, 502);
  CHECK(counts.nominee == Standing3{0, 5, 0});
  CHECK(counts.nomination == Standing3{1, 5, 0});
  CHECK(counts.award == Standing3{1, 5, 0});
  auto public_results = ballot->ClientWithKey("")->Get("/v1/awards/7/results");
  REQUIRE(public_results);
  REQUIRE(public_results->status == 200);
  CHECK(public_results->body.find("held_votes") == std::string::npos);
  CHECK(public_results->body.find("rejected_votes") == std::string::npos);
  CHECK(json::parse(public_results->body)["total_votes"] == 1);
  // Release one: it counts now, once, however many times its id is given.
  auto released = Decide(*client, {{"decision", "release"}, {"ids", {first, first, first}}});
  REQUIRE(released->status == 200);
  CHECK(json::parse(released->body)["changed"] == 1);
  CHECK(json::parse(released->body)["skipped"] == 0);
  CHECK(VotesByNominee(Results(*client, 7)).at(502) == 1);
  CHECK(AdminResults(*client, 502).nominee == Standing3{1, 4, 0});
  // Reject one; a second decision on a decided vote changes nothing.
  auto rejected = Decide(*client, {{"decision", "reject"}, {"ids", {second, first, second}}});
  REQUIRE(rejected->status == 200);
  CHECK(json::parse(rejected->body)["changed"] == 1);
  CHECK(json::parse(rejected->body)["skipped"] == 1);
  CHECK(AdminResults(*client, 502).nominee == Standing3{1, 3, 1});
  // The rest, as a group: every vote the device rule held.
  auto group = Decide(*client, {{"decision", "release"}, {"rule", "device"}});
  REQUIRE(group->status == 200);
  CHECK(json::parse(group->body)["changed"] == 3);
  CHECK(VotesByNominee(Results(*client, 7)).at(502) == 4);
  CHECK(Held(*client)["held"] == 0);
  counts = AdminResults(*client, 502);
  CHECK(counts.nominee == Standing3{4, 0, 1});
  CHECK(counts.award == Standing3{5, 0, 1});
  CHECK(Held(*client, "?state=rejected")["items"].size() == 1);
  // Bad decisions change nothing.
  CHECK(Decide(*client, {{"decision", "maybe"}, {"ids", {first}}})->status == 422);
  CHECK(Decide(*client, {{"decision", "release"}})->status == 422);
  CHECK(client
            ->Post("/v1/awards/7/held-votes/decisions", ClientAuth(),
                   json{{"decision", "release"}, {"rule", "device"}}.dump(), "application/json")
            ->status == 403);
  // Without a key, or with one the ballot does not know, the body is never read: a 401 even
  // for a malformed one (and nothing is decided or audited).
  const auto send = [&](bool put, const httplib::Headers& headers) {
    return put ? client->Put("/v1/awards/7/vote-rules", headers, "{bad", "application/json")
               : client->Post("/v1/awards/7/held-votes/decisions", headers, "{bad",
                              "application/json");
  };
  for (const bool put : {false, true}) {
    INFO((put ? "PUT vote-rules" : "POST decisions"));
    auto bare = send(put, {});
    REQUIRE(bare);
    CHECK(bare->status == 401);
    CHECK(bare->get_header_value("WWW-Authenticate").rfind("Bearer", 0) == 0);
    auto stranger = send(put, {{"Authorization", "Bearer not-a-key-of-ours"}});
    REQUIRE(stranger);
    CHECK(stranger->status == 401);
  }
  // Receipts say where each stands: the rejected one is "rejected", the others "counted".
  int counted = 0;
  int rejected_seen = 0;
  for (const auto& receipt : receipts) {
    const std::string status = json::parse(client->Get("/v1/receipts/" + receipt)->body)["status"];
    counted += status == "counted" ? 1 : 0;
    rejected_seen += status == "rejected" ? 1 : 0;
  }
  CHECK(counted == 4);
  CHECK(rejected_seen == 1);
  // The export says the same.
  auto exported = client->Get("/v1/awards/7/votes.ndjson", AdminAuth());
  std::istringstream lines(exported->body);
  std::string line;
  std::map<std::string, int> statuses;
  while (std::getline(lines, line)) {
    ++statuses[json::parse(line)["status"].get<std::string>()];
  }
  CHECK(statuses["counted"] == 5);
  CHECK(statuses["rejected"] == 1);
  // Every decision is in the audit trail.
  const json trail = json::parse(client->Get("/v1/ballot/audit-events", AdminAuth())->body);
  int decisions = 0;
  for (const auto& item : trail["items"]) {
    decisions += item["route"] == "/v1/awards/{award}/held-votes/decisions" ? 1 : 0;
  }
  // Three decided, two refused with 422, and the voting client's 403 (a known key trying an
  // admin's write); the 401s had no key of ours.
  CHECK(decisions == 6);
  bool client_refusal = false;
  for (const auto& item : trail["items"]) {
    client_refusal = client_refusal || (item["role"] == "voting_client" && item["status"] == 403);
  }
  CHECK(client_refusal);
  // The most ids a decision takes (10,000), each of ten digits, fit its body limit.
  json many = json::array();
  for (int64_t i = 0; i < 10'000; ++i) {
    many.push_back(int64_t{9'000'000'000} + i);
  }
  auto largest = Decide(*client, {{"decision", "reject"}, {"ids", many}});
  REQUIRE(largest);
  CHECK(largest->status == 200);
  CHECK(json::parse(largest->body)["skipped"] == 10'000);
  const std::string metrics = client->Get("/metrics")->body;
  CHECK(metrics.find("ballot_held_votes_released_total 4") != std::string::npos);
  CHECK(metrics.find("ballot_held_votes_rejected_total 1") != std::string::npos);

  // One more held, left undecided.
  REQUIRE(VoteWith(*client, "r6", 31, 502, {"farm", ""})->status == 202);
  CHECK(AdminResults(*client, 502).nominee == Standing3{4, 1, 1});

  // After a restart, the live results, the recount and the export still agree.
  REQUIRE(ballot->Signal(SIGTERM) == 0);
  ballot = Ballot(events, "voters_per_device=1", dir.path());
  client = ballot->Client();
  REQUIRE(WaitForAward(*client, 7));
  CHECK(VotesByNominee(Results(*client, 7)).at(502) == 4);
  counts = AdminResults(*client, 502);
  CHECK(counts.nominee == Standing3{4, 1, 1});
  CHECK(counts.award == Standing3{5, 1, 1});
  const auto recount =
      civic::test::RunToEnd(civic::test::BallotBinary() + " recount --data-dir " + dir.path());
  REQUIRE(recount.exit_code == 0);
  const json doc = json::parse(recount.output);
  CHECK(doc["total_votes"] == 5);
  CHECK(doc["awards"][0]["held_votes"] == 1);
  CHECK(doc["awards"][0]["rejected_votes"] == 1);
  CHECK(doc["awards"][0]["rejected_votes"] == counts.award.rejected);
  CHECK(doc["awards"][0]["held_votes"] == counts.award.held);
}

TEST_CASE("Held votes: an award's own rules, set by an admin, are kept and audited",
          "[ballot][held]") {
  civic::test::TempDir dir;
  FakeEventsApi events;
  events.Put(SampleAward());
  auto ballot = Ballot(events, "voters_per_device=5", dir.path());
  auto client = ballot->Client();
  REQUIRE(WaitForAward(*client, 7));
  json rules = json::parse(client->Get("/v1/awards/7/vote-rules", AdminAuth())->body);
  CHECK(rules["voters_per_device"] == 5);
  CHECK(rules["source"] == "defaults");
  auto put = client->Put("/v1/awards/7/vote-rules", AdminAuth(),
                         json{{"voters_per_device", 1}}.dump(), "application/json");
  REQUIRE(put->status == 200);
  CHECK(json::parse(put->body)["source"] == "award");
  CHECK(client
            ->Put("/v1/awards/7/vote-rules", AdminAuth(), json{{"voters_per_device", 99}}.dump(),
                  "application/json")
            ->status == 422);
  CHECK(client
            ->Put("/v1/awards/7/vote-rules", AdminAuth(), json{{"colour", 1}}.dump(),
                  "application/json")
            ->status == 422);
  // Every wrong setting is named with its range, not only the first.
  auto wrong = client->Put("/v1/awards/7/vote-rules", AdminAuth(),
                           R"({"voters_per_device":-1,"window_s":0,"votes_per_voter":2147483648})",
                           "application/json");
  REQUIRE(wrong->status == 422);
  const json problem = json::parse(wrong->body);
  std::map<std::string, std::string> reasons;
  for (const auto& error : problem["errors"]) {
    reasons[error["field"]] = error["reason"];
  }
  CHECK(reasons["voters_per_device"] == "must be an integer from 0 (off) to 15");
  CHECK(reasons["window_s"] == "must be an integer from 1 to 604800");
  CHECK(reasons["votes_per_voter"] == "must be an integer from 0 (off) to 1000000");
  // An empty PUT would freeze today's defaults as the award's own: refused.
  CHECK(client->Put("/v1/awards/7/vote-rules", AdminAuth(), "{}", "application/json")->status ==
        422);
  CHECK(json::parse(
            client->Get("/v1/awards/7/vote-rules", AdminAuth())->body)["voters_per_device"] == 1);
  CHECK(client->Get("/v1/awards/7/vote-rules", ClientAuth())->status == 403);
  CHECK(client
            ->Put("/v1/awards/7/vote-rules", ClientAuth(), json{{"voters_per_device", 15}}.dump(),
                  "application/json")
            ->status == 403);
  CHECK(client->Get("/v1/awards/99/vote-rules", AdminAuth())->status == 404);
  CHECK(VoteWith(*client, "s1", 31, 501, {"p", ""})->status == 201);
  CHECK(VoteWith(*client, "s2", 31, 501, {"p", ""})->status == 202);
  REQUIRE(ballot->Signal(SIGTERM) == 0);
  ballot = Ballot(events, "voters_per_device=5", dir.path());
  client = ballot->Client();
  REQUIRE(WaitForAward(*client, 7));
  CHECK(json::parse(
            client->Get("/v1/awards/7/vote-rules", AdminAuth())->body)["voters_per_device"] == 1);
  const json trail = json::parse(client->Get("/v1/ballot/audit-events", AdminAuth())->body);
  int changes = 0;
  for (const auto& item : trail["items"]) {
    changes += item["route"] == "/v1/awards/{award}/vote-rules" ? 1 : 0;
  }
  CHECK(changes == 6);  // one 200, four 422s and the voting client's 403
}

TEST_CASE("Held votes: with the rules off nothing is held", "[ballot][held]") {
  FakeEventsApi events;
  events.Put(SampleAward());
  auto ballot = Ballot(events, "off");
  auto client = ballot->Client();
  REQUIRE(WaitForAward(*client, 7));
  for (int i = 0; i < 5; ++i) {
    CHECK(VoteWith(*client, Str("o", i), 31, 501, {"same-phone", "203.0.113.1"})->status == 201);
  }
  CHECK(json::parse(client->Get("/v1/awards/7/vote-rules", AdminAuth())->body)["enabled"] == false);
}

TEST_CASE("Held votes: a wrong rule setting stops the ballot at start", "[ballot][held]") {
  FakeEventsApi events;
  // Out of range; given twice; turned off and set at once.
  for (const auto& [rules, named] : std::vector<std::pair<std::string, std::string>>{
           {"voters_per_device=99", "voters_per_device"},
           {"voters_per_device=3,voters_per_device=4", "more than once"},
           {"off,voters_per_device=3", "'off' and settings"}}) {
    INFO(rules);
    auto options = BallotOptions(events.url(), "", {"--hold-rules", rules});
    options.expect_listening = false;
    Service ballot(civic::test::BallotBinary(), options);
    CHECK(ballot.WaitExit() != 0);
    CHECK(ballot.Stderr().find("--hold-rules") != std::string::npos);
    CHECK(ballot.Stderr().find(named) != std::string::npos);
  }
}
