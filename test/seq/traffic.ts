/**
 * Real TCP traffic for the seq conformance test, made between two private network namespaces
 * (test/support/netns.ts) and recorded by tcpdump: bulk transfers over a lossy, rate-limited link
 * (retransmissions, lost segments, duplicate ACKs, SACK), a receiver that stops reading (zero window,
 * window full, zero-window probes, window updates) and idle connections with keep-alives.
 */
import type { NetnsPair } from '../support/netns.js';
import { startAndWait, waitForExit } from '../support/processes.js';

export { recordWhile } from '../support/processes.js';

/**
 * iperf3 from a to b with several parallel streams for a few seconds through a token bucket of 20 Mbit/s
 * with a 50 ms queue on a's side: the queue overflows, so there is real loss, retransmissions and SACK
 * recovery. (tbf rather than netem: netem is often not built into CI kernels.)
 */
export async function lossyBulkTransfer(pair: NetnsPair, seconds = 3): Promise<void> {
  pair.exec(pair.a, 'tc', ['qdisc', 'add', 'dev', pair.vethA, 'root', 'tbf', 'rate', '20mbit', 'burst', '32kbit', 'latency', '50ms']);
  const server = await startAndWait(pair, pair.b, 'iperf3', ['-s', '-1', '--forceflush', '-B', pair.addrB, '-p', '5201'], /listening/i, 10_000);
  pair.exec(pair.a, 'iperf3', ['-c', pair.addrB, '-p', '5201', '-P', '4', '-t', String(seconds), '-f', 'm'], (seconds + 20) * 1000);
  await waitForExit(server, 10_000);
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
  const srv = await startAndWait(pair, pair.b, 'python3', ['-c', server], /ready/, 10_000);
  pair.exec(pair.a, 'python3', ['-c', client], 30_000);
  await waitForExit(srv, 20_000);
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
  const srv = await startAndWait(pair, pair.b, 'python3', ['-c', server], /ready/, 10_000);
  pair.exec(pair.a, 'python3', ['-c', client], 30_000);
  await waitForExit(srv, 10_000);
}
