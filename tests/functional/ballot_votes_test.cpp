// The ballot's vote routes against the real binary: every answer, receipts, results, restart.
#include <liburing.h>

#include <catch2/catch.hpp>
#include <cctype>
#include <future>
#include <set>

#include "ballot_fixture.hpp"
#include "raw_connection.hpp"

using civic::test::AdminAuth;
using civic::test::BallotOptions;
using civic::test::ClientAuth;
using civic::test::FakeEventsApi;
using civic::test::Results;
using civic::test::SampleAward;
using civic::test::Service;
using civic::test::Str;
using civic::test::Vote;
using civic::test::VoteBody;
using nlohmann::json;

namespace {

struct Ballot {
  FakeEventsApi events;
  std::unique_ptr<Service> service;
  std::unique_ptr<httplib::Client> client;

  std::map<std::string, std::string> env;  // extra environment of the ballot

  explicit Ballot(json award = SampleAward(), std::map<std::string, std::string> extra_env = {})
      : env(std::move(extra_env)) {
    events.Put(std::move(award));
    Start();
  }
  void Start(const std::string& data_dir = "") {
    client.reset();
    auto options = BallotOptions(events.url(), data_dir);
    options.env.insert(env.begin(), env.end());
    service = std::make_unique<Service>(civic::test::BallotBinary(), std::move(options));
    client = service->Client();
    REQUIRE(civic::test::WaitForAward(*client, 7));
  }
};

void RequireProblem(const httplib::Result& r, int status) {
  REQUIRE(r);
  INFO(r->body);
  CHECK(r->status == status);
  CHECK(r->get_header_value("Content-Type") == "application/problem+json");
  CHECK(json::parse(r->body)["status"] == status);
}

}  // namespace

TEST_CASE("Ballot: a new vote is 201 with a receipt and the same vote again is 200 with it",
          "[ballot][votes]") {
  Ballot b;
  auto r = Vote(*b.client, 7, "voter-1", 31, 501);
  REQUIRE(r);
  REQUIRE(r->status == 201);
  const json first = json::parse(r->body);
  CHECK(first["status"] == "counted");
  CHECK(first["nominee_id"] == 501);
  const std::string receipt = first["receipt"];
  CHECK(receipt.size() == 24);
  CHECK(r->get_header_value("Location") == "/v1/receipts/" + receipt);

  r = Vote(*b.client, 7, "voter-1", 31, 501);
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(json::parse(r->body)["status"] == "already_counted");
  CHECK(json::parse(r->body)["receipt"] == receipt);

  // The receipt lets the voter check what was counted, without naming them.
  r = b.client->Get("/v1/receipts/" + receipt);
  REQUIRE(r);
  REQUIRE(r->status == 200);
  const json check = json::parse(r->body);
  CHECK(check["counted"] == true);
  CHECK(check["award_id"] == 7);
  CHECK(check["nomination_id"] == 31);
  CHECK(check["nominee_id"] == 501);
  CHECK(r->body.find("voter-1") == std::string::npos);
  // Base32 is case-insensitive: the receipt typed in capitals is found, named in lower case.
  std::string shouted = receipt;
  for (char& c : shouted) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  r = b.client->Get("/v1/receipts/" + shouted);
  REQUIRE(r);
  REQUIRE(r->status == 200);
  CHECK(json::parse(r->body)["receipt"] == receipt);
  std::string forged = receipt;
  forged[23] = forged[23] == 'a' ? 'b' : 'a';
  RequireProblem(b.client->Get("/v1/receipts/" + forged), 404);
  RequireProblem(b.client->Get("/v1/receipts/not-a-receipt"), 404);
}

