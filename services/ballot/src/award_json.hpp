#pragma once

// The wire form of an award snapshot (proto-docs/awards-sync.md, message 2) to and from the
// domain's Award.

#include <nlohmann/json.hpp>

#include "civic/domain/ballot.hpp"
#include "civic/domain/error.hpp"

namespace civic::ballot {

inline constexpr int kProtocolVersion = 1;

// A nominee's photo as snapshots and results show it: {"url", "alt"}, or null without one.
nlohmann::json PhotoJson(const Nominee& nominee);

// Parses and validates a snapshot. kInvalidArgument with field errors when a member is missing,
// of the wrong type or out of range, or when `protocol` is not kProtocolVersion. Unknown members
// are ignored (a new optional member is not a new protocol version).
Result<Award> ParseAwardSnapshot(const nlohmann::json& doc);

// The ballot's stored copy of an award: `snapshot` (as the events API sent it) plus the award's
// removed nominations and nominees as "removed_nominations" and "removed_nominees" (the shapes of
// "nominations" and "nominees"). Only the ballot writes these members; a snapshot's own are
// ignored.
std::string StoredAwardJson(nlohmann::json snapshot, const Award& award);
// Parses a stored copy: the snapshot and its removed nominations and nominees.
Result<Award> ParseStoredAward(const nlohmann::json& doc);

}  // namespace civic::ballot
