#include "persistence/packed_formats.h"

#include <charconv>
#include <cstring>

#include "storage/entry.h"

namespace sluice::persistence {
namespace {

uint64_t LoadLe(const unsigned char* p, size_t width) {
  uint64_t v = 0;
  for (size_t i = width; i-- > 0;) v = (v << 8) | p[i];
  return v;
}

void StoreLe(std::string* out, uint64_t v, size_t width) {
  for (size_t i = 0; i < width; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// Sign-extends the low `bits` bits of `v`.
int64_t SignExtend(uint64_t v, int bits) {
  if (bits == 64) return static_cast<int64_t>(v);
  const uint64_t sign = uint64_t{1} << (bits - 1);
  v &= (sign << 1) - 1;
  return static_cast<int64_t>((v ^ sign) - sign);
}

constexpr size_t kListpackHeader = 6;
constexpr uint8_t kListpackEnd = 0xff;
constexpr uint16_t kUnknownCount = 65535;

// The listpack back-length of an entry of `n` bytes (encoding + data).
size_t BacklenBytes(size_t n) {
  if (n <= 127) return 1;
  if (n < 16383) return 2;
  if (n < 2097151) return 3;
  if (n < 268435455) return 4;
  return 5;
}

}  // namespace

std::string_view PackedItem::AsString(std::string* scratch) const {
  if (!is_num) return str;
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof(buf), num);
  scratch->assign(buf, r.ptr);
  return *scratch;
}

// ---- listpack ------------------------------------------------------------------

ListpackWriter::ListpackWriter() { out_.assign(kListpackHeader, '\0'); }

void ListpackWriter::AddBacklen(size_t n) {
  const size_t width = BacklenBytes(n);
  // The first byte holds the highest bits; every later one is flagged with
  // 0x80 so that a reader going backwards knows to continue.
  for (size_t i = width; i-- > 0;) {
    const auto bits = static_cast<char>((n >> (7 * i)) & 127);
    out_.push_back(i + 1 == width ? bits : static_cast<char>(bits | 128));
  }
}

void ListpackWriter::AddInt(int64_t v) {
  const size_t start = out_.size();
  if (v >= 0 && v <= 127) {
    out_.push_back(static_cast<char>(v));
  } else if (v >= -4096 && v <= 4095) {
    const auto u = static_cast<uint64_t>(v) & 0x1fff;
    out_.push_back(static_cast<char>(0xc0 | (u >> 8)));
    out_.push_back(static_cast<char>(u & 0xff));
  } else if (v >= -32768 && v <= 32767) {
    out_.push_back(static_cast<char>(0xf1));
    StoreLe(&out_, static_cast<uint64_t>(v), 2);
  } else if (v >= -8388608 && v <= 8388607) {
    out_.push_back(static_cast<char>(0xf2));
    StoreLe(&out_, static_cast<uint64_t>(v), 3);
  } else if (v >= INT32_MIN && v <= INT32_MAX) {
    out_.push_back(static_cast<char>(0xf3));
    StoreLe(&out_, static_cast<uint64_t>(v), 4);
  } else {
    out_.push_back(static_cast<char>(0xf4));
    StoreLe(&out_, static_cast<uint64_t>(v), 8);
  }
  AddBacklen(out_.size() - start);
  ++count_;
}

void ListpackWriter::Add(std::string_view s) {
  int64_t v;
  if (storage::LooksLikeInt64(s, &v)) return AddInt(v);
  const size_t start = out_.size();
  if (s.size() < 64) {
    out_.push_back(static_cast<char>(0x80 | s.size()));
  } else if (s.size() < 4096) {
    out_.push_back(static_cast<char>(0xe0 | (s.size() >> 8)));
    out_.push_back(static_cast<char>(s.size() & 0xff));
  } else {
    out_.push_back(static_cast<char>(0xf0));
    StoreLe(&out_, s.size(), 4);
  }
  out_.append(s);
  AddBacklen(out_.size() - start);
  ++count_;
}

std::string ListpackWriter::Finish() {
  out_.push_back(static_cast<char>(kListpackEnd));
  std::string header;
  StoreLe(&header, out_.size(), 4);
  StoreLe(&header, count_ < kUnknownCount ? count_ : kUnknownCount, 2);
  out_.replace(0, kListpackHeader, header);
  std::string done = std::move(out_);
  out_.assign(kListpackHeader, '\0');
  count_ = 0;
  return done;
}

bool ParseListpack(std::string_view blob, std::vector<PackedItem>* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(blob.data());
  const size_t size = blob.size();
  if (size < kListpackHeader + 1 || LoadLe(p, 4) != size || p[size - 1] != kListpackEnd) {
    return false;
  }
  const uint64_t declared = LoadLe(p + 4, 2);
  size_t pos = kListpackHeader;
  const size_t end = size - 1;
  size_t count = 0;
  while (pos < end) {
    const unsigned char b = p[pos];
    const size_t avail = end - pos;
    PackedItem item;
    size_t head = 1, data = 0;  // encoding bytes and data bytes
    if (b < 0x80) {
      item.is_num = true;
      item.num = b;
    } else if ((b & 0xc0) == 0x80) {
      data = b & 0x3f;
    } else if ((b & 0xe0) == 0xc0) {
      if (avail < 2) return false;
      head = 2;
      item.is_num = true;
      item.num = SignExtend((static_cast<uint64_t>(b & 0x1f) << 8) | p[pos + 1], 13);
    } else if ((b & 0xf0) == 0xe0) {
      if (avail < 2) return false;
      head = 2;
      data = (static_cast<size_t>(b & 0x0f) << 8) | p[pos + 1];
    } else if (b == 0xf0) {
      if (avail < 5) return false;
      head = 5;
      data = LoadLe(p + pos + 1, 4);
    } else if (b >= 0xf1 && b <= 0xf4) {
      static constexpr size_t kWidths[] = {2, 3, 4, 8};
      const size_t width = kWidths[b - 0xf1];
      if (avail < 1 + width) return false;
      item.is_num = true;
      item.num = SignExtend(LoadLe(p + pos + 1, width), static_cast<int>(8 * width));
      head = 1 + width;
    } else {
      return false;  // 0xf5..0xfe are no encoding; 0xff ends the list early
    }
    if (data > avail - head) return false;
    if (!item.is_num) item.str = blob.substr(pos + head, data);
    const size_t entry = head + data;
    const size_t backlen = BacklenBytes(entry);
    if (backlen > avail - entry) return false;
    // The back-length, read backwards from its last byte, must give `entry`.
    uint64_t v = 0;
    for (size_t i = 0; i < backlen; ++i) {
      const unsigned char c = p[pos + entry + backlen - 1 - i];
      const bool more = (c & 128) != 0;
      if (more != (i + 1 < backlen)) return false;
      v |= static_cast<uint64_t>(c & 127) << (7 * i);
    }
    if (v != entry) return false;
    out->push_back(item);
    ++count;
    pos += entry + backlen;
  }
  return declared == kUnknownCount || declared == count;
}

// ---- ziplist -------------------------------------------------------------------

bool ParseZiplist(std::string_view blob, std::vector<PackedItem>* out) {
  constexpr size_t kHeader = 10;
  const auto* p = reinterpret_cast<const unsigned char*>(blob.data());
  const size_t size = blob.size();
  if (size < kHeader + 1 || LoadLe(p, 4) != size || p[size - 1] != 0xff) return false;
  const uint64_t tail = LoadLe(p + 4, 4);
  const uint64_t declared = LoadLe(p + 8, 2);
  const size_t end = size - 1;
  size_t pos = kHeader, prev_size = 0, last = kHeader, count = 0;
  while (pos < end) {
    size_t avail = end - pos;
    size_t prevlen_bytes = p[pos] < 254 ? 1 : 5;
    if (p[pos] == 255 || avail < prevlen_bytes + 1) return false;
    const uint64_t prevlen = prevlen_bytes == 1 ? p[pos] : LoadLe(p + pos + 1, 4);
    if (prevlen != prev_size) return false;
    size_t at = pos + prevlen_bytes;
    avail = end - at;
    const unsigned char b = p[at];
    PackedItem item;
    size_t head = 1, data = 0;
    switch (b >> 6) {
      case 0:
        data = b & 0x3f;
        break;
      case 1:
        if (avail < 2) return false;
        head = 2;
        data = (static_cast<size_t>(b & 0x3f) << 8) | p[at + 1];
        break;
      case 2:
        if (b != 0x80 || avail < 5) return false;
        head = 5;
        data = (static_cast<size_t>(p[at + 1]) << 24) | (static_cast<size_t>(p[at + 2]) << 16) |
               (static_cast<size_t>(p[at + 3]) << 8) | p[at + 4];
        break;
      default: {
        size_t width = 0;
        item.is_num = true;
        if (b == 0xc0) {
          width = 2;
        } else if (b == 0xd0) {
          width = 4;
        } else if (b == 0xe0) {
          width = 8;
        } else if (b == 0xf0) {
          width = 3;
        } else if (b == 0xfe) {
          width = 1;
        } else if (b >= 0xf1 && b <= 0xfd) {
          item.num = (b & 0x0f) - 1;
        } else {
          return false;
        }
        if (avail < 1 + width) return false;
        if (width > 0) item.num = SignExtend(LoadLe(p + at + 1, width), static_cast<int>(8 * width));
        head = 1 + width;
      }
    }
    if (data > avail - head) return false;
    if (!item.is_num) item.str = blob.substr(at + head, data);
    out->push_back(item);
    ++count;
    last = pos;
    prev_size = prevlen_bytes + head + data;
    pos += prev_size;
  }
  if (count == 0 ? tail != kHeader : tail != last) return false;
  return declared == 65535 || declared == count;
}

// ---- intset --------------------------------------------------------------------

bool ParseIntset(std::string_view blob, std::vector<int64_t>* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(blob.data());
  if (blob.size() < 8) return false;
  const uint64_t width = LoadLe(p, 4);
  const uint64_t count = LoadLe(p + 4, 4);
  if (width != 2 && width != 4 && width != 8) return false;
  if ((blob.size() - 8) % width != 0 || (blob.size() - 8) / width != count) return false;
  for (uint64_t i = 0; i < count; ++i) {
    const int64_t v = SignExtend(LoadLe(p + 8 + i * width, width), static_cast<int>(8 * width));
    if (!out->empty() && i > 0 && v <= out->back()) return false;
    out->push_back(v);
  }
  return true;
}

std::string EncodeIntset(const std::vector<int64_t>& members) {
  size_t width = 2;
  for (int64_t v : members) {
    if (v < INT32_MIN || v > INT32_MAX) {
      width = 8;
      break;
    }
    if (v < INT16_MIN || v > INT16_MAX) width = 4;
  }
  std::string out;
  out.reserve(8 + width * members.size());
  StoreLe(&out, width, 4);
  StoreLe(&out, members.size(), 4);
  for (int64_t v : members) StoreLe(&out, static_cast<uint64_t>(v), width);
  return out;
}

// ---- zipmap --------------------------------------------------------------------

bool ParseZipmap(std::string_view blob, std::vector<std::string_view>* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(blob.data());
  const size_t size = blob.size();
  if (size < 2) return false;
  size_t pos = 1;
  size_t pairs = 0;
  // Reads one length at `pos`; false at the end marker or when truncated.
  auto read_length = [&](uint64_t* length) {
    if (pos >= size || p[pos] == 255) return false;
    if (p[pos] < 254) {
      *length = p[pos++];
      return true;
    }
    if (size - pos < 5) return false;
    *length = LoadLe(p + pos + 1, 4);
    pos += 5;
    return true;
  };
  while (true) {
    if (pos >= size) return false;
    if (p[pos] == 255) break;
    uint64_t field_length, value_length;
    if (!read_length(&field_length) || field_length > size - pos) return false;
    const std::string_view field = blob.substr(pos, field_length);
    pos += field_length;
    if (!read_length(&value_length) || pos >= size) return false;
    const size_t free_bytes = p[pos++];
    if (value_length > size - pos || free_bytes > size - pos - value_length) return false;
    out->push_back(field);
    out->push_back(blob.substr(pos, value_length));
    pos += value_length + free_bytes;
    ++pairs;
  }
  if (pos + 1 != size) return false;
  return p[0] >= 254 || p[0] == pairs;
}

}  // namespace sluice::persistence
