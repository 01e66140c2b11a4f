#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "civic/domain/award.hpp"
#include "civic/http/router.hpp"
#include "civic/sqlite/sqlite.hpp"
#include "rest/conventions.hpp"
#include "rest/json_reader.hpp"
#include "storage/store.hpp"

namespace civic::events::resources {

// /v1/nominees (and GET /v1/awards/{id}/nominees, /v1/nominations/{id}/nominees): a person or a
// project nominated in a nomination, from a city. `award_id` is read-only: the nomination's
// award (a nominee may move between nominations of the same award only). Once the award's
// voting opened a nominee is withdrawn (status), never deleted; once the award is closed the
// nominee is final. Every write bumps the award's sync version.
struct Nominees {
  using Model = Nominee;
  static constexpr const char* kName = "nominee";
  static constexpr const char* kPath = "/v1/nominees";

  static Result<Nominee> FromJson(const nlohmann::json& body, rest::JsonReader::Mode mode);
  static nlohmann::json ToJson(const Nominee& nominee);
  // Once the award's voting has opened, a nominee stays in its nomination (its votes were cast
  // there).
  static void CheckReferences(sqlite::Database& db, const Nominee& nominee, Violations& violations,
                              Instant now);
  // The program the nominee belongs to (organizers write what belongs to theirs).
  static std::optional<int64_t> ProgramOf(sqlite::Database& db, const Nominee& nominee);
  static std::optional<Nominee> Get(sqlite::Database& db, int64_t id);
  // Also sets nominee.award_id from the nomination.
  static void Insert(sqlite::Database& db, Nominee& nominee);
  static void Update(sqlite::Database& db, const Nominee& nominee);
  static std::optional<std::string> DeleteConflict(sqlite::Database& db, int64_t id, Instant now);
  static void Delete(sqlite::Database& db, int64_t id);
  static const rest::ListSpec& List();
  static Nominee FromRow(sqlite::Statement& row);
  // Sets the derived has_photo from the stored photo (nothing for a new nominee).
  static void Resolve(sqlite::Database& db, Nominee& nominee);
  // "/v1/nominees/{id}/photo".
  static std::string PhotoPath(int64_t id);
};

// PUT, GET and DELETE /v1/nominees/{id}/photo: the nominee's photo, uploaded as the body
// (image/jpeg, image/png or image/webp, at most kMaxPhotoBytes, bytes of the declared type) and
// kept by the service. An upload needs the nominee's photo_alt. Writes bump the award's sync
// version (the snapshot names the photo); the same rules as a PATCH of the nominee (final
// awards refuse).
void AddNomineePhotoRoutes(http::Router& router, Store& store, const Clock& clock);

}  // namespace civic::events::resources
