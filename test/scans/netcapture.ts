/**
 * Helpers for tests that make real traffic between two namespaces (test/support/netns.ts) and record it
 * with tcpdump: start and stop a capture cleanly, start TCP listeners, wait for a line on a child's output.
 */
import type { ChildProcess } from 'node:child_process';
import type { NetnsPair } from '../support/netns.js';

/** Resolves when `pattern` appears on the child's stdout or stderr; rejects on exit or after timeoutMs. */
export function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => finish(new Error(`timed out waiting for ${pattern} (got: ${seen.slice(-300)})`)), timeoutMs);
    const onData = (d: Buffer | string) => {
      seen += d.toString();
      if (pattern.test(seen)) finish();
    };
    const onExit = (code: number | null) => finish(new Error(`process exited (${code}) before ${pattern}: ${seen.slice(-300)}`));
    function finish(err?: Error) {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve();
    }
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', onExit);
  });
}

export function waitForExit(child: ChildProcess, timeoutMs = 10_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('process did not exit in time')), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

export interface RunningCapture {
  /** Stops tcpdump with SIGINT (so it flushes and closes the file) and waits for it. */
  stop(): Promise<void>;
}

/** Starts tcpdump in `ns` on `dev` writing `file` (TCP only, full headers), resolved once it listens. */
export async function startTcpdump(pair: NetnsPair, ns: string, dev: string, file: string, filter = 'tcp'): Promise<RunningCapture> {
  const child = pair.spawn(ns, 'tcpdump', ['-i', dev, '-n', '-U', '--immediate-mode', '-s', '200', '-w', file, filter]);
  await waitForOutput(child, /listening on/);
  return {
    async stop() {
      // Let the last packets reach the socket before stopping.
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGINT');
      await waitForExit(child);
    },
  };
}

/**
 * A Python TCP listener accepting on every given port (IPv4 and IPv6, dual-stack), answering each
 * connection with a short line and closing it. Resolves when all ports listen.
 */
export async function startListeners(pair: NetnsPair, ns: string, ports: number[]): Promise<ChildProcess> {
  const script = `
import socket, selectors, sys
sel = selectors.DefaultSelector()
for p in [${ports.join(',')}]:
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(('::', p)); s.listen(512); s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
print('ready', flush=True)
while True:
    for key, _ in sel.select():
        try:
            c, _ = key.fileobj.accept()
        except OSError:
            continue
        try:
            c.settimeout(0.2)
            try:
                c.recv(4096)
            except OSError:
                pass
            c.sendall(b'hello\\n')
        except OSError:
            pass
        c.close()
`;
  const child = pair.spawn(ns, 'python3', ['-u', '-c', script]);
  await waitForOutput(child, /ready/);
  return child;
}
