#include "civic/domain/ballot_results.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <unordered_map>

namespace civic::ballot {

namespace {

double Share(uint64_t part, uint64_t total) {
  return total == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(total);
}

// Sums votes by city (key 0: no city) and orders the result.
std::vector<CityVotes> ByCity(const std::vector<RankedNominee>& nominees, uint64_t total) {
  std::map<int64_t, CityVotes> cities;
  for (const RankedNominee& ranked : nominees) {
    const auto& city = ranked.nominee->city;
    CityVotes& entry = cities[city ? city->id : 0];
    if (!entry.city && city) {
      entry.city = city;
    }
    entry.votes += ranked.votes;
  }
  std::vector<CityVotes> out;
  out.reserve(cities.size());
  for (auto& [id, entry] : cities) {
    entry.share = Share(entry.votes, total);
    out.push_back(std::move(entry));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const CityVotes& a, const CityVotes& b) { return a.votes > b.votes; });
  return out;
}

}  // namespace

AwardResults ComputeResults(const Award& award, const std::vector<NomineeTally>& tallies) {
  std::unordered_map<uint64_t, uint64_t> votes_by_pair;
  votes_by_pair.reserve(tallies.size());
  for (const NomineeTally& tally : tallies) {
    votes_by_pair[NomineeKey(tally.nomination_id, tally.nominee_id)] += tally.votes;
  }
  std::unordered_map<int64_t, size_t> nomination_index;
  AwardResults results;
  results.nominations.reserve(award.nominations.size());
  for (const Nomination& nomination : award.nominations) {
    nomination_index[nomination.id] = results.nominations.size();
    NominationResults entry;
    entry.nomination = &nomination;
    results.nominations.push_back(std::move(entry));
  }
  std::vector<RankedNominee> all;
  all.reserve(award.nominees.size());
  const auto add = [&](const Nominee& nominee, size_t index, uint64_t votes, bool removed) {
    RankedNominee ranked;
    ranked.nominee = &nominee;
    ranked.votes = votes;
    ranked.removed = removed;
    NominationResults& nomination = results.nominations[index];
    nomination.total_votes += votes;
    nomination.nominees.push_back(ranked);
    all.push_back(ranked);
    results.total_votes += votes;
  };
  const auto votes_of = [&votes_by_pair](const Nominee& nominee) -> uint64_t {
    const auto it = votes_by_pair.find(NomineeKey(nominee.nomination_id, nominee.id));
    return it == votes_by_pair.end() ? 0 : it->second;
  };
  for (const Nominee& nominee : award.nominees) {
    const auto it = nomination_index.find(nominee.nomination_id);
    if (it != nomination_index.end()) {
      add(nominee, it->second, votes_of(nominee), false);
    }
  }
  // Removed nominees where votes were taken for them; a removed nomination joins the results
  // with its first such nominee.
  for (const Nominee& nominee : award.removed_nominees) {
    const uint64_t votes = votes_of(nominee);
    if (votes == 0) {
      continue;
    }
    auto it = nomination_index.find(nominee.nomination_id);
    if (it == nomination_index.end()) {
      const auto removed =
          std::find_if(award.removed_nominations.begin(), award.removed_nominations.end(),
                       [&](const Nomination& n) { return n.id == nominee.nomination_id; });
      if (removed == award.removed_nominations.end()) {
        continue;
      }
      NominationResults entry;
      entry.nomination = &*removed;
      entry.removed = true;
      it = nomination_index.emplace(removed->id, results.nominations.size()).first;
      results.nominations.push_back(std::move(entry));
    }
    add(nominee, it->second, votes, true);
  }
  for (NominationResults& nomination : results.nominations) {
    auto& nominees = nomination.nominees;
    std::sort(nominees.begin(), nominees.end(), [](const RankedNominee& a, const RankedNominee& b) {
      return a.votes != b.votes ? a.votes > b.votes : a.nominee->id < b.nominee->id;
    });
    for (size_t i = 0; i < nominees.size(); ++i) {
      nominees[i].share = Share(nominees[i].votes, nomination.total_votes);
      nominees[i].rank = (i > 0 && nominees[i].votes == nominees[i - 1].votes)
                             ? nominees[i - 1].rank
                             : static_cast<int>(i) + 1;
    }
    nomination.by_city = ByCity(nominees, nomination.total_votes);
  }
  results.by_city = ByCity(all, results.total_votes);
  return results;
}

}  // namespace civic::ballot
