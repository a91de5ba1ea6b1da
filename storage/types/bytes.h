#pragma once
// Byte-level helpers shared by the collection encodings in storage/types/:
// unaligned little-endian loads and stores, LEB128 varints (read forward),
// length-prefixed strings, and allocation that aborts when memory runs out.
// Header-only; pure functions with no state.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace sluice::storage::bytes {

static_assert(std::endian::native == std::endian::little, "collection layouts are little-endian");

template <typename T>
inline T Load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

template <typename T>
inline void Store(char* p, T v) {
  std::memcpy(p, &v, sizeof(T));
}

// Bytes of the LEB128 form of `v`: 1 for values under 128, at most 10.
inline size_t VarintLength(uint64_t v) {
  return v == 0 ? 1 : (static_cast<size_t>(std::bit_width(v)) + 6) / 7;
}

// Writes `v` as LEB128 at `p`; returns the byte after it.
inline char* WriteVarint(char* p, uint64_t v) {
  for (; v >= 0x80; v >>= 7) *p++ = static_cast<char>(0x80 | (v & 0x7f));
  *p = static_cast<char>(v);
  return p + 1;
}

// Reads a LEB128 value at `p` into `*v`; returns the byte after it.
inline const char* ReadVarint(const char* p, uint64_t* v) {
  uint64_t out = 0;
  for (int shift = 0;; shift += 7) {
    const auto b = static_cast<uint8_t>(*p++);
    out |= uint64_t{b & 0x7fu} << shift;
    if (b < 0x80) break;
  }
  *v = out;
  return p;
}

// A varint length and that many bytes, starting at `p`.
inline std::string_view ReadLengthPrefixed(const char* p) {
  uint64_t n;
  const char* data = ReadVarint(p, &n);
  return {data, static_cast<size_t>(n)};
}

inline size_t LengthPrefixedBytes(size_t n) { return VarintLength(n) + n; }

inline char* WriteLengthPrefixed(char* p, std::string_view s) {
  p = WriteVarint(p, s.size());
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

// malloc/realloc that abort on failure: there is nothing sensible to do
// without memory in the middle of a data-structure update.
inline char* Allocate(size_t n) {
  void* p = std::malloc(n);
  if (p == nullptr) std::abort();
  return static_cast<char*>(p);
}

inline char* Reallocate(char* old, size_t n) {
  void* p = std::realloc(old, n);
  if (p == nullptr) std::abort();
  return static_cast<char*>(p);
}

}  // namespace sluice::storage::bytes
