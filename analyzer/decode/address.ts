/**
 * Canonical address text, cached. A busy capture repeats the same few addresses millions of times, so
 * formatting each one anew would dominate decoding. Both caches are direct-mapped tables of fixed size:
 * a hit costs one hash and a compare and allocates nothing; a miss formats and overwrites one slot, so
 * memory stays bounded whatever the capture holds.
 *
 * The text is the one tshark prints: dotted quad for IPv4; for IPv6 the glibc inet_ntop form (lowercase,
 * leading zeros dropped, the longest run of two or more zero groups as "::", the first such run on a tie)
 * with IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) addresses ending in a dotted quad.
 */

const V4_SLOTS = 1 << 13;
const v4Keys = new Uint32Array(V4_SLOTS);
const v4Text: string[] = new Array<string>(V4_SLOTS).fill('');

const V6_SLOTS = 1 << 12;
const v6Keys = new Uint32Array(V6_SLOTS * 4);
const v6Text: string[] = new Array<string>(V6_SLOTS).fill('');

/** Formats an IPv4 address given as an unsigned 32-bit number. */
export function formatIpv4(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;
}

/** The canonical text of the IPv4 address stored at data[off..off+4). */
export function ipv4Text(data: Uint8Array, off: number): string {
  const a = ((data[off]! << 24) | (data[off + 1]! << 16) | (data[off + 2]! << 8) | data[off + 3]!) >>> 0;
  // Multiplicative hash: the low bytes of busy subnets differ most, so mix them into the slot index.
  const slot = Math.imul(a, 0x9e3779b1) >>> 19;
  const text = v4Text[slot]!;
  // An empty slot has key 0 and text '': 0.0.0.0 must still be formatted once, hence the length test.
  if (v4Keys[slot] === a && text.length !== 0) return text;
  const fresh = formatIpv4(a);
  v4Keys[slot] = a;
  v4Text[slot] = fresh;
  return fresh;
}

/** Formats the 16 bytes at data[off..off+16) as glibc's inet_ntop (which tshark uses) does. */
export function formatIpv6(data: Uint8Array, off: number): string {
  const words = [0, 0, 0, 0, 0, 0, 0, 0];
  for (let i = 0; i < 8; i++) words[i] = (data[off + 2 * i]! << 8) | data[off + 2 * i + 1]!;
  // Longest run of zero words (first one wins a tie); runs of one word are not compressed.
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (words[i] === 0) {
      if (curBase === -1) {
        curBase = i;
        curLen = 1;
      } else {
        curLen++;
      }
    } else if (curBase !== -1) {
      if (bestBase === -1 || curLen > bestLen) {
        bestBase = curBase;
        bestLen = curLen;
      }
      curBase = -1;
    }
  }
  if (curBase !== -1 && (bestBase === -1 || curLen > bestLen)) {
    bestBase = curBase;
    bestLen = curLen;
  }
  if (bestBase !== -1 && bestLen < 2) bestBase = -1;

  let text = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) text += ':';
      continue;
    }
    if (i !== 0) text += ':';
    // Embedded IPv4: ::a.b.c.d (compatible) or ::ffff:a.b.c.d (mapped).
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
      text += `${data[off + 12]}.${data[off + 13]}.${data[off + 14]}.${data[off + 15]}`;
      return text;
    }
    text += words[i]!.toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) text += ':';
  return text;
}

/** The canonical text of the IPv6 address stored at data[off..off+16). */
export function ipv6Text(data: Uint8Array, off: number): string {
  const w0 = ((data[off]! << 24) | (data[off + 1]! << 16) | (data[off + 2]! << 8) | data[off + 3]!) >>> 0;
  const w1 = ((data[off + 4]! << 24) | (data[off + 5]! << 16) | (data[off + 6]! << 8) | data[off + 7]!) >>> 0;
  const w2 = ((data[off + 8]! << 24) | (data[off + 9]! << 16) | (data[off + 10]! << 8) | data[off + 11]!) >>> 0;
  const w3 = ((data[off + 12]! << 24) | (data[off + 13]! << 16) | (data[off + 14]! << 8) | data[off + 15]!) >>> 0;
  const slot = Math.imul(w0 ^ Math.imul(w1, 31) ^ Math.imul(w2, 961) ^ Math.imul(w3, 0x9e3779b1), 0x85ebca6b) >>> 20;
  const k = slot * 4;
  const text = v6Text[slot]!;
  if (text.length !== 0 && v6Keys[k] === w0 && v6Keys[k + 1] === w1 && v6Keys[k + 2] === w2 && v6Keys[k + 3] === w3) {
    return text;
  }
  const fresh = formatIpv6(data, off);
  v6Keys[k] = w0;
  v6Keys[k + 1] = w1;
  v6Keys[k + 2] = w2;
  v6Keys[k + 3] = w3;
  v6Text[slot] = fresh;
  return fresh;
}
