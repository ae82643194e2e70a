/**
 * The one place the loader meets the sequence analysis (engineer "seq", analyzer/seq/index.ts): each TCP
 * segment is pushed during the load pass, and every flag raised comes back as (frame, flag code) to be
 * appended to tcp_analysis. Kept apart so the loader does not depend on the analyzer's internals.
 */
import type { DecodedPacket } from '../decode/types.js';

export type OnFlag = (frame: number, code: number) => void;

export interface FlagSource {
  push(frame: number, tsSec: number, tsNsec: number, pkt: DecodedPacket): void;
  /** End of the capture: flags decided late (if any) are delivered now. */
  finish(): void;
}

/** Until the sequence analyzer is wired in, no flags are raised (tcp_analysis stays empty). */
export function createFlagSource(_onFlag: OnFlag): FlagSource {
  return { push() {}, finish() {} };
}
