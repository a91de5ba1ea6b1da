#include "storage/types/packed.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <utility>

#include "storage/entry.h"
#include "storage/types/bytes.h"

// Element encodings (the first byte, "tag", says which):
//
//   0x00-0x7f  the integer 0..127 itself; no payload
//   0x80-0xbf  a string of (tag & 0x3f) = 0..63 bytes follows
//   0xc0-0xdf  a string of 64 + ((tag & 0x1f) << 8 | next byte) = 64..8255
//              bytes follows the length byte
//   0xe0-0xe7  a signed integer in (tag & 7) + 1 bytes, little-endian,
//              sign-extended; the shortest width that holds it is used
//   0xe8       a double, 8 bytes
//   0xe9       a string whose uint32 length (4 bytes) follows the tag
//
// After the tag and payload comes the back-length: L = bytes of tag +
// payload, in VarintLength(L) bytes whose last one holds the lowest 7 bits,
// the one before it the next 7, and so on; every byte but the first (lowest
// address) has its top bit set, so a reader walking backwards from the end of
// an element knows where the back-length starts.

namespace sluice::storage {
namespace {

constexpr uint8_t kStr6 = 0x80;
constexpr uint8_t kStr13 = 0xc0;
constexpr uint8_t kIntN = 0xe0;
constexpr uint8_t kDouble = 0xe8;
constexpr uint8_t kStr32 = 0xe9;
constexpr size_t kStr6Max = 63;
constexpr size_t kStr13Max = 64 + 0x1fff;
// Shrink the block when this many usable bytes would otherwise sit idle.
constexpr size_t kShrinkSlack = 64;

uint8_t Tag(const char* p) { return static_cast<uint8_t>(*p); }

// Bytes of tag + payload of the element starting at `p`.
size_t BodyBytes(const char* p) {
  const uint8_t t = Tag(p);
  if (t < 0x80) return 1;
  if (t < kStr13) return 1 + (t & 0x3f);
  if (t < kIntN) return 2 + 64 + ((size_t{t & 0x1fu} << 8) | static_cast<uint8_t>(p[1]));
  if (t < kDouble) return 2 + (t & 7);
  if (t == kDouble) return 1 + sizeof(double);
  return 5 + bytes::Load<uint32_t>(p + 1);
}

// Reads the back-length that ends just before `end`: returns L and sets
// *length_bytes to the bytes it took.
size_t ReadBackLength(const char* end, size_t* length_bytes) {
  size_t value = 0;
  size_t n = 0;
  uint8_t b;
  do {
    b = static_cast<uint8_t>(*--end);
    value |= size_t{b & 0x7fu} << (7 * n);
    ++n;
  } while (b & 0x80);
  *length_bytes = n;
  return value;
}

int IntWidth(int64_t v) {
  for (int n = 1; n < 8; ++n) {
    const int64_t limit = int64_t{1} << (8 * n - 1);
    if (v >= -limit && v < limit) return n;
  }
  return 8;
}

bool StoresAsInt(double v, int64_t* out) {
  // 2^63 is exactly representable; every double below it in magnitude that
  // is integral converts exactly.
  constexpr double kTwo63 = 9223372036854775808.0;
  if (!(v >= -kTwo63 && v < kTwo63) || std::trunc(v) != v) return false;
  if (v == 0 && std::signbit(v)) return false;  // keep -0.0 as a double
  *out = static_cast<int64_t>(v);
  return true;
}

}  // namespace

// An element ready to be written: head (tag and fixed payload), then the
// string payload if any, then the back-length.
struct PackedList::Encoded {
  char head[16];
  size_t head_bytes = 0;
  std::string_view payload;
  char tail[8];
  size_t tail_bytes = 0;

  size_t total() const { return head_bytes + payload.size() + tail_bytes; }

  void FinishBackLength() {
    size_t body = head_bytes + payload.size();
    tail_bytes = bytes::VarintLength(body);
    for (size_t i = 0; i < tail_bytes; ++i) {
      const auto low7 = static_cast<uint8_t>(body & 0x7f);
      body >>= 7;
      // tail[tail_bytes - 1] is the last byte; only the first lacks the flag.
      const size_t at = tail_bytes - 1 - i;
      tail[at] = static_cast<char>(at == 0 ? low7 : (low7 | 0x80));
    }
  }

