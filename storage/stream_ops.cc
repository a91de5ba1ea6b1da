#include "storage/stream_ops.h"

#include <limits>
#include <memory>

namespace sluice::storage {
namespace {

Result<Entry*> FindMutable(Shard& shard, std::string_view key, int64_t now_ms) {
  Entry* e = shard.Find(key, now_ms);
  if (e != nullptr && e->type() != ValueType::kStream) return {Status::kWrongType, nullptr};
  return {Status::kOk, e};
}

template <typename Change>
void Mutate(Shard& shard, Entry* e, Change&& change) {
  shard.Update(e, [&](Entry* x) -> Entry* {
    change(*x->object().stream());
    return x;
  });
}

size_t ApplyTrim(Stream& s, const StreamTrim& trim) {
  switch (trim.kind) {
    case StreamTrim::Kind::kNone:
      return 0;
    case StreamTrim::Kind::kMaxLen:
      return s.TrimMaxLen(trim.maxlen, trim.approx, trim.limit);
    case StreamTrim::Kind::kMinId:
      return s.TrimMinId(trim.min_id, trim.approx, trim.limit);
  }
  return 0;
}

// The ID XADD gives the new entry, or the error.
StreamAddOutcome::Error NextId(const Stream& s, const StreamAddId& want, int64_t clock_ms,
                               StreamId* out) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  const StreamId last = s.last_id();
  if (last == StreamId::Max()) return StreamAddOutcome::Error::kExhausted;
  switch (want.kind) {
    case StreamAddId::Kind::kAuto: {
      const uint64_t now = clock_ms < 0 ? 0 : static_cast<uint64_t>(clock_ms);
      if (now > last.ms) {
        *out = {now, 0};
        return StreamAddOutcome::Error::kNone;
      }
      StreamId next = last;
      if (!next.Increment()) return StreamAddOutcome::Error::kExhausted;
      *out = next;
      return StreamAddOutcome::Error::kNone;
    }
    case StreamAddId::Kind::kAutoSeq:
      if (want.id.ms < last.ms) return StreamAddOutcome::Error::kTooSmall;
      if (want.id.ms == last.ms) {
        if (last.seq == kMax) return StreamAddOutcome::Error::kSeqOverflow;
        *out = {last.ms, last.seq + 1};
      } else {
        *out = {want.id.ms, 0};
      }
      return StreamAddOutcome::Error::kNone;
    case StreamAddId::Kind::kExplicit:
      if (want.id <= last) return StreamAddOutcome::Error::kTooSmall;
      *out = want.id;
      return StreamAddOutcome::Error::kNone;
  }
  return StreamAddOutcome::Error::kNone;
}

}  // namespace

Result<const Entry*> FindStream(Shard& shard, std::string_view key, int64_t now_ms, bool for_read) {
  const Entry* e = for_read ? shard.FindForRead(key, now_ms) : shard.Find(key, now_ms);
  if (e != nullptr && e->type() != ValueType::kStream) return {Status::kWrongType, nullptr};
  return {Status::kOk, e};
}

Result<StreamAddOutcome> StreamAdd(Shard& shard, std::string_view key, const StreamAddId& id,
                                   std::span<const std::string_view> field_values, bool no_create,
                                   const StreamTrim& trim, int64_t clock_ms, int64_t now_ms) {
  StreamAddOutcome out;
  auto f = FindMutable(shard, key, now_ms);
  if (!f.ok()) return {f.status, out};
  Entry* e = f.value;
  if (e == nullptr) {
    if (no_create) {
      out.error = StreamAddOutcome::Error::kNoStream;
      return {Status::kOk, out};
    }
    // Check the ID on an empty stream before creating anything.
    const Stream empty;
    out.error = NextId(empty, id, clock_ms, &out.id);
    if (out.error != StreamAddOutcome::Error::kNone) return {Status::kOk, out};
    e = Entry::CreateObject(key, ValueType::kStream,
                            ObjectRef::StreamRef(std::make_unique<Stream>().release()), 0);
    shard.Insert(e);
    out.created = true;
  } else {
    out.error = NextId(StreamOf(e), id, clock_ms, &out.id);
    if (out.error != StreamAddOutcome::Error::kNone) return {Status::kOk, out};
  }
  Mutate(shard, e, [&](Stream& s) {
    s.Append(out.id, field_values);
    out.trimmed = ApplyTrim(s, trim);
  });
  return {Status::kOk, out};
}

Result<size_t> StreamDelete(Shard& shard, std::string_view key, std::span<const StreamId> ids,
                            int64_t now_ms) {
  auto f = FindMutable(shard, key, now_ms);
  if (!f.ok() || f.value == nullptr) return {f.status, 0};
  size_t deleted = 0;
  Mutate(shard, f.value, [&](Stream& s) {
    for (const StreamId& id : ids) deleted += s.Delete(id) ? 1 : 0;
  });
  return {Status::kOk, deleted};
}

Result<size_t> StreamTrimKey(Shard& shard, std::string_view key, const StreamTrim& trim,
                             int64_t now_ms) {
  auto f = FindMutable(shard, key, now_ms);
  if (!f.ok() || f.value == nullptr) return {f.status, 0};
  size_t removed = 0;
  Mutate(shard, f.value, [&](Stream& s) { removed = ApplyTrim(s, trim); });
  return {Status::kOk, removed};
}

}  // namespace sluice::storage
