#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "civic/domain/event.hpp"
#include "civic/domain/session.hpp"
#include "civic/domain/time.hpp"

namespace civic {

// confirmed, waitlisted, cancelled
const std::vector<std::string>& RegistrationStatuses();

// A person's place at an event. Past the event's capacity a registration waits in line
// (`waitlisted`) and is confirmed, in the order of registration, when a place frees. A
// cancelled registration stays for history; check-in marks attendance of a confirmed one.
struct Registration {
  int64_t id = 0;
  int64_t event_id = 0;
  int64_t person_id = 0;
  std::optional<int64_t> team_id;    // the team it was made for, when a team registered whole
  std::string status = "confirmed";  // one of RegistrationStatuses()
  std::optional<Instant> checked_in_at;
  std::optional<Instant> cancelled_at;
  Instant created_at{};
  Instant updated_at{};
};

// Why `event` takes no registrations at `now`, or nothing when it does: it must be published,
// and `now` inside its registration window (from registration_opens_at, when set, until
// registration_closes_at, or until the event starts when that is not set).
std::optional<std::string> RegistrationClosedReason(const Event& event, Instant now);

// The status of a new registration when `confirmed` registrations already hold places:
// confirmed while places remain (always, without a capacity), else waitlisted.
std::string_view AdmissionStatus(const std::optional<int64_t>& capacity, int64_t confirmed);

// How many waitlisted registrations to confirm when `confirmed` hold places: the free places
// (all of the waitlist without a capacity).
int64_t PlacesToFill(const std::optional<int64_t>& capacity, int64_t confirmed, int64_t waitlisted);

// Why the registration may not be cancelled, or nothing: not once cancelled, nor after check-in.
std::optional<std::string> CancelError(const Registration& registration);

// Why the registration may not be checked in at the event, or nothing: only a confirmed one, at
// an event that is published or completed. Checking in again is allowed (and changes nothing).
std::optional<std::string> CheckInError(const Registration& registration, const Event& event);

// The days of an event: the local dates (in the event's zone, `event.time_zone`) from its start
// to its last instant (an event ending at midnight does not take the next day).
struct EventDays {
  std::string first;  // "YYYY-MM-DD"
  std::string last;   // "YYYY-MM-DD", not before `first`
};
EventDays DaysOf(const Event& event);

// The day a check-in at `event` counts for: `asked` when given, which must be a date of the
// event (else a violation on field "day"); without it, the event's only day, or for an event of
// several days the local date of `now` when that is one of its days (else a violation on "day"
// asking for it).
Result<std::string> CheckInDay(const Event& event, const std::optional<std::string>& asked,
                               Instant now);

// A person's place at one session (a master class, a consultation) of an event they hold a
// confirmed registration for. Past the session's capacity it waits in line like an event's; it
// is cancelled with the event registration it rests on.
struct SessionRegistration {
  int64_t id = 0;
  int64_t session_id = 0;
  int64_t registration_id = 0;  // the person's confirmed registration for the session's event
  int64_t person_id = 0;
  std::string status = "confirmed";  // one of RegistrationStatuses()
  std::optional<Instant> cancelled_at;
  Instant created_at{};
  Instant updated_at{};
};

// Why `session` of `event` takes no sign-ups at `now`, or nothing when it does: the event must be
// published and the session not yet started.
std::optional<std::string> SessionSignUpClosedReason(const Event& event, const Session& session,
                                                     Instant now);

// Whether the time spans [a_start, a_end) and [b_start, b_end) share an instant.
bool Overlaps(Instant a_start, Instant a_end, Instant b_start, Instant b_end);

// Why the session registration may not be cancelled, or nothing: not once cancelled.
std::optional<std::string> CancelError(const SessionRegistration& registration);

}  // namespace civic
