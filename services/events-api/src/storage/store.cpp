#include "storage/store.hpp"

#include "migrations.hpp"
#include "storage/local_dates.hpp"
#include "storage/search.hpp"
#include "storage/sort_keys.hpp"

namespace civic::events {

Store::Store(const std::string& path, int connections, sqlite::Synchronous synchronous)
    : path_(path) {
  sqlite::Options options;
  options.synchronous = synchronous;
  for (int i = 0; i < std::max(1, connections); ++i) {
    auto db = std::make_unique<sqlite::Database>(sqlite::Database::Open(path, options));
    RegisterSearchFunctions(*db);
    RegisterSortKeyFunction(*db);
    RegisterLocalDateFunction(*db);
    if (i == 0) {
      sqlite::Migrate(*db, Migrations());
      RefreshSortKeys(*db);
    }
    free_.push_back(db.get());
    connections_.push_back(std::move(db));
  }
}

Store::~Store() { Close(); }

Store::Lease::Lease(Store& store) : store_(store) {
  std::unique_lock<std::mutex> lock(store_.mu_);
  store_.cv_.wait(lock, [this] { return store_.closed_ || !store_.free_.empty(); });
  if (store_.closed_) {
    throw StoreClosed();
  }
  db_ = store_.free_.back();
  store_.free_.pop_back();
  ++store_.in_use_;
}

Store::Lease::~Lease() {
  {
    std::lock_guard<std::mutex> lock(store_.mu_);
    store_.free_.push_back(db_);
    --store_.in_use_;
  }
  store_.cv_.notify_all();
}

void Store::Close() {
  std::unique_lock<std::mutex> lock(mu_);
  closed_ = true;
  cv_.notify_all();
  cv_.wait(lock, [this] { return in_use_ == 0; });
  free_.clear();
  connections_.clear();
}

std::optional<std::string> Store::NotReadyReason() {
  try {
    return Read([](sqlite::Database& db) -> std::optional<std::string> {
      const int version = sqlite::SchemaVersion(db);
      const int expected = Migrations().back().version;
      if (version != expected) {
        return "database schema is at version " + std::to_string(version) + ", expected " +
               std::to_string(expected);
      }
      return std::nullopt;
    });
  } catch (const StoreClosed&) {
    return "storage is closed";
  } catch (const std::exception& e) {
    return std::string("storage error: ") + e.what();
  }
}

}  // namespace civic::events
