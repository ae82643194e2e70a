/**
 * Starting and stopping the real tools tests run inside their network namespaces (tcpdump, tcplens record,
 * servers): wait until a process says it is ready, stop it by PID with a bounded wait, and record traffic
 * with tcpdump. One implementation for every test area, so a fix (like --immediate-mode) reaches all.
 */
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NetnsPair } from './netns.js';

/** A unique path in the temp directory. */
export function tmpFile(name: string): string {
  return path.join(tmpdir(), `tcplens-test-${process.pid}-${randomBytes(4).toString('hex')}-${name}`);
}

export interface Started {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts a process in a namespace and resolves once its stderr or stdout shows `ready` (or rejects on exit/timeout). */
export function startAndWait(pair: NetnsPair, ns: string, cmd: string, args: string[], ready: RegExp, timeoutMs = 20_000): Promise<Started> {
  const child = pair.spawn(ns, cmd, args);
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} not ready after ${timeoutMs} ms; stderr: ${err}`)), timeoutMs);
    let out = '';
    const check = (): void => {
      if (ready.test(err) || ready.test(out)) {
        clearTimeout(timer);
        resolve({ child, stderr: () => err, exited });
      }
    };
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      check();
    });
    // Some tools announce readiness on stdout (python's http.server); keep only a bounded tail.
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out = (out + d).slice(-4096);
      check();
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited (${code}) before it was ready; stderr: ${err}`));
    });
  });
}

/** Waits (bounded) for a process to exit on its own; returns its exit code, rejects after timeoutMs. */
export async function waitForExit(s: Started, timeoutMs = 20_000, what = 'on its own'): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`process did not exit within ${timeoutMs} ms ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([s.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Sends `signal` to the process by PID and waits (bounded) for it to exit; returns its exit code. */
export function stop(s: Started, signal: NodeJS.Signals = 'SIGINT', timeoutMs = 20_000): Promise<number | null> {
  if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill(signal);
  return waitForExit(s, timeoutMs, `of ${signal}`);
}

/** Starts tcpdump in `ns` on `iface` writing `file`, resolved once it listens (microsecond or nanosecond stamps). */
export function startTcpdump(pair: NetnsPair, ns: string, iface: string, file: string, snaplen = 256, filter = 'tcp', precision: 'micro' | 'nano' = 'micro'): Promise<Started> {
  // -U and --immediate-mode: each packet is read and written at once instead of waiting in a ring block
  // for libpcap's 1 s block timeout, which a SIGINT would otherwise discard; -B 65536: a 64 MiB kernel
  // buffer so a loaded CI machine does not make tcpdump drop; -n: no DNS.
  return startAndWait(pair, ns, 'tcpdump', ['-i', iface, '-s', String(snaplen), '-U', '--immediate-mode', '-B', '65536', '-n',
    '--time-stamp-precision', precision, '-w', file, filter], /listening on/);
}

/** Records `iface` in `ns` into `file` with tcpdump while `fn` runs, then stops tcpdump cleanly. */
export async function recordWhile<T>(pair: NetnsPair, ns: string, iface: string, file: string, fn: () => Promise<T>, snaplen = 256): Promise<T> {
  const dump = await startTcpdump(pair, ns, iface, file, snaplen);
  try {
    const result = await fn();
    await new Promise((r) => setTimeout(r, 300)); // let the last segments reach the capture socket
    return result;
  } finally {
    await stop(dump);
  }
}
