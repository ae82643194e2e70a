/**
 * One row of the flows table for a connection that has ended: the one place that maps a tracked
 * connection to its columns, whether the row goes into DuckDB (ChunkWriter) or stays in memory for a
 * command that answers without SQL (ValueRow). No DuckDB here.
 */
import type { ColumnSink } from './column-spec.js';
import { columnIndex } from './column-spec.js';
import { FLOW_COLUMNS } from './schema.js';
import { writeConnColumns } from '../perf/columns.js';
import type { Flow } from '../flows/tracker.js';
import type { AddressIds } from '../flows/address-ids.js';

const F = columnIndex(FLOW_COLUMNS);

export function writeFlowRow(w: ColumnSink, addresses: AddressIds, f: Flow): void {
  w.i64(F.flow_id, f.flowId);
  w.i32(F.capture_id, f.captureId);
  w.u8(F.ip_version, f.ipVersion);
  if (f.vlan >= 0) w.i16(F.vlan, f.vlan);
  else w.null(F.vlan);
  w.varchar(F.client, addresses.text(f.clientAddr));
  w.u16(F.cport, f.clientPort);
  w.varchar(F.server, addresses.text(f.serverAddr));
  w.u16(F.sport, f.serverPort);
  w.tsNs(F.first_ts, f.firstSec, f.firstNsec);
  w.tsNs(F.last_ts, f.lastSec, f.lastNsec);
  w.f64(F.duration_s, f.lastSec - f.firstSec + (f.lastNsec - f.firstNsec) / 1e9);
  w.i64(F.packets, f.clientPackets + f.serverPackets);
  w.i64(F.bytes, f.clientBytes + f.serverBytes);
  w.i64(F.client_packets, f.clientPackets);
  w.i64(F.server_packets, f.serverPackets);
  w.i64(F.client_bytes, f.clientBytes);
  w.i64(F.server_bytes, f.serverBytes);
  w.i64(F.client_payload, f.clientPayload);
  w.i64(F.server_payload, f.serverPayload);
  w.varchar(F.state, f.zeek.state());
  w.varchar(F.history, f.zeek.history);
  if (f.rttMs >= 0) w.f64(F.rtt_ms, f.rttMs);
  else w.null(F.rtt_ms);
  if (f.clientIsn >= 0) w.u32(F.client_isn, f.clientIsn);
  else w.null(F.client_isn);
  if (f.serverIsn >= 0) w.u32(F.server_isn, f.serverIsn);
  else w.null(F.server_isn);
  w.bool(F.reused_ports, f.reused);
  writeConnColumns(w, FLOW_COLUMNS.length, f);
  w.endRow();
}
