#include "migrations.hpp"

namespace civic::events {

// Times are INTEGER milliseconds since the Unix epoch (UTC). Lists of plain values (tags) are
// JSON text; references between resources are foreign keys.
const std::vector<sqlite::Migration>& Migrations() {
  static const std::vector<sqlite::Migration> kMigrations = {
      {1, "service metadata", R"sql(
CREATE TABLE service_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
INSERT INTO service_meta(key, value) VALUES ('created_at', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
)sql"},
      {2, "idempotency keys and cities", R"sql(
CREATE TABLE idempotency_keys (
  id           INTEGER PRIMARY KEY,
  scope        TEXT NOT NULL,
  key          TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  status       INTEGER NOT NULL,
  headers      TEXT NOT NULL,
  body         TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  UNIQUE (scope, key)
) STRICT;
CREATE INDEX idempotency_keys_created_at ON idempotency_keys(created_at);

CREATE TABLE cities (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  region     TEXT NOT NULL DEFAULT '',
  time_zone  TEXT NOT NULL,
  population INTEGER,
  tags       TEXT NOT NULL DEFAULT '[]',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX cities_name ON cities(name, id);
CREATE INDEX cities_region ON cities(region, id);
)sql"},
  };
  return kMigrations;
}

}  // namespace civic::events
