#include "held_votes.hpp"

#include <algorithm>
#include <array>

namespace civic::ballot {

namespace {

sqlite::Options HoldsOptions(bool immutable) {
  sqlite::Options options;
  options.read_only = immutable;
  options.immutable = immutable;
  return options;
}

}  // namespace

HeldVotes::HeldVotes(const std::string& path, Tallies& tallies, BallotMetrics& metrics,
                     bool immutable)
    : tallies_(tallies),
      metrics_(metrics),
      db_(sqlite::Database::Open(path, HoldsOptions(immutable))),
      immutable_(immutable) {}

void HeldVotes::SetWritable() {
  std::lock_guard<std::mutex> lock(db_mu_);
  if (!immutable_) {
    return;
  }
  db_ = sqlite::Database::Open(db_.path(), HoldsOptions(false));
  immutable_ = false;
}

void HeldVotes::SetDefaults(const RuleSettings& defaults, bool enabled) {
  defaults_ = defaults;
  enabled_ = enabled;
}

RuleSettings HeldVotes::SettingsFor(int64_t award_id) const {
  std::shared_lock lock(settings_mu_);
  const auto it = own_settings_.find(award_id);
  return it != own_settings_.end() ? it->second : defaults_;
}

bool HeldVotes::HasOwnSettings(int64_t award_id) const {
  std::shared_lock lock(settings_mu_);
  return own_settings_.count(award_id) != 0;
}

void HeldVotes::SaveSettings(int64_t award_id, const RuleSettings& settings) {
  {
    std::lock_guard<std::mutex> lock(db_mu_);
    db_.Prepare(
           "INSERT INTO award_vote_rules(award_id, settings, updated_at) VALUES (?1, ?2, "
           "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) ON CONFLICT(award_id) DO UPDATE SET "
           "settings = excluded.settings, updated_at = excluded.updated_at")
        .Bind(1, award_id)
        .Bind(2, RuleSettingsJson(settings).dump())
        .Run();
  }
  std::unique_lock lock(settings_mu_);
  own_settings_[award_id] = settings;
}

void HeldVotes::LoadSettings() {
  std::unordered_map<int64_t, RuleSettings> loaded;
  {
    std::lock_guard<std::mutex> lock(db_mu_);
    sqlite::Statement stmt = db_.Prepare("SELECT award_id, settings FROM award_vote_rules");
    while (stmt.Step()) {
      const auto doc = nlohmann::json::parse(stmt.ColumnText(1), nullptr, false);
      auto settings = ParseRuleSettings(doc, defaults_);
      if (settings.ok()) {
        loaded[stmt.ColumnInt64(0)] = settings.value();
      }
    }
  }
  std::unique_lock lock(settings_mu_);
  own_settings_ = std::move(loaded);
}

nlohmann::json RuleSettingsJson(const RuleSettings& s) {
  return {{"voters_per_device", s.voters_per_device},
          {"voters_per_address", s.voters_per_address},
          {"voters_per_block", s.voters_per_block},
          {"window_s", s.window_s},
          {"votes_per_voter", s.votes_per_voter},
          {"voter_window_s", s.voter_window_s},
          {"burst_min", s.burst_min},
          {"burst_factor", s.burst_factor},
          {"burst_window_s", s.burst_window_s}};
}

Result<RuleSettings> ParseRuleSettings(const nlohmann::json& doc, const RuleSettings& base) {
  if (!doc.is_object()) {
    return Error::Invalid("", "must be a JSON object of rule settings");
  }
  // Each setting with its range (RuleSettings::Validate says the same): every wrong one is
  // named, not only the first.
  struct Field {
    const char* name;
    int RuleSettings::*member;
    int64_t min;
    int64_t max;
  };
  static constexpr int64_t kMaxDistinct = RuleSettings::kMaxDistinct;
  static constexpr std::array<Field, 8> kFields = {{
      {"voters_per_device", &RuleSettings::voters_per_device, 0, kMaxDistinct},
      {"voters_per_address", &RuleSettings::voters_per_address, 0, kMaxDistinct},
      {"voters_per_block", &RuleSettings::voters_per_block, 0, kMaxDistinct},
      {"window_s", &RuleSettings::window_s, 1, 7 * 86400},
      {"votes_per_voter", &RuleSettings::votes_per_voter, 0, 1'000'000},
      {"voter_window_s", &RuleSettings::voter_window_s, 1, 7 * 86400},
      {"burst_min", &RuleSettings::burst_min, 0, 1'000'000},
      {"burst_window_s", &RuleSettings::burst_window_s, 1, 86400},
  }};
  RuleSettings s = base;
  std::vector<FieldError> errors;
  for (const auto& [name, value] : doc.items()) {
    if (name == "burst_factor") {
      if (!value.is_number() || !(value.get<double>() >= 1 && value.get<double>() <= 1000)) {
        errors.push_back({name, "must be a number from 1 to 1000"});
      } else {
        s.burst_factor = value.get<double>();
      }
      continue;
    }
    const auto field = std::find_if(kFields.begin(), kFields.end(),
                                    [&](const Field& f) { return name == f.name; });
    if (field == kFields.end()) {
      errors.push_back({name, "is not a rule setting"});
      continue;
    }
    bool in_range = false;
    if (value.is_number_unsigned()) {
      const auto v = value.get<uint64_t>();
      in_range = v >= static_cast<uint64_t>(field->min) && v <= static_cast<uint64_t>(field->max);
    } else if (value.is_number_integer()) {
      const auto v = value.get<int64_t>();
      in_range = v >= field->min && v <= field->max;
    }
    if (!in_range) {
      errors.push_back(
          {name, "must be an integer from " +
                     (field->min == 0 ? std::string("0 (off)") : std::to_string(field->min)) +
                     " to " + std::to_string(field->max)});
      continue;
    }
    s.*(field->member) = static_cast<int>(value.get<int64_t>());
  }
  if (errors.empty()) {
    if (const std::string error = s.Validate(); !error.empty()) {
      const size_t space = error.find(' ');
      errors.push_back({error.substr(0, space), error.substr(space + 1)});
    }
  }
  if (!errors.empty()) {
    return Error::Invalid(std::move(errors));
  }
  return s;
}

void HeldVotes::Load(const std::unordered_map<uint64_t, HoldRecord>& holds) {
  std::unique_lock lock(mu_);
  for (const auto& [seq, hold] : holds) {
    states_.emplace(seq, std::make_pair(hold.award_id, hold.state));
  }
}

void HeldVotes::Committed(const std::vector<HoldRecord>& holds) {
  std::unique_lock lock(mu_);
  for (const HoldRecord& hold : holds) {
    // A decision made between the commit and this call has already set the state: keep it.
    states_.emplace(hold.seq, std::make_pair(hold.award_id, HoldState::kHeld));
  }
}

std::optional<HoldState> HeldVotes::StateOf(uint64_t seq) const {
  std::shared_lock lock(mu_);
  const auto it = states_.find(seq);
  if (it == states_.end()) {
    return std::nullopt;
  }
  return it->second.second;
}

size_t HeldVotes::HeldIn(int64_t award_id) const {
  std::shared_lock lock(mu_);
  return static_cast<size_t>(std::count_if(states_.begin(), states_.end(), [&](const auto& e) {
    return e.second.first == award_id && e.second.second == HoldState::kHeld;
  }));
}

std::vector<HeldVoteView> HeldVotes::List(int64_t award_id, std::optional<HoldState> state,
                                          std::optional<HoldRule> rule, uint64_t after, int limit) {
  std::lock_guard<std::mutex> lock(db_mu_);
  sqlite::Statement stmt = db_.Prepare(R"sql(
SELECT h.seq, h.rule, h.count, h.lim, h.window_s, h.state, coalesce(h.decided_at_ms, 0),
       coalesce(h.decided_by, ''), v.nomination_id, v.nominee_id, v.cast_at_ms
FROM vote_holds h JOIN votes v ON v.seq = h.seq
WHERE h.award_id = ?1 AND h.seq > ?2 AND (?3 IS NULL OR h.state = ?3)
  AND (?4 IS NULL OR h.rule = ?4)
ORDER BY h.seq LIMIT ?5)sql");
  stmt.Bind(1, award_id).Bind(2, static_cast<int64_t>(after));
  if (state) {
    stmt.Bind(3, ToString(*state));
  }
  if (rule) {
    stmt.Bind(4, ToString(*rule));
  }
  stmt.Bind(5, static_cast<int64_t>(limit));
  std::vector<HeldVoteView> out;
  while (stmt.Step()) {
    HeldVoteView view;
    view.hold.seq = static_cast<uint64_t>(stmt.ColumnInt64(0));
    view.hold.award_id = award_id;
    view.hold.rule = ParseHoldRule(stmt.ColumnText(1)).value_or(HoldRule::kNone);
    view.hold.count = static_cast<uint32_t>(stmt.ColumnInt64(2));
    view.hold.limit = static_cast<uint32_t>(stmt.ColumnInt64(3));
    view.hold.window_s = static_cast<uint32_t>(stmt.ColumnInt64(4));
    const std::string s = stmt.ColumnText(5);
    view.hold.state = s == "released"   ? HoldState::kReleased
                      : s == "rejected" ? HoldState::kRejected
                                        : HoldState::kHeld;
    view.hold.decided_at_ms = stmt.ColumnInt64(6);
    view.hold.decided_by = stmt.ColumnText(7);
    view.nomination_id = stmt.ColumnInt64(8);
    view.nominee_id = stmt.ColumnInt64(9);
    view.cast_at_ms = stmt.ColumnInt64(10);
    out.push_back(std::move(view));
  }
  return out;
}

Result<HeldVotes::Decided> HeldVotes::Decide(int64_t award_id, HoldState decision,
                                             const std::vector<uint64_t>& seqs,
                                             std::optional<HoldRule> rule, const std::string& by,
                                             int64_t now_ms) {
  struct Vote {
    uint64_t seq;
    int64_t nomination_id;
    int64_t nominee_id;
  };
  std::vector<Vote> changed;
  Decided decided;
  {
    std::lock_guard<std::mutex> lock(db_mu_);
    sqlite::Transaction tx(db_);
    const auto collect = [&](sqlite::Statement& stmt) {
      while (stmt.Step()) {
        changed.push_back(
            {static_cast<uint64_t>(stmt.ColumnInt64(0)), stmt.ColumnInt64(1), stmt.ColumnInt64(2)});
      }
    };
    const char* kSelect = R"sql(
SELECT h.seq, v.nomination_id, v.nominee_id FROM vote_holds h JOIN votes v ON v.seq = h.seq
WHERE h.award_id = ?1 AND h.state = 'held')sql";
    if (seqs.empty()) {
      sqlite::Statement stmt =
          db_.Prepare(std::string(kSelect) + " AND h.rule = ?2 ORDER BY h.seq");
      stmt.Bind(1, award_id).Bind(2, ToString(*rule));
      collect(stmt);
    } else {
      // The ids are a set: an id given twice is decided (and counted) once.
      std::vector<uint64_t> unique = seqs;
      std::sort(unique.begin(), unique.end());
      unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
      sqlite::Statement stmt = db_.Prepare(std::string(kSelect) + " AND h.seq = ?2");
      for (const uint64_t seq : unique) {
        stmt.Bind(1, award_id).Bind(2, static_cast<int64_t>(seq));
        const size_t before = changed.size();
        collect(stmt);
        stmt.Reset();
        decided.skipped += changed.size() == before ? 1 : 0;
      }
    }
    sqlite::Statement update = db_.Prepare(
        "UPDATE vote_holds SET state = ?1, decided_at_ms = ?2, decided_by = ?3 WHERE seq = ?4");
    for (const Vote& vote : changed) {
      update.Bind(1, ToString(decision))
          .Bind(2, now_ms)
          .Bind(3, by)
          .Bind(4, static_cast<int64_t>(vote.seq))
          .Run();
      update.Reset();
    }
    tx.Commit();
  }
  // Durable: now the memory follows. A released vote counts from here on.
  {
    std::unique_lock lock(mu_);
    for (const Vote& vote : changed) {
      states_[vote.seq] = {award_id, decision};
    }
  }
  for (const Vote& vote : changed) {
    tallies_.AddHolds(award_id, vote.nomination_id, vote.nominee_id, -1,
                      decision == HoldState::kRejected ? 1 : 0);
  }
  if (decision == HoldState::kReleased) {
    TallyBatch counts;
    for (const Vote& vote : changed) {
      counts.Add(award_id, vote.nomination_id, vote.nominee_id);
    }
    counts.AddTo(tallies_);
    metrics_.held_released.Inc(static_cast<double>(changed.size()));
  } else {
    metrics_.held_rejected.Inc(static_cast<double>(changed.size()));
  }
  decided.changed = static_cast<int64_t>(changed.size());
  return decided;
}

Standing StandingOf(const HeldVotes* held, uint64_t seq) {
  if (held == nullptr) {
    return Standing::kCounted;
  }
  switch (held->StateOf(seq).value_or(HoldState::kReleased)) {
    case HoldState::kHeld:
      return Standing::kHeld;
    case HoldState::kRejected:
      return Standing::kRejected;
    case HoldState::kReleased:
      break;
  }
  return Standing::kCounted;
}

}  // namespace civic::ballot
