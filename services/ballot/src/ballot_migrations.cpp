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
      // Held votes (issue #34): a vote a rule held has a row here, written in the same
      // transaction as its row in votes; it counts only once released. The evidence is counts,
      // never ids. Per-award rule settings set by admins (defaults come from flags).
      {4, "held votes and vote rules", R"sql(
CREATE TABLE vote_holds (
  seq           INTEGER PRIMARY KEY,
  award_id      INTEGER NOT NULL,
  rule          TEXT NOT NULL,
  count         INTEGER NOT NULL,
  lim           INTEGER NOT NULL,
  window_s      INTEGER NOT NULL,
  state         TEXT NOT NULL DEFAULT 'held' CHECK (state IN ('held', 'released', 'rejected')),
  decided_at_ms INTEGER,
  decided_by    TEXT
) STRICT;
CREATE INDEX vote_holds_by_award ON vote_holds(award_id, state);
CREATE TABLE award_vote_rules (
  award_id   INTEGER PRIMARY KEY,
  settings   TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
)sql"},
  };
  return kMigrations;
}

}  // namespace civic::ballot
