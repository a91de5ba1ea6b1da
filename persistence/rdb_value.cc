#include "persistence/rdb_value.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <utility>
#include <vector>

#include "persistence/packed_formats.h"
#include "persistence/rdb_format.h"
#include "storage/stream_ops.h"

namespace sluice::persistence {
namespace {

using storage::ContainerKind;
using storage::Entry;
using storage::ScoredMember;
using storage::Stream;
using storage::StreamId;
using storage::ValueType;

// Quicklist node containers (RDB_TYPE_LIST_QUICKLIST_2).
constexpr uint64_t kNodePlain = 1;
constexpr uint64_t kNodePacked = 2;

// Stream entry flags.
constexpr int64_t kStreamDeleted = 1;
constexpr int64_t kStreamSameFields = 2;
// Redis's defaults for a stream node (stream-node-max-entries / -bytes).
constexpr size_t kStreamNodeEntries = 100;
constexpr size_t kStreamNodeBytes = 4096;

// ---- writing -------------------------------------------------------------------

void AppendBlob(std::string* out, const std::string& blob, const RdbWriteOptions& options) {
  AppendRdbStringCompact(out, blob, options.compress);
}

void AppendType(std::string* out, uint8_t type) { out->push_back(static_cast<char>(type)); }

// A score as Redis puts it in a listpack: integral values as integers, the
// rest as the shortest text that reads back exactly ("inf", "-inf" too).
void AddScore(ListpackWriter& lp, double score) {
  if (std::isfinite(score) && score == std::trunc(score) && std::fabs(score) < 9007199254740992.0 &&
      !(score == 0 && std::signbit(score))) {
    return lp.AddInt(static_cast<int64_t>(score));
  }
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof(buf), score);
  lp.Add(std::string_view(buf, r.ptr - buf));
}

void AppendBinaryDouble(std::string* out, double v) {
  const auto bits = std::bit_cast<uint64_t>(v);
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
}

void AppendList(const Entry& entry, const RdbWriteOptions& options, std::string* out) {
  AppendType(out, kRdbTypeListQuicklist2);
  const storage::ListReader reader(&entry);
  const storage::QuickList& q = reader.list();
  AppendRdbLength(out, q.node_count());
  ListpackWriter lp;
  std::string scratch;
  const storage::QuickList::Node* node = nullptr;
  auto flush = [&] {
    AppendRdbLength(out, kNodePacked);
    AppendBlob(out, lp.Finish(), options);
  };
  for (storage::QuickList::Iter it = q.Front(); it.valid(); q.Next(it)) {
    if (node != nullptr && it.node != node) flush();
    node = it.node;
    const storage::PackedList::Value v = q.Get(it);
    if (v.is_int()) {
      lp.AddInt(v.int_value());
    } else {
      lp.Add(v.AsString(&scratch));
    }
  }
  if (node != nullptr) flush();
}

void AppendSet(const Entry& entry, const RdbWriteOptions& options, std::string* out) {
  const storage::SetView view(&entry);
  if (view.encoding() == storage::SetEncoding::kIntSet) {
    const storage::IntSet& ints = *entry.object().ints();
    std::vector<int64_t> members;
    members.reserve(ints.size());
    for (size_t i = 0; i < ints.size(); ++i) members.push_back(ints.At(i));
    AppendType(out, kRdbTypeSetIntset);
    AppendBlob(out, EncodeIntset(members), options);
    return;
  }
  // A listpack set (type 20) is RDB 11: version 10 has the plain form only.
  AppendType(out, kRdbTypeSet);
  AppendRdbLength(out, view.size());
  view.ForEach([&](std::string_view m) { AppendRdbStringCompact(out, m, options.compress); });
}

void AppendZSet(const Entry& entry, const RdbWriteOptions& options, std::string* out) {
  const storage::ZSetView view(&entry);
  if (view.encoding() == storage::ZSetEncoding::kPacked) {
    AppendType(out, kRdbTypeZsetListpack);
    ListpackWriter lp;
    view.ForEach([&](std::string_view m, double score) {
      lp.Add(m);
      AddScore(lp, score);
    });
    AppendBlob(out, lp.Finish(), options);
    return;
  }
  AppendType(out, kRdbTypeZset2);
  AppendRdbLength(out, view.size());
  view.ForEach([&](std::string_view m, double score) {
    AppendRdbStringCompact(out, m, options.compress);
    AppendBinaryDouble(out, score);
  });
}

void AppendHash(const Entry& entry, const RdbWriteOptions& options, std::string* out) {
  const storage::HashView view(&entry);
  if (view.packed()) {
    AppendType(out, kRdbTypeHashListpack);
    ListpackWriter lp;
    view.ForEach([&](std::string_view f, std::string_view v) {
      lp.Add(f);
      lp.Add(v);
    });
    AppendBlob(out, lp.Finish(), options);
    return;
  }
  AppendType(out, kRdbTypeHash);
  AppendRdbLength(out, view.size());
  view.ForEach([&](std::string_view f, std::string_view v) {
    AppendRdbStringCompact(out, f, options.compress);
    AppendRdbStringCompact(out, v, options.compress);
  });
}

std::string StreamIdKey(StreamId id) {
  std::string key(16, '\0');
  for (int i = 0; i < 8; ++i) {
    key[i] = static_cast<char>((id.ms >> (56 - 8 * i)) & 0xff);
    key[8 + i] = static_cast<char>((id.seq >> (56 - 8 * i)) & 0xff);
  }
  return key;
}

using Pairs = std::vector<std::pair<std::string_view, std::string_view>>;

// One stream node: a master entry naming the first entry's fields, then
// every entry relative to the first's ID, its fields left out when they are
// the master's.
std::string StreamNode(const std::vector<std::pair<StreamId, Pairs>>& entries, size_t first,
                       size_t last) {
  ListpackWriter lp;
  const StreamId master = entries[first].first;
  const Pairs& master_fields = entries[first].second;
  lp.AddInt(static_cast<int64_t>(last - first));
  lp.AddInt(0);
  lp.AddInt(static_cast<int64_t>(master_fields.size()));
  for (const auto& [f, v] : master_fields) lp.Add(f);
  lp.AddInt(0);
  for (size_t i = first; i < last; ++i) {
    const auto& [id, pairs] = entries[i];
    bool same = pairs.size() == master_fields.size();
    for (size_t k = 0; same && k < pairs.size(); ++k) same = pairs[k].first == master_fields[k].first;
    lp.AddInt(same ? kStreamSameFields : 0);
    lp.AddInt(static_cast<int64_t>(id.ms - master.ms));
    lp.AddInt(static_cast<int64_t>(id.seq - master.seq));
    if (!same) lp.AddInt(static_cast<int64_t>(pairs.size()));
    for (const auto& [f, v] : pairs) {
      if (!same) lp.Add(f);
      lp.Add(v);
    }
    const size_t n = pairs.size();
    lp.AddInt(static_cast<int64_t>(same ? n + 3 : 2 * n + 4));
  }
  return lp.Finish();
}

void AppendStream(const Entry& entry, const RdbWriteOptions& options, std::string* out) {
  const Stream& s = storage::StreamOf(&entry);
  // Entries are gathered one node at a time (up to Redis's default node
  // size), so a large stream costs one node's views beyond its output.
  std::vector<std::pair<StreamId, Pairs>> batch;
  size_t batch_bytes = 0;
  std::string nodes;
  size_t node_count = 0;
  auto flush = [&] {
    AppendRdbString(&nodes, StreamIdKey(batch.front().first));
    AppendBlob(&nodes, StreamNode(batch, 0, batch.size()), options);
    ++node_count;
    batch.clear();
    batch_bytes = 0;
  };
  s.Range(StreamId::Min(), StreamId::Max(), false, 0, [&](const storage::StreamEntryView& e) {
    if (batch.size() == kStreamNodeEntries || batch_bytes >= kStreamNodeBytes) flush();
    Pairs pairs;
    e.ForEachPair([&](std::string_view f, std::string_view v) {
      pairs.emplace_back(f, v);
      batch_bytes += f.size() + v.size() + 4;
    });
    batch_bytes += 8;
    batch.emplace_back(e.id(), std::move(pairs));
    return true;
  });
  if (!batch.empty()) flush();
  AppendType(out, kRdbTypeStreamListpacks2);
  AppendRdbLength(out, node_count);
  out->append(nodes);
  AppendRdbLength(out, s.size());
  for (StreamId id : {s.last_id(), s.first_id(), s.max_deleted_id()}) {
    AppendRdbLength(out, id.ms);
    AppendRdbLength(out, id.seq);
  }
  AppendRdbLength(out, s.entries_added());
  AppendRdbLength(out, 0);  // consumer groups: sluice has none
}

// ---- reading -------------------------------------------------------------------

// Reading one value: the input, the limits, and the first error. Decoded
// strings are views into the input where it holds them plain, else into the
// arena (a deque: its strings never move), so elements are copied once, into
// the entry being built.
class Decoder {
 public:
  Decoder(RdbReader& in, std::string_view key, int64_t expire_at_ms,
          const ValueLimits& limits, std::string* error)
      : in_(in), key_(key), expire_at_ms_(expire_at_ms), limits_(limits), error_(error) {}

