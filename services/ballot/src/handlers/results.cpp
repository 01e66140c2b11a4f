#include "handlers/results.hpp"

#include "civic/http/problem.hpp"
#include "handlers/common.hpp"

namespace civic::ballot {

using http::Request;
using http::Responder;
using http::Response;

Response GetResults::operator()(const Request& request) {
  if (auto bad = CheckProtocol(request)) {
    return *bad;
  }
  const Caller caller = callers_.Identify(request.Header("authorization"));
  Response response = Answer(request, caller);
  response.log_key = caller.LogKey();
  return response;
}

Response GetResults::Answer(const Request& request, const Caller& caller) {
  if (caller.kind == Caller::Kind::kRefused) {
    return Unauthorized(caller.problem, true);
  }
  if (auto unknown = UnknownQuery(request, {"final"})) {
    return std::move(*unknown);
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
  auto doc = results_.Get(*award, admin, final);
  if (!doc.ok()) {
    return http::ErrorResponse(doc.error());
  }
  // An admin's document (with the held votes) differs from the public one of the same versions.
  const std::string etag = "\"" + std::to_string(doc->award_version) + "." +
                           std::to_string(doc->tally_version) + (admin ? ".a" : "") +
                           (doc->final ? ".f\"" : "\"");
  if (request.Header("if-none-match").value_or("") == etag) {
    return Response::Empty(304).WithHeader("ETag", etag);
  }
  return Response::Text(200, "application/json", *doc->json)
      .WithHeader("ETag", etag)
      .WithHeader("Cache-Control", "no-cache");
}

void StreamResults::operator()(Request&& request, Responder responder) {
  const Caller caller = callers_.Identify(request.Header("authorization"));
  responder.SetLogKey(caller.LogKey());
  if (caller.kind == Caller::Kind::kRefused) {
    responder.Send(Unauthorized(caller.problem, true));
    return;
  }
  if (auto unknown = UnknownQuery(request)) {
    responder.Send(std::move(*unknown));
    return;
  }
  const bool admin = caller.kind == Caller::Kind::kAdmin;
  const auto award = ParseId(request.Param("award"));
  if (!award) {
    responder.Send(NoAward(request.Param("award")));
    return;
  }
  auto doc = results_.Get(*award, admin, false);
  if (!doc.ok()) {
    responder.Send(http::ErrorResponse(doc.error()));
    return;
  }
  switch (streams_.Reserve()) {
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
  streams_.Subscribe(*award, admin, *doc, std::move(stream));
}

}  // namespace civic::ballot
