// The ballot's key ring: the keys of the sync protocol's message 5 and the bootstrap keys.
#include <catch2/catch.hpp>

#include "civic/runtime/secret.hpp"
#include "key_ring.hpp"

using civic::ballot::Caller;
using civic::ballot::KeyRing;
using nlohmann::json;

namespace {

class FixedClock : public civic::Clock {
 public:
  civic::Instant Now() const override { return *civic::ParseInstant("2026-12-07T12:00:00Z"); }
};

json Key(int64_t id, const std::string& token, const std::string& role, json awards,
         json expires_at = nullptr, json revoked_at = nullptr) {
  return {{"id", id},
          {"prefix", token.substr(0, 12)},
          {"token_sha256", civic::ballot::TokenSha256(token)},
          {"role", role},
          {"award_ids", std::move(awards)},
          {"expires_at", std::move(expires_at)},
          {"revoked_at", std::move(revoked_at)}};
}

}  // namespace

TEST_CASE("Ballot keys: who each key is, and where a voting client may vote", "[ballot][access]") {
  FixedClock clock;
  KeyRing ring("bootstrap-client-key-0123", "bootstrap-admin-key-0123", clock);
  const json doc = {
      {"protocol", 1},
      {"keys",
       json::array(
           {Key(1, "civ_mobile-0123456789", "voting_client", {7}),
            Key(2, "civ_auditor-012345678", "admin", json::array()),
            Key(3, "civ_revoked-012345678", "voting_client", {7}, nullptr, "2026-12-01T00:00:00Z"),
            Key(4, "civ_expired-012345678", "voting_client", {7}, "2026-12-07T11:59:59Z"),
            Key(5, "civ_organizer-0123456", "organizer", json::array())})}};
  auto keys = civic::ballot::ParseKeyList(doc);
  REQUIRE(keys.ok());
  CHECK(keys->size() == 4);  // the organizer's key is not the ballot's business
  ring.Replace(std::move(keys).value());

  const auto who = [&](const std::string& token) { return ring.Identify("Bearer " + token); };
  CHECK(ring.Identify(std::nullopt).kind == Caller::Kind::kNone);
  CHECK(who("bootstrap-client-key-0123").MayVoteIn(12345));
  CHECK(who("bootstrap-admin-key-0123").kind == Caller::Kind::kAdmin);
  const Caller mobile = who("civ_mobile-0123456789");
  CHECK(mobile.MayVoteIn(7));
  CHECK_FALSE(mobile.MayVoteIn(8));
  CHECK(mobile.prefix == "civ_mobile-0");
  CHECK(who("civ_auditor-012345678").kind == Caller::Kind::kAdmin);
  CHECK_FALSE(who("civ_auditor-012345678").MayVoteIn(7));
  const Caller revoked = who("civ_revoked-012345678");
  CHECK(revoked.kind == Caller::Kind::kRefused);
  CHECK(revoked.problem.find("revoked") != std::string::npos);
  CHECK(who("civ_expired-012345678").problem.find("expired") != std::string::npos);
  CHECK(who("civ_unknown-012345678").kind == Caller::Kind::kRefused);
  CHECK(ring.Identify(std::string("Basic Zm9vOmJhcg==")).kind == Caller::Kind::kRefused);
  CHECK(ring.Identify(std::string("bearer civ_mobile-0123456789")).MayVoteIn(7));

  // A document the ballot cannot trust changes nothing.
  CHECK_FALSE(civic::ballot::ParseKeyList(json::array()).ok());
  CHECK_FALSE(civic::ballot::ParseKeyList({{"protocol", 2}, {"keys", json::array()}}).ok());
  json bad_hash = doc;
  bad_hash["keys"][0]["token_sha256"] = "ABC";
  CHECK_FALSE(civic::ballot::ParseKeyList(bad_hash).ok());
  json bad_time = doc;
  bad_time["keys"][0]["revoked_at"] = "yesterday";
  CHECK_FALSE(civic::ballot::ParseKeyList(bad_time).ok());
}

TEST_CASE("Keys are stored as SHA-256 in lowercase hex (FIPS 180-2 vectors)", "[ballot][access]") {
  CHECK(civic::runtime::TokenSha256Hex("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(civic::runtime::TokenSha256Hex("") ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(civic::ballot::TokenSha256("abc") == civic::runtime::TokenSha256Hex("abc"));
}
