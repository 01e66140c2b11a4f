// The SAX reader of vote bodies and the hand-written vote answers.
#include <catch2/catch.hpp>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "vote_json.hpp"

namespace {

using namespace civic::ballot;
using nlohmann::json;

std::vector<std::string> Fields(const ParsedVote& vote) {
  std::vector<std::string> out;
  for (const auto& e : vote.errors) {
    out.push_back(e.field);
  }
  return out;
}

}  // namespace

TEST_CASE("Ballot: a single vote body is read into a vote and unknown members are ignored",
          "[ballot][json]") {
  const auto parsed = ParseVoteBody(
      R"({"voter":"вася","nomination":31,"extra":{"a":[1,{"b":2}]},"nominee":501,"client_ref":null})");
  REQUIRE_FALSE(parsed.syntax_offset);
  REQUIRE_FALSE(parsed.shape_error);
  REQUIRE(parsed.votes.size() == 1);
  const ParsedVote& v = parsed.votes[0];
  CHECK(v.errors.empty());
  CHECK(v.vote.voter == "вася");
  CHECK(v.vote.nomination_id == 31);
  CHECK(v.vote.nominee_id == 501);
  CHECK_FALSE(v.vote.client_ref);
}

TEST_CASE("Ballot: wrong types and missing members are field errors, not a failed body",
          "[ballot][json]") {
  auto parsed = ParseVoteBody(R"({"voter":5,"nomination":31.5,"client_ref":[1]})");
  REQUIRE(parsed.votes.size() == 1);
  CHECK(Fields(parsed.votes[0]) ==
        std::vector<std::string>{"voter", "nomination", "client_ref", "nominee"});
  // Ids are 1 to 2^31 - 1: a larger one is a field error, not clamped into some other id.
  parsed = ParseVoteBody(R"({"voter":"","nomination":-1,"nominee":18446744073709551615})");
  CHECK(Fields(parsed.votes[0]) == std::vector<std::string>{"voter", "nomination", "nominee"});
  parsed = ParseVoteBody(R"({"voter":"a","nomination":9223372036854775808,"nominee":2147483648})");
  CHECK(Fields(parsed.votes[0]) == std::vector<std::string>{"nomination", "nominee"});
  CHECK(parsed.votes[0].errors[0].reason == "must be an integer from 1 to 2147483647");
  parsed = ParseVoteBody(R"({"voter":"a","nomination":2147483647,"nominee":1})");
  CHECK(parsed.votes[0].errors.empty());
}

TEST_CASE("Ballot: malformed JSON reports the offset and a body that is no object is a shape error",
          "[ballot][json]") {
  auto parsed = ParseVoteBody(R"({"voter": tru})");
  REQUIRE(parsed.syntax_offset);
  CHECK(*parsed.syntax_offset > 0);
  CHECK(parsed.votes.empty());
  parsed = ParseVoteBody("[1,2]");
  REQUIRE(parsed.shape_error);
  CHECK(parsed.shape_error->code == civic::ErrorCode::kInvalidArgument);
  parsed = ParseVoteBody(R"({"voter":"a"} trailing)");
  CHECK(parsed.syntax_offset);
}

TEST_CASE("Ballot: a batch is read vote by vote, each with its own errors and index",
          "[ballot][json]") {
  const auto parsed = ParseBatchBody(
      R"({"other":[1,2],"votes":[
           {"award":7,"voter":"a","nomination":31,"nominee":501,"client_ref":"r1"},
           5,
           [1,2],
           {"voter":"b","nomination":31,"nominee":502},
           {"award":99999999999,"voter":"c","nomination":31,"nominee":502},
           {"award":0,"voter":"d","nomination":31,"nominee":502}]})");
  REQUIRE_FALSE(parsed.shape_error);
  REQUIRE(parsed.votes.size() == 6);
  CHECK(parsed.votes[0].errors.empty());
  CHECK(parsed.votes[0].vote.award_id == 7);
  CHECK(*parsed.votes[0].vote.client_ref == "r1");
  CHECK(Fields(parsed.votes[1]) == std::vector<std::string>{"votes[1]"});
  CHECK(Fields(parsed.votes[2]) == std::vector<std::string>{"votes[2]"});
  CHECK(Fields(parsed.votes[3]) == std::vector<std::string>{"votes[3].award"});
  // An award id out of range is a field error like any other (in the path it is a 404).
  CHECK(Fields(parsed.votes[4]) == std::vector<std::string>{"votes[4].award"});
  CHECK(Fields(parsed.votes[5]) == std::vector<std::string>{"votes[5].award"});
}

