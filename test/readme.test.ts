/**
 * The README's first command is the project's front door: run exactly what it says (after `npm ci`) and
 * check the report shows what the README promises, so a change that breaks it cannot land silently.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { runCli } from './support/cli.js';
import { cliArgs, cliPath, repoRoot } from './support/paths.js';

function firstCommandArgs(): string[] {
  const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const block = /```sh\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, 'README has no sh block');
  const line = block[1]!.split('\n').find((l) => l.includes('npx tcplens'));
  assert.ok(line, 'README first block has no npx tcplens command');
  return line.slice(line.indexOf('npx tcplens') + 'npx tcplens'.length).trim().split(/\s+/);
}

test('the README first command analyzes the bundled captures and reports the scan and the anomalies', async () => {
  const args = firstCommandArgs();
  assert.equal(args[0], 'analyze');
  // Wide enough for the scan table as a table (at 80 columns it prints one record per scan).
  const { status, stdout, stderr } = await runCli(args, { cwd: repoRoot, env: { TCPLENS_COLUMNS: '300' } });
  assert.equal(status, 0, stderr);
  // The SYN scan fixture: nmap -sS from 10.199.1.1 over ports 1-200,2222,8080 with 80, 2222, 8080 open.
  assert.match(stdout, /10\.199\.1\.1\s+vertical\s+syn\s/);
  assert.match(stdout, /1-200,2222,8080\s+80 2222 8080/);
  // The anomaly fixture: each kind it was made to hold (fixtures/README.md).
  for (const kind of ['syn_fin', 'syn_rst', 'reserved_bits', 'blind_reset', 'syn_flood', 'zero_window', 'tiny_window', 'isn_predictable']) {
    assert.match(stdout, new RegExp(`^${kind}\\s`, 'm'), `${kind} missing from the report`);
  }
});

test('the bin runs as a program, and Node gets the options of its first line (bin/tcplens.ts)', async () => {
  // What npx and an installed `tcplens` do: execute the entry, whose first line starts Node.
  const preload = path.join(repoRoot, 'test/support/print-exec-argv.cjs');
  const version = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
  const r = spawnSync(cliPath, ['--version'], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: `--require=${preload}` } });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), version);
  const options = cliArgs.slice(0, -1);
  assert.ok(options.length > 0, 'the first line passes Node no option');
  assert.match(r.stderr, new RegExp(`execArgv: ${JSON.stringify(options).replace(/[[\]]/g, '\\$&')}`));
});
