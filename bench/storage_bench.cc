// Micro-benchmarks for storage: key hashing, shard GET/SET/INCR, inserts into
// a growing shard, and the expiry timer wheel.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "storage/shard.h"
#include "storage/string_ops.h"
#include "storage/timer_wheel.h"

namespace sluice::storage {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;

std::vector<std::string> Keys(size_t n) {
  std::vector<std::string> keys;
  keys.reserve(n);
  char buf[32];
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof(buf), "key:%012zu", i % 1'000'000'000'000);
    keys.emplace_back(buf, 16);
  }
  return keys;
}

void BM_KeyHash16(benchmark::State& state) {
  const auto keys = Keys(1024);
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(KeyHash(keys[i++ & 1023]));
}
BENCHMARK(BM_KeyHash16);

void BM_ShardGet(benchmark::State& state) {
  const auto keys = Keys(static_cast<size_t>(state.range(0)));
  Shard shard(0);
  for (const auto& k : keys) shard.Insert(Entry::CreateString(k, "0123456789abcdef", 0));
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(shard.FindForRead(keys[i++ % keys.size()], kNow));
  }
}
BENCHMARK(BM_ShardGet)->Arg(1000)->Arg(100000);

void BM_ShardSet(benchmark::State& state) {
  const auto keys = Keys(static_cast<size_t>(state.range(0)));
  Shard shard(0);
  SetOptions options;
  options.expire_at_ms = kNow + 3'600'000;
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        SetString(shard, keys[i++ % keys.size()], "0123456789abcdef", options, kNow));
  }
}
BENCHMARK(BM_ShardSet)->Arg(1000)->Arg(100000);

// Fresh keys into a shard that starts empty and grows to state.range(0) keys:
// time per insert, table growth included. The filled shards are freed after
// the timed loop (freeing one inside would move glibc's consolidation of a
// million freed entries into the next iteration's mallocs).
void BM_ShardInsertGrowing(benchmark::State& state) {
  const auto keys = Keys(static_cast<size_t>(state.range(0)));
  std::vector<std::unique_ptr<Shard>> filled;
  for (auto _ : state) {
    filled.push_back(std::make_unique<Shard>(0));
    Shard& shard = *filled.back();
    for (const auto& k : keys) shard.Insert(Entry::CreateString(k, "0123456789abcdef", 0));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(keys.size()));
}
BENCHMARK(BM_ShardInsertGrowing)->Arg(1 << 20)->Unit(benchmark::kMillisecond)->Iterations(3);

// The same inserts timed one by one: the slowest single insert (max_us), the
// pause a client on that shard sees while the table grows.
void BM_ShardInsertWorstPause(benchmark::State& state) {
  using Clock = std::chrono::steady_clock;
  const auto keys = Keys(static_cast<size_t>(state.range(0)));
  std::vector<std::unique_ptr<Shard>> filled;
  double worst_us = 0;
  for (auto _ : state) {
    filled.push_back(std::make_unique<Shard>(0));
    Shard& shard = *filled.back();
    for (const auto& k : keys) {
      const auto t0 = Clock::now();
      shard.Insert(Entry::CreateString(k, "0123456789abcdef", 0));
      const double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
      worst_us = std::max(worst_us, us);
    }
  }
  state.counters["max_us"] = worst_us;
}
BENCHMARK(BM_ShardInsertWorstPause)->Arg(1 << 20)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_ShardIncr(benchmark::State& state) {
  const auto keys = Keys(1000);
  Shard shard(0);
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(IncrementBy(shard, keys[i++ % 1000], 1, kNow));
}
BENCHMARK(BM_ShardIncr);

void BM_TimerWheelAdd(benchmark::State& state) {
  TimerWheel wheel;
  auto none = [](uint32_t, int64_t) -> int64_t { return 0; };
  wheel.Advance(kNow, 1, none);
  uint32_t h = 0;
  for (auto _ : state) {
    wheel.Add(h, kNow + 1 + (h * 2654435761u) % 3'600'000);
    ++h;
    if (wheel.size() >= (1u << 20)) {
      state.PauseTiming();
      wheel.Clear();
      state.ResumeTiming();
    }
  }
}
BENCHMARK(BM_TimerWheelAdd);

// Records due over one minute, advanced 10 ms at a time; time per record.
void BM_TimerWheelAdvance(benchmark::State& state) {
  constexpr int kRecords = 100'000;
  auto drop = [](uint32_t, int64_t) -> int64_t { return 0; };
  for (auto _ : state) {
    state.PauseTiming();
    TimerWheel wheel;
    wheel.Advance(kNow, 1, drop);
    for (uint32_t h = 0; h < kRecords; ++h) wheel.Add(h, kNow + 1 + (h * 2654435761u) % 60'000);
    state.ResumeTiming();
    for (int64_t t = kNow; wheel.size() > 0; t += 10) wheel.Advance(t, 100'000, drop);
  }
  state.SetItemsProcessed(state.iterations() * kRecords);
}
BENCHMARK(BM_TimerWheelAdvance)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace sluice::storage
