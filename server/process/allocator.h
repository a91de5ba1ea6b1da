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

// used_memory as INFO prints it: what the allocator handed out plus the key
// tables' bucket arrays that come straight from mmap (storage/hash_table.h).
uint64_t UsedMemoryExact();

// used_memory for the eviction check before every command: cheap (tens of
// nanoseconds) and close to UsedMemoryExact(). Under jemalloc it adds
// the per-thread allocation counters jemalloc keeps anyway (thread.allocatedp
// and thread.deallocatedp) of every registered thread to a base that
// SyncUsedMemory() re-reads from the exact statistic, so registered threads'
// allocations show at once and others' (lazy freeing, the allocator's own)
// at the next sync. Under other allocators it is the exact value, re-read at
// most once a millisecond.
uint64_t UsedMemory();
// UsedMemory() for a check against `limit` at `now_ms`, cheaper still while
// memory is well under it: a thread then re-adds every thread's counters
// only every 32nd call within the same millisecond, or sooner when its own
// allocations since the last sum come near the headroom (a 64th of the
// limit, at least 1 MiB). Exact (a fresh UsedMemory()) whenever the last sum
// is within the headroom of the limit, and on a thread's first check in a
// new millisecond (other threads' allocations since its last sum are not
// its own to count: a quiet thread must not go on with an old sum while
// others fill memory).
uint64_t UsedMemoryAgainst(uint64_t limit, int64_t now_ms);
// Whether UsedMemory() follows allocations at once (jemalloc with a
// registered thread) rather than lagging by up to a millisecond.
bool UsedMemoryIsLive();
// Re-reads the exact value (about 20 us under jemalloc); the server does
// it from its 100 ms tick.
void SyncUsedMemory();
// Adds the calling thread's counters to UsedMemory() until it exits. Call
// from long-lived threads that allocate (I/O threads, the control thread).
void RegisterAllocatorThread();

}  // namespace sluice::server
