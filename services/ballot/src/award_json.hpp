#pragma once

// The wire form of an award snapshot (proto-docs/awards-sync.md, message 2) to and from the
// domain's Award.

#include <nlohmann/json.hpp>

#include "civic/domain/ballot.hpp"
#include "civic/domain/error.hpp"

namespace civic::ballot {

inline constexpr int kProtocolVersion = 1;

// Parses and validates a snapshot. kInvalidArgument with field errors when a member is missing,
// of the wrong type or out of range, or when `protocol` is not kProtocolVersion. Unknown members
// are ignored (a new optional member is not a new protocol version).
Result<Award> ParseAwardSnapshot(const nlohmann::json& doc);

}  // namespace civic::ballot
