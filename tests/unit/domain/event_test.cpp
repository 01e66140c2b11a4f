#include <algorithm>
#include <catch2/catch.hpp>

#include "civic/domain/event.hpp"
#include "civic/domain/session.hpp"

namespace {

civic::Instant At(const char* text) { return *civic::ParseInstant(text); }

bool Has(const civic::Violations& violations, const std::string& field) {
  const auto& errors = violations.errors();
  return std::any_of(errors.begin(), errors.end(),
                     [&](const civic::FieldError& error) { return error.field == field; });
}

std::string ReasonOf(const civic::Violations& violations, const std::string& field) {
  for (const auto& error : violations.errors()) {
    if (error.field == field) {
      return error.reason;
    }
  }
  return "";
}

// The Yakutsk school of ТОС (seed 004): 8 September 2022, 10:00-18:00 Yakutsk time.
civic::Event YakutskSchool() {
  civic::Event event;
  event.kind = "school";
  event.title = "Школа территориальных общественных самоуправлений";
  event.city_id = 1;
  event.starts_at = At("2022-09-08T10:00:00+09:00");
  event.ends_at = At("2022-09-08T18:00:00+09:00");
  event.capacity = 80;
  event.time_zone = "Asia/Yakutsk";
  return event;
}

civic::Session CaseSession() {
  civic::Session session;
  session.id = 7;
  session.event_id = 1;
  session.kind = "case_session";
  session.title = "Развитие ТОС: «Третье место»";
  session.starts_at = At("2022-09-08T11:00:00+09:00");
  session.ends_at = At("2022-09-08T14:00:00+09:00");
  session.capacity = 40;
  return session;
}

}  // namespace

TEST_CASE("Event: a well-formed event breaks no rule", "[event]") {
  civic::Violations violations;
  civic::Validate(YakutskSchool(), violations);
  CHECK(violations.empty());
}

TEST_CASE("Event: end not after start, and a registration window past the start", "[event]") {
  auto event = YakutskSchool();
  event.ends_at = event.starts_at;
  event.registration_opens_at = At("2022-09-08T10:00:00+09:00");
  event.registration_closes_at = At("2022-09-08T09:00:00+09:00");
  civic::Violations violations;
  civic::Validate(event, violations);
  CHECK(Has(violations, "ends_at"));
  CHECK(Has(violations, "registration_opens_at"));  // not before closes
  CHECK_FALSE(Has(violations, "registration_closes_at"));

  event = YakutskSchool();
  event.registration_closes_at = At("2022-09-08T10:00:01+09:00");
  civic::Violations late;
  civic::Validate(event, late);
  CHECK(Has(late, "registration_closes_at"));

  event = YakutskSchool();
  event.registration_opens_at = At("2022-09-08T10:00:00+09:00");  // no close: before the start
  civic::Violations opens;
  civic::Validate(event, opens);
  CHECK(Has(opens, "registration_opens_at"));

  event = YakutskSchool();
  event.registration_opens_at = At("2022-09-01T00:00:00+09:00");
  event.registration_closes_at = event.starts_at;  // closing at the start is allowed
  civic::Violations fine;
  civic::Validate(event, fine);
  CHECK(fine.empty());
}

TEST_CASE("Event: kind, format, status, capacity and organisers are checked", "[event]") {
  auto event = YakutskSchool();
  event.kind = "party";
  event.format = "radio";
  event.status = "postponed";
  event.capacity = -1;
  event.title = "";
  event.organizer_ids = {3, 3};
  event.partner_ids = {4, 4, 5};
  event.organizer_ids.push_back(5);
  civic::Violations violations;
  civic::Validate(event, violations);
  for (const char* field : {"kind", "format", "status", "capacity", "title", "organizer_ids[1]",
                            "partner_ids[1]", "partner_ids[2]"}) {
    INFO(field);
    CHECK(Has(violations, field));
  }
  CHECK(ReasonOf(violations, "partner_ids[2]") == "is already an organizer");
}

TEST_CASE("Event: status moves draft -> published -> completed, and final states stay",
          "[event][status]") {
  CHECK_FALSE(civic::StatusChangeError("draft", "draft"));
  CHECK_FALSE(civic::StatusChangeError("draft", "published"));
  CHECK_FALSE(civic::StatusChangeError("draft", "cancelled"));
  CHECK_FALSE(civic::StatusChangeError("published", "cancelled"));
  CHECK_FALSE(civic::StatusChangeError("published", "completed"));
  CHECK(civic::StatusChangeError("draft", "completed"));
  CHECK(civic::StatusChangeError("published", "draft"));
  for (const char* final_status : {"cancelled", "completed"}) {
    for (const char* to : {"draft", "published", "cancelled", "completed"}) {
      if (std::string(to) == final_status) {
        continue;
      }
      const auto error = civic::StatusChangeError(final_status, to);
      REQUIRE(error);
      CHECK(error->find("is final") != std::string::npos);
      CHECK(error->find(std::string(final_status) + " to " + to) != std::string::npos);
    }
  }
  CHECK_FALSE(civic::InitialStatusError("draft"));
  CHECK_FALSE(civic::InitialStatusError("published"));
  CHECK(civic::InitialStatusError("completed"));
  CHECK(civic::InitialStatusError("cancelled"));
}

