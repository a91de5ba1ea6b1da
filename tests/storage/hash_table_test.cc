#include "storage/hash_table.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "storage/shard.h"

namespace sluice::storage {
namespace {

uint32_t H(std::string_view key) { return BucketHash(KeyHash(key)); }

std::string Key(uint64_t id) { return "k" + std::to_string(id); }

void Add(HashTable& t, const std::string& key) {
  t.Insert(Entry::CreateString(key, "v", 0), H(key));
}

bool Remove(HashTable& t, const std::string& key) {
  HashTable::Slot slot;
  Entry* e = t.Find(key, H(key), &slot);
  if (e == nullptr) return false;
  t.Unlink(H(key), slot, e);
  Entry::Destroy(e);
  return true;
}

bool Has(HashTable& t, const std::string& key) {
  HashTable::Slot slot;
  Entry* e = t.Find(key, H(key), &slot);
  return e != nullptr && e->key() == key;
}

void Drain(HashTable& t) {
  while (t.RehashStep(1 << 20)) {
  }
}

TEST(HashTableTest, GrowsAtLoadFactorOneAndShrinksBelowOneEighth) {
  HashTable t;
  EXPECT_EQ(t.bucket_count(), 0u);
  for (int i = 0; i < 8; ++i) Add(t, Key(i));
  EXPECT_EQ(t.bucket_count(), 8u);
  EXPECT_FALSE(t.rehashing());
  Add(t, Key(8));
  EXPECT_EQ(t.current_bucket_count(), 16u);
  Drain(t);
  EXPECT_EQ(t.bucket_count(), 16u);
  for (int i = 9; i < 1000; ++i) Add(t, Key(i));
  Drain(t);
  EXPECT_EQ(t.size(), 1000u);
  EXPECT_EQ(t.bucket_count(), 1024u);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(Has(t, Key(i)));
  for (int i = 0; i < 900; ++i) {
    ASSERT_TRUE(Remove(t, Key(i)));
    t.MaybeShrink();
  }
  Drain(t);
  t.MaybeShrink();
  Drain(t);
  EXPECT_EQ(t.size(), 100u);
  EXPECT_GE(t.bucket_count(), 128u);
  EXPECT_LE(t.bucket_count(), 800u);
  for (int i = 900; i < 1000; ++i) ASSERT_TRUE(Has(t, Key(i)));
  for (int i = 900; i < 1000; ++i) ASSERT_TRUE(Remove(t, Key(i)));
  t.MaybeShrink();
  EXPECT_EQ(t.bucket_count(), 0u);
  EXPECT_EQ(t.MemoryBytes(), 0u);
  EXPECT_TRUE(t.CheckConsistency());
}

TEST(HashTableTest, ReserveSizesAnEmptyTableSoFillingItNeverResizes) {
  HashTable t;
  t.Reserve(1000);
  EXPECT_EQ(t.current_bucket_count(), 1024u);
  for (int i = 0; i < 1000; ++i) {
    Add(t, Key(i));
    ASSERT_FALSE(t.rehashing()) << i;
  }
  EXPECT_EQ(t.rehash_moves(), 0u);
  t.Reserve(100000);  // not empty: nothing changes
  EXPECT_EQ(t.current_bucket_count(), 1024u);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(Has(t, Key(i)));
  EXPECT_TRUE(t.CheckConsistency());
  HashTable small;
  small.Reserve(2);
  EXPECT_EQ(small.current_bucket_count(), HashTable::kMinBuckets);
}

TEST(HashTableTest, CursorCoversEveryBucketOnce) {
  HashTable t;
  for (int i = 0; i < 100; ++i) Add(t, std::to_string(i));
  Drain(t);
  std::set<uint64_t> seen;
  uint64_t cursor = 0;
  do {
    EXPECT_TRUE(seen.insert(cursor).second);
    EXPECT_LT(cursor, t.bucket_count());
    cursor = t.NextCursor(cursor);
  } while (cursor != 0);
  EXPECT_EQ(seen.size(), t.bucket_count());
}

TEST(HashTableTest, FindLinkToComparesAddressesOnly) {
  HashTable t;
  Add(t, "a");
  HashTable::Slot slot;
  Entry* e = t.Find("a", H("a"), &slot);
  EXPECT_TRUE(t.FindLinkTo(e, H("a"), &slot));
  EXPECT_EQ(slot.prev, nullptr);
  int dummy;
  EXPECT_FALSE(t.FindLinkTo(reinterpret_cast<Entry*>(&dummy), H("a"), &slot));
}

// Mid-resize, entries in either array are found, by key and by address, and
// can be replaced and unlinked through their Slot.
TEST(HashTableTest, FindLinkToSubstituteAndUnlinkInBothArrays) {
  HashTable t;
  for (int i = 0; i < 1024; ++i) Add(t, Key(i));
  Drain(t);
  Add(t, Key(1024));  // starts growing to 2048 buckets
  ASSERT_TRUE(t.rehashing());
  int in_old = 0;
  int in_cur = 0;
  for (int i = 0; i <= 1024; ++i) {
    const std::string key = Key(i);
    HashTable::Slot slot;
    ASSERT_TRUE(t.Contains(key, H(key)));
    Entry* e = t.Find(key, H(key), &slot);
    ASSERT_NE(e, nullptr);
    (slot.in_old ? in_old : in_cur)++;
    HashTable::Slot by_address;
    ASSERT_TRUE(t.FindLinkTo(e, H(key), &by_address));
    EXPECT_EQ(by_address.in_old, slot.in_old);
    EXPECT_EQ(by_address.prev, slot.prev);
    if (i % 3 == 0) {
      // Replace with a new allocation, as Entry::With... may do.
      Entry* updated = Entry::CreateString(key, "w", 0);
      updated->set_next(e->next());
      t.Substitute(H(key), by_address, updated);
      Entry::Destroy(e);
    } else if (i % 3 == 1) {
      t.Unlink(H(key), slot, e);
      Entry::Destroy(e);
    }
    ASSERT_TRUE(t.CheckConsistency());
  }
  EXPECT_GT(in_old, 0);
  EXPECT_GT(in_cur, 0);
  Drain(t);
  for (int i = 0; i <= 1024; ++i) {
    HashTable::Slot slot;
    Entry* e = t.Find(Key(i), H(Key(i)), &slot);
    if (i % 3 == 1) {
      EXPECT_EQ(e, nullptr);
    } else {
      ASSERT_NE(e, nullptr);
      std::string scratch;
      EXPECT_EQ(e->string_value(&scratch), i % 3 == 0 ? "w" : "v");
    }
  }
  EXPECT_TRUE(t.CheckConsistency());
}

// A set of key ids mirrored against the table, with O(1) random choice.
class Model {
 public:
  size_t size() const { return ids_.size(); }
  uint64_t at(size_t i) const { return ids_[i]; }
  void add(uint64_t id) {
    if (pos_.size() <= id) pos_.resize(id + 1);
    pos_[id] = ids_.size();
    ids_.push_back(id);
  }
  void remove(uint64_t id) {
    const size_t i = pos_[id];
    pos_[ids_.back()] = i;
    ids_[i] = ids_.back();
    ids_.pop_back();
  }

