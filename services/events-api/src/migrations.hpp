#pragma once

#include <vector>

#include "civic/sqlite/sqlite.hpp"

namespace civic::events {

// The events API's schema, as numbered migrations applied at start.
const std::vector<sqlite::Migration>& Migrations();

}  // namespace civic::events