TEST_CASE("Ballot: a voter who supports K nominees gets 409 for another, and K = 2 allows two",
          "[ballot][votes]") {
  SECTION("K = 1") {
    Ballot b;
    REQUIRE(Vote(*b.client, 7, "v", 31, 501)->status == 201);
    RequireProblem(Vote(*b.client, 7, "v", 31, 502), 409);
    // Another nomination is independent.
    CHECK(Vote(*b.client, 7, "v", 32, 601)->status == 201);
  }
  SECTION("K = 2") {
    Ballot b(SampleAward(7, 2));
    REQUIRE(Vote(*b.client, 7, "v", 31, 501)->status == 201);
    REQUIRE(Vote(*b.client, 7, "v", 31, 502)->status == 201);
    CHECK(Vote(*b.client, 7, "v", 31, 502)->status == 200);
    b.events.Edit(7, [](json& award) {
      award["nominees"].push_back({{"id", 504},
                                   {"nomination_id", 31},
                                   {"name", "Четвёртый"},
                                   {"city", nullptr},
                                   {"status", "active"}});
    });
    REQUIRE(civic::test::WaitForAward(*b.client, 7, 2));
    RequireProblem(Vote(*b.client, 7, "v", 31, 504), 409);
  }
}

TEST_CASE(
    "Ballot: unknown award, nomination or nominee, or a nominee of another nomination, is 404",
    "[ballot][votes]") {
  Ballot b;
  RequireProblem(Vote(*b.client, 8, "v", 31, 501), 404);
  RequireProblem(Vote(*b.client, 7, "v", 33, 501), 404);
  RequireProblem(Vote(*b.client, 7, "v", 31, 599), 404);
  RequireProblem(Vote(*b.client, 7, "v", 32, 501), 404);
  RequireProblem(b.client->Post("/v1/awards/seven/votes", ClientAuth(),
                                VoteBody("v", 31, 501).dump(), "application/json"),
                 404);
}

TEST_CASE("Ballot: outside the voting window or for a withdrawn nominee is 403",
          "[ballot][votes]") {
  json award = SampleAward();
  award["voting_opens_at"] = civic::test::UtcIn(std::chrono::hours(1));
  award["voting_closes_at"] = civic::test::UtcIn(std::chrono::hours(2));
  Ballot b(award);
  RequireProblem(Vote(*b.client, 7, "v", 31, 501), 403);
  b.events.Edit(7, [](json& a) {
    a["voting_opens_at"] = civic::test::UtcIn(std::chrono::hours(-2));
    a["voting_closes_at"] = civic::test::UtcIn(std::chrono::hours(-1));
  });
  REQUIRE(civic::test::WaitForAward(*b.client, 7, 2));
  RequireProblem(Vote(*b.client, 7, "v", 31, 501), 403);
  b.events.Edit(7,
                [](json& a) { a["voting_closes_at"] = civic::test::UtcIn(std::chrono::hours(1)); });
  REQUIRE(civic::test::WaitForAward(*b.client, 7, 3));
  RequireProblem(Vote(*b.client, 7, "v", 31, 503), 403);  // withdrawn
  CHECK(Vote(*b.client, 7, "v", 31, 501)->status == 201);
}

TEST_CASE("Ballot: an invalid vote body is 422 naming each bad field", "[ballot][votes]") {
  Ballot b;
  auto r = b.client->Post("/v1/awards/7/votes", ClientAuth(),
                          json({{"voter", 5}, {"nominee", "501"}}).dump(), "application/json");
  RequireProblem(r, 422);
  std::set<std::string> fields;
  const json problem = json::parse(r->body);
  for (const auto& e : problem["errors"]) {
    fields.insert(e["field"].get<std::string>());
  }
  CHECK(fields == std::set<std::string>{"voter", "nomination", "nominee"});
  json long_ref = VoteBody(std::string(300, 'x'), 31, 501);
  long_ref["client_ref"] = std::string(200, 'r');
  r = b.client->Post("/v1/awards/7/votes", ClientAuth(), long_ref.dump(), "application/json");
  RequireProblem(r, 422);
  CHECK(json::parse(r->body)["errors"].size() == 2);
  RequireProblem(b.client->Post("/v1/awards/7/votes", ClientAuth(), "[1]", "application/json"),
                 422);
  RequireProblem(b.client->Post("/v1/awards/7/votes", ClientAuth(), "{", "application/json"), 400);
}

