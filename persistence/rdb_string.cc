#include "persistence/rdb_string.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "lzf.h"
#include "storage/entry.h"

namespace sluice::persistence {
namespace {

constexpr int kEncInt8 = 0;
constexpr int kEncInt16 = 1;
constexpr int kEncInt32 = 2;
constexpr int kEncLzf = 3;

// One LZF back-reference (3 bytes) expands to at most 264 bytes: a plain
// length beyond this bound cannot be right, and is refused before anything
// is allocated for it.
constexpr uint64_t kLzfMaxExpansion = 90;

}  // namespace

void AppendRdbLength(std::string* out, uint64_t length) {
  if (length < (1u << 6)) {
    out->push_back(static_cast<char>(length));
  } else if (length < (1u << 14)) {
    out->push_back(static_cast<char>(0x40 | (length >> 8)));
    out->push_back(static_cast<char>(length & 0xff));
  } else if (length <= 0xffffffffULL) {
    out->push_back(static_cast<char>(0x80));
    for (int shift = 24; shift >= 0; shift -= 8) {
      out->push_back(static_cast<char>((length >> shift) & 0xff));
    }
  } else {
    out->push_back(static_cast<char>(0x81));
    for (int shift = 56; shift >= 0; shift -= 8) {
      out->push_back(static_cast<char>((length >> shift) & 0xff));
    }
  }
}

void AppendRdbString(std::string* out, std::string_view s) {
  AppendRdbLength(out, s.size());
  out->append(s);
}

void AppendRdbInt(std::string* out, int64_t v) {
  if (v >= INT8_MIN && v <= INT8_MAX) {
    out->push_back(static_cast<char>(0xc0 | kEncInt8));
    out->push_back(static_cast<char>(v & 0xff));
  } else if (v >= INT16_MIN && v <= INT16_MAX) {
    out->push_back(static_cast<char>(0xc0 | kEncInt16));
    for (int i = 0; i < 2; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  } else if (v >= INT32_MIN && v <= INT32_MAX) {
    out->push_back(static_cast<char>(0xc0 | kEncInt32));
    for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  } else {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof(buf), v);
    AppendRdbString(out, std::string_view(buf, r.ptr - buf));
  }
}

void AppendRdbStringCompact(std::string* out, std::string_view s, bool compress) {
  int64_t v;
  if (s.size() <= 11 && storage::LooksLikeInt64(s, &v) && v >= INT32_MIN &&
      v <= INT32_MAX) {
    return AppendRdbInt(out, v);
  }
  if (compress && s.size() > 20 && s.size() < UINT32_MAX) {
    // Worth it only when the compressed form (with its two lengths) is
    // shorter: lzf_compress gives up (0) past the room it is offered.
    // A snapshot compresses many values: small ones reuse one buffer per
    // thread; a large one gets its own (so the thread does not keep it).
    thread_local std::string reused;
    std::string own;
    std::string& packed = s.size() <= 65536 ? reused : own;
    if (packed.size() < s.size() - 4) packed.resize(s.size() - 4);
    const unsigned n = lzf_compress(s.data(), static_cast<unsigned>(s.size()), packed.data(),
                                    static_cast<unsigned>(s.size() - 4));
    if (n > 0) {
      out->push_back(static_cast<char>(0xc0 | kEncLzf));
      AppendRdbLength(out, n);
      AppendRdbLength(out, s.size());
      out->append(packed.data(), n);
      return;
    }
  }
  AppendRdbString(out, s);
}

bool RdbReader::ReadBytes(size_t n, std::string_view* out) {
  if (n > remaining()) {
    ran_out_ = true;
    return false;
  }
  *out = in_.substr(pos_, n);
  pos_ += n;
  return true;
}

bool RdbReader::ReadByte(uint8_t* b) {
  if (remaining() == 0) {
    ran_out_ = true;
    return false;
  }
  *b = static_cast<uint8_t>(in_[pos_++]);
  return true;
}

bool RdbReader::ReadLengthOrEncoding(uint64_t* length, int* encoding) {
  *encoding = -1;
  uint8_t first;
  if (!ReadByte(&first)) return false;
  std::string_view more;
  switch (first >> 6) {
    case 0:
      *length = first & 0x3f;
      return true;
    case 1:
      if (!ReadBytes(1, &more)) return false;
      *length = (static_cast<uint64_t>(first & 0x3f) << 8) | static_cast<uint8_t>(more[0]);
      return true;
    case 3:
      *encoding = first & 0x3f;
      *length = 0;
      return true;
    default:
      break;
  }
  size_t width;
  if (first == 0x80) {
    width = 4;
  } else if (first == 0x81) {
    width = 8;
  } else {
    return false;
  }
  if (!ReadBytes(width, &more)) return false;
  uint64_t v = 0;
  for (char c : more) v = (v << 8) | static_cast<uint8_t>(c);
  *length = v;
  return true;
}

bool RdbReader::ReadLength(uint64_t* length) {
  int encoding;
  return ReadLengthOrEncoding(length, &encoding) && encoding < 0;
}

bool RdbReader::ReadStringView(std::string_view* out, std::string* decoded) {
  const size_t start = pos_;
  uint64_t length;
  int encoding;
  if (!ReadLengthOrEncoding(&length, &encoding)) return false;
  if (encoding < 0) return ReadBytes(length, out);
  pos_ = start;
  if (!ReadString(decoded)) return false;
  *out = *decoded;
  return true;
}

bool RdbReader::ReadString(std::string* s) {
  uint64_t length;
  int encoding;
  if (!ReadLengthOrEncoding(&length, &encoding)) return false;
  std::string_view bytes;
  if (encoding < 0) {
    if (!ReadBytes(length, &bytes)) return false;
    s->assign(bytes);
    return true;
  }
  if (encoding == kEncInt8 || encoding == kEncInt16 || encoding == kEncInt32) {
    const size_t width = encoding == kEncInt8 ? 1 : encoding == kEncInt16 ? 2 : 4;
    if (!ReadBytes(width, &bytes)) return false;
    uint32_t u = 0;
    for (size_t i = width; i-- > 0;) u = (u << 8) | static_cast<uint8_t>(bytes[i]);
    int64_t v;
    if (width == 1) {
      v = static_cast<int8_t>(u);
    } else if (width == 2) {
      v = static_cast<int16_t>(u);
    } else {
      v = static_cast<int32_t>(u);
    }
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof(buf), v);
    s->assign(buf, r.ptr);
    return true;
  }
  if (encoding != kEncLzf) return false;
  uint64_t compressed, plain;
  if (!ReadLength(&compressed) || !ReadLength(&plain)) return false;
  if (!ReadBytes(compressed, &bytes)) return false;
  if (plain > compressed * kLzfMaxExpansion + 64) return false;
  return LzfDecompress(bytes, plain, s);
}

