// Prints (does not assert) the memory cost per key of 16-byte keys with
// 16-byte values, with and without a TTL, as MemoryBytes() reports it (entry
// blocks by malloc_usable_size, bucket arrays, timer-wheel blocks) and, where
// glibc's mallinfo2 is meaningful (not under sanitizers), as the heap grew.

#include <malloc.h>

#include <cstdio>
#include <string>

#include "gtest/gtest.h"
#include "storage/keyspace.h"

namespace sluice::storage {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;
constexpr int kKeys = 200'000;

std::string Fixed16(const char* prefix, int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%s%012d", prefix, i);  // 4 + 12 = 16 bytes
  return std::string(buf, 16);
}

void Measure(size_t shards, bool ttl) {
  const struct mallinfo2 before = mallinfo2();
  Keyspace ks(1, shards);
  Database& db = ks.db(0);
  for (int i = 0; i < kKeys; ++i) {
    const std::string key = Fixed16("key:", i);
    const std::string value = Fixed16("val:", i);
    ASSERT_EQ(key.size(), 16u);
    Shard& shard = db.ShardFor(key);
    std::lock_guard<ShardMutex> lock(shard.mu());
    // TTLs between one and two hours, as a session cache would have.
    shard.Insert(Entry::CreateString(key, value, ttl ? kNow + 3'600'000 + i % 3'600'000 : 0));
  }
  // Anchor the wheels so records sit in their slots, not the pending list.
  ks.ActiveExpire(0, shards, kNow, 1'000'000);
  const size_t bytes = ks.MemoryBytes();
  const struct mallinfo2 after = mallinfo2();
  const size_t heap = (after.uordblks + after.hblkhd) - (before.uordblks + before.hblkhd);
  std::printf(
      "16/16-byte keys, %s TTL, %zu shard(s): %.1f bytes/key by MemoryBytes(), "
      "%.1f bytes/key of heap growth (glibc chunks incl. headers)\n",
      ttl ? "with" : "without", shards, static_cast<double>(bytes) / kKeys,
      static_cast<double>(heap) / kKeys);
  EXPECT_EQ(db.Size(), static_cast<size_t>(kKeys));
}

TEST(MemoryTest, BytesPerKey) {
  Measure(1, true);
  Measure(1, false);
  Measure(16, true);
  Measure(16, false);
}

}  // namespace
}  // namespace sluice::storage
