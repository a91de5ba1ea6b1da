#include "storage/hash_table.h"

#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "storage/shard.h"

namespace sluice::storage {
namespace {

uint32_t H(std::string_view key) { return BucketHash(KeyHash(key)); }

void Add(HashTable& t, const std::string& key) {
  t.Insert(Entry::CreateString(key, "v", 0), H(key));
}

bool Remove(HashTable& t, const std::string& key) {
  Entry* prev;
  Entry* e = t.Find(key, H(key), &prev);
  if (e == nullptr) return false;
  t.Unlink(H(key), prev, e);
  Entry::Destroy(e);
  return true;
}

TEST(HashTableTest, GrowsAtLoadFactorOneAndShrinksBelowOneEighth) {
  HashTable t;
  EXPECT_EQ(t.bucket_count(), 0u);
  for (int i = 0; i < 8; ++i) Add(t, "k" + std::to_string(i));
  EXPECT_EQ(t.bucket_count(), 8u);
  Add(t, "k8");
  EXPECT_EQ(t.bucket_count(), 16u);
  for (int i = 9; i < 1000; ++i) Add(t, "k" + std::to_string(i));
  EXPECT_EQ(t.size(), 1000u);
  EXPECT_EQ(t.bucket_count(), 1024u);
  for (int i = 0; i < 1000; ++i) {
    Entry* prev;
    ASSERT_NE(t.Find("k" + std::to_string(i), H("k" + std::to_string(i)), &prev), nullptr);
  }
  for (int i = 0; i < 900; ++i) {
    ASSERT_TRUE(Remove(t, "k" + std::to_string(i)));
    t.MaybeShrink();
  }
  EXPECT_EQ(t.size(), 100u);
  EXPECT_GE(t.bucket_count(), 128u);
  EXPECT_LE(t.bucket_count(), 800u);
  for (int i = 900; i < 1000; ++i) {
    Entry* prev;
    ASSERT_NE(t.Find("k" + std::to_string(i), H("k" + std::to_string(i)), &prev), nullptr);
  }
  for (int i = 900; i < 1000; ++i) ASSERT_TRUE(Remove(t, "k" + std::to_string(i)));
  t.MaybeShrink();
  EXPECT_EQ(t.bucket_count(), 0u);
  EXPECT_EQ(t.MemoryBytes(), 0u);
}

TEST(HashTableTest, CursorCoversEveryBucketOnce) {
  HashTable t;
  for (int i = 0; i < 100; ++i) Add(t, std::to_string(i));
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
  Entry* prev;
  Entry* e = t.Find("a", H("a"), &prev);
  EXPECT_TRUE(t.FindLinkTo(e, H("a"), &prev));
  EXPECT_EQ(prev, nullptr);
  int dummy;
  EXPECT_FALSE(t.FindLinkTo(reinterpret_cast<Entry*>(&dummy), H("a"), &prev));
}

}  // namespace
}  // namespace sluice::storage
