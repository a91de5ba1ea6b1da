#include "storage/object.h"

#include <cstring>
#include <memory>
#include <string>

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
    case ContainerKind::kIntSet:
      delete ref.ints();
      return;
    case ContainerKind::kStrSet:
      delete ref.set();
      return;
    case ContainerKind::kZSet:
      delete ref.zset();
      return;
    case ContainerKind::kQuickList:
      delete ref.quick();
      return;
    case ContainerKind::kStream:
      delete ref.stream();
      return;
  }
}

namespace {

// The heap block of a container object itself (always `new T`, one size):
// the allocator's usable size of the first one met, kept, so the byte
// accounting that runs around every collection write (Shard::Update, before
// and after) does not look the block up each time.
template <typename T>
size_t ObjectBlockBytes(T* object) {
  static const size_t bytes = malloc_usable_size(object);
  return bytes;
}

}  // namespace

size_t ObjectAllocatedBytes(ObjectRef ref) {
  switch (ref.kind()) {
    case ContainerKind::kPacked:
      return BorrowedPacked(ref).list().AllocatedBytes();
    case ContainerKind::kStrMap:
      return ObjectBlockBytes(ref.map()) + ref.map()->AllocatedBytes();
    case ContainerKind::kIntSet:
      return ObjectBlockBytes(ref.ints()) + ref.ints()->AllocatedBytes();
    case ContainerKind::kStrSet:
      return ObjectBlockBytes(ref.set()) + ref.set()->AllocatedBytes();
    case ContainerKind::kZSet:
      return ObjectBlockBytes(ref.zset()) + ref.zset()->AllocatedBytes();
    case ContainerKind::kQuickList:
      return ObjectBlockBytes(ref.quick()) + ref.quick()->AllocatedBytes();
    case ContainerKind::kStream:
      return ObjectBlockBytes(ref.stream()) + ref.stream()->AllocatedBytes();
  }
  return 0;
}

size_t ObjectElementCount(ObjectRef ref) {
  switch (ref.kind()) {
    case ContainerKind::kPacked:
      return BorrowedPacked(ref).list().size();
    case ContainerKind::kStrMap:
      return ref.map()->size();
    case ContainerKind::kIntSet:
      return ref.ints()->size();
    case ContainerKind::kStrSet:
      return ref.set()->size();
    case ContainerKind::kZSet:
      return ref.zset()->size();
    case ContainerKind::kQuickList:
      return ref.quick()->size();
    case ContainerKind::kStream:
      return ref.stream()->size();
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
    case ContainerKind::kIntSet: {
      auto copy = std::make_unique<IntSet>();
      const IntSet& source = *ref.ints();
      for (size_t i = 0; i < source.size(); ++i) copy->Insert(source.At(i));
      return ObjectRef::Ints(copy.release());
    }
    case ContainerKind::kStrSet: {
      auto copy = std::make_unique<StrSet>();
      ref.set()->ForEach([&](std::string_view member) { copy->Insert(member); });
      return ObjectRef::Set(copy.release());
    }
    case ContainerKind::kZSet: {
      auto copy = std::make_unique<ZSet>();
      for (ZSet::Iterator it = ref.zset()->begin(); it.valid(); it.Next()) {
        copy->Insert(it.member(), it.score());
      }
      return ObjectRef::ZSetRef(copy.release());
    }
    case ContainerKind::kQuickList: {
      const QuickList& source = *ref.quick();
      auto copy = std::make_unique<QuickList>(source.fill());
      copy->set_compress_depth(source.compress_depth());
      std::string scratch;
      for (QuickList::Iter it = source.Front(); it.valid(); source.Next(it)) {
        copy->PushBack(source.Get(it).AsString(&scratch));
      }
      return ObjectRef::Quick(copy.release());
    }
    case ContainerKind::kStream:
      return ObjectRef::StreamRef(ref.stream()->Clone().release());
  }
  return ref;
}

}  // namespace sluice::storage