TEST_CASE("Ballot: a vote without a key or with an unknown one is 401, with the admin key 403",
          "[ballot][votes]") {
  Ballot b;
  auto r = b.client->Post("/v1/awards/7/votes", VoteBody("v", 31, 501).dump(), "application/json");
  RequireProblem(r, 401);
  CHECK(r->get_header_value("WWW-Authenticate").rfind("Bearer realm=", 0) == 0);
  RequireProblem(b.client->Post("/v1/awards/7/votes",
                                {{"Authorization", "Bearer functional-test-wrong-key-0123"}},
                                VoteBody("v", 31, 501).dump(), "application/json"),
                 401);
  // A known key without the right: admins do not vote (docs/security.md).
  RequireProblem(b.client->Post("/v1/awards/7/votes", AdminAuth(), VoteBody("v", 31, 501).dump(),
                                "application/json"),
                 403);
  RequireProblem(b.client->Post("/v1/votes/batch", json({{"votes", json::array()}}).dump(),
                                "application/json"),
                 401);
}

TEST_CASE("Ballot: a batch answers every vote in order and one bad vote does not sink the others",
          "[ballot][votes][batch]") {
  Ballot b;
  REQUIRE(Vote(*b.client, 7, "already", 31, 501)->status == 201);
  json votes = json::array();
  const auto add = [&](json v, int64_t award) {
    v["award"] = award;
    votes.push_back(std::move(v));
  };
  add(VoteBody("b1", 31, 501), 7);                                       // 201
  add(VoteBody("already", 31, 501), 7);                                  // 200
  add(VoteBody("already", 31, 502), 7);                                  // 409
  add(VoteBody("b2", 31, 599), 7);                                       // 404
  add(VoteBody("b3", 31, 503), 7);                                       // 403 withdrawn
  votes.push_back({{"award", 7}, {"voter", "b4"}, {"nomination", 31}});  // 422
  add(VoteBody("b1", 31, 501), 7);                 // 200: the same as the first, in the same batch
  add(VoteBody("b5", 32, 601), 9);                 // 404: unknown award
  add(VoteBody("b6", 31, 502), 0);                 // 422: no award id can be 0
  add(VoteBody("b7", 31, 502), int64_t{1} << 31);  // 422: past the largest id
  // The client's references come back on counted and rejected votes alike; a reference counts
  // characters: 100 Cyrillic letters are 200 bytes and within the 128 allowed.
  std::string cyrillic;
  for (int i = 0; i < 100; ++i) {
    cyrillic += "я";
  }
  votes[0]["client_ref"] = cyrillic;
  votes[2]["client_ref"] = "ref-409";
  votes[7]["client_ref"] = "ref-unknown-award";
  auto r = b.client->Post("/v1/votes/batch", ClientAuth(), json({{"votes", votes}}).dump(),
                          "application/json");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  const json body = json::parse(r->body);
  const std::vector<int> expected = {201, 200, 409, 404, 403, 422, 200, 404, 422, 422};
  REQUIRE(body["results"].size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO(i << ": " << body["results"][i].dump());
    CHECK(body["results"][i]["status"] == expected[i]);
  }
  CHECK(body["results"][0]["receipt"] == body["results"][6]["receipt"]);
  CHECK(body["results"][0]["client_ref"] == cyrillic);
  CHECK(body["results"][2]["client_ref"] == "ref-409");
  CHECK(body["results"][7]["client_ref"] == "ref-unknown-award");
  CHECK_FALSE(body["results"][1].contains("client_ref"));
  CHECK(body["results"][5]["error"]["errors"][0]["field"] == "votes[5].nominee");
  CHECK(body["results"][8]["error"]["errors"][0]["field"] == "votes[8].award");
  CHECK(body["results"][9]["error"]["errors"][0]["field"] == "votes[9].award");
  CHECK(body["counted"] == 1);
  CHECK(body["already_counted"] == 2);
  CHECK(body["rejected"] == 7);
}

