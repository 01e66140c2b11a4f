#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "civic/domain/time.hpp"
#include "civic/domain/validation.hpp"

namespace civic {

// draft, published, voting, closed, archived: the order an award moves in (forward only).
const std::vector<std::string>& AwardStatuses();
// live (anyone sees results during voting), hidden_until_close (only admins before the close).
const std::vector<std::string>& ResultsVisibilities();
const std::vector<std::string>& NomineeKinds();     // person, project
const std::vector<std::string>& NomineeStatuses();  // active, withdrawn

// A people's-choice award edition ("Новые Созидатели" 2026). Voters choose among the nominees of
// each nomination while the window is open; the ballot service takes the votes.
struct Award {
  int64_t id = 0;
  std::string title;                  // 1..300 characters
  int64_t edition_year = 0;           // 2000..2100
  std::optional<int64_t> program_id;  // the program that runs it
  std::string description;            // 0..5000 characters
  Instant voting_opens_at{};          // before voting_closes_at
  Instant voting_closes_at{};
  int64_t max_choices_per_nomination = 1;                 // K: 1..10 nominees per voter
  std::string results_visibility = "hidden_until_close";  // one of ResultsVisibilities()
  std::string status = "draft";                           // one of AwardStatuses()
  // Residents apply for nominations in [applications_open_at, applications_close_at): both or
  // neither (no public applications), and the window ends by voting_opens_at.
  std::optional<Instant> applications_open_at = {};
  std::optional<Instant> applications_close_at = {};
  Instant created_at{};
  Instant updated_at{};
};

void Validate(const Award& award, Violations& violations);

// Whether residents may apply for the award's nominations at `now`: it is published or voting
// and `now` is inside its application window.
bool ApplicationsOpen(const Award& award, Instant now);

// Why the status may not go from `from` to `to` through an edit (PATCH), or nothing when it may.
// `from` is empty for a new award. Statuses only move forward; `closed` is reached only through
// the close action (which records the laureates); `archived` only from `closed` (or a draft).
std::optional<std::string> StatusChangeError(const std::string& from, const std::string& to);

// Whether voting on the award has begun at `now`: it is closed or archived, or it is published
// or voting and the window has opened (the ballot takes no vote before `voting_opens_at`). From
// then on its nominations and nominees are kept (the ballot may hold votes for them): a nominee is
// withdrawn, never deleted.
bool VotingHasOpened(const Award& award, Instant now);

// Closed or archived: the results are recorded and the nominations and nominees are final.
bool IsFinal(const Award& award);

// Why the award cannot be closed at `now`, or nothing when it can: it must be published or in
// voting, and its window must have ended.
std::optional<std::string> CloseError(const Award& award, Instant now);

// A category of an award ("Лидер изменений").
struct Nomination {
  int64_t id = 0;
  int64_t award_id = 0;
  std::string title;        // 1..300 characters, unique within the award
  std::string description;  // 0..5000 characters
  Instant created_at{};
  Instant updated_at{};
};

void Validate(const Nomination& nomination, Violations& violations);

// A person or a project nominated in a nomination, from a city.
struct Nominee {
  int64_t id = 0;
  int64_t nomination_id = 0;
  int64_t award_id = 0;              // the nomination's award (derived, read-only)
  std::string kind = "person";       // one of NomineeKinds()
  std::optional<int64_t> person_id;  // required for a person, absent for a project
  std::string project_title;         // required (1..300) for a project, empty for a person
  std::string name;                  // the name voters see, 1..200 characters
  int64_t city_id = 0;               // required
  std::string status = "active";     // one of NomineeStatuses()
  // The card a voting page shows.
  std::string summary;             // 0..300 characters: a line under the name
  std::string story;               // 0..5000 characters: the longer story
  std::vector<std::string> links;  // up to 5 http(s) URLs of 8..2000 characters
  std::string project_summary;     // 0..2000 for a project (its own summary), empty for a person
  std::string photo_alt;           // 0..300: the photo's text alternative (needed for a photo)
  bool has_photo = false;          // an image is stored (derived, read-only)
  Instant created_at{};
  Instant updated_at{};
};

void Validate(const Nominee& nominee, Violations& violations);

// A nominee's photo, kept by the events API. Only these types, up to kMaxPhotoBytes, and the
// bytes must be of the declared type.
inline constexpr size_t kMaxPhotoBytes = 2 * 1024 * 1024;
// "image/jpeg", "image/png", "image/webp".
const std::vector<std::string>& PhotoTypes();
// Why `bytes` are not a photo of `content_type`, or nothing when they are.
std::optional<std::string> PhotoError(const std::string& content_type, std::string_view bytes);
// Why `url` is not a link a card may show (http or https, no spaces or controls), or nothing.
std::optional<std::string> LinkError(std::string_view url);

// The final count of one nominee, as the ballot reports it.
struct NomineeTally {
  int64_t nominee_id = 0;
  int64_t votes = 0;
  // The ballot took votes for it through a copy of the award that listed it here, and a later
  // one did not (deleted, or moved to another nomination, before voting opened): never a laureate
  // of this nomination.
  bool removed = false;
};

// The final count of one nomination.
struct NominationTally {
  int64_t nomination_id = 0;
  int64_t total_votes = 0;
  std::vector<NomineeTally> nominees;
  bool removed = false;  // deleted after the ballot took votes in it (see NomineeTally::removed)
};

// A nominee who won a nomination, recorded when the award closes.
struct Laureate {
  int64_t id = 0;
  int64_t award_id = 0;
  int64_t nomination_id = 0;
  int64_t nominee_id = 0;
  int64_t votes = 0;
  int64_t rank = 1;  // 1 + nominees of the nomination (withdrawn ones too) with more votes
  Instant created_at{};
  Instant updated_at{};
};

// The laureates of one nomination: among the `eligible` nominees (the active ones), those with
// the most votes; every one of them on a tie. None when no eligible nominee has a vote. A
// withdrawn nominee is never a laureate, but its votes count for the ranks of the others.
// `award_id` of the results is left 0.
std::vector<Laureate> SelectLaureates(const NominationTally& tally,
                                      const std::set<int64_t>& eligible);

}  // namespace civic
