#pragma once

// The transactional outbox (README, "Webhooks"): what happened is written in the same SQLite
// transaction as the change that causes it, with one delivery per subscriber, so a change that
// rolls back sends nothing and a crash loses nothing committed. outbox/worker.hpp sends them.

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "civic/domain/time.hpp"
#include "civic/sqlite/sqlite.hpp"

namespace civic::events::mail {
class Composer;
}

namespace civic::events::outbox {

// Every event type a subscription may ask for, in the order the README lists them.
const std::vector<std::string>& EventTypes();

// The event types a change of an object means, from its representation before and after
// the change (null before: created; null after: deleted), as audit::Record receives them:
// "registration.created", "event.cancelled", ... Empty for objects and changes no event names.
// A registration's cancellation is not among them: the registration flow
// (resources/registration_flow.hpp) records it itself, before the promotions it causes.
std::vector<std::string> TypesOf(std::string_view object_type, const nlohmann::json& before,
                                 const nlohmann::json& after);

// Records event `type` about the object (`object_type`, `object_id`) in the write transaction
// `db` that made the change, after the change is written: the event, and one delivery for each
// enabled subscription that asks for `type`, whose program (if any) is the object's, and whose
// key may read the object, with the body the API would show that key (never more); and, when
// e-mail is configured, one delivery per e-mail the event means. Wakes the delivery worker.
void Record(sqlite::Database& db, std::string_view type, std::string_view object_type,
            int64_t object_id);

// Record for each of TypesOf(object_type, before, after).
void RecordChange(sqlite::Database& db, std::string_view object_type, int64_t object_id,
                  const nlohmann::json& before, const nlohmann::json& after);

// The clock the outbox stamps events with (the system clock until set). Call once at start,
// before requests; `clock` must outlive every Record.
void SetClock(const Clock& clock);

// The e-mails to write beside each event (README, "E-mail"); none until set. Call once at start,
// before requests; `composer` must outlive every Record.
void SetMail(const mail::Composer* composer);

// Called after Record; set by the delivery worker (nothing until set). Thread-safe.
void SetWakeUp(std::function<void()> wake_up);

// "evt_" / "msg_" followed by 32 random hex digits.
std::string NewId(std::string_view prefix);

}  // namespace civic::events::outbox
