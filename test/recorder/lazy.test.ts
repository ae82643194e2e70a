/**
 * The addon is loaded only by the commands that need it: with the addon unloadable (process.dlopen
 * refuses it, as on a laptop where it never built), `tcplens info` still works and `tcplens record`
 * says in one line why it cannot run.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runCli } from '../support/cli.js';
import { fixturesDir } from '../support/paths.js';

test('info works and record fails cleanly when the addon cannot be loaded', async () => {
  const preload = path.join(tmpdir(), `tcplens-no-addon-${process.pid}-${randomBytes(4).toString('hex')}.cjs`);
  writeFileSync(preload, `const dlopen = process.dlopen;
process.dlopen = function (module, filename, ...rest) {
  if (String(filename).includes('tcplens_native')) throw new Error('addon refused by the test');
  return dlopen.call(this, module, filename, ...rest);
};
`);
  try {
    const env = { NODE_OPTIONS: `--require ${preload}` };
    const info = await runCli(['info', path.join(fixturesDir, 'http-loopback.pcapng'), '--format', 'json'], { env });
    assert.equal(info.status, 0, info.stderr);
    assert.match(info.stdout, /"packets"\s*:\s*36/);
    const rec = await runCli(['record', '-i', 'lo', '-w', path.join(tmpdir(), `never-${process.pid}.pcapng`)], { env });
    assert.equal(rec.status, 1);
    assert.match(rec.stderr, /^tcplens: the recorder addon .* does not load: addon refused by the test/);
    assert.equal(rec.stderr.trim().split('\n').length, 1, rec.stderr);
  } finally {
    rmSync(preload, { force: true });
  }
});
