/**
 * The fuzz's child process: loads each case it is sent through the library and answers with the verdict.
 * A separate process so the parent can kill it by PID when a case hangs (a synchronous loop cannot be
 * interrupted from inside) or notice when it dies (a native crash), report that case, and start another.
 * Does nothing unless started with an IPC channel (the test runner may load every file under test/).
 */
import { checkWithLibrary } from './library-check.js';

export interface CaseRequest {
  id: number;
  file: string;
  size: number;
  gzip: boolean;
}

if (process.send !== undefined) {
  process.on('message', (msg: CaseRequest) => {
    void checkWithLibrary(msg.file, msg.size, msg.gzip).then((verdict) => process.send!({ id: msg.id, ...verdict }));
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ ready: true });
}
