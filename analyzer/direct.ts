/**
 * The analysis without a database: the same per-packet pass the loader runs (pipeline/set-pass.ts), its
 * connections and flags handed to the caller as they come. `seq` and `conns` answer this way unless they
 * need SQL (--where) or a database (--db, a DuckDB input): DuckDB is then never loaded, which is ~0.2 s of
 * start-up and ~55 MiB of memory (bench/NOTES.md, fifth pass). Identifiers are the ones a fresh database
 * gives: capture ids from 1 in each set's canonical order, connection ids from 1, one set per recording.
 *
 *   await passCaptures(['a.pcap'], {}, { flowEnded: (flow, row) => console.log(row().get('uid')) });
 */
import { STDIN } from './readers/index.js';
import { AddressIds } from './flows/address-ids.js';
import type { Flow } from './flows/tracker.js';
import { identify, loadedCapture, passSet, recordingsOf, type LoadedCapture, type LoadProgress, type PassState } from './pipeline/set-pass.js';
import { planCaptureSet } from './pipeline/capture-set.js';
import { ValueRow } from './db/value-row.js';
import { FLOW_TABLE_COLUMNS } from './db/schema.js';
import { writeFlowRow } from './db/flow-row.js';

export interface PassOptions {
  onProgress?: (p: LoadProgress) => void;
  signal?: AbortSignal;
  /** Each capture is its own recording; by default all are one, merged by timestamp (mergecap's rule). */
  perFile?: boolean;
  /** Drop segments with a wrong TCP checksum from the connections (Zeek without -C). */
  verifyChecksums?: boolean;
  /** Compute the performance columns of each connection (conns); without them they are NULL. */
  figures?: boolean;
}

/** Where a raised flag is: its recording, file, frame and time, and the connection as it stands. */
export interface FlagPlace {
  setId: number;
  captureId: number;
  /** The capture's absolute path, or `<stdin>`. */
  path: string;
  frame: number;
  /** The frame's time, whole seconds and nanoseconds since the epoch. */
  sec: number;
  nsec: number;
  flow: Flow;
  fromClient: boolean;
  /** The address text of an id (Flow keeps ids). */
  address(id: number): string;
}

export interface PassConsumer {
  /**
   * A connection has ended; `row()` gives its flows-table columns as a query returns them (made only when
   * asked for: most consumers want the row of a few connections).
   */
  flowEnded?(flow: Flow, row: () => ValueRow, setId: number): void;
  /** A flag (its code in SEQ_FLAGS) raised on a frame; one frame's flags come in code order. */
  flagRaised?(code: number, at: FlagPlace): void;
}

export interface PassedCaptures {
  /** What happened to each capture, in the order given (as openCaptures' Lens.captures). */
  captures: LoadedCapture[];
  /** Capture id -> absolute path or `<stdin>`, for the captures that gave packets. */
  paths: Map<number, string>;
  /** Recordings that gave packets (a database's count of distinct captures.set_id). */
  recordings: number;
}

/** Passes every input (one recording, or one per file with perFile) through the analysis. */
export async function passCaptures(inputs: readonly string[], opts: PassOptions, consumer: PassConsumer): Promise<PassedCaptures> {
  const sets = recordingsOf(inputs, opts.perFile === true);
  const addresses = new AddressIds();
  const captures: LoadedCapture[] = [];
  const paths = new Map<number, string>();
  let captureId = 1;
  let flowId = 1;
  let nextSet = 1;
  for (const set of sets) {
    const setId = nextSet;
    const plan = set.length > 1 && !set.includes(STDIN) ? planCaptureSet(set, opts.signal ? { signal: opts.signal } : {}) : undefined;
    const planned = plan ? new Map((await plan).members.map((m) => [m.input, m.stat])) : null;
    const ids = set.map((i) => identify(i, planned?.get(i)));
    const row = new ValueRow(FLOW_TABLE_COLUMNS);
    const place = {
      setId, captureId: 0, path: '', frame: 0, sec: 0, nsec: 0, flow: null as unknown as Flow, fromClient: false,
      address: (id: number) => addresses.text(id),
    };
    let lastFlow = flowId - 1;
    const files = await passSet(ids, addresses, {
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(plan ? { plan } : {}),
      trackFlows: true, analyzeSequences: true, figures: opts.figures === true, verifyChecksums: opts.verifyChecksums === true,
      firstCaptureId: captureId, firstFlowId: flowId,
    }, {
      flowEnded: (flow) => {
        if (flow.flowId > lastFlow) lastFlow = flow.flowId;
        if (!consumer.flowEnded) return;
        consumer.flowEnded(flow, () => {
          row.reset();
          writeFlowRow(row, addresses, flow);
          return row;
        }, setId);
      },
      flagRaised: (frame, code, state: PassState) => {
        if (!consumer.flagRaised) return;
        const { at, tracker } = state;
        place.captureId = at.captureId;
        place.path = state.files[at.file]!.abs;
        place.frame = frame;
        place.sec = at.sec;
        place.nsec = at.nsec;
        place.flow = tracker.flow;
        place.fromClient = tracker.fromClient;
        consumer.flagRaised(code, place);
      },
      segmentDone: null,
    });
    // The next set's ids as a database numbers them: after the highest capture, connection and set stored.
    for (const f of files) {
      captures.push(loadedCapture(f, setId));
      if (f.captureId === null) continue;
      paths.set(f.captureId, f.identity.abs);
      captureId = Math.max(captureId, f.captureId + 1);
      nextSet = setId + 1;
    }
    flowId = lastFlow + 1;
  }
  return { captures, paths, recordings: nextSet - 1 };
}
