#include "server/process/allocator.h"

#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <mutex>

#include "storage/clock.h"
#include "storage/hash_table.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
// From the sanitizer runtime (its header is not installed with GCC).
extern "C" size_t __sanitizer_get_current_allocated_bytes(void);
#endif

#include "absl/strings/str_cat.h"

// Weak references: null unless the allocator that defines them is linked in
// (the linker settles them, so an LD_PRELOADed one is not seen). Declared here rather than through
// mimalloc.h / jemalloc.h so that builds without those headers (sanitizers, unit tests) compile the
// same code.
extern "C" {
int mi_version(void) __attribute__((weak));
void mi_process_info(size_t* elapsed_msecs, size_t* user_msecs, size_t* system_msecs,
                     size_t* current_rss, size_t* peak_rss, size_t* current_commit,
                     size_t* peak_commit, size_t* page_faults) __attribute__((weak));
int mallctl(const char* name, void* oldp, size_t* oldlenp, void* newp, size_t newlen)
    __attribute__((weak));
}

// jemalloc reads this at start-up (MALLOC_CONF in the environment still
// overrides it); other allocators ignore it. A background thread returns
// freed pages to the OS even while the server is idle, and dirty pages are
// purged within about a second instead of jemalloc's default ten, so RSS
// follows mass expiry and deletion closely (docs/memory.md).
extern "C" const char* malloc_conf;
const char* malloc_conf = "background_thread:true,dirty_decay_ms:1000";

