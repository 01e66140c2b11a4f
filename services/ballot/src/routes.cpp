// The ballot's handlers (the transport layer): parse and validate the request, call the use case,
// serialise the answer. No SQL and no business rule here.
#include <spdlog/spdlog.h>

#include <cctype>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "app.hpp"
#include "award_json.hpp"
#include "civic/domain/validation.hpp"
#include "civic/http/problem.hpp"
#include "civic/runtime/thread_name.hpp"
#include "vote_json.hpp"

namespace civic::ballot {

namespace {

using http::Request;
using http::Responder;
using http::Response;
using nlohmann::json;

constexpr int kMaxConcurrentExports = 2;
constexpr size_t kExportChunkBytes = 256 * 1024;
constexpr size_t kExportMaxBuffered = 4 * 1024 * 1024;

// A positive id of at most kMaxId, written in decimal digits only.
std::optional<int64_t> ParseId(const std::string& text) {
  if (text.empty() || text.size() > 10) {
    return std::nullopt;
  }
  int64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = value * 10 + (c - '0');
  }
  if (value <= 0 || value > kMaxId) {
    return std::nullopt;
  }
  return value;
}

// `refused`: a key was given and refused (not missing).
Response Unauthorized(const std::string& detail, bool refused) {
  return http::ErrorResponse(Error::Unauthenticated(detail, refused));
}

// The answer to a vote from a caller that is not a voting client; nothing for one that is.
std::optional<Response> RefusedVoter(const Caller& caller) {
  switch (caller.kind) {
    case Caller::Kind::kVotingClient:
      return std::nullopt;
    case Caller::Kind::kNone:
      return Unauthorized("A vote needs a voting client's key: Authorization: Bearer.", false);
    case Caller::Kind::kRefused:
      return Unauthorized(caller.problem, true);
    case Caller::Kind::kAdmin:
      break;
  }
  return http::ErrorResponse(
      Error::Forbidden("An admin key does not vote: votes come with a voting client's key."));
}

// 403: a voting client's key used in an award outside its scope.
Error OutsideAwards(const Caller& caller, int64_t award_id) {
  return Error::Forbidden("The key " + caller.prefix + " may not vote in award " +
                          std::to_string(award_id) + ".");
}

Response NoAward(const std::string& text) {
  return http::ErrorResponse(Error::NotFound("No award " + text + "."));
}

// 400 when the caller speaks a protocol version we do not (proto-docs/awards-sync.md).
std::optional<Response> CheckProtocol(const Request& request) {
  const auto version = request.Header("x-civic-protocol");
  if (version && *version != std::to_string(kProtocolVersion)) {
    return http::ErrorResponse(Error::Malformed("Unknown X-Civic-Protocol " + *version +
                                                "; this ballot speaks version " +
                                                std::to_string(kProtocolVersion) + "."));
  }
  return std::nullopt;
}

bool IsJsonMediaType(const std::optional<std::string>& content_type) {
  if (!content_type) {
    return false;
  }
  std::string media = content_type->substr(0, content_type->find(';'));
  while (!media.empty() && media.back() == ' ') {
    media.pop_back();
  }
  for (char& c : media) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return media == "application/json" ||
         (media.size() > 5 && media.compare(media.size() - 5, 5, "+json") == 0);
}

// The same answers the HTTP layer gives for JSON routes: 415, 400 empty, 400 malformed (with
// the byte offset); then 422 for a body of the wrong shape. Nothing when the votes can be read.
std::optional<Response> BodyProblem(const Request& request, const ParsedVotes& parsed) {
  if (!IsJsonMediaType(request.Header("content-type"))) {
    return http::ErrorResponse(
        Error::UnsupportedMediaType("The body must be JSON (Content-Type: application/json)."));
  }
  if (request.body.empty()) {
    return http::ErrorResponse(Error::Malformed("A JSON body is required."));
  }
  if (parsed.syntax_offset) {
    Error malformed =
        Error::Malformed("Malformed JSON at byte " + std::to_string(*parsed.syntax_offset) + ".");
    malformed.numbers.emplace_back("offset", static_cast<int64_t>(*parsed.syntax_offset));
    return http::ErrorResponse(malformed);
  }
  if (parsed.shape_error) {
    return http::ErrorResponse(*parsed.shape_error);
  }
  return std::nullopt;
}

int StatusOf(const VoteOutcome& outcome) {
  switch (outcome.kind) {
    case VoteOutcome::Kind::kCreated:
      return 201;
    case VoteOutcome::Kind::kExisting:
      return 200;
    case VoteOutcome::Kind::kError:
      break;
  }
  return http::StatusFor(outcome.error.code);
}

// The 201/200 answer of a counted vote.
Response ReceiptResponse(const VoteOutcome& outcome, const VoteInput& vote) {
  Response response =
      Response::Text(StatusOf(outcome), "application/json", VoteReceiptJson(outcome, vote));
  response.WithHeader("Location", "/v1/receipts/" + outcome.receipt);
  return response;
}

std::string ExportLine(const VoteRecord& r, const std::string& receipt) {
  std::string line;
  line.reserve(256);
  line += "{\"seq\":";
  line += std::to_string(r.seq);
  line += ",\"award_id\":";
  line += std::to_string(r.award_id);
  line += ",\"nomination_id\":";
  line += std::to_string(r.nomination_id);
  line += ",\"nominee_id\":";
  line += std::to_string(r.nominee_id);
  line += ",\"voter_hash\":\"";
  line += HexEncode(r.voter_hash.data(), r.voter_hash.size());
  line += "\",\"cast_at\":\"";
  line += FormatUtc(Instant(std::chrono::milliseconds(r.cast_at_ms)));
  line += "\",\"receipt\":\"";
  line += receipt;
  line += "\"}\n";
  return line;
}

}  // namespace

