// @ts-nocheck
/*
 * The report page: reads the JSON description and the two data blobs that `tcplens report` inlined,
 * inflates them with the browser's DecompressionStream, and draws every chart with uPlot (the global
 * `uPlot`, inlined before this script). Nothing is fetched: the page's Content-Security-Policy forbids it.
 *
 * For tests and benchmarks the page publishes `window.tcplensReport`: `charts` (id -> { u, source }),
 * `openFlow(index)`, `errors`, and `ready` (a promise settled after the first paint of every section).
 */
const report = { charts: {}, errors: [], source: {}, state: {} };
window.tcplensReport = report;

const NS = 1e9;
const meta = JSON.parse(document.getElementById('tcplens-meta').textContent);
const COLORS = ['#2463d1', '#d1495b', '#2a9d8f', '#e9a23b', '#7b4fd6', '#6c757d', '#00a6c7', '#c2185b', '#5d8a00', '#8d6e63', '#ff7f0e', '#17becf', '#9467bd', '#bcbd22', '#1f77b4'];
const FLAG_COLORS = {
  retransmission: '#d62728', fast_retransmission: '#ff7f0e', spurious_retransmission: '#e377c2', out_of_order: '#9467bd',
  lost_segment: '#111111', ack_lost_segment: '#8c564b', duplicate_ack: '#e9a23b', zero_window: '#17becf',
  zero_window_probe: '#0e7c86', zero_window_probe_ack: '#6bb5bd', window_full: '#bcbd22', window_update: '#2ca02c',
  keep_alive: '#7f7f7f', keep_alive_ack: '#aaaaaa', reused_ports: '#c49c94',
};

// ---------------------------------------------------------------- data
function b64bytes(text) {
  const bin = atob(text.trim());
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

async function inflate(id) {
  const bytes = b64bytes(document.getElementById(id).textContent);
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Response(stream).arrayBuffer();
}

const CTORS = { f64: Float64Array, f32: Float32Array, u32: Uint32Array, i32: Int32Array, u16: Uint16Array, u8: Uint8Array };
function col(buf, ref) {
  return new CTORS[ref.t](buf, ref.o, ref.n);
}

// ---------------------------------------------------------------- formatting
const fmtInt = (n) => (n === null || n === undefined || Number.isNaN(n) ? '' : Math.round(n).toLocaleString('en-US'));
function fmtBytes(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = Math.abs(n);
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${i === 0 ? Math.round(n) : (Math.sign(n) * v).toPrecision(3)} ${units[i]}`;
}
function fmtRate(bps) {
  if (!Number.isFinite(bps)) return '';
  const units = ['bit/s', 'kbit/s', 'Mbit/s', 'Gbit/s'];
  let i = 0;
  let v = bps;
  while (Math.abs(v) >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${Number(v.toPrecision(3))} ${units[i]}`;
}
function fmtSeconds(s) {
  if (!Number.isFinite(s)) return '';
  if (Math.abs(s) < 1e-3) return `${Number((s * 1e6).toPrecision(3))} µs`;
  if (Math.abs(s) < 1) return `${Number((s * 1e3).toPrecision(3))} ms`;
  return `${Number(s.toPrecision(4))} s`;
}
/** Relative seconds (from the first packet) as the one tcplens timestamp text, to the microsecond. */
function isoAt(rel) {
  const t0 = BigInt(meta.t0ns);
  const ns = t0 + BigInt(Math.round(rel * 1e6)) * 1000n;
  const sec = ns / 1000000000n;
  const frac = (ns % 1000000000n).toString().padStart(9, '0');
  return `${new Date(Number(sec) * 1000).toISOString().slice(0, 19)}.${frac}Z`;
}
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}
function cellText(v) {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.join(' ');
  if (typeof v === 'object') return JSON.stringify(v);
  if (typeof v === 'number' && !Number.isInteger(v)) return String(Number(v.toPrecision(6)));
  return String(v);
}

/** Numbers as people read them, by column name (the same rules as the terminal tables of output.ts). */
function fmtCell(column, v) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return cellText(v);
  const n = column.toLowerCase();
  if (/(^|_|\.)(id|uid|ids)$/.test(n) || /^(frame|id\.orig_p|id\.resp_p|cport|sport|dport|port|seq|ack|isn|client_isn|server_isn|gcd|linktype|ip_version|vlan|isr|sp|if_id|snaplen|capture_id|flow_id|scan_id|mtime_ms)$/.test(n)) return String(v);
  if (/(rate_per_s|per_s)$/.test(n)) return `${Number(v.toPrecision(3)).toLocaleString('en-US')} /s`;
  if (/(^|_)(bytes|payload|size|sent|received|recv_bytes)$/.test(n)) return fmtBytes(v);
  if (/_ms$/.test(n)) return fmtSeconds(v / 1000);
  if (/(_s|^duration)$/.test(n)) return fmtSeconds(v);
  return Number.isInteger(v) ? fmtInt(v) : String(Number(v.toPrecision(6)));
}