TEST_CASE("Ballot: a member given twice in a vote is an error, never a silent choice of one",
          "[ballot][json]") {
  auto single = ParseVoteBody(R"({"voter":"a","nomination":31,"nominee":501,"nominee":502})");
  REQUIRE(single.votes.size() == 1);
  CHECK(Fields(single.votes[0]) == std::vector<std::string>{"nominee"});
  CHECK(single.votes[0].errors[0].reason == "is given more than once");
  // Also when the first was null, and for the voter and client_ref.
  single = ParseVoteBody(R"({"voter":null,"voter":"a","nomination":31,"nominee":501})");
  CHECK(Fields(single.votes[0]) == std::vector<std::string>{"voter"});
  single = ParseVoteBody(R"({"voter":"a","nomination":31,"nominee":501,"client_ref":"x",)"
                         R"("client_ref":"y"})");
  CHECK(Fields(single.votes[0]) == std::vector<std::string>{"client_ref"});
  // Unknown members may repeat (they are ignored); each vote of a batch has its own members.
  single = ParseVoteBody(R"({"voter":"a","nomination":31,"nominee":501,"x":1,"x":2})");
  CHECK(single.votes[0].errors.empty());
  const auto batch = ParseBatchBody(
      R"({"votes":[{"award":7,"voter":"a","nomination":31,"nominee":501},
                   {"award":7,"award":8,"voter":"a","nomination":31,"nominee":501},
                   {"award":7,"voter":"b","nomination":31,"nominee":501}]})");
  REQUIRE(batch.votes.size() == 3);
  CHECK(batch.votes[0].errors.empty());
  CHECK(Fields(batch.votes[1]) == std::vector<std::string>{"votes[1].award"});
  CHECK(batch.votes[2].errors.empty());
}

TEST_CASE("Ballot: a batch without votes, with none, or with more than 1,000 is a shape error",
          "[ballot][json]") {
  CHECK(ParseBatchBody(R"({"vote":[]})").shape_error);
  CHECK(ParseBatchBody(R"({"votes":{}})").shape_error);
  CHECK(ParseBatchBody(R"({"votes":[]})").shape_error);
  std::string big = R"({"votes":[)";
  for (int i = 0; i < 1001; ++i) {
    big += (i > 0 ? "," : "");
    big += R"({"award":7,"voter":"v","nomination":31,"nominee":501})";
  }
  big += "]}";
  const auto parsed = ParseBatchBody(big);
  REQUIRE(parsed.shape_error);
  CHECK(parsed.shape_error->fields[0].field == "votes");
  CHECK(parsed.votes.empty());

  // Two votes arrays are not read one on top of the other.
  const std::string one = R"({"award":7,"voter":"v","nomination":31,"nominee":501})";
  for (const std::string& body : {R"({"votes":[)" + one + "],\"votes\":[" + one + "]}",
                                  R"({"votes":[)" + one + R"(],"votes":5})"}) {
    INFO(body);
    const auto twice = ParseBatchBody(body);
    REQUIRE(twice.shape_error);
    CHECK(twice.shape_error->fields[0].field == "votes");
    CHECK(twice.shape_error->fields[0].reason == "is given more than once");
    CHECK(twice.votes.empty());
  }
}

TEST_CASE("Ballot: the answers are valid JSON with escaped client references", "[ballot][json]") {
  VoteInput vote;
  vote.award_id = 7;
  vote.nomination_id = 31;
  vote.nominee_id = 501;
  vote.client_ref = "quote\" backslash\\ newline\n город";
  const json one = json::parse(VoteReceiptJson(VoteOutcome::Created("abc"), vote));
  CHECK(one["status"] == "counted");
  CHECK(one["client_ref"] == *vote.client_ref);
  std::vector<ParsedVote> votes(3);
  votes[0].vote = vote;
  const json batch =
      json::parse(BatchResultsJson({VoteOutcome::Created("r1"), VoteOutcome::Existing("r2"),
                                    VoteOutcome::Failed(civic::Error::NotFound("No nominee 9."))},
                                   votes));
  CHECK(batch["counted"] == 1);
  CHECK(batch["already_counted"] == 1);
  CHECK(batch["rejected"] == 1);
  CHECK(batch["results"][0]["client_ref"] == *vote.client_ref);
  CHECK(batch["results"][1]["status"] == 200);
  CHECK(batch["results"][2]["status"] == 404);
  CHECK(batch["results"][2]["error"]["detail"] == "No nominee 9.");
}

