#include "storage/entry.h"

#include <malloc.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <limits>

// Byte layout of an Entry (one malloc block; `this` points at byte 0):
//
//   [0, 6)    next                hash-table chain link: the low 48 bits of
//                                 the Entry* (see "Pointer packing" below)
//   [6]       meta                bits 0-1 value encoding (kInt, kInline,
//                                 kBuffer, kObject), bit 2 has-expiry, bit 3 wide
//                                 expiry, bits 4-6 ValueType, bit 7 the
//                                 snapshot mark (Entry::snapshot_mark)
//   [7]       access              LRU clock / LFU counter (eviction, later)
//   [8, k)    varint key length   LEB128, 1 byte for keys under 128 bytes
//   expiry    only when the has-expiry bit is set: 6 bytes (unsigned ms since
//             the Unix epoch, for deadlines in [1, 2^48): until the year
//             10889) or, with the wide bit, 8 bytes (int64 ms: any other
//             value, i.e. negative ones; nothing else needs it)
//   key bytes
//   value:
//     kInt     8-byte int64 (canonical decimal strings, see LooksLikeInt64)
//     kInline  varint length, then the bytes
//     kBuffer  8-byte pointer to a separate block: a size_t length, then the
//              bytes; its capacity is whatever malloc_usable_size reports, and
//              it grows geometrically (APPEND / SETRANGE)
//              (for a collection type: the bytes of a TinyMap, see
//              storage/types/tiny_map.h; never integer-encoded)
//     kObject  8-byte ObjectRef word (storage/object.h): a collection (any
//              ValueType but kString) stored out of line; the word's low 3
//              bits say which container (PackedList block or StrMap), the
//              rest is its pointer. The entry owns it.
//
// Multi-byte fields are unaligned, little-endian, and accessed with memcpy.
// A 16-byte key with a 16-byte value and a TTL takes 8 + 1 + 6 + 16 + 1 + 16
// = 48 bytes, exactly a 48-byte size class of jemalloc or mimalloc (the
// server links jemalloc; see docs/memory.md); without a TTL 42 bytes, in
// the same class, leaving room to add an expiry without moving. With a
// 100-byte value: 8 + 1 + 16 + 1 + 100 = 126 bytes, in the 128-byte class.
//
// Pointer packing: user-space addresses on x86-64 and AArch64 Linux fit in 48
// bits (the kernel hands out higher ones only to mmap calls that ask for them
// with an address hint, which no allocator here does), so the chain link
// keeps only those and the two bytes above them hold meta and access. That
// buys the two bytes that, with the 6-byte expiry, bring the common entry
// down to 48 bytes while the access byte stays a full byte for an LFU
// counter. set_next() checks the assumption and aborts if it ever breaks
// (e.g. a tagged-pointer allocator).
//
// Functions that change the size of the value or the expiry either work in
// place (when the block's usable size allows and would not waste much) or
// allocate a new block, copy the prefix (next link included) and free the old
// one; callers must use the returned address.

