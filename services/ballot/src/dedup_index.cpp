#include "dedup_index.hpp"

#include <sys/mman.h>

#include <bit>
#include <cstring>
#include <new>
#include <utility>

namespace civic::ballot {

namespace {

constexpr uint64_t kPendingBit = uint64_t{1} << 63;
constexpr size_t kInitialCapacity = 1024;  // per shard; a power of two

uint64_t Mix(uint64_t x) {  // splitmix64 finaliser: a bijection with good avalanche
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// Grow when an insert would take the load over 3/4.
bool NeedsRoom(size_t size, size_t capacity) { return (size + 1) * 4 > capacity * 3; }

}  // namespace

DedupKey MakeDedupKey(const VoterHash& voter_hash, int64_t nomination_id) {
  // The voter hash is uniformly random per (award, voter); mixing in the nomination keeps keys
  // of one voter in different nominations apart (Mix is a bijection).
  const uint64_t n = static_cast<uint64_t>(nomination_id);
  const uint64_t a = Load64(voter_hash.data()) ^ Mix(n);
  const uint64_t b = Load64(voter_hash.data() + 8) ^ Mix(n ^ 0x5bd1e9955bd1e995ULL);
  DedupKey key;
  key.lo = a;
  key.hi = static_cast<uint32_t>(b);
  key.route = static_cast<uint32_t>(b >> 32);
  return key;
}

namespace {

constexpr size_t kHugePage = 2 * 1024 * 1024;

}  // namespace

DedupIndex::SlotArray::SlotArray(size_t n) : size_(n) {
  const size_t bytes = n * sizeof(Entry);
  const bool huge = bytes >= kHugePage;
  // Over-allocate by a huge page to place the array on a huge-page boundary.
  mapping_bytes_ = huge ? bytes + kHugePage : bytes;
  mapping_ =
      mmap(nullptr, mapping_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapping_ == MAP_FAILED) {
    mapping_ = nullptr;
    throw std::bad_alloc();
  }
  auto address = reinterpret_cast<uintptr_t>(mapping_);
  if (huge) {
    address = (address + kHugePage - 1) & ~(kHugePage - 1);
    madvise(reinterpret_cast<void*>(address), bytes, MADV_HUGEPAGE);  // a hint; may be refused
  }
  data_ = reinterpret_cast<Entry*>(address);
}

DedupIndex::SlotArray::~SlotArray() {
  if (mapping_ != nullptr) {
    munmap(mapping_, mapping_bytes_);
  }
}

DedupIndex::SlotArray::SlotArray(SlotArray&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      mapping_(std::exchange(other.mapping_, nullptr)),
      mapping_bytes_(std::exchange(other.mapping_bytes_, 0)) {}

DedupIndex::SlotArray& DedupIndex::SlotArray::operator=(SlotArray&& other) noexcept {
  if (this != &other) {
    if (mapping_ != nullptr) {
      munmap(mapping_, mapping_bytes_);
    }
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    mapping_ = std::exchange(other.mapping_, nullptr);
    mapping_bytes_ = std::exchange(other.mapping_bytes_, 0);
  }
  return *this;
}

DedupIndex::DedupIndex() : shards_(new Shard[kShards]) {
  for (int i = 0; i < kShards; ++i) {
    std::lock_guard<std::mutex> lock(shards_[i].mu);
    Grow(shards_[i], kInitialCapacity);
  }
}

void DedupIndex::Prefetch(const DedupKey& key) const {
  const Shard& shard = ShardOf(key);
  const Entry* data = shard.data_hint.load(std::memory_order_relaxed);
  const size_t mask = shard.mask_hint.load(std::memory_order_relaxed);
  if (data != nullptr) {
    __builtin_prefetch(data + (key.lo & mask));
  }
}

DedupIndex::Shard& DedupIndex::ShardOf(const DedupKey& key) const {
  return shards_[key.route & (kShards - 1)];
}

void DedupIndex::Grow(Shard& shard, size_t capacity) {
  SlotArray old = std::move(shard.slots);
  shard.slots = SlotArray(capacity);
  for (size_t i = 0; i < old.size(); ++i) {
    if (old[i].seq != 0) {
      Insert(shard, old[i]);
    }
  }
  shard.data_hint.store(shard.slots.data(), std::memory_order_relaxed);
  shard.mask_hint.store(capacity - 1, std::memory_order_relaxed);
}

void DedupIndex::Insert(Shard& shard, const Entry& entry) {
  const size_t mask = shard.slots.size() - 1;
  size_t pos = entry.lo & mask;
  while (shard.slots[pos].seq != 0) {
    pos = (pos + 1) & mask;
  }
  shard.slots[pos] = entry;
}

DedupIndex::Decision DedupIndex::Scan(const Shard& shard, const DedupKey& key, uint32_t nominee,
                                      int k) {
  const size_t mask = shard.slots.size() - 1;
  int count = 0;
  bool any_pending = false;
  for (size_t pos = key.lo & mask;; pos = (pos + 1) & mask) {
    const Entry& e = shard.slots[pos];
    if (e.seq == 0) {
      break;
    }
    if (e.lo != key.lo || e.hi != key.hi) {
      continue;
    }
    const bool pending = (e.seq & kPendingBit) != 0;
    if (e.nominee == nominee) {
      return Decision{Found::kSame, e.seq & ~kPendingBit, pending};
    }
    ++count;
    any_pending = any_pending || pending;
  }
  if (count >= k) {
    return Decision{Found::kFull, 0, any_pending};
  }
  return Decision{Found::kNone, 0, false};
}

DedupIndex::Decision DedupIndex::Reserve(const DedupKey& key, uint32_t nominee, int k,
                                         bool may_insert, std::atomic<uint64_t>& next_seq) {
  Shard& shard = ShardOf(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  Decision decision = Scan(shard, key, nominee, k);
  if (decision.found == Found::kSame) {
    return decision;
  }
  if (!may_insert) {
    return Decision{Found::kNotAccepted, 0, false};
  }
  if (decision.found == Found::kFull) {
    return decision;
  }
  if (NeedsRoom(shard.size, shard.slots.size())) {
    Grow(shard, shard.slots.size() * 2);
  }
  const uint64_t seq = next_seq.fetch_add(1, std::memory_order_relaxed);
  Insert(shard, Entry{key.lo, key.hi, nominee, seq | kPendingBit});
  ++shard.size;
  ++shard.pending;
  return Decision{Found::kReserved, seq, true};
}

DedupIndex::Decision DedupIndex::Check(const DedupKey& key, uint32_t nominee, int k) const {
  const Shard& shard = ShardOf(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  return Scan(shard, key, nominee, k);
}

size_t DedupIndex::Find(const Shard& shard, const DedupKey& key, uint32_t nominee, uint64_t seq) {
  const size_t mask = shard.slots.size() - 1;
  for (size_t pos = key.lo & mask;; pos = (pos + 1) & mask) {
    const Entry& e = shard.slots[pos];
    if (e.seq == 0) {
      return SIZE_MAX;
    }
    if (e.lo == key.lo && e.hi == key.hi && e.nominee == nominee && (e.seq & ~kPendingBit) == seq) {
      return pos;
    }
  }
}

void DedupIndex::MarkCommitted(const DedupKey& key, uint32_t nominee, uint64_t seq) {
  Shard& shard = ShardOf(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  const size_t pos = Find(shard, key, nominee, seq);
  if (pos != SIZE_MAX && (shard.slots[pos].seq & kPendingBit) != 0) {
    shard.slots[pos].seq = seq;
    --shard.pending;
  }
}

void DedupIndex::Erase(Shard& shard, size_t pos) {
  // Backward-shift deletion keeps every entry reachable from its home slot without tombstones.
  const size_t mask = shard.slots.size() - 1;
  size_t hole = pos;
  for (size_t next = (hole + 1) & mask;; next = (next + 1) & mask) {
    const Entry& e = shard.slots[next];
    if (e.seq == 0) {
      break;
    }
    const size_t home = e.lo & mask;
    // The entry may move into the hole unless its home lies cyclically in (hole, next].
    const bool stays = hole <= next ? (hole < home && home <= next) : (hole < home || home <= next);
    if (!stays) {
      shard.slots[hole] = e;
      hole = next;
    }
  }
  shard.slots[hole] = Entry{};
}

void DedupIndex::Remove(const DedupKey& key, uint32_t nominee, uint64_t seq) {
  Shard& shard = ShardOf(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  const size_t pos = Find(shard, key, nominee, seq);
  if (pos == SIZE_MAX) {
    return;
  }
  if ((shard.slots[pos].seq & kPendingBit) != 0) {
    --shard.pending;
  }
  Erase(shard, pos);
  --shard.size;
}

bool DedupIndex::InsertCommitted(const DedupKey& key, uint32_t nominee, uint64_t seq) {
  Shard& shard = ShardOf(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  if (NeedsRoom(shard.size, shard.slots.size())) {
    Grow(shard, shard.slots.size() * 2);
  }
  // One walk of the cluster: a duplicate is in it; the new entry goes to the empty slot ending it.
  const size_t mask = shard.slots.size() - 1;
  size_t pos = key.lo & mask;
  for (;; pos = (pos + 1) & mask) {
    const Entry& e = shard.slots[pos];
    if (e.seq == 0) {
      break;
    }
    if (e.lo == key.lo && e.hi == key.hi && e.nominee == nominee) {
      return false;
    }
  }
  shard.slots[pos] = Entry{key.lo, key.hi, nominee, seq};
  ++shard.size;
  return true;
}

void DedupIndex::ReserveCapacity(size_t entries) {
  const size_t per_shard = entries / kShards + 1;
  size_t capacity = std::bit_ceil(per_shard * 4 / 3 + 1);
  capacity = std::max(capacity, kInitialCapacity);
  for (int i = 0; i < kShards; ++i) {
    Shard& shard = shards_[i];
    std::lock_guard<std::mutex> lock(shard.mu);
    if (shard.slots.size() < capacity) {
      Grow(shard, capacity);
    }
  }
}

size_t DedupIndex::size() const {
  size_t total = 0;
  for (int i = 0; i < kShards; ++i) {
    std::lock_guard<std::mutex> lock(shards_[i].mu);
    total += shards_[i].size;
  }
  return total;
}

size_t DedupIndex::pending() const {
  size_t total = 0;
  for (int i = 0; i < kShards; ++i) {
    std::lock_guard<std::mutex> lock(shards_[i].mu);
    total += shards_[i].pending;
  }
  return total;
}

size_t DedupIndex::memory_bytes() const {
  size_t total = 0;
  for (int i = 0; i < kShards; ++i) {
    std::lock_guard<std::mutex> lock(shards_[i].mu);
    total += shards_[i].slots.bytes();
  }
  return total;
}

}  // namespace civic::ballot
