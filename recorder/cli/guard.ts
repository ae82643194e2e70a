/**
 * The first code `tcplens record` runs (bin/tcplens.ts imports this module before anything else): the
 * recorder runs as root for hours, so no other local user may get into it through Node itself.
 *
 * - SIGUSR1 starts Node's inspector (a debugger on 127.0.0.1:9229 that runs any code it is sent) unless
 *   the process listens for SIGUSR1 itself. `process._debugProcess(pid)` from another Node process is
 *   the same signal. So a handler is installed here, at once, and never removed; it prints the capture
 *   counters, as tcpdump does on SIGUSR1. (Node 20 cannot close the few milliseconds of start-up before
 *   this line runs; Node >= 22.14 has --disable-sigusr1 for that.)
 * - A debugger asked for on the command line or in NODE_OPTIONS (--inspect, --inspect-brk,
 *   --inspect-port, --inspect-wait, --debug-port, ...) is already listening or armed when this runs:
 *   with privileges, refuse to record (exit 2) rather than record with it.
 * - --heapsnapshot-signal and --report-on-signal would make another user's signal write the recorder's
 *   memory (packet bytes) or its environment into a file: refused with privileges as well.
 * What cannot be closed from here is documented in docs/recorder.md ("Security").
 */
import inspector from 'node:inspector';
import { readFileSync } from 'node:fs';
import { signalReport } from '../signal-report.js';

/** True when the process can do what `record` needs (root, or any effective capability). */
export function privileged(): boolean {
  if (process.geteuid?.() === 0) return true;
  try {
    const eff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return eff !== null && BigInt(`0x${eff[1]}`) !== 0n;
  } catch {
    return false;
  }
}

const DEBUG_FLAG = /^--(inspect|debug|inspect-brk|inspect-port|inspect-wait|inspect-publish-uid|debug-port|debug-brk|heapsnapshot-signal|report-on-signal|report-signal)(=|$)/;

/** The options in NODE_OPTIONS and the command line that open the recorder to another user, if any. */
export function dangerousNodeOptions(env: NodeJS.ProcessEnv = process.env, execArgv: readonly string[] = process.execArgv): string[] {
  const words = [...(env['NODE_OPTIONS'] ?? '').split(/\s+/), ...execArgv].filter((w) => w.length > 0);
  return [...new Set(words.filter((w) => DEBUG_FLAG.test(w)).map((w) => w.split('=')[0]!))];
}

function refuse(line: string): never {
  process.stderr.write(`tcplens: ${line}\n`);
  process.exit(2);
}

/** Installs the SIGUSR1 handler and refuses a debugger; only for `record`. */
function guard(): void {
  process.on('SIGUSR1', () => {
    process.stderr.write(signalReport());
  });
  if (!privileged()) return;
  const found = dangerousNodeOptions();
  if (found.length > 0) refuse(`record runs with privileges and refuses ${found.join(', ')} (from NODE_OPTIONS or the node command line): another user could reach the process through it`);
  if (inspector.url() !== undefined) refuse('record runs with privileges and refuses to run with Node\'s inspector open');
  if (process.report) process.report.reportOnSignal = false;
}

if (process.argv[2] === 'record') guard();