  Entry* Read(uint8_t type);

 private:
  using Views = std::vector<std::string_view>;

  Entry* Fail(std::string_view what) {
    error_->assign(what);
    return nullptr;
  }
  bool View(std::string_view* s) {
    // A slot a plain string left unused serves the next one (an empty
    // decoded string may share it too: its view stays empty).
    if (arena_.empty() || !arena_.back().empty()) arena_.emplace_back();
    return in_.ReadStringView(s, &arena_.back());
  }
  // A packed blob (listpack, ziplist) and its items (pointing into it).
  bool Items(bool listpack, std::vector<PackedItem>* items) {
    std::string_view blob;
    if (!View(&blob)) return false;
    return listpack ? ParseListpack(blob, items) : ParseZiplist(blob, items);
  }
  // `count` strings, appended to *out.
  bool Strings(uint64_t count, Views* out) {
    for (uint64_t i = 0; i < count; ++i) {
      if (!View(&out->emplace_back())) return false;
    }
    return true;
  }
  // The items as bytes (integers formatted into the arena), appended to *out.
  void Append(const std::vector<PackedItem>& items, Views* out) {
    for (const PackedItem& item : items) out->push_back(Text(item));
  }
  std::string_view Text(const PackedItem& item) {
    if (!item.is_num) return item.str;
    return item.AsString(&arena_.emplace_back());
  }