TEST_CASE("Ballot: a batch of more than 1,000 votes or none is 422", "[ballot][votes][batch]") {
  Ballot b;
  json votes = json::array();
  for (int i = 0; i < 1001; ++i) {
    json v = VoteBody(Str("v", i), 31, 501);
    v["award"] = 7;
    votes.push_back(v);
  }
  auto r = b.client->Post("/v1/votes/batch", ClientAuth(), json({{"votes", votes}}).dump(),
                          "application/json");
  RequireProblem(r, 422);
  CHECK(json::parse(r->body)["errors"][0]["field"] == "votes");
  RequireProblem(b.client->Post("/v1/votes/batch", ClientAuth(),
                                json({{"votes", json::array()}}).dump(), "application/json"),
                 422);
  votes.erase(votes.begin());
  r = b.client->Post("/v1/votes/batch", ClientAuth(), json({{"votes", votes}}).dump(),
                     "application/json");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(json::parse(r->body)["counted"] == 1000);
}

TEST_CASE("Ballot: 1,000 concurrent identical votes are counted exactly once",
          "[ballot][votes][concurrency]") {
  Ballot b;
  constexpr int kThreads = 50;
  constexpr int kPerThread = 20;
  std::vector<std::future<std::vector<int>>> futures;
  for (int t = 0; t < kThreads; ++t) {
    futures.push_back(std::async(std::launch::async, [&b] {
      auto client = b.service->Client();
      std::vector<int> statuses;
      for (int i = 0; i < kPerThread; ++i) {
        auto r = Vote(*client, 7, "the-same-voter", 31, 502);
        statuses.push_back(r ? r->status : -1);
      }
      return statuses;
    }));
  }
  std::map<int, int> counts;
  for (auto& f : futures) {
    for (int status : f.get()) {
      ++counts[status];
    }
  }
  CHECK(counts[201] == 1);
  CHECK(counts[200] == kThreads * kPerThread - 1);
  CHECK(civic::test::VotesByNominee(Results(*b.client, 7))[502] == 1);

  // The same within one batch, and across concurrent batches of a second voter.
  json same = json::array();
  for (int i = 0; i < 1000; ++i) {
    json v = VoteBody("batch-voter", 31, 501);
    v["award"] = 7;
    same.push_back(v);
  }
  const std::string body = json({{"votes", same}}).dump();
  std::vector<std::future<std::pair<int, int>>> batches;
  for (int t = 0; t < 4; ++t) {
    batches.push_back(std::async(std::launch::async, [&b, &body] {
      auto client = b.service->Client();
      auto r = client->Post("/v1/votes/batch", ClientAuth(), body, "application/json");
      if (!r || r->status != 200) {
        return std::make_pair(-1, -1);
      }
      const json answer = json::parse(r->body);
      return std::make_pair(answer["counted"].get<int>(), answer["already_counted"].get<int>());
    }));
  }
  int counted = 0;
  int already = 0;
  for (auto& f : batches) {
    const auto [c, a] = f.get();
    counted += c;
    already += a;
  }
  CHECK(counted == 1);
  CHECK(already == 4 * 1000 - 1);
  CHECK(civic::test::VotesByNominee(Results(*b.client, 7))[501] == 1);
}

