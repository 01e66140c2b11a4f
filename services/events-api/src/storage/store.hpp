#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "civic/sqlite/sqlite.hpp"

namespace civic::events {

// Thrown by Store when it is closed (the service is stopping); answered 503.
class StoreClosed : public std::runtime_error {
 public:
  StoreClosed() : std::runtime_error("storage is closed") {}
};

// The events database: a small pool of connections to one SQLite file (WAL), so worker threads
// read concurrently while writes take SQLite's write lock in turn (BEGIN IMMEDIATE).
// Thread-safe.
class Store {
 public:
  // Opens `connections` connections to `path`, creating and migrating the file. `synchronous`
  // kFull makes every commit durable on power loss; kNormal (WAL) survives a process crash but
  // may lose the last commits on power loss, for much faster writes.
  // Throws sqlite::Error naming the file on failure.
  Store(const std::string& path, int connections,
        sqlite::Synchronous synchronous = sqlite::Synchronous::kFull);
  ~Store();

  // Runs fn(db) in a read transaction and returns its result.
  template <class F>
  auto Read(F&& fn) {
    Lease lease(*this);
    sqlite::Transaction txn(lease.db(), sqlite::TransactionMode::kDeferred);
    auto result = fn(lease.db());
    txn.Commit();
    return result;
  }

  // Runs fn(db) in a write transaction (BEGIN IMMEDIATE) committed when fn returns; rolled back
  // when it throws. fn must not write before it has validated its input.
  template <class F>
  auto Write(F&& fn) {
    Lease lease(*this);
    sqlite::Transaction txn(lease.db(), sqlite::TransactionMode::kImmediate);
    auto result = fn(lease.db());
    txn.Commit();
    return result;
  }

  // Waits for connections in use, then closes all. Later calls throw StoreClosed.
  void Close();
  // Nothing when open and migrated to the newest schema; otherwise the reason.
  std::optional<std::string> NotReadyReason();
  const std::string& path() const { return path_; }

 private:
  class Lease {
   public:
    explicit Lease(Store& store);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    sqlite::Database& db() { return *db_; }

   private:
    Store& store_;
    sqlite::Database* db_;
  };

  std::string path_;
  std::mutex mu_;  // guards free_, in_use_, closed_
  std::condition_variable cv_;
  std::vector<std::unique_ptr<sqlite::Database>> connections_;
  std::vector<sqlite::Database*> free_;
  int in_use_ = 0;
  bool closed_ = false;
};

}  // namespace civic::events