  static Encoded Int(int64_t v) {
    Encoded e;
    if (v >= 0 && v < 0x80) {
      e.head[0] = static_cast<char>(v);
      e.head_bytes = 1;
    } else {
      const int n = IntWidth(v);
      e.head[0] = static_cast<char>(kIntN | (n - 1));
      const auto u = static_cast<uint64_t>(v);
      std::memcpy(e.head + 1, &u, n);  // the low n bytes, little-endian
      e.head_bytes = 1 + n;
    }
    e.FinishBackLength();
    return e;
  }

  static Encoded String(std::string_view s) {
    int64_t as_int;
    if (LooksLikeInt64(s, &as_int)) return Int(as_int);
    Encoded e;
    if (s.size() <= kStr6Max) {
      e.head[0] = static_cast<char>(kStr6 | s.size());
      e.head_bytes = 1;
    } else if (s.size() <= kStr13Max) {
      const size_t n = s.size() - 64;
      e.head[0] = static_cast<char>(kStr13 | (n >> 8));
      e.head[1] = static_cast<char>(n & 0xff);
      e.head_bytes = 2;
    } else {
      e.head[0] = static_cast<char>(kStr32);
      bytes::Store<uint32_t>(e.head + 1, static_cast<uint32_t>(s.size()));
      e.head_bytes = 5;
    }
    e.payload = s;
    e.FinishBackLength();
    return e;
  }

