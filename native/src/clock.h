// How the BPF program's clocks become wall-clock time; this is the ONE place that relates them.
// - CLOCK_MONOTONIC (bpf_ktime_get_ns(), the object built for kernels before 6.2): offset = REALTIME -
//   MONOTONIC, from the tightest of a few (MONOTONIC, REALTIME, MONOTONIC) triples. The drain thread
//   takes a new sample every second (capture.cc): NTP's slewing is followed, but after a step of the
//   wall clock, packets keep the old offset for up to a second.
// - CLOCK_TAI (bpf_ktime_get_tai_ns(), bpf/tcp_snapshot.bpf.c with SNAPSHOT_SKB_TSTAMP): REALTIME plus
//   the kernel's TAI offset, whole seconds (0 until an NTP daemon sets it), so steps are followed at once.
// - A packet's own skb->tstamp is CLOCK_REALTIME already.
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

// CLOCK_TAI - CLOCK_REALTIME: whole seconds in the kernel; the rounding removes the sampling gap.
int64_t TaiMinusRealtime();

}  // namespace tcplens
