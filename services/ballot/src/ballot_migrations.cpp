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
      // The admin surface's audit trail (docs/security.md): one record per write made with a
      // key (an on-demand sync). Append-only; votes are not in it (the vote log is their record).
      {3, "audit trail", R"sql(
CREATE TABLE audit_events (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  at         TEXT NOT NULL,
  key_prefix TEXT NOT NULL,
  role       TEXT NOT NULL,
  method     TEXT NOT NULL,
  route      TEXT NOT NULL,
  path       TEXT NOT NULL,
  status     INTEGER NOT NULL
) STRICT;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE ON audit_events
BEGIN
  SELECT RAISE(ABORT, 'audit records are never changed');
END;
CREATE TRIGGER audit_events_kept BEFORE DELETE ON audit_events
  WHEN OLD.at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 day')
BEGIN
  SELECT RAISE(ABORT, 'audit records are kept a day at least');
END;
)sql"},
  };
  return kMigrations;
}

}  // namespace civic::ballot
