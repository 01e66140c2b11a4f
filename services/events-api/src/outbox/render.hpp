#pragma once

// How an object is shown to a subscriber: as the API's GET of it answers the subscription's
// key, or not at all when that key may not read it.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "access/caller.hpp"
#include "civic/sqlite/sqlite.hpp"

namespace civic::events::outbox {

// The program the object belongs to (none: no program, or no such object).
std::optional<int64_t> ProgramOf(sqlite::Database& db, std::string_view object_type,
                                 int64_t object_id);

// The object as `caller` would read it through the API (a registration with its person, whose
// contacts only a caller that may see them gets; an award with its laureates), or nothing when
// the caller's role may not call the object's GET route or its scope does not reach the row.
std::optional<nlohmann::json> Render(sqlite::Database& db, std::string_view object_type,
                                     int64_t object_id, const access::Caller& caller);

// The caller a subscription's key acts as: the key's role and scope now (admin for a key given
// at start, id 0); nothing when the key is revoked, expired or gone.
std::optional<access::Caller> KeyCaller(sqlite::Database& db, int64_t key_id, int64_t now_ms);

}  // namespace civic::events::outbox
