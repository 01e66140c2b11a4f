#pragma once

// The ballot's copy of the events API's award snapshots (table `awards`) and sync bookkeeping
// (service_meta): the one place their SQL lives. Thread-safe: one connection behind a mutex.

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

class AwardStore {
 public:
  // Opens `path` (already migrated). Throws sqlite::Error.
  explicit AwardStore(const std::string& path);

  std::vector<StoredAward> LoadAll();
  // Inserts or replaces the snapshot of `award.award_id`.
  void Save(const StoredAward& award);
  void SetActive(int64_t award_id, bool active);

  std::optional<std::string> Meta(const std::string& key);
  void SetMeta(const std::string& key, const std::string& value);

 private:
  std::mutex mu_;  // guards db_
  sqlite::Database db_;
};

}  // namespace civic::ballot
