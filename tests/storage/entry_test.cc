#include "storage/entry.h"

#include <malloc.h>

#include <cstdint>
#include <limits>
#include <string>

#include "gtest/gtest.h"

namespace sluice::storage {
namespace {

std::string Value(const Entry* e) {
  std::string scratch;
  return std::string(e->string_value(&scratch));
}

TEST(LooksLikeInt64Test, AcceptsCanonicalIntegers) {
  int64_t v = -1;
  EXPECT_TRUE(LooksLikeInt64("0", &v));
  EXPECT_EQ(v, 0);
  EXPECT_TRUE(LooksLikeInt64("123", &v));
  EXPECT_EQ(v, 123);
  EXPECT_TRUE(LooksLikeInt64("-45", &v));
  EXPECT_EQ(v, -45);
  EXPECT_TRUE(LooksLikeInt64("9223372036854775807", &v));
  EXPECT_EQ(v, std::numeric_limits<int64_t>::max());
  EXPECT_TRUE(LooksLikeInt64("-9223372036854775808", &v));
  EXPECT_EQ(v, std::numeric_limits<int64_t>::min());
}

TEST(LooksLikeInt64Test, RejectsNonCanonicalForms) {
  int64_t v;
  for (const char* s : {"", "-", "-0", "00", "01", "-01", "+1", " 1", "1 ", "1a", "1.0", "0x10",
                        "9223372036854775808", "-9223372036854775809", "18446744073709551616",
                        "99999999999999999999", "123456789012345678901"}) {
    EXPECT_FALSE(LooksLikeInt64(s, &v)) << s;
  }
}

TEST(EntryTest, IntegerStringsAreStoredAsIntegers) {
  Entry* e = Entry::CreateString("k", "12345", 0);
  EXPECT_TRUE(e->is_int());
  EXPECT_EQ(e->int_value(), 12345);
  EXPECT_EQ(Value(e), "12345");
  EXPECT_EQ(e->string_length(), 5u);
  EXPECT_EQ(e->key(), "k");
  EXPECT_EQ(e->type(), ValueType::kString);
  Entry::Destroy(e);

  e = Entry::CreateString("k", "0123", 0);
  EXPECT_FALSE(e->is_int());
  EXPECT_EQ(Value(e), "0123");
  Entry::Destroy(e);

  e = Entry::CreateInt("k", std::numeric_limits<int64_t>::min(), 0);
  EXPECT_EQ(Value(e), "-9223372036854775808");
  EXPECT_EQ(e->string_length(), 20u);
  Entry::Destroy(e);
}

TEST(EntryTest, InlineStringsRoundTrip) {
  const std::string big(300, 'x');  // two-byte varint length
  const std::string big_key(200, 'k');
  Entry* e = Entry::CreateString(big_key, big, 0);
  EXPECT_FALSE(e->is_int());
  EXPECT_EQ(e->key(), big_key);
  EXPECT_EQ(Value(e), big);
  EXPECT_EQ(e->string_length(), 300u);
  Entry::Destroy(e);

  e = Entry::CreateString("", "", 0);
  EXPECT_EQ(e->key(), "");
  EXPECT_EQ(Value(e), "");
  EXPECT_EQ(e->string_length(), 0u);
  Entry::Destroy(e);

  const std::string binary("a\0b\xff", 4);
  e = Entry::CreateString(binary, binary, 0);
  EXPECT_EQ(e->key(), binary);
  EXPECT_EQ(Value(e), binary);
  Entry::Destroy(e);
}

TEST(EntryTest, ExpiryIsAddedChangedAndRemoved) {
  Entry* e = Entry::CreateString("key", "value", 0);
  EXPECT_FALSE(e->has_expiry());
  EXPECT_EQ(e->expire_at_ms(), 0);
  e = Entry::WithExpiry(e, 1'700'000'000'123);
  EXPECT_TRUE(e->has_expiry());
  EXPECT_EQ(e->expire_at_ms(), 1'700'000'000'123);
  EXPECT_EQ(e->key(), "key");
  EXPECT_EQ(Value(e), "value");
  Entry* same = Entry::WithExpiry(e, 42);
  EXPECT_EQ(same, e);  // changing an existing expiry never moves
  EXPECT_EQ(e->expire_at_ms(), 42);
  e = Entry::WithExpiry(e, 0);
  EXPECT_FALSE(e->has_expiry());
  EXPECT_EQ(e->key(), "key");
  EXPECT_EQ(Value(e), "value");
  Entry::Destroy(e);
}

TEST(EntryTest, AddingExpiryThatDoesNotFitReallocatesAndKeepsEverything) {
  // Fill the block exactly so the expiry cannot be added in place.
  std::string key = "k";
  Entry* e = nullptr;
  for (size_t n = 1; n < 64; ++n) {
    e = Entry::CreateString(key, std::string(n, 'v'), 0);
    if (malloc_usable_size(e) - e->UsedBytes() < 6) {  // a TTL takes 6 bytes
      key = std::string(1, 'k');
      e->set_next(reinterpret_cast<Entry*>(0x1230));
      e->set_access(7);
      Entry* moved = Entry::WithExpiry(e, 99);
      EXPECT_EQ(moved->expire_at_ms(), 99);
      EXPECT_EQ(moved->next(), reinterpret_cast<Entry*>(0x1230));
      EXPECT_EQ(moved->access(), 7);
      EXPECT_EQ(Value(moved), std::string(n, 'v'));
      moved->set_next(nullptr);
      Entry::Destroy(moved);
      return;
    }
    Entry::Destroy(e);
  }
  GTEST_SKIP() << "allocator never filled a block exactly";
}

TEST(EntryTest, WithStringAndWithIntSwitchEncodingsAndKeepExpiry) {
  Entry* e = Entry::CreateString("key", "hello", 777);
  e = Entry::WithInt(e, 5);
  EXPECT_TRUE(e->is_int());
  EXPECT_EQ(e->int_value(), 5);
  EXPECT_EQ(e->expire_at_ms(), 777);
  e = Entry::WithString(e, std::string(1000, 'z'));
  EXPECT_FALSE(e->is_int());
  EXPECT_EQ(Value(e), std::string(1000, 'z'));
  EXPECT_EQ(e->expire_at_ms(), 777);
  EXPECT_EQ(e->key(), "key");
  e = Entry::WithString(e, "-17");
  EXPECT_TRUE(e->is_int());
  EXPECT_EQ(e->int_value(), -17);
  // Shrinking from a large value returns memory.
  EXPECT_LT(e->AllocatedBytes(), 100u);
  Entry::Destroy(e);
}

TEST(EntryTest, CloneAsCopiesValueAndExpiry) {
  Entry* a = Entry::CreateString("a", "value", 123);
  Entry* b = Entry::CloneAs(a, "bee");
  EXPECT_EQ(b->key(), "bee");
  EXPECT_EQ(Value(b), "value");
  EXPECT_EQ(b->expire_at_ms(), 123);
  b = Entry::Append(b, "s");
  Entry* c = Entry::CloneAs(b, "c");
  EXPECT_EQ(Value(c), "values");
  EXPECT_EQ(c->expire_at_ms(), 123);
  Entry::Destroy(a);
  Entry::Destroy(b);
  Entry::Destroy(c);
  Entry* i = Entry::CreateInt("i", 9, 0);
  Entry* j = Entry::CloneAs(i, "j");
  EXPECT_TRUE(j->is_int());
  EXPECT_EQ(j->int_value(), 9);
  Entry::Destroy(i);
  Entry::Destroy(j);
}

TEST(EntryTest, AppendGrowsGeometrically) {
  Entry* e = Entry::CreateString("log", "", 0);
  std::string expected;
  size_t reallocations = 0;
  size_t last_bytes = e->AllocatedBytes();
  for (int i = 0; i < 100000; ++i) {
    e = Entry::Append(e, "0123456789");
    expected += "0123456789";
    if (e->AllocatedBytes() != last_bytes) {
      ++reallocations;
      last_bytes = e->AllocatedBytes();
    }
  }
  EXPECT_EQ(e->string_length(), expected.size());
  EXPECT_EQ(Value(e), expected);
  EXPECT_LT(reallocations, 40u);  // doubling: about log2(1e6) growth steps
  EXPECT_LT(e->AllocatedBytes(), 3 * expected.size());
  Entry::Destroy(e);
}

TEST(EntryTest, AppendToIntegerFormatsItFirst) {
  Entry* e = Entry::CreateInt("n", 12, 55);
  e = Entry::Append(e, "34");
  EXPECT_FALSE(e->is_int());
  EXPECT_EQ(Value(e), "1234");
  EXPECT_EQ(e->expire_at_ms(), 55);
  Entry::Destroy(e);
}

TEST(EntryTest, WriteAtPadsWithZeros) {
  Entry* e = Entry::CreateString("k", "", 0);
  e = Entry::WriteAt(e, 5, "ab");
  EXPECT_EQ(Value(e), std::string("\0\0\0\0\0ab", 7));
  e = Entry::WriteAt(e, 1, "XY");
  EXPECT_EQ(Value(e), std::string("\0XY\0\0ab", 7));
  e = Entry::WriteAt(e, 6, "cdef");
  EXPECT_EQ(Value(e), std::string("\0XY\0\0acdef", 10));
  EXPECT_EQ(e->string_length(), 10u);
  Entry::Destroy(e);

  e = Entry::CreateString("k", "Hello World", 0);
  e = Entry::WriteAt(e, 6, "Redis");
  EXPECT_EQ(Value(e), "Hello Redis");
  Entry::Destroy(e);
}

TEST(EntryTest, ExpiryChangesOnBufferEncodedValues) {
  Entry* e = Entry::Append(Entry::CreateString("k", "abc", 0), "def");
  e = Entry::WithExpiry(e, 1000);
  EXPECT_EQ(Value(e), "abcdef");
  e = Entry::WithExpiry(e, 0);
  EXPECT_EQ(Value(e), "abcdef");
  e = Entry::WithString(e, "plain");
  EXPECT_EQ(Value(e), "plain");
  Entry::Destroy(e);
}

TEST(EntryTest, SixteenByteKeyAndValueFitA64ByteChunk) {
  const std::string key(16, 'k');
  const std::string value(16, 'v');
  Entry* with_ttl = Entry::CreateString(key, value, 1'700'000'000'000);
  Entry* without = Entry::CreateString(key, value, 0);
  // 48 and 42 bytes of layout; glibc hands out 56 usable bytes for both.
  EXPECT_LE(with_ttl->AllocatedBytes(), 56u);
  EXPECT_LE(without->AllocatedBytes(), 56u);
  const bool has_room = malloc_usable_size(without) >= 48;  // glibc yes, ASan no
  Entry* ttl_added = Entry::WithExpiry(without, 5);
  if (has_room) {
    EXPECT_EQ(ttl_added, without);  // the expiry was added in place
  }
  EXPECT_EQ(ttl_added->key(), key);
  EXPECT_EQ(Value(ttl_added), value);
  Entry::Destroy(with_ttl);
  Entry::Destroy(ttl_added);
}

TEST(EntryTest, AccessByteAndNextLink) {
  Entry* a = Entry::CreateString("a", "1", 0);
  Entry* b = Entry::CreateString("b", "2", 0);
  EXPECT_EQ(a->next(), nullptr);
  EXPECT_EQ(a->access(), 0);
  a->set_next(b);
  a->set_access(200);
  EXPECT_EQ(a->next(), b);
  EXPECT_EQ(a->access(), 200);
  Entry::Destroy(a);
  Entry::Destroy(b);
}

TEST(EntryTest, SixteenByteKeyValueAndTtlTake48Bytes) {
  // The size classes that matter (see docs/memory.md): 48 bytes holds the
  // common session-cache entry, with or without a TTL.
  const std::string key(16, 'k');
  Entry* with_ttl = Entry::CreateString(key, std::string(16, 'v'), 1'700'000'000'000);
  Entry* without = Entry::CreateString(key, std::string(16, 'v'), 0);
  Entry* counter = Entry::CreateInt(key, 1, 1'700'000'000'000);
  Entry* hundred = Entry::CreateString(key, std::string(100, 'v'), 0);
  EXPECT_EQ(with_ttl->UsedBytes(), 48u);
  EXPECT_EQ(without->UsedBytes(), 42u);
  EXPECT_EQ(counter->UsedBytes(), 39u);
  EXPECT_EQ(hundred->UsedBytes(), 126u);
  for (Entry* e : {with_ttl, without, counter, hundred}) {
    EXPECT_LE(e->UsedBytes(), malloc_usable_size(e));
    Entry::Destroy(e);
  }
}

TEST(EntryTest, ExpiryRoundTripsAcrossTheWholeRange) {
  constexpr int64_t kNarrowLimit = int64_t{1} << 48;  // 6 bytes up to here, 8 beyond
  const int64_t cases[] = {1,
                           42,
                           1'700'000'000'123,
                           kNarrowLimit - 1,
                           kNarrowLimit,
                           std::numeric_limits<int64_t>::max(),
                           -1,
                           std::numeric_limits<int64_t>::min()};
  for (const int64_t at : cases) {
    Entry* e = Entry::CreateString("key", "value", at);
    EXPECT_TRUE(e->has_expiry()) << at;
    EXPECT_EQ(e->expire_at_ms(), at);
    EXPECT_EQ(e->key(), "key");
    EXPECT_EQ(Value(e), "value");
    const bool narrow = at > 0 && at < kNarrowLimit;
    EXPECT_EQ(e->UsedBytes(), 8 + 1 + (narrow ? 6 : 8) + 3 + 1 + 5u) << at;
    Entry::Destroy(e);
    e = Entry::CreateInt("n", -5, at);
    EXPECT_EQ(e->expire_at_ms(), at);
    EXPECT_EQ(e->int_value(), -5);
    Entry::Destroy(e);
  }
}

TEST(EntryTest, ExpiryWidthChangesKeepKeyValueLinkAndAccess) {
  constexpr int64_t kFar = int64_t{1} << 50;  // needs the 8-byte form
  Entry* link = Entry::CreateString("other", "x", 0);
  auto check = [&](Entry* e, int64_t at, const std::string& value) {
    EXPECT_EQ(e->expire_at_ms(), at);
    EXPECT_EQ(e->has_expiry(), at != 0);
    EXPECT_EQ(e->key(), "some:key");
    EXPECT_EQ(Value(e), value);
    EXPECT_EQ(e->next(), link);
    EXPECT_EQ(e->access(), 0xa5);
    EXPECT_EQ(e->type(), ValueType::kString);
  };
  for (const std::string& value : {std::string("abc"), std::string("123"), std::string(200, 'z')}) {
    Entry* e = Entry::CreateString("some:key", value, 0);
    e->set_next(link);
    e->set_access(0xa5);
    for (const int64_t at : {int64_t{5}, kFar, int64_t{1'700'000'000'000}, int64_t{-7}, int64_t{0},
                             kFar, int64_t{0}, int64_t{9}, kFar - 1}) {
      e = Entry::WithExpiry(e, at);
      check(e, at, value);
    }
    e = Entry::Append(e, "!");  // buffer encoding, wide expiry
    check(e, kFar - 1, value + "!");
    e = Entry::WithExpiry(e, 3);
    check(e, 3, value + "!");
    e->set_next(nullptr);
    Entry::Destroy(e);
  }
  Entry::Destroy(link);
}

TEST(EntryTest, LongKeysAndValuesUseLongerVarints) {
  // 2^21 needs a 4-byte varint, 2^14 a 3-byte one.
  const std::string key(size_t{1} << 14, 'k');
  const std::string value((size_t{1} << 21) + 3, 'v');
  Entry* e = Entry::CreateString(key, value, int64_t{1} << 60);
  EXPECT_EQ(e->key(), key);
  EXPECT_EQ(Value(e), value);
  EXPECT_EQ(e->string_length(), value.size());
  EXPECT_EQ(e->expire_at_ms(), int64_t{1} << 60);
  EXPECT_EQ(e->UsedBytes(), 8 + 3 + 8 + key.size() + 4 + value.size());
  e = Entry::WithExpiry(e, 77);
  EXPECT_EQ(e->key(), key);
  EXPECT_EQ(Value(e), value);
  EXPECT_EQ(e->expire_at_ms(), 77);
  Entry::Destroy(e);
}

TEST(EntryTest, NextLinkKeepsMetaAndAccessBytes) {
  // The link shares its 8-byte word with the meta and access bytes.
  Entry* a = Entry::CreateInt("a", 1, 1234);
  Entry* b = Entry::CreateString("b", "two", 0);
  a->set_access(0xff);
  a->set_next(b);
  EXPECT_EQ(a->next(), b);
  EXPECT_TRUE(a->is_int());
  EXPECT_EQ(a->expire_at_ms(), 1234);
  EXPECT_EQ(a->access(), 0xff);
  a->set_next(nullptr);
  EXPECT_EQ(a->next(), nullptr);
  EXPECT_EQ(a->access(), 0xff);
  EXPECT_EQ(a->int_value(), 1);
  Entry::Destroy(a);
  Entry::Destroy(b);
}

}  // namespace
}  // namespace sluice::storage

