// The ballot's domain rules: voting window, visibility, vote validation, results ranking.
#include <catch2/catch.hpp>
#include <set>
#include <utility>

#include "civic/domain/ballot.hpp"
#include "civic/domain/ballot_results.hpp"

namespace {

using namespace civic::ballot;
using civic::ErrorCode;
using civic::Instant;

Instant At(const char* text) { return *civic::ParseInstant(text); }

Award SampleAward() {
  Award award;
  award.id = 7;
  award.version = 3;
  award.title = "Новые Созидатели";
  award.status = AwardStatus::kVoting;
  award.voting_opens_at = At("2026-11-01T00:00:00+03:00");
  award.voting_closes_at = At("2026-12-01T00:00:00+03:00");
  award.results_visibility = ResultsVisibility::kHiddenUntilClose;
  award.nominations = {{31, "Лидер изменений"}, {32, "Команда года"}};
  award.nominees = {
      {501, 31, "Ирина", City{4, "Саров", "Нижегородская область"}, NomineeStatus::kActive},
      {502, 31, "Олег", City{5, "Озёрск", "Челябинская область"}, NomineeStatus::kActive},
      {503, 31, "Анна", City{4, "Саров", "Нижегородская область"}, NomineeStatus::kWithdrawn},
      {601, 32, "Команда", std::nullopt, NomineeStatus::kActive},
  };
  return award;
}

}  // namespace

TEST_CASE("Ballot: votes are taken only from opening until closing of a published or voting award",
          "[ballot][rules]") {
  Award award = SampleAward();
  CHECK_FALSE(IsVotingOpen(award, At("2026-10-31T20:59:59.999Z")));
  CHECK(IsVotingOpen(award, At("2026-10-31T21:00:00Z")));
  CHECK(IsVotingOpen(award, At("2026-11-30T20:59:59.999Z")));
  CHECK_FALSE(IsVotingOpen(award, At("2026-11-30T21:00:00Z")));
  award.status = AwardStatus::kClosed;
  CHECK_FALSE(IsVotingOpen(award, At("2026-11-10T00:00:00Z")));
  award.status = AwardStatus::kPublished;
  CHECK(IsVotingOpen(award, At("2026-11-10T00:00:00Z")));
  award.active = false;
  CHECK_FALSE(IsVotingOpen(award, At("2026-11-10T00:00:00Z")));
}

TEST_CASE("Ballot: a withdrawn nominee or a closed window is forbidden with a reason",
          "[ballot][rules]") {
  const Award award = SampleAward();
  const Instant inside = At("2026-11-10T00:00:00Z");
  CHECK(CheckAcceptsNewVote(award, award.nominees[0], inside).ok());
  auto withdrawn = CheckAcceptsNewVote(award, award.nominees[2], inside);
  REQUIRE_FALSE(withdrawn.ok());
  CHECK(withdrawn.error().code == ErrorCode::kForbidden);
  auto late = CheckAcceptsNewVote(award, award.nominees[0], At("2026-12-05T00:00:00Z"));
  REQUIRE_FALSE(late.ok());
  CHECK(late.error().code == ErrorCode::kForbidden);
  CHECK(late.error().message.find("closed") != std::string::npos);
}

TEST_CASE("Ballot: hidden results are shown to admins, and to everyone once voting is over",
          "[ballot][rules]") {
  Award award = SampleAward();
  const Instant during = At("2026-11-10T00:00:00Z");
  CHECK_FALSE(ResultsVisibleTo(award, during, false));
  CHECK(ResultsVisibleTo(award, during, true));
  CHECK(ResultsVisibleTo(award, At("2026-12-01T00:00:00+03:00"), false));
  award.results_visibility = ResultsVisibility::kLive;
  CHECK(ResultsVisibleTo(award, during, false));
}

TEST_CASE("Ballot: a snapshot with a nominee outside its nominations or a bad K is invalid",
          "[ballot][rules]") {
  Award award = SampleAward();
  CHECK(ValidateAward(award).ok());
  award.nominees[1].nomination_id = 99;
  award.max_choices_per_nomination = 0;
  auto status = ValidateAward(award);
  REQUIRE_FALSE(status.ok());
  REQUIRE(status.error().fields.size() == 2);
  CHECK(status.error().fields[0].field == "max_choices_per_nomination");
  CHECK(status.error().fields[1].field == "nominees[1].nomination_id");
}

TEST_CASE("Ballot: vote validation names each bad field with its prefix", "[ballot][rules]") {
  VoteInput vote;
  vote.voter = std::string(kMaxVoterIdChars + 1, 'x');
  vote.nomination_id = 0;
  vote.nominee_id = 5;
  vote.client_ref = std::string(kMaxClientRefChars + 1, 'r');
  std::vector<civic::FieldError> errors;
  ValidateVote(vote, "votes[2].", errors);
  REQUIRE(errors.size() == 3);
  CHECK(errors[0].field == "votes[2].voter");
  CHECK(errors[1].field == "votes[2].nomination");
  CHECK(errors[2].field == "votes[2].client_ref");
  CHECK(errors[2].reason == "must be at most 128 characters");
}

