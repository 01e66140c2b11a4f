#include "handlers/votes.hpp"

#include <memory>

#include "civic/http/problem.hpp"
#include "handlers/common.hpp"
#include "vote_json.hpp"

namespace civic::ballot {

using http::Request;
using http::Responder;
using http::Response;

void CastVote::operator()(Request&& request, Responder responder) {
  const Caller caller = callers_.Identify(request.Header("authorization"));
  responder.SetLogKey(caller.LogKey());
  if (auto refused = RefusedVoter(caller)) {
    metrics_.rejected_unauthorized.Inc();
    responder.Send(std::move(*refused));
    return;
  }
  if (auto unknown = UnknownQuery(request)) {
    metrics_.rejected_invalid.Inc();
    responder.Send(std::move(*unknown));
    return;
  }
  ParsedVotes parsed = ParseVoteBody(request.body);
  if (auto problem = BodyProblem(request, parsed)) {
    metrics_.rejected_invalid.Inc();
    responder.Send(std::move(*problem));
    return;
  }
  ParsedVote& one = parsed.votes.front();
  if (!one.errors.empty()) {
    metrics_.rejected_invalid.Inc();
    responder.Send(http::ErrorResponse(Error::Invalid(std::move(one.errors))));
    return;
  }
  const auto award = ParseId(request.Param("award"));
  if (!award) {
    metrics_.rejected_not_found.Inc();
    responder.Send(NoAward(request.Param("award")));
    return;
  }
  one.vote.award_id = *award;
  if (!caller.MayVoteIn(*award)) {
    metrics_.rejected_unauthorized.Inc();
    responder.Send(http::ErrorResponse(OutsideAwards(caller, *award)));
    return;
  }
  auto shared = std::make_shared<Responder>(std::move(responder));
  auto vote = std::make_shared<VoteInput>(std::move(one.vote));
  auto completion =
      std::make_shared<VoteCompletion>(1, [shared, vote](std::vector<VoteOutcome>& outcomes) {
        const VoteOutcome& outcome = outcomes[0];
        if (outcome.kind == VoteOutcome::Kind::kError) {
          shared->Send(http::ErrorResponse(outcome.error));
          return;
        }
        if (outcome.kind == VoteOutcome::Kind::kCreated && shared->prepared()) {
          shared->SendPrepared();  // formatted before the commit, on the request's thread
          return;
        }
        shared->Send(ReceiptResponse(outcome, *vote));
      });
  VoteService::Submission submission;
  votes_.Decide(*vote, 0, completion, submission);
  if (submission.votes.size() == 1) {
    // A new vote: its 201 is known now, all but the commit. Formatting it here, on one of the
    // request threads, keeps that work off the committer, which answers every vote in turn.
    const PendingVote& pending = submission.votes[0];
    shared->Prepare(ReceiptResponse(
        VoteOutcome::Created(pending.receipt,
                             pending.hold.held() ? Standing::kHeld : Standing::kCounted),
        *vote));
  }
  votes_.Submit(submission);
  completion->Release();
}

void CastBatch::operator()(Request&& request, Responder responder) {
  const Caller caller = callers_.Identify(request.Header("authorization"));
  responder.SetLogKey(caller.LogKey());
  if (auto refused = RefusedVoter(caller)) {
    metrics_.rejected_unauthorized.Inc();
    responder.Send(std::move(*refused));
    return;
  }
  if (auto unknown = UnknownQuery(request)) {
    metrics_.rejected_invalid.Inc();
    responder.Send(std::move(*unknown));
    return;
  }
  auto parsed = std::make_shared<ParsedVotes>(ParseBatchBody(request.body));
  if (auto problem = BodyProblem(request, *parsed)) {
    responder.Send(std::move(*problem));
    return;
  }
  const size_t n = parsed->votes.size();
  auto shared = std::make_shared<Responder>(std::move(responder));
  auto completion =
      std::make_shared<VoteCompletion>(n, [shared, parsed](std::vector<VoteOutcome>& outcomes) {
        shared->Send(
            Response::Text(200, "application/json", BatchResultsJson(outcomes, parsed->votes)));
      });
  std::vector<std::pair<uint32_t, const VoteInput*>> valid;
  valid.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    ParsedVote& item = parsed->votes[i];
    if (!item.errors.empty()) {
      metrics_.rejected_invalid.Inc();
      completion->Set(i, VoteOutcome::Failed(Error::Invalid(std::move(item.errors))));
      continue;
    }
    if (!caller.MayVoteIn(item.vote.award_id)) {
      metrics_.rejected_unauthorized.Inc();
      completion->Set(i, VoteOutcome::Failed(OutsideAwards(caller, item.vote.award_id)));
      continue;
    }
    valid.emplace_back(static_cast<uint32_t>(i), &item.vote);
  }
  VoteService::Submission submission;
  submission.votes.reserve(valid.size());
  votes_.DecideMany(valid, completion, submission);
  votes_.Submit(submission);
  completion->Release();
}

}  // namespace civic::ballot
