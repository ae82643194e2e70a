/**
 * The one timestamp text of tcplens (`info` printed it first): ISO 8601, UTC, nanoseconds, `Z`:
 * `2026-11-23T04:40:42.778994597Z`. DuckDB's strftime has no working nanosecond field for TIMESTAMP_NS
 * (its `%n` prints microseconds and garbage), so the fraction is cut from epoch_ns by hand.
 */

/** SQL expression turning a TIMESTAMP_NS (or TIMESTAMP) expression into the ISO text. */
export function isoNsSql(expr: string): string {
  const ns = `epoch_ns(CAST(${expr} AS TIMESTAMP_NS))`;
  return `CASE WHEN (${expr}) IS NULL THEN NULL ELSE strftime(CAST(${expr} AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S') || '.' || ` +
    `lpad(CAST(((${ns} % 1000000000) + 1000000000) % 1000000000 AS VARCHAR), 9, '0') || 'Z' END`;
}

const DUCK_TEXT = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * DuckDB's own text for a timestamp (`2026-11-23 04:56:25.44557`, trailing zeros dropped) as the ISO
 * text; anything else is returned unchanged.
 */
export function isoFromDuckText(text: string): string {
  const m = DUCK_TEXT.exec(text);
  if (!m) return text;
  const frac = (m[3] ?? '').padEnd(9, '0');
  const zone = m[4];
  if (!zone || zone === 'Z' || /^[+-]00:?(00)?$/.test(zone)) return `${m[1]}T${m[2]}.${frac}Z`;
  // A TIMESTAMPTZ shown in another time zone (DuckDB's TimeZone setting): back to UTC.
  const offset = zone.length === 3 ? `${zone}:00` : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const ms = Date.parse(`${m[1]}T${m[2]}${offset}`);
  if (Number.isNaN(ms)) return text;
  return `${new Date(ms).toISOString().slice(0, 19)}.${frac}Z`;
}

/** Nanoseconds since the epoch (bigint) as the ISO text. */
export function isoFromEpochNs(ns: bigint): string {
  const sec = ns / 1_000_000_000n;
  let frac = ns % 1_000_000_000n;
  let s = sec;
  if (frac < 0n) {
    frac += 1_000_000_000n;
    s -= 1n;
  }
  const base = new Date(Number(s) * 1000).toISOString().slice(0, 19);
  return `${base}.${frac.toString().padStart(9, '0')}Z`;
}