namespace sluice::storage {
namespace {

static_assert(std::endian::native == std::endian::little, "entry layout is little-endian");
static_assert(sizeof(void*) == 8, "entry layout packs 64-bit pointers");

enum Encoding : uint8_t { kInt = 0, kInline = 1, kBuffer = 2, kObject = 3 };

constexpr size_t kNextOffset = 0;
constexpr size_t kNextBytes = 6;
constexpr uint64_t kNextLimit = uint64_t{1} << (8 * kNextBytes);
constexpr size_t kMetaOffset = 6;
constexpr size_t kAccessOffset = 7;
constexpr size_t kKeyLengthOffset = 8;
constexpr uint8_t kEncodingMask = 0x3;
constexpr uint8_t kExpiryBit = 0x4;
constexpr uint8_t kWideExpiryBit = 0x8;
constexpr int kTypeShift = 4;
constexpr uint8_t kTypeMask = 0x70;      // ValueType has 6 values: 3 bits
constexpr uint8_t kSnapshotBit = 0x80;   // see Entry::snapshot_mark
constexpr size_t kNarrowExpiryBytes = 6;
constexpr size_t kWideExpiryBytes = 8;
constexpr uint64_t kNarrowExpiryLimit = uint64_t{1} << (8 * kNarrowExpiryBytes);
constexpr size_t kBufferHeader = sizeof(size_t);

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

char* PutVarint(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

const char* GetVarint(const char* p, uint64_t* v) {
  uint64_t result = 0;
  int shift = 0;
  while (true) {
    const uint8_t byte = static_cast<uint8_t>(*p++);
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) break;
    shift += 7;
  }
  *v = result;
  return p;
}

template <typename T>
T Load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

template <typename T>
void Store(char* p, T v) {
  std::memcpy(p, &v, sizeof(T));
}

void* AllocateOrDie(size_t n) {
  void* p = std::malloc(n);
  if (p == nullptr) std::abort();  // out of memory: nothing sensible to do
  return p;
}

// The meta bits that describe how `expire_at_ms` (0: none) is stored.
uint8_t ExpiryBits(int64_t expire_at_ms) {
  if (expire_at_ms == 0) return 0;
  if (expire_at_ms > 0 && static_cast<uint64_t>(expire_at_ms) < kNarrowExpiryLimit)
    return kExpiryBit;
  return kExpiryBit | kWideExpiryBit;
}

size_t ExpirySize(uint8_t meta) {
  if ((meta & kExpiryBit) == 0) return 0;
  return (meta & kWideExpiryBit) != 0 ? kWideExpiryBytes : kNarrowExpiryBytes;
}

void PutExpiry(char* p, uint8_t meta, int64_t expire_at_ms) {
  if ((meta & kWideExpiryBit) != 0) {
    Store<int64_t>(p, expire_at_ms);
  } else {
    const uint64_t v = static_cast<uint64_t>(expire_at_ms);
    std::memcpy(p, &v, kNarrowExpiryBytes);  // the low 6 bytes (little-endian)
  }
}

int64_t GetExpiry(const char* p, uint8_t meta) {
  if ((meta & kWideExpiryBit) != 0) return Load<int64_t>(p);
  uint64_t v = 0;
  std::memcpy(&v, p, kNarrowExpiryBytes);
  return static_cast<int64_t>(v);
}

// Offsets of an entry's fields, decoded from its header.
struct Layout {
  uint8_t meta;
  size_t key_length;
  size_t expiry_offset;  // where the expiry is, or would be inserted
  size_t key_offset;
  size_t value_offset;