  Entry* List(uint8_t type);
  Entry* Set(uint8_t type);
  Entry* ZSet(uint8_t type);
  Entry* Hash(uint8_t type);
  Entry* StreamValue(uint8_t type);
  bool StreamNode(std::string_view master_key, const std::vector<PackedItem>& items, Stream* s,
                  StreamId* prev);
  bool SkipGroups(uint8_t type);

  RdbReader& in_;
  std::string_view key_;
  int64_t expire_at_ms_;
  const ValueLimits& limits_;
  std::string* error_;
  std::deque<std::string> arena_;
};

// Whether no two of `v` (every `stride`-th element from the first) are equal.
bool Distinct(const std::vector<std::string_view>& v, size_t stride = 1) {
  std::vector<std::string_view> keys;
  keys.reserve(v.size() / stride + 1);
  for (size_t i = 0; i < v.size(); i += stride) keys.push_back(v[i]);
  std::sort(keys.begin(), keys.end());
  return std::adjacent_find(keys.begin(), keys.end()) == keys.end();
}

// A score written as text (strtod's syntax, as Redis reads it); NaN and
// trailing bytes are refused.
bool ParseScore(std::string_view text, double* out) {
  if (text.empty() || text.size() > 200) return false;
  const std::string s(text);
  char* end = nullptr;
  const double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || std::isnan(d)) return false;
  *out = d;
  return true;
}

Entry* Decoder::Read(uint8_t type) {
  switch (type) {
    case kRdbTypeString: {
      std::string_view value;
      if (!View(&value)) return Fail("bad string value");
      int64_t n;
      if (storage::LooksLikeInt64(value, &n)) return Entry::CreateInt(key_, n, expire_at_ms_);
      return Entry::CreateString(key_, value, expire_at_ms_);
    }
    case kRdbTypeList:
    case kRdbTypeListZiplist:
    case kRdbTypeListQuicklist:
    case kRdbTypeListQuicklist2:
      return List(type);
    case kRdbTypeSet:
    case kRdbTypeSetIntset:
    case kRdbTypeSetListpack:
      return Set(type);
    case kRdbTypeZset:
    case kRdbTypeZset2:
    case kRdbTypeZsetZiplist:
    case kRdbTypeZsetListpack:
      return ZSet(type);
    case kRdbTypeHash:
    case kRdbTypeHashZipmap:
    case kRdbTypeHashZiplist:
    case kRdbTypeHashListpack:
      return Hash(type);
    case kRdbTypeStreamListpacks:
    case kRdbTypeStreamListpacks2:
    case kRdbTypeStreamListpacks3:
      return StreamValue(type);
    default:
      return Fail("unsupported value type " + std::to_string(type));
  }
}

