#pragma once
// Wall-clock time in milliseconds since the Unix epoch: the unit of every
// expiry deadline in storage.

#include <cstdint>
#include <ctime>

namespace sluice::storage {

inline int64_t NowMs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

inline int64_t NowUs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

}  // namespace sluice::storage
