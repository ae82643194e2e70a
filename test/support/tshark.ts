import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Runs tshark (the oracle) and returns stdout; stderr is returned too so tests can assert "no warning". */
export async function tshark(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const { stdout, stderr } = await run('tshark', args, { maxBuffer: 1 << 30, env: { ...process.env, LC_ALL: 'C' } });
  return { stdout, stderr };
}

/**
 * Runs tshark on a file that may end inside a block (a recorder killed mid-write). tshark still prints
 * every whole packet but exits 2 after "appears to have been cut short"; any other failure rejects.
 */
export async function tsharkOnCutFile(args: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  try {
    return { ...(await tshark(args)), exitCode: 0 };
  } catch (e) {
    const failed = e as { code?: unknown; stdout?: string; stderr?: string };
    if (failed.code !== 2 || !/appears to have been cut short/.test(failed.stderr ?? '')) throw e;
    return { stdout: failed.stdout ?? '', stderr: failed.stderr ?? '', exitCode: 2 };
  }
}

/** tshark -T fields output as rows of cells. */
export async function tsharkFields(file: string, fields: string[], filter?: string): Promise<string[][]> {
  const args = ['-n', '-r', file, '-T', 'fields', '-E', 'separator=\t'];
  for (const f of fields) args.push('-e', f);
  if (filter) args.push('-Y', filter);
  const { stdout } = await tshark(args);
  return stdout.split('\n').filter((l) => l.length > 0).map((l) => l.split('\t'));
}