Entry* Decoder::List(uint8_t type) {
  Views values;
  std::vector<PackedItem> items;
  if (type == kRdbTypeList) {
    uint64_t n;
    if (!in_.ReadLength(&n) || !Strings(n, &values)) return Fail("bad list");
  } else if (type == kRdbTypeListZiplist) {
    if (!Items(false, &items)) return Fail("bad list ziplist");
    Append(items, &values);
  } else {
    uint64_t nodes;
    if (!in_.ReadLength(&nodes)) return Fail("bad quicklist");
    for (uint64_t i = 0; i < nodes; ++i) {
      uint64_t container = kNodePacked;
      if (type == kRdbTypeListQuicklist2 && !in_.ReadLength(&container)) {
        return Fail("bad quicklist node");
      }
      if (container == kNodePlain) {
        if (!View(&values.emplace_back())) return Fail("bad quicklist node");
        continue;
      }
      if (container != kNodePacked) return Fail("bad quicklist node container");
      items.clear();
      if (!Items(type == kRdbTypeListQuicklist2, &items)) return Fail("bad quicklist node");
      // Redis passes over an empty node; the list as a whole may not be.
      Append(items, &values);
    }
  }
  if (values.empty()) return Fail("empty list");
  return storage::CreateListEntry(key_, values, limits_.list, expire_at_ms_);
}

Entry* Decoder::Set(uint8_t type) {
  Views members;
  if (type == kRdbTypeSet) {
    uint64_t n;
    if (!in_.ReadLength(&n) || !Strings(n, &members)) return Fail("bad set");
  } else if (type == kRdbTypeSetIntset) {
    std::string_view blob;
    std::vector<int64_t> ints;
    if (!View(&blob) || !ParseIntset(blob, &ints)) return Fail("bad intset");
    for (int64_t v : ints) members.push_back(arena_.emplace_back(std::to_string(v)));
  } else {
    std::vector<PackedItem> items;
    if (!Items(true, &items)) return Fail("bad set listpack");
    Append(items, &members);
  }
  if (members.empty()) return Fail("empty set");
  if (!Distinct(members)) return Fail("duplicate set member");
  return storage::CreateSetEntry(key_, members, limits_.set, expire_at_ms_);
}

Entry* Decoder::ZSet(uint8_t type) {
  std::vector<ScoredMember> items;
  if (type == kRdbTypeZset || type == kRdbTypeZset2) {
    uint64_t n;
    if (!in_.ReadLength(&n)) return Fail("bad zset");
    for (uint64_t i = 0; i < n; ++i) {
      std::string_view member, raw;
      double score;
      if (!View(&member)) return Fail("bad zset member");
      if (type == kRdbTypeZset2) {
        if (!in_.ReadRaw(8, &raw)) return Fail("bad zset score");
        uint64_t bits = 0;
        for (int k = 7; k >= 0; --k) bits = (bits << 8) | static_cast<uint8_t>(raw[k]);
        score = std::bit_cast<double>(bits);
        if (std::isnan(score)) return Fail("NaN zset score");
      } else {
        uint8_t len;
        if (!in_.ReadByte(&len)) return Fail("bad zset score");
        if (len == 253) return Fail("NaN zset score");
        if (len == 254 || len == 255) {
          score = len == 254 ? INFINITY : -INFINITY;
        } else if (!in_.ReadRaw(len, &raw) || !ParseScore(raw, &score)) {
          return Fail("bad zset score");
        }
      }
      items.emplace_back(std::string(member), score);
    }
  } else {
    std::vector<PackedItem> packed;
    if (!Items(type == kRdbTypeZsetListpack, &packed) || packed.size() % 2 != 0) {
      return Fail("bad zset listpack");
    }
    for (size_t i = 0; i < packed.size(); i += 2) {
      double score;
      if (packed[i + 1].is_num) {
        score = static_cast<double>(packed[i + 1].num);
      } else if (!ParseScore(packed[i + 1].str, &score)) {
        return Fail("bad zset score");
      }
      items.emplace_back(std::string(Text(packed[i])), score);
    }
  }
  if (items.empty()) return Fail("empty zset");
  Views members;
  members.reserve(items.size());
  for (const ScoredMember& m : items) members.push_back(m.first);
  if (!Distinct(members)) return Fail("duplicate zset member");
  return storage::CreateZSetEntry(key_, std::move(items), limits_.zset, expire_at_ms_);
}

