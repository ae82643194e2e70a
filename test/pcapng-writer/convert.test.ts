/**
 * convertToPcapng on its own: a whole capture, a capture cut short in the middle of a record (every
 * packet before the damage is copied, the copy itself is clean), and inputs that cannot be copied.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { convertToPcapng } from '../support/pcapng/convert.js';
import { CaptureError } from '../../common/errors.js';
import { corpusDir } from '../support/paths.js';
import { tshark, tsharkFields } from '../support/tshark.js';

const dir = mkdtempSync(path.join(tmpdir(), 'tcplens-convert-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
/** 20 TCP packets, raw IP, microsecond pcap (zeek/testing/btest/Traces). */
const SOURCE = path.join(corpusDir, 'zeek/rotation.pcap');
const FIELDS = ['frame.len', 'frame.cap_len', 'frame.time_epoch', 'tcp.seq_raw'];

function warningsOf(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.length > 0 && !l.startsWith('Running as user "root"'));
}

test('a whole capture: same frames, one IDB with the source link type, snaplen and resolution, mode 0600', async () => {
  const out = path.join(dir, 'whole.pcapng');
  const result = await convertToPcapng(SOURCE, out);
  assert.deepEqual(result, { packets: 20, interfaces: 1, partial: false, error: null });
  assert.equal(statSync(out).mode & 0o777, 0o600);
  assert.deepEqual(await tsharkFields(out, FIELDS), await tsharkFields(SOURCE, FIELDS));
  const { stdout, stderr } = await tshark(['-r', out, '-c', '1', '-T', 'fields', '-e', 'frame.interface_id']);
  assert.deepEqual(warningsOf(stderr), []);
  assert.equal(stdout, '0\n');
  // The interface as capinfos sees it: the source header's link type, snaplen and microseconds.
  const src = readFileSync(SOURCE);
  const caps = execFileSync('capinfos', [out], { encoding: 'utf8' });
  const srcEncapsulation = /File encapsulation:\s+(.+)\n/.exec(execFileSync('capinfos', [SOURCE], { encoding: 'utf8' }))?.[1];
  assert.ok(srcEncapsulation);
  assert.ok(caps.includes(`Encapsulation = ${srcEncapsulation} (`), caps);
  assert.match(caps, new RegExp(`Capture length = ${src.readUInt32LE(16)}\\n`));
  assert.match(caps, /Time precision = microseconds \(6\)/);
});

test('a capture cut in the middle of a record: every packet before the damage, and a clean copy', async () => {
  const whole = readFileSync(SOURCE);
  const cut = path.join(dir, 'cut.pcap');
  writeFileSync(cut, whole.subarray(0, whole.length - 30)); // inside the last record's bytes
  const out = path.join(dir, 'cut.pcapng');
  const result = await convertToPcapng(cut, out);
  assert.equal(result.partial, true);
  assert.ok(result.error instanceof CaptureError);
  assert.equal(result.packets, 19);
  const rows = await tsharkFields(out, FIELDS);
  assert.deepEqual(rows, (await tsharkFields(SOURCE, FIELDS)).slice(0, 19));
  const { stderr } = await tshark(['-r', out]);
  assert.deepEqual(warningsOf(stderr), []);
});

test('an input with nothing readable is refused and no output file is made', async () => {
  const out = path.join(dir, 'none.pcapng');
  await assert.rejects(convertToPcapng(path.join(dir, 'missing.pcap'), out), CaptureError);
  const notCapture = path.join(dir, 'text.pcap');
  writeFileSync(notCapture, 'this is not a capture file at all\n');
  await assert.rejects(convertToPcapng(notCapture, out), CaptureError);
  assert.equal(existsSync(out), false);
  await assert.rejects(convertToPcapng(SOURCE, SOURCE), RangeError);
});
