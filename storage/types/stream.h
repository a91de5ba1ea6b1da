#pragma once
// Stream: the container behind the stream type, an append-mostly log of
// entries ordered by a 128-bit entry ID (milliseconds-sequence), each entry
// a list of field/value pairs.
//
// Entries live in packed nodes kept in an ordered map keyed by the ID of the
// node's first entry (its master ID). A node holds up to kNodeMaxEntries
// consecutive entries in at most kNodeMaxBytes (one larger entry gets a node
// of its own). Each entry is packed as
//
//   flags (1 byte: bit 0 deleted) | varint ms - master.ms | varint seq |
//   varint pair count | (varint length, bytes) per field and per value
//
// XDEL and exact trimming mark entries deleted in place; a node whose every
// entry is deleted is freed. Appends go to the last node while it has room.
//
// Metadata follows Redis's: the live length, the last ID ever generated (it
// never goes back, even when the top entry is deleted), the largest deleted
// ID and the count of entries ever added.
//
// AllocatedBytes() is kept as a running count so that it is O(1) (the shard
// asks for it around every mutation). Not thread-safe: the owning shard's
// lock guards it.

#include <compare>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "absl/container/btree_map.h"
#include "absl/functional/function_ref.h"

namespace sluice::storage {

struct StreamId {
  uint64_t ms = 0;
  uint64_t seq = 0;

  static constexpr StreamId Min() { return {0, 0}; }
  static constexpr StreamId Max() {
    return {std::numeric_limits<uint64_t>::max(), std::numeric_limits<uint64_t>::max()};
  }
  // The next / previous ID; false (and unchanged) at Max() / Min().
  bool Increment();
  bool Decrement();
  std::string ToString() const;  // "ms-seq"

  friend auto operator<=>(const StreamId&, const StreamId&) = default;
  friend bool operator==(const StreamId&, const StreamId&) = default;
};

// One entry, read straight from its node: valid until the stream changes.
class StreamEntryView {
 public:
  StreamEntryView(StreamId id, uint64_t pairs, const char* fields)
      : id_(id), pairs_(pairs), fields_(fields) {}
  StreamId id() const { return id_; }
  uint64_t pairs() const { return pairs_; }
  // Calls f(field, value) for every pair, in order.
  void ForEachPair(absl::FunctionRef<void(std::string_view, std::string_view)> f) const;

 private:
  StreamId id_;
  uint64_t pairs_;
  const char* fields_;
};

class Stream {
 public:
  static constexpr size_t kNodeMaxEntries = 100;
  static constexpr size_t kNodeMaxBytes = 4096;

  Stream() = default;
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  size_t size() const { return length_; }
  size_t node_count() const { return nodes_.size(); }
  StreamId last_id() const { return last_id_; }
  StreamId max_deleted_id() const { return max_deleted_id_; }
  uint64_t entries_added() const { return entries_added_; }
  // The first live entry's ID, 0-0 when the stream is empty.
  StreamId first_id() const;

  // Adds an entry. `field_values` alternates field, value (an even count,
  // at least two). REQUIRES: id > last_id().
  void Append(StreamId id, std::span<const std::string_view> field_values);

  // XDEL of one ID: whether a live entry was deleted.
  bool Delete(StreamId id);

  // XTRIM: removes the oldest entries down to `maxlen` (MAXLEN) or those
  // below `min_id` (MINID). Approximate trimming removes whole nodes only
  // (so it may leave more than asked, never fewer); `limit` (0: none)
  // bounds how many entries one call removes, counting whole nodes.
  // Returns the number of entries removed.
  size_t TrimMaxLen(uint64_t maxlen, bool approx, uint64_t limit);
  size_t TrimMinId(StreamId min_id, bool approx, uint64_t limit);

  // Calls each(entry) for the live entries with start <= id <= end,
  // ascending (or descending with `reverse`), at most `count` of them
  // (0: all). each returns false to stop early.
  void Range(StreamId start, StreamId end, bool reverse, size_t count,
             absl::FunctionRef<bool(const StreamEntryView&)> each) const;
  std::optional<StreamEntryView> First() const;
  std::optional<StreamEntryView> Last() const;

  // Heap bytes of the nodes and their map slots (not the Stream object).
  size_t AllocatedBytes() const { return allocated_; }

  std::unique_ptr<Stream> Clone() const;

  // Sets the metadata a snapshot or RESTORE carries (after the entries
  // were appended). REQUIRES: last_id is at least the last entry's ID.
  void RestoreMetadata(StreamId last_id, StreamId max_deleted_id, uint64_t entries_added) {
    last_id_ = last_id;
    max_deleted_id_ = max_deleted_id;
    entries_added_ = entries_added;
  }

  // For tests: nodes well formed, counts and metadata agree.
  bool CheckConsistency() const;

 private:
  struct Node {
    char* data = nullptr;
    uint32_t used = 0;
    uint32_t capacity = 0;
    uint32_t total = 0;  // entries packed, deleted ones included
    uint32_t live = 0;
    StreamId last;  // the last entry's ID (deleted or not)
  };
  using NodeMap = absl::btree_map<StreamId, Node>;
  // Bytes counted per node for its map slot.
  static constexpr size_t kSlotBytes = sizeof(StreamId) + sizeof(Node);

  // Visits a node's entries in order: f(offset of the flags byte, id,
  // deleted, pair count, fields pointer). Returns false when f stopped it.
  template <typename F>
  static bool ScanNode(const StreamId& master, const Node& node, F&& f);
  void FreeNode(NodeMap::iterator it);
  void MarkDeleted(Node& node, uint32_t offset);
  // Removes whole nodes from the front / marks entries, for the trims.
  template <typename WholeNode, typename EntryGoes>
  size_t TrimFront(bool approx, uint64_t limit, WholeNode&& whole_node, EntryGoes&& entry_goes);

  NodeMap nodes_;
  size_t length_ = 0;
  size_t allocated_ = 0;
  StreamId last_id_;
  StreamId max_deleted_id_;
  uint64_t entries_added_ = 0;
};

// Parses one part of an ID ("ms" or "seq") as Redis reads unsigned 64-bit
// numbers (decimal, no sign for canonical numbers).
std::optional<uint64_t> ParseStreamIdPart(std::string_view s);

}  // namespace sluice::storage