  Encoding encoding() const { return static_cast<Encoding>(meta & kEncodingMask); }
  bool has_expiry() const { return (meta & kExpiryBit) != 0; }
};

Layout Decode(const char* base) {
  Layout l;
  l.meta = static_cast<uint8_t>(base[kMetaOffset]);
  uint64_t key_length;
  const char* p = GetVarint(base + kKeyLengthOffset, &key_length);
  l.key_length = key_length;
  l.expiry_offset = static_cast<size_t>(p - base);
  l.key_offset = l.expiry_offset + ExpirySize(l.meta);
  l.value_offset = l.key_offset + l.key_length;
  return l;
}

size_t InlineValueSize(size_t length) { return VarintSize(length) + length; }

// Bytes used by the value field of an entry.
size_t ValueSize(const char* base, const Layout& l) {
  switch (l.encoding()) {
    case kInt:
      return sizeof(int64_t);
    case kBuffer:
      return sizeof(char*);
    case kObject:
      return sizeof(uintptr_t);
    case kInline: {
      uint64_t length;
      GetVarint(base + l.value_offset, &length);
      return InlineValueSize(length);
    }
  }
  return 0;
}

size_t PrefixSize(size_t key_length, uint8_t expiry_bits) {
  return kKeyLengthOffset + VarintSize(key_length) + ExpirySize(expiry_bits) + key_length;
}

// A new entry with next = nullptr, access = 0, the key and expiry written and
// room for `value_size` bytes of value (not written; meta says kInline).
char* NewEntry(std::string_view key, int64_t expire_at_ms, ValueType type, Encoding encoding,
               size_t value_size) {
  const uint8_t expiry_bits = ExpiryBits(expire_at_ms);
  char* base = static_cast<char*>(AllocateOrDie(PrefixSize(key.size(), expiry_bits) + value_size));
  std::memset(base + kNextOffset, 0, kNextBytes);
  base[kMetaOffset] =
      static_cast<char>((static_cast<uint8_t>(type) << kTypeShift) | expiry_bits | encoding);
  base[kAccessOffset] = 0;
  char* p = PutVarint(base + kKeyLengthOffset, key.size());
  if (expiry_bits != 0) {
    PutExpiry(p, expiry_bits, expire_at_ms);
    p += ExpirySize(expiry_bits);
  }
  if (!key.empty()) std::memcpy(p, key.data(), key.size());
  return base;
}

void WriteInline(char* dst, std::string_view value) {
  char* p = PutVarint(dst, value.size());
  if (!value.empty()) std::memcpy(p, value.data(), value.size());
}

// Out-of-line buffers: [size_t length][bytes...], capacity from the allocator.
char* BufferNew(size_t capacity) {
  char* b = static_cast<char*>(AllocateOrDie(kBufferHeader + std::max<size_t>(capacity, 8)));
  Store<size_t>(b, 0);
  return b;
}
size_t BufferLength(const char* b) { return Load<size_t>(b); }
size_t BufferCapacity(char* b) { return malloc_usable_size(b) - kBufferHeader; }
char* BufferData(char* b) { return b + kBufferHeader; }

// Makes room for `needed` bytes, growing geometrically so that a run of
// appends costs amortised O(1) per byte.
char* BufferReserve(char* b, size_t needed) {
  const size_t capacity = BufferCapacity(b);
  if (needed <= capacity) return b;
  const size_t grown = std::max(needed, capacity * 2);
  char* nb = static_cast<char*>(std::realloc(b, kBufferHeader + grown));
  if (nb == nullptr) std::abort();
  return nb;
}

// Returns an entry whose value field has room for exactly `value_size` bytes
// and whose prefix (next, meta, access, key, expiry) is the same as `entry`'s.
// The old value bytes are not preserved. Reuses the block when it fits and the
// waste is small.
char* ResizeValue(char* base, const Layout& l, size_t value_size) {
  const size_t needed = l.value_offset + value_size;
  const size_t usable = malloc_usable_size(base);
  if (needed <= usable && usable - needed <= std::max<size_t>(32, needed / 2)) return base;
  char* nb = static_cast<char*>(AllocateOrDie(needed));
  std::memcpy(nb, base, l.value_offset);
  std::free(base);
  return nb;
}

// Frees the out-of-line buffer of a kBuffer entry or the collection of a
// kObject one (the field is left dangling).
void ReleaseValue(char* base, const Layout& l) {
  if (l.encoding() == kBuffer) std::free(Load<char*>(base + l.value_offset));
  if (l.encoding() == kObject) DestroyObject(ObjectRef::FromWord(Load<uintptr_t>(base + l.value_offset)));
}

void SetEncoding(char* base, Encoding encoding) {
  base[kMetaOffset] = static_cast<char>((base[kMetaOffset] & ~kEncodingMask) | encoding);
}

// A collection entry given a string value becomes a string entry.
void SetStringType(char* base) {
  base[kMetaOffset] = static_cast<char>(base[kMetaOffset] & static_cast<uint8_t>(~kTypeMask));
}

size_t DecimalLength(int64_t v) {
  char buf[24];
  return static_cast<size_t>(std::to_chars(buf, buf + sizeof(buf), v).ptr - buf);
}

// Converts any string encoding into kBuffer with at least `capacity` bytes of
// room; returns the (possibly moved) entry.
char* ToBuffer(char* base, size_t capacity) {
  Layout l = Decode(base);
  if (l.encoding() == kBuffer) {
    char* b = Load<char*>(base + l.value_offset);
    char* nb = BufferReserve(b, capacity);
    if (nb != b) Store<char*>(base + l.value_offset, nb);
    return base;
  }
  std::string scratch;
  std::string_view current = reinterpret_cast<Entry*>(base)->string_value(&scratch);
  char* b = BufferNew(std::max(capacity, current.size()));
  if (!current.empty()) std::memcpy(BufferData(b), current.data(), current.size());
  Store<size_t>(b, current.size());
  base = ResizeValue(base, l, sizeof(char*));
  Store<char*>(base + l.value_offset, b);
  SetEncoding(base, kBuffer);
  return base;
}

}  // namespace

bool LooksLikeInt64(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  size_t i = 0;
  const bool negative = s[0] == '-';
  if (negative) {
    if (s.size() == 1) return false;
    i = 1;
  }
  if (s[i] == '0') {
    // "0" is canonical; "-0" and leading zeros are not.
    if (s.size() != 1) return false;
    *out = 0;
    return true;
  }
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c < '0' || c > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - digit) / 10) return false;
    v = v * 10 + digit;
  }
  constexpr uint64_t kMaxPositive = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (negative) {
    if (v > kMaxPositive + 1) return false;
    *out = static_cast<int64_t>(0 - v);  // two's complement; v == 2^63 gives INT64_MIN
  } else {
    if (v > kMaxPositive) return false;
    *out = static_cast<int64_t>(v);
  }
  return true;
}