TEST_CASE("Event: only a draft may be deleted, others are cancelled instead", "[event]") {
  auto event = YakutskSchool();
  CHECK_FALSE(civic::DeleteError(event));
  for (const char* status : {"published", "cancelled", "completed"}) {
    event.status = status;
    const auto error = civic::DeleteError(event);
    REQUIRE(error);
    CHECK(error->find("cancel it instead") != std::string::npos);
  }
}

TEST_CASE("Event: local times are shown in the city's zone with its offset", "[event][time]") {
  CHECK(civic::LocalTime(At("2022-09-08T01:00:00Z"), "Asia/Yakutsk") ==
        "2022-09-08T10:00:00.000+09:00");
  CHECK(civic::LocalTime(At("2019-12-18T05:00:00Z"), "Asia/Yekaterinburg") ==
        "2019-12-18T10:00:00.000+05:00");
  CHECK(civic::LocalTime(At("2019-09-28T03:00:00Z"), "Asia/Novokuznetsk") ==
        "2019-09-28T10:00:00.000+07:00");
  CHECK(civic::LocalTime(At("2022-09-08T01:00:00Z"), "") == "2022-09-08T01:00:00.000Z");
}

TEST_CASE("Session: a person is a speaker or a moderator of a session, not both", "[session]") {
  auto session = CaseSession();
  session.speaker_ids = {11, 12, 11};
  session.moderator_ids = {12, 13};
  session.kind = "lecture";
  civic::Violations violations;
  civic::Validate(session, violations);
  CHECK(Has(violations, "speaker_ids[2]"));
  CHECK(Has(violations, "moderator_ids[0]"));
  CHECK_FALSE(Has(violations, "moderator_ids[1]"));
  CHECK(Has(violations, "kind"));
}

TEST_CASE("Session: times outside the event and a capacity above it are named", "[session]") {
  const auto event = YakutskSchool();
  civic::Violations fits;
  civic::ValidateInEvent(CaseSession(), event, fits);
  CHECK(fits.empty());

  auto session = CaseSession();
  session.starts_at = At("2022-09-08T09:30:00+09:00");
  session.ends_at = At("2022-09-08T18:30:00+09:00");
  session.capacity = 81;
  civic::Violations violations;
  civic::ValidateInEvent(session, event, violations);
  CHECK(ReasonOf(violations, "starts_at").find("2022-09-08T10:00:00.000+09:00") !=
        std::string::npos);
  CHECK(ReasonOf(violations, "ends_at").find("2022-09-08T18:00:00.000+09:00") != std::string::npos);
  CHECK(Has(violations, "capacity"));

  // Without an event capacity any session capacity fits; a whole session after the event does
  // not.
  auto unlimited = event;
  unlimited.capacity.reset();
  session = CaseSession();
  session.capacity = 5000;
  session.starts_at = At("2022-09-09T10:00:00+09:00");
  session.ends_at = At("2022-09-09T11:00:00+09:00");
  civic::Violations later;
  civic::ValidateInEvent(session, unlimited, later);
  CHECK_FALSE(Has(later, "capacity"));
  CHECK(Has(later, "starts_at"));
  CHECK(Has(later, "ends_at"));
}

TEST_CASE("Session: moving the event's times or capacity may not leave a session out",
          "[session][event]") {
  auto event = YakutskSchool();
  const std::vector<civic::Session> sessions = {CaseSession()};
  civic::Violations fits;
  civic::ValidateSessionsFit(event, sessions, fits);
  CHECK(fits.empty());

  event.starts_at = At("2022-09-08T12:00:00+09:00");
  event.ends_at = At("2022-09-08T13:00:00+09:00");
  event.capacity = 30;
  civic::Violations violations;
  civic::ValidateSessionsFit(event, sessions, violations);
  CHECK(ReasonOf(violations, "starts_at").find("session 7") != std::string::npos);
  CHECK(ReasonOf(violations, "starts_at").find("11:00:00.000+09:00") != std::string::npos);
  CHECK(ReasonOf(violations, "ends_at").find("14:00:00.000+09:00") != std::string::npos);
  CHECK(Has(violations, "capacity"));
}

TEST_CASE("Event: an event inside another lies within its time, and the parent keeps it inside",
          "[event][nested]") {
  // The school of ТОС inside the four-day forum «Якутск 4.0.0 Старт».
  civic::Event forum = YakutskSchool();
  forum.id = 1;
  forum.kind = "forum";
  forum.title = "Якутск 4.0.0 Старт";
  forum.starts_at = At("2022-09-06T10:00:00+09:00");
  forum.ends_at = At("2022-09-09T18:00:00+09:00");
  civic::Event school = YakutskSchool();
  school.id = 2;
  civic::Violations inside;
  civic::ValidateInParent(school, forum, inside);
  CHECK(inside.empty());

  school.ends_at = At("2022-09-10T12:00:00+09:00");
  civic::Violations late;
  civic::ValidateInParent(school, forum, late);
  CHECK(Has(late, "ends_at"));
  CHECK_FALSE(Has(late, "starts_at"));
  CHECK(ReasonOf(late, "ends_at").find("2022-09-09T18:00:00.000+09:00") != std::string::npos);

  // A forum moved to start on the 9th leaves the school (the 8th) out.
  school = YakutskSchool();
  school.id = 2;
  forum.starts_at = At("2022-09-09T09:00:00+09:00");
  civic::Violations moved;
  civic::ValidateChildrenFit(forum, {school}, moved);
  CHECK(Has(moved, "starts_at"));
  CHECK(ReasonOf(moved, "starts_at").find("event 2") != std::string::npos);
}
