#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "civic/domain/award.hpp"
#include "civic/sqlite/sqlite.hpp"
#include "rest/conventions.hpp"
#include "rest/json_reader.hpp"

namespace civic::events::resources {

// /v1/awards: an award edition with its voting window and rules. Its status moves forward only;
// `closed` is reached through POST /v1/awards/{id}/close (resources/award_close.hpp). Each
// award row carries a `version` for the ballot's sync (not part of this representation): every
// write to the award, its nominations or its nominees increments it in the same transaction.
struct Awards {
  using Model = Award;
  static constexpr const char* kName = "award";
  static constexpr const char* kPath = "/v1/awards";

  static Result<Award> FromJson(const nlohmann::json& body, rest::JsonReader::Mode mode);
  static nlohmann::json ToJson(const Award& award);
  // Also the rules that need the stored award: the status change, and a closed award's frozen
  // fields.
  // Once voting has opened, the rules the votes were cast under stay: voting_opens_at and
  // max_choices_per_nomination no longer change, and voting_closes_at moves to now or later only.
  static void CheckReferences(sqlite::Database& db, const Award& award, Violations& violations,
                              Instant now);
  // The program the award belongs to (organizers write what belongs to theirs).
  static std::optional<int64_t> ProgramOf(sqlite::Database& db, const Award& award);
  static std::optional<Award> Get(sqlite::Database& db, int64_t id);
  static void Insert(sqlite::Database& db, Award& award);
  static void Update(sqlite::Database& db, const Award& award);
  static std::optional<std::string> DeleteConflict(sqlite::Database& db, int64_t id, Instant now);
  static void Delete(sqlite::Database& db, int64_t id);
  static const rest::ListSpec& List();
  static Award FromRow(sqlite::Statement& row);
};

// Increments the sync version of award `award_id` (no-op when there is none).
// REQUIRES: inside the write transaction that makes the change.
void BumpAwardVersion(sqlite::Database& db, int64_t award_id);

// The award that nomination `nomination_id` belongs to, if the nomination exists.
std::optional<int64_t> AwardOfNomination(sqlite::Database& db, int64_t nomination_id);

// "The award N is closed; ..." when the award exists and is closed or archived.
std::optional<std::string> FinalAwardReason(sqlite::Database& db, int64_t award_id,
                                            const std::string& what);

}  // namespace civic::events::resources
