/**
 * Seeded mutations of capture bytes, the damage real files show: flipped bytes, a cut, length fields set
 * to extremes (the 32-bit block and record lengths of pcap/pcapng, the 16-bit IP and TCP lengths), a
 * slice duplicated, random bytes inserted. A case is a pure function of (seed, case number), so any
 * failure is replayed exactly from the two numbers it is reported with.
 */
import { gzipSync } from 'node:zlib';
import { prng } from '../support/prng.js';

export type MutationKind = 'flip' | 'cut' | 'length' | 'duplicate' | 'insert';
export const MUTATION_KINDS: readonly MutationKind[] = ['flip', 'cut', 'length', 'duplicate', 'insert'];

/** 32-bit values a length field turns into when it goes wrong; 16-bit ones below. */
const EXTREME_32 = [0xffffffff, 0x00000000, 0x7fffffff, 0x80000000, 0x0000ffff, 0x00010000, 0xfffffff0, 1, 4, 8, 12, 28];
const EXTREME_16 = [0xffff, 0x0000, 0x8000, 0x7fff, 0x0001, 0x0014, 0x0028];

export interface Input {
  name: string;
  bytes: Buffer;
}

export interface FuzzCase {
  seed: number;
  index: number;
  input: string;
  /** What was done, in order, for the failure report. */
  mutations: string[];
  /** Compressed after mutation (the decoder sees the damage through gzip) or before (gzip itself is damaged). */
  gzip: 'none' | 'after' | 'before';
  bytes: Buffer;
}

/** The generator of one case: independent of every other case. */
export function caseRandom(seed: number, index: number): () => number {
  return prng((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca77)) >>> 0);
}

export function makeCase(seed: number, index: number, inputs: readonly Input[]): FuzzCase {
  const rand = caseRandom(seed, index);
  const int = (n: number): number => Math.floor(rand() * n);
  const input = inputs[int(inputs.length)]!;
  const g = int(10);
  const gzip: FuzzCase['gzip'] = g === 0 ? 'after' : g === 1 ? 'before' : 'none';
  let bytes: Buffer = gzip === 'before' ? gzipSync(input.bytes) : Buffer.from(input.bytes);
  const mutations: string[] = [];
  const count = 1 + int(3);
  for (let i = 0; i < count; i++) {
    const kind = MUTATION_KINDS[int(MUTATION_KINDS.length)]!;
    bytes = applyMutation(kind, bytes, int, mutations);
  }
  if (gzip === 'after') bytes = gzipSync(bytes);
  return { seed, index, input: input.name, mutations, gzip, bytes };
}

function applyMutation(kind: MutationKind, bytes: Buffer, int: (n: number) => number, log: string[]): Buffer {
  const n = bytes.length;
  if (n === 0) return bytes;
  switch (kind) {
    case 'flip': {
      const flips = 1 + int(4);
      for (let i = 0; i < flips; i++) {
        const at = int(n);
        const mask = 1 + int(255);
        bytes[at] = bytes[at]! ^ mask;
        log.push(`flip byte ${at} ^ 0x${mask.toString(16)}`);
      }
      return bytes;
    }
    case 'cut': {
      const at = int(n);
      log.push(`cut at ${at} of ${n}`);
      return bytes.subarray(0, at);
    }
    case 'length': {
      // Length fields of the capture formats sit on 4-byte boundaries; header lengths inside frames do not.
      if (int(2) === 0 && n >= 4) {
        const at = int(Math.floor(n / 4)) * 4;
        const v = EXTREME_32[int(EXTREME_32.length)]!;
        const le = int(2) === 0;
        if (at + 4 <= n) {
          if (le) bytes.writeUInt32LE(v, at);
          else bytes.writeUInt32BE(v, at);
        }
        log.push(`u32${le ? 'le' : 'be'} at ${at} = 0x${v.toString(16)}`);
      } else if (n >= 2) {
        const at = int(n - 1);
        const v = EXTREME_16[int(EXTREME_16.length)]!;
        bytes.writeUInt16BE(v, at);
        log.push(`u16be at ${at} = 0x${v.toString(16)}`);
      }
      return bytes;
    }
    case 'duplicate': {
      const from = int(n);
      const len = 1 + int(Math.min(256, n - from));
      const to = int(n + 1);
      log.push(`duplicate ${len} bytes from ${from} at ${to}`);
      return Buffer.concat([bytes.subarray(0, to), bytes.subarray(from, from + len), bytes.subarray(to)]);
    }
    case 'insert': {
      const len = 1 + int(16);
      const to = int(n + 1);
      const extra = Buffer.alloc(len);
      for (let i = 0; i < len; i++) extra[i] = int(256);
      log.push(`insert ${len} random bytes at ${to}`);
      return Buffer.concat([bytes.subarray(0, to), extra, bytes.subarray(to)]);
    }
  }
}