  static Encoded Double(double v) {
    int64_t as_int;
    if (StoresAsInt(v, &as_int)) return Int(as_int);
    Encoded e;
    e.head[0] = static_cast<char>(kDouble);
    bytes::Store<double>(e.head + 1, v);
    e.head_bytes = 1 + sizeof(double);
    e.FinishBackLength();
    return e;
  }
};

std::string_view PackedList::Value::AsString(std::string* scratch) const {
  if (is_string()) return str_;
  char buf[32];
  const auto r = is_int() ? std::to_chars(buf, buf + sizeof(buf), int_)
                          : std::to_chars(buf, buf + sizeof(buf), double_);
  scratch->assign(buf, r.ptr);
  return *scratch;
}

bool PackedList::Value::Equals(std::string_view s) const {
  if (is_string()) return str_ == s;
  int64_t v;
  return is_int() && LooksLikeInt64(s, &v) && v == int_;
}

size_t PackedList::size() const { return block_.Field(1); }

size_t PackedList::bytes() const { return block_.Field(0); }

size_t PackedList::AllocatedBytes() const { return block_.usable(); }

PackedList::Pos PackedList::end() const { return block_.empty() ? kHeaderBytes : block_.Field(0); }

size_t PackedList::ElementBytes(Pos pos) const {
  const size_t body = BodyBytes(data() + pos);
  return body + bytes::VarintLength(body);
}

PackedList::Pos PackedList::Next(Pos pos) const {
  return static_cast<Pos>(pos + ElementBytes(pos));
}

PackedList::Pos PackedList::Prev(Pos pos) const {
  size_t length_bytes;
  const size_t body = ReadBackLength(data() + pos, &length_bytes);
  return static_cast<Pos>(pos - length_bytes - body);
}

PackedList::Value PackedList::Get(Pos pos) const {
  const char* p = data() + pos;
  const uint8_t t = Tag(p);
  if (t < 0x80) return Value::Int(t);
  if (t < kStr13) return Value::String({p + 1, size_t{t & 0x3fu}});
  if (t < kIntN) return Value::String({p + 2, BodyBytes(p) - 2});
  if (t < kDouble) {
    const int n = (t & 7) + 1;
    uint64_t u = 0;
    std::memcpy(&u, p + 1, n);
    const int unused = 64 - 8 * n;
    // Shift the sign bit of the n-byte value to the top and back.
    return Value::Int(unused == 0 ? static_cast<int64_t>(u)
                                  : static_cast<int64_t>(u << unused) >> unused);
  }
  if (t == kDouble) return Value::Double(bytes::Load<double>(p + 1));
  return Value::String({p + 5, bytes::Load<uint32_t>(p + 1)});
}

PackedList::Pos PackedList::At(int64_t index) const {
  const auto n = static_cast<int64_t>(size());
  if (index < 0) index += n;
  if (index < 0 || index >= n) return end();
  Pos pos;
  if (index <= n / 2) {
    pos = begin();
    for (int64_t i = 0; i < index; ++i) pos = Next(pos);
  } else {
    pos = end();
    for (int64_t i = n; i > index; --i) pos = Prev(pos);
  }
  return pos;
}

PackedList::Pos PackedList::Find(std::string_view s, Pos from, size_t skip) const {
  int64_t want_int;
  const bool is_int = LooksLikeInt64(s, &want_int);
  const Pos stop = end();
  Pos pos = from;
  while (pos < stop) {
    const char* p = data() + pos;
    const uint8_t t = Tag(p);
    // Canonical integers are never stored as strings, so an integer-looking
    // `s` only needs comparing against integer elements and vice versa.
    if (is_int) {
      if ((t < 0x80 || (t >= kIntN && t < kDouble)) && Get(pos).int_value() == want_int) return pos;
    } else if (t >= 0x80 && t < kIntN) {
      const size_t header = t < kStr13 ? 1 : 2;
      const size_t length = BodyBytes(p) - header;
      if (length == s.size() && std::memcmp(p + header, s.data(), length) == 0) return pos;
    } else if (t == kStr32) {
      if (Get(pos).str() == s) return pos;
    }
    pos = Next(pos);
    for (size_t i = 0; i < skip && pos < stop; ++i) pos = Next(pos);
  }
  return stop;
}

PackedList::Pos PackedList::Splice(Pos at, size_t old_bytes, const Encoded& e,
                                   int64_t count_delta) {
  const size_t used = block_.empty() ? kHeaderBytes : bytes();
  const size_t count = size();
  const size_t new_bytes = e.total();
  const size_t new_used = used - old_bytes + new_bytes;
  const size_t tail = used - at - old_bytes;
  if (new_bytes > old_bytes) {
    block_.Reserve(new_used);
    std::memmove(data() + at + new_bytes, data() + at + old_bytes, tail);
  } else {
    std::memmove(data() + at + new_bytes, data() + at + old_bytes, tail);
    block_.ShrinkTo(new_used, kShrinkSlack);
  }
  char* p = data() + at;
  std::memcpy(p, e.head, e.head_bytes);
  p += e.head_bytes;
  if (!e.payload.empty()) std::memcpy(p, e.payload.data(), e.payload.size());
  p += e.payload.size();
  std::memcpy(p, e.tail, e.tail_bytes);
  block_.SetFields(new_used, static_cast<size_t>(static_cast<int64_t>(count) + count_delta));
  return at;
}

PackedList::Pos PackedList::InsertString(Pos at, std::string_view s) {
  return Splice(at, 0, Encoded::String(s), 1);
}

PackedList::Pos PackedList::InsertInt(Pos at, int64_t v) {
  return Splice(at, 0, Encoded::Int(v), 1);
}

PackedList::Pos PackedList::InsertDouble(Pos at, double v) {
  return Splice(at, 0, Encoded::Double(v), 1);
}

PackedList::Pos PackedList::ReplaceString(Pos at, std::string_view s) {
  return Splice(at, ElementBytes(at), Encoded::String(s), 0);
}

PackedList::Pos PackedList::ReplaceInt(Pos at, int64_t v) {
  return Splice(at, ElementBytes(at), Encoded::Int(v), 0);
}

PackedList::Pos PackedList::ReplaceDouble(Pos at, double v) {
  return Splice(at, ElementBytes(at), Encoded::Double(v), 0);
}

PackedList::Pos PackedList::Erase(Pos at, size_t count, bool shrink) {
  const Pos stop = end();
  Pos pos = at;
  size_t erased = 0;
  for (; erased < count && pos < stop; ++erased) pos = Next(pos);
  if (erased == 0) return at;
  if (erased == size()) {
    Clear();
    return begin();
  }
  const size_t used = bytes();
  const size_t remaining = size() - erased;
  std::memmove(data() + at, data() + pos, used - pos);
  const size_t new_used = used - (pos - at);
  if (shrink) block_.ShrinkTo(new_used, kShrinkSlack);
  block_.SetFields(new_used, remaining);
  return at;
}

void PackedList::Clear() { block_.Reset(); }

bool PackedList::CheckConsistency() const {
  if (block_.empty()) return true;
  const Pos stop = end();
  size_t count = 0;
  Pos pos = begin();
  while (pos < stop) {
    const Pos next = Next(pos);
    if (next > stop || Prev(next) != pos) return false;
    const Value v = Get(pos);
    int64_t ignored;
    if (v.is_string() && LooksLikeInt64(v.str(), &ignored)) return false;
    pos = next;
    ++count;
  }
  return pos == stop && count == size() && count > 0;
}

}  // namespace sluice::storage