namespace sluice::storage {
namespace {

// A hash entry holding a packed list of `pairs` field/value pairs.
Entry* PackedHash(std::string_view key, int pairs, int64_t expire_at_ms = 0) {
  PackedList list;
  for (int i = 0; i < pairs; ++i) {
    list.PushBack("field" + std::to_string(i));
    list.PushBack("value" + std::to_string(i));
  }
  return Entry::CreateObject(key, ValueType::kHash, ObjectRef::Packed(list.Release()),
                             expire_at_ms);
}

size_t PackedSize(const Entry* e) { return BorrowedPacked(e->object()).list().size(); }

TEST(EntryObjectTest, CollectionEntriesOwnAndCountTheirObject) {
  Entry* e = PackedHash("h", 5);
  EXPECT_TRUE(e->is_object());
  EXPECT_FALSE(e->is_int());
  EXPECT_EQ(e->type(), ValueType::kHash);
  EXPECT_EQ(e->key(), "h");
  EXPECT_EQ(e->object().kind(), ContainerKind::kPacked);
  EXPECT_EQ(PackedSize(e), 10u);
  const size_t packed_bytes = BorrowedPacked(e->object()).list().AllocatedBytes();
  EXPECT_GE(e->UsedBytes(), packed_bytes + 8);
  EXPECT_GE(e->AllocatedBytes(), e->UsedBytes());
  Entry::Destroy(e);  // frees the list too (ASan reports a leak otherwise)
}

TEST(EntryObjectTest, ExpiryChangesKeepTheObject) {
  Entry* e = PackedHash("h", 3);
  e = Entry::WithExpiry(e, 1'700'000'000'000);
  EXPECT_EQ(e->expire_at_ms(), 1'700'000'000'000);
  EXPECT_EQ(PackedSize(e), 6u);
  e = Entry::WithExpiry(e, -5);  // the wide form
  EXPECT_EQ(PackedSize(e), 6u);
  e = Entry::WithExpiry(e, 0);
  EXPECT_FALSE(e->has_expiry());
  EXPECT_EQ(e->key(), "h");
  EXPECT_EQ(PackedSize(e), 6u);
  Entry::Destroy(e);
}

TEST(EntryObjectTest, CloneCopiesAndRekeyMoves) {
  Entry* a = PackedHash("a", 4, 1'700'000'000'000);
  Entry* b = Entry::CloneAs(a, "bee");
  EXPECT_NE(b->object().packed_block(), a->object().packed_block());
  EXPECT_EQ(PackedSize(b), 8u);
  EXPECT_EQ(b->expire_at_ms(), 1'700'000'000'000);
  const uintptr_t word = a->object().word();
  Entry* c = Entry::Rekey(a, "a-much-longer-key-than-before");
  EXPECT_EQ(c->object().word(), word);
  EXPECT_EQ(c->key(), "a-much-longer-key-than-before");
  EXPECT_EQ(c->expire_at_ms(), 1'700'000'000'000);
  Entry::Destroy(b);
  Entry::Destroy(c);

  auto map = std::make_unique<StrMap>();
  map->Set("f", "v");
  Entry* m = Entry::CreateObject("m", ValueType::kHash, ObjectRef::Map(map.release()), 0);
  EXPECT_EQ(m->object().kind(), ContainerKind::kStrMap);
  Entry* m2 = Entry::CloneAs(m, "m2");
  std::string_view v;
  EXPECT_TRUE(m2->object().map()->Find("f", &v));
  EXPECT_EQ(v, "v");
  EXPECT_NE(m2->object().map(), m->object().map());
  Entry::Destroy(m);
  Entry::Destroy(m2);
}

TEST(EntryObjectTest, StringWritesReplaceACollection) {
  Entry* e = PackedHash("h", 2);
  e = Entry::WithString(e, "now a string");  // frees the list
  std::string scratch;
  EXPECT_EQ(e->string_value(&scratch), "now a string");
  EXPECT_FALSE(e->is_object());
  EXPECT_EQ(e->type(), ValueType::kString);
  Entry::Destroy(e);
  e = Entry::WithInt(PackedHash("h", 2), 7);
  EXPECT_EQ(e->type(), ValueType::kString);
  EXPECT_EQ(e->int_value(), 7);
  Entry::Destroy(e);
}

}  // namespace
}  // namespace sluice::storage
