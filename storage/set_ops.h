#pragma once
// Set operations on one shard: the storage half of the set commands. A set
// is a collection entry (ValueType::kSet) whose object is, as in Redis 7:
//   an IntSet while every member is an integer and there are at most
//     `max_intset_entries` of them (set-max-intset-entries);
//   a PackedList of members while there are at most `max_packed_entries`
//     members of at most `max_packed_value` bytes (set-max-listpack-*);
//   a StrSet otherwise.
// A set never converts back, and a set whose last member goes is removed.
//
// Every mutation runs inside Shard::Update, so the shard's byte count
// follows the set. Each function REQUIRES: shard.mu() held. Views and the
// string_views they hand out are valid until the shard is modified.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "storage/object.h"
#include "storage/shard.h"
#include "storage/status.h"

namespace sluice::storage {

struct SetLimits {
  size_t max_intset_entries = 512;  // set-max-intset-entries
  size_t max_packed_entries = 128;  // set-max-listpack-entries
  size_t max_packed_value = 64;     // set-max-listpack-value
};

// OBJECT ENCODING's names: intset, listpack, hashtable.
enum class SetEncoding { kIntSet, kPacked, kTable };

// Read access to a set entry. REQUIRES: entry->type() == ValueType::kSet.
class SetView {
 public:
  explicit SetView(const Entry* entry) : ref_(entry->object()) {}
  explicit SetView(ObjectRef ref) : ref_(ref) {}

  SetEncoding encoding() const;
  const char* encoding_name() const;
  size_t size() const;
  bool Contains(std::string_view member) const;
  // visit(std::string_view member) for every member (integers formatted).
  template <typename Visit>
  void ForEach(Visit&& visit) const {
    switch (ref_.kind()) {
      case ContainerKind::kIntSet: {
        const IntSet& ints = *ref_.ints();
        for (size_t i = 0; i < ints.size(); ++i) visit(std::string_view(FormatInt(ints.At(i))));
        return;
      }
      case ContainerKind::kStrSet:
        return ref_.set()->ForEach(visit);
      default: {
        const BorrowedPacked borrowed(ref_);
        const PackedList& list = borrowed.list();
        std::string scratch;
        for (PackedList::Pos p = list.begin(); p != list.end(); p = list.Next(p)) {
          visit(list.Get(p).AsString(&scratch));
        }
      }
    }
  }
  // All members, copied.
  std::vector<std::string> Members() const;

 private:
  static std::string FormatInt(int64_t v) { return std::to_string(v); }
  ObjectRef ref_;
};

// The live set at `key`, nullptr when absent, kWrongType when the key holds
// another type. `for_read` counts a keyspace hit or miss.
Result<const Entry*> FindSet(Shard& shard, std::string_view key, int64_t now_ms,
                             bool for_read = true);

// SADD: returns how many members were new. Creates the key when absent.
Result<size_t> SetAdd(Shard& shard, std::string_view key, std::span<const std::string_view> members,
                      const SetLimits& limits, int64_t now_ms);

struct SetRemoveOutcome {
  size_t removed = 0;
  bool key_removed = false;  // the last member went, and the key with it
};
// SREM.
Result<SetRemoveOutcome> SetRemove(Shard& shard, std::string_view key,
                                   std::span<const std::string_view> members, int64_t now_ms);

// SPOP: removes up to `count` random distinct members and returns them
// (the key goes with its last member; *key_removed says so).
Result<std::vector<std::string>> SetPop(Shard& shard, std::string_view key, uint64_t count,
                                        int64_t now_ms, bool* key_removed);

// SRANDMEMBER key count: count >= 0 gives min(count, size) distinct
// members, count < 0 gives -count members that may repeat.
std::vector<std::string> SetRandomMembers(const Entry* set, int64_t count);

// One SSCAN step (a small set is returned whole with cursor 0, as Redis
// does); members not matching `pattern` (empty: all) are left out.
uint64_t SetScan(const Entry* set, uint64_t cursor, size_t count, std::string_view pattern,
                 std::vector<std::string>* out);

// Replaces whatever `key` holds by a set of `members` (distinct), encoded as
// SADD would build it from an empty set; an empty `members` deletes the
// key. Returns whether the key existed before.
bool SetStore(Shard& shard, std::string_view key, const std::vector<std::string>& members,
              const SetLimits& limits, int64_t now_ms);

// A new set entry (linked into no shard) of `members` (distinct,
// non-empty), encoded as SADD would build it from nothing (loading a
// snapshot or RESTORE).
Entry* CreateSetEntry(std::string_view key, std::span<const std::string_view> members,
                      const SetLimits& limits, int64_t expire_at_ms);

// Set algebra over set views; nullptr stands for an absent (empty) set.
// SINTER (stops after `limit` members when limit > 0), SUNION, SDIFF.
std::vector<std::string> SetIntersection(std::span<const Entry* const> sets, size_t limit = 0);
std::vector<std::string> SetUnion(std::span<const Entry* const> sets);
std::vector<std::string> SetDifference(std::span<const Entry* const> sets);

}  // namespace sluice::storage
