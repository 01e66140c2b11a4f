#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "civic/domain/time.hpp"
#include "civic/http/router.hpp"
#include "civic/sqlite/sqlite.hpp"
#include "rest/conventions.hpp"
#include "storage/store.hpp"

namespace civic::events::resources {

// A resident's application for a nomination of an award (issue #29).
struct Application {
  int64_t id = 0;
  int64_t award_id = 0;
  int64_t nomination_id = 0;
  std::string kind = "person";       // person | project
  std::optional<int64_t> person_id;  // an existing person (a person's application), or none
  std::string name;                  // the name voters would see
  std::string project_title;         // a project's title; empty for a person
  int64_t city_id = 0;
  std::string summary;
  std::string story;
  std::vector<std::string> links;
  std::string project_summary;
  std::string applicant_name;  // private, with the contact
  std::string applicant_email;
  std::string applicant_phone;
  Instant consent_at{};
  std::string consent_text;           // the statement the applicant agreed to, as shown to them
  std::string status = "submitted";   // submitted | changes_requested | approved | rejected
  std::string reason;                 // the moderator's reason (rejected, changes requested)
  std::optional<int64_t> nominee_id;  // once approved
  std::string duplicate_key;          // the same candidate in a nomination has the same key
  Instant created_at{};
  Instant updated_at{};
};

const std::vector<std::string>& ApplicationStatuses();

// Applications and their moderation:
//   POST /v1/awards/{id}/applications          frontend (of the award's program), admin
//   GET  /v1/application-status                anyone with the status token (header
//                                              Application-Token), nothing else
//   PATCH /v1/application-status               the same: changes asked for, then submitted again
//   GET  /v1/applications, /v1/applications/{id}  organizers of the award's program, admin
//   POST /v1/applications/{id}/approve | reject | request-changes   organizers, admin
//   GET  /v1/awards/{id}/application-stats     organizers, admin
// Every decision is in the audit trail; approving creates the nominee (and, for a new person,
// the person) in the same transaction.
void AddApplicationRoutes(http::Router& router, Store& store, const Clock& clock);

// The program of application `id` (its award's), for the outbox.
std::optional<int64_t> ProgramOfApplication(sqlite::Database& db, int64_t id);
// Application `id` as GET /v1/applications/{id} shows it to access::Current(); nothing when that
// caller may not read it.
std::optional<nlohmann::json> ApplicationAsShown(sqlite::Database& db, int64_t id);

}  // namespace civic::events::resources
