#include "storage/object.h"

#include <cstring>
#include <memory>

#include "storage/types/bytes.h"

namespace sluice::storage {

void DestroyObject(ObjectRef ref) {
  switch (ref.kind()) {
    case ContainerKind::kPacked:
      PackedList::Adopt(ref.packed_block());  // the temporary frees it
      return;
    case ContainerKind::kStrMap:
      delete ref.map();
      return;
  }
}

size_t ObjectAllocatedBytes(ObjectRef ref) {
  switch (ref.kind()) {
    case ContainerKind::kPacked:
      return BorrowedPacked(ref).list().AllocatedBytes();
    case ContainerKind::kStrMap:
      return malloc_usable_size(ref.map()) + ref.map()->AllocatedBytes();
  }
  return 0;
}

size_t ObjectElementCount(ObjectRef ref) {
  switch (ref.kind()) {
    case ContainerKind::kPacked:
      return BorrowedPacked(ref).list().size();
    case ContainerKind::kStrMap:
      return ref.map()->size();
  }
  return 0;
}

ObjectRef CloneObject(ObjectRef ref) {
  switch (ref.kind()) {
    case ContainerKind::kPacked: {
      const BorrowedPacked source(ref);
      const size_t used = source.list().bytes();
      if (used == 0) return ObjectRef::Packed(nullptr);
      char* copy = bytes::Allocate(used);
      std::memcpy(copy, ref.packed_block(), used);
      return ObjectRef::Packed(copy);
    }
    case ContainerKind::kStrMap: {
      auto copy = std::make_unique<StrMap>();
      ref.map()->ForEach(
          [&](std::string_view field, std::string_view value) { copy->Set(field, value); });
      return ObjectRef::Map(copy.release());
    }
  }
  return ref;
}

}  // namespace sluice::storage
