#include "storage/types/stream.h"

#include <malloc.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "storage/types/bytes.h"

namespace sluice::storage {

namespace {

constexpr uint8_t kDeleted = 1;

size_t EntryBytes(const StreamId& master, const StreamId& id,
                  std::span<const std::string_view> field_values) {
  size_t n = 1 + bytes::VarintLength(id.ms - master.ms) + bytes::VarintLength(id.seq) +
             bytes::VarintLength(field_values.size() / 2);
  for (std::string_view s : field_values) n += bytes::LengthPrefixedBytes(s.size());
  return n;
}

// Skips `pairs` field/value pairs starting at `p`.
const char* SkipPairs(const char* p, uint64_t pairs) {
  for (uint64_t i = 0; i < 2 * pairs; ++i) {
    uint64_t n;
    p = bytes::ReadVarint(p, &n);
    p += n;
  }
  return p;
}

}  // namespace

bool StreamId::Increment() {
  if (seq != std::numeric_limits<uint64_t>::max()) {
    ++seq;
    return true;
  }
  if (ms == std::numeric_limits<uint64_t>::max()) return false;
  ++ms;
  seq = 0;
  return true;
}

bool StreamId::Decrement() {
  if (seq != 0) {
    --seq;
    return true;
  }
  if (ms == 0) return false;
  --ms;
  seq = std::numeric_limits<uint64_t>::max();
  return true;
}

std::string StreamId::ToString() const { return std::to_string(ms) + "-" + std::to_string(seq); }

std::optional<uint64_t> ParseStreamIdPart(std::string_view s) {
  // Redis tries a canonical signed 64-bit integer first (a negative one is
  // out of range) and falls back to strtoull's rules.
  if (s.empty() || s.size() > 127) return std::nullopt;
  const std::string text(s);
  errno = 0;
  char* end = nullptr;
  const long long as_signed = std::strtoll(text.c_str(), &end, 10);
  const bool canonical = errno == 0 && *end == '\0' && text == std::to_string(as_signed);
  if (canonical) {
    if (as_signed < 0) return std::nullopt;
    return static_cast<uint64_t>(as_signed);
  }
  errno = 0;
  end = nullptr;
  const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (errno == EINVAL || errno == ERANGE || *end != '\0') return std::nullopt;
  return static_cast<uint64_t>(v);
}

void StreamEntryView::ForEachPair(
    absl::FunctionRef<void(std::string_view, std::string_view)> f) const {
  const char* p = fields_;
  for (uint64_t i = 0; i < pairs_; ++i) {
    const std::string_view field = bytes::ReadLengthPrefixed(p);
    p = field.data() + field.size();
    const std::string_view value = bytes::ReadLengthPrefixed(p);
    p = value.data() + value.size();
    f(field, value);
  }
}

Stream::~Stream() {
  for (auto& [id, node] : nodes_) std::free(node.data);
}

template <typename F>
bool Stream::ScanNode(const StreamId& master, const Node& node, F&& f) {
  const char* p = node.data;
  const char* end = node.data + node.used;
  while (p < end) {
    const auto offset = static_cast<uint32_t>(p - node.data);
    const bool deleted = (static_cast<uint8_t>(*p) & kDeleted) != 0;
    ++p;
    uint64_t delta, seq, pairs;
    p = bytes::ReadVarint(p, &delta);
    p = bytes::ReadVarint(p, &seq);
    p = bytes::ReadVarint(p, &pairs);
    const StreamId id{master.ms + delta, seq};
    if (!f(offset, id, deleted, pairs, p)) return false;
    p = SkipPairs(p, pairs);
  }
  return true;
}

StreamId Stream::first_id() const {
  const std::optional<StreamEntryView> first = First();
  return first ? first->id() : StreamId::Min();
}

void Stream::Append(StreamId id, std::span<const std::string_view> field_values) {
  NodeMap::iterator it = nodes_.end();
  if (!nodes_.empty()) {
    it = std::prev(nodes_.end());
    const size_t need = EntryBytes(it->first, id, field_values);
    if (it->second.total >= kNodeMaxEntries || it->second.used + need > kNodeMaxBytes) {
      it = nodes_.end();
    }
  }
  if (it == nodes_.end()) {
    it = nodes_.emplace(id, Node{}).first;
    allocated_ += kSlotBytes;
  }
  Node& node = it->second;
  const size_t need = EntryBytes(it->first, id, field_values);
  if (node.used + need > node.capacity) {
    size_t cap = node.capacity == 0 ? 64 : node.capacity * 2;
    while (cap < node.used + need) cap *= 2;
    if (cap > kNodeMaxBytes && node.used + need <= kNodeMaxBytes) cap = kNodeMaxBytes;
    const size_t before = node.data != nullptr ? malloc_usable_size(node.data) : 0;
    node.data = bytes::Reallocate(node.data, cap);
    node.capacity = static_cast<uint32_t>(cap);
    allocated_ += malloc_usable_size(node.data);
    allocated_ -= before;
  }
  char* p = node.data + node.used;
  *p++ = 0;
  p = bytes::WriteVarint(p, id.ms - it->first.ms);
  p = bytes::WriteVarint(p, id.seq);
  p = bytes::WriteVarint(p, field_values.size() / 2);
  for (std::string_view s : field_values) p = bytes::WriteLengthPrefixed(p, s);
  node.used = static_cast<uint32_t>(p - node.data);
  ++node.total;
  ++node.live;
  node.last = id;
  ++length_;
  ++entries_added_;
  last_id_ = id;
}

void Stream::FreeNode(NodeMap::iterator it) {
  length_ -= it->second.live;
  if (it->second.data != nullptr) allocated_ -= malloc_usable_size(it->second.data);
  allocated_ -= kSlotBytes;
  std::free(it->second.data);
  nodes_.erase(it);
}

void Stream::MarkDeleted(Node& node, uint32_t offset) {
  node.data[offset] = static_cast<char>(static_cast<uint8_t>(node.data[offset]) | kDeleted);
  --node.live;
  --length_;
}

bool Stream::Delete(StreamId id) {
  auto it = nodes_.upper_bound(id);
  if (it == nodes_.begin()) return false;
  --it;
  if (id > it->second.last) return false;
  Node& node = it->second;
  bool found = false;
  ScanNode(it->first, node, [&](uint32_t offset, StreamId at, bool deleted, uint64_t, const char*) {
    if (at < id) return true;
    if (at == id && !deleted) {
      MarkDeleted(node, offset);
      found = true;
    }
    return false;
  });
  if (!found) return false;
  if (id > max_deleted_id_) max_deleted_id_ = id;
  if (node.live == 0) FreeNode(it);
  return true;
}

template <typename WholeNode, typename EntryGoes>
size_t Stream::TrimFront(bool approx, uint64_t limit, WholeNode&& whole_node,
                         EntryGoes&& entry_goes) {
  size_t removed = 0;
  while (!nodes_.empty()) {
    auto it = nodes_.begin();
    Node& node = it->second;
    if (limit != 0 && removed + node.live > limit) break;
    if (whole_node(node)) {
      removed += node.live;
      FreeNode(it);
      continue;
    }
    if (approx) break;
    ScanNode(it->first, node,
             [&](uint32_t offset, StreamId id, bool deleted, uint64_t, const char*) {
               if (deleted) return true;
               if (!entry_goes(id)) return false;
               MarkDeleted(node, offset);
               ++removed;
               return true;
             });
    break;
  }
  return removed;
}

size_t Stream::TrimMaxLen(uint64_t maxlen, bool approx, uint64_t limit) {
  if (length_ <= maxlen) return 0;
  return TrimFront(
      approx, limit, [&](const Node& node) { return length_ - node.live >= maxlen; },
      [&](StreamId) { return length_ > maxlen; });
}

size_t Stream::TrimMinId(StreamId min_id, bool approx, uint64_t limit) {
  return TrimFront(
      approx, limit, [&](const Node& node) { return node.last < min_id; },
      [&](StreamId id) { return id < min_id; });
}

void Stream::Range(StreamId start, StreamId end, bool reverse, size_t count,
                   absl::FunctionRef<bool(const StreamEntryView&)> each) const {
  if (start > end || nodes_.empty()) return;
  size_t emitted = 0;
  auto emit = [&](StreamId id, uint64_t pairs, const char* fields) {
    ++emitted;
    return each(StreamEntryView(id, pairs, fields)) && (count == 0 || emitted < count);
  };
  if (!reverse) {
    auto it = nodes_.upper_bound(start);
    if (it != nodes_.begin()) --it;
    for (; it != nodes_.end() && it->first <= end; ++it) {
      if (it->second.last < start) continue;
      const bool go_on =
          ScanNode(it->first, it->second,
                   [&](uint32_t, StreamId id, bool deleted, uint64_t pairs, const char* fields) {
                     if (id > end) return false;
                     if (deleted || id < start) return true;
                     return emit(id, pairs, fields);
                   });
      if (!go_on) return;
    }
    return;
  }
  auto it = nodes_.upper_bound(end);
  if (it == nodes_.begin()) return;
  --it;
  struct Item {
    StreamId id;
    uint64_t pairs;
    const char* fields;
  };
  absl::InlinedVector<Item, kNodeMaxEntries> items;
  while (true) {
    if (it->second.last < start) return;
    items.clear();
    ScanNode(it->first, it->second,
             [&](uint32_t, StreamId id, bool deleted, uint64_t pairs, const char* fields) {
               if (id > end) return false;
               if (!deleted && id >= start) items.push_back({id, pairs, fields});
               return true;
             });
    for (size_t i = items.size(); i-- > 0;) {
      if (!emit(items[i].id, items[i].pairs, items[i].fields)) return;
    }
    if (it == nodes_.begin() || it->first <= start) return;
    --it;
  }
}

std::optional<StreamEntryView> Stream::First() const {
  std::optional<StreamEntryView> out;
  Range(StreamId::Min(), StreamId::Max(), false, 1, [&](const StreamEntryView& e) {
    out = e;
    return false;
  });
  return out;
}

std::optional<StreamEntryView> Stream::Last() const {
  std::optional<StreamEntryView> out;
  Range(StreamId::Min(), StreamId::Max(), true, 1, [&](const StreamEntryView& e) {
    out = e;
    return false;
  });
  return out;
}

std::unique_ptr<Stream> Stream::Clone() const {
  auto copy = std::make_unique<Stream>();
  for (const auto& [master, node] : nodes_) {
    Node n = node;
    n.data = nullptr;
    if (node.used != 0) {
      n.data = bytes::Allocate(node.used);
      std::memcpy(n.data, node.data, node.used);
      n.capacity = node.used;
      copy->allocated_ += malloc_usable_size(n.data);
    } else {
      n.capacity = 0;
    }
    copy->nodes_.emplace_hint(copy->nodes_.end(), master, n);
    copy->allocated_ += kSlotBytes;
  }
  copy->length_ = length_;
  copy->last_id_ = last_id_;
  copy->max_deleted_id_ = max_deleted_id_;
  copy->entries_added_ = entries_added_;
  return copy;
}

bool Stream::CheckConsistency() const {
  size_t live = 0, bytes_seen = 0;
  StreamId prev;
  bool have_prev = false;
  for (const auto& item : nodes_) {
    // (Not a structured binding: the lambda below captures the ID.)
    const StreamId& master = item.first;
    const Node& node = item.second;
    if (node.live == 0 || node.live > node.total || node.used > node.capacity) return false;
    uint32_t total = 0, node_live = 0;
    StreamId last;
    bool ok = true;
    ScanNode(master, node, [&](uint32_t, StreamId id, bool deleted, uint64_t pairs, const char*) {
      if ((have_prev && id <= prev) || (total == 0 && id != master) || pairs == 0) ok = false;
      prev = id;
      have_prev = true;
      last = id;
      ++total;
      if (!deleted) ++node_live;
      return ok;
    });
    if (!ok || total != node.total || node_live != node.live || last != node.last) return false;
    live += node_live;
    bytes_seen += malloc_usable_size(node.data) + kSlotBytes;
  }
  if (have_prev && prev > last_id_) return false;
  return live == length_ && bytes_seen == allocated_;
}

}  // namespace sluice::storage
