/**
 * Servers for tests that make real traffic between two namespaces (test/support/netns.ts); starting,
 * stopping and recording with tcpdump live in test/support/processes.ts.
 */
import type { NetnsPair } from '../support/netns.js';
import { startAndWait, type Started } from '../support/processes.js';

/**
 * A Python TCP listener accepting on every given port (IPv4 and IPv6, dual-stack), answering each
 * connection with a short line and closing it. Resolves when all ports listen.
 */
export async function startListeners(pair: NetnsPair, ns: string, ports: number[]): Promise<Started> {
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
  return startAndWait(pair, ns, 'python3', ['-u', '-c', script], /ready/);
}