Entry* Entry::CreateString(std::string_view key, std::string_view value, int64_t expire_at_ms) {
  int64_t as_int;
  if (LooksLikeInt64(value, &as_int)) return CreateInt(key, as_int, expire_at_ms);
  char* base =
      NewEntry(key, expire_at_ms, ValueType::kString, kInline, InlineValueSize(value.size()));
  WriteInline(base + PrefixSize(key.size(), ExpiryBits(expire_at_ms)), value);
  return reinterpret_cast<Entry*>(base);
}

Entry* Entry::CreateInt(std::string_view key, int64_t value, int64_t expire_at_ms) {
  char* base = NewEntry(key, expire_at_ms, ValueType::kString, kInt, sizeof(int64_t));
  Store<int64_t>(base + PrefixSize(key.size(), ExpiryBits(expire_at_ms)), value);
  return reinterpret_cast<Entry*>(base);
}

Entry* Entry::CreateObject(std::string_view key, ValueType type, ObjectRef object,
                           int64_t expire_at_ms) {
  char* base = NewEntry(key, expire_at_ms, type, kObject, sizeof(uintptr_t));
  Store<uintptr_t>(base + PrefixSize(key.size(), ExpiryBits(expire_at_ms)), object.word());
  return reinterpret_cast<Entry*>(base);
}

Entry* Entry::CreateBytes(std::string_view key, ValueType type, std::string_view bytes,
                          int64_t expire_at_ms) {
  char* base = NewEntry(key, expire_at_ms, type, kInline, InlineValueSize(bytes.size()));
  WriteInline(base + PrefixSize(key.size(), ExpiryBits(expire_at_ms)), bytes);
  return reinterpret_cast<Entry*>(base);
}

Entry* Entry::CloneAs(const Entry* source, std::string_view new_key) {
  if (source->is_object()) {
    return CreateObject(new_key, source->type(), CloneObject(source->object()),
                        source->expire_at_ms());
  }
  if (source->type() != ValueType::kString) {
    std::string scratch;
    return CreateBytes(new_key, source->type(), source->string_value(&scratch),
                       source->expire_at_ms());
  }
  if (source->is_int()) return CreateInt(new_key, source->int_value(), source->expire_at_ms());
  std::string scratch;
  return CreateString(new_key, source->string_value(&scratch), source->expire_at_ms());
}

Entry* Entry::Rekey(Entry* source, std::string_view new_key) {
  if (!source->is_object()) {
    Entry* renamed = CloneAs(source, new_key);
    Destroy(source);
    return renamed;
  }
  Entry* renamed =
      CreateObject(new_key, source->type(), source->object(), source->expire_at_ms());
  std::free(source);  // the block only: the object now belongs to `renamed`
  return renamed;
}

void Entry::Destroy(Entry* entry) {
  if (entry == nullptr) return;
  char* base = reinterpret_cast<char*>(entry);
  ReleaseValue(base, Decode(base));
  std::free(base);
}

Entry* Entry::WithExpiry(Entry* entry, int64_t expire_at_ms) {
  char* base = reinterpret_cast<char*>(entry);
  const Layout l = Decode(base);
  const uint8_t bits = ExpiryBits(expire_at_ms);
  const size_t old_size = ExpirySize(l.meta);
  const size_t new_size = ExpirySize(bits);
  const uint8_t meta = static_cast<uint8_t>((l.meta & ~(kExpiryBit | kWideExpiryBit)) | bits);
  if (old_size != new_size) {
    // Move the key and value to make (or give back) room for the expiry.
    const size_t total = l.value_offset + ValueSize(base, l);
    const size_t tail = total - l.key_offset;
    const size_t needed = total - old_size + new_size;
    if (needed <= malloc_usable_size(base)) {
      std::memmove(base + l.expiry_offset + new_size, base + l.key_offset, tail);
    } else {
      char* nb = static_cast<char*>(AllocateOrDie(needed));
      std::memcpy(nb, base, l.expiry_offset);
      std::memcpy(nb + l.expiry_offset + new_size, base + l.key_offset, tail);
      std::free(base);
      base = nb;
    }
  }
  base[kMetaOffset] = static_cast<char>(meta);
  if (new_size != 0) PutExpiry(base + l.expiry_offset, meta, expire_at_ms);
  return reinterpret_cast<Entry*>(base);
}