TEST_CASE("Ballot: a query parameter a route does not take is a 422 naming it",
          "[ballot][results][query]") {
  Ballot b;
  const auto names = [](const httplib::Result& r, const std::string& field) {
    REQUIRE(r);
    INFO(r->body);
    CHECK(r->status == 422);
    const json problem = json::parse(r->body);
    REQUIRE(problem["errors"].size() == 1);
    CHECK(problem["errors"][0]["field"] == field);
  };
  auto voted = b.client->Post("/v1/awards/7/votes?dry_run=1", ClientAuth(),
                              VoteBody("voter-q", 31, 501).dump(), "application/json");
  names(voted, "dry_run");
  auto r = Vote(*b.client, 7, "voter-q", 31, 501);  // the refused one was not counted
  REQUIRE(r);
  REQUIRE(r->status == 201);
  const std::string receipt = json::parse(r->body)["receipt"];

  // A typo must not pass for the default (non-final results).
  names(b.client->Get("/v1/awards/7/results?finall=true", AdminAuth()), "finall");
  names(b.client->Get("/v1/awards/7/results?bogus=1"), "bogus");
  names(b.client->Get("/v1/receipts/" + receipt + "?x=1"), "x");
  names(b.client->Get("/v1/awards/7/results/stream?x=1"), "x");
  names(b.client->Get("/v1/awards/7/votes.ndjson?x=1", AdminAuth()), "x");
  names(b.client->Get("/v1/awards/7/vote-rules?x=1", AdminAuth()), "x");
  names(b.client->Post("/v1/votes/batch?x=1", ClientAuth(),
                       json{{"votes", json::array({VoteBody("voter-b", 32, 601)})}}.dump(),
                       "application/json"),
        "x");
  // The parameters a route documents still work.
  r = b.client->Get("/v1/awards/7/results?final=false");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(b.client->Get("/v1/receipts/" + receipt)->status == 200);
}

TEST_CASE("Ballot: results rank nominees per nomination with shares, totals and cities",
          "[ballot][results]") {
  Ballot b;
  for (int i = 0; i < 3; ++i) {
    REQUIRE(Vote(*b.client, 7, Str("a", i), 31, 502)->status == 201);
  }
  REQUIRE(Vote(*b.client, 7, "b", 31, 501)->status == 201);
  REQUIRE(Vote(*b.client, 7, "c", 32, 601)->status == 201);
  // Public results may lag by up to 100 ms (a cached document); admins always get exact ones.
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  auto r = b.client->Get("/v1/awards/7/results");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  const json results = json::parse(r->body);
  CHECK(results["total_votes"] == 5);
  CHECK(results["final"] == false);
  const json& leaders = results["nominations"][0];
  CHECK(leaders["id"] == 31);
  CHECK(leaders["total_votes"] == 4);
  CHECK(leaders["nominees"][0]["id"] == 502);
  CHECK(leaders["nominees"][0]["rank"] == 1);
  CHECK(leaders["nominees"][0]["share"] == Approx(0.75));
  CHECK(leaders["nominees"][1]["id"] == 501);
  CHECK(leaders["nominees"][2]["id"] == 503);  // withdrawn, reported with 0
  CHECK(leaders["nominees"][2]["status"] == "withdrawn");
  CHECK(leaders["by_city"][0]["city"]["name"] == "Озёрск");
  CHECK(leaders["by_city"][0]["votes"] == 3);
  CHECK(results["by_city"].size() == 3);
  // An unchanged document is not sent again.
  const std::string etag = r->get_header_value("ETag");
  auto again = b.client->Get("/v1/awards/7/results", {{"If-None-Match", etag}});
  REQUIRE(again);
  CHECK(again->status == 304);
  RequireProblem(b.client->Get("/v1/awards/70/results"), 404);
}

