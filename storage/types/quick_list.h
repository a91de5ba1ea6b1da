#pragma once
// QuickList: the large-list encoding, a doubly linked sequence of PackedList
// nodes (Redis's quicklist shape). Each node holds at most what `fill` allows
// (list-max-listpack-size): a negative fill caps a node's bytes (-1 4 KiB,
// -2 8 KiB, -3 16 KiB, -4 32 KiB, -5 64 KiB), a positive one its entries
// (and 8 KiB of bytes as a safety limit). A single element larger than the
// cap gets a node of its own.
//
// Push and pop at either end are O(1); indexing walks the nodes from the
// nearer end and then one node. Iterators (Iter) name a node and a position
// in it; a mutation invalidates them except as each method says.
//
// A small list (one PackedList stored bare in an ObjectRef) can be lent to a
// QuickList as its only node (Lend) so the same code serves both encodings
// without allocating; list_ops.cc takes it back or converts.
//
// Compression (list-compress-depth): with a depth d > 0, the nodes more than
// d nodes away from either end are kept LZF-compressed (liblzf, the
// algorithm Redis's quicklist and RDB use). A node is compressed a little
// after it becomes interior: up to kRawInterior interior nodes stay raw (the
// ones last written or last made interior), so a burst of edits in the
// middle does not recompress on every command. A node that would save less
// than 8 bytes, or holds under 48, stays raw. Edits decompress the node into
// itself; reads of a compressed node decompress it into a small per-thread
// cache (not counted in AllocatedBytes, so reads never change the list's
// memory), so a Value read from an interior node stays valid until the next
// mutation or until kCacheSlots other compressed nodes were read by the same
// thread. Nodes within d of the ends are always raw, so pushes and pops at
// the ends never touch compressed data.
//
// Not thread-safe: the owning shard's lock guards it.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/container/inlined_vector.h"
#include "storage/types/packed.h"

namespace sluice::storage {

class QuickList {
 public:
  struct Node {
    Node* prev = nullptr;
    Node* next = nullptr;
    // The elements, raw; empty while the node is compressed.
    PackedList list;
    // The compressed form (nullptr while raw): the PackedList's 8-byte header
    // (used bytes, element count), the LZF length (uint32), the LZF bytes of
    // the rest.
    char* packed = nullptr;
    // Identifies this compressed form in the per-thread read cache (fresh for
    // every compression, so a freed node's reused address never hits).
    uint64_t packed_id = 0;
    bool pending = false;         // in pending_ (raw interior, waiting)
    bool incompressible = false;  // the last try saved too little; retried after an edit
  };
  static constexpr size_t kRawInterior = 2;
  static constexpr size_t kCacheSlots = 4;
  struct Iter {
    Node* node = nullptr;
    PackedList::Pos pos = 0;
    bool valid() const { return node != nullptr; }
  };

  explicit QuickList(int fill = -2) : fill_(fill) {}
  ~QuickList();
  QuickList(QuickList&& other) noexcept;
  QuickList(const QuickList&) = delete;
  QuickList& operator=(const QuickList&) = delete;
  QuickList& operator=(QuickList&&) = delete;

  int fill() const { return fill_; }
  void set_fill(int fill) { fill_ = fill; }
  int compress_depth() const { return depth_; }
  // Takes effect from the next mutation (nodes already compressed stay so
  // until they are edited or come within the depth of an end).
  void set_compress_depth(int depth) { depth_ = depth < 0 ? 0 : depth; }
  size_t compressed_nodes() const { return compressed_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t node_count() const { return nodes_; }
  Node* head() const { return head_; }
  Node* tail() const { return tail_; }
  // Heap bytes: the nodes and their blocks (not this object, nor a lent
  // node's struct). O(1): kept up to date by every mutation.
  size_t AllocatedBytes() const { return bytes_; }

  void PushFront(std::string_view s);
  void PushBack(std::string_view s);
  // Removes the first / last element. REQUIRES: !empty().
  void PopFront();
  void PopBack();

  // The index-th element (negative counts from the back); invalid when out
  // of range.
  Iter At(int64_t index) const;
  Iter Front() const { return size_ == 0 ? Iter{} : Iter{head_, PackedList::kHeaderBytes}; }
  Iter Back() const;
  // Step to the next / previous element; invalid past either end.
  void Next(Iter& it) const;
  void Prev(Iter& it) const;
  PackedList::Value Get(Iter it) const { return View(it.node).Get(it.pos); }

  // Overwrites the element at `it`. REQUIRES: `s` is not inside this list.
  void Replace(Iter it, std::string_view s);
  // Inserts `s` before or after the element at `it`.
  void Insert(Iter it, std::string_view s, bool after);
  // Erases the element at `it`; returns the element that followed it
  // (invalid at the end). Iterators to elements before `it` stay valid.
  Iter Erase(Iter it);
  // Erases `n` elements from the front / back (clipped).
  void EraseFront(size_t n);
  void EraseBack(size_t n);
  void Clear();

  // Lends `node` (holding a small list's block, possibly none) as the only
  // node of this empty list. The node is never freed by this list; Unlend() moves its
  // contents to a heap node of this list (when still linked) so the list
  // owns all it holds.
  void Lend(Node* node);
  bool lent_linked() const { return lent_ != nullptr && lent_linked_; }
  void Unlend();
  // Unlinks the only node and returns its list. REQUIRES: node_count() == 1.
  PackedList TakeOnlyNode();

  // Whether a node of `bytes` encoded bytes holding `count` entries is over
  // the fill limit.
  bool Exceeds(size_t bytes, size_t count) const;
  bool NodeExceeds(const Node* n) const { return Exceeds(UsedBytes(n), Count(n)); }
  // A node's element count and encoded bytes, compressed or not.
  static size_t Count(const Node* n);
  static size_t UsedBytes(const Node* n);

  // For tests: links, counts and every node's encoding agree.
  bool CheckConsistency() const;

 private:
  bool Fits(const Node* n, std::string_view s) const;
  Node* NewNode();
  void LinkAfter(Node* at, Node* n);  // at == nullptr: at the front
  void Unlink(Node* n);
  void FreeNode(Node* n);
  void SplitIfNeeded(Node* n);
  // Heap bytes of `n` as AllocatedBytes() counts them.
  size_t NodeBytes(const Node* n) const;
  size_t CountBytes() const;
  // The node's elements for reading: itself when raw, else a cache slot.
  static const PackedList& View(const Node* n);
  // Makes `n` raw for an edit (counted in bytes_) and queues it for
  // recompression when it is interior.
  PackedList& Edit(Node* n);
  void Decompress(Node* n);
  bool Compress(Node* n);
  void Queue(Node* n);
  void Dequeue(Node* n);
  bool Protected(const Node* n) const;
  // After every mutation: the nodes within the depth of the ends raw, the
  // first interior ones queued, the queue trimmed to kRawInterior.
  void Settle();

  Node* head_ = nullptr;
  Node* tail_ = nullptr;
  size_t size_ = 0;
  size_t nodes_ = 0;
  size_t bytes_ = 0;
  int fill_;
  int depth_ = 0;
  size_t compressed_ = 0;
  // Raw interior nodes waiting to be compressed, oldest first.
  absl::InlinedVector<Node*, kRawInterior + 1> pending_;
  Node* lent_ = nullptr;
  bool lent_linked_ = false;
};

}  // namespace sluice::storage
