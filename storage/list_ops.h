#pragma once
// List operations on one shard: the storage half of the list commands. A
// list is a collection entry (ValueType::kList) whose object is, as in
// Redis 7.2, one PackedList while it fits a node of list-max-listpack-size
// (OBJECT ENCODING "listpack"), a QuickList of PackedList nodes beyond that
// ("quicklist"). A quicklist goes back to a listpack when it is down to one
// node holding at most half of the limit. A list whose last element goes is
// removed.
//
// Every mutation runs inside Shard::Update, so the shard's byte count
// follows the list. Each function REQUIRES: shard.mu() held. Readers and
// the string_views they hand out are valid until the shard is modified.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "storage/object.h"
#include "storage/shard.h"
#include "storage/status.h"

namespace sluice::storage {

struct ListLimits {
  int fill = -2;  // list-max-listpack-size
  int compress_depth = 0;  // list-compress-depth
};

// Read access to a list entry as a QuickList (a small list is lent to a
// local one, without copying). REQUIRES: entry->type() == ValueType::kList.
class ListReader {
 public:
  explicit ListReader(const Entry* entry);
  ~ListReader();
  ListReader(const ListReader&) = delete;
  ListReader& operator=(const ListReader&) = delete;

  const QuickList& list() const { return *list_; }
  size_t size() const { return list_->size(); }

 private:
  QuickList::Node node_;
  QuickList local_;
  const QuickList* list_;
};

// OBJECT ENCODING's name: "listpack" or "quicklist".
const char* ListEncodingName(const Entry* entry);

// The live list at `key`, nullptr when absent, kWrongType when the key
// holds another type. `for_read` counts a keyspace hit or miss.
Result<const Entry*> FindList(Shard& shard, std::string_view key, int64_t now_ms,
                              bool for_read = true);

// LPUSH/RPUSH (and the X forms with `only_existing`): returns the new
// length (0 when `only_existing` and the key is absent).
Result<size_t> ListPush(Shard& shard, std::string_view key,
                        std::span<const std::string_view> values, bool left, bool only_existing,
                        const ListLimits& limits, int64_t now_ms);

struct ListPopOutcome {
  size_t popped = 0;
  bool key_removed = false;
};
// LPOP/RPOP: pops min(count, length) elements; `header(n)` is called once
// with that number before `each(element)` is called for every one (in pop
// order, straight from the list). Neither is called for an absent key.
Result<ListPopOutcome> ListPop(Shard& shard, std::string_view key, bool left, size_t count,
                               const ListLimits& limits, int64_t now_ms,
                               absl::FunctionRef<void(size_t)> header,
                               absl::FunctionRef<void(std::string_view)> each);

enum class ListSetResult { kOk, kNoSuchKey, kOutOfRange };
// LSET.
Result<ListSetResult> ListSet(Shard& shard, std::string_view key, int64_t index,
                              std::string_view value, const ListLimits& limits, int64_t now_ms);

// LINSERT: the new length, -1 when the pivot is missing, 0 when the key is.
Result<int64_t> ListInsert(Shard& shard, std::string_view key, bool after, std::string_view pivot,
                           std::string_view value, const ListLimits& limits, int64_t now_ms);

struct ListRemoveOutcome {
  size_t removed = 0;
  bool key_removed = false;
};
// LREM: count > 0 removes from the head, < 0 from the tail, 0 all.
Result<ListRemoveOutcome> ListRemove(Shard& shard, std::string_view key, int64_t count,
                                     std::string_view value, const ListLimits& limits,
                                     int64_t now_ms);

struct ListTrimOutcome {
  bool existed = false;
  bool key_removed = false;
};
// LTRIM with Redis's index rules.
Result<ListTrimOutcome> ListTrim(Shard& shard, std::string_view key, int64_t start, int64_t stop,
                                 const ListLimits& limits, int64_t now_ms);

struct ListMoveOutcome {
  bool moved = false;  // false: the source is absent
  std::string value;
  bool dst_created = false;
  bool src_removed = false;
};
// LMOVE/RPOPLPUSH: both types are checked before anything moves; the same
// key rotates in place.
Result<ListMoveOutcome> ListMove(Shard& src, std::string_view src_key, Shard& dst,
                                 std::string_view dst_key, bool from_left, bool to_left,
                                 const ListLimits& limits, int64_t now_ms);

// Replaces whatever `key` holds by a list of `values` in order (SORT ...
// STORE), built as RPUSH would build it; an empty `values` deletes the key.
// Returns whether the key existed before.
bool ListStore(Shard& shard, std::string_view key, std::span<const std::string_view> values,
               const ListLimits& limits, int64_t now_ms);

// A new list entry (linked into no shard) of `values` in order
// (non-empty), built as RPUSH would build it (loading a snapshot or
// RESTORE).
Entry* CreateListEntry(std::string_view key, std::span<const std::string_view> values,
                       const ListLimits& limits, int64_t expire_at_ms);

}  // namespace sluice::storage
