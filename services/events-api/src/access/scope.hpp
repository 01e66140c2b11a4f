#pragma once

// Object-level access: which rows a caller reads, which objects it writes, whose contacts it
// sees (docs/security.md). The route-level gate (which roles call a route) is access/policy.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "access/caller.hpp"
#include "civic/http/message.hpp"
#include "civic/sqlite/sqlite.hpp"
#include "rest/conventions.hpp"

namespace civic::events::access {

// The condition on a resource's rows that `caller` may read (empty sql: every row).
rest::SqlWithParams ReadCondition(const rest::RowAccess& access, const Caller& caller);

// Whether `caller` may read row `id` of `table` under `access`. REQUIRES: the row exists.
bool MayRead(sqlite::Database& db, const std::string& table, const rest::RowAccess& access,
             int64_t id, const Caller& caller);

// Whether `caller` may write an object that belongs to `program`: admins anything; organizers
// and frontends objects of their programs; an object of no program only admins.
bool MayWriteIn(const Caller& caller, std::optional<int64_t> program);

// 401 with WWW-Authenticate: Bearer (RFC 6750; error="invalid_token" when a token was given).
http::Response Unauthorized(std::string detail, bool token_given);
// 403 naming what the caller lacks.
http::Response Forbidden(std::string detail);
// The answer to a write `caller` may not make on the `what` with id `id`: 404 when the caller
// may not read it either (its existence is not the caller's to know), else 403.
http::Response WriteDenied(const Caller& caller, bool readable, std::string_view what,
                           std::string_view id);

// Whether person `person_id` takes part in one of `programs`: as a team member, registrant,
// speaker or moderator, nominee, assigned expert or reviewer.
bool PersonInPrograms(sqlite::Database& db, int64_t person_id,
                      const std::vector<int64_t>& programs);
// Whether `caller` may see person `person_id`'s contacts (and change the person): admins, and
// organizers of a program that holds them (NoteContactHolders).
bool MaySeeContacts(sqlite::Database& db, const Caller& caller, int64_t person_id);
// MaySeeContacts as an SQL condition on the person id `person` (a column, e.g. "p.id"), for
// `caller`: for queries that decide it row by row (exports).
std::string ContactsVisibleSql(const Caller& caller, std::string_view person);

// In the transaction of a change audited as (`object_type`, `object_id`, `before`, `after`),
// notes which programs now hold a person's contacts (docs/security.md, "Contacts"): a person
// created with an organizer's or frontend's key, by the key's programs; a person linked to a
// program (a registration, team member, session speaker or moderator, nominee, review or
// assigned expert) by an admin, by the person (an expert's own review) or by an organizer that
// already holds the contacts, by that program. A link an organizer makes alone, or a frontend
// makes, gives nothing: otherwise any organizer could read anyone's contacts by nominating them
// in a draft of its own.
void NoteContactHolders(sqlite::Database& db, const Caller& caller, std::string_view object_type,
                        int64_t object_id, const nlohmann::json& before,
                        const nlohmann::json& after);

// "1,2,3": ids for an SQL IN list (integers, never text from a request).
std::string IdList(const std::vector<int64_t>& ids);

}  // namespace civic::events::access
