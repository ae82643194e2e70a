/**
 * Per-frame comparison of our decoder (fed by our reader) with tshark, the oracle, on one capture.
 * Shared by the corpus tests; not a test file itself.
 */
import { DecodeStatus, FrameDecoder, newDecodedPacket } from '../../analyzer/decode/index.js';
import { readCapture } from '../../analyzer/readers/index.js';
import { tshark } from '../support/tshark.js';


/** The frames tshark counts as TCP: a TCP header at any depth, except one quoted inside an ICMP error. */
export const TSHARK_TCP_FILTER = 'tcp && !icmp && !icmpv6';

/** The fields compared, in order, as both sides print them. */
export const FIELDS = ['sport', 'dport', 'seq', 'ack', 'flags', 'len', 'win'] as const;
type Field = (typeof FIELDS)[number];
/**
 * TCP options, compared on frames with a single TCP header (tshark's lists of option values would mix
 * the headers of several). A header may repeat an option: ours keeps the last, so the last is compared.
 */
export const OPTION_FIELDS = ['mss', 'wscale', 'sack_perm', 'tsval', 'tsecr', 'sack'] as const;
type OptionField = (typeof OPTION_FIELDS)[number];

export interface OurFrame {
  frame: number;
  src: string;
  dst: string;
  values: Record<Field, string>;
  options: Record<OptionField, string>;
}

export interface OurDecode {
  frames: Map<number, OurFrame>;
  statusCounts: number[];
  readError: string | null;
}

/** Reads the capture with readCapture and decodes every frame; keeps the TCP ones as printable values. */
export async function decodeCapture(path: string): Promise<OurDecode> {
  const out = newDecodedPacket();
  const frames = new Map<number, OurFrame>();
  const statusCounts = [0, 0, 0, 0];
  const decoder = new FrameDecoder();
  const result = await readCapture(path, (pkt) => {
    // As the commands decode: in place, in the reader's window.
    const status = decoder.decodePacket(pkt, out);
    statusCounts[status]!++;
    if (status !== DecodeStatus.Tcp) return;
    const tsharkFlags = ((out.reserved & 0x0f) << 8) | out.flags;
    frames.set(pkt.frame, {
      frame: pkt.frame,
      src: out.src,
      dst: out.dst,
      values: {
        sport: String(out.sport),
        dport: String(out.dport),
        seq: String(out.seq),
        ack: String(out.ack),
        flags: `0x${tsharkFlags.toString(16).padStart(4, '0')}`,
        len: String(out.payloadLen),
        win: String(out.win),
      },
      options: {
        mss: out.mss < 0 ? '' : String(out.mss),
        wscale: out.wscale < 0 ? '' : String(out.wscale),
        sack_perm: out.sackPerm ? '1' : '',
        tsval: out.tsval < 0 ? '' : String(out.tsval),
        tsecr: out.tsecr < 0 ? '' : String(out.tsecr),
        sack: out.sackBlocks ? out.sackBlocks.join(',') : '',
      },
    });
  });
  return { frames, statusCounts, readError: result.error ? result.error.message : null };
}

export interface TsharkFrame {
  frame: number;
  /** Every IPv4 and IPv6 address in the frame, outer to inner. */
  addresses: string[];
  /** Each field's values, one per TCP header in the frame (outer first); '' where tshark printed none. */
  values: Record<Field, string[]>;
  options: Record<OptionField, string>;
}

