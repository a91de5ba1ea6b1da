#pragma once
// Entry: one key and its value in a single heap allocation.
//
// Layout (see entry.cc for the byte-level picture): an 8-byte header holding
// the hash table's chain pointer (48 bits), a one-byte type/encoding/flags
// field (with the snapshot mark bit) and one byte of access history reserved for eviction (LRU clock or
// LFU counter); varint lengths; the expiry deadline only when the key has one
// (6 bytes, 8 for deadlines outside [1, 2^48) ms); then the key bytes and the
// value. A 16-byte key with a 16-byte value and a TTL is 48 bytes. String
// values that are canonical decimal int64s ("123", not "0123") are stored as
// 8-byte integers. Strings that grow in place (APPEND, SETRANGE) move to a
// separately allocated, geometrically growing buffer so repeated appends are
// amortised O(1).
//
// Entries are created and destroyed only through the static functions below;
// changing the expiry or the value may reallocate, so those return the
// entry's new address. Not thread-safe: the owning shard's lock guards it.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "storage/object.h"

namespace sluice::storage {

// The type of a key's value (4 bits in the entry). Collections (every type
// but kString) are stored out of line as an ObjectRef.
enum class ValueType : uint8_t {
  kString = 0,
  kList = 1,
  kSet = 2,
  kZset = 3,
  kHash = 4,
  kStream = 5,
};

class Entry {
 public:
  // `expire_at_ms` 0 means no expiry.
  static Entry* CreateString(std::string_view key, std::string_view value, int64_t expire_at_ms);
  static Entry* CreateInt(std::string_view key, int64_t value, int64_t expire_at_ms);
  // A collection entry of `type` (not kString) owning `object`.
  static Entry* CreateObject(std::string_view key, ValueType type, ObjectRef object,
                             int64_t expire_at_ms);
  // A collection entry of `type` (not kString) whose value is `bytes` kept
  // inside the entry (the TinyMap encoding of the smallest hashes).
  static Entry* CreateBytes(std::string_view key, ValueType type, std::string_view bytes,
                            int64_t expire_at_ms);
  // A copy of `source` (value and expiry; a collection is deep-copied) under
  // another key.
  static Entry* CloneAs(const Entry* source, std::string_view new_key);
  // `source`'s value and expiry under another key (RENAME); `source` is
  // consumed. A collection moves to the new entry without being copied.
  // REQUIRES: `source` is linked into no shard.
  static Entry* Rekey(Entry* source, std::string_view new_key);
  static void Destroy(Entry* entry);

  // Returns the (possibly moved) entry with its expiry set, or cleared for 0.
  static Entry* WithExpiry(Entry* entry, int64_t expire_at_ms);
  // Returns the (possibly moved) entry holding a new value; expiry is kept.
  // REQUIRES (these and Append/WriteAt): the new bytes do not point into
  // `entry` itself.
  static Entry* WithString(Entry* entry, std::string_view value);
  static Entry* WithInt(Entry* entry, int64_t value);
  // Collection forms of the above (the type stays): the value becomes
  // `bytes` inside the entry, or `object`, which the entry then owns. The
  // old value is freed unless it is `object` itself.
  static Entry* WithBytes(Entry* entry, std::string_view bytes);
  static Entry* WithObject(Entry* entry, ObjectRef object);
  // Appends to the string value (switching to the growable encoding).
  static Entry* Append(Entry* entry, std::string_view tail);
  // Overwrites bytes at `offset`, zero-padding any gap (SETRANGE).
  static Entry* WriteAt(Entry* entry, size_t offset, std::string_view bytes);

  std::string_view key() const;
  ValueType type() const;
  bool has_expiry() const;
  int64_t expire_at_ms() const;  // 0 when none
  bool is_int() const;
  int64_t int_value() const;  // REQUIRES: is_int()
  // The value as a string; an integer is formatted into `*scratch`.
  std::string_view string_value(std::string* scratch) const;
  size_t string_length() const;  // STRLEN, without formatting

  // Collections: whether the value is an ObjectRef (a collection not stored
  // with CreateBytes/WithBytes, whose bytes string_value() returns).
  bool is_object() const;
  ObjectRef object() const;  // REQUIRES: is_object()
  // Replaces the object word in place (the entry never moves); the caller
  // owns the old object. Call it inside Shard::Update so that the shard's
  // byte count follows the collection. REQUIRES: is_object().
  void set_object(ObjectRef object);

  // Access history for eviction (LRU clock or LFU counter); unused for now.
  uint8_t access() const;
  void set_access(uint8_t v);

  // The snapshot mark: one bit the owning shard compares with its own to
  // tell whether the entry was already written by the snapshot in progress
  // (storage/snapshot_sink.h). Kept by every With... call; a new entry
  // starts with false and takes the shard's mark when linked.
  bool snapshot_mark() const;
  void set_snapshot_mark(bool mark);

  // Bytes this entry owns on the heap, its collection's included (for INFO,
  // memory accounting and the lazy freer's choice).
  size_t AllocatedBytes() const;
  // Bytes of the entry's own block that its fields occupy (at most its
  // usable size; the rest is allocator rounding or room to grow in place),
  // plus a collection's heap bytes (ObjectAllocatedBytes).
  size_t UsedBytes() const;

  // Hash-table chain link, owned by the shard's table. Stored in 48 bits:
  // set_next() aborts on an address that does not fit (none does on x86-64
  // or AArch64 Linux user space).
  Entry* next() const;
  void set_next(Entry* e);

  Entry() = delete;
  Entry(const Entry&) = delete;
  Entry& operator=(const Entry&) = delete;
};

// Redis's rule for when a string is stored as an integer: canonical decimal
// int64 of at most 20 characters.
bool LooksLikeInt64(std::string_view s, int64_t* out);

}  // namespace sluice::storage
