#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "civic/domain/time.hpp"
#include "civic/domain/validation.hpp"

namespace civic {

// forum, seminar, conference, rally, school, module, case_session, ceremony, webinar
const std::vector<std::string>& EventKinds();
// offline, online, hybrid
const std::vector<std::string>& EventFormats();
// draft, published, cancelled, completed
const std::vector<std::string>& EventStatuses();

// A forum, conference, rally, school... held in a city at instants shown in the city's zone
// ("Школа ТОС", Якутск, 2022-09-08T10:00+09:00).
struct Event {
  int64_t id = 0;
  std::string kind;                        // one of EventKinds()
  std::string title;                       // 1..300 characters
  std::string description;                 // 0..10000 characters
  std::optional<int64_t> program_id;       // the program it belongs to
  std::optional<int64_t> parent_event_id;  // the event it is part of (a school in a forum)
  int64_t city_id = 0;                     // where it is held; its zone is the event's zone
  std::string venue;                       // 0..500 characters
  std::string format = "offline";          // one of EventFormats()
  Instant starts_at{};
  Instant ends_at{};                              // after starts_at
  std::optional<int64_t> capacity;                // 0..1,000,000; none = unlimited
  std::optional<Instant> registration_opens_at;   // before registration_closes_at (or the start)
  std::optional<Instant> registration_closes_at;  // not after starts_at
  std::string status = "draft";                   // one of EventStatuses(); see StatusChangeError
  std::vector<int64_t> organizer_ids;             // organizations, no repeats
  std::vector<int64_t> partner_ids;  // organizations, no repeats, none also an organizer
  std::string time_zone;             // derived: the city's IANA zone (empty until known)
  Instant created_at{};
  Instant updated_at{};
};

// Appends every rule the event breaks on its own (without other rows) to `violations`:
// ValidateFields and ValidateSchedule.
void Validate(const Event& event, Violations& violations);
// The rules of single members (kind, title, capacity, organisers...).
void ValidateFields(const Event& event, Violations& violations);
// The rules between its instants: end after start, the registration window before the start.
void ValidateSchedule(const Event& event, Violations& violations);

// Appends why `event` does not lie within `parent`'s time (on `starts_at` / `ends_at`, naming
// the parent), shown in the parent's zone.
void ValidateInParent(const Event& event, const Event& parent, Violations& violations);
// Appends why `event`'s (new) times leave out one of its `children` (on `starts_at` /
// `ends_at`, naming the child).
void ValidateChildrenFit(const Event& event, const std::vector<Event>& children,
                         Violations& violations);

// Why an event may not go from status `from` to `to`, or nothing when it may. Staying in the
// same status is always allowed. draft -> published | cancelled; published -> cancelled |
// completed; cancelled and completed are final.
std::optional<std::string> StatusChangeError(std::string_view from, std::string_view to);
// Why a new event may not start in `status` (only draft or published), or nothing.
std::optional<std::string> InitialStatusError(std::string_view status);
// Why the event may not be deleted, or nothing: only drafts are deleted; anything else stays
// for history and is cancelled instead.
std::optional<std::string> DeleteError(const Event& event);

// An instant as people of the event's city read it: "2026-03-05T10:00:00.000+09:00", or UTC
// when the zone is not known.
std::string LocalTime(Instant instant, const std::string& zone);

}  // namespace civic
