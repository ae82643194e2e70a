/**
 * ISN predictability: how well an observer who saw some of a host's initial sequence numbers could
 * guess the next one (the precondition for blind spoofing and blind reset attacks).
 *
 * The measures follow nmap's OS-detection SEQ test (https://nmap.org/book/osdetect-methods.html):
 * - diff: the distance between consecutive ISNs modulo 2^32, the shorter way round (nmap's DIFF1);
 * - gcd:  the greatest common divisor of those distances (GCD);
 * - rate: average increments per second (ISR = round(8 * log2(rate)));
 * - sp:   sequence predictability, round(8 * log2(stddev of the per-second rates, divided by the GCD
 *         when GCD > 9)), 0 when that stddev <= 1 (SP).
 * nmap computes these from six probes 100 ms apart; here the samples are whatever SYNs and SYN/ACKs a
 * capture holds, so the spacing is irregular. That is why the class is decided from deltas and rates
 * separately (a fixed step per connection vs. a fixed step per second), not from SP alone.
 *
 * This module is pure: no I/O, no DuckDB. Callers group samples per (host, role) and pass them in time order.
 */

export interface IsnSample {
  /** Seconds (any epoch) of the packet carrying the ISN. */
  ts: number;
  /** Unsigned 32-bit ISN. */
  isn: number;
}

/**
 * - constant: every ISN equal.
 * - incremental: every step a small positive multiple of one fixed increment, whatever the time between
 *   connections (old BSD's 64K rule, "i800", +1 per connection).
 * - time-dependent: ISNs grow at a steady rate per second (a clock, e.g. 250 000/s) regardless of how
 *   many connections happened in between.
 * - random: neither; the next ISN cannot be guessed from the previous ones and the time (Linux,
 *   RFC 6528 hashed ISNs, whose per-connection hash term makes consecutive ISNs to different peers
 *   or ports look uniformly random).
 * - insufficient: fewer than MIN_SAMPLES distinct connections; no class is claimed.
 */
export type IsnClass = 'constant' | 'incremental' | 'time-dependent' | 'random' | 'insufficient';

export interface IsnAssessment {
  samples: number;
  /** Signed steps isn[i+1] - isn[i] taken modulo 2^32 into [-2^31, 2^31). */
  deltas: number[];
  /** nmap's DIFF1: the shorter distance round the 2^32 circle, always >= 0. */
  diffs: number[];
  gcd: number;
  /** Average increments per second over the pairs with a positive time gap (nmap's rate), or null. */
  ratePerSec: number | null;
  /** nmap's ISR: round(8 * log2(rate)), 0 when rate < 1. */
  isr: number | null;
  /** nmap's SP (sequence predictability index); higher is harder to predict. */
  sp: number | null;
  class: IsnClass;
  /** nmap's wording for the difficulty of guessing, from SP. */
  difficulty: string;
  /** One line saying why the class was chosen (e.g. "every step is 1 x 64000"). */
  reason: string;
}

/** nmap asks for 6 probes; fewer than 4 samples (3 steps) cannot tell a pattern from chance. */
export const MIN_SAMPLES = 4;
/** An incremental generator's steps are at most this many increments (other connections in between). */
export const MAX_INCREMENT_MULTIPLE = 16;
/** A time-dependent generator's per-second rate varies by at most this fraction (stddev / mean). */
export const MAX_RATE_VARIATION = 0.1;

const TWO32 = 4294967296;

function signedStep(from: number, to: number): number {
  const d = (to - from) % TWO32;
  const u = d < 0 ? d + TWO32 : d;
  return u >= 2147483648 ? u - TWO32 : u;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

function mean(xs: number[]): number {
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}

/** Sample standard deviation (n - 1), as nmap divides by the number of rates minus one. */
function stddev(xs: number[], m: number): number {
  if (xs.length < 2) return 0;
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) * (x - m), 0) / (xs.length - 1));
}

/** nmap's wording (FPEngine/osscan: seqidx2difficultystr) mapped onto SP. */
export function difficultyOf(sp: number | null): string {
  if (sp === null) return 'unknown';
  if (sp < 3) return 'Trivial joke';
  if (sp < 6) return 'Easy';
  if (sp < 11) return 'Medium';
  if (sp < 12) return 'Formidable';
  if (sp < 16) return 'Worthy challenge';
  return 'Good luck!';
}

/**
 * Assesses one generator: the ISNs one host chose in one role (its SYNs, or its SYN/ACKs), one sample per
 * connection (retransmitted SYNs repeat the ISN and must be left out by the caller), in time order.
 */
export function assessIsn(samples: readonly IsnSample[]): IsnAssessment {
  const n = samples.length;
  const deltas: number[] = [];
  const diffs: number[] = [];
  const rates: number[] = [];
  let g = 0;
  for (let i = 0; i + 1 < n; i++) {
    const step = signedStep(samples[i]!.isn, samples[i + 1]!.isn);
    const diff = Math.abs(step);
    deltas.push(step);
    diffs.push(diff);
    g = gcd(g, diff);
    const dt = samples[i + 1]!.ts - samples[i]!.ts;
    if (dt > 0) rates.push(diff / dt);
  }
  const ratePerSec = rates.length > 0 ? mean(rates) : null;
  const isr = ratePerSec === null ? null : ratePerSec < 1 ? 0 : Math.round(8 * Math.log2(ratePerSec));
  let sp: number | null = null;
  if (rates.length >= 2 && ratePerSec !== null) {
    const divisor = g > 9 ? g : 1;
    const sd = stddev(rates.map((r) => r / divisor), ratePerSec / divisor);
    sp = sd <= 1 ? 0 : Math.round(8 * Math.log2(sd));
  }
  const base = { samples: n, deltas, diffs, gcd: g, ratePerSec, isr, sp };
  const result = (cls: IsnClass, reason: string, spOverride?: number): IsnAssessment => {
    const spFinal = spOverride ?? sp;
    return { ...base, sp: spFinal, class: cls, difficulty: difficultyOf(spFinal), reason };
  };

  if (n < MIN_SAMPLES) return result('insufficient', `${n} ISN sample(s); at least ${MIN_SAMPLES} are needed`);
  if (g === 0) return result('constant', `all ${n} ISNs are ${samples[0]!.isn}`, 0);

  const allForward = deltas.every((d) => d > 0);
  const multiples = diffs.map((d) => d / g);
  if (allForward && Math.max(...multiples) <= MAX_INCREMENT_MULTIPLE) {
    const steps = [...new Set(multiples)].sort((a, b) => a - b).join(',');
    // SP from per-second rates misjudges a per-connection counter sampled at irregular times: apply
    // nmap's formula to the steps themselves (in units of the GCD), which is what an attacker guesses.
    const sd = stddev(multiples, mean(multiples));
    return result('incremental', `every step is a small multiple (${steps}) of ${g}`, sd <= 1 ? 0 : Math.round(8 * Math.log2(sd)));
  }
  if (allForward && rates.length === deltas.length && ratePerSec !== null && ratePerSec > 0) {
    const variation = stddev(rates, ratePerSec) / ratePerSec;
    if (variation <= MAX_RATE_VARIATION) {
      return result('time-dependent', `ISNs grow ${Math.round(ratePerSec)}/s, varying ${(variation * 100).toFixed(1)}% between connections`);
    }
  }
  const forwardShare = deltas.filter((d) => d > 0).length / deltas.length;
  const shape = allForward ? 'random positive increments' : `steps of both signs (${Math.round(forwardShare * 100)}% forward)`;
  return result('random', `${shape}; no fixed step (gcd ${g}) and no steady rate`);
}
