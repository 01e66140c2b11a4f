#pragma once

// Who already voted for whom: one 24-byte entry per accepted vote, in flat open-addressing
// tables (linear probing), sharded by key with one mutex per shard, so concurrent votes of
// different voters rarely meet on a lock and no global lock is taken.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "crypto.hpp"

namespace civic::ballot {

// The dedup key of (award, nomination, voter), derived from the voter hash (already keyed and
// per award) and the nomination id: 96 bits compared in the table, 6 more choose the shard.
struct DedupKey {
  uint64_t lo = 0;
  uint32_t hi = 0;
  uint32_t route = 0;
};

DedupKey MakeDedupKey(const VoterHash& voter_hash, int64_t nomination_id);

class DedupIndex {
 public:
  enum class Found {
    kNone,         // the voter supports nobody in this nomination yet
    kSame,         // the voter already supports this nominee (seq: that vote)
    kFull,         // the voter already supports K other nominees
    kNotAccepted,  // Reserve only: not found, and `may_insert` was false
    kReserved,     // Reserve only: a new pending entry was inserted with `seq`
  };
  struct Decision {
    Found found = Found::kNone;
    uint64_t seq = 0;
    // Whether the decision rests on an entry not yet durable: the caller must wait for it.
    bool pending = false;
  };

  static constexpr int kShards = 64;

  DedupIndex();

  // Atomically: kSame if (key, nominee) exists; else kNotAccepted unless `may_insert`; else
  // kFull if the key has `k` entries; else inserts a pending entry with seq = next_seq++ and
  // returns kReserved.
  Decision Reserve(const DedupKey& key, uint32_t nominee, int k, bool may_insert,
                   std::atomic<uint64_t>& next_seq);
  // kSame / kFull / kNone as Reserve would decide, without inserting.
  Decision Check(const DedupKey& key, uint32_t nominee, int k) const;
  // The pending entry (key, nominee, seq) is now durable.
  void MarkCommitted(const DedupKey& key, uint32_t nominee, uint64_t seq);
  // Removes the pending entry (key, nominee, seq): its commit failed.
  void Remove(const DedupKey& key, uint32_t nominee, uint64_t seq);
  // Adds a durable entry (rebuilding from the log). Returns false if (key, nominee) existed.
  bool InsertCommitted(const DedupKey& key, uint32_t nominee, uint64_t seq);

  // Asks the CPU to bring the home slot of `key` into cache: callers deciding many votes
  // prefetch them all first, so that the lookups that follow do not wait for memory one by one.
  // No lock; any thread.
  void Prefetch(const DedupKey& key) const;

  // Sizes the shards for `entries` in total (before a rebuild), avoiding growth while filling.
  void ReserveCapacity(size_t entries);
  size_t size() const;
  size_t pending() const;
  size_t memory_bytes() const;

 private:
  struct Entry {
    uint64_t lo;
    uint32_t hi;
    uint32_t nominee;
    uint64_t seq;  // kPendingBit | seq; 0 = empty slot
  };
  static_assert(sizeof(Entry) == 24);

  // A zeroed array of entries from anonymous memory (mmap), on transparent huge pages when it is
  // large: random lookups in a table of hundreds of MB otherwise spend much of their time in TLB
  // misses. Pages are touched (resident) only as entries are written.
  class SlotArray {
   public:
    SlotArray() = default;
    explicit SlotArray(size_t n);
    ~SlotArray();
    SlotArray(SlotArray&& other) noexcept;
    SlotArray& operator=(SlotArray&& other) noexcept;
    SlotArray(const SlotArray&) = delete;
    SlotArray& operator=(const SlotArray&) = delete;

    Entry& operator[](size_t i) { return data_[i]; }
    const Entry& operator[](size_t i) const { return data_[i]; }
    size_t size() const { return size_; }
    const Entry* data() const { return data_; }
    size_t bytes() const { return size_ * sizeof(Entry); }

   private:
    Entry* data_ = nullptr;
    size_t size_ = 0;
    void* mapping_ = nullptr;
    size_t mapping_bytes_ = 0;
  };

  struct alignas(64) Shard {
    mutable std::mutex mu;  // guards slots, size and pending
    SlotArray slots;
    size_t size = 0;
    size_t pending = 0;
    // Where the slots are, for Prefetch() without the lock (stale values are harmless there).
    std::atomic<const Entry*> data_hint{nullptr};
    std::atomic<size_t> mask_hint{0};
  };

  Shard& ShardOf(const DedupKey& key) const;
  static void Grow(Shard& shard, size_t capacity);
  static void Insert(Shard& shard, const Entry& entry);  // REQUIRES: shard.mu held, room left
  static Decision Scan(const Shard& shard, const DedupKey& key, uint32_t nominee, int k);
  static size_t Find(const Shard& shard, const DedupKey& key, uint32_t nominee, uint64_t seq);
  static void Erase(Shard& shard, size_t pos);

  std::unique_ptr<Shard[]> shards_;
};

}  // namespace civic::ballot