// ---------------------------------------------------------------- tables
/** A sortable, filterable table; `onRow(index)` makes rows clickable. Shows at most `limit` rows. */
function dataTable(table, { onRow = null, limit = 1000, filter = false, id = '' } = {}) {
  const wrap = el('div', { class: 'tbl', id });
  if (!table || table.rows.length === 0) {
    wrap.append(el('p', { class: 'muted' }, '(none)'));
    return wrap;
  }
  const state = { sortCol: -1, asc: true, text: '' };
  const tools = el('div', { class: 'tools' });
  const count = el('span', { class: 'muted' });
  let input = null;
  if (filter) {
    input = el('input', { type: 'search', placeholder: 'filter: any text, e.g. 10.0.0.1, SF, 443', 'aria-label': 'filter' });
    input.addEventListener('input', () => { state.text = input.value.trim().toLowerCase(); render(); });
    tools.append(input);
  }
  tools.append(count);
  const thead = el('thead');
  const tbody = el('tbody');
  const tr = el('tr');
  table.columns.forEach((c, i) => {
    tr.append(el('th', { onclick: () => { state.asc = state.sortCol === i ? !state.asc : true; state.sortCol = i; render(); } }, c));
  });
  thead.append(tr);
  const texts = table.rows.map((r) => r.map(cellText).join(' ').toLowerCase());
  function render() {
    let idx = table.rows.map((_, i) => i);
    if (state.text) idx = idx.filter((i) => texts[i].includes(state.text));
    if (state.sortCol >= 0) {
      const c = state.sortCol;
      idx.sort((a, b) => {
        const x = table.rows[a][c];
        const y = table.rows[b][c];
        const r = typeof x === 'number' && typeof y === 'number' ? x - y : cellText(x).localeCompare(cellText(y), 'en', { numeric: true });
        return state.asc ? r : -r;
      });
    }
    tbody.replaceChildren();
    for (const i of idx.slice(0, limit)) {
      const row = el('tr', { 'data-row': String(i) });
      table.rows[i].forEach((v, c) => row.append(el('td', typeof v === 'number' ? { class: 'n', title: String(v) } : {}, fmtCell(table.columns[c], v))));
      if (onRow) {
        row.style.cursor = 'pointer';
        row.addEventListener('click', () => {
          for (const s of tbody.querySelectorAll('tr.sel')) s.classList.remove('sel');
          row.classList.add('sel');
          onRow(i);
        });
      }
      tbody.append(row);
    }
    count.textContent = `${fmtInt(idx.length)} of ${fmtInt(table.rows.length)} rows${idx.length > limit ? `, first ${fmtInt(limit)} shown (filter to narrow)` : ''}`;
  }
  render();
  wrap.append(tools, el('div', { class: 'scroll' }, el('table', { class: 'grid' }, thead, tbody)));
  return wrap;
}

// ---------------------------------------------------------------- charts
function chartWidth(container) {
  return Math.max(320, Math.min(1460, (container.clientWidth || document.body.clientWidth || 1200) - 10));
}

/**
 * Min/max per pixel: when a series has more points in [lo, hi] than the chart has pixels, each pixel
 * column keeps its first x with the minimum of every series and its last x with the maximum, so spikes
 * never vanish. Returns uPlot data for the visible range (plus one point either side).
 */
function minMaxPerPixel(xs, ys, lo, hi, pixels) {
  let i0 = 0;
  let i1 = xs.length;
  while (i0 < xs.length && xs[i0] < lo) i0++;
  while (i1 > i0 && xs[i1 - 1] > hi) i1--;
  i0 = Math.max(0, i0 - 1);
  i1 = Math.min(xs.length, i1 + 1);
  if (i1 - i0 <= pixels * 2) return [Array.from(xs.subarray ? xs.subarray(i0, i1) : xs.slice(i0, i1)), ...ys.map((y) => Array.from(y.subarray ? y.subarray(i0, i1) : y.slice(i0, i1)))];
  const outX = [];
  const outY = ys.map(() => []);
  const width = (hi - lo) / pixels;
  let b = -1;
  let start = i0;
  const flush = (from, to) => {
    if (to <= from) return;
    outX.push(xs[from], xs[to - 1]);
    ys.forEach((y, s) => {
      let mn = Infinity;
      let mx = -Infinity;
      for (let k = from; k < to; k++) { const v = y[k]; if (v < mn) mn = v; if (v > mx) mx = v; }
      outY[s].push(mn, mx);
    });
  };
  for (let i = i0; i < i1; i++) {
    const nb = Math.floor((xs[i] - lo) / width);
    if (nb !== b) { flush(start, i); start = i; b = nb; }
  }
  flush(start, i1);
  return [outX, ...outY];
}

