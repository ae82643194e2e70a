/** Running min / max / mean / standard deviation of RTT samples (seconds), in O(1) memory. */
export class RttStats {
  count = 0;
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
