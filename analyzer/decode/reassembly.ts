/**
 * IP fragment reassembly, the way tshark does it with its defaults (ip.defragment, ipv6.defragment on;
 * ip.check_checksum off): a fragment whose bytes were all captured joins a reassembly, and the TCP header
 * of the datagram shows on the frame that completes it, not on the first fragment. A fragment cut short by
 * the snaplen is not reassembled: its first fragment is decoded on its own, later ones carry nothing.
 *
 * This is the only state the decoder keeps between frames. It is bounded (at most MAX_PENDING datagrams
 * in progress, oldest dropped first) and only the first HEAD_BYTES of each datagram are kept: enough for
 * any chain of tunnel headers down to TCP and its options, since only headers are decoded.
 */
export const HEAD_BYTES = 512;
const MAX_PENDING = 256;
const MAX_RANGES = 64;

interface Pending {
  head: Uint8Array;
  /** Byte ranges [start, end) received so far, kept sorted and merged. */
  ranges: number[];
  /** Length of the whole payload, known once the last fragment (no "more fragments") arrived. */
  total: number;
}

/** The head of a completed datagram's payload; valid until the next call to FragmentTable.add. */
export const completed = { head: new Uint8Array(0) as Uint8Array, length: 0 };

/**
 * The datagrams in progress of one capture. Each FrameDecoder owns one, so a capture that ends with a
 * datagram half received can never complete it with fragments of another capture.
 */
export class FragmentTable {
  private readonly pending = new Map<string, Pending>();

  /**
   * Adds one fragment's payload d[off, off+len) at byte `start` of the datagram. Returns true when this
   * fragment completes the datagram: then `completed` holds its payload head and full length.
   */
  add(key: string, start: number, more: boolean, d: Uint8Array, off: number, len: number): boolean {
    return addFragment(this.pending, key, start, more, d, off, len);
  }
}

function addFragment(pending: Map<string, Pending>, key: string, start: number, more: boolean, d: Uint8Array, off: number, len: number): boolean {
  let entry = pending.get(key);
  if (entry === undefined) {
    if (pending.size >= MAX_PENDING) pending.delete(pending.keys().next().value as string);
    entry = { head: new Uint8Array(HEAD_BYTES), ranges: [], total: -1 };
    pending.set(key, entry);
  }
  const end = start + len;
  if (start < HEAD_BYTES) {
    const n = Math.min(end, HEAD_BYTES) - start;
    entry.head.set(d.subarray(off, off + n), start);
  }
  if (!more) entry.total = end;
  addRange(entry.ranges, start, end);
  if (entry.total >= 0 && entry.ranges.length === 2 && entry.ranges[0] === 0 && entry.ranges[1]! >= entry.total) {
    pending.delete(key);
    completed.head = entry.head;
    completed.length = entry.total;
    return true;
  }
  if (entry.ranges.length > MAX_RANGES) pending.delete(key);
  return false;
}

function addRange(ranges: number[], start: number, end: number): void {
  if (end <= start) return;
  ranges.push(start, end);
  // Few fragments per datagram: sort pairs and merge in place.
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < ranges.length; i += 2) pairs.push([ranges[i]!, ranges[i + 1]!]);
  pairs.sort((a, b) => a[0] - b[0]);
  ranges.length = 0;
  for (const [s, e] of pairs) {
    const last = ranges.length - 1;
    if (last > 0 && s <= ranges[last]!) {
      if (e > ranges[last]!) ranges[last] = e;
    } else {
      ranges.push(s, e);
    }
  }
}
