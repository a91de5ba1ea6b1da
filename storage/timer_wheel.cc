#include "storage/timer_wheel.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

namespace sluice::storage {
namespace {

constexpr int kLevels = 5;
// Level k slot width is 2^kShift[k] ms; level 0 has 256 slots, the others 64.
constexpr int kShift[kLevels] = {0, 8, 14, 20, 26};
constexpr int kLevel0Slots = 256;
constexpr int kUpperSlots = 64;
constexpr int kSlotCount = kLevel0Slots + (kLevels - 1) * kUpperSlots;
// Records further ahead than this go to the overflow list.
constexpr uint64_t kWheelSpan = uint64_t{1} << 32;

constexpr int64_t LowMask(int shift) { return (int64_t{1} << shift) - 1; }

// Slot of a level-k record with deadline d.
int SlotIndex(int level, int64_t d) {
  if (level == 0) return static_cast<int>(d & (kLevel0Slots - 1));
  return kLevel0Slots + (level - 1) * kUpperSlots +
         static_cast<int>((d >> kShift[level]) & (kUpperSlots - 1));
}

}  // namespace

// A chunk of records. 8 + 4 + 59 * 4 = 248 bytes: a 256-byte glibc chunk.
struct TimerWheel::Block {
  static constexpr uint32_t kCapacity = 59;
  Block* next;
  uint32_t count;
  uint32_t hashes[kCapacity];
};

struct TimerWheel::Levels {
  Block* slots[kSlotCount] = {};
  uint64_t occupied0[kLevel0Slots / 64] = {};  // level-0 slots that hold records
  size_t counts[kLevels] = {};                 // records per level
};

TimerWheel::TimerWheel() = default;

TimerWheel::~TimerWheel() { Clear(); }

void TimerWheel::Push(Block*& list, uint32_t hash, size_t* blocks) {
  if (list == nullptr || list->count == Block::kCapacity) {
    Block* b = static_cast<Block*>(std::malloc(sizeof(Block)));
    if (b == nullptr) std::abort();
    b->next = list;
    b->count = 0;
    list = b;
    ++*blocks;
  }
  list->hashes[list->count++] = hash;
}

uint32_t TimerWheel::Pop(Block*& list, size_t* blocks) {
  const uint32_t hash = list->hashes[--list->count];
  if (list->count == 0) {
    Block* next = list->next;
    std::free(list);
    list = next;
    --*blocks;
  }
  return hash;
}

void TimerWheel::FreeList(Block*& list, size_t* blocks) {
  while (list != nullptr) {
    Block* next = list->next;
    std::free(list);
    list = next;
    --*blocks;
  }
}

void TimerWheel::Add(uint32_t hash, int64_t deadline_ms) {
  ++size_;
  // Before anchoring nothing can be filed; a deadline the wheel has already
  // passed must be looked at on the very next Advance(), whatever its time.
  if (!anchored_ || deadline_ms < current_) {
    Push(pending_, hash, &blocks_);
    return;
  }
  Place(hash, deadline_ms);
}

void TimerWheel::Place(uint32_t hash, int64_t deadline_ms) {
  if (levels_ == nullptr) levels_ = std::make_unique<Levels>();
  int64_t d = std::max(deadline_ms, current_);
  const uint64_t delta = static_cast<uint64_t>(d) - static_cast<uint64_t>(current_);
  if (delta >= kWheelSpan) {
    Push(overflow_, hash, &blocks_);
    return;
  }
  int level = 0;
  while (level < kLevels - 1 && delta >= (uint64_t{1} << (kShift[level + 1]))) ++level;
  const int slot = SlotIndex(level, d);
  Push(levels_->slots[slot], hash, &blocks_);
  ++levels_->counts[level];
  if (level == 0) levels_->occupied0[slot / 64] |= uint64_t{1} << (slot % 64);
}

int64_t TimerWheel::NextTick(int64_t now_ms) const {
  const int64_t limit = now_ms + 1;
  int64_t next = limit;
  if (levels_ != nullptr && levels_->counts[0] > 0) {
    // The next occupied level-0 slot before the next 256 ms boundary; slots
    // below the current one belong to the next round.
    int from = static_cast<int>(current_ & (kLevel0Slots - 1)) + 1;
    int found = kLevel0Slots;
    for (int word = from / 64; word < kLevel0Slots / 64 && from < kLevel0Slots; ++word) {
      uint64_t bits = levels_->occupied0[word];
      if (word == from / 64) bits &= ~uint64_t{0} << (from % 64);
      if (bits != 0) {
        found = word * 64 + __builtin_ctzll(bits);
        break;
      }
    }
    next = (current_ & ~LowMask(8)) + found;
  } else {
    // Levels below the first non-empty one are empty: jump to its next
    // cascade. Overflow is re-examined at level-4 boundaries.
    int shift = -1;
    if (levels_ != nullptr) {
      for (int k = 1; k < kLevels; ++k) {
        if (levels_->counts[k] > 0) {
          shift = kShift[k];
          break;
        }
      }
    }
    if (shift < 0 && (overflow_ != nullptr || checking_ != nullptr)) shift = kShift[kLevels - 1];
    if (shift >= 0) next = ((current_ >> shift) + 1) << shift;
  }
  return std::min(next, limit);
}

size_t TimerWheel::Advance(int64_t now_ms, size_t budget, Service service) {
  if (!anchored_) {
    anchored_ = true;
    current_ = now_ms;
  }
  size_t work = 0;
  // Looks at one record: the owner reclaims what is due and says when to look
  // again, if ever.
  auto handle = [&](uint32_t hash) {
    ++work;
    const int64_t next = service(hash, now_ms);
    if (next > 0) {
      Place(hash, next);
    } else {
      --size_;
    }
  };

  while (pending_ != nullptr) {
    if (work >= budget) return work;
    handle(Pop(pending_, &blocks_));
  }

  while (current_ <= now_ms) {
    // Cascade the coarse slots that start at this tick, coarsest first. No
    // record can be filed into a slot while it is cascading (it would be at
    // least a full turn of that level away), so a cascade interrupted by the
    // budget resumes correctly on the next call.
    if (levels_ != nullptr) {
      for (int k = kLevels - 1; k >= 1; --k) {
        if ((current_ & LowMask(kShift[k])) != 0) continue;
        Block*& slot = levels_->slots[SlotIndex(k, current_)];
        while (slot != nullptr) {
          if (work >= budget) return work;
          --levels_->counts[k];
          handle(Pop(slot, &blocks_));
        }
      }
    }
    if ((current_ & LowMask(kShift[kLevels - 1])) == 0 && overflow_checked_at_ != current_) {
      if (checking_ == nullptr) std::swap(checking_, overflow_);
      while (checking_ != nullptr) {
        if (work >= budget) return work;
        handle(Pop(checking_, &blocks_));
      }
      overflow_checked_at_ = current_;
    }
    if (levels_ != nullptr) {
      const int slot_index = SlotIndex(0, current_);
      Block*& slot = levels_->slots[slot_index];
      while (slot != nullptr) {
        if (work >= budget) return work;
        --levels_->counts[0];
        handle(Pop(slot, &blocks_));
      }
      levels_->occupied0[slot_index / 64] &= ~(uint64_t{1} << (slot_index % 64));
    }
    current_ = NextTick(now_ms);
  }
  if (size_ == 0) levels_.reset();
  return work;
}

size_t TimerWheel::MemoryBytes() const {
  return blocks_ * sizeof(Block) + (levels_ != nullptr ? sizeof(Levels) : 0);
}

void TimerWheel::Clear() {
  if (levels_ != nullptr) {
    for (Block*& slot : levels_->slots) FreeList(slot, &blocks_);
    levels_.reset();
  }
  FreeList(pending_, &blocks_);
  FreeList(overflow_, &blocks_);
  FreeList(checking_, &blocks_);
  size_ = 0;
}

void TimerWheel::Swap(TimerWheel& other) {
  std::swap(levels_, other.levels_);
  std::swap(pending_, other.pending_);
  std::swap(overflow_, other.overflow_);
  std::swap(checking_, other.checking_);
  std::swap(size_, other.size_);
  std::swap(blocks_, other.blocks_);
  std::swap(current_, other.current_);
  std::swap(overflow_checked_at_, other.overflow_checked_at_);
  std::swap(anchored_, other.anchored_);
}

}  // namespace sluice::storage
