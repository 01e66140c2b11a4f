#pragma once

#include <functional>

#include "civic/domain/time.hpp"
#include "civic/http/message.hpp"
#include "civic/sqlite/sqlite.hpp"
#include "storage/store.hpp"

namespace civic::events::rest {

// How long a key is remembered at least; older keys are purged as new ones are stored.
inline constexpr std::chrono::hours kIdempotencyKeyLifetime{48};

// Runs a POST once per Idempotency-Key. Without the header it just runs `create` in a write
// transaction. With it: a stored response for the same key, method, path and body is replayed
// (with `Idempotency-Replayed: true`); the same key with another body is a 422; otherwise
// `create` runs and its response, when it is a 2xx, is stored with the key in the same
// transaction. A 4xx or 5xx changed nothing and is not stored: a retry runs again.
// A malformed key (not 1..255 visible ASCII characters) is a 422.
http::Response Idempotent(Store& store, const Clock& clock, const http::Request& request,
                          const std::function<http::Response(sqlite::Database&)>& create);

}  // namespace civic::events::rest
