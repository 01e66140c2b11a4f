#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "civic/domain/event.hpp"
#include "civic/domain/time.hpp"
#include "civic/domain/validation.hpp"

namespace civic {

// plenary, section, workshop, master_class, talk_show, consultation, case_session
const std::vector<std::string>& SessionKinds();

// A part of an event's programme: the plenary, a sectional platform, a master class...
struct Session {
  int64_t id = 0;
  int64_t event_id = 0;     // fixed once created
  std::string kind;         // one of SessionKinds()
  std::string title;        // 1..300 characters
  std::string description;  // 0..5000 characters
  Instant starts_at{};
  Instant ends_at{};                   // after starts_at; both inside the event
  std::string room;                    // 0..200 characters
  std::optional<int64_t> capacity;     // 0..1,000,000, not above the event's; none = the event's
  std::vector<int64_t> speaker_ids;    // people, no repeats
  std::vector<int64_t> moderator_ids;  // people, no repeats, none also a speaker
  std::string time_zone;               // derived: the event city's zone (empty until known)
  Instant created_at{};
  Instant updated_at{};
};

// Appends every rule the session breaks on its own to `violations`.
void Validate(const Session& session, Violations& violations);

// Appends what does not fit in `event`: times outside the event (on `starts_at` / `ends_at`)
// and a capacity above the event's (on `capacity`).
void ValidateInEvent(const Session& session, const Event& event, Violations& violations);

// Appends why the event's (new) times or capacity leave out one of its `sessions`: on
// `starts_at`, `ends_at` or `capacity` of the event, naming the session.
void ValidateSessionsFit(const Event& event, const std::vector<Session>& sessions,
                         Violations& violations);

}  // namespace civic
