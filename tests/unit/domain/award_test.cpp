#include <algorithm>
#include <catch2/catch.hpp>

#include "ballot_client.hpp"
#include "civic/domain/award.hpp"

namespace {

civic::Instant At(const char* text) { return *civic::ParseInstant(text); }

civic::Award Creators() {
  civic::Award award;
  award.title = "Новые Созидатели";
  award.edition_year = 2026;
  award.voting_opens_at = At("2026-11-01T00:00:00+03:00");
  award.voting_closes_at = At("2026-12-01T00:00:00+03:00");
  award.status = "published";
  return award;
}

bool HasField(const civic::Violations& violations, const std::string& field) {
  const auto& errors = violations.errors();
  return std::any_of(errors.begin(), errors.end(),
                     [&](const civic::FieldError& e) { return e.field == field; });
}

}  // namespace

TEST_CASE("Award: the window must end after it opens and K is 1..10", "[award]") {
  civic::Violations ok;
  civic::Validate(Creators(), ok);
  CHECK(ok.empty());

  civic::Award bad = Creators();
  bad.voting_closes_at = bad.voting_opens_at;
  bad.max_choices_per_nomination = 11;
  bad.results_visibility = "sometimes";
  bad.edition_year = 1999;
  civic::Violations violations;
  civic::Validate(bad, violations);
  CHECK(HasField(violations, "voting_closes_at"));
  CHECK(HasField(violations, "max_choices_per_nomination"));
  CHECK(HasField(violations, "results_visibility"));
  CHECK(HasField(violations, "edition_year"));
}

TEST_CASE("Award: status moves forward only, closed only through the close action",
          "[award][status]") {
  CHECK_FALSE(civic::StatusChangeError("", "draft"));
  CHECK_FALSE(civic::StatusChangeError("", "voting"));
  CHECK(civic::StatusChangeError("", "closed"));
  CHECK(civic::StatusChangeError("", "archived"));
  CHECK_FALSE(civic::StatusChangeError("draft", "published"));
  CHECK_FALSE(civic::StatusChangeError("draft", "voting"));
  CHECK_FALSE(civic::StatusChangeError("published", "voting"));
  CHECK_FALSE(civic::StatusChangeError("voting", "voting"));
  CHECK(civic::StatusChangeError("voting", "published"));
  CHECK(civic::StatusChangeError("voting", "closed"));
  CHECK(civic::StatusChangeError("voting", "archived"));
  CHECK_FALSE(civic::StatusChangeError("closed", "archived"));
  CHECK(civic::StatusChangeError("closed", "voting"));
  CHECK(civic::StatusChangeError("archived", "closed"));
  CHECK_FALSE(civic::StatusChangeError("draft", "archived"));
}

TEST_CASE("Award: voting has opened once published or voting and past its start, or once closed",
          "[award][window]") {
  civic::Award award = Creators();
  CHECK_FALSE(civic::VotingHasOpened(award, At("2026-10-31T20:59:59Z")));
  CHECK(civic::VotingHasOpened(award, At("2026-10-31T21:00:00Z")));
  award.status = "draft";
  CHECK_FALSE(civic::VotingHasOpened(award, At("2026-11-15T00:00:00Z")));
  award.status = "voting";
  CHECK_FALSE(civic::VotingHasOpened(award, At("2026-10-31T20:59:59Z")));
  CHECK(civic::VotingHasOpened(award, At("2026-10-31T21:00:00Z")));
  award.status = "closed";
  CHECK(civic::VotingHasOpened(award, At("2026-01-01T00:00:00Z")));
  award.status = "archived";
  CHECK(civic::VotingHasOpened(award, At("2026-01-01T00:00:00Z")));
}

TEST_CASE("Award: closing needs the window to have ended and a published or voting award",
          "[award][close]") {
  civic::Award award = Creators();
  CHECK(civic::CloseError(award, At("2026-11-30T20:59:59.999Z")));
  CHECK_FALSE(civic::CloseError(award, At("2026-11-30T21:00:00Z")));
  award.status = "voting";
  CHECK_FALSE(civic::CloseError(award, At("2026-12-05T00:00:00Z")));
  for (const char* status : {"draft", "closed", "archived"}) {
    award.status = status;
    CHECK(civic::CloseError(award, At("2026-12-05T00:00:00Z")));
  }
}

