#!/usr/bin/env node
/**
 * Builds the recorder's kernel path: the BPF object (clang -target bpf) and the Node-API addon (node-gyp).
 * Run by `npm ci` ("install" script) and by `npm run build:native`. Optional by design: where clang,
 * libbpf or a compiler is missing (a laptop, macOS) it prints ONE line saying what is missing, records
 * it in native/build/STATUS for `tcplens record` to repeat, and exits 0 so the install still succeeds.
 * Quiet unless V=1; outputs go to bpf/.output/ and native/build/ (both ignored by git).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const verbose = process.env.V === '1';
const statusFile = path.join(root, 'native/build/STATUS');

function finish(ok, line) {
  mkdirSync(path.dirname(statusFile), { recursive: true });
  writeFileSync(statusFile, `${ok ? 'ok' : line}\n`);
  process.stderr.write(`tcplens: ${ok ? 'recorder built (bpf/.output, native/build)' : `recorder not built: ${line}; tcplens record is unavailable, everything else works`}\n`);
  process.exit(0);
}

function have(cmd, args = ['--version']) {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: verbose ? 'inherit' : 'pipe', encoding: 'utf8', ...opts });
  if (r.status !== 0) {
    const out = `${r.stderr ?? ''}${r.stdout ?? ''}`.split('\n').find((l) => /error|not found|No such/i.test(l)) ?? `exit status ${r.status}`;
    return out.trim();
  }
  return null;
}

if (process.platform !== 'linux') finish(false, `the eBPF recorder needs Linux (this is ${process.platform})`);
if (!have('clang')) finish(false, 'clang is missing (apt-get install clang llvm)');
if (!existsSync('/usr/include/bpf/bpf_helpers.h')) finish(false, 'libbpf headers are missing (apt-get install libbpf-dev)');
if (!existsSync('/usr/include/linux/bpf.h')) finish(false, 'Linux UAPI headers are missing (apt-get install linux-libc-dev)');

// 1. The BPF objects: the program as is, and built with SNAPSHOT_SKB_TSTAMP (it reads each packet's own
// timestamp, which needs Linux 6.2+; the addon falls back to the first where the kernel refuses it).
// Each is written to a temporary name and renamed, so a failed build never leaves half a file.
const outDir = path.join(root, 'bpf/.output');
mkdirSync(outDir, { recursive: true });
let multiarch = '';
try {
  multiarch = execFileSync('gcc', ['-print-multiarch'], { encoding: 'utf8' }).trim();
} catch {
  multiarch = `${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`;
}
for (const [name, defines] of [['tcp_snapshot.bpf.o', []], ['tcp_snapshot.stamp.bpf.o', ['-DSNAPSHOT_SKB_TSTAMP']]]) {
  const obj = path.join(outDir, name);
  const tmp = `${obj}.tmp`;
  const bpfErr = run('clang', ['-O2', '-g', '-Wall', '-Werror', '-target', 'bpf', `-I/usr/include/${multiarch}`, '-Ibpf', ...defines,
    '-c', 'bpf/tcp_snapshot.bpf.c', '-o', tmp]);
  if (bpfErr) {
    rmSync(tmp, { force: true });
    finish(false, `compiling bpf/tcp_snapshot.bpf.c${defines.map((d) => ` ${d}`).join('')} failed: ${bpfErr}`);
  }
  renameSync(tmp, obj);
}

// 2. The addon. node-gyp ships inside npm; headers come from npm's nodedir when configured, else /usr.
if (!have('make') || !have('g++')) finish(false, 'make or g++ is missing (apt-get install make g++)');
const npmDir = path.dirname(process.env.npm_execpath ?? path.join(path.dirname(process.execPath), '../lib/node_modules/npm/bin/npm-cli.js'));
const candidates = [
  path.join(npmDir, '../node_modules/node-gyp/bin/node-gyp.js'),
  path.join(path.dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
];
const gyp = candidates.find((c) => existsSync(c));
if (!gyp) finish(false, 'node-gyp was not found next to npm');
const gypArgs = [gyp, 'rebuild', '--directory', path.join(root, 'native')];
const nodedir = process.env.npm_config_nodedir ?? (existsSync('/usr/include/node/node_api.h') ? '/usr' : undefined);
if (nodedir) gypArgs.push(`--nodedir=${nodedir}`);
if (!existsSync('/usr/include/pcap/pcap.h')) finish(false, 'libpcap headers are missing (apt-get install libpcap-dev): filter expressions are compiled by libpcap');
if (!existsSync('/usr/include/bpf/libbpf.h')) finish(false, 'libbpf is missing (apt-get install libbpf-dev libelf-dev zlib1g-dev)');
const gypErr = run(process.execPath, gypArgs);
if (gypErr) finish(false, `building the addon failed: ${gypErr}`);
finish(true, '');