Entry* Decoder::Hash(uint8_t type) {
  Views pairs;
  if (type == kRdbTypeHash) {
    uint64_t n;
    if (!in_.ReadLength(&n) || n > in_.remaining() || !Strings(2 * n, &pairs)) {
      return Fail("bad hash");
    }
  } else if (type == kRdbTypeHashZipmap) {
    std::string_view blob;
    if (!View(&blob) || !ParseZipmap(blob, &pairs)) return Fail("bad zipmap");
  } else {
    std::vector<PackedItem> items;
    if (!Items(type == kRdbTypeHashListpack, &items) || items.size() % 2 != 0) {
      return Fail("bad hash listpack");
    }
    Append(items, &pairs);
  }
  if (pairs.empty()) return Fail("empty hash");
  if (!Distinct(pairs, 2)) return Fail("duplicate hash field");
  return storage::CreateHashEntry(key_, pairs, limits_.hash, expire_at_ms_);
}

// An item that holds an integer (Redis writes these fields as integers; an
// integer-looking string is taken too).
bool ItemInt(const PackedItem& item, int64_t* v) {
  if (item.is_num) {
    *v = item.num;
    return true;
  }
  return storage::LooksLikeInt64(item.str, v);
}

bool Decoder::StreamNode(std::string_view master_key, const std::vector<PackedItem>& items,
                         Stream* s, StreamId* prev) {
  if (master_key.size() != 16) return false;
  StreamId master;
  for (int i = 0; i < 8; ++i) {
    master.ms = (master.ms << 8) | static_cast<uint8_t>(master_key[i]);
    master.seq = (master.seq << 8) | static_cast<uint8_t>(master_key[8 + i]);
  }
  size_t at = 0;
  auto next_int = [&](int64_t* v) { return at < items.size() && ItemInt(items[at++], v); };
  int64_t live, deleted, nfields, zero;
  if (!next_int(&live) || !next_int(&deleted) || !next_int(&nfields)) return false;
  if (live < 0 || deleted < 0 || nfields <= 0 ||
      static_cast<uint64_t>(nfields) > items.size() - at) {
    return false;
  }
  std::string scratch;
  std::vector<std::string> master_fields;
  for (int64_t i = 0; i < nfields; ++i) master_fields.emplace_back(items[at++].AsString(&scratch));
  if (!next_int(&zero) || zero != 0) return false;
  int64_t seen_live = 0, seen_deleted = 0;
  std::vector<std::string> owned;
  std::vector<std::string_view> field_values;
  while (at < items.size()) {
    const size_t entry_start = at;
    int64_t flags, ms_diff, seq_diff, n;
    if (!next_int(&flags) || !next_int(&ms_diff) || !next_int(&seq_diff)) return false;
    if ((flags & ~(kStreamDeleted | kStreamSameFields)) != 0) return false;
    const bool same = (flags & kStreamSameFields) != 0;
    if (same) {
      n = nfields;
    } else if (!next_int(&n) || n <= 0 || static_cast<uint64_t>(n) > items.size()) {
      return false;
    }
    const uint64_t elements = same ? static_cast<uint64_t>(n) : 2 * static_cast<uint64_t>(n);
    if (elements >= items.size() - at) return false;  // and the lp-count after them
    owned.clear();
    for (int64_t i = 0; i < n; ++i) {
      owned.push_back(same ? master_fields[i] : std::string(items[at++].AsString(&scratch)));
      owned.emplace_back(items[at++].AsString(&scratch));
    }
    int64_t lp_count;
    if (!next_int(&lp_count) || lp_count != static_cast<int64_t>(at - entry_start - 1)) {
      return false;
    }
    const StreamId id{master.ms + static_cast<uint64_t>(ms_diff),
                      master.seq + static_cast<uint64_t>(seq_diff)};
    if (!(id > *prev)) return false;
    *prev = id;
    if (flags & kStreamDeleted) {
      ++seen_deleted;
      continue;
    }
    ++seen_live;
    field_values.assign(owned.begin(), owned.end());
    s->Append(id, field_values);
  }
  return seen_live == live && seen_deleted == deleted;
}