TEST_CASE("Nominee: a person needs person_id, a project needs project_title", "[award][nominee]") {
  civic::Nominee person;
  person.kind = "person";
  person.person_id = 7;
  person.name = "Ирина Лебедева";
  person.city_id = 1;
  civic::Violations ok;
  civic::Validate(person, ok);
  CHECK(ok.empty());

  civic::Nominee project = person;
  project.kind = "project";
  civic::Violations violations;
  civic::Validate(project, violations);
  CHECK(HasField(violations, "person_id"));
  CHECK(HasField(violations, "project_title"));

  civic::Nominee nameless = person;
  nameless.person_id.reset();
  nameless.name = "";
  nameless.status = "gone";
  civic::Violations more;
  civic::Validate(nameless, more);
  CHECK(HasField(more, "person_id"));
  CHECK(HasField(more, "name"));
  CHECK(HasField(more, "status"));
}

TEST_CASE("Laureates: the most voted active nominee wins, all tied ones win",
          "[award][laureates]") {
  civic::NominationTally tally{31, 300, {{501, 120}, {502, 90}, {503, 120}, {504, 0}}};
  auto laureates = civic::SelectLaureates(tally, {501, 502, 503, 504});
  REQUIRE(laureates.size() == 2);
  CHECK(laureates[0].nominee_id == 501);
  CHECK(laureates[1].nominee_id == 503);
  CHECK(laureates[0].votes == 120);
  CHECK(laureates[0].rank == 1);
  CHECK(laureates[1].nomination_id == 31);
}

TEST_CASE("Laureates: a withdrawn nominee never wins but its votes count for the rank",
          "[award][laureates]") {
  civic::NominationTally tally{31, 300, {{501, 200}, {502, 90}, {503, 10}}};
  auto laureates = civic::SelectLaureates(tally, {502, 503});
  REQUIRE(laureates.size() == 1);
  CHECK(laureates[0].nominee_id == 502);
  CHECK(laureates[0].rank == 2);
}

TEST_CASE("Laureates: a nomination without votes has none", "[award][laureates]") {
  civic::NominationTally tally{31, 0, {{501, 0}, {502, 0}}};
  CHECK(civic::SelectLaureates(tally, {501, 502}).empty());
  CHECK(civic::SelectLaureates({32, 0, {}}, {}).empty());
}

TEST_CASE("Ballot results: the final document is read, wrong or partial ones are refused",
          "[award][ballot]") {
  const char* good = R"({"award_id": 7, "final": true, "nominations": [
      {"id": 31, "total_votes": 210, "nominees": [
        {"id": 501, "votes": 120, "share": 0.571, "rank": 1},
        {"id": 502, "votes": 90, "share": 0.429, "rank": 2}]}],
      "computed_at": "2026-12-01T00:00:01Z"})";
  auto parsed = civic::events::ParseFinalResults(good, 7);
  REQUIRE(parsed.ok());
  REQUIRE(parsed->size() == 1);
  CHECK((*parsed)[0].nomination_id == 31);
  CHECK((*parsed)[0].total_votes == 210);
  REQUIRE((*parsed)[0].nominees.size() == 2);
  CHECK((*parsed)[0].nominees[1].votes == 90);

  CHECK_FALSE(civic::events::ParseFinalResults(good, 8).ok());
  CHECK_FALSE(
      civic::events::ParseFinalResults(R"({"award_id": 7, "final": false, "nominations": []})", 7)
          .ok());
  CHECK_FALSE(civic::events::ParseFinalResults("not json", 7).ok());
  CHECK_FALSE(civic::events::ParseFinalResults(
                  R"({"award_id": 7, "final": true, "nominations": [{"id": 31}]})", 7)
                  .ok());
  CHECK_FALSE(civic::events::ParseFinalResults(
                  R"({"award_id": 7, "final": true, "nominations": [{"id": 31,
                      "total_votes": 1, "nominees": [{"id": 501, "votes": -1}]}]})",
                  7)
                  .ok());
}