TEST_CASE("Ballot: hidden results are 403 to the public and shown to admins, final needs the end",
          "[ballot][results]") {
  Ballot b(SampleAward(7, 1, "hidden_until_close"));
  REQUIRE(Vote(*b.client, 7, "v", 31, 501)->status == 201);
  RequireProblem(b.client->Get("/v1/awards/7/results"), 403);
  RequireProblem(b.client->Get("/v1/awards/7/results",
                               {{"Authorization", std::string("Bearer ") + "wrong-key-wrong-key"}}),
                 401);
  auto r = b.client->Get("/v1/awards/7/results", AdminAuth());
  REQUIRE(r);
  CHECK(r->status == 200);
  RequireProblem(b.client->Get("/v1/awards/7/results?final=true", AdminAuth()), 409);
  RequireProblem(b.client->Get("/v1/awards/7/results?final=true"), 401);
  // Only true and false are read: final=1 took the live results without a word.
  for (const char* given : {"1", "TRUE", "yes", ""}) {
    auto bad = b.client->Get(std::string("/v1/awards/7/results?final=") + given, AdminAuth());
    RequireProblem(bad, 422);
    CHECK(json::parse(bad->body)["errors"][0]["field"] == "final");
  }
  CHECK(b.client->Get("/v1/awards/7/results?final=false", AdminAuth())->status == 200);
  b.events.Edit(7, [](json& a) {
    a["voting_opens_at"] = civic::test::UtcIn(std::chrono::hours(-2));
    a["voting_closes_at"] = civic::test::UtcIn(std::chrono::seconds(-1));
  });
  REQUIRE(civic::test::WaitForAward(*b.client, 7, 2));
  r = b.client->Get("/v1/awards/7/results");
  REQUIRE(r);
  CHECK(r->status == 200);
  r = b.client->Get("/v1/awards/7/results?final=true",
                    {{"Authorization", std::string("Bearer ") + civic::test::kAdminKey},
                     {"X-Civic-Protocol", "1"}});
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(json::parse(r->body)["final"] == true);
  RequireProblem(b.client->Get("/v1/awards/7/results?final=true",
                               {{"Authorization", std::string("Bearer ") + civic::test::kAdminKey},
                                {"X-Civic-Protocol", "2"}}),
                 400);
}

TEST_CASE("Ballot: after a restart the tallies and dedup equal what was acknowledged",
          "[ballot][durability]") {
  civic::test::TempDir dir;
  Ballot b;
  b.Start(dir.path());
  std::map<std::string, std::string> receipts;
  for (int i = 0; i < 50; ++i) {
    const std::string voter = Str("r", i);
    auto r = Vote(*b.client, 7, voter, 31, i % 3 == 0 ? 501 : 502);
    REQUIRE(r);
    REQUIRE(r->status == 201);
    receipts[voter] = json::parse(r->body)["receipt"];
  }
  const auto before = civic::test::VotesByNominee(Results(*b.client, 7));
  REQUIRE(b.service->Signal(SIGTERM) == 0);
  b.Start(dir.path());
  CHECK(civic::test::VotesByNominee(Results(*b.client, 7)) == before);
  for (int i = 0; i < 50; ++i) {
    const std::string voter = Str("r", i);
    auto r = Vote(*b.client, 7, voter, 31, i % 3 == 0 ? 501 : 502);
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(json::parse(r->body)["receipt"] == receipts[voter]);
    CHECK(Vote(*b.client, 7, voter, 31, i % 3 == 0 ? 502 : 501)->status == 409);
  }
}

TEST_CASE("Ballot: votes a client pipelines on one connection are all answered, in order",
          "[ballot][votes]") {
  Ballot b;
  // One write of 14 requests, each sent without waiting for the one before it's answer.
  struct Sent {
    json body;
    int status;
  };
  std::vector<Sent> sent;
  for (int i = 0; i < 10; ++i) {
    sent.push_back({VoteBody(Str("pipelined-", i), 31, 501), 201});
  }
  sent.push_back({VoteBody("pipelined-0", 31, 501), 200});  // the first one again
  sent.push_back({VoteBody("pipelined-1", 31, 502), 409});  // K = 1
  sent.push_back({VoteBody("pipelined-10", 31, 999), 404});
  sent.push_back({{{"voter", "pipelined-11"}, {"nomination", 31}}, 422});
  std::string bytes;
  for (const Sent& s : sent) {
    const std::string body = s.body.dump();
    bytes += Str("POST /v1/awards/7/votes HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ",
                 civic::test::kClientKey,
                 "\r\nContent-Type: application/json\r\nContent-Length: ", body.size(), "\r\n\r\n",
                 body);
  }
  civic::test::RawConnection raw(static_cast<uint16_t>(b.service->port()));
  raw.Write(bytes);
  std::vector<std::pair<int, json>> answers;
  for (size_t i = 0; i < sent.size(); ++i) {
    auto [head, body] = raw.ReadResponse();
    answers.emplace_back(std::stoi(head.substr(9, 3)), json::parse(body));
  }
  std::set<std::string> receipts;
  for (size_t i = 0; i < sent.size(); ++i) {
    INFO(i << ": " << answers[i].second.dump());
    CHECK(answers[i].first == sent[i].status);
    if (answers[i].first == 201) {
      receipts.insert(answers[i].second["receipt"].get<std::string>());
    }
  }
  CHECK(receipts.size() == 10);  // ten voters, ten receipts
  // The repeated vote names the first one's receipt: its answer is the 11th, not another's.
  REQUIRE(answers[10].first == 200);
  CHECK(answers[10].second["receipt"] == answers[0].second["receipt"]);
  CHECK(civic::test::VotesByNominee(Results(*b.client, 7))[501] == 10);
}

