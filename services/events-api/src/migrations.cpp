#include "migrations.hpp"

#include <string>
#include <utility>
#include <vector>

#include "storage/search.hpp"
#include "storage/sort_keys.hpp"

namespace civic::events {

// Times are INTEGER milliseconds since the Unix epoch (UTC). Lists of plain values (tags) are
// JSON text; references between resources are foreign keys.
const std::vector<sqlite::Migration>& Migrations() {
  static const std::vector<sqlite::Migration> kMigrations = {
      sqlite::ServiceMetaMigration(),
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
      {3, "organizations, people, programs", R"sql(
CREATE TABLE organizations (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  sector     TEXT NOT NULL,
  city_id    INTEGER REFERENCES cities(id),
  website    TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX organizations_city ON organizations(city_id, id);
CREATE INDEX organizations_sector ON organizations(sector, id);
CREATE INDEX organizations_name ON organizations(name, id);

CREATE TABLE people (
  id              INTEGER PRIMARY KEY,
  name            TEXT NOT NULL,
  city_id         INTEGER REFERENCES cities(id),
  organization_id INTEGER REFERENCES organizations(id),
  position        TEXT NOT NULL DEFAULT '',
  bio             TEXT NOT NULL DEFAULT '',
  email           TEXT NOT NULL DEFAULT '',
  phone           TEXT NOT NULL DEFAULT '',
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX people_city ON people(city_id, id);
CREATE INDEX people_organization ON people(organization_id, id);
CREATE INDEX people_name ON people(name, id);

CREATE TABLE programs (
  id                INTEGER PRIMARY KEY,
  title             TEXT NOT NULL,
  kind              TEXT NOT NULL,
  description       TEXT NOT NULL DEFAULT '',
  starts_on         TEXT NOT NULL,
  ends_on           TEXT NOT NULL DEFAULT '',
  parent_program_id INTEGER REFERENCES programs(id),
  team_rules        TEXT,
  review_criteria   TEXT NOT NULL DEFAULT '[]',
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL
) STRICT;
CREATE INDEX programs_parent ON programs(parent_program_id, id);
CREATE INDEX programs_kind ON programs(kind, id);

CREATE TABLE program_organizations (
  program_id      INTEGER NOT NULL REFERENCES programs(id) ON DELETE CASCADE,
  organization_id INTEGER NOT NULL REFERENCES organizations(id),
  role            TEXT NOT NULL CHECK (role IN ('organizer', 'partner')),
  position        INTEGER NOT NULL,
  PRIMARY KEY (program_id, organization_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX program_organizations_organization ON program_organizations(organization_id);
)sql"},
      {4, "teams and team members", R"sql(
CREATE TABLE teams (
  id          INTEGER PRIMARY KEY,
  city_id     INTEGER NOT NULL REFERENCES cities(id),
  program_id  INTEGER REFERENCES programs(id),
  name        TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  status      TEXT NOT NULL CHECK (status IN ('forming', 'active', 'completed', 'archived')),
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX teams_city ON teams(city_id, id);
CREATE INDEX teams_program ON teams(program_id, id);
CREATE INDEX teams_status ON teams(status, id);
CREATE INDEX teams_name ON teams(name, id);

-- A team's memberships are its parts: they go with it.
CREATE TABLE team_members (
  id         INTEGER PRIMARY KEY,
  team_id    INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
  person_id  INTEGER NOT NULL REFERENCES people(id),
  sector     TEXT NOT NULL,
  role       TEXT NOT NULL CHECK (role IN ('lead', 'member', 'mentor')),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (team_id, person_id)
) STRICT;
CREATE UNIQUE INDEX team_members_one_lead ON team_members(team_id) WHERE role = 'lead';
CREATE INDEX team_members_team ON team_members(team_id, id);
CREATE INDEX team_members_person ON team_members(person_id, id);
)sql"},
      {5, "events and sessions", R"sql(
CREATE TABLE events (
  id                     INTEGER PRIMARY KEY,
  kind                   TEXT NOT NULL,
  title                  TEXT NOT NULL,
  description            TEXT NOT NULL DEFAULT '',
  program_id             INTEGER REFERENCES programs(id),
  city_id                INTEGER NOT NULL REFERENCES cities(id),
  venue                  TEXT NOT NULL DEFAULT '',
  format                 TEXT NOT NULL,
  starts_at              INTEGER NOT NULL,
  ends_at                INTEGER NOT NULL,
  capacity               INTEGER,
  registration_opens_at  INTEGER,
  registration_closes_at INTEGER,
  status                 TEXT NOT NULL,
  created_at             INTEGER NOT NULL,
  updated_at             INTEGER NOT NULL
) STRICT;
CREATE INDEX events_starts ON events(starts_at, id);
CREATE INDEX events_city ON events(city_id, starts_at, id);
CREATE INDEX events_program ON events(program_id, starts_at, id);
CREATE INDEX events_status ON events(status, starts_at, id);

CREATE TABLE event_organizations (
  event_id        INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
  organization_id INTEGER NOT NULL REFERENCES organizations(id),
  role            TEXT NOT NULL CHECK (role IN ('organizer', 'partner')),
  position        INTEGER NOT NULL,
  PRIMARY KEY (event_id, organization_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX event_organizations_organization ON event_organizations(organization_id);

-- Sessions are parts of their event: deleting a (draft) event deletes them.
CREATE TABLE sessions (
  id          INTEGER PRIMARY KEY,
  event_id    INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
  kind        TEXT NOT NULL,
  title       TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  starts_at   INTEGER NOT NULL,
  ends_at     INTEGER NOT NULL,
  room        TEXT NOT NULL DEFAULT '',
  capacity    INTEGER,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_event ON sessions(event_id, starts_at, id);
CREATE INDEX sessions_starts ON sessions(starts_at, id);

-- One row per person and session: a person is a speaker or a moderator, not both.
CREATE TABLE session_people (
  session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  person_id  INTEGER NOT NULL REFERENCES people(id),
  role       TEXT NOT NULL CHECK (role IN ('speaker', 'moderator')),
  position   INTEGER NOT NULL,
  PRIMARY KEY (session_id, person_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX session_people_person ON session_people(person_id);
)sql"},
      {6, "awards, nominations, nominees, laureates", R"sql(
-- `version` grows in the same transaction as every change to the award, its nominations or its
-- nominees: the ballot syncs by it (proto-docs/awards-sync.md).
CREATE TABLE awards (
  id                         INTEGER PRIMARY KEY,
  title                      TEXT NOT NULL,
  edition_year               INTEGER NOT NULL,
  program_id                 INTEGER REFERENCES programs(id),
  description                TEXT NOT NULL DEFAULT '',
  voting_opens_at            INTEGER NOT NULL,
  voting_closes_at           INTEGER NOT NULL,
  max_choices_per_nomination INTEGER NOT NULL DEFAULT 1,
  results_visibility         TEXT NOT NULL,
  status                     TEXT NOT NULL
    CHECK (status IN ('draft', 'published', 'voting', 'closed', 'archived')),
  version                    INTEGER NOT NULL DEFAULT 1,
  created_at                 INTEGER NOT NULL,
  updated_at                 INTEGER NOT NULL
) STRICT;
CREATE INDEX awards_program ON awards(program_id, id);
CREATE INDEX awards_status ON awards(status, id);
CREATE INDEX awards_edition_year ON awards(edition_year, id);

CREATE TABLE nominations (
  id          INTEGER PRIMARY KEY,
  award_id    INTEGER NOT NULL REFERENCES awards(id),
  title       TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  UNIQUE (award_id, title)
) STRICT;

CREATE TABLE nominees (
  id            INTEGER PRIMARY KEY,
  nomination_id INTEGER NOT NULL REFERENCES nominations(id),
  kind          TEXT NOT NULL CHECK (kind IN ('person', 'project')),
  person_id     INTEGER REFERENCES people(id),
  project_title TEXT NOT NULL DEFAULT '',
  name          TEXT NOT NULL,
  city_id       INTEGER NOT NULL REFERENCES cities(id),
  status        TEXT NOT NULL CHECK (status IN ('active', 'withdrawn')),
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX nominees_nomination ON nominees(nomination_id, id);
CREATE INDEX nominees_city ON nominees(city_id, id);
CREATE INDEX nominees_person ON nominees(person_id);
CREATE INDEX nominees_name ON nominees(name, id);

-- Written once, when the award closes; read-only afterwards.
CREATE TABLE laureates (
  id            INTEGER PRIMARY KEY,
  award_id      INTEGER NOT NULL REFERENCES awards(id),
  nomination_id INTEGER NOT NULL REFERENCES nominations(id),
  nominee_id    INTEGER NOT NULL REFERENCES nominees(id),
  votes         INTEGER NOT NULL,
  rank          INTEGER NOT NULL,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  UNIQUE (award_id, nominee_id)
) STRICT;
CREATE INDEX laureates_nomination ON laureates(nomination_id, id);
CREATE INDEX laureates_nominee ON laureates(nominee_id);
)sql"},
      {7, "indexes for filtered lists sorted by name", R"sql(
CREATE INDEX people_organization_name ON people(organization_id, name, id);
CREATE INDEX people_city_name ON people(city_id, name, id);
CREATE INDEX organizations_city_name ON organizations(city_id, name, id);
)sql"},
      {8, "registrations", R"sql(
-- A person's place at an event. AUTOINCREMENT: an id is never given twice, even after the
-- newest row went away. One active (not cancelled) registration per person and event.
CREATE TABLE registrations (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id      INTEGER NOT NULL REFERENCES events(id),
  person_id     INTEGER NOT NULL REFERENCES people(id),
  status        TEXT NOT NULL CHECK (status IN ('confirmed', 'waitlisted', 'cancelled')),
  checked_in_at INTEGER,
  cancelled_at  INTEGER,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX registrations_active ON registrations(event_id, person_id)
  WHERE status <> 'cancelled';
CREATE INDEX registrations_event_status ON registrations(event_id, status, id);
CREATE INDEX registrations_person ON registrations(person_id, id);
)sql"},
      {9, "social projects and expert reviews", R"sql(
-- A team's social project. AUTOINCREMENT: an id is never given twice.
CREATE TABLE projects (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  team_id    INTEGER NOT NULL REFERENCES teams(id),
  program_id INTEGER REFERENCES programs(id),
  title      TEXT NOT NULL,
  summary    TEXT NOT NULL DEFAULT '',
  status     TEXT NOT NULL
    CHECK (status IN ('draft', 'submitted', 'selected', 'not_selected', 'withdrawn')),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX projects_team ON projects(team_id, id);
CREATE INDEX projects_program ON projects(program_id, status, id);
CREATE INDEX projects_status ON projects(status, id);
CREATE INDEX projects_title ON projects(title, id);

-- One expert's review of one project: `scores` is a JSON object, a score from 1 to 10 for each
-- review criterion of the project's program (by name); score_points / score_weight is their
-- mean weighted by the program's weights (which cannot change once a project is reviewed).
CREATE TABLE reviews (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  project_id   INTEGER NOT NULL REFERENCES projects(id),
  expert_id    INTEGER NOT NULL REFERENCES people(id),
  scores       TEXT NOT NULL,
  score_points INTEGER NOT NULL,
  score_weight INTEGER NOT NULL,
  comment      TEXT NOT NULL DEFAULT '',
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  UNIQUE (project_id, expert_id)
) STRICT;
CREATE INDEX reviews_expert ON reviews(expert_id, id);
)sql"},
      // Ids that never repeat: a deleted newest row's id is not given to the next one (clients,
      // caches and the ballot may still hold it). Tables created before migration 8 are
      // rebuilt with AUTOINCREMENT; their ids continue from the highest one stored.
      {10, "ids are never given twice", "",
       [](sqlite::Database& db) {
         for (const char* table :
              {"cities", "organizations", "people", "programs", "teams", "team_members", "events",
               "sessions", "awards", "nominations", "nominees", "laureates"}) {
           sqlite::RebuildWithAutoincrementId(db, table);
         }
       },
       true},
      // Text search (storage/search.hpp): an FTS5 table of stems per searchable table, filled
      // from the rows already stored and kept in step by triggers.
      {11, "text search",
       [] {
         std::string sql;
         for (const auto& [table, columns] : std::vector<std::pair<std::string, std::string>>{
                  {"cities", "name, region"},
                  {"organizations", "name"},
                  {"people", "name, position"},
                  {"programs", "title, description"},
                  {"teams", "name, description"},
                  {"events", "title, description, venue"},
                  {"projects", "title, summary"},
                  {"awards", "title, description"},
                  {"nominations", "title, description"},
                  {"nominees", "name, project_title"},
                  {"sessions", "title, description"},
              }) {
           sql += SearchIndexSql(table, columns);
         }
         return sql;
       }()},
      {12, "API keys, expert assignments, audit trail", R"sql(
-- A key is stored as the SHA-256 of its token; `prefix` is the token's visible start. Keys are
-- revoked, never deleted: the audit trail names them.
CREATE TABLE api_keys (
  id                INTEGER PRIMARY KEY AUTOINCREMENT,
  name              TEXT NOT NULL,
  prefix            TEXT NOT NULL,
  token_hash        TEXT NOT NULL UNIQUE,
  role              TEXT NOT NULL
    CHECK (role IN ('admin', 'organizer', 'expert', 'frontend', 'voting_client', 'sync')),
  program_ids       TEXT NOT NULL DEFAULT '[]',
  award_ids         TEXT NOT NULL DEFAULT '[]',
  person_id         INTEGER REFERENCES people(id),
  created_by_key_id INTEGER NOT NULL,
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL,
  last_used_at      INTEGER,
  expires_at        INTEGER,
  revoked_at        INTEGER
) STRICT;
CREATE INDEX api_keys_role ON api_keys(role, id);
CREATE INDEX api_keys_prefix ON api_keys(prefix, id);

-- The experts assigned to review a project; they go with the project.
CREATE TABLE project_experts (
  project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  person_id  INTEGER NOT NULL REFERENCES people(id),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (project_id, person_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX project_experts_person ON project_experts(person_id, project_id);

-- One record per write made with a key. Append-only: never changed, and removed only by the
-- retention purge, once older than a day at least.
CREATE TABLE audit_events (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  at          INTEGER NOT NULL,
  key_id      INTEGER NOT NULL,
  key_prefix  TEXT NOT NULL,
  role        TEXT NOT NULL,
  method      TEXT NOT NULL,
  route       TEXT NOT NULL,
  path        TEXT NOT NULL,
  object_type TEXT NOT NULL,
  object_id   INTEGER,
  status      INTEGER NOT NULL,
  changes     TEXT NOT NULL
) STRICT;
CREATE INDEX audit_events_object ON audit_events(object_type, object_id, id);
CREATE INDEX audit_events_key ON audit_events(key_id, id);
CREATE INDEX audit_events_at ON audit_events(at, id);
CREATE TRIGGER audit_events_append_only BEFORE UPDATE ON audit_events
BEGIN
  SELECT RAISE(ABORT, 'audit records are never changed');
END;
CREATE TRIGGER audit_events_kept BEFORE DELETE ON audit_events
  WHEN OLD.at > (unixepoch('now') - 86400) * 1000
BEGIN
  SELECT RAISE(ABORT, 'audit records are kept a day at least');
END;
)sql"},
      // Russian name order (storage/sort_keys.hpp): an ICU sort key beside each sorted name,
      // kept in step by triggers, indexed for keyset pages of ?sort=name.
      {13, "Russian sort keys for names",
       [] {
         std::string sql;
         for (const char* table : {"people", "cities", "organizations", "teams"}) {
           sql += SortKeySql(table);
         }
         sql +=
             "CREATE INDEX people_city_name_key ON people(city_id, name_key, id);\n"
             "CREATE INDEX people_organization_name_key ON people(organization_id, name_key, id);\n"
             "CREATE INDEX organizations_city_name_key ON organizations(city_id, name_key, id);\n"
             "CREATE INDEX teams_program_name_key ON teams(program_id, name_key, id);\n";
         return sql;
       }()},
      {14, "events inside events", R"sql(
ALTER TABLE events ADD COLUMN parent_event_id INTEGER REFERENCES events(id);
CREATE INDEX events_parent ON events(parent_event_id, starts_at, id);
)sql"},
      {15, "session registrations", R"sql(
-- A person's place at a session, resting on their confirmed registration for its event: one
-- active (not cancelled) per person and session; cancelled ones stay for history.
CREATE TABLE session_registrations (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id      INTEGER NOT NULL REFERENCES sessions(id),
  registration_id INTEGER NOT NULL REFERENCES registrations(id),
  person_id       INTEGER NOT NULL REFERENCES people(id),
  status          TEXT NOT NULL CHECK (status IN ('confirmed', 'waitlisted', 'cancelled')),
  cancelled_at    INTEGER,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX session_registrations_active ON session_registrations(session_id, person_id)
  WHERE status <> 'cancelled';
CREATE INDEX session_registrations_session_status ON session_registrations(session_id, status, id);
CREATE INDEX session_registrations_registration ON session_registrations(registration_id, id);
CREATE INDEX session_registrations_person ON session_registrations(person_id, status, id);
)sql"},
      {16, "registrations made for a team", R"sql(
ALTER TABLE registrations ADD COLUMN team_id INTEGER REFERENCES teams(id);
CREATE INDEX registrations_team ON registrations(team_id, id) WHERE team_id IS NOT NULL;
)sql"},
      // Statistics that cost the same at 100 or 100,000 registrations: counters per event,
      // dimension (all, city, sector, team) and status, kept in step by triggers in the
      // transaction of every registration change. A registration keeps the person's city and
      // organisation sector as they were when it was made, so its counters never drift.
      {17, "registration counters", R"sql(
ALTER TABLE registrations ADD COLUMN city_id INTEGER;
ALTER TABLE registrations ADD COLUMN sector TEXT;
UPDATE registrations SET
  city_id = (SELECT city_id FROM people WHERE people.id = registrations.person_id),
  sector = (SELECT o.sector FROM people p JOIN organizations o ON o.id = p.organization_id
            WHERE p.id = registrations.person_id);

-- status is confirmed, waitlisted, cancelled, or attended (checked in); key is '' for the
-- whole event (dimension 'all') and for people without a city, sector or team.
CREATE TABLE registration_counts (
  event_id  INTEGER NOT NULL,
  dimension TEXT NOT NULL CHECK (dimension IN ('all', 'city', 'sector', 'team')),
  key       TEXT NOT NULL,
  status    TEXT NOT NULL,
  count     INTEGER NOT NULL,
  PRIMARY KEY (event_id, dimension, key, status)
) STRICT, WITHOUT ROWID;

INSERT INTO registration_counts(event_id, dimension, key, status, count)
  SELECT event_id, 'all', '', status, count(*) FROM registrations GROUP BY 1, 2, 3, 4
  UNION ALL
  SELECT event_id, 'city', coalesce(CAST(city_id AS TEXT), ''), status, count(*)
    FROM registrations GROUP BY 1, 2, 3, 4
  UNION ALL
  SELECT event_id, 'sector', coalesce(sector, ''), status, count(*)
    FROM registrations GROUP BY 1, 2, 3, 4
  UNION ALL
  SELECT event_id, 'team', coalesce(CAST(team_id AS TEXT), ''), status, count(*)
    FROM registrations GROUP BY 1, 2, 3, 4
  UNION ALL
  SELECT event_id, 'all', '', 'attended', count(*) FROM registrations
    WHERE checked_in_at IS NOT NULL GROUP BY 1, 2, 3, 4
  UNION ALL
  SELECT event_id, 'city', coalesce(CAST(city_id AS TEXT), ''), 'attended', count(*)
    FROM registrations WHERE checked_in_at IS NOT NULL GROUP BY 1, 2, 3, 4
  UNION ALL
  SELECT event_id, 'sector', coalesce(sector, ''), 'attended', count(*)
    FROM registrations WHERE checked_in_at IS NOT NULL GROUP BY 1, 2, 3, 4
  UNION ALL
  SELECT event_id, 'team', coalesce(CAST(team_id AS TEXT), ''), 'attended', count(*)
    FROM registrations WHERE checked_in_at IS NOT NULL GROUP BY 1, 2, 3, 4;

CREATE TRIGGER registration_counts_insert AFTER INSERT ON registrations
BEGIN
  INSERT INTO registration_counts(event_id, dimension, key, status, count) VALUES
    (new.event_id, 'all', '', new.status, 1),
    (new.event_id, 'city', coalesce(CAST(new.city_id AS TEXT), ''), new.status, 1),
    (new.event_id, 'sector', coalesce(new.sector, ''), new.status, 1),
    (new.event_id, 'team', coalesce(CAST(new.team_id AS TEXT), ''), new.status, 1)
  ON CONFLICT DO UPDATE SET count = count + 1;
END;
CREATE TRIGGER registration_counts_status AFTER UPDATE OF status ON registrations
  WHEN old.status <> new.status
BEGIN
  UPDATE registration_counts SET count = count - 1
    WHERE event_id = old.event_id AND dimension = 'all' AND key = '' AND status = old.status;
  UPDATE registration_counts SET count = count - 1
    WHERE event_id = old.event_id AND dimension = 'city' AND
          key = coalesce(CAST(old.city_id AS TEXT), '') AND status = old.status;
  UPDATE registration_counts SET count = count - 1
    WHERE event_id = old.event_id AND dimension = 'sector' AND key = coalesce(old.sector, '') AND
          status = old.status;
  UPDATE registration_counts SET count = count - 1
    WHERE event_id = old.event_id AND dimension = 'team' AND
          key = coalesce(CAST(old.team_id AS TEXT), '') AND status = old.status;
  INSERT INTO registration_counts(event_id, dimension, key, status, count) VALUES
    (new.event_id, 'all', '', new.status, 1),
    (new.event_id, 'city', coalesce(CAST(new.city_id AS TEXT), ''), new.status, 1),
    (new.event_id, 'sector', coalesce(new.sector, ''), new.status, 1),
    (new.event_id, 'team', coalesce(CAST(new.team_id AS TEXT), ''), new.status, 1)
  ON CONFLICT DO UPDATE SET count = count + 1;
END;
CREATE TRIGGER registration_counts_attended AFTER UPDATE OF checked_in_at ON registrations
  WHEN old.checked_in_at IS NULL AND new.checked_in_at IS NOT NULL
BEGIN
  INSERT INTO registration_counts(event_id, dimension, key, status, count) VALUES
    (new.event_id, 'all', '', 'attended', 1),
    (new.event_id, 'city', coalesce(CAST(new.city_id AS TEXT), ''), 'attended', 1),
    (new.event_id, 'sector', coalesce(new.sector, ''), 'attended', 1),
    (new.event_id, 'team', coalesce(CAST(new.team_id AS TEXT), ''), 'attended', 1)
  ON CONFLICT DO UPDATE SET count = count + 1;
END;
)sql"},
      {18, "webhook subscriptions and the outbox", R"sql(
-- Who wants which events, where. The signing secret is kept as given to the subscriber
-- ("whsec_..."): signing needs it (docs/security.md).
CREATE TABLE webhook_subscriptions (
  id                         INTEGER PRIMARY KEY AUTOINCREMENT,
  url                        TEXT NOT NULL,
  event_types                TEXT NOT NULL,
  program_id                 INTEGER REFERENCES programs(id) ON DELETE CASCADE,
  description                TEXT NOT NULL DEFAULT '',
  owner_key_id               INTEGER NOT NULL,
  secret                     TEXT NOT NULL,
  previous_secret            TEXT,
  previous_secret_expires_at INTEGER,
  enabled                    INTEGER NOT NULL DEFAULT 1,
  disabled_reason            TEXT,
  disabled_at                INTEGER,
  created_at                 INTEGER NOT NULL,
  updated_at                 INTEGER NOT NULL
) STRICT;
CREATE INDEX webhook_subscriptions_program ON webhook_subscriptions(program_id, id);

-- What happened, written in the transaction of the change.
CREATE TABLE outbox_events (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  uid         TEXT NOT NULL UNIQUE,
  type        TEXT NOT NULL,
  object_type TEXT NOT NULL,
  object_id   INTEGER NOT NULL,
  program_id  INTEGER,
  occurred_at INTEGER NOT NULL
) STRICT;
CREATE INDEX outbox_events_object ON outbox_events(object_type, object_id, type);

-- One message to send per event and subscriber (or e-mail recipient); message_id is the
-- webhook-id, the same on every attempt and redelivery.
CREATE TABLE outbox_deliveries (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id         INTEGER NOT NULL REFERENCES outbox_events(id) ON DELETE CASCADE,
  channel          TEXT NOT NULL CHECK (channel IN ('webhook', 'email')),
  subscription_id  INTEGER REFERENCES webhook_subscriptions(id) ON DELETE CASCADE,
  recipient        TEXT,
  message_id       TEXT NOT NULL,
  body             TEXT NOT NULL,
  state            TEXT NOT NULL DEFAULT 'pending'
    CHECK (state IN ('pending', 'delivered', 'failed')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  INTEGER NOT NULL,
  last_attempt_at  INTEGER,
  last_outcome     TEXT,
  last_status_code INTEGER,
  delivered_at     INTEGER,
  redelivery_of    INTEGER,
  created_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX outbox_deliveries_pending ON outbox_deliveries(state, subscription_id, id);
CREATE INDEX outbox_deliveries_subscription ON outbox_deliveries(subscription_id, id);

-- Every try of a delivery.
CREATE TABLE outbox_attempts (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  delivery_id INTEGER NOT NULL REFERENCES outbox_deliveries(id) ON DELETE CASCADE,
  at          INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  outcome     TEXT NOT NULL,
  status_code INTEGER,
  error       TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX outbox_attempts_delivery ON outbox_attempts(delivery_id, id);
)sql"},
      {19, "nominee cards", R"sql(
ALTER TABLE nominees ADD COLUMN summary TEXT NOT NULL DEFAULT '';
ALTER TABLE nominees ADD COLUMN story TEXT NOT NULL DEFAULT '';
ALTER TABLE nominees ADD COLUMN links TEXT NOT NULL DEFAULT '[]';
ALTER TABLE nominees ADD COLUMN project_summary TEXT NOT NULL DEFAULT '';
ALTER TABLE nominees ADD COLUMN photo_alt TEXT NOT NULL DEFAULT '';
-- A nominee's photo, uploaded and kept here (type and size checked on upload).
CREATE TABLE nominee_photos (
  nominee_id   INTEGER PRIMARY KEY REFERENCES nominees(id) ON DELETE CASCADE,
  content_type TEXT NOT NULL,
  bytes        BLOB NOT NULL,
  sha256       TEXT NOT NULL,
  updated_at   INTEGER NOT NULL
) STRICT;
)sql"},
      {20, "award applications and moderation", R"sql(
ALTER TABLE awards ADD COLUMN applications_open_at INTEGER;
ALTER TABLE awards ADD COLUMN applications_close_at INTEGER;
-- A resident's application for a nomination, made through a frontend's key. The applicant's
-- contact is private (organisers of the award's program and admins only); the status token is
-- stored as its SHA-256 only.
CREATE TABLE applications (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  award_id         INTEGER NOT NULL REFERENCES awards(id),
  nomination_id    INTEGER NOT NULL REFERENCES nominations(id),
  kind             TEXT NOT NULL,
  person_id        INTEGER REFERENCES people(id),
  name             TEXT NOT NULL,
  project_title    TEXT NOT NULL DEFAULT '',
  city_id          INTEGER NOT NULL REFERENCES cities(id),
  summary          TEXT NOT NULL DEFAULT '',
  story            TEXT NOT NULL DEFAULT '',
  links            TEXT NOT NULL DEFAULT '[]',
  project_summary  TEXT NOT NULL DEFAULT '',
  applicant_name   TEXT NOT NULL,
  applicant_email  TEXT NOT NULL DEFAULT '',
  applicant_phone  TEXT NOT NULL DEFAULT '',
  consent_at       INTEGER NOT NULL,
  consent_text     TEXT NOT NULL,
  status           TEXT NOT NULL,
  reason           TEXT NOT NULL DEFAULT '',
  nominee_id       INTEGER REFERENCES nominees(id),
  duplicate_key    TEXT NOT NULL,
  token_sha256     TEXT NOT NULL UNIQUE,
  submitted_by_key INTEGER NOT NULL,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX applications_award ON applications(award_id, nomination_id, status, id);
CREATE INDEX applications_duplicates ON applications(nomination_id, duplicate_key);
)sql"},
      {21, "calendar feed tokens", R"sql(
-- A person's calendar feed token (GET /v1/calendar-feeds/{token}), stored as its SHA-256 only;
-- one per person: issuing a new one replaces the old, which then opens nothing.
CREATE TABLE calendar_feed_tokens (
  person_id      INTEGER PRIMARY KEY REFERENCES people(id) ON DELETE CASCADE,
  token_sha256   TEXT NOT NULL UNIQUE,
  created_by_key INTEGER NOT NULL,
  created_at     INTEGER NOT NULL
) STRICT;
)sql"},
      {22, "contact holders", R"sql(
-- The programs whose organisers hold a person's contacts (docs/security.md, "Contacts"): given
-- when the person is created with a program's key, or linked to a program (registered, made a
-- member, speaker, nominee, expert) by an admin, by the person, or by an organiser that already
-- holds them. A link an organiser makes alone gives nothing.
CREATE TABLE contact_holders (
  person_id  INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
  program_id INTEGER NOT NULL REFERENCES programs(id) ON DELETE CASCADE,
  PRIMARY KEY (person_id, program_id)
) STRICT, WITHOUT ROWID;
-- Until now every link gave them: the links that exist keep doing so.
INSERT OR IGNORE INTO contact_holders(person_id, program_id)
  SELECT m.person_id, t.program_id FROM team_members m JOIN teams t ON t.id = m.team_id
  UNION SELECT r.person_id, e.program_id FROM registrations r JOIN events e ON e.id = r.event_id
  UNION SELECT sp.person_id, e.program_id FROM session_people sp
    JOIN sessions s ON s.id = sp.session_id JOIN events e ON e.id = s.event_id
  UNION SELECT n.person_id, a.program_id FROM nominees n
    JOIN nominations nn ON nn.id = n.nomination_id JOIN awards a ON a.id = nn.award_id
    WHERE n.person_id IS NOT NULL
  UNION SELECT v.expert_id, p.program_id FROM reviews v JOIN projects p ON p.id = v.project_id
  UNION SELECT x.person_id, p.program_id FROM project_experts x
    JOIN projects p ON p.id = x.project_id;
)sql"},
      // Applications: an approved one names its nominee's person; duplicates are looked for
      // among a nomination's applications from the candidate's city.
      {23, "application person and candidates index", R"sql(
UPDATE applications SET person_id = (SELECT person_id FROM nominees WHERE id = nominee_id)
  WHERE status = 'approved' AND person_id IS NULL AND nominee_id IS NOT NULL;
CREATE INDEX applications_candidates ON applications(nomination_id, city_id, id);
)sql"},
      // An event's registrations in id order, for exports read in pages (WHERE event_id = ? AND
      // id > ? ORDER BY id): a range of this index, not a sort of the event's every row.
      {24, "registrations of an event in id order", R"sql(
CREATE INDEX registrations_event_id ON registrations(event_id, id);
)sql"},
      // Attendance per day and per session: one row per check-in, at most one per person and
      // day of an event and one per person and session. registrations.checked_in_at stays the
      // first check-in of any kind. Counters per event and day or session, kept in step by
      // triggers, give the statistics without a scan. Check-ins stored before (an instant on
      // the registration) become check-ins for the event's day they fell on, in its zone
      // (clamped to the event's days).
      {25, "attendance per day and per session", R"sql(
CREATE TABLE attendances (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  registration_id INTEGER NOT NULL REFERENCES registrations(id),
  event_id        INTEGER NOT NULL REFERENCES events(id),
  person_id       INTEGER NOT NULL REFERENCES people(id),
  day             TEXT,
  session_id      INTEGER REFERENCES sessions(id),
  checked_in_at   INTEGER NOT NULL,
  CHECK ((day IS NULL) <> (session_id IS NULL))
) STRICT;
CREATE UNIQUE INDEX attendances_person_day ON attendances(event_id, day, person_id)
  WHERE day IS NOT NULL;
CREATE UNIQUE INDEX attendances_person_session ON attendances(session_id, person_id)
  WHERE session_id IS NOT NULL;
CREATE INDEX attendances_event_day ON attendances(event_id, day, id);
CREATE INDEX attendances_session ON attendances(session_id, id) WHERE session_id IS NOT NULL;
CREATE INDEX attendances_registration ON attendances(registration_id, id);
CREATE INDEX attendances_person ON attendances(person_id, id);

-- day is '' for a session's counter, session_id 0 for a day's.
CREATE TABLE attendance_counts (
  event_id   INTEGER NOT NULL,
  day        TEXT NOT NULL,
  session_id INTEGER NOT NULL,
  count      INTEGER NOT NULL,
  PRIMARY KEY (event_id, day, session_id)
) STRICT, WITHOUT ROWID;
CREATE TRIGGER attendance_counts_insert AFTER INSERT ON attendances
BEGIN
  INSERT INTO attendance_counts(event_id, day, session_id, count)
    VALUES (new.event_id, coalesce(new.day, ''), coalesce(new.session_id, 0), 1)
  ON CONFLICT DO UPDATE SET count = count + 1;
END;
CREATE TRIGGER attendance_counts_delete AFTER DELETE ON attendances
BEGIN
  UPDATE attendance_counts SET count = count - 1
    WHERE event_id = old.event_id AND day = coalesce(old.day, '') AND
          session_id = coalesce(old.session_id, 0);
END;
-- An undone check-in that was the person's last one: they no longer count as attended.
CREATE TRIGGER registration_counts_unattended AFTER UPDATE OF checked_in_at ON registrations
  WHEN old.checked_in_at IS NOT NULL AND new.checked_in_at IS NULL
BEGIN
  UPDATE registration_counts SET count = count - 1
    WHERE event_id = old.event_id AND status = 'attended' AND (
      (dimension = 'all' AND key = '') OR
      (dimension = 'city' AND key = coalesce(CAST(old.city_id AS TEXT), '')) OR
      (dimension = 'sector' AND key = coalesce(old.sector, '')) OR
      (dimension = 'team' AND key = coalesce(CAST(old.team_id AS TEXT), '')));
END;

INSERT INTO attendances(registration_id, event_id, person_id, day, session_id, checked_in_at)
  SELECT r.id, r.event_id, r.person_id,
         max(civic_local_date(e.starts_at, c.time_zone),
             min(civic_local_date(max(e.ends_at - 1, e.starts_at), c.time_zone),
                 civic_local_date(r.checked_in_at, c.time_zone))),
         NULL, r.checked_in_at
    FROM registrations AS r JOIN events AS e ON e.id = r.event_id
         JOIN cities AS c ON c.id = e.city_id
   WHERE r.checked_in_at IS NOT NULL
   ORDER BY r.id;
)sql"},
      // ?sort=name of nominees in Russian order (storage/sort_keys.hpp), and the award beside
      // each nominee (a nominee stays with its award) so that an award's name-sorted page is an
      // index range scan too.
      {26, "Russian sort keys for nominees", SortKeySql("nominees") + R"sql(
ALTER TABLE nominees ADD COLUMN award_id INTEGER;
UPDATE nominees SET award_id =
  (SELECT award_id FROM nominations WHERE nominations.id = nominees.nomination_id);
CREATE TRIGGER nominees_award_insert AFTER INSERT ON nominees
BEGIN
  UPDATE nominees SET award_id =
    (SELECT award_id FROM nominations WHERE nominations.id = new.nomination_id)
  WHERE id = new.id;
END;
CREATE TRIGGER nominees_award_update AFTER UPDATE OF nomination_id ON nominees
BEGIN
  UPDATE nominees SET award_id =
    (SELECT award_id FROM nominations WHERE nominations.id = new.nomination_id)
  WHERE id = new.id;
END;
CREATE INDEX nominees_nomination_name_key ON nominees(nomination_id, name_key, id);
CREATE INDEX nominees_award_name_key ON nominees(award_id, name_key, id);
)sql"},
  };
  return kMigrations;
}

}  // namespace civic::events
