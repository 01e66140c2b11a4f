#pragma once

// The people's-choice vote: what the ballot knows of an award and the rules a vote must pass.
// Pure: no JSON, HTTP or SQLite. The wire form of an award is proto-docs/awards-sync.md.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "civic/domain/error.hpp"
#include "civic/domain/time.hpp"

namespace civic::ballot {

enum class AwardStatus { kDraft, kPublished, kVoting, kClosed, kArchived };
enum class ResultsVisibility { kLive, kHiddenUntilClose };
enum class NomineeStatus { kActive, kWithdrawn };

std::string_view ToString(AwardStatus status);
std::string_view ToString(ResultsVisibility visibility);
std::string_view ToString(NomineeStatus status);
std::optional<AwardStatus> ParseAwardStatus(std::string_view text);
std::optional<ResultsVisibility> ParseResultsVisibility(std::string_view text);
std::optional<NomineeStatus> ParseNomineeStatus(std::string_view text);

// Ids of awards, nominations, nominees and cities are positive and below 2^31 (they are row ids
// of the events API); the ballot packs them into 32 bits in memory.
inline constexpr int64_t kMaxId = (int64_t{1} << 31) - 1;
// Whether `id` can name an award, nomination or nominee: 1..kMaxId.
inline constexpr bool IdInRange(int64_t id) { return id > 0 && id <= kMaxId; }
inline constexpr int kMaxChoicesPerNomination = 100;
// One key for a nominee in a nomination of one award (a vote counts in the nomination it was
// cast in). REQUIRES: both ids in range.
inline constexpr uint64_t NomineeKey(int64_t nomination_id, int64_t nominee_id) {
  return (static_cast<uint64_t>(nomination_id) << 32) | static_cast<uint32_t>(nominee_id);
}

// A nominee's city as results pages show it: two cities may share a name (Заречный of
// Пензенская and of Свердловская область), so the region tells them apart.
struct City {
  int64_t id = 0;
  std::string name;
  std::string region;  // "" when the events API has none for it
};

struct Nomination {
  int64_t id = 0;
  std::string title;
};

struct Nominee {
  int64_t id = 0;
  int64_t nomination_id = 0;
  std::string name;
  std::optional<City> city;
  NomineeStatus status = NomineeStatus::kActive;
  // What a results page shows of the nominee's card (the events API keeps the rest).
  std::string summary = {};    // a line under the name
  std::string photo_url = {};  // the photo at the events API ("/v1/nominees/{id}/photo"), or ""
  std::string photo_alt = {};  // its text alternative
};

// One award as the events API last described it (its snapshot), plus whether the events API
// still lists it.
struct Award {
  int64_t id = 0;
  int64_t version = 0;
  std::string title;
  int edition_year = 0;
  AwardStatus status = AwardStatus::kDraft;
  std::optional<Instant> voting_opens_at;
  std::optional<Instant> voting_closes_at;
  int max_choices_per_nomination = 1;  // K: nominees one voter may support per nomination
  ResultsVisibility results_visibility = ResultsVisibility::kHiddenUntilClose;
  std::vector<Nomination> nominations;
  std::vector<Nominee> nominees;
  bool active = true;  // false once the events API stopped listing it: no new votes
  // Kept by the ballot, never sent by the events API: nominations, and nominees in the
  // nomination they were in, that an earlier snapshot listed and a later one dropped (or, for a
  // nominee, moved to another nomination). Votes may have been taken for them through the
  // earlier copy (the ballot's copy can lag the events API), so they stay, as "removed", in the
  // results wherever they have votes; they take no new vote. See CarryOverRemoved.
  std::vector<Nomination> removed_nominations;
  std::vector<Nominee> removed_nominees;
  // Kept by the ballot too: the largest K of an earlier copy whose window had opened (votes may
  // have been taken under it), 0 if none. The audit bound on a voter's choices is the larger of
  // this and K (see CarryOverChoicesCounted).
  int max_choices_counted = 0;
};

// Checks that a snapshot is usable: ids in range and unique, every nominee in a listed
// nomination, K in [1, kMaxChoicesPerNomination], opens before closes. Field paths follow the
// snapshot's JSON members (e.g. "nominees[3].nomination_id").
Status ValidateAward(const Award& award);

// Carries into `snapshot` (a new snapshot of the award) what `previous` (the copy it replaces)
// listed and `snapshot` no longer does: its removed nominations and nominees, and those dropped
// now (a nominee by its (nomination, nominee) pair, so a moved nominee stays removed in its old
// nomination). A removed entry that `snapshot` lists again is no longer removed.
void CarryOverRemoved(const Award& previous, Award& snapshot);

// Carries into `snapshot` the largest K that votes may have been taken under: `previous`'s
// max_choices_counted, and its K when its window had opened at `now`. (A lagging copy can take
// votes under a K the events API lowered just before voting opened.)
void CarryOverChoicesCounted(const Award& previous, Award& snapshot, Instant now);

// Votes are taken while the award is active, its status is published or voting, and `now` is in
// [voting_opens_at, voting_closes_at).
bool IsVotingOpen(const Award& award, Instant now);
// Voting is over: status closed or archived, or `now` at or after voting_closes_at.
bool IsVotingOver(const Award& award, Instant now);
// Live results are visible to anyone; hidden ones only to admins until voting is over.
bool ResultsVisibleTo(const Award& award, Instant now, bool admin);

// Whether `nominee` may take a new vote now. kForbidden (with the reason) when the window is
// not open, the award is inactive or the nominee withdrawn.
Status CheckAcceptsNewVote(const Award& award, const Nominee& nominee, Instant now);

// ---- Votes ------------------------------------------------------------------------------------

// Lengths count characters (UTF-8 code points), as everywhere in the API.
inline constexpr size_t kMaxVoterIdChars = 256;
inline constexpr size_t kMaxClientRefChars = 128;
inline constexpr size_t kMaxContextChars = 256;  // a vote's device and address
inline constexpr size_t kMaxBatchVotes = 1000;

// A vote as a client sends it. The voter id is opaque (from a trusted client) and never stored.
struct VoteInput {
  int64_t award_id = 0;
  std::string voter;
  int64_t nomination_id = 0;
  int64_t nominee_id = 0;
  std::optional<std::string> client_ref;
  // Optional context from the client (issue #34): the voter's device and address, opaque; the
  // ballot keeps only keyed hashes of them, for the rules that hold suspicious votes.
  std::optional<std::string> device;
  std::optional<std::string> address;
};

// Appends one FieldError per bad field of `vote` to `errors`, each field prefixed with
// `prefix` (e.g. "votes[3]."). Checks values only; types are the transport's business.
void ValidateVote(const VoteInput& vote, std::string_view prefix, std::vector<FieldError>& errors);

}  // namespace civic::ballot