Entry* Entry::WithString(Entry* entry, std::string_view value) {
  int64_t as_int;
  if (LooksLikeInt64(value, &as_int)) return WithInt(entry, as_int);
  Entry* updated = WithBytes(entry, value);
  SetStringType(reinterpret_cast<char*>(updated));
  return updated;
}

Entry* Entry::WithBytes(Entry* entry, std::string_view bytes) {
  char* base = reinterpret_cast<char*>(entry);
  const Layout l = Decode(base);
  ReleaseValue(base, l);
  base = ResizeValue(base, l, InlineValueSize(bytes.size()));
  WriteInline(base + l.value_offset, bytes);
  SetEncoding(base, kInline);
  return reinterpret_cast<Entry*>(base);
}

Entry* Entry::WithObject(Entry* entry, ObjectRef object) {
  char* base = reinterpret_cast<char*>(entry);
  const Layout l = Decode(base);
  if (l.encoding() != kObject || Load<uintptr_t>(base + l.value_offset) != object.word()) {
    ReleaseValue(base, l);
  }
  base = ResizeValue(base, l, sizeof(uintptr_t));
  Store<uintptr_t>(base + l.value_offset, object.word());
  SetEncoding(base, kObject);
  return reinterpret_cast<Entry*>(base);
}

Entry* Entry::WithInt(Entry* entry, int64_t value) {
  char* base = reinterpret_cast<char*>(entry);
  const Layout l = Decode(base);
  if (l.encoding() != kInt) {
    ReleaseValue(base, l);
    base = ResizeValue(base, l, sizeof(int64_t));
    SetEncoding(base, kInt);
    SetStringType(base);
  }
  Store<int64_t>(base + l.value_offset, value);
  return reinterpret_cast<Entry*>(base);
}

Entry* Entry::Append(Entry* entry, std::string_view tail) {
  const size_t length = entry->string_length() + tail.size();
  char* base = ToBuffer(reinterpret_cast<char*>(entry), length);
  const Layout l = Decode(base);
  char* b = Load<char*>(base + l.value_offset);
  const size_t old_length = BufferLength(b);
  if (!tail.empty()) std::memcpy(BufferData(b) + old_length, tail.data(), tail.size());
  Store<size_t>(b, length);
  return reinterpret_cast<Entry*>(base);
}

Entry* Entry::WriteAt(Entry* entry, size_t offset, std::string_view bytes) {
  const size_t old_length = entry->string_length();
  const size_t length = std::max(old_length, offset + bytes.size());
  char* base = ToBuffer(reinterpret_cast<char*>(entry), length);
  const Layout l = Decode(base);
  char* b = Load<char*>(base + l.value_offset);
  char* data = BufferData(b);
  if (offset > old_length) std::memset(data + old_length, 0, offset - old_length);
  if (!bytes.empty()) std::memcpy(data + offset, bytes.data(), bytes.size());
  Store<size_t>(b, length);
  return reinterpret_cast<Entry*>(base);
}

std::string_view Entry::key() const {
  const char* base = reinterpret_cast<const char*>(this);
  const Layout l = Decode(base);
  return std::string_view(base + l.key_offset, l.key_length);
}

ValueType Entry::type() const {
  return static_cast<ValueType>(
      (static_cast<uint8_t>(reinterpret_cast<const char*>(this)[kMetaOffset]) & kTypeMask) >>
      kTypeShift);
}

bool Entry::has_expiry() const {
  return (reinterpret_cast<const char*>(this)[kMetaOffset] & kExpiryBit) != 0;
}

int64_t Entry::expire_at_ms() const {
  const char* base = reinterpret_cast<const char*>(this);
  const Layout l = Decode(base);
  return l.has_expiry() ? GetExpiry(base + l.expiry_offset, l.meta) : 0;
}

bool Entry::is_int() const {
  return (reinterpret_cast<const char*>(this)[kMetaOffset] & kEncodingMask) == kInt;
}

