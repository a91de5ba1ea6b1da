#pragma once
// Allocator: which malloc the process runs on, and what it says about itself,
// for INFO memory.
//
// The server binary links jemalloc by default (see docs/memory.md); unit
// tests and the sanitizer builds run on glibc's malloc. The allocator is told
// apart by weak references to its own API, which the linker resolves when the
// allocator is linked in (not when it is only preloaded), so the same code
// reports correctly in every build. Thread-safe.

#include <cstdint>
#include <string>

namespace sluice::server {

// "mimalloc-2.0.9", "jemalloc-5.3.0" or "libc" (Redis's mem_allocator field).
std::string AllocatorName();

// Bytes the allocator has handed out (used_memory). Exact for glibc and
// jemalloc; for mimalloc, which keeps no count of live bytes in release
// builds, the memory it has committed (well above the live bytes, and slow to
// come down after frees).
uint64_t AllocatorAllocatedBytes();

}  // namespace sluice::server
