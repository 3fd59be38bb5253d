// The FIM check report's page (pure: no vscode API, so tests load it): a chart per span kind, the table
// of samples, a sample's tokens. It draws from the report data with DOM calls only (file text is never
// parsed as HTML); its Content-Security-Policy allows only its own style and script, by nonce.

/** What the report's page asks of the extension. */
export type ReportMessage = { type: 'ready' } | { type: 'reveal'; index: number } | { type: 'save' };

/** The page: styles and script inline, allowed by nonce; it waits for the report message. */
export function reportHtml(nonce: string, cspSource: string): string {
  return `<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src ${cspSource}; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}';">
<style nonce="${nonce}">${STYLE}</style></head><body>
<header><h2 id="title">FIM check</h2><p id="meta"></p><button id="save">Save JSON</button></header>
<section id="charts"></section>
<table id="samples"><thead></thead><tbody></tbody></table>
<section id="detail"></section>
<script nonce="${nonce}">${SCRIPT}</script></body></html>`;
}

const STYLE = `
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 1em 2em; }
header { display: flex; gap: 1em; align-items: baseline; flex-wrap: wrap; }
button { background: var(--vscode-button-background); color: var(--vscode-button-foreground); border: none; padding: 0.3em 0.8em; cursor: pointer; }
#charts { display: flex; flex-wrap: wrap; gap: 1.5em; margin: 0.5em 0 1em; }
.chart h3 { margin: 0.2em 0; font-size: 1em; }
.chart text { fill: var(--vscode-foreground); font-size: 11px; }
.legend span { display: inline-block; margin-right: 1em; font-size: 0.9em; }
.legend i { display: inline-block; width: 0.8em; height: 0.8em; margin-right: 0.3em; vertical-align: middle; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.25em 0.5em; border-bottom: 1px solid var(--vscode-panel-border); vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr { cursor: pointer; } tbody tr:hover, tbody tr.selected { background: var(--vscode-list-hoverBackground); }
code, .tokens { font-family: var(--vscode-editor-font-family); white-space: pre-wrap; word-break: break-all; }
td code { display: inline-block; max-width: 18em; overflow: hidden; text-overflow: ellipsis; white-space: pre; vertical-align: bottom; }
.tokens span { border: 1px solid var(--vscode-panel-border); border-radius: 2px; margin: 0 1px; padding: 0 1px; }
.tokens span.even { background: var(--vscode-editor-inactiveSelectionBackground); }
.match { color: var(--vscode-testing-iconPassed); } .miss { color: var(--vscode-testing-iconFailed); }
#detail h4 { margin: 0.8em 0 0.2em; } .why { opacity: 0.8; font-size: 0.9em; }
`;