int64_t Entry::int_value() const {
  const char* base = reinterpret_cast<const char*>(this);
  return Load<int64_t>(base + Decode(base).value_offset);
}

std::string_view Entry::string_value(std::string* scratch) const {
  const char* base = reinterpret_cast<const char*>(this);
  const Layout l = Decode(base);
  switch (l.encoding()) {
    case kInt: {
      char buf[24];
      const int64_t v = Load<int64_t>(base + l.value_offset);
      char* end = std::to_chars(buf, buf + sizeof(buf), v).ptr;
      scratch->assign(buf, static_cast<size_t>(end - buf));
      return *scratch;
    }
    case kInline: {
      uint64_t length;
      const char* p = GetVarint(base + l.value_offset, &length);
      return std::string_view(p, length);
    }
    case kBuffer: {
      char* b = Load<char*>(base + l.value_offset);
      return std::string_view(BufferData(b), BufferLength(b));
    }
    case kObject:  // not a string: callers check type() first
      break;
  }
  return {};
}

size_t Entry::string_length() const {
  const char* base = reinterpret_cast<const char*>(this);
  const Layout l = Decode(base);
  switch (l.encoding()) {
    case kInt:
      return DecimalLength(Load<int64_t>(base + l.value_offset));
    case kInline: {
      uint64_t length;
      GetVarint(base + l.value_offset, &length);
      return length;
    }
    case kBuffer:
      return BufferLength(Load<char*>(base + l.value_offset));
    case kObject:
      break;
  }
  return 0;
}

bool Entry::is_object() const {
  return (reinterpret_cast<const char*>(this)[kMetaOffset] & kEncodingMask) == kObject;
}

ObjectRef Entry::object() const {
  const char* base = reinterpret_cast<const char*>(this);
  return ObjectRef::FromWord(Load<uintptr_t>(base + Decode(base).value_offset));
}

void Entry::set_object(ObjectRef object) {
  char* base = reinterpret_cast<char*>(this);
  Store<uintptr_t>(base + Decode(base).value_offset, object.word());
}

uint8_t Entry::access() const {
  return static_cast<uint8_t>(reinterpret_cast<const char*>(this)[kAccessOffset]);
}

void Entry::set_access(uint8_t v) {
  reinterpret_cast<char*>(this)[kAccessOffset] = static_cast<char>(v);
}

bool Entry::snapshot_mark() const {
  return (reinterpret_cast<const char*>(this)[kMetaOffset] & kSnapshotBit) != 0;
}

void Entry::set_snapshot_mark(bool mark) {
  char& meta = reinterpret_cast<char*>(this)[kMetaOffset];
  meta = static_cast<char>(mark ? (meta | kSnapshotBit) : (meta & ~kSnapshotBit));
}

size_t Entry::AllocatedBytes() const {
  char* base = const_cast<char*>(reinterpret_cast<const char*>(this));
  size_t bytes = malloc_usable_size(base);
  const Layout l = Decode(base);
  if (l.encoding() == kBuffer) bytes += malloc_usable_size(Load<char*>(base + l.value_offset));
  if (l.encoding() == kObject) {
    bytes += ObjectAllocatedBytes(ObjectRef::FromWord(Load<uintptr_t>(base + l.value_offset)));
  }
  return bytes;
}

size_t Entry::UsedBytes() const {
  const char* base = reinterpret_cast<const char*>(this);
  const Layout l = Decode(base);
  size_t bytes = l.value_offset + ValueSize(base, l);
  if (l.encoding() == kObject) {
    bytes += ObjectAllocatedBytes(ObjectRef::FromWord(Load<uintptr_t>(base + l.value_offset)));
  }
  return bytes;
}

Entry* Entry::next() const {
  uint64_t v = 0;
  std::memcpy(&v, reinterpret_cast<const char*>(this) + kNextOffset, kNextBytes);
  return reinterpret_cast<Entry*>(static_cast<uintptr_t>(v));
}

void Entry::set_next(Entry* e) {
  const uint64_t v = reinterpret_cast<uintptr_t>(e);
  if (v >= kNextLimit) std::abort();  // see "Pointer packing" at the top
  std::memcpy(reinterpret_cast<char*>(this) + kNextOffset, &v, kNextBytes);
}

}  // namespace sluice::storage
