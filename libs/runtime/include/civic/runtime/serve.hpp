#pragma once

#include <functional>
#include <string>

#include "civic/http/server.hpp"
#include "civic/runtime/logging.hpp"

namespace civic::runtime {

// Blocks SIGINT and SIGTERM in the calling thread (and so in every thread it starts later) and
// ignores SIGPIPE. Call first thing in main, before any thread exists.
void BlockTerminationSignals();

// Starts `server`, prints "<name> listening on http://HOST:PORT" on stdout (as the line of
// ListeningLine in `format`), waits for SIGINT or SIGTERM, then drains (new requests get 503;
// in-flight ones get up to `drain_timeout_ms`), calls `before_stop` (e.g. flush storage) and
// stops the server. Returns the exit code: 0 after a clean stop, 1 if the server could not start.
// REQUIRES: BlockTerminationSignals() was called.
int ServeUntilSignal(http::Server& server, const std::string& name, const std::string& host,
                     int drain_timeout_ms, LogFormat format,
                     const std::function<void()>& before_stop = {});

}  // namespace civic::runtime
