/**
 * Private network namespaces for tests that need a real network path. Every address used lives inside
 * namespaces made here (10.199.0.0/16 and fd00:199::/64 on a veth pair between them), so no traffic can
 * leave the machine. Everything a test starts is tracked by PID and killed, and the namespaces deleted,
 * even when the test fails (cleanup also runs on process exit).
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

let counter = 0;
const liveNamespaces = new Set<string>();
const liveChildren = new Set<ChildProcess>();

function ip(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Why namespaces cannot be used here, or null when they can (they need root and iproute2). */
export function netnsUnavailableReason(): string | null {
  if (process.getuid?.() !== 0) return 'network namespaces need root (CI runs as root)';
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return 'iproute2 (ip) is not installed';
  }
  return null;
}

export interface NetnsPair {
  /** Namespace names: `a` is the client/scanner side, `b` the server side. */
  a: string;
  b: string;
  /** veth ends: vethA lives in a, vethB in b. */
  vethA: string;
  vethB: string;
  addrA: string;
  addrB: string;
  addr6A: string;
  addr6B: string;
  /** Runs a command inside a namespace to completion and returns its stdout. */
  exec(ns: string, cmd: string, args: string[], timeoutMs?: number): string;
  /** Starts a command inside a namespace; it is killed at cleanup if still running. */
  spawn(ns: string, cmd: string, args: string[], opts?: SpawnOptions): ChildProcess;
  /** Adds extra IPv4 addresses (e.g. one source per scan) to a side: host part from `first`, /16 net. */
  addAddresses(ns: string, dev: string, hosts: string[]): void;
}

function killTracked(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(child.pid, signal);
    } catch {
      /* already gone */
    }
  }
  liveChildren.delete(child);
}

function cleanupAll(): void {
  for (const child of [...liveChildren]) killTracked(child);
  for (const ns of [...liveNamespaces]) {
    try {
      ip(['netns', 'del', ns]);
    } catch {
      /* already gone */
    }
    liveNamespaces.delete(ns);
  }
}
process.once('exit', cleanupAll);

/**
 * Makes two namespaces joined by a veth pair, runs `fn`, then removes everything. Offload is turned off on
 * both ends so captured segments are the segments on the wire (no 64 KiB GSO super-packets).
 */
export async function withNetnsPair<T>(fn: (pair: NetnsPair) => Promise<T>, opts: { mtu?: number } = {}): Promise<T> {
  const id = `${process.pid % 100000}x${counter++}`;
  const a = `tla${id}`;
  const b = `tlb${id}`;
  const vethA = `va${id}`.slice(0, 15);
  const vethB = `vb${id}`.slice(0, 15);
  const addrA = '10.199.0.1';
  const addrB = '10.199.0.2';
  const addr6A = 'fd00:199::1';
  const addr6B = 'fd00:199::2';
  const mine = new Set<ChildProcess>();
  const pair: NetnsPair = {
    a, b, vethA, vethB, addrA, addrB, addr6A, addr6B,
    exec(ns, cmd, args, timeoutMs = 120_000) {
      return execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 1 << 28 });
    },
    spawn(ns, cmd, args, spawnOpts = {}) {
      const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...spawnOpts });
      liveChildren.add(child);
      mine.add(child);
      child.on('exit', () => liveChildren.delete(child));
      return child;
    },
    addAddresses(ns, dev, hosts) {
      for (const h of hosts) ip(['-n', ns, 'addr', 'add', `${h}/16`, 'dev', dev]);
    },
  };
  try {
    for (const ns of [a, b]) {
      ip(['netns', 'add', ns]);
      liveNamespaces.add(ns);
      ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    ip(['link', 'add', vethA, 'netns', a, 'type', 'veth', 'peer', 'name', vethB, 'netns', b]);
    for (const [ns, dev, v4, v6] of [[a, vethA, addrA, addr6A], [b, vethB, addrB, addr6B]] as const) {
      ip(['-n', ns, 'addr', 'add', `${v4}/16`, 'dev', dev]);
      ip(['-n', ns, 'addr', 'add', `${v6}/64`, 'dev', dev, 'nodad']);
      if (opts.mtu) ip(['-n', ns, 'link', 'set', dev, 'mtu', String(opts.mtu)]);
      ip(['-n', ns, 'link', 'set', dev, 'up']);
      // Without this the kernel may hand captures 64 KiB super-segments that never crossed a wire, and
      // tcpdump-vs-tcplens comparisons would test offload behaviour instead of our code: fail loudly.
      try {
        execFileSync('ip', ['netns', 'exec', ns, 'ethtool', '-K', dev, 'tso', 'off', 'gso', 'off', 'gro', 'off'], { stdio: 'ignore' });
      } catch (err) {
        throw new Error(`turning off segmentation offload on ${dev} failed (is ethtool installed? .ci/run installs it): ${(err as Error).message}`);
      }
    }
    return await fn(pair);
  } finally {
    for (const child of mine) killTracked(child);
    for (const ns of [a, b]) {
      try {
        ip(['netns', 'del', ns]);
      } catch {
        /* never created */
      }
      liveNamespaces.delete(ns);
    }
  }
}
