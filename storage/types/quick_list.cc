#include "storage/types/quick_list.h"

#include <malloc.h>

#include <atomic>
#include <cstring>
#include <type_traits>
#include <utility>

#include "lzf.h"
#include "zstd.h"
#include "storage/types/bytes.h"

namespace sluice::storage {
namespace {

constexpr size_t kSafetyBytes = 8192;  // cap for positive fills
constexpr size_t kByteCaps[] = {4096, 8192, 16384, 32768, 65536};

// Upper bound of the bytes a string adds to a PackedList.
size_t EncodedBound(std::string_view s) { return s.size() + 11; }

void InsertValue(PackedList& list, PackedList::Pos at, const PackedList::Value& v) {
  if (v.is_int()) {
    list.InsertInt(at, v.int_value());
  } else if (v.is_double()) {
    list.InsertDouble(at, v.double_value());
  } else {
    list.InsertString(at, v.str());
  }
}

// Compression thresholds (what Redis's quicklist uses too).
constexpr size_t kMinCompressBytes = 48;
constexpr size_t kMinSavedBytes = 8;
constexpr size_t kPackedHeader = PackedList::kHeaderBytes + sizeof(uint32_t);
// The top bit of the stored length names the codec: clear LZF, set zstd.
constexpr uint32_t kZstdBit = 0x80000000u;
// zstd runs where LZF saves less than a quarter: its entropy stage shrinks
// text without repeats (random tokens, base64) that LZF cannot, at about
// twice LZF's cost, so LZF stays first for what it compresses well. A zstd
// form is kept only when it saves an eighth (less is not worth decompressing
// the node for every read in the middle).
constexpr int kZstdLevel = 1;

std::atomic<uint64_t> next_packed_id{1};

// The per-thread cache of decompressed nodes for reads (see the header).
struct ReadCache {
  struct Slot {
    const QuickList::Node* node = nullptr;
    uint64_t id = 0;
    PackedList list;
  };
  Slot slots[QuickList::kCacheSlots];
  size_t next = 0;  // round-robin victim
};
thread_local ReadCache read_cache;

// zstd contexts, one per thread, reused (creating one per call costs more
// than compressing a node).
struct ZstdContexts {
  ZSTD_CCtx* c = ZSTD_createCCtx();
  ZSTD_DCtx* d = ZSTD_createDCtx();
  ~ZstdContexts() {
    ZSTD_freeCCtx(c);
    ZSTD_freeDCtx(d);
  }
};
ZstdContexts& Zstd() {
  static thread_local ZstdContexts contexts;
  return contexts;
}

// Compresses `body` into `out` (room for `limit` bytes); returns the stored
// length word (codec bit and size), 0 when neither codec gets under `limit`.
uint32_t CompressBody(const char* body, size_t size, char* out, size_t limit) {
  if (size >= kZstdBit) return 0;  // the length word could not hold it
  const unsigned lzf = lzf_compress(body, static_cast<unsigned>(size), out,
                                    static_cast<unsigned>(limit));
  if (lzf != 0 && lzf <= size - size / 4) return lzf;
  static thread_local std::string alt;
  if (alt.size() < limit) alt.resize(limit);
  const size_t z = ZSTD_compressCCtx(Zstd().c, alt.data(), limit, body, size, kZstdLevel);
  if (ZSTD_isError(z) || z > size - size / 8 || (lzf != 0 && z >= lzf)) return lzf;
  std::memcpy(out, alt.data(), z);
  return static_cast<uint32_t>(z) | kZstdBit;
}

// Decompresses a node's packed form into a fresh PackedList.
PackedList Unpack(const char* packed) {
  const uint32_t used = bytes::Load<uint32_t>(packed);
  const uint32_t word = bytes::Load<uint32_t>(packed + PackedList::kHeaderBytes);
  const uint32_t len = word & ~kZstdBit;
  char* block = bytes::Allocate(used);
  std::memcpy(block, packed, PackedList::kHeaderBytes);
  const size_t want = used - PackedList::kHeaderBytes;
  const size_t got =
      (word & kZstdBit) != 0
          ? ZSTD_decompressDCtx(Zstd().d, block + PackedList::kHeaderBytes, want,
                                packed + kPackedHeader, len)
          : lzf_decompress(packed + kPackedHeader, len, block + PackedList::kHeaderBytes,
                           static_cast<unsigned>(want));
  if (got != want) std::abort();  // our own data: cannot happen
  return PackedList::Adopt(block);
}

}  // namespace

// Runs `edit` on `list` and moves `*bytes` by the change of its heap size.
template <typename Edit>
auto Tracked(size_t* bytes, PackedList& list, Edit&& edit) {
  const size_t before = list.AllocatedBytes();
  if constexpr (std::is_void_v<decltype(edit())>) {
    edit();
    *bytes = *bytes - before + list.AllocatedBytes();
  } else {
    auto result = edit();
    *bytes = *bytes - before + list.AllocatedBytes();
    return result;
  }
}

QuickList::~QuickList() { Clear(); }

QuickList::QuickList(QuickList&& other) noexcept
    : head_(std::exchange(other.head_, nullptr)),
      tail_(std::exchange(other.tail_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      nodes_(std::exchange(other.nodes_, 0)),
      bytes_(std::exchange(other.bytes_, 0)),
      fill_(other.fill_),
      depth_(other.depth_),
      compressed_(std::exchange(other.compressed_, 0)),
      pending_(std::move(other.pending_)),
      lent_(std::exchange(other.lent_, nullptr)),
      lent_linked_(std::exchange(other.lent_linked_, false)) {
  other.pending_.clear();
}

size_t QuickList::NodeBytes(const Node* n) const {
  return (n == lent_ ? 0 : malloc_usable_size(const_cast<Node*>(n))) + n->list.AllocatedBytes() +
         (n->packed == nullptr ? 0 : malloc_usable_size(n->packed));
}

size_t QuickList::Count(const Node* n) {
  return n->packed == nullptr ? n->list.size()
                              : bytes::Load<uint32_t>(n->packed + sizeof(uint32_t));
}

size_t QuickList::UsedBytes(const Node* n) {
  return n->packed == nullptr ? n->list.bytes() : bytes::Load<uint32_t>(n->packed);
}

const PackedList& QuickList::View(const Node* n) {
  if (n->packed == nullptr) return n->list;
  ReadCache& c = read_cache;
  for (ReadCache::Slot& s : c.slots) {
    if (s.node == n && s.id == n->packed_id) return s.list;
  }
  ReadCache::Slot& s = c.slots[c.next];
  c.next = (c.next + 1) % kCacheSlots;
  s.list = Unpack(n->packed);
  s.node = n;
  s.id = n->packed_id;
  return s.list;
}

void QuickList::Decompress(Node* n) {
  if (n->packed == nullptr) return;
  bytes_ -= NodeBytes(n);
  n->list = Unpack(n->packed);
  std::free(n->packed);
  n->packed = nullptr;
  n->packed_id = 0;
  --compressed_;
  bytes_ += NodeBytes(n);
}

bool QuickList::Compress(Node* n) {
  if (n->packed != nullptr) return true;
  const size_t used = n->list.bytes();
  if (n->incompressible || used < kMinCompressBytes) {
    n->incompressible = true;
    return false;
  }
  // Compress into a per-thread scratch, then keep an exact-size copy.
  static thread_local std::string scratch;
  const size_t body = used - PackedList::kHeaderBytes;
  const size_t limit = body - kMinSavedBytes;
  if (scratch.size() < limit) scratch.resize(limit);
  const size_t before = NodeBytes(n);
  char* raw = n->list.Release();
  const uint32_t word =
      CompressBody(raw + PackedList::kHeaderBytes, body, scratch.data(), limit);
  if (word == 0) {
    n->list = PackedList::Adopt(raw);
    n->incompressible = true;
    return false;
  }
  const size_t len = word & ~kZstdBit;
  char* packed = bytes::Allocate(kPackedHeader + len);
  std::memcpy(packed, raw, PackedList::kHeaderBytes);
  bytes::Store<uint32_t>(packed + PackedList::kHeaderBytes, word);
  std::memcpy(packed + kPackedHeader, scratch.data(), len);
  std::free(raw);
  n->packed = packed;
  n->packed_id = next_packed_id.fetch_add(1, std::memory_order_relaxed);
  ++compressed_;
  bytes_ = bytes_ - before + NodeBytes(n);
  return true;
}

PackedList& QuickList::Edit(Node* n) {
  Decompress(n);
  n->incompressible = false;
  if (!Protected(n)) Queue(n);
  return n->list;
}

void QuickList::Queue(Node* n) {
  if (n->pending || depth_ == 0) return;
  n->pending = true;
  pending_.push_back(n);
}

void QuickList::Dequeue(Node* n) {
  if (!n->pending) return;
  n->pending = false;
  for (size_t i = 0; i < pending_.size(); ++i) {
    if (pending_[i] == n) {
      pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
      return;
    }
  }
}

bool QuickList::Protected(const Node* n) const {
  const int keep = depth_ < 1 ? 1 : depth_;
  const Node* a = n;
  const Node* b = n;
  for (int i = 0; i < keep; ++i) {
    a = a->prev;
    b = b->next;
    if (a == nullptr || b == nullptr) return true;
  }
  return false;
}

void QuickList::Settle() {
  // The ends (at least the head and tail; `depth_` nodes each) are raw.
  const int keep = depth_ < 1 ? 1 : depth_;
  Node* front = head_;
  Node* back = tail_;
  for (int i = 0; i < keep && front != nullptr; ++i) {
    Decompress(front);
    Decompress(back);
    Dequeue(front);
    Dequeue(back);
    front = front->next;
    back = back->prev;
  }
  if (depth_ == 0) {
    while (!pending_.empty()) Dequeue(pending_.front());
    return;
  }
  // The first interior nodes (they may have just become interior).
  if (front != nullptr && !Protected(front) && front->packed == nullptr) Queue(front);
  if (back != nullptr && !Protected(back) && back->packed == nullptr) Queue(back);
  // Nodes that came within the depth of an end since they were queued stay raw.
  for (size_t i = 0; i < pending_.size();) {
    if (Protected(pending_[i]) || pending_[i]->incompressible) {
      pending_[i]->pending = false;
      pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
  while (pending_.size() > kRawInterior) {
    Node* n = pending_.front();
    pending_.erase(pending_.begin());
    n->pending = false;
    Compress(n);
  }
}

size_t QuickList::CountBytes() const {
  size_t total = 0;
  for (const Node* n = head_; n != nullptr; n = n->next) total += NodeBytes(n);
  return total;
}

bool QuickList::Exceeds(size_t bytes, size_t count) const {
  if (fill_ >= 0) {
    return count > static_cast<size_t>(fill_ == 0 ? 1 : fill_) || bytes > kSafetyBytes;
  }
  const int idx = fill_ < -5 ? 4 : -fill_ - 1;
  return bytes > kByteCaps[idx];
}

bool QuickList::Fits(const Node* n, std::string_view s) const {
  if (n == nullptr) return false;
  if (Count(n) == 0) return true;
  return !Exceeds(UsedBytes(n) + EncodedBound(s), Count(n) + 1);
}

QuickList::Node* QuickList::NewNode() { return new Node(); }

void QuickList::LinkAfter(Node* at, Node* n) {
  n->prev = at;
  n->next = at == nullptr ? head_ : at->next;
  if (n->prev != nullptr) n->prev->next = n;
  if (n->next != nullptr) n->next->prev = n;
  if (at == nullptr) head_ = n;
  if (tail_ == at) tail_ = n;
  ++nodes_;
  bytes_ += NodeBytes(n);
}

void QuickList::Unlink(Node* n) {
  if (n->prev != nullptr) n->prev->next = n->next;
  if (n->next != nullptr) n->next->prev = n->prev;
  if (head_ == n) head_ = n->next;
  if (tail_ == n) tail_ = n->prev;
  n->prev = n->next = nullptr;
  --nodes_;
}

void QuickList::FreeNode(Node* n) {
  bytes_ -= NodeBytes(n);
  Dequeue(n);
  Unlink(n);
  if (n->packed != nullptr) {
    std::free(n->packed);
    n->packed = nullptr;
    --compressed_;
  }
  if (n == lent_) {
    lent_linked_ = false;
    n->list.Clear();
    return;
  }
  delete n;
}

void QuickList::PushFront(std::string_view s) {
  const bool link = !Fits(head_, s);
  if (link) LinkAfter(nullptr, NewNode());
  Tracked(&bytes_, head_->list, [&] { head_->list.InsertString(head_->list.begin(), s); });
  ++size_;
  if (link && nodes_ > 2) Settle();  // a node may have become interior
}

void QuickList::PushBack(std::string_view s) {
  const bool link = !Fits(tail_, s);
  if (link) LinkAfter(tail_, NewNode());
  Tracked(&bytes_, tail_->list, [&] { tail_->list.PushBack(s); });
  ++size_;
  if (link && nodes_ > 2) Settle();
}

// Pops keep an end node's block at its size (no reallocation per pop; the
// node is freed when it empties, so at most one node's worth per end sits
// idle), except a small list's only node, which is the list's whole storage.
void QuickList::PopFront() {
  PackedList& l = head_->list;
  if (head_ == lent_ || l.size() == 1) {  // the last element frees the block
    Tracked(&bytes_, l, [&] { l.Erase(l.begin()); });
  } else {
    l.Erase(l.begin(), 1, /*shrink=*/false);
  }
  --size_;
  if (l.empty()) {
    FreeNode(head_);
    Settle();
  }
}

void QuickList::PopBack() {
  PackedList& l = tail_->list;
  if (tail_ == lent_ || l.size() == 1) {
    Tracked(&bytes_, l, [&] { l.Erase(l.Prev(l.end())); });
  } else {
    l.Erase(l.Prev(l.end()), 1, /*shrink=*/false);
  }
  --size_;
  if (l.empty()) {
    FreeNode(tail_);
    Settle();
  }
}

QuickList::Iter QuickList::Back() const {
  if (size_ == 0) return {};
  return {tail_, tail_->list.Prev(tail_->list.end())};
}

QuickList::Iter QuickList::At(int64_t index) const {
  const int64_t n = static_cast<int64_t>(size_);
  if (index < 0) index += n;
  if (index < 0 || index >= n) return {};
  if (index < n / 2 + 1) {
    Node* node = head_;
    while (index >= static_cast<int64_t>(Count(node))) {
      index -= static_cast<int64_t>(Count(node));
      node = node->next;
    }
    return {node, View(node).At(index)};
  }
  int64_t back = n - 1 - index;  // 0 is the last element
  Node* node = tail_;
  while (back >= static_cast<int64_t>(Count(node))) {
    back -= static_cast<int64_t>(Count(node));
    node = node->prev;
  }
  return {node, View(node).At(-1 - back)};
}

void QuickList::Next(Iter& it) const {
  it.pos = View(it.node).Next(it.pos);
  if (it.pos == View(it.node).end()) {
    it.node = it.node->next;
    it.pos = PackedList::kHeaderBytes;  // the first element of any non-empty node
  }
}

void QuickList::Prev(Iter& it) const {
  if (it.pos == PackedList::kHeaderBytes) {
    it.node = it.node->prev;
    if (it.node == nullptr) {
      it.pos = 0;
      return;
    }
    const PackedList& l = View(it.node);
    it.pos = l.Prev(l.end());
    return;
  }
  it.pos = View(it.node).Prev(it.pos);
}

void QuickList::SplitIfNeeded(Node* n) {
  while (n->list.size() > 1 && NodeExceeds(n)) {
    // Move the second half to a new node after this one.
    const size_t keep = n->list.size() / 2;
    Node* fresh = NewNode();
    for (PackedList::Pos p = n->list.At(static_cast<int64_t>(keep)); p != n->list.end();
         p = n->list.Next(p)) {
      InsertValue(fresh->list, fresh->list.end(), n->list.Get(p));
    }
    Tracked(&bytes_, n->list,
            [&] { n->list.Erase(n->list.At(static_cast<int64_t>(keep)), n->list.size() - keep); });
    LinkAfter(n, fresh);
    if (!Protected(fresh)) Queue(fresh);
    SplitIfNeeded(fresh);
  }
}

void QuickList::Replace(Iter it, std::string_view s) {
  PackedList& l = Edit(it.node);
  Tracked(&bytes_, l, [&] { l.ReplaceString(it.pos, s); });
  SplitIfNeeded(it.node);
  Settle();
}

void QuickList::Insert(Iter it, std::string_view s, bool after) {
  Node* n = it.node;
  PackedList::Pos at = it.pos;
  if (after) at = View(n).Next(at);
  if (!Fits(n, s)) {
    // At a node's edge, a neighbour with room (or a new node) takes it.
    if (at == View(n).end()) {
      if (!Fits(n->next, s)) LinkAfter(n, NewNode());
      PackedList& next = Edit(n->next);
      Tracked(&bytes_, next, [&] { next.InsertString(next.begin(), s); });
      ++size_;
      Settle();
      return;
    }
    if (at == PackedList::kHeaderBytes) {
      if (!Fits(n->prev, s)) LinkAfter(n->prev, NewNode());
      PackedList& prev = Edit(n->prev);
      Tracked(&bytes_, prev, [&] { prev.PushBack(s); });
      ++size_;
      Settle();
      return;
    }
  }
  PackedList& l = Edit(n);
  Tracked(&bytes_, l, [&] { l.InsertString(at, s); });
  ++size_;
  SplitIfNeeded(n);
  Settle();
}

QuickList::Iter QuickList::Erase(Iter it) {
  Node* n = it.node;
  PackedList& l = Edit(n);
  const PackedList::Pos p = Tracked(&bytes_, l, [&] { return l.Erase(it.pos); });
  --size_;
  Iter out;
  if (l.empty()) {
    Node* next = n->next;
    FreeNode(n);
    if (next != nullptr) out = Iter{next, PackedList::kHeaderBytes};
  } else if (p == l.end()) {
    if (n->next != nullptr) out = Iter{n->next, PackedList::kHeaderBytes};
  } else {
    out = Iter{n, p};
  }
  Settle();
  return out;
}

void QuickList::EraseFront(size_t n) {
  while (n > 0 && head_ != nullptr) {
    const size_t have = Count(head_);
    if (have <= n) {
      n -= have;
      size_ -= have;
      FreeNode(head_);
    } else {
      PackedList& l = Edit(head_);
      Tracked(&bytes_, l, [&] { l.Erase(l.begin(), n); });
      size_ -= n;
      n = 0;
    }
  }
  Settle();
}

void QuickList::EraseBack(size_t n) {
  while (n > 0 && tail_ != nullptr) {
    const size_t have = Count(tail_);
    if (have <= n) {
      n -= have;
      size_ -= have;
      FreeNode(tail_);
    } else {
      PackedList& l = Edit(tail_);
      Tracked(&bytes_, l, [&] { l.Erase(l.At(-static_cast<int64_t>(n)), n); });
      size_ -= n;
      n = 0;
    }
  }
  Settle();
}

void QuickList::Clear() {
  while (head_ != nullptr) FreeNode(head_);
  size_ = 0;
}

void QuickList::Lend(Node* node) {
  lent_ = node;
  lent_linked_ = true;
  node->prev = node->next = nullptr;
  head_ = tail_ = node;
  nodes_ = 1;
  size_ = node->list.size();
  bytes_ = node->list.AllocatedBytes();
}

void QuickList::Unlend() {
  if (lent_ == nullptr) return;
  if (lent_linked_ && lent_->list.empty()) {
    FreeNode(lent_);
  } else if (lent_linked_) {
    Node* fresh = NewNode();
    fresh->list = std::move(lent_->list);
    bytes_ += malloc_usable_size(fresh);
    fresh->prev = lent_->prev;
    fresh->next = lent_->next;
    if (fresh->prev != nullptr) fresh->prev->next = fresh;
    if (fresh->next != nullptr) fresh->next->prev = fresh;
    if (head_ == lent_) head_ = fresh;
    if (tail_ == lent_) tail_ = fresh;
    lent_->prev = lent_->next = nullptr;
    // The lent node is an end (it was the only node when lent), never queued
    // or compressed; the heap copy takes its place.
  }
  lent_ = nullptr;
  lent_linked_ = false;
}

PackedList QuickList::TakeOnlyNode() {
  Node* n = head_;
  bytes_ -= n->list.AllocatedBytes();
  PackedList out = std::move(n->list);
  size_ = 0;
  FreeNode(n);
  return out;
}

bool QuickList::CheckConsistency() const {
  size_t count = 0, nodes = 0, compressed = 0, pending = 0;
  const Node* prev = nullptr;
  for (const Node* n = head_; n != nullptr; n = n->next) {
    if (n->prev != prev) return false;
    if (n->packed != nullptr) {
      // Compressed: no raw form, never an end, decodes to a consistent list.
      if (!n->list.empty() || n == head_ || n == tail_ || n->pending) return false;
      const PackedList copy = Unpack(n->packed);
      if (!copy.CheckConsistency() || copy.size() != Count(n)) return false;
      ++compressed;
    } else if (!n->list.CheckConsistency()) {
      return false;
    }
    // Only a lent node, alone, may be empty (a new small list).
    if (Count(n) == 0 && (n != lent_ || nodes_ != 1)) return false;
    if (n->pending) ++pending;
    count += Count(n);
    ++nodes;
    prev = n;
  }
  return prev == tail_ && count == size_ && nodes == nodes_ && bytes_ == CountBytes() &&
         compressed == compressed_ && pending == pending_.size() &&
         pending_.size() <= kRawInterior;
}

}  // namespace sluice::storage
