// The live-results ticker's choice for one subscriber: send a changed document, keep an idle
// stream alive, wait for a client that has not taken what was sent, drop one that stopped; and
// the cap on open streams.
#include <catch2/catch.hpp>
#include <chrono>

#include "results_stream.hpp"

using civic::ballot::NextStreamStep;
using civic::ballot::StreamOptions;
using civic::ballot::StreamStep;
using namespace std::chrono_literals;

TEST_CASE("Results stream: a changed document goes to a client that keeps up", "[ballot][sse]") {
  const StreamOptions options;
  CHECK(NextStreamStep(true, 0, 1s, 0ms, options) == StreamStep::kSend);
  CHECK(NextStreamStep(true, 0, 20s, 0ms, options) == StreamStep::kSend);
  CHECK(NextStreamStep(false, 0, 1s, 0ms, options) == StreamStep::kNothing);
  CHECK(NextStreamStep(false, 0, 14999ms, 0ms, options) == StreamStep::kNothing);
  CHECK(NextStreamStep(false, 0, 15s, 0ms, options) == StreamStep::kKeepAlive);
}

TEST_CASE("Results stream: a client behind gets nothing more, and is dropped after the timeout",
          "[ballot][sse]") {
  StreamOptions options;
  options.stall_timeout = 60s;
  // Neither the update nor a keep-alive piles up behind what the socket has not taken.
  CHECK(NextStreamStep(true, 1, 1s, 1s, options) == StreamStep::kWait);
  CHECK(NextStreamStep(false, 100000, 30s, 30s, options) == StreamStep::kWait);
  CHECK(NextStreamStep(true, 1, 59999ms, 59999ms, options) == StreamStep::kWait);
  CHECK(NextStreamStep(true, 1, 60s, 60s, options) == StreamStep::kDrop);
  CHECK(NextStreamStep(false, 1, 90s, 61s, options) == StreamStep::kDrop);
  // Caught up: the latest document goes at once.
  CHECK(NextStreamStep(true, 0, 50s, 0ms, options) == StreamStep::kSend);
}

TEST_CASE("Results streams: places past the cap are refused, and all once stopping",
          "[ballot][sse]") {
  using civic::ballot::ResultsStreams;
  using Reservation = ResultsStreams::Reservation;
  civic::metrics::Registry registry;
  civic::ballot::BallotMetrics metrics{registry};
  civic::ballot::AwardCatalog catalog;
  civic::ballot::Tallies tallies;
  civic::SystemClock clock;
  civic::ballot::ResultsService results(catalog, tallies, clock);
  StreamOptions options;
  options.max_subscribers = 2;
  ResultsStreams streams(results, metrics, options);
  streams.Start();
  CHECK(streams.Reserve() == Reservation::kHeld);
  CHECK(streams.Reserve() == Reservation::kHeld);
  CHECK(streams.Reserve() == Reservation::kFull);
  CHECK(metrics.results_streams_refused.Value() == 1.0);
  streams.Stop();
  // Shutting down is not "too many streams": not counted as a refusal.
  CHECK(streams.Reserve() == Reservation::kStopping);
  CHECK(metrics.results_streams_refused.Value() == 1.0);
}
