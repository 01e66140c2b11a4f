#pragma once

// GET /v1/awards/{award}/results (with ETag) and its live stream (Server-Sent Events), from the
// in-memory tallies.

#include "civic/http/message.hpp"
#include "civic/http/server.hpp"
#include "key_ring.hpp"
#include "results_service.hpp"
#include "results_stream.hpp"

namespace civic::ballot {

class GetResults {
 public:
  GetResults(const KeyRing& callers, ResultsService& results)
      : callers_(callers), results_(results) {}
  http::Response operator()(const http::Request& request);

 private:
  http::Response Answer(const http::Request& request, const Caller& caller);

  const KeyRing& callers_;
  ResultsService& results_;
};

class StreamResults {
 public:
  StreamResults(const KeyRing& callers, ResultsService& results, ResultsStreams& streams)
      : callers_(callers), results_(results), streams_(streams) {}
  void operator()(http::Request&& request, http::Responder responder);

 private:
  const KeyRing& callers_;
  ResultsService& results_;
  ResultsStreams& streams_;
};

}  // namespace civic::ballot