bool Decoder::SkipGroups(uint8_t type) {
  uint64_t groups;
  if (!in_.ReadLength(&groups)) return false;
  std::string_view name, raw;
  uint64_t v;
  for (uint64_t g = 0; g < groups; ++g) {
    arena_.clear();
    if (!View(&name) || !in_.ReadLength(&v) || !in_.ReadLength(&v)) return false;
    if (type >= kRdbTypeStreamListpacks2 && !in_.ReadLength(&v)) return false;  // entries read
    uint64_t pending;
    if (!in_.ReadLength(&pending)) return false;
    for (uint64_t i = 0; i < pending; ++i) {
      // ID, delivery time, delivery count.
      if (!in_.ReadRaw(16 + 8, &raw) || !in_.ReadLength(&v)) return false;
    }
    uint64_t consumers;
    if (!in_.ReadLength(&consumers)) return false;
    for (uint64_t c = 0; c < consumers; ++c) {
      // Name, seen time (and active time from 7.2), then its pending IDs.
      const size_t times = type >= kRdbTypeStreamListpacks3 ? 16 : 8;
      if (!View(&name) || !in_.ReadRaw(times, &raw) || !in_.ReadLength(&pending)) return false;
      if (pending > in_.remaining() / 16) return false;
      if (!in_.ReadRaw(16 * pending, &raw)) return false;
    }
  }
  return true;
}

Entry* Decoder::StreamValue(uint8_t type) {
  auto stream = std::make_unique<Stream>();
  uint64_t nodes;
  if (!in_.ReadLength(&nodes)) return Fail("bad stream");
  std::string_view master_key, blob;
  std::vector<PackedItem> items;
  StreamId prev = StreamId::Min();
  for (uint64_t i = 0; i < nodes; ++i) {
    items.clear();
    arena_.clear();
    if (!View(&master_key) || !View(&blob) || !ParseListpack(blob, &items)) {
      return Fail("bad stream node");
    }
    if (items.empty() || !StreamNode(master_key, items, stream.get(), &prev)) {
      return Fail("bad stream node");
    }
  }
  uint64_t length;
  StreamId last, first, max_deleted;
  if (!in_.ReadLength(&length) || !in_.ReadLength(&last.ms) || !in_.ReadLength(&last.seq)) {
    return Fail("bad stream metadata");
  }
  uint64_t entries_added = length;
  if (type >= kRdbTypeStreamListpacks2) {
    if (!in_.ReadLength(&first.ms) || !in_.ReadLength(&first.seq) ||
        !in_.ReadLength(&max_deleted.ms) || !in_.ReadLength(&max_deleted.seq) ||
        !in_.ReadLength(&entries_added)) {
      return Fail("bad stream metadata");
    }
  }
  // The first ID is recomputed from the entries (Stream::first_id).
  if (length != stream->size() || prev > last) return Fail("stream metadata disagrees");
  if (!SkipGroups(type)) return Fail("bad stream consumer groups");
  stream->RestoreMetadata(last, max_deleted, entries_added);
  return Entry::CreateObject(key_, ValueType::kStream,
                             storage::ObjectRef::StreamRef(stream.release()), expire_at_ms_);
}

}  // namespace

void AppendRdbValue(const Entry& entry, const RdbWriteOptions& options, std::string* out) {
  switch (entry.type()) {
    case ValueType::kString: {
      AppendType(out, kRdbTypeString);
      if (entry.is_int()) return AppendRdbInt(out, entry.int_value());
      std::string scratch;
      return AppendRdbStringCompact(out, entry.string_value(&scratch), options.compress);
    }
    case ValueType::kList:
      return AppendList(entry, options, out);
    case ValueType::kSet:
      return AppendSet(entry, options, out);
    case ValueType::kZset:
      return AppendZSet(entry, options, out);
    case ValueType::kHash:
      return AppendHash(entry, options, out);
    case ValueType::kStream:
      return AppendStream(entry, options, out);
  }
}

Entry* ReadRdbValue(uint8_t type, RdbReader& in, std::string_view key, int64_t expire_at_ms,
                    const ValueLimits& limits, std::string* error) {
  return Decoder(in, key, expire_at_ms, limits, error).Read(type);
}

}  // namespace sluice::persistence