namespace {

// Everything a parse gives, as one string: two parses agree when these are equal.
std::string Describe(const ParsedVotes& parsed) {
  std::string out = "offset=";
  out += parsed.syntax_offset ? std::to_string(*parsed.syntax_offset) : "-";
  const auto errors = [&out](const std::vector<civic::FieldError>& fields) {
    for (const auto& e : fields) {
      out += " [" + e.field + ": " + e.reason + "]";
    }
  };
  if (parsed.shape_error) {
    out += " shape=" + std::string(civic::ToString(parsed.shape_error->code)) + " " +
           parsed.shape_error->message;
    errors(parsed.shape_error->fields);
  }
  for (const ParsedVote& v : parsed.votes) {
    out += "\n  award=" + std::to_string(v.vote.award_id) + " voter=" + v.vote.voter +
           " nomination=" + std::to_string(v.vote.nomination_id) +
           " nominee=" + std::to_string(v.vote.nominee_id) +
           " ref=" + (v.vote.client_ref ? "'" + *v.vote.client_ref + "'" : std::string("-"));
    errors(v.errors);
  }
  return out;
}

// A random vote object: members in any order and spacing, sometimes missing, repeated, of the
// wrong type, or out of range, with unknown members holding any JSON.
std::string RandomVote(std::mt19937& rng, bool batch) {
  const auto pick = [&rng](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const auto space = [&] {
    static const char* kSpaces[] = {"", "", "", " ", "\n  ", "\t", "\r\n"};
    return std::string(kSpaces[pick(7)]);
  };
  const auto value = [&](int kind) -> std::string {
    switch (kind) {
      case 0:
        return std::to_string(pick(3) == 0 ? pick(100000) : 1 + pick(600));
      case 1:
        return "\"voter-" + std::to_string(pick(1000000)) + "\"";
      case 2:
        return "null";
      case 3:
        return pick(2) ? "true" : "false";
      case 4:
        return "-" + std::to_string(pick(50));
      case 5:
        return "3.5";
      case 6:
        return "[1,{\"a\":[\"b\",null]},[]]";
      case 7:
        return "{\"x\":{\"y\":\"z\"}}";
      case 8:
        return "\"" + std::string(static_cast<size_t>(250 + pick(20)), 'v') + "\"";
      case 9:
        return "\"\xd0\x92\xd0\xb0\xd1\x81\xd1\x8f\"";  // Вася
      case 10:
        return "\"esc\\\"aped\\u0041\"";
      case 11:
        return "\"\"";
      case 12:
        return pick(2) ? "12345678901234567890" : "99999999999999999999";  // past uint64
      case 13:
        return pick(2) ? "999999999999999999" : "1000000000000000000";  // 18 / 19 digits
      case 14:
        return std::string(20, '[') + std::string(20, ']');  // past the tokeniser's depth
      case 15:
        return "\"del\x7f\"";
      case 16:
        return "\"\xed\xa0\x80\"";  // a surrogate: not UTF-8
      case 17:
        return "\"\xf0\x9f\x97\xb3 \xe2\x82\xac\"";
      default:
        return "0";
    }
  };
  std::vector<std::string> members;
  const auto member = [&](const std::string& name, int usual) {
    const int roll = pick(20);
    if (roll == 0) {
      return;  // missing
    }
    const int kind = roll == 1 ? pick(18) : usual;
    members.push_back("\"" + name + "\"" + space() + ":" + space() + value(kind));
    if (pick(30) == 0) {
      members.push_back("\"" + name + "\":" + value(usual));  // repeated
    }
  };
  if (batch) {
    member("award", 0);
  }
  member("voter", pick(10) == 0 ? 9 : 1);
  member("nomination", 0);
  member("nominee", 0);
  if (pick(2)) {
    member("client_ref", pick(3) == 0 ? 2 : 1);
  }
  if (pick(4) == 0) {
    members.push_back("\"extra\":" + value(pick(18)));
  }
  std::shuffle(members.begin(), members.end(), rng);
  std::string out = "{" + space();
  for (size_t i = 0; i < members.size(); ++i) {
    out += (i > 0 ? "," + space() : std::string()) + members[i];
  }
  return out + space() + "}";
}

}  // namespace

TEST_CASE("Ballot: simdjson's reading of vote bodies gives what nlohmann's parser gives",
          "[ballot][json]") {
  // Random bodies, then the same bodies cut, spliced and garbled byte by byte: the parse the
  // service uses (a fast path that leaves anything unusual to nlohmann) must give exactly what
  // nlohmann's SAX parse alone gives, votes, field errors, shape errors and syntax offsets.
  // (The fast path is simdjson's DOM parser; it was a hand-written tokeniser before.)
  std::mt19937 rng(20261206);
  const auto pick = [&rng](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  static const std::string kNoise =
      std::string(
          "{}[]\":, \n0123456789-+.eEnulltrue\\a\x01\x7f\xd0\x92\xff\xef\xbb\xbf\xed\xa0\xc0\x80") +
      '\0';
  int compared = 0;
  int fast_answers = 0;
  for (int round = 0; round < 3000; ++round) {
    const bool batch = round % 2 == 0;
    std::string body;
    if (batch) {
      body = "{\"votes\":[";
      const int n = pick(8) == 0 ? 995 + pick(10) : pick(6);  // around kMaxBatchVotes too
      for (int i = 0; i < n; ++i) {
        if (i > 0) {
          body += ',';
        }
        body += pick(25) == 0 ? std::string("7") : RandomVote(rng, true);
      }
      body += "]";
      if (pick(10) == 0) {
        body += ",\"votes\":[]";
      }
      if (pick(10) == 0) {
        body += ",\"other\":[{\"votes\":1}]";
      }
      body += "}";
    } else {
      body = RandomVote(rng, false);
    }
    if (pick(15) == 0) {
      body = pick(2) ? "[" + body + "]" : body + " x";
    }
    for (int mutation = 0; mutation <= 4; ++mutation) {
      const std::string reference = Describe(ReferenceParseVotes(body, batch));
      INFO("body: " << body);
      REQUIRE(Describe(batch ? ParseBatchBody(body) : ParseVoteBody(body)) == reference);
      if (const auto fast = FastParseVotes(body, batch)) {
        REQUIRE(Describe(*fast) == reference);
        ++fast_answers;
      }
      ++compared;
      if (body.empty()) {
        break;
      }
      const size_t at = static_cast<size_t>(pick(static_cast<int>(body.size())));
      switch (pick(3)) {
        case 0:
          body.erase(at, 1 + static_cast<size_t>(pick(3)));
          break;
        case 1:
          body.insert(at, 1, kNoise[static_cast<size_t>(pick(static_cast<int>(kNoise.size())))]);
          break;
        default:
          body[at] = kNoise[static_cast<size_t>(pick(static_cast<int>(kNoise.size())))];
          break;
      }
    }
  }
  CHECK(compared > 10000);
  // The fast path answers the common bodies itself, valid or not (so a tokeniser that left
  // everything to nlohmann would fail here), and leaves the unusual ones.
  CHECK(fast_answers > compared / 4);
  const auto fast = [](std::string_view body, bool batch) {
    const auto parsed = FastParseVotes(body, batch);
    return parsed ? Describe(*parsed) : std::string("left to nlohmann");
  };
  CHECK(fast(R"({"votes":[{"award":7,"voter":"a","nomination":31,"nominee":501}]})", true) ==
        "offset=-\n  award=7 voter=a nomination=31 nominee=501 ref=-");
  CHECK(
      fast("{\"voter\": \"\xd0\x92\xd0\xb0\xd1\x81\xd1\x8f\", \"nomination\": 31, \"nominee\": 0}",
           false) ==
      "offset=-\n  award=0 voter=\xd0\x92\xd0\xb0\xd1\x81\xd1\x8f nomination=31 nominee=0 "
      "ref=- [nominee: must be an integer from 1 to 2147483647]");
  CHECK(fast(R"({"votes":{}})", true) ==
        "offset=- shape=invalid_argument The request has invalid "
        "fields. [votes: must be an array of votes]");
  // Escapes and negative numbers are simdjson's to read too.
  CHECK(fast(R"({"voter":"a\"b\u0416","nomination":31,"nominee":501})", false) ==
        "offset=-\n  award=0 voter=a\"b\xd0\x96 nomination=31 nominee=501 ref=-");
  CHECK(fast(R"({"voter":"a","nomination":-31,"nominee":501})", false) ==
        "offset=-\n  award=0 voter=a nomination=-31 nominee=501 ref=- [nomination: must be an "
        "integer from 1 to 2147483647]");
  // What simdjson refuses is nlohmann's to answer: an overlong UTF-8 form, a lone surrogate, a
  // byte-order mark (which nlohmann skips), a number too large to hold, trailing bytes.
  for (const std::string& body :
       {std::string("{\"voter\":\"\xc0\x80\"}"), std::string(R"({"voter":"\ud800"})"),
        std::string(R"({"voter":"\udc00x"})"), std::string("\xef\xbb\xbf{\"voter\":\"a\"}"),
        std::string(R"({"nominee":18446744073709551616})"), std::string(R"({"voter":"a"} x)")}) {
    INFO(body);
    CHECK(fast(body, false) == "left to nlohmann");
    CHECK(Describe(ParseVoteBody(body)) == Describe(ReferenceParseVotes(body, false)));
  }
  CHECK(Describe(ParseVoteBody(R"({"voter":"a\"b","nomination":31,"nominee":501})")) ==
        "offset=-\n  award=0 voter=a\"b nomination=31 nominee=501 ref=-");
}
