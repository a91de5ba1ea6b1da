#pragma once
// ZSet: the encoding of large sorted sets. Members are ordered by (score,
// member bytes), with O(1) average member -> score lookup and O(log n)
// insert, erase, rank, and seeks by rank, by score and by lex.
//
// Each member is one small heap block, its element: the score (8-byte
// double), then the member's varint length and bytes (a 16-byte member: 25
// bytes). Two structures point at the elements:
//  - an index, a BucketedTable whose entries are 8-byte (tagged) element
//    pointers keyed by member (see bucketed_table.h), for ZSCORE, ZADD's existence
//    check and finding a member's element; and
//  - an order-statistics B+tree: leaves of up to 61 element pointers in
//    order, linked both ways for range walks; inner nodes of up to 31
//    children, each with the number of elements below it (for rank), a
//    pointer to its smallest element and that element's score (so descents
//    load elements only on equal scores).
// Per member that is the element block, one 8-byte index entry (plus the
// index's per-bucket share) and one 8-byte leaf slot at ~70% fill; leaves are
// 512 bytes, inner nodes about 1 KiB. Full leaves split in half, except that
// an insert at the very end of the set leaves the old leaf full (increasing
// scores, such as timestamps, fill leaves completely); nodes that fall to a
// quarter merge with a neighbour when the two fit in three quarters of a node.
//
// Comparisons use the double scores, so -0.0 and 0.0 are equal and members
// with equal scores are ordered by bytes (unsigned). NaN is never stored:
// callers reject it. Iterators and string_views point into the set and are
// valid until the next mutation. Not thread-safe: the owning shard's lock
// guards it.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "absl/random/bit_gen_ref.h"
#include "absl/random/distributions.h"
#include "storage/types/bucketed_table.h"

namespace sluice::storage {

namespace zset_internal {

struct Node;
struct Leaf;

// An index entry is the address of a member's element in its low 48 bits
// (user-space addresses fit, as Entry also relies on) and the top 16 bits of
// the member's hash above them, so that a lookup loads only the elements
// whose hash bits match.
struct ElementPointerTraits {
  static constexpr int kAddressBits = 48;
  static uint64_t Tag(uint64_t hash) { return hash >> kAddressBits; }
  static const char* Element(const char* entry) {
    const uint64_t v = bytes::Load<uint64_t>(entry);
    return reinterpret_cast<const char*>(v & ((uint64_t{1} << kAddressBits) - 1));
  }
  // Writes the entry for `element`; aborts on an address over 48 bits.
  static void Write(char* entry, const char* element, uint64_t hash) {
    const auto address = reinterpret_cast<uint64_t>(element);
    if (address >> kAddressBits != 0) std::abort();
    bytes::Store<uint64_t>(entry, address | (Tag(hash) << kAddressBits));
  }
  static std::string_view Key(const char* entry) {
    return bytes::ReadLengthPrefixed(Element(entry) + sizeof(double));
  }
  static double Score(const char* entry) { return bytes::Load<double>(Element(entry)); }
  static bool Matches(const char* entry, std::string_view key, uint64_t hash) {
    return bytes::Load<uint64_t>(entry) >> kAddressBits == Tag(hash) && Key(entry) == key;
  }
  static size_t EntryBytes(const char*) { return sizeof(uint64_t); }
};

}  // namespace zset_internal

class ZSet {
 public:
  // A position in the order: an element or the end. begin() and the seeks
  // below return it.
  class Iterator {
   public:
    bool valid() const;
    // REQUIRES (member, score, Next): valid().
    std::string_view member() const;
    double score() const;
    void Next();
    // From end() to the last element; from the first to invalid (!valid()).
    void Prev();
    bool operator==(const Iterator& other) const = default;

   private:
    friend class ZSet;
    Iterator(const zset_internal::Leaf* leaf, uint32_t pos);
    const zset_internal::Leaf* leaf_ = nullptr;
    uint32_t pos_ = 0;
  };

  ZSet() = default;
  ~ZSet();
  ZSet(const ZSet&) = delete;
  ZSet& operator=(const ZSet&) = delete;

  size_t size() const { return index_.size(); }
  bool empty() const { return size() == 0; }
  // Elements, tree nodes and the index (malloc_usable_size).
  size_t AllocatedBytes() const { return element_bytes_ + node_bytes_ + index_.AllocatedBytes(); }

  // Adds `member` with `score`, or moves an existing member to `score` (a
  // score equal to the current one changes nothing). Returns true when the
  // member is new. REQUIRES: score is not NaN.
  bool Insert(std::string_view member, double score);
  // Returns false when `member` is absent.
  bool Erase(std::string_view member);
  bool Score(std::string_view member, double* score) const;
  // 0-based position of `member` in ascending order (ZRANK; ZREVRANK is
  // size() - 1 - rank). Returns false when absent.
  bool Rank(std::string_view member, size_t* rank) const;

  Iterator begin() const;
  Iterator end() const;
  // The element at 0-based `rank`, or end() when rank >= size().
  Iterator AtRank(size_t rank) const;
  // The first element whose score is >= `score` (> when `exclusive`), or
  // end(); *rank, when given, is its rank (size() for end()). The elements
  // with score <= max are those before SeekScore(max, true); ZCOUNT is the
  // difference of two ranks.
  Iterator SeekScore(double score, bool exclusive, size_t* rank = nullptr) const;
  // The same by member bytes (ZRANGEBYLEX): the first member >= `member`
  // (> when `exclusive`). The empty string, inclusive, is "-". Meaningful
  // when all scores are equal, as Redis requires for lex ranges.
  Iterator SeekLex(std::string_view member, bool exclusive, size_t* rank = nullptr) const;

  // A uniformly random member (ZRANDMEMBER). REQUIRES: !empty().
  Iterator Random(absl::BitGenRef gen) const {
    return AtRank(absl::Uniform<size_t>(gen, 0, size()));
  }
  // One ZSCAN step, over the member index (so with SCAN's guarantee, see
  // BucketedTable::Scan): visit(std::string_view member, double score).
  template <typename Visit>
  uint64_t Scan(uint64_t cursor, Visit&& visit) const {
    using Traits = zset_internal::ElementPointerTraits;
    return index_.Scan(cursor, [&](const char* e) { visit(Traits::Key(e), Traits::Score(e)); });
  }

  void Clear();
  // Resize work for the index of an idle set; returns whether a resize is
  // still in progress.
  bool RehashStep() { return index_.RehashStep(); }

  // For tests, O(n): the tree is ordered, counts and first-element pointers
  // add up, leaves are linked, and the index holds exactly the tree's elements.
  bool CheckConsistency() const;

  static constexpr size_t kNodeBytes = 512;

 private:
  using Index = BucketedTable<zset_internal::ElementPointerTraits>;

  // Descends to the first element for which `before` is false (elements for
  // which it is true all come first); sets *rank.
  template <typename Before>
  Iterator Seek(Before before, size_t* rank) const;

  void InsertIntoTree(const char* element);
  void EraseFromTree(const char* element);
  zset_internal::Node* InsertInto(zset_internal::Node* node, const char* element);
  void EraseFrom(zset_internal::Node* node, const char* element);
  void FreeTree(zset_internal::Node* node);

  Index index_;
  zset_internal::Node* root_ = nullptr;
  zset_internal::Leaf* first_leaf_ = nullptr;
  zset_internal::Leaf* last_leaf_ = nullptr;
  size_t element_bytes_ = 0;  // usable bytes of the element blocks
  size_t node_bytes_ = 0;     // usable bytes of the tree nodes
};

}  // namespace sluice::storage
