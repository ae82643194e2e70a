/**
 * The one place the loader meets the sequence analysis (engineer "seq", analyzer/seq): each TCP segment
 * is pushed during the load pass, and every flag raised comes back as (frame, flag code) to be appended
 * to tcp_analysis. The codes are SEQ_FLAGS indexes, which is also the tcp_flag ENUM's order.
 */
import type { DecodedPacket } from '../decode/types.js';
import { SequenceAnalyzer, type SegmentValues } from '../seq/index.js';

export type OnFlag = (frame: number, code: number) => void;

export interface FlagSource {
  /** `capturedLength`: the frame's captured bytes (a header cut before its window is skipped, as tshark does). */
  push(frame: number, tsSec: number, tsNsec: number, pkt: DecodedPacket, capturedLength?: number): void;
  /** tshark's per-segment values of the segment just pushed (reused object). */
  readonly segment: SegmentValues;
  /** End of the capture. */
  finish(): void;
}

/** A fresh analyzer per capture (connections never span captures); flags stream out, none are kept. */
export function createFlagSource(onFlag: OnFlag): FlagSource {
  const analyzer = new SequenceAnalyzer({ onFlag, collect: false });
  return {
    push(frame, tsSec, tsNsec, pkt, capturedLength) {
      analyzer.push(frame, tsSec, tsNsec, pkt, capturedLength);
    },
    segment: analyzer.segment,
    finish() {},
  };
}
