#include "storage/types/zset.h"

#include <malloc.h>

#include <cstring>
#include <new>

namespace sluice::storage {
namespace zset_internal {

struct Node {
  uint16_t n;  // elements (leaf) or children (inner)
  bool leaf;
};

constexpr size_t kLeafCapacity = (ZSet::kNodeBytes - 24) / sizeof(const char*);
// Inner nodes are twice the size of leaves: a wider fan-out means fewer
// levels, and there are few of them.
constexpr size_t kInnerBytes = 2 * ZSet::kNodeBytes;
constexpr size_t kInnerCapacity = (kInnerBytes - 8) / 32;

struct Leaf : Node {
  Leaf* prev;
  Leaf* next;
  const char* items[kLeafCapacity];  // elements in ascending order
};

struct Inner : Node {
  uint64_t count[kInnerCapacity];  // elements below child[i]
  Node* child[kInnerCapacity];
  const char* first[kInnerCapacity];  // smallest element below child[i]
  // first[i]'s score, so that descents compare scores without loading
  // elements (they do only on equal scores).
  double first_score[kInnerCapacity];
};

static_assert(sizeof(Leaf) == ZSet::kNodeBytes && sizeof(Inner) <= kInnerBytes);

}  // namespace zset_internal

using zset_internal::Inner;
using zset_internal::kInnerCapacity;
using zset_internal::kLeafCapacity;
using zset_internal::Leaf;
using zset_internal::Node;

namespace {

using Traits = zset_internal::ElementPointerTraits;

double ScoreOf(const char* element) { return bytes::Load<double>(element); }

std::string_view MemberOf(const char* element) {
  return bytes::ReadLengthPrefixed(element + sizeof(double));
}

bool Less(const char* a, const char* b) {
  const double sa = ScoreOf(a);
  const double sb = ScoreOf(b);
  if (sa != sb) return sa < sb;
  return MemberOf(a) < MemberOf(b);
}

// Descent predicates take an element and its score (which the caller may
// have without loading the element). Before(score, x): whether element x,
// scored `score`, is ordered before `element` (or, with kOrEqual, is it or
// before it).
template <bool kOrEqual>
struct OrderedBefore {
  explicit OrderedBefore(const char* e) : score(ScoreOf(e)), member(MemberOf(e)) {}
  bool operator()(double s, const char* x) const {
    if (s != score) return s < score;
    return kOrEqual ? MemberOf(x) <= member : MemberOf(x) < member;
  }
  double score;
  std::string_view member;
};

Leaf* AsLeaf(Node* n) { return static_cast<Leaf*>(n); }
const Leaf* AsLeaf(const Node* n) { return static_cast<const Leaf*>(n); }
Inner* AsInner(Node* n) { return static_cast<Inner*>(n); }
const Inner* AsInner(const Node* n) { return static_cast<const Inner*>(n); }

size_t Capacity(const Node* n) { return n->leaf ? kLeafCapacity : kInnerCapacity; }

uint64_t CountOf(const Node* n) {
  if (n->leaf) return n->n;
  uint64_t total = 0;
  for (size_t i = 0; i < n->n; ++i) total += AsInner(n)->count[i];
  return total;
}

const char* FirstOf(const Node* n) { return n->leaf ? AsLeaf(n)->items[0] : AsInner(n)->first[0]; }

// The first index in [lo, hi) for which before(i) is false, or hi.
template <typename Before>
size_t PartitionPoint(size_t lo, size_t hi, Before before) {
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (before(mid)) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

// The child of `in` that holds the first element for which `before` is
// false: the last child j >= 1 whose first element is before it, else 0.
template <typename Before>
size_t ChildFor(const Inner* in, const Before& before) {
  auto child_before = [&](size_t i) { return before(in->first_score[i], in->first[i]); };
  return PartitionPoint(1, in->n, child_before) - 1;
}

// The first position in `leaf` for which `before` is false, or leaf->n.
template <typename Before>
size_t LeafPartition(const Leaf* leaf, const Before& before) {
  auto item_before = [&](size_t i) { return before(ScoreOf(leaf->items[i]), leaf->items[i]); };
  return PartitionPoint(0, leaf->n, item_before);
}

void SetFirst(Inner* in, size_t i) {
  in->first[i] = FirstOf(in->child[i]);
  in->first_score[i] = ScoreOf(in->first[i]);
}

void InsertChild(Inner* in, size_t at, Node* child) {
  const size_t tail = in->n - at;
  std::memmove(in->count + at + 1, in->count + at, tail * sizeof(in->count[0]));
  std::memmove(in->child + at + 1, in->child + at, tail * sizeof(in->child[0]));
  std::memmove(in->first + at + 1, in->first + at, tail * sizeof(in->first[0]));
  std::memmove(in->first_score + at + 1, in->first_score + at, tail * sizeof(double));
  in->count[at] = CountOf(child);
  in->child[at] = child;
  SetFirst(in, at);
  ++in->n;
}

void RemoveChild(Inner* in, size_t at) {
  const size_t tail = in->n - at - 1;
  std::memmove(in->count + at, in->count + at + 1, tail * sizeof(in->count[0]));
  std::memmove(in->child + at, in->child + at + 1, tail * sizeof(in->child[0]));
  std::memmove(in->first + at, in->first + at + 1, tail * sizeof(in->first[0]));
  std::memmove(in->first_score + at, in->first_score + at + 1, tail * sizeof(double));
  --in->n;
}

void InsertItem(Leaf* leaf, size_t at, const char* element) {
  std::memmove(leaf->items + at + 1, leaf->items + at, (leaf->n - at) * sizeof(leaf->items[0]));
  leaf->items[at] = element;
  ++leaf->n;
}

// Moves all of `from`'s entries to the end of `to` (same kind, they fit).
void AppendNode(Node* to, Node* from) {
  if (to->leaf) {
    std::memcpy(AsLeaf(to)->items + to->n, AsLeaf(from)->items, from->n * sizeof(const char*));
  } else {
    Inner* t = AsInner(to);
    const Inner* f = AsInner(from);
    std::memcpy(t->count + t->n, f->count, f->n * sizeof(f->count[0]));
    std::memcpy(t->child + t->n, f->child, f->n * sizeof(f->child[0]));
    std::memcpy(t->first + t->n, f->first, f->n * sizeof(f->first[0]));
    std::memcpy(t->first_score + t->n, f->first_score, f->n * sizeof(double));
  }
  to->n = static_cast<uint16_t>(to->n + from->n);
}

// Inserts `element` into the full leaf child[j] of `in` by moving the leaf's
// first item to the end of its left sibling, or its last item to the front
// of its right sibling, when that sibling has room (which keeps leaves
// fuller than splitting would). Returns false, doing nothing, when neither
// has room.
bool ShiftIntoSibling(Inner* in, size_t j, const char* element) {
  Leaf* full = AsLeaf(in->child[j]);
  const size_t pos = LeafPartition(full, OrderedBefore<false>(element));
  if (j > 0 && in->child[j - 1]->n < kLeafCapacity) {
    Leaf* left = AsLeaf(in->child[j - 1]);
    if (pos == 0) {
      InsertItem(left, left->n, element);
    } else {
      InsertItem(left, left->n, full->items[0]);
      std::memmove(full->items, full->items + 1, (pos - 1) * sizeof(full->items[0]));
      full->items[pos - 1] = element;
      SetFirst(in, j);
    }
    ++in->count[j - 1];
    return true;
  }
  if (j + 1 < in->n && in->child[j + 1]->n < kLeafCapacity) {
    Leaf* right = AsLeaf(in->child[j + 1]);
    if (pos == full->n) {
      InsertItem(right, 0, element);
    } else {
      InsertItem(right, 0, full->items[full->n - 1]);
      --full->n;
      InsertItem(full, pos, element);
      SetFirst(in, j);
    }
    SetFirst(in, j + 1);
    ++in->count[j + 1];
    return true;
  }
  return false;
}

}  // namespace

// ---- Iterator ----

ZSet::Iterator::Iterator(const Leaf* leaf, uint32_t pos) : leaf_(leaf), pos_(pos) {
  if (leaf_ != nullptr && pos_ == leaf_->n && leaf_->next != nullptr) {
    leaf_ = leaf_->next;
    pos_ = 0;
  }
}

bool ZSet::Iterator::valid() const { return leaf_ != nullptr && pos_ < leaf_->n; }

std::string_view ZSet::Iterator::member() const { return MemberOf(leaf_->items[pos_]); }

double ZSet::Iterator::score() const { return ScoreOf(leaf_->items[pos_]); }

void ZSet::Iterator::Next() { *this = Iterator(leaf_, pos_ + 1); }

void ZSet::Iterator::Prev() {
  if (leaf_ == nullptr) return;
  if (pos_ > 0) {
    --pos_;
  } else if (leaf_->prev != nullptr) {
    leaf_ = leaf_->prev;
    pos_ = leaf_->n - 1;
  } else {
    leaf_ = nullptr;
  }
}

// ---- Seeks ----

ZSet::Iterator ZSet::begin() const { return Iterator(first_leaf_, 0); }

ZSet::Iterator ZSet::end() const {
  return last_leaf_ == nullptr ? Iterator(nullptr, 0) : Iterator(last_leaf_, last_leaf_->n);
}

template <typename Before>
ZSet::Iterator ZSet::Seek(Before before, size_t* rank) const {
  size_t r = 0;
  const Node* node = root_;
  if (node == nullptr) {
    if (rank != nullptr) *rank = 0;
    return end();
  }
  while (!node->leaf) {
    const Inner* in = AsInner(node);
    const size_t j = ChildFor(in, before);
    for (size_t k = 0; k < j; ++k) r += in->count[k];
    node = in->child[j];
  }
  const Leaf* leaf = AsLeaf(node);
  const size_t pos = LeafPartition(leaf, before);
  if (rank != nullptr) *rank = r + pos;
  return Iterator(leaf, static_cast<uint32_t>(pos));
}

ZSet::Iterator ZSet::AtRank(size_t rank) const {
  if (rank >= size()) return end();
  const Node* node = root_;
  while (!node->leaf) {
    const Inner* in = AsInner(node);
    size_t j = 0;
    while (rank >= in->count[j]) rank -= in->count[j++];
    node = in->child[j];
  }
  return Iterator(AsLeaf(node), static_cast<uint32_t>(rank));
}

ZSet::Iterator ZSet::SeekScore(double score, bool exclusive, size_t* rank) const {
  if (exclusive) return Seek([score](double s, const char*) { return s <= score; }, rank);
  return Seek([score](double s, const char*) { return s < score; }, rank);
}

ZSet::Iterator ZSet::SeekLex(std::string_view member, bool exclusive, size_t* rank) const {
  if (exclusive) {
    return Seek([member](double, const char* x) { return MemberOf(x) <= member; }, rank);
  }
  return Seek([member](double, const char* x) { return MemberOf(x) < member; }, rank);
}

// ---- Member operations ----

bool ZSet::Insert(std::string_view member, double score) {
  index_.RehashStep();
  const uint64_t hash = MemberHash(member);
  Index::Slot slot;
  if (index_.Find(member, hash, &slot)) {
    const char* element = Traits::Element(index_.EntryAt(slot));
    if (ScoreOf(element) == score) return false;
    EraseFromTree(element);
    bytes::Store<double>(const_cast<char*>(element), score);
    InsertIntoTree(element);
    return false;
  }
  char* element = bytes::Allocate(sizeof(double) + bytes::LengthPrefixedBytes(member.size()));
  bytes::Store<double>(element, score);
  bytes::WriteLengthPrefixed(element + sizeof(double), member);
  element_bytes_ += malloc_usable_size(element);
  Traits::Write(index_.Append(hash, sizeof(uint64_t)), element, hash);
  InsertIntoTree(element);
  return true;
}

bool ZSet::Erase(std::string_view member) {
  index_.RehashStep();
  Index::Slot slot;
  if (!index_.Find(member, MemberHash(member), &slot)) return false;
  char* element = const_cast<char*>(Traits::Element(index_.EntryAt(slot)));
  EraseFromTree(element);
  index_.Erase(slot);
  element_bytes_ -= malloc_usable_size(element);
  std::free(element);
  return true;
}

bool ZSet::Score(std::string_view member, double* score) const {
  Index::Slot slot;
  if (!index_.Find(member, MemberHash(member), &slot)) return false;
  *score = ScoreOf(Traits::Element(index_.EntryAt(slot)));
  return true;
}

bool ZSet::Rank(std::string_view member, size_t* rank) const {
  Index::Slot slot;
  if (!index_.Find(member, MemberHash(member), &slot)) return false;
  const char* element = Traits::Element(index_.EntryAt(slot));
  // Down the inner nodes to the leaf that holds the element (the last child
  // whose first element is at or before it; their first scores spare most
  // element loads), then find it in the leaf by address, which loads no
  // element at all.
  const OrderedBefore<true> at_or_before(element);
  size_t r = 0;
  const Node* node = root_;
  while (!node->leaf) {
    const Inner* in = AsInner(node);
    const size_t j = ChildFor(in, at_or_before);
    for (size_t k = 0; k < j; ++k) r += in->count[k];
    node = in->child[j];
  }
  const Leaf* leaf = AsLeaf(node);
  for (size_t i = 0; i < leaf->n; ++i) {
    if (leaf->items[i] == element) {
      *rank = r + i;
      return true;
    }
  }
  Seek(OrderedBefore<false>(element), rank);  // not reached: the leaf holds it
  return true;
}

// ---- Tree maintenance ----

void ZSet::InsertIntoTree(const char* element) {
  if (root_ == nullptr) {
    Leaf* leaf = new (bytes::Allocate(sizeof(Leaf))) Leaf();
    node_bytes_ += malloc_usable_size(leaf);
    leaf->leaf = true;
    InsertItem(leaf, 0, element);
    root_ = first_leaf_ = last_leaf_ = leaf;
    return;
  }
  Node* right = InsertInto(root_, element);
  if (right == nullptr) return;
  Inner* top = new (bytes::Allocate(sizeof(Inner))) Inner();
  node_bytes_ += malloc_usable_size(top);
  InsertChild(top, 0, root_);
  InsertChild(top, 1, right);
  root_ = top;
}

// Inserts into the subtree at `node`; when the node splits, returns the new
// right half (which the caller links after it), else nullptr.
Node* ZSet::InsertInto(Node* node, const char* element) {
  if (node->leaf) {
    Leaf* leaf = AsLeaf(node);
    const size_t pos = LeafPartition(leaf, OrderedBefore<false>(element));
    if (leaf->n < kLeafCapacity) {
      InsertItem(leaf, pos, element);
      return nullptr;
    }
    // Appending at the end of the set keeps this leaf full.
    const size_t split = (leaf->next == nullptr && pos == leaf->n) ? leaf->n : leaf->n / 2;
    Leaf* right = new (bytes::Allocate(sizeof(Leaf))) Leaf();
    node_bytes_ += malloc_usable_size(right);
    right->leaf = true;
    right->n = static_cast<uint16_t>(leaf->n - split);
    std::memcpy(right->items, leaf->items + split, right->n * sizeof(const char*));
    leaf->n = static_cast<uint16_t>(split);
    right->prev = leaf;
    right->next = leaf->next;
    (leaf->next != nullptr ? leaf->next->prev : last_leaf_) = right;
    leaf->next = right;
    if (pos < split) {
      InsertItem(leaf, pos, element);
    } else {
      InsertItem(right, pos - split, element);
    }
    return right;
  }
  Inner* in = AsInner(node);
  const size_t j = ChildFor(in, OrderedBefore<false>(element));
  if (in->child[j]->leaf && in->child[j]->n == kLeafCapacity && ShiftIntoSibling(in, j, element)) {
    return nullptr;
  }
  Node* new_child = InsertInto(in->child[j], element);
  SetFirst(in, j);
  if (new_child == nullptr) {
    ++in->count[j];
    return nullptr;
  }
  in->count[j] = CountOf(in->child[j]);
  if (in->n < kInnerCapacity) {
    InsertChild(in, j + 1, new_child);
    return nullptr;
  }
  const size_t split = in->n / 2;
  Inner* right = new (bytes::Allocate(sizeof(Inner))) Inner();
  node_bytes_ += malloc_usable_size(right);
  right->n = 0;
  for (size_t k = split; k < in->n; ++k) InsertChild(right, right->n, in->child[k]);
  in->n = static_cast<uint16_t>(split);
  if (j + 1 < split) {
    InsertChild(in, j + 1, new_child);
  } else {
    InsertChild(right, j + 1 - split, new_child);
  }
  return right;
}

void ZSet::EraseFromTree(const char* element) {
  EraseFrom(root_, element);
  // Collapse a root left with one child; free an empty one.
  while (root_ != nullptr && (root_->n == 0 || (!root_->leaf && root_->n == 1))) {
    Node* old = root_;
    root_ = old->n == 0 ? nullptr : AsInner(old)->child[0];
    node_bytes_ -= malloc_usable_size(old);
    std::free(old);
  }
  if (root_ == nullptr) first_leaf_ = last_leaf_ = nullptr;
}

void ZSet::EraseFrom(Node* node, const char* element) {
  if (node->leaf) {
    Leaf* leaf = AsLeaf(node);
    // The descent chose the leaf that holds the element: find it by address
    // (loading no element), by order only if that ever failed.
    size_t pos = 0;
    while (pos < leaf->n && leaf->items[pos] != element) ++pos;
    if (pos == leaf->n) pos = LeafPartition(leaf, OrderedBefore<false>(element));
    std::memmove(leaf->items + pos, leaf->items + pos + 1,
                 (leaf->n - pos - 1) * sizeof(leaf->items[0]));
    --leaf->n;
    return;
  }
  Inner* in = AsInner(node);
  // The element itself may be a child's first: take the last child whose
  // first element is <= it.
  const size_t j = ChildFor(in, OrderedBefore<true>(element));
  Node* child = in->child[j];
  EraseFrom(child, element);
  --in->count[j];
  if (child->n > 0) {
    SetFirst(in, j);
    if (child->n >= Capacity(child) / 4) return;
  }
  // An empty child goes; a small one merges with a neighbour when they fit
  // in three quarters of a node.
  Node* gone = child;
  if (child->n > 0) {
    const size_t limit = Capacity(child) * 3 / 4;
    auto fits = [&](size_t k) { return k < in->n && in->child[k]->n + child->n <= limit; };
    size_t a;
    if (fits(j + 1)) {
      a = j;
    } else if (j > 0 && fits(j - 1)) {
      a = j - 1;
    } else {
      return;
    }
    const size_t b = a + 1;
    AppendNode(in->child[a], in->child[b]);
    in->count[a] += in->count[b];
    gone = in->child[b];
    RemoveChild(in, b);
  } else {
    RemoveChild(in, j);
  }
  if (gone->leaf) {
    Leaf* leaf = AsLeaf(gone);
    (leaf->prev != nullptr ? leaf->prev->next : first_leaf_) = leaf->next;
    (leaf->next != nullptr ? leaf->next->prev : last_leaf_) = leaf->prev;
  }
  node_bytes_ -= malloc_usable_size(gone);
  std::free(gone);
}

void ZSet::FreeTree(Node* node) {
  if (!node->leaf) {
    for (size_t i = 0; i < node->n; ++i) FreeTree(AsInner(node)->child[i]);
  }
  std::free(node);
}

void ZSet::Clear() {
  for (const Leaf* leaf = first_leaf_; leaf != nullptr; leaf = leaf->next) {
    for (size_t i = 0; i < leaf->n; ++i) std::free(const_cast<char*>(leaf->items[i]));
  }
  if (root_ != nullptr) FreeTree(root_);
  root_ = nullptr;
  first_leaf_ = last_leaf_ = nullptr;
  index_.Clear();
  element_bytes_ = 0;
  node_bytes_ = 0;
}

ZSet::~ZSet() { Clear(); }

bool ZSet::CheckConsistency() const {
  if (root_ == nullptr) return size() == 0 && first_leaf_ == nullptr && last_leaf_ == nullptr;
  // Subtree checks: counts and first pointers match, every node but the root
  // is non-empty, and all leaves are at the same depth.
  int leaf_depth = -1;
  size_t nodes_bytes = 0;
  auto check = [&](auto& self, const Node* n, int depth) -> bool {
    nodes_bytes += malloc_usable_size(const_cast<Node*>(n));
    if (n->n == 0 || n->n > Capacity(n)) return false;
    if (n->leaf) {
      if (leaf_depth == -1) leaf_depth = depth;
      return leaf_depth == depth;
    }
    const Inner* in = AsInner(n);
    for (size_t i = 0; i < in->n; ++i) {
      if (in->count[i] != CountOf(in->child[i]) || in->first[i] != FirstOf(in->child[i]) ||
          in->first_score[i] != ScoreOf(in->first[i])) {
        return false;
      }
      if (!self(self, in->child[i], depth + 1)) return false;
    }
    return true;
  };
  if (!check(check, root_, 0) || CountOf(root_) != size() || nodes_bytes != node_bytes_) {
    return false;
  }
  // The leaf chain is in strict order and every element is indexed.
  const char* prev = nullptr;
  const Leaf* back = nullptr;
  size_t seen = 0;
  size_t elements_bytes = 0;
  for (const Leaf* leaf = first_leaf_; leaf != nullptr; back = leaf, leaf = leaf->next) {
    if (leaf->prev != back) return false;
    for (size_t i = 0; i < leaf->n; ++i) {
      const char* e = leaf->items[i];
      if (prev != nullptr && !Less(prev, e)) return false;
      Index::Slot slot;
      if (!index_.Find(MemberOf(e), MemberHash(MemberOf(e)), &slot) ||
          Traits::Element(index_.EntryAt(slot)) != e) {
        return false;
      }
      elements_bytes += malloc_usable_size(const_cast<char*>(e));
      prev = e;
      ++seen;
    }
  }
  return back == last_leaf_ && seen == size() && elements_bytes == element_bytes_ &&
         index_.CheckConsistency();
}

}  // namespace sluice::storage
