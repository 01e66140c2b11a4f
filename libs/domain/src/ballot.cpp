#include "civic/domain/ballot.hpp"

#include <algorithm>
#include <unordered_set>

#include "civic/domain/validation.hpp"

namespace civic::ballot {

std::string_view ToString(AwardStatus status) {
  switch (status) {
    case AwardStatus::kDraft:
      return "draft";
    case AwardStatus::kPublished:
      return "published";
    case AwardStatus::kVoting:
      return "voting";
    case AwardStatus::kClosed:
      return "closed";
    case AwardStatus::kArchived:
      return "archived";
  }
  return "draft";
}

std::string_view ToString(ResultsVisibility visibility) {
  return visibility == ResultsVisibility::kLive ? "live" : "hidden_until_close";
}

std::string_view ToString(NomineeStatus status) {
  return status == NomineeStatus::kActive ? "active" : "withdrawn";
}

std::optional<AwardStatus> ParseAwardStatus(std::string_view text) {
  for (const AwardStatus s : {AwardStatus::kDraft, AwardStatus::kPublished, AwardStatus::kVoting,
                              AwardStatus::kClosed, AwardStatus::kArchived}) {
    if (ToString(s) == text) {
      return s;
    }
  }
  return std::nullopt;
}

std::optional<ResultsVisibility> ParseResultsVisibility(std::string_view text) {
  for (const ResultsVisibility v :
       {ResultsVisibility::kLive, ResultsVisibility::kHiddenUntilClose}) {
    if (ToString(v) == text) {
      return v;
    }
  }
  return std::nullopt;
}

std::optional<NomineeStatus> ParseNomineeStatus(std::string_view text) {
  for (const NomineeStatus s : {NomineeStatus::kActive, NomineeStatus::kWithdrawn}) {
    if (ToString(s) == text) {
      return s;
    }
  }
  return std::nullopt;
}

namespace {

std::string Indexed(std::string_view array, size_t i, std::string_view member) {
  return std::string(array) + "[" + std::to_string(i) + "]." + std::string(member);
}

}  // namespace

Status ValidateAward(const Award& award) {
  std::vector<FieldError> errors;
  if (!IdInRange(award.id)) {
    errors.push_back({"id", "must be in [1, 2147483647]"});
  }
  if (award.version < 0) {
    errors.push_back({"version", "must not be negative"});
  }
  if (award.max_choices_per_nomination < 1 ||
      award.max_choices_per_nomination > kMaxChoicesPerNomination) {
    errors.push_back({"max_choices_per_nomination",
                      "must be in [1, " + std::to_string(kMaxChoicesPerNomination) + "]"});
  }
  if (award.voting_opens_at && award.voting_closes_at &&
      !(*award.voting_opens_at < *award.voting_closes_at)) {
    errors.push_back({"voting_closes_at", "must be after voting_opens_at"});
  }
  std::unordered_set<int64_t> nominations;
  for (size_t i = 0; i < award.nominations.size(); ++i) {
    const int64_t id = award.nominations[i].id;
    if (!IdInRange(id)) {
      errors.push_back({Indexed("nominations", i, "id"), "must be in [1, 2147483647]"});
    } else if (!nominations.insert(id).second) {
      errors.push_back({Indexed("nominations", i, "id"), "is listed twice"});
    }
  }
  std::unordered_set<int64_t> nominees;
  for (size_t i = 0; i < award.nominees.size(); ++i) {
    const Nominee& nominee = award.nominees[i];
    if (!IdInRange(nominee.id)) {
      errors.push_back({Indexed("nominees", i, "id"), "must be in [1, 2147483647]"});
    } else if (!nominees.insert(nominee.id).second) {
      errors.push_back({Indexed("nominees", i, "id"), "is listed twice"});
    }
    if (nominations.count(nominee.nomination_id) == 0) {
      errors.push_back({Indexed("nominees", i, "nomination_id"), "names no listed nomination"});
    }
    if (nominee.city && !IdInRange(nominee.city->id)) {
      errors.push_back({Indexed("nominees", i, "city.id"), "must be in [1, 2147483647]"});
    }
  }
  if (!errors.empty()) {
    return Error::Invalid(std::move(errors), "The award snapshot is not usable.");
  }
  return OkStatus();
}

void CarryOverRemoved(const Award& previous, Award& snapshot) {
  std::unordered_set<int64_t> nominations;
  for (const Nomination& nomination : snapshot.nominations) {
    nominations.insert(nomination.id);
  }
  std::vector<Nomination> removed_nominations;
  const auto keep_nomination = [&](const Nomination& nomination) {
    if (nominations.insert(nomination.id).second) {
      removed_nominations.push_back(nomination);
    }
  };
  for (const Nomination& nomination : previous.removed_nominations) {
    keep_nomination(nomination);
  }
  for (const Nomination& nomination : previous.nominations) {
    keep_nomination(nomination);
  }

  std::unordered_set<uint64_t> pairs;
  for (const Nominee& nominee : snapshot.nominees) {
    pairs.insert(NomineeKey(nominee.nomination_id, nominee.id));
  }
  std::vector<Nominee> removed_nominees;
  const auto keep_nominee = [&](const Nominee& nominee) {
    if (pairs.insert(NomineeKey(nominee.nomination_id, nominee.id)).second) {
      removed_nominees.push_back(nominee);
      removed_nominees.back().status = NomineeStatus::kWithdrawn;
    }
  };
  for (const Nominee& nominee : previous.removed_nominees) {
    keep_nominee(nominee);
  }
  for (const Nominee& nominee : previous.nominees) {
    keep_nominee(nominee);
  }
  snapshot.removed_nominations = std::move(removed_nominations);
  snapshot.removed_nominees = std::move(removed_nominees);
}

void CarryOverChoicesCounted(const Award& previous, Award& snapshot, Instant now) {
  const bool opened = previous.status != AwardStatus::kDraft && previous.voting_opens_at &&
                      now >= *previous.voting_opens_at;
  snapshot.max_choices_counted =
      std::max(previous.max_choices_counted, opened ? previous.max_choices_per_nomination : 0);
}

bool IsVotingOpen(const Award& award, Instant now) {
  if (!award.active ||
      (award.status != AwardStatus::kPublished && award.status != AwardStatus::kVoting)) {
    return false;
  }
  if (!award.voting_opens_at || !award.voting_closes_at) {
    return false;
  }
  return *award.voting_opens_at <= now && now < *award.voting_closes_at;
}

bool IsVotingOver(const Award& award, Instant now) {
  if (award.status == AwardStatus::kClosed || award.status == AwardStatus::kArchived) {
    return true;
  }
  return award.voting_closes_at && now >= *award.voting_closes_at;
}

bool ResultsVisibleTo(const Award& award, Instant now, bool admin) {
  if (admin || award.results_visibility == ResultsVisibility::kLive) {
    return true;
  }
  return IsVotingOver(award, now);
}

Status CheckAcceptsNewVote(const Award& award, const Nominee& nominee, Instant now) {
  if (!IsVotingOpen(award, now)) {
    std::string reason = "Voting for this award is not open";
    if (!award.active) {
      reason = "This award is no longer offered for voting";
    } else if (award.voting_opens_at && now < *award.voting_opens_at) {
      reason += ": it opens at " + FormatUtc(*award.voting_opens_at);
    } else if (award.voting_closes_at && now >= *award.voting_closes_at) {
      reason += ": it closed at " + FormatUtc(*award.voting_closes_at);
    }
    return Error{ErrorCode::kForbidden, reason + ".", {}}.WithKind("voting-closed");
  }
  if (nominee.status == NomineeStatus::kWithdrawn) {
    return Error{
        ErrorCode::kForbidden, "This nominee has been withdrawn and takes no new votes.", {}}
        .WithKind("nominee-withdrawn");
  }
  return OkStatus();
}

namespace {

// C0 controls and DEL (NUL included): no id a client means to send holds them.
bool HasControl(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
  });
}
constexpr const char* kNoControls = "must not contain control characters";

}  // namespace