namespace sluice::server {
namespace {

enum class Kind { kLibc, kMimalloc, kJemalloc };

Kind Detect() {
  if (mi_version != nullptr && mi_process_info != nullptr) return Kind::kMimalloc;
  if (mallctl != nullptr) return Kind::kJemalloc;
  return Kind::kLibc;
}

const Kind kKind = Detect();

}  // namespace

std::string AllocatorName() {
  switch (kKind) {
    case Kind::kMimalloc: {
      const int v = mi_version();  // 209 for 2.0.9
      return absl::StrCat("mimalloc-", v / 100, ".", (v / 10) % 10, ".", v % 10);
    }
    case Kind::kJemalloc: {
      const char* version = nullptr;
      size_t size = sizeof(version);
      if (mallctl("version", &version, &size, nullptr, 0) != 0 || version == nullptr) {
        return "jemalloc";
      }
      std::string v(version);  // "5.3.0-0-g54eaed1d..."
      return absl::StrCat("jemalloc-", v.substr(0, v.find('-')));
    }
    case Kind::kLibc:
      break;
  }
  return "libc";
}

uint64_t AllocatorAllocatedBytes() {
  switch (kKind) {
    case Kind::kMimalloc: {
      size_t elapsed, user, sys, rss, peak_rss, commit = 0, peak_commit, faults;
      mi_process_info(&elapsed, &user, &sys, &rss, &peak_rss, &commit, &peak_commit, &faults);
      return commit;
    }
    case Kind::kJemalloc: {
      // Statistics are snapshots, refreshed by writing to "epoch".
      uint64_t epoch = 1;
      size_t size = sizeof(epoch);
      mallctl("epoch", &epoch, &size, &epoch, size);
      size_t allocated = 0;
      size = sizeof(allocated);
      if (mallctl("stats.allocated", &allocated, &size, nullptr, 0) != 0) return 0;
      return allocated;
    }
    case Kind::kLibc:
      break;
  }
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // Sanitizers replace malloc, so glibc's statistics stay at zero.
  return __sanitizer_get_current_allocated_bytes();
#endif
  const struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

namespace {

// The registered threads' jemalloc counters. A slot is claimed by a thread
// and released by its exit (the thread's final balance moves into `retired`
// first); readers load the pointers without a lock. The counters are plain
// uint64s that their own thread updates: a relaxed load may see a slightly
// old value, which the next sync corrects.
constexpr int kMaxThreads = 256;
struct Slot {
  std::atomic<const uint64_t*> allocated{nullptr};
  std::atomic<const uint64_t*> deallocated{nullptr};
};
Slot g_slots[kMaxThreads];
std::atomic<int> g_slot_count{0};  // slots ever claimed (a high-water mark)
std::mutex g_slots_mu;             // claiming and releasing
std::atomic<int64_t> g_retired{0};
std::atomic<int64_t> g_base{0};
std::atomic<uint64_t> g_exact{0};
std::atomic<int64_t> g_exact_at_ms{0};

uint64_t LoadCounter(const std::atomic<const uint64_t*>& p) {
  const uint64_t* c = p.load(std::memory_order_acquire);
  return c == nullptr ? 0 : __atomic_load_n(c, __ATOMIC_RELAXED);
}

int64_t ThreadBalance() {
  int64_t sum = g_retired.load(std::memory_order_relaxed);
  const int n = g_slot_count.load(std::memory_order_acquire);
  for (int i = 0; i < n; ++i) {
    sum += static_cast<int64_t>(LoadCounter(g_slots[i].allocated) -
                                LoadCounter(g_slots[i].deallocated));
  }
  return sum;
}

struct ThreadRegistration {
  int slot = -1;
  ~ThreadRegistration() {
    if (slot < 0) return;
    std::lock_guard lock(g_slots_mu);
    Slot& s = g_slots[slot];
    g_retired.fetch_add(
        static_cast<int64_t>(LoadCounter(s.allocated) - LoadCounter(s.deallocated)),
        std::memory_order_relaxed);
    s.allocated.store(nullptr, std::memory_order_release);
    s.deallocated.store(nullptr, std::memory_order_release);
  }
};
thread_local ThreadRegistration t_registration;

}  // namespace

void SyncUsedMemory() {
  const uint64_t exact = AllocatorAllocatedBytes();
  g_exact.store(exact, std::memory_order_relaxed);
  g_exact_at_ms.store(storage::NowMs(), std::memory_order_relaxed);
  if (kKind == Kind::kJemalloc) {
    g_base.store(static_cast<int64_t>(exact) - ThreadBalance(), std::memory_order_relaxed);
  }
}

uint64_t UsedMemory() {
  const uint64_t mapped = storage::HashTable::MappedBytes();
  if (kKind == Kind::kJemalloc && g_slot_count.load(std::memory_order_relaxed) > 0) {
    const int64_t v = g_base.load(std::memory_order_relaxed) + ThreadBalance();
    return (v > 0 ? static_cast<uint64_t>(v) : 0) + mapped;
  }
  const int64_t now = storage::NowMs();
  int64_t at = g_exact_at_ms.load(std::memory_order_relaxed);
  if (now - at >= 1 &&
      g_exact_at_ms.compare_exchange_strong(at, now, std::memory_order_relaxed)) {
    g_exact.store(AllocatorAllocatedBytes(), std::memory_order_relaxed);
  }
  return g_exact.load(std::memory_order_relaxed) + mapped;
}

uint64_t UsedMemoryExact() {
  return AllocatorAllocatedBytes() + storage::HashTable::MappedBytes();
}

uint64_t UsedMemoryAgainst(uint64_t limit, int64_t now_ms) {
  if (!UsedMemoryIsLive() || t_registration.slot < 0) return UsedMemory();
  thread_local uint64_t t_sum = 0;
  thread_local int64_t t_own_at_sum = 0;
  thread_local int64_t t_sum_ms = 0;
  thread_local int t_skips = 0;
  const Slot& own_slot = g_slots[t_registration.slot];
  const int64_t own = static_cast<int64_t>(LoadCounter(own_slot.allocated) -
                                           LoadCounter(own_slot.deallocated));
  const uint64_t headroom = std::max<uint64_t>(limit / 64, uint64_t{1} << 20);
  const int64_t moved = own - t_own_at_sum;
  if (t_skips > 0 && now_ms == t_sum_ms && t_sum + headroom < limit &&
      moved < static_cast<int64_t>(headroom / 4)) {
    --t_skips;
    return moved > 0 ? t_sum + static_cast<uint64_t>(moved) : t_sum;
  }
  t_sum = UsedMemory();
  t_own_at_sum = own;
  t_sum_ms = now_ms;
  t_skips = 31;
  return t_sum;
}

bool UsedMemoryIsLive() {
  return kKind == Kind::kJemalloc && g_slot_count.load(std::memory_order_relaxed) > 0;
}

void RegisterAllocatorThread() {
  if (kKind != Kind::kJemalloc || t_registration.slot >= 0) return;
  uint64_t* allocated = nullptr;
  uint64_t* deallocated = nullptr;
  size_t size = sizeof(allocated);
  if (mallctl("thread.allocatedp", &allocated, &size, nullptr, 0) != 0) return;
  size = sizeof(deallocated);
  if (mallctl("thread.deallocatedp", &deallocated, &size, nullptr, 0) != 0) return;
  std::lock_guard lock(g_slots_mu);
  int slot = -1;
  const int n = g_slot_count.load(std::memory_order_relaxed);
  for (int i = 0; i < n && slot < 0; ++i) {
    if (g_slots[i].allocated.load(std::memory_order_relaxed) == nullptr) slot = i;
  }
  if (slot < 0) {
    if (n == kMaxThreads) return;
    slot = n;
  }
  // The thread's history so far is in the exact value already: start its
  // balance from zero by moving it into `retired` with the opposite sign.
  g_retired.fetch_sub(static_cast<int64_t>(*allocated - *deallocated), std::memory_order_relaxed);
  g_slots[slot].deallocated.store(deallocated, std::memory_order_release);
  g_slots[slot].allocated.store(allocated, std::memory_order_release);
  if (slot == n) g_slot_count.store(n + 1, std::memory_order_release);
  t_registration.slot = slot;
}

}  // namespace sluice::server