TEST_CASE("Ballot: vote lengths count characters, not bytes", "[ballot][rules]") {
  // "я" is two bytes: 128 of them are 256 bytes but 128 characters, within the limit.
  std::string ya;
  for (size_t i = 0; i < kMaxClientRefChars; ++i) {
    ya += "я";
  }
  VoteInput vote;
  vote.voter = ya + ya;  // 256 characters, 512 bytes
  vote.nomination_id = 31;
  vote.nominee_id = 501;
  vote.client_ref = ya;
  std::vector<civic::FieldError> errors;
  ValidateVote(vote, "", errors);
  CHECK(errors.empty());
  vote.client_ref = ya + "я";
  vote.voter += "я";
  ValidateVote(vote, "", errors);
  REQUIRE(errors.size() == 2);
  CHECK(errors[0].field == "voter");
  CHECK(errors[1].field == "client_ref");
}

TEST_CASE("Ballot: ids with control characters are refused, each field named", "[ballot][rules]") {
  VoteInput vote;
  vote.voter = std::string("житель-17\0", 16);  // with a NUL at its end
  vote.nomination_id = 31;
  vote.nominee_id = 501;
  vote.client_ref = "ref\t1";
  vote.device = "phone\x7f";
  vote.address = "203.0.113.7\n";
  std::vector<civic::FieldError> errors;
  ValidateVote(vote, "", errors);
  REQUIRE(errors.size() == 4);
  CHECK(errors[0].field == "voter");
  CHECK(errors[0].reason == "must not contain control characters");
  CHECK(errors[1].field == "client_ref");
  CHECK(errors[2].field == "device");
  CHECK(errors[3].field == "address");
  errors.clear();
  vote.voter = "житель-17";
  vote.client_ref = "ref 1";
  vote.device = "phone";
  vote.address = "203.0.113.7";
  ValidateVote(vote, "", errors);
  CHECK(errors.empty());
}

TEST_CASE("Ballot: results rank nominees with ties, compute shares and a breakdown by city",
          "[ballot][results]") {
  const Award award = SampleAward();
  const auto results =
      ComputeResults(award, {{31, 501, 5}, {31, 502, 5}, {31, 503, 2}, {32, 601, 1}});
  CHECK(results.total_votes == 13);
  REQUIRE(results.nominations.size() == 2);
  const auto& first = results.nominations[0];
  CHECK(first.nomination->id == 31);
  CHECK(first.total_votes == 12);
  REQUIRE(first.nominees.size() == 3);
  CHECK(first.nominees[0].nominee->id == 501);
  CHECK(first.nominees[0].rank == 1);
  CHECK(first.nominees[1].nominee->id == 502);
  CHECK(first.nominees[1].rank == 1);
  CHECK(first.nominees[2].rank == 3);
  CHECK(first.nominees[0].share == Approx(5.0 / 12.0));
  REQUIRE(first.by_city.size() == 2);
  CHECK(first.by_city[0].city->name == "Саров");
  CHECK(first.by_city[0].votes == 7);
  const auto& second = results.nominations[1];
  REQUIRE(second.by_city.size() == 1);
  CHECK_FALSE(second.by_city[0].city.has_value());
  REQUIRE(results.by_city.size() == 3);
  CHECK(results.by_city[0].votes == 7);
}

TEST_CASE("Ballot: results of an award without votes are zeros, not a division by zero",
          "[ballot][results]") {
  const auto results = ComputeResults(SampleAward(), {});
  CHECK(results.total_votes == 0);
  CHECK(results.nominations[0].nominees[0].share == 0.0);
  CHECK(results.nominations[0].nominees[0].rank == 1);
}

TEST_CASE("Ballot: a vote counts in the nomination it was cast in", "[ballot][results]") {
  Award award = SampleAward();
  // A tally of nominee 501 under nomination 32 (where it is not listed) is not counted there.
  const auto results = ComputeResults(award, {{31, 501, 4}, {32, 501, 1}});
  CHECK(results.total_votes == 4);
  CHECK(results.nominations[0].total_votes == 4);
  CHECK(results.nominations[1].total_votes == 0);
}

