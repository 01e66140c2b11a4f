#include "ballot_migrations.hpp"

namespace civic::ballot {

const std::vector<sqlite::Migration>& Migrations() {
  static const std::vector<sqlite::Migration> kMigrations = {
      sqlite::ServiceMetaMigration(),
      // The vote log is append-only: rowid = seq, no secondary index, so the cost of a vote does
      // not grow with the number stored. Dedup lives in memory and is rebuilt from this table.
      // voter_hash is 16 bytes of HMAC(voter key, award, voter id); the id itself is never stored.
      {2, "vote log and award snapshots", R"sql(
CREATE TABLE votes (
  seq           INTEGER PRIMARY KEY,
  award_id      INTEGER NOT NULL,
  nomination_id INTEGER NOT NULL,
  nominee_id    INTEGER NOT NULL,
  voter_hash    BLOB NOT NULL,
  cast_at_ms    INTEGER NOT NULL
) STRICT;
CREATE TABLE awards (
  award_id   INTEGER PRIMARY KEY,
  version    INTEGER NOT NULL,
  active     INTEGER NOT NULL,
  snapshot   TEXT NOT NULL,
  fetched_at TEXT NOT NULL
) STRICT;
INSERT INTO service_meta(key, value) VALUES ('probe', '0');
)sql"},
  };
  return kMigrations;
}

}  // namespace civic::ballot
