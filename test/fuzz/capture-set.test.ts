/**
 * The merge of a capture set under damage: a real capture cut into five pieces, one or two of them damaged
 * (a cut, flipped bytes, an inserted run), all given to one `tcplens seq --frames` call. Every run must end
 * (bounded), exit 0 or 1, print one "FILE: at byte N: expected X" line per damaged file and nothing else,
 * never an internal error; damage to one file must not lose the other files' packets.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runCli } from '../support/cli.js';
import { fixturesDir } from '../support/paths.js';
import { prng } from '../support/prng.js';

const LOSSY = path.join(fixturesDir, 'sets/lossy-bulk.pcap');
const CASES = 30;

function damage(bytes: Buffer, rand: () => number): Buffer {
  const at = 24 + Math.floor(rand() * (bytes.length - 24));
  switch (Math.floor(rand() * 3)) {
    case 0:
      return bytes.subarray(0, at);
    case 1: {
      const out = Buffer.from(bytes);
      for (let i = 0; i < 1 + Math.floor(rand() * 8); i++) out[Math.min(out.length - 1, at + Math.floor(rand() * 64))] ^= 1 << Math.floor(rand() * 8);
      return out;
    }
    default:
      return Buffer.concat([bytes.subarray(0, at), Buffer.alloc(1 + Math.floor(rand() * 40), Math.floor(rand() * 256)), bytes.subarray(at)]);
  }
}

test(`a capture set with damaged members: ${CASES} seeded cases through seq --frames`, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tcplens-setfuzz-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const whole = path.join(dir, 'whole');
  execFileSync('mkdir', [whole]);
  execFileSync('editcap', ['-c', '700', LOSSY, path.join(whole, 'part.pcap')]);
  const pieces = readdirSync(whole).sort().map((f) => path.join(whole, f));
  assert.equal(pieces.length, 5);
  const rand = prng(0x5e7);
  const problems: string[] = [];
  for (let c = 0; c < CASES; c++) {
    const caseDir = path.join(dir, `case-${c}`);
    execFileSync('mkdir', [caseDir]);
    const files = pieces.map((p) => path.join(caseDir, path.basename(p)));
    const damaged = new Set([Math.floor(rand() * 5), Math.floor(rand() * 5)]);
    files.forEach((f, i) => writeFileSync(f, damaged.has(i) ? damage(readFileSync(pieces[i]!), rand) : readFileSync(pieces[i]!)));
    const r = await runCli(['seq', ...files, '--frames', '--format', 'csv'], { timeoutMs: 60_000 });
    const lines = r.stderr.split('\n').filter(Boolean);
    const bad = lines.filter((l) => !/^tcplens: \S+: at byte \d+: expected .+$/.test(l) && !/^tcplens: warning: /.test(l));
    if (r.status === null) problems.push(`case ${c}: no exit within 60 s`);
    else if (r.status !== 0 && r.status !== 1) problems.push(`case ${c}: exit ${r.status}: ${lines[0] ?? ''}`);
    else if (bad.length > 0) problems.push(`case ${c}: ${bad[0]}`);
    else if (r.status === 1 && lines.filter((l) => / at byte /.test(l)).length === 0) problems.push(`case ${c}: exit 1 without a damage line`);
    else if (!r.stdout.startsWith('frame,flag,')) problems.push(`case ${c}: no results printed`);
  }
  assert.deepEqual(problems, []);
  // And one case checked for what it keeps: the undamaged files' packets all load.
  const keep = path.join(dir, 'keep');
  execFileSync('mkdir', [keep]);
  const kept = pieces.map((p) => path.join(keep, path.basename(p)));
  kept.forEach((f, i) => writeFileSync(f, i === 2 ? readFileSync(pieces[i]!).subarray(0, 5000) : readFileSync(pieces[i]!)));
  const q = await runCli(['query', ...kept, 'SELECT count(*) FILTER (WHERE file_frame IS NOT NULL) AS n FROM packets JOIN captures USING (capture_id) WHERE NOT partial', '--format', 'csv']);
  assert.equal(q.status, 1, q.stderr);
  const count = (f: string): number => Number(execFileSync('capinfos', ['-M', '-c', '-T', '-r', f], { encoding: 'utf8' }).trim().split('\t')[1]);
  const undamaged = pieces.filter((_, i) => i !== 2).reduce((n, f) => n + count(f), 0);
  assert.equal(q.stdout, `n\n${undamaged}\n`);
});
