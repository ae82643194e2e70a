/**
 * One fuzz case through the public library, as a program using tcplens would load a capture: openCaptures
 * must resolve (a damaged file is a result with an error, never a throw), the damage must be one
 * "FILE: at byte N: expected X" inside the file, and the tables must agree with each other (every TCP
 * packet stored, in exactly one flow). Returns what is wrong, empty when all is well.
 */
import { openCaptures, type Lens } from '../../analyzer/index.js';

export interface LibraryVerdict {
  problems: string[];
  damaged: boolean;
  packets: number;
}

const DAMAGE = /^(.*): at byte (\d+): expected (.+)$/s;

function firstLine(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message.split('\n')[0]}` : String(err);
}

export async function checkWithLibrary(file: string, size: number, gzip: boolean): Promise<LibraryVerdict> {
  const problems: string[] = [];
  let lens: Lens;
  try {
    lens = await openCaptures([file]);
  } catch (err) {
    return { problems: [`openCaptures threw ${firstLine(err)}`], damaged: false, packets: 0 };
  }
  let damaged = false;
  let packets = 0;
  try {
    const c = lens.captures[0]!;
    packets = c.packets;
    if (c.error) {
      damaged = true;
      const m = DAMAGE.exec(c.error.message);
      if (!m) problems.push(`damage message shape: ${c.error.message}`);
      else {
        if (m[1] !== file) problems.push(`damage names ${m[1]}, not the file`);
        if (!gzip && Number(m[2]) > size) problems.push(`damage offset ${m[2]} beyond the ${size}-byte file`);
      }
      if (!c.partial) problems.push('damage reported but partial is false');
    }
    if (c.captureId !== null) {
      const r = await lens.query(
        `SELECT (SELECT count(*) FROM packets) AS stored, (SELECT tcp_packets FROM captures) AS counted,
                (SELECT coalesce(sum(packets), 0) FROM flows) AS in_flows, (SELECT count(*) FROM tcp_analysis) AS flags,
                (SELECT count(*) FROM packets WHERE flow_id IS NULL) AS no_flow`,
      );
      const row = r.rows[0]!;
      const stored = Number(row['stored']);
      if (stored !== Number(row['counted']) || stored !== c.tcpPackets) {
        problems.push(`TCP packets: ${stored} stored, captures.tcp_packets ${String(row['counted'])}, loader ${c.tcpPackets}`);
      }
      if (Number(row['in_flows']) !== stored || Number(row['no_flow']) !== 0) {
        problems.push(`flows hold ${String(row['in_flows'])} packets of ${stored} (${String(row['no_flow'])} without a flow)`);
      }
    } else if (!c.error) {
      problems.push('capture not stored and no damage reported');
    }
  } catch (err) {
    problems.push(`query failed: ${firstLine(err)}`);
  } finally {
    await lens.close().catch((err: unknown) => problems.push(`close failed: ${firstLine(err)}`));
  }
  return { problems, damaged, packets };
}