// LZF: a control byte below 32 starts a run of (control + 1) literal bytes;
// any other is a back-reference: length (control >> 5) + 2 (with 7 meaning
// "add the next byte"), distance ((control & 31) << 8 | next byte) + 1.
bool LzfDecompress(std::string_view in, size_t plain_length, std::string* out) {
  // The buffer grows with what the input really expands to (a lying plain
  // length allocates nothing big), up to exactly `plain_length`.
  out->assign(std::min<size_t>(plain_length, in.size() * 8 + 64), '\0');
  size_t n = 0;
  // Room for `k` more bytes; false when they would pass `plain_length`.
  auto room = [&](size_t k) {
    if (k > plain_length - n) return false;
    if (n + k > out->size()) {
      out->resize(std::min(plain_length, std::max(out->size() * 2, n + k)));
    }
    return true;
  };
  const auto* ip = reinterpret_cast<const unsigned char*>(in.data());
  const unsigned char* const in_end = ip + in.size();
  while (ip < in_end) {
    const unsigned ctrl = *ip++;
    if (ctrl < 32) {
      const size_t run = ctrl + 1;
      if (static_cast<size_t>(in_end - ip) < run || !room(run)) return false;
      std::memcpy(out->data() + n, ip, run);
      ip += run;
      n += run;
      continue;
    }
    size_t len = ctrl >> 5;
    if (len == 7) {
      if (ip == in_end) return false;
      len += *ip++;
    }
    if (ip == in_end) return false;
    const size_t distance = (static_cast<size_t>(ctrl & 0x1f) << 8 | *ip++) + 1;
    len += 2;
    if (distance > n || !room(len)) return false;
    char* const d = out->data();
    for (size_t i = 0; i < len; ++i, ++n) d[n] = d[n - distance];  // may overlap: byte by byte
  }
  return n == plain_length && n == out->size();
}

}  // namespace sluice::persistence
