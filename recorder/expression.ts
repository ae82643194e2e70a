/**
 * A filter expression (tcpdump's pcap-filter(7) language) for `record`: compiled by libpcap through the
 * addon for each link type the capture's frames can have, before anything is opened, so a bad expression
 * is a usage error (libpcap's own message, exit 2). The addon translates the result to eBPF and runs it in
 * the kernel before the snapshot goes into the ring (native/src/expression.h).
 */
import { UsageError } from '../common/errors.js';
import type { NativeBinding } from '../native/index.js';

export type FrameLink = 'ether' | 'raw';

export interface CompiledExpression {
  filterEther?: Buffer;
  filterRaw?: Buffer;
  /** Set when the expression does not apply to one link type that may occur (its packets are not recorded). */
  warning?: string;
}

/**
 * tcpdump's -F FILE: the file's text, `#` comments removed to the end of their line, as tcpdump reads it.
 */
export function expressionFromFile(text: string): string {
  return text.replace(/#[^\n]*/g, ' ').replace(/\s+/g, ' ').trim();
}

/**
 * Compiles (for Ethernet on a live handle of `device`, as tcpdump does) for the links in `required` (an error there is a usage error) and in `optional` (an error
 * there becomes a warning: `-i any` may or may not meet a raw-IP device).
 */
export function compileExpression(native: NativeBinding, expression: string, snaplen: number, device: string, required: FrameLink[], optional: FrameLink[]): CompiledExpression {
  const out: CompiledExpression = {};
  const compile = (link: FrameLink): Buffer => native.compileFilter(expression, link, snaplen, device);
  for (const link of new Set(required)) {
    try {
      out[link === 'ether' ? 'filterEther' : 'filterRaw'] = compile(link);
    } catch (err) {
      throw new UsageError(`filter expression '${expression}': ${(err as Error).message}`);
    }
  }
  for (const link of optional) {
    if (required.includes(link)) continue;
    try {
      out[link === 'ether' ? 'filterEther' : 'filterRaw'] = compile(link);
    } catch (err) {
      out.warning = `the filter expression does not apply to ${link === 'raw' ? 'raw-IP (tun, wireguard)' : 'Ethernet'} interfaces (${(err as Error).message}): their packets are not recorded`;
    }
  }
  return out;
}
