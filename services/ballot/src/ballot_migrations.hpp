#pragma once

#include <vector>

#include "civic/sqlite/sqlite.hpp"

namespace civic::ballot {

// The ballot's schema, as numbered migrations applied at start.
const std::vector<sqlite::Migration>& Migrations();

}  // namespace civic::ballot