TEST_CASE("Ballot results: removed nominations and nominees are read as such", "[award][ballot]") {
  const char* doc = R"({"award_id": 7, "final": true, "nominations": [
      {"id": 31, "removed": false, "total_votes": 5, "nominees": [
        {"id": 502, "votes": 3, "status": "removed"},
        {"id": 501, "votes": 2, "status": "active"}]},
      {"id": 33, "removed": true, "total_votes": 1, "nominees": [
        {"id": 701, "votes": 1, "status": "removed"}]}]})";
  auto parsed = civic::events::ParseFinalResults(doc, 7);
  REQUIRE(parsed.ok());
  REQUIRE(parsed->size() == 2);
  CHECK_FALSE((*parsed)[0].removed);
  CHECK((*parsed)[0].nominees[0].removed);
  CHECK_FALSE((*parsed)[0].nominees[1].removed);
  CHECK((*parsed)[1].removed);
  CHECK((*parsed)[1].nominees[0].removed);
}

TEST_CASE("Award: applications open in a window that ends by the opening of voting",
          "[award][applications]") {
  civic::Award award = Creators();
  CHECK_FALSE(civic::ApplicationsOpen(award, At("2026-10-15T00:00:00Z")));  // no window
  award.applications_open_at = At("2026-10-01T00:00:00+03:00");
  civic::Violations half;
  civic::Validate(award, half);
  CHECK(HasField(half, "applications_close_at"));
  award.applications_close_at = At("2026-11-01T00:00:01+03:00");
  civic::Violations late;
  civic::Validate(award, late);
  CHECK(HasField(late, "applications_close_at"));
  award.applications_close_at = At("2026-10-25T00:00:00+03:00");
  civic::Violations ok;
  civic::Validate(award, ok);
  CHECK(ok.empty());
  CHECK(civic::ApplicationsOpen(award, At("2026-10-01T00:00:00+03:00")));
  CHECK_FALSE(civic::ApplicationsOpen(award, At("2026-10-25T00:00:00+03:00")));
  CHECK_FALSE(civic::ApplicationsOpen(award, At("2026-09-30T23:59:59+03:00")));
  award.status = "draft";
  CHECK_FALSE(civic::ApplicationsOpen(award, At("2026-10-10T00:00:00+03:00")));
}

TEST_CASE("Nominee card: a photo must be a JPEG, PNG or WebP of its declared type, size bound",
          "[award][nominee][photo]") {
  const std::string png = std::string("\x89PNG\r\n\x1A\n", 8) + "rest";
  const std::string jpeg = "\xFF\xD8\xFF\xE0rest";
  const std::string webp = std::string("RIFF\0\0\0\0WEBPVP8 ", 16);
  CHECK_FALSE(civic::PhotoError("image/png", png));
  CHECK_FALSE(civic::PhotoError("image/jpeg", jpeg));
  CHECK_FALSE(civic::PhotoError("image/webp", webp));
  CHECK(civic::PhotoError("image/jpeg", png));
  CHECK(civic::PhotoError("image/webp", std::string("RIFF\0\0\0\0WAVE", 12)));
  CHECK(civic::PhotoError("image/gif", "GIF89a"));
  CHECK(civic::PhotoError("image/png", ""));
  CHECK(civic::PhotoError("image/png", png + std::string(civic::kMaxPhotoBytes, 'x')));
  CHECK_FALSE(civic::PhotoError("image/png", png + std::string(civic::kMaxPhotoBytes - 12, 'x')));
}

TEST_CASE("Nominee card: links are http(s) without spaces, quotes or controls, at most 5",
          "[award][nominee]") {
  CHECK_FALSE(civic::LinkError("https://sarov.example/school?id=1"));
  CHECK_FALSE(civic::LinkError("http://a.example"));
  CHECK(civic::LinkError("javascript:alert(1)"));
  CHECK(civic::LinkError("ftp://files.example/a"));
  CHECK(civic::LinkError("https://a.example/a b"));
  CHECK(civic::LinkError("https://a.example/\"><script>"));
  CHECK(civic::LinkError("https://"));
  civic::Nominee nominee;
  nominee.kind = "project";
  nominee.project_title = "Парк у реки";
  nominee.name = "Парк у реки";
  nominee.links = {"https://a.example/1", "https://a.example/2", "https://a.example/3",
                   "https://a.example/4", "https://a.example/5", "https://a.example/6"};
  nominee.has_photo = true;
  civic::Violations violations;
  civic::Validate(nominee, violations);
  CHECK(HasField(violations, "links"));
  CHECK(HasField(violations, "photo_alt"));
}