TEST_CASE("Ballot: concurrent voters all get their own answers, with io_uring and without",
          "[ballot][votes][concurrency]") {
  // The answer thread hands a committed batch's answers to their sockets in one io_uring
  // submission; CIVIC_HTTP_URING=off (or a kernel without io_uring) sends them one by one.
  const std::string uring = GENERATE(std::string("on"), std::string("off"));
  INFO("CIVIC_HTTP_URING=" << uring);
  Ballot b(SampleAward(), {{"CIVIC_HTTP_URING", uring}});
  constexpr int kClients = 16;
  constexpr int kPerClient = 25;
  std::vector<std::future<std::vector<std::pair<int, std::string>>>> futures;
  for (int t = 0; t < kClients; ++t) {
    futures.push_back(std::async(std::launch::async, [&b, t] {
      auto client = b.service->Client();
      std::vector<std::pair<int, std::string>> answers;
      for (int i = 0; i < kPerClient; ++i) {
        const std::string voter = Str("uring-", t, "-", i);
        auto r = Vote(*client, 7, voter, 31, 501 + (i % 2));
        std::string receipt;
        if (r && r->status == 201) {
          const json body = json::parse(r->body);
          receipt = body["receipt"].get<std::string>();
          // Its own answer: the nominee it voted for (a mixed-up answer would name another's).
          if (body["nominee_id"] != 501 + (i % 2)) {
            receipt = "wrong nominee";
          }
        }
        answers.emplace_back(r ? r->status : -1, receipt);
      }
      return answers;
    }));
  }
  std::set<std::string> receipts;
  int created = 0;
  for (auto& f : futures) {
    for (const auto& [status, receipt] : f.get()) {
      created += status == 201 ? 1 : 0;
      receipts.insert(receipt);
    }
  }
  CHECK(created == kClients * kPerClient);
  CHECK(receipts.size() == static_cast<size_t>(kClients * kPerClient));
  CHECK(receipts.count("wrong nominee") == 0);
  const auto votes = civic::test::VotesByNominee(Results(*b.client, 7));
  CHECK(votes.at(501) + votes.at(502) == kClients * kPerClient);
  CHECK(votes.at(501) == kClients * ((kPerClient + 1) / 2));

  // Whether the answers went out together: with io_uring working on this machine (as this test
  // process finds) the answer thread hands 201s to the sockets in one submission per round,
  // none when it is off. Not necessarily every 201: a vote committed and answered before its
  // request thread has attached the connection (a thread preempted right after queuing the
  // vote, as on a loaded CI machine) is written by that request thread instead.
  io_uring probe{};
  const bool supported = io_uring_queue_init(8, &probe, 0) == 0;
  if (supported) {
    io_uring_queue_exit(&probe);
  }
  // (Counted once a round's answers are handed over: a moment after a client may have its own.)
  double together = -1;
  civic::test::Eventually([&] {
    auto r = b.client->Get("/metrics");
    const auto value =
        civic::test::MetricValue(r ? r->body : "", "ballot_answers_sent_together_total");
    if (!value) {
      return false;
    }
    together = *value;
    return uring == "on" && supported ? together > 0 : true;
  });
  INFO("ballot_answers_sent_together_total " << together);
  if (uring == "on" && supported) {
    CHECK(together > 0);
    CHECK(together <= kClients * kPerClient);
  } else {
    CHECK(together == 0);
  }
}
