#include "clock.h"

#include <time.h>

namespace tcplens {

static int64_t Ns(const struct timespec& t) { return static_cast<int64_t>(t.tv_sec) * 1000000000LL + t.tv_nsec; }

int64_t MonotonicNs() {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return Ns(t);
}

ClockPair SampleClocks() {
  ClockPair best{0, 0, INT64_MAX};
  for (int i = 0; i < 7; i++) {
    struct timespec m1, r, m2;
    clock_gettime(CLOCK_MONOTONIC, &m1);
    clock_gettime(CLOCK_REALTIME, &r);
    clock_gettime(CLOCK_MONOTONIC, &m2);
    int64_t width = Ns(m2) - Ns(m1);
    if (width < best.widthNs) best = ClockPair{Ns(r), Ns(m1) + width / 2, width};
  }
  return best;
}

int64_t TaiMinusRealtime() {
  struct timespec r, t;
  clock_gettime(CLOCK_REALTIME, &r);
  clock_gettime(CLOCK_TAI, &t);
  int64_t d = Ns(t) - Ns(r);
  return (d >= 0 ? d + 500000000LL : d - 500000000LL) / 1000000000LL * 1000000000LL;
}

}  // namespace tcplens
