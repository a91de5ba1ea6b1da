#include "storage/types/str_set.h"

namespace sluice::storage {

using bytes::LengthPrefixedBytes;
using bytes::WriteLengthPrefixed;

bool StrSet::Insert(std::string_view member) {
  table_.RehashStep();
  const uint64_t hash = MemberHash(member);
  Slot slot;
  if (table_.Find(member, hash, &slot)) return false;
  WriteLengthPrefixed(table_.Append(hash, LengthPrefixedBytes(member.size())), member);
  return true;
}

std::string_view StrSet::Random(absl::BitGenRef gen) const {
  return Traits::Key(table_.Random(gen));
}

std::string StrSet::PopRandom(absl::BitGenRef gen) {
  std::string member(Random(gen));
  Erase(member);
  return member;
}

void StrMap::Add(std::string_view field, uint64_t hash, std::string_view value) {
  const size_t bytes = LengthPrefixedBytes(field.size()) + LengthPrefixedBytes(value.size());
  WriteLengthPrefixed(WriteLengthPrefixed(table_.Append(hash, bytes), field), value);
}

bool StrMap::Set(std::string_view field, std::string_view value) {
  table_.RehashStep();
  const uint64_t hash = MemberHash(field);
  Slot slot;
  if (!table_.Find(field, hash, &slot)) {
    Add(field, hash, value);
    return true;
  }
  // The field's bytes stay where they are; only the value part changes size.
  const size_t field_bytes = LengthPrefixedBytes(field.size());
  char* entry = table_.ResizeEntry(slot, field_bytes + LengthPrefixedBytes(value.size()));
  WriteLengthPrefixed(entry + field_bytes, value);
  return false;
}

bool StrMap::SetIfAbsent(std::string_view field, std::string_view value) {
  table_.RehashStep();
  const uint64_t hash = MemberHash(field);
  Slot slot;
  if (table_.Find(field, hash, &slot)) return false;
  Add(field, hash, value);
  return true;
}

bool StrMap::Find(std::string_view field, std::string_view* value) const {
  Slot slot;
  if (!table_.Find(field, MemberHash(field), &slot)) return false;
  *value = Traits::Value(table_.EntryAt(slot));
  return true;
}

std::pair<std::string_view, std::string_view> StrMap::Random(absl::BitGenRef gen) const {
  const char* e = table_.Random(gen);
  return {Traits::Key(e), Traits::Value(e)};
}

}  // namespace sluice::storage
