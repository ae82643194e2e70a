/** Samples kept for the median: a uniform reservoir of at most this many (bounded memory per connection). */
const RESERVOIR = 4096;

/**
 * Running min / max / mean / standard deviation of RTT samples (seconds) in O(1) memory, and the median of a
 * uniform reservoir of them (exact up to 4096 samples). The median is what compares with the kernel's
 * smoothed RTT: a few samples held back by delayed ACKs or holes move a mean far more than srtt.
 */
export class RttStats {
  count = 0;
  private reservoir: Float64Array | null = null;
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
    if (this.reservoir === null) this.reservoir = new Float64Array(16);
    if (this.count <= RESERVOIR) {
      if (this.count > this.reservoir.length) {
        const bigger = new Float64Array(Math.min(RESERVOIR, this.reservoir.length * 4));
        bigger.set(this.reservoir);
        this.reservoir = bigger;
      }
      this.reservoir[this.count - 1] = seconds;
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
    if (this.count === 0 || this.reservoir === null) return Number.NaN;
    const kept = this.reservoir.slice(0, Math.min(this.count, RESERVOIR)).sort();
    const mid = kept.length >> 1;
    return kept.length % 2 === 1 ? kept[mid]! : (kept[mid - 1]! + kept[mid]!) / 2;
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
