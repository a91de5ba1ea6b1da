#include "storage/types/intset.h"

#include <cstring>
#include <limits>
#include <utility>

#include "absl/random/distributions.h"
#include "storage/types/bytes.h"

namespace sluice::storage {
namespace {

// Shrink the block on Erase when this many usable bytes would sit idle.
constexpr size_t kShrinkSlack = 64;

size_t WidthFor(int64_t v) {
  if (v >= std::numeric_limits<int16_t>::min() && v <= std::numeric_limits<int16_t>::max()) {
    return 2;
  }
  if (v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max()) {
    return 4;
  }
  return 8;
}

int64_t LoadAt(const char* elements, size_t width, size_t i) {
  const char* p = elements + i * width;
  switch (width) {
    case 2:
      return bytes::Load<int16_t>(p);
    case 4:
      return bytes::Load<int32_t>(p);
    default:
      return bytes::Load<int64_t>(p);
  }
}

void StoreAt(char* elements, size_t width, size_t i, int64_t v) {
  char* p = elements + i * width;
  switch (width) {
    case 2:
      bytes::Store<int16_t>(p, static_cast<int16_t>(v));
      break;
    case 4:
      bytes::Store<int32_t>(p, static_cast<int32_t>(v));
      break;
    default:
      bytes::Store<int64_t>(p, v);
  }
}

template <typename T>
bool SearchIn(const char* elements, size_t count, int64_t v, size_t* index) {
  size_t lo = 0;
  size_t hi = count;
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    const int64_t m = bytes::Load<T>(elements + mid * sizeof(T));
    if (m < v) {
      lo = mid + 1;
    } else if (m > v) {
      hi = mid;
    } else {
      *index = mid;
      return true;
    }
  }
  *index = lo;
  return false;
}

}  // namespace

size_t IntSet::size() const { return block_.Field(1); }

size_t IntSet::width() const { return block_.empty() ? 2 : block_.Field(0); }

size_t IntSet::AllocatedBytes() const { return block_.usable(); }

bool IntSet::Search(int64_t v, size_t* index) const {
  const size_t n = size();
  switch (width()) {
    case 2:
      return SearchIn<int16_t>(elements(), n, v, index);
    case 4:
      return SearchIn<int32_t>(elements(), n, v, index);
    default:
      return SearchIn<int64_t>(elements(), n, v, index);
  }
}

bool IntSet::Contains(int64_t v) const {
  if (block_.empty() || WidthFor(v) > width()) return false;
  size_t ignored;
  return Search(v, &ignored);
}

int64_t IntSet::At(size_t i) const { return LoadAt(elements(), width(), i); }

int64_t IntSet::Random(absl::BitGenRef gen) const {
  return At(absl::Uniform<size_t>(gen, 0, size()));
}

bool IntSet::Insert(int64_t v) {
  const size_t n = size();
  const size_t old_width = width();
  const size_t need_width = WidthFor(v);
  if (need_width > old_width) {
    // `v` is below or above every member: it goes first or last. Widen from
    // the back so no element is overwritten before it is read.
    block_.Reserve(HeapBlock::kHeaderBytes + (n + 1) * need_width);
    const size_t shift = v < 0 ? 1 : 0;
    for (size_t i = n; i-- > 0;) {
      StoreAt(elements(), need_width, i + shift, LoadAt(elements(), old_width, i));
    }
    StoreAt(elements(), need_width, v < 0 ? 0 : n, v);
    block_.SetFields(need_width, n + 1);
    return true;
  }
  size_t index = 0;
  if (!block_.empty() && Search(v, &index)) return false;
  block_.Reserve(HeapBlock::kHeaderBytes + (n + 1) * old_width);
  char* at = elements() + index * old_width;
  std::memmove(at + old_width, at, (n - index) * old_width);
  StoreAt(elements(), old_width, index, v);
  block_.SetFields(old_width, n + 1);
  return true;
}

bool IntSet::Erase(int64_t v) {
  size_t index;
  if (block_.empty() || WidthFor(v) > width() || !Search(v, &index)) return false;
  const size_t n = size();
  if (n == 1) {
    Clear();
    return true;
  }
  const size_t w = width();
  char* at = elements() + index * w;
  std::memmove(at, at + w, (n - index - 1) * w);
  block_.SetFields(w, n - 1);
  block_.ShrinkTo(HeapBlock::kHeaderBytes + (n - 1) * w, kShrinkSlack);
  return true;
}

void IntSet::Clear() { block_.Reset(); }

}  // namespace sluice::storage
