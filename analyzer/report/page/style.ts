/** The page's stylesheet (inlined by assemble.ts after uPlot's own). */
export const PAGE_CSS = `
:root { --fg: #1d2330; --muted: #5b6475; --line: #d8dde6; --bg: #fff; --panel: #f6f8fb; --accent: #2463d1; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header.top { padding: 12px 20px; border-bottom: 1px solid var(--line); background: var(--panel); display: flex; gap: 24px; align-items: baseline; flex-wrap: wrap; }
header.top h1 { font-size: 18px; margin: 0; }
nav a { margin-right: 14px; color: var(--accent); text-decoration: none; }
main { padding: 8px 20px 40px; max-width: 1500px; }
section { margin-top: 22px; }
section > h2 { font-size: 16px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 14px; margin: 14px 0 6px; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; min-width: 130px; }
.card .v { font-size: 18px; font-weight: 600; }
.card .k { color: var(--muted); font-size: 12px; }
table.grid { border-collapse: collapse; font-size: 12.5px; width: 100%; }
table.grid th, table.grid td { border-bottom: 1px solid var(--line); padding: 3px 6px; text-align: left; white-space: nowrap; }
table.grid th { position: sticky; top: 0; background: var(--panel); cursor: pointer; user-select: none; }
table.grid td.n { text-align: right; font-variant-numeric: tabular-nums; }
table.grid tr.sel td { background: #dde8fb; }
table.grid tbody tr:hover td { background: #eef3fc; }
.scroll { max-height: 420px; overflow: auto; border: 1px solid var(--line); border-radius: 4px; }
.tools { display: flex; gap: 10px; align-items: center; margin: 6px 0; flex-wrap: wrap; }
.tools input { padding: 4px 8px; width: 320px; border: 1px solid var(--line); border-radius: 4px; }
.muted { color: var(--muted); }
.warn { color: #a15c00; }
.chart { margin: 6px 0 14px; }
.isn-grid { display: flex; flex-wrap: wrap; gap: 12px; }
.isn-grid .chart { margin: 0; }
button { font: inherit; padding: 3px 10px; border: 1px solid var(--line); background: var(--panel); border-radius: 4px; cursor: pointer; }
button.on { background: var(--accent); color: #fff; border-color: var(--accent); }
.hint { font-size: 12px; color: var(--muted); }
#flow-panel:empty { display: none; }
.uplot .u-legend { font-size: 12px; }
`;
