/**
 * A capture file that could not be created or written, in words: one table for `record`'s "cannot
 * create" errors (Node's error codes) and the drain thread's failed writes (errno numbers).
 */
import { constants } from 'node:os';

const WORDS: Record<string, string> = {
  ENOENT: 'no such directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory',
  ELOOP: 'is a symbolic link (refused: the recorder runs as root)',
  ENOSPC: 'no space left on device',
  EFBIG: 'file too large',
  EDQUOT: 'disk quota exceeded',
  EIO: 'input/output error',
  EROFS: 'read-only file system',
  EBADF: 'bad file descriptor',
};

/** From an error code name (ENOSPC, ...); the name itself when there are no better words. */
export function describeFileError(code: string | undefined): string {
  return (code && WORDS[code]) ?? code ?? 'unknown error';
}

const NAMES = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/** From an errno number, as the addon reports a failed write. */
export function describeErrno(errno: number): string {
  return describeFileError(NAMES.get(errno) ?? `errno ${errno}`);
}
