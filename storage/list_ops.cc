#include "storage/list_ops.h"

#include <utility>

namespace sluice::storage {
namespace {

// A list's container for one mutation as a QuickList: a small list is lent
// to a local one (no allocation); Finish() hands back the container to
// store, converted listpack <-> quicklist as Redis 7.2 does.
class ListWriter {
 public:
  ListWriter(ObjectRef ref, const ListLimits& limits) : local_(limits.fill) {
    local_.set_compress_depth(limits.compress_depth);
    if (ref.kind() == ContainerKind::kQuickList) {
      list_ = ref.quick();
      list_->set_fill(limits.fill);
      list_->set_compress_depth(limits.compress_depth);
    } else {
      node_.list = PackedList::Adopt(ref.packed_block());
      local_.Lend(&node_);
      list_ = &local_;
      packed_ = true;
    }
  }
  ListWriter(const ListWriter&) = delete;
  ListWriter& operator=(const ListWriter&) = delete;

  QuickList& list() { return *list_; }

  ObjectRef Finish() {
    QuickList& q = *list_;
    if (q.empty()) {
      if (!packed_) delete list_;
      return ObjectRef::Packed(nullptr);
    }
    if (q.node_count() == 1) {
      const QuickList::Node* only = q.head();
      const bool fits = packed_ ? !q.NodeExceeds(only)
                                : !q.Exceeds(only->list.bytes() * 2, only->list.size() * 2);
      if (fits) {
        PackedList taken = q.TakeOnlyNode();
        if (!packed_) delete list_;
        return ObjectRef::Packed(taken.Release());
      }
    }
    if (!packed_) return ObjectRef::Quick(list_);
    local_.Unlend();
    return ObjectRef::Quick(new QuickList(std::move(local_)));
  }

