/**
 * Builds the one self-contained HTML file: uPlot's script and stylesheet (read from the installed npm
 * package), the page's own script and stylesheet (page/), the JSON description and the two base64 data
 * blobs, all inline. A Content-Security-Policy forbids every network request, so the page provably
 * needs nothing from outside the file.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ReportData } from './extract.js';
import { PAGE_CSS } from './page/style.js';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));

/** page/ is copied next to the compiled module by tsc (allowJs); from the sources it is beside this file. */
function pageFile(name: string): string {
  return readFileSync(path.join(here, 'page', name), 'utf8').replace(/^\/\/# sourceMappingURL=.*$/m, '');
}

function uplotFile(name: string): string {
  return readFileSync(path.join(path.dirname(require.resolve('uplot')), name), 'utf8');
}

/** Text that goes inside <script>: no "</script" may end the element early. */
function scriptSafe(text: string): string {
  return text.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

export const CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; connect-src 'none'; font-src data:";

export function assembleHtml(data: ReportData): string {
  const css = `${uplotFile('uPlot.min.css')}\n${PAGE_CSS}`;
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(data.meta.title)}</title>`,
    `<style>${css.replace(/<\/style/gi, '<\\/style')}</style>`,
    '</head><body>',
    '<div id="app"><p id="loading">loading the report...</p></div>',
    `<script type="application/json" id="tcplens-meta">${scriptSafe(JSON.stringify(data.meta))}</script>`,
    `<script type="application/octet-stream" id="tcplens-main">${data.main.encode()}</script>`,
    `<script type="application/octet-stream" id="tcplens-flows">${data.flowBlob.encode()}</script>`,
    `<script>${scriptSafe(uplotFile('uPlot.iife.min.js'))}</script>`,
    `<script type="module">${scriptSafe(pageFile('app.js'))}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}