/** Wheel zooms x around the cursor; shift+drag pans; drag selects a range; double-click resets. */
function zoomPanPlugin() {
  return {
    hooks: {
      ready: (u) => {
        const over = u.over;
        over.addEventListener('wheel', (e) => {
          e.preventDefault();
          const { left } = u.cursor;
          if (left === undefined || left < 0) return;
          const x = u.posToVal(left, 'x');
          const { min, max } = u.scales.x;
          const f = e.deltaY < 0 ? 0.75 : 1 / 0.75;
          u.setScale('x', { min: x - (x - min) * f, max: x + (max - x) * f });
        }, { passive: false });
        over.addEventListener('mousedown', (e) => {
          if (!e.shiftKey) return;
          e.preventDefault();
          // uPlot's own mousedown (a selection that would zoom on mouseup) must not see a pan.
          e.stopImmediatePropagation();
          const startX = e.clientX;
          const { min, max } = u.scales.x;
          const perPx = (max - min) / u.bbox.width * devicePixelRatio;
          const move = (ev) => {
            const dx = (ev.clientX - startX) * perPx;
            u.setScale('x', { min: min - dx, max: max - dx });
          };
          const up = () => { window.removeEventListener('mousemove', move); window.removeEventListener('mouseup', up); };
          window.addEventListener('mousemove', move);
          window.addEventListener('mouseup', up);
        }, true);
      },
    },
  };
}

