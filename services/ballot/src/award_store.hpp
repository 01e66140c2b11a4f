#pragma once

// The ballot's copy of the events API's award snapshots (table `awards`), sync bookkeeping
// (service_meta) and the admin surface's audit trail (audit_events): the one place their SQL
// lives. Thread-safe: one connection behind a mutex.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "civic/sqlite/sqlite.hpp"

namespace civic::ballot {

struct StoredAward {
  int64_t award_id = 0;
  int64_t version = 0;
  bool active = true;
  // The JSON document as received (proto-docs/awards-sync.md, message 2) plus the ballot's
  // "removed_nominations" and "removed_nominees" (StoredAwardJson).
  std::string snapshot;
};

// One record of the ballot's audit trail.
struct AuditRecord {
  int64_t id = 0;          // set when stored
  std::string at;          // RFC 3339 UTC, set when stored
  std::string key_prefix;  // "" for a key of the ballot's own files
  std::string role;        // "admin"
  std::string method;
  std::string route;
  std::string path;
  int status = 0;
};

class AwardStore {
 public:
  // Opens `path` (already migrated). `immutable`: read only, as sqlite::Options::immutable, for
  // a service that starts where it cannot write; every write then throws until SetWritable().
  // Throws sqlite::Error.
  explicit AwardStore(const std::string& path, bool immutable = false);

  // Reopens the file for reading and writing, if it was opened immutable. Call before anything
  // else writes the file. Throws sqlite::Error (the store then stays as it was).
  void SetWritable();

  std::vector<StoredAward> LoadAll();
  // Inserts or replaces the snapshot of `award.award_id`.
  void Save(const StoredAward& award);
  void SetActive(int64_t award_id, bool active);

  // Appends `record` to the audit trail (id and time set here).
  void AppendAudit(const AuditRecord& record);
  // Removes the records older than `days` days (at least 1: the schema keeps a day's).
  void PurgeAudit(int days);
  // At most `limit` records with ids above `after_id`, by id.
  std::vector<AuditRecord> Audit(int64_t after_id, int limit);

  std::optional<std::string> Meta(const std::string& key);
  void SetMeta(const std::string& key, const std::string& value);

 private:
  std::mutex mu_;  // guards db_ and immutable_
  sqlite::Database db_;
  bool immutable_;
};

}  // namespace civic::ballot
