/**
 * The BPF program stamps records with bpf_ktime_get_ns() (CLOCK_MONOTONIC). This is the ONE place that
 * turns those stamps into wall-clock time: offset = REALTIME - MONOTONIC, taken from the tightest of a
 * few paired clock reads (the addon's clockSample) and refreshed periodically, so NTP slewing over a
 * long recording stays well inside the 1 ms that tcpdump's timestamps must agree within.
 */

export interface ClockPair {
  realtimeNs: bigint;
  monotonicNs: bigint;
  /** How far apart the two monotonic reads bracketing the realtime read were: the offset's uncertainty. */
  widthNs: number;
}

export class MonotonicToWall {
  #sample: () => ClockPair;
  #offsetNs: bigint;
  #widthNs: number;
  /** The offset modulo 2^64 as two 32-bit halves, for toWallWords. */
  #offsetHigh = 0;
  #offsetLow = 0;

  constructor(sample: () => ClockPair) {
    this.#sample = sample;
    const first = sample();
    this.#offsetNs = first.realtimeNs - first.monotonicNs;
    this.#widthNs = first.widthNs;
    this.#splitOffset();
  }

  #splitOffset(): void {
    const u = BigInt.asUintN(64, this.#offsetNs);
    this.#offsetHigh = Number(u >> 32n);
    this.#offsetLow = Number(u & 0xffffffffn);
  }

  /** REALTIME - MONOTONIC in nanoseconds, as last sampled. */
  get offsetNs(): bigint {
    return this.#offsetNs;
  }

  /** Uncertainty of the offset in nanoseconds. */
  get widthNs(): number {
    return this.#widthNs;
  }

  /** Samples again; the wall clock may have been stepped or slewed since. Returns the change in ns. */
  refresh(): bigint {
    const s = this.#sample();
    const next = s.realtimeNs - s.monotonicNs;
    const change = next - this.#offsetNs;
    this.#offsetNs = next;
    this.#widthNs = s.widthNs;
    this.#splitOffset();
    return change;
  }

  /**
   * toWallNs in place on a stamp held as two 32-bit words (as in a pcapng EPB): the recorder's per-packet
   * form, with no bigint allocated. Arithmetic modulo 2^64, exactly as toWallNs for any stamp >= 0.
   */
  toWallWords(words: Uint32Array, high: number, low: number): void {
    const lo = words[low]! + this.#offsetLow;
    words[low] = lo; // stored modulo 2^32
    words[high] = words[high]! + this.#offsetHigh + (lo > 0xffffffff ? 1 : 0);
  }

  /** Wall-clock nanoseconds since the Unix epoch for a CLOCK_MONOTONIC stamp. */
  toWallNs(monotonicNs: bigint): bigint {
    return monotonicNs + this.#offsetNs;
  }
}