/** tshark's view of every TCP frame: all occurrences of each field (tunnels and nested TCP give several). */
export async function tsharkCapture(path: string): Promise<Map<number, TsharkFrame>> {
  const fields = ['frame.number', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst', 'tcp.srcport', 'tcp.dstport',
    'tcp.seq', 'tcp.ack', 'tcp.flags', 'tcp.len', 'tcp.window_size_value',
    'tcp.options.mss_val', 'tcp.options.wscale.shift', 'tcp.options.sack_perm', 'tcp.options.timestamp.tsval',
    'tcp.options.timestamp.tsecr', 'tcp.options.sack_le', 'tcp.options.sack_re'];
  const args = ['-n', '-r', path, '-o', 'tcp.relative_sequence_numbers:FALSE', '-Y', TSHARK_TCP_FILTER,
    '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  for (const f of fields) args.push('-e', f);
  const { stdout } = await tshark(args);
  const frames = new Map<number, TsharkFrame>();
  for (const line of stdout.split('\n')) {
    if (line.length === 0) continue;
    const c = line.split('\t');
    const list = (i: number): string[] => (c[i] ? c[i]!.split(',') : []);
    const frame = Number(c[0]);
    frames.set(frame, {
      frame,
      addresses: [...list(1), ...list(2), ...list(3), ...list(4)],
      values: {
        sport: list(5), dport: list(6), seq: list(7), ack: list(8), flags: list(9), len: list(10), win: list(11),
      },
      options: {
        mss: list(12).at(-1) ?? '',
        wscale: list(13).at(-1) ?? '',
        // tshark prints the (empty) SACK-permitted option as a bare presence marker.
        sack_perm: list(14).length > 0 ? '1' : '',
        tsval: list(15).at(-1) ?? '',
        tsecr: list(16).at(-1) ?? '',
        sack: list(17).map((le, i) => `${le},${list(18)[i] ?? ''}`).join(','),
      },
    });
  }
  return frames;
}

export interface Mismatch {
  file: string;
  frame: number;
  ours: string;
  theirs: string;
}

function describeOptions(o: Record<OptionField, string>): string {
  return OPTION_FIELDS.filter((k) => o[k] !== '').map((k) => `${k}=${o[k]}`).join(' ');
}

function describeOurs(f: OurFrame | undefined): string {
  if (!f) return 'not TCP';
  return `${f.src}:${f.values.sport} > ${f.dst}:${f.values.dport} ` + FIELDS.slice(2).map((k) => `${k}=${f.values[k]}`).join(' ') +
    ` ${describeOptions(f.options)}`;
}

function describeTheirs(t: TsharkFrame | undefined): string {
  if (!t) return 'not TCP';
  const n = t.values.sport.length;
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(FIELDS.map((k) => `${k}=${t.values[k][i] ?? ''}`).join(' '));
  return `[${t.addresses.join(' ')}] ${parts.join(' | ')} ${describeOptions(t.options)}`;
}

/**
 * Our TCP header must be one of tshark's TCP headers in the frame (the innermost one normally; a frame
 * that carries TCP inside a TCP payload, such as OpenFlow or a TLS-wrapped A-MSDU, shows several), with
 * every field equal at the same position. tshark leaves a field empty where it does not print it
 * (tcp.len on a bogus header length): such a field is not compared.
 */
function sameFrame(ours: OurFrame, theirs: TsharkFrame): boolean {
  if (!theirs.addresses.includes(ours.src) || !theirs.addresses.includes(ours.dst)) return false;
  const n = theirs.values.sport.length;
  if (n === 1 && OPTION_FIELDS.some((k) => ours.options[k] !== theirs.options[k])) return false;
  for (let i = n - 1; i >= 0; i--) {
    let all = true;
    for (const k of FIELDS) {
      const t = theirs.values[k][i];
      if (t === undefined || t === '') continue;
      if (t !== ours.values[k]) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

/** Compares one capture frame by frame; `fields` false compares only which frames are TCP. */
export function compareFrames(file: string, ours: OurDecode, theirs: Map<number, TsharkFrame>, fields: boolean): Mismatch[] {
  const mismatches: Mismatch[] = [];
  const frames = new Set<number>([...ours.frames.keys(), ...theirs.keys()]);
  for (const frame of [...frames].sort((a, b) => a - b)) {
    const o = ours.frames.get(frame);
    const t = theirs.get(frame);
    if (!o || !t || (fields && !sameFrame(o, t))) {
      mismatches.push({ file, frame, ours: describeOurs(o), theirs: describeTheirs(t) });
    }
  }
  return mismatches;
}

export function mismatchTable(mismatches: Mismatch[], limit = 200): string {
  const rows = mismatches.slice(0, limit).map((m) => `${m.file}  frame ${m.frame}\n    ours:   ${m.ours}\n    tshark: ${m.theirs}`);
  const more = mismatches.length > limit ? `\n... and ${mismatches.length - limit} more` : '';
  return `file  frame / ours vs tshark\n${rows.join('\n')}${more}`;
}

/** Runs `fn` over `items` with at most `limit` in flight: tshark is CPU-heavy and the machine is shared. */
export async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await fn(item);
    }
  });
  await Promise.all(workers);
}
