// The rules of registrations: who takes a place, who waits, who checks in.
#include <catch2/catch.hpp>

#include "civic/domain/registration.hpp"

namespace {

civic::Instant At(const char* text) { return *civic::ParseInstant(text); }

// The Yakutsk school of ТОС (seed 004): 8 September 2022, 10:00 Yakutsk time, online registration
// from 1 September until the evening before.
civic::Event YakutskSchool() {
  civic::Event event;
  event.kind = "school";
  event.title = "Школа ТОС";
  event.status = "published";
  event.time_zone = "Asia/Yakutsk";
  event.starts_at = At("2022-09-08T10:00:00+09:00");
  event.ends_at = At("2022-09-08T18:00:00+09:00");
  event.registration_opens_at = At("2022-09-01T09:00:00+09:00");
  event.registration_closes_at = At("2022-09-07T21:00:00+09:00");
  return event;
}

}  // namespace

TEST_CASE("Registration: a published event takes registrations inside its window only",
          "[registration]") {
  civic::Event event = YakutskSchool();
  CHECK_FALSE(civic::RegistrationClosedReason(event, At("2022-09-01T09:00:00+09:00")));
  CHECK_FALSE(civic::RegistrationClosedReason(event, At("2022-09-07T20:59:59+09:00")));
  const auto early = civic::RegistrationClosedReason(event, At("2022-09-01T08:59:59+09:00"));
  REQUIRE(early);
  CHECK(*early == "Registration opens at 2022-09-01T09:00:00.000+09:00.");
  CHECK(civic::RegistrationClosedReason(event, At("2022-09-07T21:00:00+09:00")));
  // Without a closing time, registration ends when the event starts.
  event.registration_closes_at.reset();
  CHECK_FALSE(civic::RegistrationClosedReason(event, At("2022-09-08T09:59:59+09:00")));
  CHECK(civic::RegistrationClosedReason(event, At("2022-09-08T10:00:00+09:00")));
  // Only a published event.
  for (const char* status : {"draft", "cancelled", "completed"}) {
    event.status = status;
    CHECK(civic::RegistrationClosedReason(event, At("2022-09-02T12:00:00+09:00")));
  }
}

TEST_CASE("Registration: places go to the first comers, the rest wait and fill freed places",
          "[registration]") {
  CHECK(civic::AdmissionStatus(2, 0) == "confirmed");
  CHECK(civic::AdmissionStatus(2, 1) == "confirmed");
  CHECK(civic::AdmissionStatus(2, 2) == "waitlisted");
  CHECK(civic::AdmissionStatus(0, 0) == "waitlisted");
  CHECK(civic::AdmissionStatus(std::nullopt, 1000000) == "confirmed");
  CHECK(civic::PlacesToFill(5, 3, 10) == 2);
  CHECK(civic::PlacesToFill(5, 3, 1) == 1);
  CHECK(civic::PlacesToFill(5, 5, 10) == 0);
  CHECK(civic::PlacesToFill(2, 5, 10) == 0);  // over capacity (never stored, but safe)
  CHECK(civic::PlacesToFill(std::nullopt, 5, 7) == 7);
}

TEST_CASE("Registration: only a confirmed registration checks in, and an attended one stays",
          "[registration]") {
  const civic::Event event = YakutskSchool();
  civic::Registration registration;
  registration.status = "confirmed";
  CHECK_FALSE(civic::CheckInError(registration, event));
  CHECK_FALSE(civic::CancelError(registration));
  registration.checked_in_at = At("2022-09-08T09:40:00+09:00");
  CHECK(civic::CancelError(registration));
  registration.checked_in_at.reset();
  registration.status = "waitlisted";
  CHECK(civic::CheckInError(registration, event));
  CHECK_FALSE(civic::CancelError(registration));
  registration.status = "cancelled";
  CHECK(civic::CheckInError(registration, event));
  CHECK(civic::CancelError(registration));
  civic::Event cancelled = event;
  cancelled.status = "cancelled";
  registration.status = "confirmed";
  CHECK(civic::CheckInError(registration, cancelled));
}

TEST_CASE("Session sign-up: open while the event is published and the session has not started",
          "[registration][sessions]") {
  civic::Event event;
  event.status = "published";
  event.time_zone = "Asia/Novokuznetsk";
  civic::Session session;
  session.starts_at = *civic::ParseInstant("2026-06-05T10:00:00+07:00");
  session.ends_at = *civic::ParseInstant("2026-06-05T11:00:00+07:00");
  CHECK_FALSE(civic::SessionSignUpClosedReason(event, session,
                                               *civic::ParseInstant("2026-06-05T09:59:59+07:00")));
  auto started = civic::SessionSignUpClosedReason(
      event, session, *civic::ParseInstant("2026-06-05T10:00:00+07:00"));
  REQUIRE(started);
  CHECK(started->find("10:00:00.000+07:00") != std::string::npos);
  event.status = "cancelled";
  CHECK(civic::SessionSignUpClosedReason(event, session,
                                         *civic::ParseInstant("2026-06-01T10:00:00+07:00")));
}

TEST_CASE(
    "Session sign-up: spans overlap when they share an instant, not when one ends as the "
    "other starts",
    "[registration][sessions]") {
  const auto at = [](const char* text) { return *civic::ParseInstant(text); };
  const auto ten = at("2026-06-05T10:00:00Z");
  const auto eleven = at("2026-06-05T11:00:00Z");
  const auto noon = at("2026-06-05T12:00:00Z");
  CHECK(civic::Overlaps(ten, noon, eleven, at("2026-06-05T13:00:00Z")));
  CHECK(civic::Overlaps(ten, noon, at("2026-06-05T10:30:00Z"), eleven));
  CHECK_FALSE(civic::Overlaps(ten, eleven, eleven, noon));
  CHECK_FALSE(civic::Overlaps(eleven, noon, ten, eleven));
}
