// The BPF program stamps records with bpf_ktime_get_ns() (CLOCK_MONOTONIC). This is the ONE place that
// relates that clock to wall-clock time: offset = REALTIME - MONOTONIC, from the tightest of a few
// (MONOTONIC, REALTIME, MONOTONIC) triples. The drain thread takes a new sample every second
// (capture.cc), so a wall clock stepped or slewed by NTP during a long recording is followed within a
// second, well inside the 1 ms that timestamps must agree with tcpdump's.
#pragma once
#include <stdint.h>

namespace tcplens {

struct ClockPair {
  int64_t realtimeNs;
  int64_t monotonicNs;
  int64_t widthNs;  // how far apart the two MONOTONIC reads were: the offset's uncertainty
};

ClockPair SampleClocks();
int64_t MonotonicNs();

inline int64_t RealtimeMinusMonotonic() {
  ClockPair p = SampleClocks();
  return p.realtimeNs - p.monotonicNs;
}

}  // namespace tcplens