void ValidateVote(const VoteInput& vote, std::string_view prefix, std::vector<FieldError>& errors) {
  const std::string p(prefix);
  if (vote.voter.empty()) {
    errors.push_back({p + "voter", "must not be empty"});
  } else if (vote.voter.size() > kMaxVoterIdChars && Utf8Length(vote.voter) > kMaxVoterIdChars) {
    errors.push_back(
        {p + "voter", "must be at most " + std::to_string(kMaxVoterIdChars) + " characters"});
  } else if (HasControl(vote.voter)) {
    errors.push_back({p + "voter", kNoControls});
  }
  const auto id = [&](int64_t value, const char* field) {
    if (!IdInRange(value)) {
      errors.push_back({p + field, "must be an integer from 1 to " + std::to_string(kMaxId)});
    }
  };
  id(vote.nomination_id, "nomination");
  id(vote.nominee_id, "nominee");
  if (vote.client_ref && vote.client_ref->size() > kMaxClientRefChars &&
      Utf8Length(*vote.client_ref) > kMaxClientRefChars) {
    errors.push_back({p + "client_ref",
                      "must be at most " + std::to_string(kMaxClientRefChars) + " characters"});
  } else if (vote.client_ref && HasControl(*vote.client_ref)) {
    errors.push_back({p + "client_ref", kNoControls});
  }
  const auto context = [&](const std::optional<std::string>& value, const char* field) {
    if (value && value->empty()) {
      errors.push_back({p + field, "must not be empty (leave it out instead)"});
    } else if (value && value->size() > kMaxContextChars && Utf8Length(*value) > kMaxContextChars) {
      errors.push_back(
          {p + field, "must be at most " + std::to_string(kMaxContextChars) + " characters"});
    } else if (value && HasControl(*value)) {
      errors.push_back({p + field, kNoControls});
    }
  };
  context(vote.device, "device");
  context(vote.address, "address");
}

}  // namespace civic::ballot