 private:
  std::vector<uint64_t> ids_;
  std::vector<size_t> pos_;  // by id: index in ids_ while present
};

void ExpectAllPresent(HashTable& t, const Model& m) {
  ASSERT_EQ(t.size(), m.size());
  ASSERT_TRUE(t.CheckConsistency());
  for (size_t i = 0; i < m.size(); ++i) {
    const std::string key = Key(m.at(i));
    ASSERT_TRUE(t.Contains(key, H(key))) << key;
  }
}

// Inserts, erases and lookups in random proportions drive the table up to
// millions of keys and back down, with resizes of both kinds overlapping the
// traffic. Every key is looked up whenever a resize starts or ends and once in
// the middle of each; every operation checks its own key and a random other.
// No Find or Insert does more than the per-operation rehash work, and nothing
// else moves anything.
TEST(HashTableTest, RandomInterleavingsGrowAndShrinkWithBoundedWork) {
  std::mt19937_64 rng(12345);
  HashTable t;
  Model m;
  uint64_t next_id = 0;
  bool was_rehashing = false;
  size_t resizes = 0;
  size_t ops_in_resize = 0;
  size_t check_at = 0;
  size_t max_load_x100 = 0;
  // Grow to 1M keys, shrink to 1k, grow to 200k, shrink to 0: about 3M
  // inserts and as many erases.
  const std::vector<size_t> targets = {1'000'000, 1'000, 200'000, 0};
  for (const size_t target : targets) {
    const bool growing = target > m.size();
    while (growing ? m.size() < target : m.size() > target) {
      const uint64_t moves0 = t.rehash_moves();
      const uint64_t empty0 = t.rehash_empty_visits();
      const int dice = static_cast<int>(rng() % 100);
      // Growing: 70% insert, 20% erase, 10% lookup; shrinking the reverse.
      const bool insert = growing ? dice < 70 : dice < 20;
      const bool erase = !insert && dice < 90;
      if (insert) {
        const uint64_t id = next_id++;
        Add(t, Key(id));
        m.add(id);
        ASSERT_TRUE(t.Contains(Key(id), H(Key(id))));
      } else if (erase && m.size() > 0) {
        const uint64_t id = m.at(rng() % m.size());
        ASSERT_TRUE(Remove(t, Key(id)));
        m.remove(id);
        const uint64_t moves1 = t.rehash_moves();
        t.MaybeShrink();
        ASSERT_EQ(t.rehash_moves(), moves1);  // starting a resize moves nothing
        ASSERT_FALSE(t.Contains(Key(id), H(Key(id))));
      } else {
        // A lookup of a present key or, one time in four, of a missing one.
        const bool hit = m.size() > 0 && rng() % 4 != 0;
        const uint64_t id = hit ? m.at(rng() % m.size()) : next_id + rng() % 1000;
        ASSERT_EQ(Has(t, Key(id)), hit);
      }
      ASSERT_LE(t.rehash_moves() - moves0, HashTable::kMovesPerOperation);
      ASSERT_LE(t.rehash_empty_visits() - empty0,
                HashTable::kMovesPerOperation * HashTable::kEmptyVisitsPerMove);
      if (m.size() > 0) {
        const uint64_t id = m.at(rng() % m.size());
        ASSERT_TRUE(t.Contains(Key(id), H(Key(id))));
      }
      if (t.current_bucket_count() > 0) {
        max_load_x100 = std::max(max_load_x100, t.size() * 100 / t.current_bucket_count());
      }
      if (t.rehashing() != was_rehashing) {
        was_rehashing = t.rehashing();
        if (was_rehashing) {
          ++resizes;
          ops_in_resize = 0;
          check_at = 1 + rng() % (t.size() / 4 + 1);
        }
        ExpectAllPresent(t, m);
      } else if (was_rehashing && ++ops_in_resize == check_at) {
        ExpectAllPresent(t, m);
      }
      if (HasFatalFailure()) return;
    }
    ExpectAllPresent(t, m);
  }
  t.MaybeShrink();
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.MemoryBytes(), 0u);
  // 8 -> 1M doubles 17 times; the shrinks and the regrowth add more.
  EXPECT_GT(resizes, 30u);
  // Resizes finish before inserts can overload the current array much.
  EXPECT_LE(max_load_x100, 200u);
  std::printf("resizes: %zu, highest load factor of the current array: %.2f\n", resizes,
              max_load_x100 / 100.0);
}

// A shrink from a huge, nearly empty table is capped (kMaxShrinkFactor) so that
// inserts arriving during it do not pile up in a tiny array (uncapped, the
// first shrink below would go to 32 buckets and take 8k inserts to finish);
// repeated shrinks then bring it down.
TEST(HashTableTest, ShrinkFromASparseTableIsGradual) {
  constexpr size_t kBuckets = size_t{1} << 17;
  HashTable t;
  for (size_t i = 0; i < kBuckets; ++i) Add(t, Key(i));
  Drain(t);
  ASSERT_EQ(t.bucket_count(), kBuckets);
  for (size_t i = 10; i < kBuckets; ++i) ASSERT_TRUE(Remove(t, Key(i)));
  t.MaybeShrink();
  ASSERT_TRUE(t.rehashing());
  EXPECT_EQ(t.current_bucket_count(), kBuckets / HashTable::kMaxShrinkFactor);
  // Inserts only while it shrinks: the current array stays below load 2.
  uint64_t id = kBuckets;
  std::vector<uint64_t> added;
  while (t.rehashing()) {
    Add(t, Key(id));
    added.push_back(id++);
    ASSERT_LE(t.size(), 2 * t.current_bucket_count());
  }
  for (const uint64_t a : added) ASSERT_TRUE(Remove(t, Key(a)));
  // Then traffic that keeps 10 keys: the next shrinks follow one another.
  size_t shrinks = 1;
  while (t.rehashing() || t.current_bucket_count() > HashTable::kMinBuckets * 4) {
    Add(t, Key(id));
    ASSERT_TRUE(Remove(t, Key(id)));
    ++id;
    if (!t.rehashing()) {
      t.MaybeShrink();
      shrinks += t.rehashing();
    }
  }
  EXPECT_EQ(shrinks, 3u);  // 2^17 -> 2^13 -> 2^9 -> 2^5
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(Has(t, Key(i)));
  EXPECT_TRUE(t.CheckConsistency());
}

TEST(HashTableTest, RehashStepFinishesAResize) {
  HashTable t;
  for (int i = 0; i < 1 << 16; ++i) Add(t, Key(i));
  Drain(t);
  Add(t, Key(1 << 16));
  ASSERT_TRUE(t.rehashing());
  EXPECT_EQ(t.bucket_count(), (size_t{1} << 16) + (size_t{1} << 17));
  EXPECT_EQ(t.MemoryBytes(), t.bucket_count() * sizeof(Entry*));
  const uint64_t moves0 = t.rehash_moves();
  int steps = 0;
  while (t.RehashStep(1000)) {
    ++steps;
    ASSERT_LE(t.rehash_moves() - moves0, static_cast<uint64_t>(steps) * 1000);
  }
  // 65,536 entries at 1,000 a step; empty buckets can cost a step or two more.
  EXPECT_GE(steps, 65);
  EXPECT_LE(steps, 70);
  EXPECT_EQ(t.rehash_moves() - moves0, 1u << 16);
  EXPECT_FALSE(t.rehashing());
  EXPECT_EQ(t.bucket_count(), size_t{1} << 17);
  EXPECT_EQ(t.MemoryBytes(), (size_t{1} << 17) * sizeof(Entry*));
  EXPECT_FALSE(t.RehashStep(1000));
  for (int i = 0; i <= 1 << 16; ++i) ASSERT_TRUE(Has(t, Key(i)));
  EXPECT_TRUE(t.CheckConsistency());
}

// A mapped old array goes back to the system in pieces as the resize passes
// them; walks over all buckets (ForEach, Random, MemoryBytes in the shard),
// chains and Scan never read the released part.
TEST(HashTableTest, MappedOldArrayIsReleasedInPiecesAsItDrains) {
  constexpr size_t kBuckets = HashTable::kMapMinBuckets * 2;
  HashTable t;
  for (size_t i = 0; i < kBuckets; ++i) Add(t, Key(i));
  Drain(t);
  ASSERT_EQ(t.bucket_count(), kBuckets);
  Add(t, Key(kBuckets));
  ASSERT_TRUE(t.rehashing());
  const size_t full = t.MemoryBytes();
  EXPECT_EQ(full, 3 * kBuckets * sizeof(Entry*));
  size_t released_steps = 0;
  size_t last = full;
  while (t.RehashStep(5000)) {
    const size_t now = t.MemoryBytes();
    EXPECT_EQ((last - now) % (HashTable::kReleaseBuckets * sizeof(Entry*)), 0u);
    released_steps += now < last;
    last = now;
    size_t entries = 0;
    for (size_t i = 0; i < t.bucket_count(); ++i) {
      for (Entry* e = t.bucket(i); e != nullptr; e = e->next()) ++entries;
    }
    ASSERT_EQ(entries, t.size());
    for (size_t i = 0; i < kBuckets; i += 97) {
      const uint32_t h = H(Key(i));
      for (const bool in_old : {false, true}) {
        for (Entry* e = t.chain(h, in_old); e != nullptr; e = e->next()) {
        }
      }
      ASSERT_TRUE(t.Contains(Key(i), h));
    }
    size_t scanned = 0;
    uint64_t cursor = 0;
    do {
      cursor = t.Scan(cursor, [&](const Entry&) { ++scanned; });
    } while (cursor != 0);
    ASSERT_EQ(scanned, t.size());
    ASSERT_TRUE(t.CheckConsistency());
  }
  EXPECT_GE(released_steps, kBuckets / HashTable::kReleaseBuckets / 2);
  EXPECT_EQ(t.MemoryBytes(), 2 * kBuckets * sizeof(Entry*));
}

// An old array emptied by unlinks (not moves) is freed by the next step.
TEST(HashTableTest, OldArrayEmptiedByUnlinksIsFreed) {
  HashTable t;
  for (int i = 0; i < 64; ++i) Add(t, Key(i));
  Drain(t);
  Add(t, Key(64));
  ASSERT_TRUE(t.rehashing());
  for (int i = 0; i < 64; ++i) {
    HashTable::Slot slot;
    Entry* e = t.Find(Key(i), H(Key(i)), &slot);
    if (!t.rehashing()) break;
    t.Unlink(H(Key(i)), slot, e);
    Entry::Destroy(e);
  }
  t.RehashStep(1);
  EXPECT_FALSE(t.rehashing());
  EXPECT_TRUE(t.CheckConsistency());
}

TEST(HashTableTest, SwapAndClearMidResize) {
  HashTable a;
  HashTable b;
  for (int i = 0; i < 4096; ++i) Add(a, Key(i));
  Drain(a);
  Add(a, Key(4096));
  ASSERT_TRUE(a.rehashing());
  for (int i = 0; i < 100; ++i) Add(b, "b" + std::to_string(i));
  Drain(b);
  const size_t a_bytes = a.MemoryBytes();
  const size_t b_bytes = b.MemoryBytes();
  EXPECT_EQ(a_bytes, (4096 + 8192) * sizeof(Entry*));
  a.Swap(b);
  EXPECT_TRUE(b.rehashing());
  EXPECT_FALSE(a.rehashing());
  EXPECT_EQ(a.MemoryBytes(), b_bytes);
  EXPECT_EQ(b.MemoryBytes(), a_bytes);
  EXPECT_EQ(b.size(), 4097u);
  EXPECT_EQ(a.size(), 100u);
  for (int i = 0; i <= 4096; ++i) ASSERT_TRUE(Has(b, Key(i)));
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(Has(a, "b" + std::to_string(i)));
  EXPECT_TRUE(a.CheckConsistency());
  EXPECT_TRUE(b.CheckConsistency());
  // Clear mid-resize destroys the entries of both arrays (LeakSanitizer
  // checks) and frees both.
  for (int i = 5000; !b.rehashing(); ++i) Add(b, Key(i));
  b.Clear();
  EXPECT_FALSE(b.rehashing());
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(b.MemoryBytes(), 0u);
  Add(b, "again");
  EXPECT_TRUE(Has(b, "again"));
  // The destructor mid-resize too.
  HashTable c;
  for (int i = 0; i < 600; ++i) Add(c, Key(i));
  EXPECT_TRUE(c.rehashing());
}

// SCAN: a key present for the whole iteration is returned at least once,
// whatever resizes happen between the calls: growth, shrinks, calls made
// while a resize is in progress, resizes that start and end between two
// calls. Keys inserted or erased during the iteration may or may not be seen.
// Each call visits buckets until it has seen 10 entries, as SCAN's default
// COUNT does, and the table changes by at most 10 keys between calls.
TEST(HashTableTest, ScanReturnsEveryStableKeyAcrossResizes) {
  size_t mid_resize_calls = 0;
  for (uint64_t seed = 1; seed <= 1000; ++seed) {
    std::mt19937_64 rng(seed);
    HashTable t;
    Model volatile_keys;
    uint64_t next_id = 0;
    std::vector<uint64_t> stable;
    const size_t n_stable = 1 + rng() % 300;
    const size_t n_volatile = rng() % 3 == 0 ? 0 : rng() % 20'000;
    for (size_t i = 0; i < n_stable; ++i) {
      stable.push_back(next_id);
      Add(t, Key(next_id++));
    }
    for (size_t i = 0; i < n_volatile; ++i) {
      volatile_keys.add(next_id);
      Add(t, Key(next_id++));
    }
    if (rng() % 2 == 0) Drain(t);
    // What happens between calls: 0 grow, 1 shrink, 2 grow then shrink, 3 mixed.
    const int pattern = static_cast<int>(rng() % 4);
    const size_t max_keys = 4 * (n_stable + n_volatile) + 1000;
    std::set<uint64_t> seen;
    uint64_t cursor = 0;
    size_t calls = 0;
    bool shrinking = false;
    do {
      size_t visited = 0;
      mid_resize_calls += t.rehashing();
      do {
        cursor = t.Scan(cursor, [&](const Entry& e) {
          seen.insert(std::stoull(std::string(e.key().substr(1))));
          ++visited;
        });
      } while (cursor != 0 && visited < 10);
      ++calls;
      if (pattern == 2 && t.size() >= max_keys / 2) shrinking = true;
      const bool grow = t.size() < max_keys && (pattern == 0 || (pattern == 2 && !shrinking) ||
                                                (pattern == 3 && rng() % 2 == 0));
      // Few changes per call in some seeds, so that resizes span many calls.
      const size_t ops = rng() % (seed % 3 == 0 ? 3 : 11);
      for (size_t k = 0; k < ops; ++k) {
        if (grow) {
          volatile_keys.add(next_id);
          Add(t, Key(next_id++));
        } else if (volatile_keys.size() > 0) {
          const uint64_t id = volatile_keys.at(rng() % volatile_keys.size());
          ASSERT_TRUE(Remove(t, Key(id)));
          volatile_keys.remove(id);
          t.MaybeShrink();
        }
      }
      const int extra = static_cast<int>(rng() % 64);
      if (extra < 8) t.RehashStep(1 + rng() % 64);
      if (extra == 8) Drain(t);
      if (extra == 9) t.MaybeShrink();
      ASSERT_LT(calls, 1'000'000u);
    } while (cursor != 0);
    for (const uint64_t id : stable) {
      ASSERT_TRUE(seen.count(id)) << "seed " << seed << " pattern " << pattern << " missed "
                                  << Key(id) << " after " << calls << " calls";
    }
    ASSERT_TRUE(t.CheckConsistency());
  }
  EXPECT_GT(mid_resize_calls, 10'000u);
  std::printf("scan calls made while a resize was in progress: %zu\n", mid_resize_calls);
}

// Mid-resize with nothing changing between calls, a scan returns every key
// exactly once: the cursor advances by the smaller array's mask, so no bucket
// is visited twice.
TEST(HashTableTest, ScanMidResizeWithoutChangesReturnsEachKeyOnce) {
  for (const bool grow : {true, false}) {
    HashTable t;
    for (int i = 0; i < 4096; ++i) Add(t, Key(i));
    Drain(t);
    if (grow) {
      Add(t, Key(4096));
    } else {
      for (int i = 300; i < 4096; ++i) ASSERT_TRUE(Remove(t, Key(i)));
      Drain(t);
      t.MaybeShrink();
    }
    ASSERT_TRUE(t.rehashing());
    t.RehashStep(100);  // some buckets moved, some not
    ASSERT_TRUE(t.rehashing());
    std::multiset<std::string> seen;
    uint64_t cursor = 0;
    do {
      cursor = t.Scan(cursor, [&](const Entry& e) { seen.insert(std::string(e.key())); });
    } while (cursor != 0);
    EXPECT_EQ(seen.size(), t.size()) << grow;
    EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), t.size()) << grow;
  }
}

