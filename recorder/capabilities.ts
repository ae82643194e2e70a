/**
 * Which capability `record` lacks, named, before anything is opened: an AF_PACKET socket needs
 * CAP_NET_RAW, loading the BPF program and creating its maps needs CAP_BPF (CAP_SYS_ADMIN before Linux
 * 5.8), and the verifier accepts the program only with CAP_PERFMON too: without it, Spectre v1 masking
 * refuses the pointer arithmetic of the record's two layouts (Linux 6.18: "pointer arithmetic with it
 * prohibited for !root"), and reading a packet's own timestamp from the kernel's sk_buff needs it.
 * CAP_SYS_ADMIN implies both. Without the check the kernel's refusals read like other faults (a map that
 * cannot be created looks like a kernel without the BPF ring buffer). Read from /proc/self/status
 * (capget's effective set).
 */
import { readFileSync } from 'node:fs';

const CAP_NET_RAW = 13n;
const CAP_SYS_ADMIN = 21n;
const CAP_PERFMON = 38n;
const CAP_BPF = 39n;

/** The effective capability set, or null where it cannot be read (then the kernel's errors speak). */
export function effectiveCapabilities(status?: string): bigint | null {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status ?? readFileSync('/proc/self/status', 'utf8'));
    return m ? BigInt(`0x${m[1]}`) : null;
  } catch {
    return null;
  }
}

/** One line naming what is missing, or null when every capability is there. */
export function missingCapability(eff: bigint | null = effectiveCapabilities()): string | null {
  if (eff === null) return null;
  const has = (cap: bigint): boolean => ((eff >> cap) & 1n) === 1n;
  const missing: string[] = [];
  if (!has(CAP_NET_RAW)) missing.push('CAP_NET_RAW (to open the AF_PACKET sockets)');
  if (!has(CAP_BPF) && !has(CAP_SYS_ADMIN)) missing.push('CAP_BPF (to load the BPF program and its maps; CAP_SYS_ADMIN before Linux 5.8)');
  if (!has(CAP_PERFMON) && !has(CAP_SYS_ADMIN)) missing.push('CAP_PERFMON (for the verifier to accept the program)');
  if (missing.length === 0) return null;
  const list = missing.length === 1 ? missing[0] : `${missing.slice(0, -1).join(', ')} and ${missing.at(-1)}`;
  return `record needs ${list}: run as root or grant ${missing.length > 1 ? 'them' : 'it'} (setcap, capsh, systemd AmbientCapabilities)`;
}
