/**
 * The one place the loader meets the sequence analysis (engineer "seq", analyzer/seq): each TCP segment
 * is pushed during the load pass, and every flag raised comes back as (frame, flag code) to be appended
 * to tcp_analysis. The codes are SEQ_FLAGS indexes, which is also the tcp_flag ENUM's order.
 */
import type { DecodedPacket } from '../decode/types.js';
import { SequenceAnalyzer } from '../seq/index.js';

export type OnFlag = (frame: number, code: number) => void;

export interface FlagSource {
  push(frame: number, tsSec: number, tsNsec: number, pkt: DecodedPacket): void;
  /** End of the capture. */
  finish(): void;
}

/** A fresh analyzer per capture (connections never span captures); flags stream out, none are kept. */
export function createFlagSource(onFlag: OnFlag): FlagSource {
  const analyzer = new SequenceAnalyzer({ onFlag, collect: false });
  return {
    push(frame, tsSec, tsNsec, pkt) {
      analyzer.push(frame, tsSec, tsNsec, pkt);
    },
    finish() {},
  };
}