// The same guarantee when every call is made mid-resize: each call moves a
// little, so a long scan sees the whole resize go by in small steps.
TEST(HashTableTest, ScanDuringASlowResize) {
  for (uint64_t seed = 1; seed <= 100; ++seed) {
    std::mt19937_64 rng(seed);
    HashTable t;
    const size_t n = 1000 + rng() % 50'000;
    for (size_t i = 0; i < n; ++i) Add(t, Key(i));
    Drain(t);
    const bool shrink = seed % 2 == 0;
    size_t keep = n;
    if (shrink) {
      // Erase down below 1/8 of the buckets, keeping ids below `keep`.
      keep = t.bucket_count() / 8 - 1 - rng() % (t.bucket_count() / 16);
      for (size_t i = keep; i < n; ++i) ASSERT_TRUE(Remove(t, Key(i)));
      t.MaybeShrink();
    } else {
      // Insert up to the next growth.
      for (size_t i = n; t.size() <= t.bucket_count() && !t.rehashing(); ++i) {
        Add(t, Key(i));
        keep = i + 1;
      }
    }
    ASSERT_TRUE(t.rehashing()) << seed;
    std::set<uint64_t> seen;
    uint64_t cursor = 0;
    bool saw_both = false;
    do {
      cursor = t.Scan(cursor, [&](const Entry& e) {
        seen.insert(std::stoull(std::string(e.key().substr(1))));
      });
      saw_both = saw_both || t.rehashing();
      t.RehashStep(1 + rng() % 4);
    } while (cursor != 0);
    EXPECT_TRUE(saw_both);
    for (size_t i = 0; i < keep; ++i) ASSERT_TRUE(seen.count(i)) << seed << " " << i;
  }
}

}  // namespace
}  // namespace sluice::storage
