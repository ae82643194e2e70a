/**
 * pcapng timestamps: a 64-bit count of units of base^-exponent seconds, split in two 32-bit halves.
 * Turned into whole seconds + nanoseconds with plain numbers (no BigInt on the hot path), exactly for
 * every resolution up to 2^-36 s (all powers of 10 up to 10^-10 and powers of 2 up to 2^-36), and as
 * closely as a double allows beyond that.
 */
import type { TsResolution } from './types.js';

const TWO_32 = 4294967296;
const TWO_48 = 281474976710656;
/** Units per second up to which the split arithmetic below stays inside 2^53. */
const EXACT_LIMIT = 2 ** 36;

export class TimestampConverter {
  /** Units per second. */
  private readonly perSec: number;
  private readonly div32: number;
  private readonly mod32: number;
  private readonly div48: number;
  private readonly mod48: number;
  /** ns = floor(rem * nsMul / nsDiv), chosen so the product stays exact. */
  private readonly nsMul: number;
  private readonly nsDiv: number;
  private readonly exact: boolean;
  sec = 0;
  nsec = 0;

  constructor(resol: TsResolution, private readonly offsetSec: number) {
    this.perSec = resol.base ** resol.exponent;
    this.exact = this.perSec <= EXACT_LIMIT;
    this.div32 = Math.floor(TWO_32 / this.perSec);
    this.mod32 = TWO_32 % this.perSec;
    this.div48 = Math.floor(TWO_48 / this.perSec);
    this.mod48 = TWO_48 % this.perSec;
    if (resol.base === 10) {
      // 10^e units: 10^(9-e) ns per unit, or 10^(e-9) units per ns.
      this.nsMul = resol.exponent <= 9 ? 10 ** (9 - resol.exponent) : 1;
      this.nsDiv = resol.exponent <= 9 ? 1 : 10 ** (resol.exponent - 9);
    } else {
      // 2^e units: rem * 10^9 / 2^e = rem * 5^9 / 2^(e-9); rem * 5^9 is exact for rem < 2^32 and dividing
      // by a power of two is exact in binary floating point.
      this.nsMul = resol.exponent >= 9 ? 1953125 : 1e9;
      this.nsDiv = resol.exponent >= 9 ? 2 ** (resol.exponent - 9) : 2 ** resol.exponent;
    }
  }

  /** Converts (hi, lo) into `this.sec` / `this.nsec` (if_tsoffset applied). */
  convert(hi: number, lo: number): void {
    const perSec = this.perSec;
    if (this.exact) {
      const h1 = hi >>> 16;
      const h0 = hi & 0xffff;
      let rem = h1 * this.mod48 + h0 * this.mod32 + lo;
      const carry = Math.floor(rem / perSec);
      rem -= carry * perSec;
      this.sec = h1 * this.div48 + h0 * this.div32 + carry + this.offsetSec;
      this.nsec = Math.floor((rem * this.nsMul) / this.nsDiv);
    } else {
      const units = hi * TWO_32 + lo;
      const sec = Math.floor(units / perSec);
      this.sec = sec + this.offsetSec;
      this.nsec = Math.min(999_999_999, Math.max(0, Math.floor(((units - sec * perSec) / perSec) * 1e9)));
    }
  }
}