TEST_CASE("Ballot: what a new snapshot drops or moves stays as removed, carried from copy to copy",
          "[ballot][sync]") {
  const Award v3 = SampleAward();
  // v4: nominee 501 moved to nomination 32, 502 deleted, nomination 32's 601 deleted too.
  Award v4 = SampleAward();
  v4.version = 4;
  v4.nominees = {
      {501, 32, "Ирина", City{4, "Саров", "Нижегородская область"}, NomineeStatus::kActive},
      {503, 31, "Анна", City{4, "Саров", "Нижегородская область"}, NomineeStatus::kWithdrawn}};
  CarryOverRemoved(v3, v4);
  CHECK(v4.removed_nominations.empty());
  REQUIRE(v4.removed_nominees.size() == 3);
  CHECK(v4.removed_nominees[0].id == 501);
  CHECK(v4.removed_nominees[0].nomination_id == 31);  // where its votes were cast
  CHECK(v4.removed_nominees[0].status == NomineeStatus::kWithdrawn);
  CHECK(v4.removed_nominees[1].id == 502);
  CHECK(v4.removed_nominees[2].id == 601);

  // v5: nomination 32 deleted (501 back in 31), nominee 777 new: the removed ones carry on.
  Award v5 = SampleAward();
  v5.version = 5;
  v5.nominations = {{31, "Лидер изменений"}};
  v5.nominees = {
      {501, 31, "Ирина", City{4, "Саров", "Нижегородская область"}, NomineeStatus::kActive},
      {777, 31, "Пётр", std::nullopt, NomineeStatus::kActive}};
  CarryOverRemoved(v4, v5);
  REQUIRE(v5.removed_nominations.size() == 1);
  CHECK(v5.removed_nominations[0].id == 32);
  CHECK(v5.removed_nominations[0].title == "Команда года");
  std::set<std::pair<int64_t, int64_t>> removed;  // (nomination, nominee)
  for (const Nominee& n : v5.removed_nominees) {
    removed.emplace(n.nomination_id, n.id);
  }
  // 501 is listed in 31 again: no longer removed there; in 32 it is now.
  CHECK(removed ==
        std::set<std::pair<int64_t, int64_t>>{{31, 502}, {32, 601}, {31, 503}, {32, 501}});

  // A snapshot that changes nothing removes nothing.
  Award same = v5;
  CarryOverRemoved(v5, same);
  CHECK(same.removed_nominees.size() == 4);
  CHECK(same.removed_nominations.size() == 1);
}

TEST_CASE("Ballot: removed nominees and nominations are in the results only where they have votes",
          "[ballot][results]") {
  Award award = SampleAward();
  award.nominations = {{31, "Лидер изменений"}};
  award.nominees = {
      {501, 31, "Ирина", City{4, "Саров", "Нижегородская область"}, NomineeStatus::kActive}};
  award.removed_nominations = {{32, "Команда года"}, {33, "Пустая"}};
  award.removed_nominees = {
      {502, 31, "Олег", City{5, "Озёрск", "Челябинская область"}, NomineeStatus::kWithdrawn},
      {503, 31, "Анна", City{4, "Саров", "Нижегородская область"}, NomineeStatus::kWithdrawn},
      {601, 32, "Команда", std::nullopt, NomineeStatus::kWithdrawn},
      {701, 33, "Никто", std::nullopt, NomineeStatus::kWithdrawn}};
  const auto results = ComputeResults(award, {{31, 501, 2}, {31, 502, 5}, {32, 601, 1}});
  CHECK(results.total_votes == 8);
  REQUIRE(results.nominations.size() == 2);
  const auto& first = results.nominations[0];
  CHECK_FALSE(first.removed);
  CHECK(first.total_votes == 7);
  REQUIRE(first.nominees.size() == 2);  // 503 (no votes) is not listed
  CHECK(first.nominees[0].nominee->id == 502);
  CHECK(first.nominees[0].removed);
  CHECK(first.nominees[0].rank == 1);
  CHECK(first.nominees[1].nominee->id == 501);
  CHECK_FALSE(first.nominees[1].removed);
  CHECK(first.nominees[1].rank == 2);
  const auto& second = results.nominations[1];
  CHECK(second.removed);
  CHECK(second.nomination->id == 32);
  CHECK(second.total_votes == 1);
  REQUIRE(second.nominees.size() == 1);
  CHECK(second.nominees[0].removed);
}

TEST_CASE("Ballot: the K votes may have been taken under is kept once the window opened",
          "[ballot][sync]") {
  Award before = SampleAward();  // opens 2026-11-01T00:00+03:00
  before.max_choices_per_nomination = 3;
  Award lowered = SampleAward();
  lowered.max_choices_per_nomination = 1;
  // Replaced before its window opened: no vote was taken under K = 3.
  CarryOverChoicesCounted(before, lowered, At("2026-10-31T20:59:59Z"));
  CHECK(lowered.max_choices_counted == 0);
  // Replaced after: the audit allows 3.
  CarryOverChoicesCounted(before, lowered, At("2026-10-31T21:00:01Z"));
  CHECK(lowered.max_choices_counted == 3);
  // And it stays through later copies.
  Award later = SampleAward();
  CarryOverChoicesCounted(lowered, later, At("2026-11-10T00:00:00Z"));
  CHECK(later.max_choices_counted == 3);
  // A draft copy took no votes.
  before.status = AwardStatus::kDraft;
  Award next = SampleAward();
  CarryOverChoicesCounted(before, next, At("2026-11-10T00:00:00Z"));
  CHECK(next.max_choices_counted == 0);
}
