#pragma once

// The one place where registrations change state: a person admitted to an event or a session
// (confirmed while places remain, else waitlisted), cancelled, or moved up from the waitlist.
// Handlers check who may ask and whether the request is valid, then call these inside their
// write transaction; each returns what changed, so that whoever must hear of a change (the audit
// trail, notifications) learns it here.
//
// Every function REQUIRES: a write transaction is open on `db` (Store::Write); the rows named
// exist.

#include <cstdint>
#include <optional>
#include <vector>

#include "civic/domain/registration.hpp"
#include "civic/sqlite/sqlite.hpp"

namespace civic::events::resources {

// Confirmed registrations of the event (those holding a place).
int64_t ConfirmedAtEvent(sqlite::Database& db, int64_t event_id);
// Confirmed registrations of the session.
int64_t ConfirmedAtSession(sqlite::Database& db, int64_t session_id);

// Stores a new registration of `person_id` for `event` (made for `team_id` when a team
// registered whole): confirmed while the event has places, else waitlisted. REQUIRES: the event
// takes registrations now and the person holds none.
Registration AdmitToEvent(sqlite::Database& db, const Event& event, int64_t person_id,
                          std::optional<int64_t> team_id, Instant now);

// Cancels `registration` (kept for history) and the person's session registrations that rest on
// it; a place it held goes to the event's waitlist, in order, and so do the sessions' places.
// Returns the session registrations it cancelled. REQUIRES: CancelError(registration) is nothing.
std::vector<SessionRegistration> CancelEventRegistration(sqlite::Database& db,
                                                         Registration& registration, Instant now);

// Confirms the oldest waitlisted registrations of a published event while it has places.
// Nothing moves at an event that is not published. Returns the ids confirmed, in order.
std::vector<int64_t> PromoteEventWaitlist(sqlite::Database& db, const Event& event, Instant now);

// Stores a new registration of the person of `registration` (confirmed, for the session's event)
// for `session`: confirmed while the session has places (always without a capacity), else
// waitlisted. REQUIRES: the session takes sign-ups, the person holds none in it, and no
// overlapping session holds them.
SessionRegistration AdmitToSession(sqlite::Database& db, const Session& session,
                                   const Registration& registration, Instant now);

// Cancels a session registration; a place it held goes to the session's waitlist, in order.
// Returns the ids confirmed from the waitlist.
std::vector<int64_t> CancelSessionRegistration(sqlite::Database& db,
                                               SessionRegistration& registration, Instant now);

// Confirms the oldest waitlisted registrations of `session` while it has places, if its event is
// published. Returns the ids confirmed, in order.
std::vector<int64_t> PromoteSessionWaitlist(sqlite::Database& db, int64_t session_id, Instant now);

}  // namespace civic::events::resources
