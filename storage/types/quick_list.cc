#include "storage/types/quick_list.h"

#include <malloc.h>

#include <type_traits>
#include <utility>

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
      lent_(std::exchange(other.lent_, nullptr)),
      lent_linked_(std::exchange(other.lent_linked_, false)) {}

size_t QuickList::NodeBytes(const Node* n) const {
  return (n == lent_ ? 0 : malloc_usable_size(const_cast<Node*>(n))) + n->list.AllocatedBytes();
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
  if (n->list.empty()) return true;
  return !Exceeds(n->list.bytes() + EncodedBound(s), n->list.size() + 1);
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
  Unlink(n);
  if (n == lent_) {
    lent_linked_ = false;
    n->list.Clear();
    return;
  }
  delete n;
}

void QuickList::PushFront(std::string_view s) {
  if (!Fits(head_, s)) LinkAfter(nullptr, NewNode());
  Tracked(&bytes_, head_->list, [&] { head_->list.InsertString(head_->list.begin(), s); });
  ++size_;
}

void QuickList::PushBack(std::string_view s) {
  if (!Fits(tail_, s)) LinkAfter(tail_, NewNode());
  Tracked(&bytes_, tail_->list, [&] { tail_->list.PushBack(s); });
  ++size_;
}

void QuickList::PopFront() {
  Tracked(&bytes_, head_->list, [&] { head_->list.Erase(head_->list.begin()); });
  --size_;
  if (head_->list.empty()) FreeNode(head_);
}

void QuickList::PopBack() {
  PackedList& l = tail_->list;
  Tracked(&bytes_, l, [&] { l.Erase(l.Prev(l.end())); });
  --size_;
  if (l.empty()) FreeNode(tail_);
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
    while (index >= static_cast<int64_t>(node->list.size())) {
      index -= static_cast<int64_t>(node->list.size());
      node = node->next;
    }
    return {node, node->list.At(index)};
  }
  int64_t back = n - 1 - index;  // 0 is the last element
  Node* node = tail_;
  while (back >= static_cast<int64_t>(node->list.size())) {
    back -= static_cast<int64_t>(node->list.size());
    node = node->prev;
  }
  return {node, node->list.At(-1 - back)};
}

void QuickList::Next(Iter& it) const {
  it.pos = it.node->list.Next(it.pos);
  if (it.pos == it.node->list.end()) {
    it.node = it.node->next;
    it.pos = it.node == nullptr ? 0 : it.node->list.begin();
  }
}

void QuickList::Prev(Iter& it) const {
  if (it.pos == it.node->list.begin()) {
    it.node = it.node->prev;
    it.pos = it.node == nullptr ? 0 : it.node->list.Prev(it.node->list.end());
    return;
  }
  it.pos = it.node->list.Prev(it.pos);
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
    SplitIfNeeded(fresh);
  }
}

void QuickList::Replace(Iter it, std::string_view s) {
  Tracked(&bytes_, it.node->list, [&] { it.node->list.ReplaceString(it.pos, s); });
  SplitIfNeeded(it.node);
}

void QuickList::Insert(Iter it, std::string_view s, bool after) {
  Node* n = it.node;
  PackedList::Pos at = it.pos;
  if (after) at = n->list.Next(at);
  if (!Fits(n, s)) {
    // At a node's edge, a neighbour with room (or a new node) takes it.
    if (at == n->list.end()) {
      if (!Fits(n->next, s)) LinkAfter(n, NewNode());
      Node* next = n->next;
      Tracked(&bytes_, next->list, [&] { next->list.InsertString(next->list.begin(), s); });
      ++size_;
      return;
    }
    if (at == n->list.begin()) {
      if (!Fits(n->prev, s)) LinkAfter(n->prev, NewNode());
      Node* prev = n->prev;
      Tracked(&bytes_, prev->list, [&] { prev->list.PushBack(s); });
      ++size_;
      return;
    }
  }
  Tracked(&bytes_, n->list, [&] { n->list.InsertString(at, s); });
  ++size_;
  SplitIfNeeded(n);
}

QuickList::Iter QuickList::Erase(Iter it) {
  Node* n = it.node;
  const PackedList::Pos p = Tracked(&bytes_, n->list, [&] { return n->list.Erase(it.pos); });
  --size_;
  if (n->list.empty()) {
    Node* next = n->next;
    FreeNode(n);
    return next == nullptr ? Iter{} : Iter{next, next->list.begin()};
  }
  if (p == n->list.end()) {
    return n->next == nullptr ? Iter{} : Iter{n->next, n->next->list.begin()};
  }
  return {n, p};
}

void QuickList::EraseFront(size_t n) {
  while (n > 0 && head_ != nullptr) {
    const size_t have = head_->list.size();
    if (have <= n) {
      n -= have;
      size_ -= have;
      FreeNode(head_);
    } else {
      Tracked(&bytes_, head_->list, [&] { head_->list.Erase(head_->list.begin(), n); });
      size_ -= n;
      n = 0;
    }
  }
}

void QuickList::EraseBack(size_t n) {
  while (n > 0 && tail_ != nullptr) {
    const size_t have = tail_->list.size();
    if (have <= n) {
      n -= have;
      size_ -= have;
      FreeNode(tail_);
    } else {
      Tracked(&bytes_, tail_->list,
              [&] { tail_->list.Erase(tail_->list.At(-static_cast<int64_t>(n)), n); });
      size_ -= n;
      n = 0;
    }
  }
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
  size_t count = 0, nodes = 0;
  const Node* prev = nullptr;
  for (const Node* n = head_; n != nullptr; n = n->next) {
    if (n->prev != prev || !n->list.CheckConsistency()) return false;
    // Only a lent node, alone, may be empty (a new small list).
    if (n->list.empty() && (n != lent_ || nodes_ != 1)) return false;
    count += n->list.size();
    ++nodes;
    prev = n;
  }
  return prev == tail_ && count == size_ && nodes == nodes_ && bytes_ == CountBytes();
}

}  // namespace sluice::storage