 private:
  QuickList::Node node_;
  QuickList local_;
  QuickList* list_;
  bool packed_ = false;
};

template <typename Change>
Entry* Mutate(Shard& shard, Entry* e, const ListLimits& limits, Change&& change) {
  return shard.Update(e, [&](Entry* x) -> Entry* {
    ListWriter w(x->object(), limits);
    change(w.list());
    x->set_object(w.Finish());
    return x;
  });
}

// Erases the key when its list is empty; returns whether it did.
bool EraseIfEmpty(Shard& shard, const Entry* e, int64_t now_ms) {
  if (ObjectElementCount(e->object()) != 0) return false;
  const std::string key(e->key());
  shard.Erase(key, now_ms);
  return true;
}

Result<Entry*> FindMutable(Shard& shard, std::string_view key, int64_t now_ms) {
  Entry* e = shard.Find(key, now_ms);
  if (e != nullptr && e->type() != ValueType::kList) return {Status::kWrongType, nullptr};
  return {Status::kOk, e};
}

Entry* Create(Shard& shard, std::string_view key) {
  Entry* e = Entry::CreateObject(key, ValueType::kList, ObjectRef::Packed(nullptr), 0);
  shard.Insert(e);
  return e;
}

// Whether any element of the list equals `value` (a read, so that a write
// that would change nothing leaves WATCH alone).
bool ContainsValue(const Entry* e, std::string_view value) {
  const ListReader reader(e);
  const QuickList& q = reader.list();
  for (QuickList::Iter it = q.Front(); it.valid(); q.Next(it)) {
    if (q.Get(it).Equals(value)) return true;
  }
  return false;
}

}  // namespace

ListReader::ListReader(const Entry* entry) {
  const ObjectRef ref = entry->object();
  if (ref.kind() == ContainerKind::kQuickList) {
    list_ = ref.quick();
  } else {
    node_.list = PackedList::Adopt(ref.packed_block());
    local_.Lend(&node_);
    list_ = &local_;
  }
}

ListReader::~ListReader() {
  if (list_ == &local_) node_.list.Release();
}

const char* ListEncodingName(const Entry* entry) {
  return entry->object().kind() == ContainerKind::kQuickList ? "quicklist" : "listpack";
}

Result<const Entry*> FindList(Shard& shard, std::string_view key, int64_t now_ms, bool for_read) {
  const Entry* e = for_read ? shard.FindForRead(key, now_ms) : shard.Find(key, now_ms);
  if (e != nullptr && e->type() != ValueType::kList) return {Status::kWrongType, nullptr};
  return {Status::kOk, e};
}

Result<size_t> ListPush(Shard& shard, std::string_view key,
                        std::span<const std::string_view> values, bool left, bool only_existing,
                        const ListLimits& limits, int64_t now_ms) {
  auto f = FindMutable(shard, key, now_ms);
  if (!f.ok()) return {f.status, 0};
  Entry* e = f.value;
  if (e == nullptr) {
    if (only_existing) return {Status::kOk, 0};
    e = Create(shard, key);
  }
  size_t length = 0;
  Mutate(shard, e, limits, [&](QuickList& q) {
    for (std::string_view v : values) {
      if (left) {
        q.PushFront(v);
      } else {
        q.PushBack(v);
      }
    }
    length = q.size();
  });
  return {Status::kOk, length};
}

Result<ListPopOutcome> ListPop(Shard& shard, std::string_view key, bool left, size_t count,
                               const ListLimits& limits, int64_t now_ms,
                               absl::FunctionRef<void(size_t)> header,
                               absl::FunctionRef<void(std::string_view)> each) {
  ListPopOutcome out;
  auto f = FindMutable(shard, key, now_ms);
  if (!f.ok() || f.value == nullptr) return {f.status, out};
  Entry* e = Mutate(shard, f.value, limits, [&](QuickList& q) {
    const size_t n = count < q.size() ? count : q.size();
    header(n);
    std::string scratch;
    for (size_t i = 0; i < n; ++i) {
      const QuickList::Iter it = left ? q.Front() : q.Back();
      each(q.Get(it).AsString(&scratch));
      if (left) {
        q.PopFront();
      } else {
        q.PopBack();
      }
    }
    out.popped = n;
  });
  out.key_removed = EraseIfEmpty(shard, e, now_ms);
  return {Status::kOk, out};
}

Result<ListSetResult> ListSet(Shard& shard, std::string_view key, int64_t index,
                              std::string_view value, const ListLimits& limits, int64_t now_ms) {
  auto f = FindMutable(shard, key, now_ms);
  if (!f.ok()) return {f.status, ListSetResult::kOk};
  if (f.value == nullptr) return {Status::kOk, ListSetResult::kNoSuchKey};
  if (!ListReader(f.value).list().At(index).valid()) {
    return {Status::kOk, ListSetResult::kOutOfRange};
  }
  ListSetResult result = ListSetResult::kOk;
  Mutate(shard, f.value, limits, [&](QuickList& q) {
    const QuickList::Iter it = q.At(index);
    if (!it.valid()) {
      result = ListSetResult::kOutOfRange;
      return;
    }
    q.Replace(it, value);
  });
  return {Status::kOk, result};
}

Result<int64_t> ListInsert(Shard& shard, std::string_view key, bool after, std::string_view pivot,
                           std::string_view value, const ListLimits& limits, int64_t now_ms) {
  auto f = FindMutable(shard, key, now_ms);
  if (!f.ok() || f.value == nullptr) return {f.status, 0};
  if (!ContainsValue(f.value, pivot)) return {Status::kOk, -1};
  int64_t result = -1;
  Mutate(shard, f.value, limits, [&](QuickList& q) {
    for (QuickList::Iter it = q.Front(); it.valid(); q.Next(it)) {
      if (q.Get(it).Equals(pivot)) {
        q.Insert(it, value, after);
        result = static_cast<int64_t>(q.size());
        return;
      }
    }
  });
  return {Status::kOk, result};
}

Result<ListRemoveOutcome> ListRemove(Shard& shard, std::string_view key, int64_t count,
                                     std::string_view value, const ListLimits& limits,
                                     int64_t now_ms) {
  ListRemoveOutcome out;
  auto f = FindMutable(shard, key, now_ms);
  if (!f.ok() || f.value == nullptr) return {f.status, out};
  if (!ContainsValue(f.value, value)) return {Status::kOk, out};
  const size_t limit =
      count < 0 ? static_cast<size_t>(-(count + 1)) + 1 : static_cast<size_t>(count);
  Entry* e = Mutate(shard, f.value, limits, [&](QuickList& q) {
    if (count >= 0) {
      QuickList::Iter it = q.Front();
      while (it.valid()) {
        if (q.Get(it).Equals(value)) {
          it = q.Erase(it);
          if (++out.removed == limit && limit != 0) return;
        } else {
          q.Next(it);
        }
      }
      return;
    }
    QuickList::Iter it = q.Back();
    while (it.valid()) {
      QuickList::Iter prev = it;
      q.Prev(prev);
      if (q.Get(it).Equals(value)) {
        q.Erase(it);
        if (++out.removed == limit) return;
      }
      it = prev;
    }
  });
  out.key_removed = EraseIfEmpty(shard, e, now_ms);
  return {Status::kOk, out};
}

Result<ListTrimOutcome> ListTrim(Shard& shard, std::string_view key, int64_t start, int64_t stop,
                                 const ListLimits& limits, int64_t now_ms) {
  ListTrimOutcome out;
  auto f = FindMutable(shard, key, now_ms);
  if (!f.ok() || f.value == nullptr) return {f.status, out};
  out.existed = true;
  Entry* e = Mutate(shard, f.value, limits, [&](QuickList& q) {
    const int64_t len = static_cast<int64_t>(q.size());
    if (start < 0) start += len;
    if (stop < 0) stop += len;
    if (start < 0) start = 0;
    if (start > stop || start >= len) {
      q.Clear();
      return;
    }
    if (stop >= len) stop = len - 1;
    q.EraseBack(static_cast<size_t>(len - stop - 1));
    q.EraseFront(static_cast<size_t>(start));
  });
  out.key_removed = EraseIfEmpty(shard, e, now_ms);
  return {Status::kOk, out};
}

Result<ListMoveOutcome> ListMove(Shard& src, std::string_view src_key, Shard& dst,
                                 std::string_view dst_key, bool from_left, bool to_left,
                                 const ListLimits& limits, int64_t now_ms) {
  ListMoveOutcome out;
  auto s = FindMutable(src, src_key, now_ms);
  if (!s.ok() || s.value == nullptr) return {s.status, std::move(out)};
  const bool same = &src == &dst && src_key == dst_key;
  Entry* d = nullptr;
  if (!same) {
    auto df = FindMutable(dst, dst_key, now_ms);
    if (!df.ok()) return {df.status, std::move(out)};
    d = df.value;
  }
  out.moved = true;
  auto take = [&](QuickList& q) {
    std::string scratch;
    const QuickList::Iter it = from_left ? q.Front() : q.Back();
    out.value = std::string(q.Get(it).AsString(&scratch));
    if (from_left) {
      q.PopFront();
    } else {
      q.PopBack();
    }
  };
  auto put = [&](QuickList& q) {
    if (to_left) {
      q.PushFront(out.value);
    } else {
      q.PushBack(out.value);
    }
  };
  if (same) {
    Mutate(src, s.value, limits, [&](QuickList& q) {
      take(q);
      put(q);
    });
    return {Status::kOk, std::move(out)};
  }
  Entry* e = Mutate(src, s.value, limits, take);
  if (d == nullptr) {
    d = Create(dst, dst_key);
    out.dst_created = true;
  }
  Mutate(dst, d, limits, put);
  out.src_removed = EraseIfEmpty(src, e, now_ms);
  return {Status::kOk, std::move(out)};
}

Entry* CreateListEntry(std::string_view key, std::span<const std::string_view> values,
                       const ListLimits& limits, int64_t expire_at_ms) {
  ListWriter w(ObjectRef::Packed(nullptr), limits);
  for (std::string_view v : values) w.list().PushBack(v);
  return Entry::CreateObject(key, ValueType::kList, w.Finish(), expire_at_ms);
}

bool ListStore(Shard& shard, std::string_view key, std::span<const std::string_view> values,
               const ListLimits& limits, int64_t now_ms) {
  const std::string owned(key);
  const bool existed = shard.Erase(owned, now_ms);
  if (values.empty()) return existed;
  const Result<size_t> pushed = ListPush(shard, owned, values, false, false, limits, now_ms);
  (void)pushed;  // the key was just erased: it cannot hold another type
  return existed;
}

}  // namespace sluice::storage
