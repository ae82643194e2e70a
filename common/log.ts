import pino, { type Logger } from 'pino';

/**
 * One root logger on fd 2 so results on stdout are never mixed with logs. Pretty output only when a
 * person is watching stderr; JSON lines otherwise (CI, pipes). TCPLENS_LOG sets the level.
 */
function createRoot(): Logger {
  const level = process.env['TCPLENS_LOG'] ?? 'info';
  if (process.stderr.isTTY) {
    return pino({ level }, pino.transport({ target: 'pino-pretty', options: { destination: 2, colorize: true } }));
  }
  return pino({ level }, pino.destination({ fd: 2, sync: true }));
}

let root: Logger | undefined;

/** A child logger per component; bindings hold only our own constant names, never untrusted values. */
export function logger(module: string): Logger {
  root ??= createRoot();
  return root.child({ module });
}
