/**
 * The compact result of a sequence analysis: one (frame, flag code) pair per raised flag, in frame order,
 * in two parallel typed arrays that grow by doubling. This is what the DuckDB loader appends into
 * `tcp_analysis(capture_id, frame, flag)` and what `tcplens seq --frames` prints.
 */
import { SEQ_FLAGS, type SeqFlag } from './flags.js';

export class FlagRows {
  frames = new Uint32Array(1024);
  codes = new Uint8Array(1024);
  length = 0;

  add(frame: number, code: number): void {
    if (this.length === this.frames.length) {
      const frames = new Uint32Array(this.length * 2);
      frames.set(this.frames);
      this.frames = frames;
      const codes = new Uint8Array(this.length * 2);
      codes.set(this.codes);
      this.codes = codes;
    }
    this.frames[this.length] = frame;
    this.codes[this.length] = code;
    this.length++;
  }

  flagAt(i: number): SeqFlag {
    return SEQ_FLAGS[this.codes[i]!]!;
  }

  /** Views trimmed to the rows actually written. */
  trimmed(): { frames: Uint32Array; codes: Uint8Array } {
    return { frames: this.frames.subarray(0, this.length), codes: this.codes.subarray(0, this.length) };
  }
}
