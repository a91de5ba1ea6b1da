#pragma once
// TinyMap: the encoding of the smallest hashes, whose bytes live inside their
// Entry (no separate block, no pointer). It exists for memory: a hash of five
// 10-byte fields with 10-byte values under a 12-byte key is one 128-byte
// block instead of a 32-byte entry plus a 128-byte PackedList.
//
// Layout: one byte of pair count n; n length bytes, each holding the field's
// length in its low nibble and the value's in its high nibble (so every
// field and value is at most kMaxLength bytes); then field 1, value 1,
// field 2, value 2, ... back to back. Header-only, pure functions; a TinyMap
// is only ever read in place or rebuilt whole (it holds at most kMaxPairs
// pairs).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace sluice::storage::tiny_map {

inline constexpr size_t kMaxPairs = 8;
inline constexpr size_t kMaxLength = 15;

// The encoding of an empty map.
inline std::string Empty() { return std::string(1, '\0'); }

inline size_t Count(std::string_view bytes) { return static_cast<uint8_t>(bytes[0]); }

// visit(std::string_view field, std::string_view value) in order; stops
// early when visit returns false.
template <typename Visit>
void ForEach(std::string_view bytes, Visit&& visit) {
  const size_t n = Count(bytes);
  size_t at = 1 + n;
  for (size_t i = 0; i < n; ++i) {
    const auto lengths = static_cast<uint8_t>(bytes[1 + i]);
    const size_t field_length = lengths & 0xf;
    const size_t value_length = lengths >> 4;
    const std::string_view field = bytes.substr(at, field_length);
    const std::string_view value = bytes.substr(at + field_length, value_length);
    at += field_length + value_length;
    if (!visit(field, value)) return;
  }
}

// Whether a pair fits the encoding (its lengths; the count is checked by the
// caller).
inline bool Fits(std::string_view field, std::string_view value) {
  return field.size() <= kMaxLength && value.size() <= kMaxLength;
}

// Encodes `pairs` (a range of (field, value) with fields unique).
// REQUIRES: at most kMaxPairs pairs, each Fits().
template <typename Pairs>
std::string Encode(const Pairs& pairs) {
  std::string out(1, static_cast<char>(std::size(pairs)));
  for (const auto& [field, value] : pairs) {
    out.push_back(static_cast<char>(field.size() | (value.size() << 4)));
  }
  for (const auto& [field, value] : pairs) {
    out.append(field);
    out.append(value);
  }
  return out;
}

}  // namespace sluice::storage::tiny_map
