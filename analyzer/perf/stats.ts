/** Samples kept for the median: a uniform reservoir of at most this many (bounded memory per connection). */
const RESERVOIR = 4096;

/**
 * Running min / max / mean / standard deviation of RTT samples (seconds) in O(1) memory, and the median of a
 * uniform reservoir of them (exact up to 4096 samples). The median is what compares with the kernel's
 * smoothed RTT: a few samples held back by delayed ACKs or holes move a mean far more than srtt.
 */
export class RttStats {
  count = 0;
  /**
   * A plain array grown by push, not a typed array sized ahead: most connections of a scan have one sample,
   * and an empty array costs no allocation.
   */
  private readonly reservoir: number[] = [];
  /** xorshift state for the reservoir's choices: deterministic, so a capture always gives the same figures. */
  private rng = 0x9e3779b9;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  private sum = 0;
  private sumSq = 0;

  add(seconds: number): void {
    this.count++;
    if (seconds < this.min) this.min = seconds;
    if (seconds > this.max) this.max = seconds;
    this.sum += seconds;
    this.sumSq += seconds * seconds;
    if (this.count <= RESERVOIR) {
      this.reservoir.push(seconds);
    } else {
      let x = this.rng;
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      this.rng = x >>> 0;
      const slot = this.rng % this.count;
      if (slot < RESERVOIR) this.reservoir[slot] = seconds;
    }
  }

  get median(): number {
    const n = this.reservoir.length;
    if (n === 0) return Number.NaN;
    if (n === 1) return this.reservoir[0]!;
    const kept = Float64Array.from(this.reservoir).sort();
    const mid = n >> 1;
    return n % 2 === 1 ? kept[mid]! : (kept[mid - 1]! + kept[mid]!) / 2;
  }

  get mean(): number {
    return this.count === 0 ? Number.NaN : this.sum / this.count;
  }

  /** Population standard deviation (tcptrace's "RTT stdev" divides by n - 1; see docs/conns.md). */
  get stdev(): number {
    if (this.count < 2) return this.count === 1 ? 0 : Number.NaN;
    const mean = this.sum / this.count;
    return Math.sqrt(Math.max(0, (this.sumSq - this.count * mean * mean) / (this.count - 1)));
  }
}
