#pragma once
// SnapshotSink: where a shard sends its entries while a point-in-time
// snapshot of it is being taken (Shard::BeginSnapshot). storage/ knows no
// file format: persistence/ implements the sink (it encodes RDB records).
//
// How the point in time is kept without fork: every entry carries a mark bit
// (Entry::snapshot_mark) and every shard a mark of its own. BeginSnapshot
// flips the shard's mark, so every entry present at that instant differs
// from it: "not yet saved". The snapshot's walker (Shard::SnapshotStep) and
// every path that is about to change or destroy an entry (Insert over a key,
// Detach, Erase, Update, SetExpiry, lazy and active expiry, Evict, Clear,
// SwapContents) hand a not-yet-saved entry to the sink first, as it still is,
// and set its mark; entries linked after the instant take the shard's mark,
// so they are never saved. Each entry present at the instant therefore
// reaches the sink exactly once, with its value of that instant. With no
// snapshot running the cost is one test of a null pointer per mutation.
//
// Save() is called under the shard's lock, on whichever thread holds it; an
// implementation must not take that shard's lock or any other shard's.

#include "storage/entry.h"

namespace sluice::storage {

class SnapshotSink {
 public:
  virtual ~SnapshotSink() = default;
  // `entry` as it was when the snapshot began (it may have expired since;
  // the sink decides). Called once per entry present at that instant.
  virtual void Save(const Entry& entry) = 0;
};

}  // namespace sluice::storage