/** The page's script (plain JS, no build step): renders the report with DOM calls only. */
const SCRIPT = `
const vscode = acquireVsCodeApi();
const COLORS = { off: 'var(--vscode-charts-blue)', heal: 'var(--vscode-charts-orange)', exact: 'var(--vscode-charts-green)' };
const METRICS = [['exactMatch', 'exact match'], ['editSimilarity', 'edit similarity'], ['parseRate', 'parses']];
let report;
const el = (tag, props = {}, ...children) => {
  const e = document.createElement(tag);
  Object.assign(e, props);
  for (const c of children) e.append(c);
  return e;
};
const svg = (tag, attrs = {}) => {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
};
const pct = (x) => (x * 100).toFixed(1) + '%';
document.getElementById('save').addEventListener('click', () => vscode.postMessage({ type: 'save' }));
window.addEventListener('message', (e) => {
  if (e.data && e.data.type === 'report') render(e.data.report, e.data.title);
});
// The extension sends the report once the page listens (and again if the page is reloaded).
vscode.postMessage({ type: 'ready' });

function render(r, title) {
  report = r;
  document.getElementById('title').textContent = 'FIM check: ' + title;
  document.getElementById('meta').textContent = r.samples.length + ' spans, model ' + r.model + ', seed ' + r.seed + ', modes ' + r.modes.join(', ');
  const charts = document.getElementById('charts');
  charts.replaceChildren();
  for (const [kind, byMode] of Object.entries(r.byKind)) charts.append(chart(kind, byMode, r.modes));
  const head = document.querySelector('#samples thead');
  head.replaceChildren(el('tr', {}, el('th', { textContent: '#' }), el('th', { textContent: 'kind' }), el('th', { textContent: 'expected' }),
    ...r.modes.map((m) => el('th', { textContent: m }))));
  const body = document.querySelector('#samples tbody');
  body.replaceChildren();
  r.samples.forEach((s, i) => {
    const row = el('tr', { className: 'sample' }, el('td', { className: 'num', textContent: String(i + 1) }), el('td', { textContent: s.kind }),
      el('td', {}, el('code', { textContent: s.expected.replace(/\\r?\\n/g, ' ⏎ ') })),
      ...r.modes.map((m) => {
        const f = s.fills[m];
        if (!f) return el('td', { textContent: '–' });
        return el('td', { className: 'num ' + (f.exactMatch ? 'match' : 'miss'), textContent: (f.exactMatch ? '✓ ' : '') + pct(f.editSimilarity) });
      }));
    row.dataset.index = String(i);
    row.addEventListener('click', () => select(i));
    body.append(row);
  });
  document.getElementById('detail').replaceChildren();
}

function chart(kind, byMode, modes) {
  const n = Math.max(0, ...modes.map((m) => (byMode[m] ? byMode[m].n : 0)));
  const barW = 16, h = 90, top = 14, groupW = Math.max(modes.length * barW + 14, 96);
  const w = METRICS.length * groupW + 20;
  const s = svg('svg', { width: w, height: h + top + 30, role: 'img', 'aria-label': kind + ' spans' });
  s.append(svg('line', { x1: 10, x2: w, y1: top + h, y2: top + h, stroke: 'currentColor', 'stroke-opacity': 0.4 }));
  METRICS.forEach(([key, label], g) => {
    const x0 = 14 + g * groupW;
    modes.forEach((m, k) => {
      const v = byMode[m] ? byMode[m][key] : 0;
      const rect = svg('rect', { x: x0 + k * barW, y: top + h - v * h, width: barW - 3, height: Math.max(1, v * h), fill: COLORS[m] || 'gray' });
      const tip = svg('title');
      tip.textContent = m + ': ' + label + ' ' + pct(v);
      rect.append(tip);
      s.append(rect);
      const t = svg('text', { x: x0 + k * barW + (barW - 3) / 2, y: top + h - v * h - 3, 'text-anchor': 'middle' });
      t.textContent = Math.round(v * 100);
      s.append(t);
    });
    const t = svg('text', { x: x0 + (modes.length * barW) / 2, y: top + h + 16, 'text-anchor': 'middle' });
    t.textContent = label;
    s.append(t);
  });
  const legend = el('div', { className: 'legend' }, ...modes.map((m) => {
    const i = el('i');
    i.style.background = COLORS[m] || 'gray';
    return el('span', {}, i, m);
  }));
  return el('div', { className: 'chart' }, el('h3', { textContent: kind + ' spans (' + n + ')' }), s, legend);
}

function tokens(list, tint) {
  const box = el('div', { className: 'tokens' });
  list.forEach((t, k) => {
    const span = el('span', { textContent: typeof t === 'string' ? t : t.text });
    if (tint && typeof t !== 'string') {
      // Probability as colour: red (unsure) to green (sure).
      span.style.background = 'hsla(' + Math.round(t.p * 120) + ', 70%, 45%, 0.35)';
      span.title = 'p = ' + t.p.toFixed(3) + (t.alternatives.length ? '\\nalternatives:\\n' + t.alternatives.map((a) => JSON.stringify(a.text) + '  ' + a.p.toFixed(3)).join('\\n') : '');
    } else if (k % 2) span.className = 'even';
    box.append(span);
  });
  return box;
}

function select(i) {
  const s = report.samples[i];
  for (const row of document.querySelectorAll('#samples tbody tr')) row.classList.toggle('selected', row.dataset.index === String(i));
  const detail = document.getElementById('detail');
  detail.replaceChildren(el('h3', { textContent: 'Sample ' + (i + 1) + ' (' + s.kind + ', ' + s.file + ' [' + s.start + ', ' + s.end + '))' }),
    el('h4', { textContent: 'expected' }), tokens(s.expectedTokens.length ? s.expectedTokens : [s.expected], false));
  for (const m of report.modes) {
    const f = s.fills[m];
    if (!f) continue;
    detail.append(el('h4', { textContent: m + ': ' + (f.exactMatch ? 'exact match' : 'edit similarity ' + pct(f.editSimilarity)) + ', ' + (f.parses ? 'parses' : 'syntax error') +
      (f.canonical ? '' : ', non-canonical tokens') + ', confidence ' + f.confidence.toFixed(2) + ', ' + f.latencyMs.toFixed(0) + ' ms' }));
    detail.append(tokens(f.tokens, true));
    if (f.reason || f.raw !== f.text) detail.append(el('p', { className: 'why', textContent: (f.reason ? f.reason + '. ' : '') + 'The model wrote: ' + JSON.stringify(f.raw) }));
  }
  vscode.postMessage({ type: 'reveal', index: i });
}
`;
