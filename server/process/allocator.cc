#include "server/process/allocator.h"

#include <malloc.h>

#include <cstddef>

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

}  // namespace sluice::server
