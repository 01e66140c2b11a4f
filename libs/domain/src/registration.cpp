#include "civic/domain/registration.hpp"

#include <algorithm>

namespace civic {

const std::vector<std::string>& RegistrationStatuses() {
  static const std::vector<std::string> kStatuses = {"confirmed", "waitlisted", "cancelled"};
  return kStatuses;
}

std::optional<std::string> RegistrationClosedReason(const Event& event, Instant now) {
  if (event.status != "published") {
    return "The event is " + event.status + "; only a published event takes registrations.";
  }
  if (event.registration_opens_at && now < *event.registration_opens_at) {
    return "Registration opens at " + LocalTime(*event.registration_opens_at, event.time_zone) +
           ".";
  }
  if (event.registration_closes_at) {
    if (now >= *event.registration_closes_at) {
      return "Registration closed at " + LocalTime(*event.registration_closes_at, event.time_zone) +
             ".";
    }
  } else if (now >= event.starts_at) {
    return "The event started at " + LocalTime(event.starts_at, event.time_zone) +
           "; registration ends when it starts.";
  }
  return std::nullopt;
}

std::string_view AdmissionStatus(const std::optional<int64_t>& capacity, int64_t confirmed) {
  return !capacity || confirmed < *capacity ? "confirmed" : "waitlisted";
}

int64_t PlacesToFill(const std::optional<int64_t>& capacity, int64_t confirmed,
                     int64_t waitlisted) {
  if (!capacity) {
    return waitlisted;
  }
  return std::clamp<int64_t>(*capacity - confirmed, 0, waitlisted);
}

std::optional<std::string> CancelError(const Registration& registration) {
  if (registration.status == "cancelled") {
    return "The registration is already cancelled.";
  }
  if (registration.checked_in_at) {
    return "The person has checked in; an attended registration is kept.";
  }
  return std::nullopt;
}

std::optional<std::string> CheckInError(const Registration& registration, const Event& event) {
  if (registration.status != "confirmed") {
    return "Only a confirmed registration checks in; this one is " + registration.status + ".";
  }
  if (event.status != "published" && event.status != "completed") {
    return "The event is " + event.status + "; nobody checks in.";
  }
  return std::nullopt;
}

EventDays DaysOf(const Event& event) {
  EventDays days;
  days.first = LocalDate(event.starts_at, event.time_zone);
  // ends_at is the first instant after the event: its last instant is a millisecond earlier.
  const Instant last = event.ends_at > event.starts_at
                           ? event.ends_at - std::chrono::milliseconds(1)
                           : event.starts_at;
  days.last = LocalDate(last, event.time_zone);
  return days;
}

Result<std::string> CheckInDay(const Event& event, const std::optional<std::string>& asked,
                               Instant now) {
  const EventDays days = DaysOf(event);
  const std::string zone = event.time_zone.empty() ? "UTC" : event.time_zone;
  const std::string span =
      days.first == days.last ? days.first : "from " + days.first + " to " + days.last;
  if (asked) {
    if (!IsIsoDate(*asked)) {
      return Error::Invalid("day", "must be a date YYYY-MM-DD");
    }
    if (*asked < days.first || *asked > days.last) {
      return Error::Invalid(
          "day", "must be a day of the event: " + span + " (local dates in " + zone + ")");
    }
    return *asked;
  }
  if (days.first == days.last) {
    return days.first;
  }
  const std::string today = LocalDate(now, event.time_zone);
  if (today >= days.first && today <= days.last) {
    return today;
  }
  return Error::Invalid("day", "is required: the event runs several days (" + span +
                                   ", local dates in " + zone + ") and today, " + today +
                                   ", is none of them");
}

std::optional<std::string> SessionSignUpClosedReason(const Event& event, const Session& session,
                                                     Instant now) {
  if (event.status != "published") {
    return "The event is " + event.status + "; only a published event's sessions take sign-ups.";
  }
  if (now >= session.starts_at) {
    return "The session started at " + LocalTime(session.starts_at, event.time_zone) +
           "; sign-up ends when it starts.";
  }
  return std::nullopt;
}

bool Overlaps(Instant a_start, Instant a_end, Instant b_start, Instant b_end) {
  return a_start < b_end && b_start < a_end;
}

std::optional<std::string> CancelError(const SessionRegistration& registration) {
  if (registration.status == "cancelled") {
    return "The session registration is already cancelled.";
  }
  return std::nullopt;
}

}  // namespace civic