std::optional<Response> App::RequireAdmin(const Caller& caller, const std::string& what) const {
  switch (caller.kind) {
    case Caller::Kind::kAdmin:
      return std::nullopt;
    case Caller::Kind::kNone:
      return Unauthorized(what + " needs an admin key: Authorization: Bearer.", false);
    case Caller::Kind::kRefused:
      return Unauthorized(caller.problem, true);
    case Caller::Kind::kVotingClient:
      break;
  }
  return http::ErrorResponse(
      Error::Forbidden(what + " needs an admin key; this is a voting client's."));
}

void App::CastOne(Request&& request, Responder responder) {
  const Caller caller = api_keys_.Identify(request.Header("authorization"));
  if (auto refused = RefusedVoter(caller)) {
    metrics_.rejected_unauthorized.Inc();
    responder.Send(std::move(*refused));
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
  votes_->Decide(*vote, 0, completion, submission);
  if (submission.votes.size() == 1) {
    // A new vote: its 201 is known now, all but the commit. Formatting it here, on one of the
    // request threads, keeps that work off the committer, which answers every vote in turn.
    shared->Prepare(ReceiptResponse(VoteOutcome::Created(submission.votes[0].receipt), *vote));
  }
  votes_->Submit(submission);
  completion->Release();
}

void App::CastBatch(Request&& request, Responder responder) {
  const Caller caller = api_keys_.Identify(request.Header("authorization"));
  if (auto refused = RefusedVoter(caller)) {
    metrics_.rejected_unauthorized.Inc();
    responder.Send(std::move(*refused));
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
  votes_->DecideMany(valid, completion, submission);
  votes_->Submit(submission);
  completion->Release();
}

Response App::GetResults(const Request& request) {
  if (auto bad = CheckProtocol(request)) {
    return *bad;
  }
  const Caller caller = api_keys_.Identify(request.Header("authorization"));
  if (caller.kind == Caller::Kind::kRefused) {
    return Unauthorized(caller.problem, true);
  }
  const bool admin = caller.kind == Caller::Kind::kAdmin;
  const std::string final_given = request.Query("final").value_or("false");
  if (final_given != "true" && final_given != "false") {
    return http::ErrorResponse(Error::Invalid("final", "must be true or false"));
  }
  const bool final = final_given == "true";
  if (final) {
    if (auto refused = RequireAdmin(caller, "Final results")) {
      return std::move(*refused);
    }
  }
  const auto award = ParseId(request.Param("award"));
  if (!award) {
    return NoAward(request.Param("award"));
  }
  auto doc = results_->Get(*award, admin, final);
  if (!doc.ok()) {
    return http::ErrorResponse(doc.error());
  }
  const std::string etag = "\"" + std::to_string(doc->award_version) + "." +
                           std::to_string(doc->tally_version) + (doc->final ? ".f\"" : "\"");
  if (request.Header("if-none-match").value_or("") == etag) {
    return Response::Empty(304).WithHeader("ETag", etag);
  }
  return Response::Text(200, "application/json", *doc->json)
      .WithHeader("ETag", etag)
      .WithHeader("Cache-Control", "no-cache");
}

void App::StreamResults(Request&& request, Responder responder) {
  const Caller caller = api_keys_.Identify(request.Header("authorization"));
  if (caller.kind == Caller::Kind::kRefused) {
    responder.Send(Unauthorized(caller.problem, true));
    return;
  }
  const bool admin = caller.kind == Caller::Kind::kAdmin;
  const auto award = ParseId(request.Param("award"));
  if (!award) {
    responder.Send(NoAward(request.Param("award")));
    return;
  }
  auto doc = results_->Get(*award, admin, false);
  if (!doc.ok()) {
    responder.Send(http::ErrorResponse(doc.error()));
    return;
  }
  switch (streams_->Reserve()) {
    case ResultsStreams::Reservation::kHeld:
      break;
    case ResultsStreams::Reservation::kFull:
      responder.Send(http::ErrorResponse(Error::Unavailable(
          "Too many live-results streams are open; retry later, or poll GET /v1/awards/" +
              std::to_string(*award) + "/results.",
          5)));
      return;
    case ResultsStreams::Reservation::kStopping:
      responder.Send(
          http::ErrorResponse(Error::Unavailable("The service is shutting down; retry later.", 5)));
      return;
  }
  auto stream = responder.StartStream(200, "text/event-stream",
                                      {{"Cache-Control", "no-cache"}, {"X-Accel-Buffering", "no"}});
  streams_->Subscribe(*award, admin, *doc, std::move(stream));
}

void App::ExportVotes(Request&& request, Responder responder) {
  if (auto refused =
          RequireAdmin(api_keys_.Identify(request.Header("authorization")), "The export")) {
    responder.Send(std::move(*refused));
    return;
  }
  const auto award = ParseId(request.Param("award"));
  if (!award || (catalog_.Find(*award) == nullptr && tallies_.Version(*award) == 0)) {
    responder.Send(NoAward(request.Param("award")));
    return;
  }
  std::lock_guard<std::mutex> lock(exports_mu_);
  if (closing_ || active_exports_.load() >= kMaxConcurrentExports) {
    responder.Send(
        http::ErrorResponse(Error::Unavailable("Too many exports in progress; retry later.", 5)));
    return;
  }
  // Finished export threads are joined here, so the list stays short.
  std::erase_if(exports_, [](ExportJob& job) {
    if (!job.done->load()) {
      return false;
    }
    job.thread.join();
    return true;
  });
  std::shared_ptr<http::ResponseStream> stream = responder.StartStream(
      200, "application/x-ndjson",
      {{"Cache-Control", "no-store"},
       {"Content-Disposition",
        "attachment; filename=\"award-" + std::to_string(*award) + "-votes.ndjson\""}});
  auto done = std::make_shared<std::atomic<bool>>(false);
  ++active_exports_;
  exports_.push_back(ExportJob{std::thread([this, id = *award, stream, done] {
                                 runtime::NameThisThread("ballot-export");
                                 RunExport(id, *stream);
                                 --active_exports_;
                                 done->store(true);
                               }),
                               done});
}

void App::RunExport(int64_t award_id, http::ResponseStream& stream) {
  std::string buffer;
  buffer.reserve(kExportChunkBytes + 512);
  const auto flush = [&]() {
    if (!stream.Write(buffer)) {
      return false;
    }
    buffer.clear();
    // Backpressure: wait while the client has not taken what was sent.
    while (stream.buffered() > kExportMaxBuffered && stream.open() && !closing_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return stream.open() && !closing_;
  };
  try {
    bool ok = true;
    reader_.ForEachInAward(award_id, [&](const VoteRecord& r) {
      const ReceiptFields fields{r.seq, r.award_id, r.nomination_id, r.nominee_id, r.voter_hash};
      buffer += ExportLine(r, keys_.Receipt(fields));
      if (buffer.size() >= kExportChunkBytes) {
        ok = flush();
      }
      return ok;
    });
    if (ok && !buffer.empty()) {
      flush();
    }
  } catch (const std::exception& e) {
    spdlog::error("ballot: export of award {} failed: {}", award_id, e.what());
  }
  stream.End();
}

Response App::GetReceipt(const Request& request) {
  const std::string& receipt = request.Param("receipt");
  const auto not_found = [] {
    return http::ErrorResponse(Error::NotFound("No counted vote has this receipt."));
  };
  const auto seq = Keys::ReceiptSeq(receipt);
  if (!seq) {
    return not_found();
  }
  const std::optional<VoteRecord> record = reader_.BySeq(*seq);
  if (!record) {
    return not_found();
  }
  const ReceiptFields fields{record->seq, record->award_id, record->nomination_id,
                             record->nominee_id, record->voter_hash};
  if (!keys_.VerifyReceipt(receipt, fields)) {
    return not_found();
  }
  // Base32 is case-insensitive: answer with the canonical (lower-case) spelling.
  std::string canonical = receipt;
  for (char& c : canonical) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return Response::Json(
      200, {{"receipt", canonical},
            {"counted", true},
            {"award_id", record->award_id},
            {"nomination_id", record->nomination_id},
            {"nominee_id", record->nominee_id},
            {"cast_at", FormatUtc(Instant(std::chrono::milliseconds(record->cast_at_ms)))}});
}

Response App::SyncAward(const Request& request) {
  const Caller caller = api_keys_.Identify(request.Header("authorization"));
  Response response = SyncAwardFor(request, caller);
  if (caller.kind == Caller::Kind::kAdmin || caller.kind == Caller::Kind::kVotingClient) {
    // The admin surface's one write: recorded whatever it answered, for a known key.
    AuditRecord record;
    record.key_prefix = caller.prefix;
    record.role = caller.kind == Caller::Kind::kAdmin ? "admin" : "voting_client";
    record.method = "POST";
    record.route = request.route;
    record.path = request.path;
    record.status = response.status;
    try {
      award_store_.AppendAudit(record);
      award_store_.PurgeAudit(config_.audit_retention_days);
    } catch (const sqlite::Error& e) {
      spdlog::error("ballot: the audit record of {} ({}) was not written: {}", request.path,
                    response.status, e.what());
    }
  }
  return response;
}

Response App::SyncAwardFor(const Request& request, const Caller& caller) {
  if (auto bad = CheckProtocol(request)) {
    return *bad;
  }
  if (auto refused = RequireAdmin(caller, "A sync request")) {
    return std::move(*refused);
  }
  const auto award = ParseId(request.Param("award"));
  if (!award) {
    return NoAward(request.Param("award"));
  }
  auto version = sync_->SyncAward(*award);
  if (!version.ok()) {
    if (version.error().code == ErrorCode::kUnavailable) {
      return http::ErrorResponse(Error::UpstreamFailed("The events API could not be synced with: " +
                                                       version.error().message));
    }
    const auto known = catalog_.Find(*award);
    if (known == nullptr) {
      return http::ErrorResponse(version.error());
    }
    return Response::Json(
        200,
        {{"award_id", *award}, {"version", known->award.version}, {"active", known->award.active}});
  }
  const auto known = catalog_.Find(*award);
  return Response::Json(200, {{"award_id", *award},
                              {"version", *version},
                              {"active", known != nullptr && known->award.active}});
}

Response App::ListAudit(const Request& request) {
  if (auto refused =
          RequireAdmin(api_keys_.Identify(request.Header("authorization")), "The audit trail")) {
    return std::move(*refused);
  }
  int64_t after = 0;
  int limit = 100;
  Violations violations;
  for (const auto& [name, value] : request.query) {
    const auto number = ParseId(value);
    if (name == "after") {
      after = value == "0" ? 0 : number.value_or(-1);
      if (after < 0) {
        violations.Add("after", "must be a record id (0 for the first page)");
      }
    } else if (name == "limit") {
      limit = number && *number <= 1000 ? static_cast<int>(*number) : 0;
      if (limit == 0) {
        violations.Add("limit", "must be an integer from 1 to 1000");
      }
    } else {
      violations.Add(name, "is not a parameter of this route (after, limit)");
    }
  }
  if (!violations.empty()) {
    return http::ErrorResponse(violations.ToError());
  }
  json items = json::array();
  int64_t last = after;
  for (const AuditRecord& record : award_store_.Audit(after, limit)) {
    items.push_back({{"id", record.id},
                     {"at", record.at},
                     {"key_prefix", record.key_prefix},
                     {"role", record.role},
                     {"method", record.method},
                     {"route", record.route},
                     {"path", record.path},
                     {"status", record.status}});
    last = record.id;
  }
  const bool full = static_cast<int>(items.size()) == limit;
  return Response::Json(
      200, {{"items", std::move(items)}, {"next_after", full ? json(last) : json(nullptr)}});
}

}  // namespace civic::ballot