const utcDate = (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC');

/**
 * Makes a chart and registers it. `source` says what data the chart stands for (series names and their
 * point counts before any downsampling), for tests: they compare it with the database and with what uPlot holds.
 */
function makeChart(id, container, opts, data, source, { downsample = null } = {}) {
  const holder = el('div', { class: 'chart', id: `chart-${id}` });
  container.append(holder);
  const width = opts.width ?? chartWidth(container);
  const o = {
    width,
    height: opts.height ?? 260,
    tzDate: utcDate,
    cursor: { drag: { x: true, y: false, setScale: true } },
    plugins: [zoomPanPlugin(), ...(opts.plugins ?? [])],
    ...opts,
  };
  o.plugins = [zoomPanPlugin(), ...(opts.plugins ?? [])];
  let u;
  if (downsample) {
    // Full-resolution data stays in `downsample`; uPlot gets min/max per pixel of the visible range.
    const { xs, ys } = downsample;
    let busy = false;
    const lo0 = xs[0];
    const hi0 = xs[xs.length - 1];
    o.scales = { ...(o.scales ?? {}), x: { ...(o.scales?.x ?? {}), time: o.scales?.x?.time ?? true, auto: false, range: (u_, mn, mx) => [mn, mx] } };
    o.hooks = {
      ...(o.hooks ?? {}),
      setScale: [(u_, key) => {
        if (key !== 'x' || busy) return;
        busy = true;
        const { min, max } = u_.scales.x;
        u_.setData(minMaxPerPixel(xs, ys, min, max, u_.bbox.width / devicePixelRatio), false);
        busy = false;
      }],
    };
    u = new uPlot(o, minMaxPerPixel(xs, ys, lo0, hi0, width), holder);
    u.setScale('x', { min: lo0, max: hi0 === lo0 ? hi0 + 1 : hi0 });
    holder.addEventListener('dblclick', () => u.setScale('x', { min: lo0, max: hi0 === lo0 ? hi0 + 1 : hi0 }));
  } else {
    u = new uPlot(o, data, holder);
  }
  report.charts[id] = { u, source, full: downsample };
  return u;
}

// ---------------------------------------------------------------- sections
function section(id, title, ...children) {
  return el('section', { id }, el('h2', {}, title), ...children);
}

function card(k, v) {
  return el('div', { class: 'card' }, el('div', { class: 'v' }, v), el('div', { class: 'k' }, k));
}

function overview() {
  const t = meta.overview.totals;
  const s = section('overview', 'Overview');
  const caps = meta.overview.captures;
  const ci = (name) => caps.columns.indexOf(name);
  const first = caps.rows.map((r) => r[ci('first_ts')]).filter(Boolean).sort()[0] ?? '';
  const last = caps.rows.map((r) => r[ci('last_ts')]).filter(Boolean).sort().at(-1) ?? '';
  s.append(el('div', { class: 'cards' },
    card('captures', fmtInt(caps.rows.length)),
    card('interfaces', fmtInt(meta.overview.interfaces.rows.length)),
    card('packets', fmtInt(t.packets)),
    card('TCP packets', fmtInt(t.tcp_packets)),
    card('TCP bytes (on the wire)', fmtBytes(t.tcp_bytes)),
    card('drops (statistics blocks)', t.interfaces_with_drop_counts > 0 ? fmtInt(t.drops) : 'not recorded'),
    card('connections', fmtInt(t.connections)),
    card('TCP analysis flags', fmtInt(t.flags)),
    card('time span', fmtSeconds(meta.spanS)),
  ));
  s.append(el('p', { class: 'muted' }, `from ${first} to ${last} (UTC)`));
  if (meta.overview.warnings.length > 0) {
    s.append(el('h3', {}, 'Warnings'), el('ul', {}, ...meta.overview.warnings.map((w) => el('li', { class: 'warn' }, w))));
  } else {
    s.append(el('p', { class: 'muted' }, 'Warnings: (none)'));
  }
  s.append(el('h3', {}, 'Captures'), dataTable(meta.overview.captures, { id: 'tbl-captures' }));
  s.append(el('h3', {}, 'Interfaces'), dataTable(meta.overview.interfaces, { id: 'tbl-interfaces' }));
  return s;
}

function captureCharts(buf) {
  const s = section('capture', 'Whole capture over time');
  const c = meta.capture;
  const bins = c.bins;
  const xs = new Float64Array(bins);
  for (let i = 0; i < bins; i++) xs[i] = meta.t0 + (i + 0.5) * c.binS;
  s.append(el('p', { class: 'hint' }, `bins of ${fmtSeconds(c.binS)}; more bins than pixels are drawn as the minimum and maximum of each pixel. Drag to zoom, wheel to zoom, shift+drag to pan, double-click to reset.`));
  const packets = Float64Array.from(col(buf, c.packets));
  const bytes = col(buf, c.bytes);
  const bps = Float64Array.from(bytes, (b) => (b * 8) / c.binS);
  makeChart('packets', s, {
    title: 'Packets and bits per second',
    series: [{}, { label: 'packets/bin', stroke: COLORS[0], scale: 'n' }, { label: 'bit/s', stroke: COLORS[1], scale: 'b', value: (u, v) => fmtRate(v) }],
    axes: [{}, { scale: 'n', label: 'packets per bin' }, { scale: 'b', side: 1, label: 'bit/s', values: (u, vs) => vs.map(fmtRate), size: 80 }],
  }, null, { series: ['packets', 'bits'], points: bins, sums: { packets: packets.reduce((a, b) => a + b, 0), bytes: bytes.reduce((a, b) => a + b, 0) } },
  { downsample: { xs, ys: [packets, bps] } });

  const flagNames = Object.keys(c.flags);
  if (flagNames.length > 0) {
    const ys = flagNames.map((f) => Float64Array.from(col(buf, c.flags[f])));
    const sums = Object.fromEntries(flagNames.map((f, i) => [f, ys[i].reduce((a, b) => a + b, 0)]));
    makeChart('flags', s, {
      title: 'TCP analysis flags per bin (Wireshark expert info)',
      series: [{}, ...flagNames.map((f) => ({ label: f, stroke: FLAG_COLORS[f] ?? COLORS[0], width: 1.5 }))],
    }, null, { series: flagNames, points: bins, sums }, { downsample: { xs, ys } });
  } else {
    s.append(el('h3', {}, 'TCP analysis flags'), el('p', { class: 'muted' }, '(none)'));
  }
  const states = Object.keys(c.states);
  if (states.length > 0) {
    const ys = states.map((st) => Float64Array.from(col(buf, c.states[st])));
    const sums = Object.fromEntries(states.map((st, i) => [st, ys[i].reduce((a, b) => a + b, 0)]));
    makeChart('states', s, {
      title: 'New connections per bin, by final state (Zeek conn_state)',
      series: [{}, ...states.map((st, i) => ({ label: st, stroke: COLORS[i % COLORS.length] }))],
    }, null, { series: states, points: bins, sums }, { downsample: { xs, ys } });
  }
  s.append(el('h3', {}, 'Connections by state'), dataTable(c.stateCounts, { id: 'tbl-states' }));
  return s;
}

function connections() {
  const s = section('connections', 'Connections');
  s.append(el('p', { class: 'hint' }, 'Zeek conn.log columns (ts, uid, id.orig_h ... resp_ip_bytes) as far as the flows table has them, then the other flows columns. Click a header to sort, type to filter, click a connection to draw its graphs.'));
  s.append(dataTable(meta.flows, { onRow: (i) => openFlow(i), filter: true, limit: 2000, id: 'tbl-flows' }));
  s.append(el('div', { id: 'flow-panel' }));
  return s;
}

// ------------------------------------------------ per connection
let flowBuf = null;
let flowCols = null;
async function flowData() {
  if (!flowCols) {
    flowBuf = await inflate('tcplens-flows');
    const r = meta.series;
    flowCols = {};
    for (const [k, v] of Object.entries(r)) if (v && typeof v === 'object' && 't' in v && 'o' in v) flowCols[k] = col(flowBuf, v);
  }
  return flowCols;
}

/** Flags drawn on the time-sequence graph, each in its own colour; others are counted in the legend only. */
const TS_MARKS = [
  { name: 'retransmission', flags: ['retransmission', 'fast_retransmission', 'spurious_retransmission'], data: true },
  { name: 'out_of_order', flags: ['out_of_order'], data: true },
  { name: 'lost_segment', flags: ['lost_segment'], data: true },
  { name: 'duplicate_ack', flags: ['duplicate_ack'], data: false },
  { name: 'zero_window', flags: ['zero_window'], data: false },
];

function flowLabel(i) {
  const cols = meta.flows.columns;
  const row = meta.flows.rows[i];
  const g = (n) => row[cols.indexOf(n)];
  return `${g('id.orig_h')}:${g('id.orig_p')} → ${g('id.resp_h')}:${g('id.resp_p')} (${g('conn_state') ?? ''})`;
}

function barsPaths(lens) {
  return (u, si, i0, i1) => {
    const p = new Path2D();
    const xs = u.data[0];
    const ys = u.data[si];
    for (let i = i0; i <= i1; i++) {
      const y = ys[i];
      if (y === null || y === undefined) continue;
      const x = Math.round(u.valToPos(xs[i], 'x', true)) + 0.5;
      const top = lens[i];
      const y0 = u.valToPos(y, 'y', true);
      const y1 = u.valToPos(top, 'y', true);
      p.moveTo(x, y0);
      p.lineTo(x, y1);
      p.moveTo(x - 2, y1);
      p.lineTo(x + 2, y1);
    }
    return { stroke: p, fill: null };
  };
}

async function openFlow(i) {
  const panel = document.getElementById('flow-panel');
  panel.replaceChildren(el('p', { class: 'muted' }, 'decoding...'));
  const d = await flowData();
  const r0 = d.offsets[i];
  const r1 = d.offsets[i + 1];
  const flowT0 = d.flowT0[i];
  let clientBytes = 0;
  let serverBytes = 0;
  for (let k = r0; k < r1; k++) (d.dir[k] === 0 ? (clientBytes += d.len[k]) : (serverBytes += d.len[k]));
  report.state.flow = i;
  report.state.dir = serverBytes > clientBytes ? 1 : 0;
  panel.replaceChildren(el('h3', {}, `Connection ${i + 1}: ${flowLabel(i)}`));
  if (meta.series.downsampled.includes(i)) {
    panel.append(el('p', { class: 'hint' }, 'A long connection: per time bin, the lowest and highest segment, ACK and window edge are kept, plus every SYN/FIN/RST and every flagged frame.'));
  }
  const toggle = el('div', { class: 'tools' });
  const btn = [0, 1].map((dir) => el('button', { id: `dir-${dir}`, onclick: () => { report.state.dir = dir; draw(); } }, dir === 0 ? 'client → server data' : 'server → client data'));
  toggle.append(...btn, el('span', { class: 'hint' }, 'bars: data segments (seq..seq+len from the ISN); line: ACKs; upper line: receive-window edge (ack + window << scale); green bars: SACK blocks'));
  panel.append(toggle);
  const tsHolder = el('div');
  panel.append(tsHolder);
  const more = el('div');
  panel.append(more);
  function draw() {
    btn.forEach((b, k) => b.classList.toggle('on', k === report.state.dir));
    tsHolder.replaceChildren();
    timeSequence(tsHolder, d, i, r0, r1, flowT0, report.state.dir);
  }
  draw();
  throughputAndRtt(more, d, i, flowT0);
  report.state.flowDrawn = (report.state.flowDrawn ?? 0) + 1;
}

function timeSequence(holder, d, flow, r0, r1, flowT0, dir) {
  const xs = [];
  const seg = [];
  const segTop = [];
  const ack = [];
  const edge = [];
  const sack = [];
  const sackTop = [];
  const marks = TS_MARKS.map(() => []);
  const markTop = TS_MARKS.map(() => []);
  const flagBits = Object.fromEntries(meta.flags.map((f, k) => [f, 1 << k]));
  const markMasks = TS_MARKS.map((m) => m.flags.reduce((a, f) => a | (flagBits[f] ?? 0), 0));
  // SACK blocks per row (a row may carry up to four).
  const sackByRow = new Map();
  for (let k = 0; k < d.sackRow.length; k++) {
    const row = d.sackRow[k];
    if (row < r0 || row >= r1) continue;
    if (!sackByRow.has(row)) sackByRow.set(row, []);
    sackByRow.get(row).push([d.sackLeft[k], d.sackRight[k]]);
  }
  let counts = { segments: 0, acks: 0, sack: 0 };
  // Sequence numbers are relative to the ISN modulo 2^32: unwrap them so a long transfer keeps climbing.
  const unwrap = () => { let last = null; let base = 0; return (v) => { if (last !== null) { if (v - last < -2147483648) base += 4294967296; else if (v - last > 2147483648) base -= 4294967296; } last = v; return v + base; }; };
  const useq = unwrap();
  const uack = unwrap();
  const pushRow = (x) => {
    xs.push(x);
    seg.push(null); segTop.push(null); ack.push(null); edge.push(null); sack.push(null); sackTop.push(null);
    marks.forEach((m, k) => { m.push(null); markTop[k].push(null); });
    return xs.length - 1;
  };
  for (let k = r0; k < r1; k++) {
    const x = d.t[k] - flowT0;
    const mask = d.mask[k];
    if (d.dir[k] === dir) {
      const len = d.len[k];
      const isSynFin = (d.tcpFlags[k] & 3) !== 0;
      if (len === 0 && !isSynFin && mask === 0) continue;
      const j = pushRow(x);
      const s = useq(d.seq[k]);
      const top = s + Math.max(len, isSynFin ? 1 : 0);
      let marked = false;
      TS_MARKS.forEach((m, mi) => { if (m.data && (mask & markMasks[mi]) && !marked) { marks[mi][j] = s; markTop[mi][j] = top; marked = true; } });
      if (!marked) { seg[j] = s; segTop[j] = top; counts.segments++; }
    } else {
      if (!Number.isFinite(d.ack[k])) continue;
      const j = pushRow(x);
      const a = uack(d.ack[k]);
      ack[j] = a;
      edge[j] = a + (d.edge[k] - d.ack[k]);
      counts.acks++;
      TS_MARKS.forEach((m, mi) => { if (!m.data && (mask & markMasks[mi])) { marks[mi][j] = a; markTop[mi][j] = a; } });
      const blocks = sackByRow.get(k);
      if (blocks) {
        // One bar per row: the lowest left edge to the highest right edge (the blocks are listed in the table).
        const off = a - d.ack[k];
        sack[j] = Math.min(...blocks.map((b) => b[0])) + off;
        sackTop[j] = Math.max(...blocks.map((b) => b[1])) + off;
        counts.sack++;
      }
    }
  }
  const series = [
    { label: 'time (s)', value: (u, v) => (v === null ? '' : fmtSeconds(v)) },
    { label: 'data segment', stroke: '#2463d1', width: 1, paths: barsPaths(segTop), points: { show: false } },
    { label: 'ACK', stroke: '#5d8a00', width: 1.2, paths: uPlot.paths.stepped({ align: 1 }), spanGaps: true, points: { show: false } },
    { label: 'window edge', stroke: '#b8a200', width: 1, paths: uPlot.paths.stepped({ align: 1 }), spanGaps: true, points: { show: false } },
    { label: 'SACK', stroke: '#2ca02c', width: 3, paths: barsPaths(sackTop), points: { show: false } },
    ...TS_MARKS.map((m, mi) => (m.data
      ? { label: m.name, stroke: FLAG_COLORS[m.name], width: 2.5, paths: barsPaths(markTop[mi]), points: { show: false } }
      : { label: m.name, stroke: FLAG_COLORS[m.name], fill: FLAG_COLORS[m.name], paths: () => null, points: { show: true, size: 6, stroke: FLAG_COLORS[m.name], fill: FLAG_COLORS[m.name] } })),
  ];
  const data = [xs, seg, ack, edge, sack, ...marks];
  let maxTop = -Infinity;
  for (const tops of [segTop, ...markTop]) for (const v of tops) if (v !== null && v > maxTop) maxTop = v;
  let maxAck = -Infinity;
  for (const v of ack) if (v !== null && v > maxAck) maxAck = v;
  const nonNull = data.slice(1).map((a) => a.reduce((n, v) => n + (v === null ? 0 : 1), 0));
  if (xs.length === 0) {
    holder.append(el('p', { class: 'muted' }, 'No data segments or ACKs in this direction: (none)'));
    report.charts.tsg = { u: null, source: { series: series.slice(1).map((x) => x.label), points: 0, nonNull } };
    return;
  }
  makeChart('tsg', holder, {
    title: `Time-sequence graph (Stevens/tcptrace), ${dir === 0 ? 'client → server' : 'server → client'}`,
    height: 380,
    scales: { x: { time: false } },
    series,
    axes: [{ label: 'seconds since the connection\'s first packet', values: (u, vs) => vs.map((v) => fmtSeconds(v)) }, { label: 'relative sequence number', size: 80, values: (u, vs) => vs.map((v) => fmtBytes(v)) }],
  }, data, { series: series.slice(1).map((x) => x.label), points: xs.length, nonNull, flow, dir, maxTop, maxAck });
}

function throughputAndRtt(holder, d, flow, flowT0) {
  const binS = d.thrBinS[flow];
  const t0 = d.thrOffsets[flow];
  const t1 = d.thrOffsets[flow + 1];
  const bins = 400;
  const xs = Array.from({ length: bins }, (_, b) => (b + 0.5) * binS);
  const ys = [new Array(bins).fill(0), new Array(bins).fill(0)];
  let total = 0;
  for (let k = t0; k < t1; k++) { ys[d.thrDir[k]][d.thrBin[k]] += (d.thrBytes[k] * 8) / binS; total += d.thrBytes[k]; }
  makeChart('throughput', holder, {
    title: 'Throughput (payload bit/s per bin)',
    height: 220,
    scales: { x: { time: false } },
    series: [{ label: 'time (s)' }, { label: 'client → server', stroke: COLORS[0], value: (u, v) => fmtRate(v) }, { label: 'server → client', stroke: COLORS[1], value: (u, v) => fmtRate(v) }],
    axes: [{ values: (u, vs) => vs.map(fmtSeconds) }, { size: 80, values: (u, vs) => vs.map(fmtRate) }],
  }, [xs, ...ys], { series: ['client → server', 'server → client'], points: bins, payloadBytes: total, flow });
  const r0 = d.rttOffsets[flow];
  const r1 = d.rttOffsets[flow + 1];
  const rx = [];
  const ry = [[], []];
  for (let k = r0; k < r1; k++) {
    rx.push(d.rttT[k] - flowT0);
    ry[d.rttDir[k]].push(d.rttMs[k]);
    ry[1 - d.rttDir[k]].push(null);
  }
  if (rx.length === 0) {
    holder.append(el('h3', {}, 'RTT'), el('p', { class: 'muted' }, 'RTT: (none) - no data segment was acknowledged exactly'));
    report.charts.rtt = { u: null, source: { series: ['client → server data', 'server → client data'], points: 0, flow } };
    return;
  }
  makeChart('rtt', holder, {
    title: 'RTT (data segment to the ACK that covers exactly its end; retransmissions left out)',
    height: 220,
    scales: { x: { time: false } },
    series: [{ label: 'time (s)' }, { label: 'client → server data', stroke: COLORS[0], paths: () => null, points: { show: true, size: 4, fill: COLORS[0] } },
      { label: 'server → client data', stroke: COLORS[1], paths: () => null, points: { show: true, size: 4, fill: COLORS[1] } }],
    axes: [{ values: (u, vs) => vs.map(fmtSeconds) }, { label: 'ms', size: 70 }],
  }, [rx, ...ry], { series: ['client → server data', 'server → client data'], points: rx.length, flow });
}

// ------------------------------------------------ scans, anomalies, ISNs
function scansSection(buf) {
  const s = section('scans', 'Scans');
  const scans = meta.scans;
  if (scans.rows.length === 0) {
    s.append(el('p', { class: 'muted' }, 'Scans: (none)'));
    return s;
  }
  const p = meta.probes;
  const scanId = col(buf, p.scan);
  const t = col(buf, p.t);
  const type = col(buf, p.type);
  const idCol = scans.columns.indexOf('scan_id');
  const scannerCol = scans.columns.indexOf('scanner');
  const scanners = [...new Set(scans.rows.map((r) => r[scannerCol]))];
  const rowOfScan = new Map(scans.rows.map((r) => [r[idCol], scanners.indexOf(r[scannerCol])]));
  const order = Array.from(t.keys()).sort((a, b) => t[a] - t[b]);
  const xs = order.map((k) => meta.t0 + t[k]);
  const types = p.probeTypes;
  const ys = types.map(() => new Array(order.length).fill(null));
  order.forEach((k, j) => { const ti = type[k] === 255 ? 0 : type[k]; ys[ti][j] = rowOfScan.get(scanId[k]); });
  const present = types.map((_, ti) => ys[ti].some((v) => v !== null));
  const series = [{}];
  const data = [xs];
  const names = [];
  types.forEach((name, ti) => {
    if (!present[ti]) return;
    names.push(name);
    series.push({ label: `${name} probe`, stroke: COLORS[ti % COLORS.length], paths: () => null, points: { show: true, size: 5, fill: COLORS[ti % COLORS.length] } });
    data.push(ys[ti]);
  });
  s.append(el('p', { class: 'hint' }, 'One row per scanner; every probe at its time, coloured by probe type (nmap\'s names).'));
  makeChart('scans', s, {
    title: 'Scans timeline',
    height: Math.max(160, 60 + 28 * scanners.length),
    series,
    scales: { y: { range: [-0.5, scanners.length - 0.5] } },
    axes: [{}, { size: 150, splits: () => scanners.map((_, k) => k), values: (u, vs) => vs.map((v) => scanners[v] ?? '') }],
  }, data, { series: names, points: xs.length, probes: scans.rows.reduce((n, r) => n + r[scans.columns.indexOf('probes')], 0) });
  s.append(el('h3', {}, 'Each scan: ports and targets'), dataTable(scans, { id: 'tbl-scans' }));
  return s;
}

function anomaliesSection() {
  return section('anomalies', 'Anomalies', dataTable(meta.anomalies, { id: 'tbl-anomalies', filter: true }));
}

function isnSection(buf) {
  const s = section('isn', 'Initial sequence numbers per host');
  s.append(el('p', { class: 'hint' }, 'ISN against time, one chart per host and role (SYN = as a client, SYN/ACK = as a server): a constant generator is a flat line, an incremental one a staircase, a random one a cloud.'));
  s.append(dataTable(meta.isn.hosts, { id: 'tbl-isn' }));
  const g = col(buf, meta.isn.group);
  const t = col(buf, meta.isn.t);
  const isn = col(buf, meta.isn.isn);
  const grid = el('div', { class: 'isn-grid' });
  s.append(grid);
  const shown = meta.isn.groups.slice(0, 24);
  shown.forEach((grp, gi) => {
    const xs = [];
    const ys = [];
    for (let k = 0; k < g.length; k++) if (g[k] === gi) { xs.push(meta.t0 + t[k]); ys.push(isn[k]); }
    makeChart(`isn-${gi}`, grid, {
      title: `${grp.host} (${grp.role === 'syn' ? 'SYN' : 'SYN/ACK'})`,
      width: 460, height: 200,
      series: [{}, { label: 'ISN', stroke: COLORS[gi % COLORS.length], paths: () => null, points: { show: true, size: 5, fill: COLORS[gi % COLORS.length] } }],
      scales: { y: { range: [0, 4294967295] } },
      axes: [{}, { size: 80, values: (u, vs) => vs.map((v) => `${(v / 4294967296 * 100).toFixed(0)}%`) }],
    }, [xs, ys], { series: ['ISN'], points: xs.length, host: grp.host, role: grp.role });
  });
  if (meta.isn.groups.length > shown.length) s.append(el('p', { class: 'muted' }, `${meta.isn.groups.length - shown.length} more hosts in the table above`));
  return s;
}

// ---------------------------------------------------------------- boot
async function boot() {
  const app = document.getElementById('app');
  const buf = await inflate('tcplens-main');
  app.replaceChildren(
    el('header', { class: 'top' }, el('h1', {}, meta.title),
      el('nav', {}, ...[['overview', 'Overview'], ['capture', 'Over time'], ['connections', 'Connections'], ['scans', 'Scans'], ['anomalies', 'Anomalies'], ['isn', 'ISNs']].map(([id, t]) => el('a', { href: `#${id}` }, t))),
      el('span', { class: 'muted' }, `tcplens report, made ${meta.generated}`)),
  );
  const main = el('main');
  app.append(main);
  main.append(overview());
  main.append(captureCharts(buf));
  main.append(connections());
  main.append(scansSection(buf));
  main.append(anomaliesSection());
  main.append(isnSection(buf));
  report.openFlow = openFlow;
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  performance.mark('tcplens-drawn');
  document.body.dataset.ready = '1';
}

window.addEventListener('error', (e) => report.errors.push(String(e.message)));
report.openFlow = openFlow;
report.ready = boot().catch((err) => {
  report.errors.push(String(err && err.stack ? err.stack : err));
  document.body.dataset.ready = 'error';
  document.getElementById('app').append(el('pre', { class: 'warn' }, `report failed: ${err}`));
});
