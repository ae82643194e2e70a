/**
 * What to call each output file and when each -G period ends, following tcpdump's -C/-G/-W. The per-packet
 * rule (does this packet start a new file?) is the drain thread's alone (native/src/epb_file.cc
 * ShouldRotate, given -C in bytes and deadlineNs below), and is tested through it (test/recorder/sink.test.ts).
 *
 * Names, as tcpdump's: without -W the first file is OUT and the next OUT1, OUT2, ...; with -W every
 * file is numbered, padded to the width of W-1 (OUT0 ... OUT9 for -W 10).
 * -C MB: rotate once the current file holds at least MB x 1,000,000 bytes (checked before each packet);
 * with -W the names cycle, overwriting the oldest. -G S: rotate when a packet is S seconds or more
 * past the file's start; with -W and no -C, recording stops after W files (tcpdump does the same).
 */

export interface RotationOptions {
  /** The -w name. */
  base: string;
  /** -C in bytes (tcpdump's -C is in millions of bytes). */
  maxBytes?: number;
  /** -G in seconds. */
  maxSeconds?: number;
  /** -W: number of files. */
  maxFiles?: number;
}

export class Rotation {
  readonly options: Readonly<RotationOptions>;
  #count = 0;
  #fileStartNs: bigint | null = null;
  #periodNs: bigint | null;
  #digits: number;

  constructor(options: RotationOptions) {
    this.options = { ...options };
    this.#periodNs = options.maxSeconds ? BigInt(Math.round(options.maxSeconds * 1e9)) : null;
    this.#digits = options.maxFiles ? String(Math.max(0, options.maxFiles - 1)).length : 0;
  }

  /** True when any rotation option is set. */
  get enabled(): boolean {
    return this.options.maxBytes !== undefined || this.#periodNs !== null;
  }

  /** Files opened so far (the current one included). */
  get filesOpened(): number {
    return this.#count;
  }

  /** The name of the n-th file (0-based) in tcpdump's scheme. */
  fileName(n: number): string {
    const { base, maxFiles, maxBytes } = this.options;
    if (maxFiles) {
      const slot = maxBytes !== undefined ? n % maxFiles : n;
      return `${base}${String(slot).padStart(this.#digits, '0')}`;
    }
    return n === 0 ? base : `${base}${n}`;
  }

  /**
   * Under -G, the time from which a packet belongs in the next file (the drain thread's time rule);
   * null without -G.
   */
  get deadlineNs(): bigint | null {
    return this.#periodNs !== null && this.#fileStartNs !== null ? this.#fileStartNs + this.#periodNs : null;
  }

  /** Path of the first file; `startNs` starts its -G period. */
  first(startNs: bigint): string {
    this.#count = 1;
    this.#fileStartNs = startNs;
    return this.fileName(0);
  }

  /** Path of the next file, or null when -G with -W has produced all its files and recording should end. */
  next(tsNs: bigint): string | null {
    const { maxFiles, maxBytes } = this.options;
    if (maxFiles && maxBytes === undefined && this.#periodNs !== null && this.#count >= maxFiles) return null;
    const name = this.fileName(this.#count);
    this.#count++;
    // A -G period starts where the previous one ended, so periods do not drift with packet arrival.
    if (this.#periodNs !== null && this.#fileStartNs !== null) {
      while (tsNs - this.#fileStartNs >= this.#periodNs) this.#fileStartNs += this.#periodNs;
    } else {
      this.#fileStartNs = tsNs;
    }
    return name;
  }
}
