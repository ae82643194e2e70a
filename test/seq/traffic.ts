/**
 * Real TCP traffic for the seq conformance test, made between two private network namespaces
 * (test/support/netns.ts) and recorded by tcpdump: bulk transfers over a lossy, rate-limited link
 * (retransmissions, lost segments, duplicate ACKs, SACK), a receiver that stops reading (zero window,
 * window full, zero-window probes, window updates) and idle connections with keep-alives.
 */
import type { ChildProcess } from 'node:child_process';
import type { NetnsPair } from '../support/netns.js';

function waitFor(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => done(new Error(`timed out waiting for ${pattern}; output: ${seen.slice(-300)}`)), timeoutMs);
    const onData = (d: Buffer) => {
      seen += d.toString();
      if (pattern.test(seen)) done();
    };
    const onExit = (code: number | null) => done(new Error(`exited (${code}) before ${pattern}; output: ${seen.slice(-300)}`));
    function done(err?: Error): void {
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

function exited(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('process did not exit in time')), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Records `dev` in namespace `ns` into `file` (snaplen 128, TCP only) while `fn` runs. */
export async function recordWhile(pair: NetnsPair, ns: string, dev: string, file: string, fn: () => Promise<void>): Promise<void> {
  const dump = pair.spawn(ns, 'tcpdump', ['-i', dev, '-n', '-U', '-s', '128', '-w', file, 'tcp']);
  await waitFor(dump, /listening on/, 10_000);
  try {
    await fn();
    await sleep(300); // let the last segments reach the capture socket
  } finally {
    dump.kill('SIGINT');
    await exited(dump, 10_000);
  }
}

/**
 * iperf3 from a to b with several parallel streams for a few seconds through a token bucket of 20 Mbit/s
 * with a 50 ms queue on a's side: the queue overflows, so there is real loss, retransmissions and SACK
 * recovery. (tbf rather than netem: netem is often not built into CI kernels.)
 */
export async function lossyBulkTransfer(pair: NetnsPair, seconds = 3): Promise<void> {
  pair.exec(pair.a, 'tc', ['qdisc', 'add', 'dev', pair.vethA, 'root', 'tbf', 'rate', '20mbit', 'burst', '32kbit', 'latency', '50ms']);
  const server = pair.spawn(pair.b, 'iperf3', ['-s', '-1', '--forceflush', '-B', pair.addrB, '-p', '5201']);
  await waitFor(server, /listening/i, 10_000);
  pair.exec(pair.a, 'iperf3', ['-c', pair.addrB, '-p', '5201', '-P', '4', '-t', String(seconds), '-f', 'm'], (seconds + 20) * 1000);
  await exited(server, 10_000);
}

/**
 * A client pushes data at a server that reads nothing for a while and then drains its socket: the
 * receive window closes (zero window, window full), the sender probes it (zero-window probes and their
 * ACKs), and reading again opens it (window updates). A second, idle connection sends keep-alives.
 */
export async function stalledReceiverAndKeepalive(pair: NetnsPair): Promise<void> {
  const server = `
import socket, time, threading
def stalled():
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    s.bind(('${pair.addrB}', 7001)); s.listen(1)
    c, _ = s.accept()
    time.sleep(2.5)
    while True:
        d = c.recv(65536)
        if not d: break
        time.sleep(0.01)
    c.close()
def idle():
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('${pair.addrB}', 7002)); s.listen(1)
    c, _ = s.accept()
    while c.recv(100): pass
    c.close()
ts = [threading.Thread(target=stalled), threading.Thread(target=idle)]
for t in ts: t.start()
print('ready', flush=True)
for t in ts: t.join()
`;
  const client = `
import socket, threading, time
def pusher():
    s = socket.create_connection(('${pair.addrB}', 7001))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
    s.sendall(b'x' * 300000)
    s.close()
def idler():
    s = socket.create_connection(('${pair.addrB}', 7002))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
    s.sendall(b'hello')
    time.sleep(4)
    s.close()
ts = [threading.Thread(target=pusher), threading.Thread(target=idler)]
for t in ts: t.start()
for t in ts: t.join()
`;
  const srv = pair.spawn(pair.b, 'python3', ['-c', server]);
  await waitFor(srv, /ready/, 10_000);
  pair.exec(pair.a, 'python3', ['-c', client], 30_000);
  await exited(srv, 20_000);
}

/**
 * Five connections from the same client port (SO_REUSEADDR) over IPv6, each closed by the server first
 * so the server, not the client, holds TIME_WAIT: every new SYN reuses the 4-tuple with a new ISN
 * (reused_ports, new tcp.stream each time).
 */
export async function reusedPorts(pair: NetnsPair): Promise<void> {
  const server = `
import socket
s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('${pair.addr6B}', 7003)); s.listen(8)
print('ready', flush=True)
for i in range(5):
    c, _ = s.accept()
    c.recv(100); c.sendall(b'bye'); c.close()
`;
  const client = `
import socket, time
for i in range(5):
    c = socket.socket(socket.AF_INET6); c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    c.bind(('${pair.addr6A}', 45000)); c.connect(('${pair.addr6B}', 7003))
    c.sendall(b'hi'); c.recv(100); time.sleep(0.05); c.close(); time.sleep(0.2)
`;
  const srv = pair.spawn(pair.b, 'python3', ['-c', server]);
  await waitFor(srv, /ready/, 10_000);
  pair.exec(pair.a, 'python3', ['-c', client], 30_000);
  await exited(srv, 10_000);
}
