#include "recount.hpp"

#include <algorithm>
#include <filesystem>
#include <map>

#include "civic/sqlite/sqlite.hpp"

namespace civic::ballot {

namespace {

using nlohmann::json;

struct NomineeCount {
  int64_t id = 0;
  std::string name;
  json city = nullptr;  // {id, name, region} as the stored copy names it, or null
  int64_t votes = 0;
  bool removed = false;
};

struct NominationCount {
  std::string title;
  bool removed = false;
  std::map<int64_t, NomineeCount> nominees;
};

struct AwardCount {
  std::string title;
  int64_t held = 0;  // votes a rule holds, not counted (yet)
  int64_t rejected = 0;
  std::map<int64_t, NominationCount> nominations;
};

}  // namespace

json Recount(const std::string& db_path) {
  sqlite::Options options;
  options.read_only = true;
  sqlite::Database db = sqlite::Database::Open(db_path, options);

  std::map<int64_t, AwardCount> awards;
  // Names and titles from the stored snapshots (every nominee appears, with 0 votes if none).
  // A removed nomination or nominee (dropped or moved by a later snapshot) is named from the
  // ballot's removed_* members.
  sqlite::Statement names = db.Prepare(R"sql(
SELECT a.award_id, coalesce(json_extract(a.snapshot, '$.title'), ''),
       n.value ->> '$.id', coalesce(n.value ->> '$.title', ''), 0
FROM awards a, json_each(a.snapshot, '$.nominations') n
UNION ALL
SELECT a.award_id, coalesce(json_extract(a.snapshot, '$.title'), ''),
       n.value ->> '$.id', coalesce(n.value ->> '$.title', ''), 1
FROM awards a, json_each(a.snapshot, '$.removed_nominations') n)sql");
  while (names.Step()) {
    AwardCount& award = awards[names.ColumnInt64(0)];
    award.title = names.ColumnText(1);
    NominationCount& nomination = award.nominations[names.ColumnInt64(2)];
    nomination.title = names.ColumnText(3);
    nomination.removed = names.ColumnInt64(4) != 0;
  }
  sqlite::Statement nominees = db.Prepare(R"sql(
SELECT a.award_id, n.value ->> '$.nomination_id', n.value ->> '$.id',
       coalesce(n.value ->> '$.name', ''), 0, n.value -> '$.city'
FROM awards a, json_each(a.snapshot, '$.nominees') n
UNION ALL
SELECT a.award_id, n.value ->> '$.nomination_id', n.value ->> '$.id',
       coalesce(n.value ->> '$.name', ''), 1, n.value -> '$.city'
FROM awards a, json_each(a.snapshot, '$.removed_nominees') n)sql");
  while (nominees.Step()) {
    NomineeCount& nominee = awards[nominees.ColumnInt64(0)]
                                .nominations[nominees.ColumnInt64(1)]
                                .nominees[nominees.ColumnInt64(2)];
    nominee.id = nominees.ColumnInt64(2);
    nominee.name = nominees.ColumnText(3);
    nominee.removed = nominees.ColumnInt64(4) != 0;
    if (const auto text = nominees.ColumnOptionalText(5)) {
      json city = json::parse(*text, nullptr, /*allow_exceptions=*/false);
      if (city.is_object()) {
        nominee.city = {{"id", city.value("id", int64_t{0})},
                        {"name", city.value("name", std::string())},
                        {"region", city.value("region", std::string())}};
      }
    }
  }
  sqlite::Statement counts = db.Prepare(R"sql(
SELECT award_id, nomination_id, nominee_id, count(*) FROM votes
WHERE seq NOT IN (SELECT seq FROM vote_holds WHERE state != 'released')
GROUP BY award_id, nomination_id, nominee_id)sql");
  while (counts.Step()) {
    NomineeCount& nominee = awards[counts.ColumnInt64(0)]
                                .nominations[counts.ColumnInt64(1)]
                                .nominees[counts.ColumnInt64(2)];
    nominee.id = counts.ColumnInt64(2);
    nominee.votes = counts.ColumnInt64(3);
  }

  // Held and rejected votes: stored, not counted.
  sqlite::Statement holds = db.Prepare(R"sql(
SELECT award_id, state, count(*) FROM vote_holds WHERE state != 'released'
GROUP BY award_id, state)sql");
  while (holds.Step()) {
    AwardCount& award = awards[holds.ColumnInt64(0)];
    (holds.ColumnText(1) == "held" ? award.held : award.rejected) = holds.ColumnInt64(2);
  }

  json out_awards = json::array();
  int64_t total = 0;
  for (auto& [award_id, award] : awards) {
    json out_nominations = json::array();
    int64_t award_total = 0;
    for (auto& [nomination_id, nomination] : award.nominations) {
      std::vector<NomineeCount> ranked;
      int64_t nomination_total = 0;
      for (auto& [id, nominee] : nomination.nominees) {
        if (nominee.removed && nominee.votes == 0) {
          continue;  // removed before any vote reached it, as in the live results
        }
        nomination_total += nominee.votes;
        ranked.push_back(nominee);
      }
      if (nomination.removed && nomination_total == 0) {
        continue;
      }
      std::stable_sort(
          ranked.begin(), ranked.end(),
          [](const NomineeCount& a, const NomineeCount& b) { return a.votes > b.votes; });
      json out_nominees = json::array();
      for (const NomineeCount& n : ranked) {
        out_nominees.push_back({{"id", n.id},
                                {"name", n.name},
                                {"city", n.city},
                                {"votes", n.votes},
                                {"removed", n.removed}});
      }
      out_nominations.push_back({{"id", nomination_id},
                                 {"title", nomination.title},
                                 {"removed", nomination.removed},
                                 {"total_votes", nomination_total},
                                 {"nominees", std::move(out_nominees)}});
      award_total += nomination_total;
    }
    out_awards.push_back({{"award_id", award_id},
                          {"title", award.title},
                          {"total_votes", award_total},
                          {"held_votes", award.held},
                          {"rejected_votes", award.rejected},
                          {"nominations", std::move(out_nominations)}});
    total += award_total;
  }

  sqlite::Statement duplicates = db.Prepare(R"sql(
SELECT coalesce(sum(c - 1), 0) FROM (
  SELECT count(*) AS c FROM votes
  GROUP BY award_id, nomination_id, nominee_id, voter_hash HAVING c > 1))sql");
  duplicates.Step();
  sqlite::Statement over_limit = db.Prepare(R"sql(
SELECT count(*) FROM (
  SELECT count(DISTINCT v.nominee_id) AS c,
         max(coalesce(json_extract(a.snapshot, '$.max_choices_per_nomination'), 1),
             coalesce(json_extract(a.snapshot, '$.max_choices_counted'), 0)) AS k
  FROM votes v LEFT JOIN awards a ON a.award_id = v.award_id
  GROUP BY v.award_id, v.nomination_id, v.voter_hash HAVING c > k))sql");
  over_limit.Step();

  return {{"total_votes", total},
          {"awards", std::move(out_awards)},
          {"audit",
           {{"duplicate_votes", duplicates.ColumnInt64(0)},
            {"voters_over_limit", over_limit.ColumnInt64(0)}}}};
}

int RunRecount(const std::string& data_dir, std::ostream& out, std::ostream& err) {
  const std::string path = (std::filesystem::path(data_dir) / "ballot.db").string();
  if (!std::filesystem::exists(path)) {
    err << "civic-ballot recount: --data-dir: no ballot.db in " << data_dir << "\n";
    return 1;
  }
  try {
    const json doc = Recount(path);
    out << doc.dump(2) << "\n";
    const json& audit = doc["audit"];
    return audit["duplicate_votes"].get<int64_t>() == 0 &&
                   audit["voters_over_limit"].get<int64_t>() == 0
               ? 0
               : 2;
  } catch (const std::exception& e) {
    err << "civic-ballot recount: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace civic::ballot
