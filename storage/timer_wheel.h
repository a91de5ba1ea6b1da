#pragma once
// TimerWheel: a shard's schedule of expiry deadlines, driving active expiry.
//
// A record is just the 32-bit bucket hash of a key with a TTL (4 bytes): no
// pointer to the entry (entries move and get freed) and no deadline. Records
// live in a hierarchical wheel of millisecond ticks: level 0 has 256 slots of
// 1 ms, levels 1 to 4 have 64 slots each of 256 ms, 16.4 s, 17.5 min and
// 18.6 h, so deadlines up to 2^32 ms (49.7 days) ahead are filed directly and
// later ones wait in an overflow list that is re-examined every 2^26 ms.
//
// Whenever a record is looked at (its level-0 slot comes due, or its slot on a
// coarser level cascades), the wheel hands its hash to the owner's Service
// callback, which reclaims every due key in that bucket and returns the
// earliest deadline still pending among keys with exactly that hash (0 when
// none). The wheel files the record again at that deadline, or drops it. So a
// record whose key was deleted simply disappears, and one whose key got a
// later TTL moves along; the owner only adds a record when a key gets a
// deadline no existing record already covers.
//
// Advance() does bounded work: it looks at no more than `budget` records per
// call and resumes where it stopped, so a burst of deadlines or a large
// cascade is spread over several calls instead of causing a pause. Empty
// stretches of time are skipped with an occupancy bitmap, not tick by tick.
//
// The wheel starts unanchored: records added before the first Advance() wait
// in a pending list, and the first Advance() sets the wheel's time. Not
// thread-safe: the owning shard's lock guards it.

#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/functional/function_ref.h"

namespace sluice::storage {

class TimerWheel {
 public:
  // Reclaims due keys of bucket hash `hash` (deadline <= now_ms) and returns
  // the earliest later deadline of a key with that exact hash, or 0.
  using Service = absl::FunctionRef<int64_t(uint32_t hash, int64_t now_ms)>;

  TimerWheel();
  ~TimerWheel();
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  // Schedules a look at `hash` at `deadline_ms` (a deadline the wheel has
  // already passed: at the next Advance()).
  void Add(uint32_t hash, int64_t deadline_ms);

  // Moves the wheel's time up to `now_ms`, servicing due records, looking at
  // no more than `budget` records. Returns how many it looked at.
  size_t Advance(int64_t now_ms, size_t budget, Service service);

  // Records held, stale ones included.
  size_t size() const { return size_; }
  // The first tick not yet processed (meaningful after the first Advance()).
  int64_t current_ms() const { return current_; }
  // Heap bytes of record blocks and slot arrays.
  size_t MemoryBytes() const;

  // Drops every record (the wheel keeps its time).
  void Clear();
  void Swap(TimerWheel& other);

 private:
  struct Block;
  struct Levels;

  static void Push(Block*& list, uint32_t hash, size_t* blocks);
  static uint32_t Pop(Block*& list, size_t* blocks);
  static void FreeList(Block*& list, size_t* blocks);

  // Files a record relative to current_.
  void Place(uint32_t hash, int64_t deadline_ms);
  // The next tick worth visiting after current_, at most now_ms + 1.
  int64_t NextTick(int64_t now_ms) const;

  std::unique_ptr<Levels> levels_;  // allocated while records are filed
  Block* pending_ = nullptr;        // to look at on the next Advance()
  Block* overflow_ = nullptr;       // 2^32 ms or more ahead when filed
  Block* checking_ = nullptr;       // overflow records being re-examined
  size_t size_ = 0;
  size_t blocks_ = 0;
  int64_t current_ = 0;
  int64_t overflow_checked_at_ = -1;
  bool anchored_ = false;
};

}  // namespace sluice::storage
