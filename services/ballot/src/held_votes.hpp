#pragma once

// Held votes (README "Held votes"): which stored votes a rule holds and what admins decided, in
// memory for the vote path (a retry of a held vote is answered as held) and in SQLite
// (vote_holds) for the rest; release counts a vote, reject never does. Thread-safe.

#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "ballot_metrics.hpp"
#include "civic/domain/error.hpp"
#include "civic/sqlite/sqlite.hpp"
#include "tallies.hpp"
#include "vote_log.hpp"
#include "vote_outcome.hpp"
#include "vote_rules.hpp"

namespace civic::ballot {

// A held vote as admins see it: the vote without its voter, the rule and the evidence.
struct HeldVoteView {
  HoldRecord hold;
  int64_t nomination_id = 0;
  int64_t nominee_id = 0;
  int64_t cast_at_ms = 0;
};

class HeldVotes {
 public:
  // `path`: the ballot's database (migrated). Throws sqlite::Error. `immutable`: opened
  // read-only and immutable, for a ballot that started on a disk it cannot write (as its
  // AwardStore); SetWritable() reopens it for writing once storage works.
  HeldVotes(const std::string& path, Tallies& tallies, BallotMetrics& metrics,
            bool immutable = false);
  void SetWritable();

  // The rules' settings: `defaults` (from the flags) for every award without settings of its
  // own; `enabled` false turns every rule off for every award. Call at start, before votes.
  void SetDefaults(const RuleSettings& defaults, bool enabled);
  bool rules_enabled() const { return enabled_; }
  // The settings of `award_id`: its own, else the defaults. Any thread.
  RuleSettings SettingsFor(int64_t award_id) const;
  // Whether `award_id` has settings of its own.
  bool HasOwnSettings(int64_t award_id) const;
  // Stores `settings` as `award_id`'s own (durable first). Throws sqlite::Error.
  void SaveSettings(int64_t award_id, const RuleSettings& settings);
  // Reads every award's own settings from the database (at start). Throws sqlite::Error.
  void LoadSettings();

  // At start: the holds the log has (VoteReader::Holds).
  void Load(const std::unordered_map<uint64_t, HoldRecord>& holds);
  // The committer: these holds are durable (their votes are not in the tallies).
  void Committed(const std::vector<HoldRecord>& holds);
  // Where vote `seq` stands, if it was ever held (released ones say so too).
  std::optional<HoldState> StateOf(uint64_t seq) const;
  // Held (not yet decided) votes of `award_id`.
  size_t HeldIn(int64_t award_id) const;

  // Up to `limit` holds of `award_id` with seq above `after`, by seq; `state` and `rule` filter.
  std::vector<HeldVoteView> List(int64_t award_id, std::optional<HoldState> state,
                                 std::optional<HoldRule> rule, uint64_t after, int limit);

  struct Decided {
    int64_t changed = 0;  // votes whose state changed
    int64_t skipped = 0;  // named but not held (decided before, or not a held vote of the award)
  };
  // Releases (kReleased: counted from now, at their original time) or rejects (kRejected)
  // the held votes of `award_id` named by `seqs`, or, when `seqs` is empty, every held vote of
  // the award that `rule` held. `by`: the deciding key's prefix.
  Result<Decided> Decide(int64_t award_id, HoldState decision, const std::vector<uint64_t>& seqs,
                         std::optional<HoldRule> rule, const std::string& by, int64_t now_ms);

 private:
  Tallies& tallies_;
  BallotMetrics& metrics_;
  bool enabled_ = true;
  RuleSettings defaults_;
  mutable std::shared_mutex settings_mu_;  // guards own_settings_
  std::unordered_map<int64_t, RuleSettings> own_settings_;
  mutable std::shared_mutex mu_;                                        // guards states_
  std::unordered_map<uint64_t, std::pair<int64_t, HoldState>> states_;  // seq -> award, state
  std::mutex db_mu_;                                                    // guards db_ and immutable_
  sqlite::Database db_;
  bool immutable_;
};

// The JSON form of rule settings (openapi.yaml: VoteRules) and its reading: an error names the
// field (422) when a member is unknown, of the wrong type or out of range.
nlohmann::json RuleSettingsJson(const RuleSettings& settings);
Result<RuleSettings> ParseRuleSettings(const nlohmann::json& doc, const RuleSettings& base);

// Where the stored vote `seq` stands, by `held` (null: every vote counts).
Standing StandingOf(const HeldVotes* held, uint64_t seq);

}  // namespace civic::ballot
