// SVG charts for docs/performance.md from bench/results/*.json (no dependencies):
// - docs/charts/throughput.svg: req/s of Tessera, its peers and the bare baselines (peers suite);
// - docs/charts/p99-vs-sessions.svg: guarded p99 against live sessions in Redis (scale suite);
// - docs/charts/revocation-latency.svg: distribution of the global revocation latency.
// `npm run bench:charts` (also run by `npm run bench`).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { RESULTS_DIR } from './lib/results.ts';

type Json = Record<string, unknown>;
const OUT = new URL('../docs/charts/', import.meta.url);
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif"';
const COLORS = {
  tessera: '#2563eb',
  peer: '#f59e0b',
  baseline: '#9ca3af',
  line: ['#2563eb', '#dc2626', '#16a34a'],
};

function load(name: string): Json | null {
  const url = new URL(`${name}.json`, RESULTS_DIR);
  return existsSync(url) ? (JSON.parse(readFileSync(url, 'utf8')) as Json) : null;
}

const esc = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Set while rendering a chart from a short validation run: printed under the chart. */
let validationNote: string | undefined;

function svg(width: number, plotHeight: number, title: string, body: string[]): string {
  const height = validationNote ? plotHeight + 24 : plotHeight;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="13">`,
    `<title>${esc(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    ...body,
    ...(validationNote
      ? [
          `<text x="16" y="${height - 8}" fill="#b91c1c" font-weight="600">${esc(`${/validation/i.test(validationNote) ? validationNote : `Short validation run (${validationNote})`}: not a measurement`)}</text>`,
        ]
      : []),
    '</svg>',
    '',
  ].join('\n');
}

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

/** Horizontal bars: one per scenario, coloured by kind, value at the bar's end. */
export function throughputChart(peers: Json, date: string): string {
  const rows = ((peers.scenarios as Json[]) ?? []).map((s) => {
    const name = String(s.name)
      .replace('getSession (Redis secondary storage)', 'getSession (Redis)')
      .replace(' (EdDSA, LOG_LEVEL=info)', ' (EdDSA)');
    const kind = /Tessera|authorize/.test(name)
      ? 'tessera'
      : /^bare |^Fastify stub/.test(name)
        ? 'baseline'
        : 'peer';
    return { name, value: Number(s.requestsPerSec), cpu: Number(s.serverCpuUsPerRequest), kind };
  });
  const left = 430;
  const barArea = 400;
  const rowHeight = 28;
  const top = 56;
  const height = top + rows.length * rowHeight + 50;
  const width = left + barArea + 120;
  const max = niceMax(Math.max(...rows.map((r) => r.value), 1));
  const body = [
    `<text x="16" y="24" font-size="16" font-weight="600">Requests/s (autocannon -c 50, same machine, same run; median of rounds)</text>`,
    `<text x="16" y="42" fill="#6b7280">${esc(`peers suite, ${date}; GET /whoami (the auth service: GET /v1/authorize); Tessera also checks revocation, the peers do not`)}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const x = left + (barArea * i) / 4;
    body.push(
      `<line x1="${x}" y1="${top - 4}" x2="${x}" y2="${top + rows.length * rowHeight}" stroke="#e5e7eb"/>`,
    );
    body.push(
      `<text x="${x}" y="${top + rows.length * rowHeight + 16}" text-anchor="middle" fill="#6b7280">${Math.round((max * i) / 4)}</text>`,
    );
  }
  rows.forEach((r, i) => {
    const y = top + i * rowHeight;
    const w = (barArea * r.value) / max;
    body.push(`<text x="${left - 8}" y="${y + 17}" text-anchor="end">${esc(r.name)}</text>`);
    body.push(
      `<rect x="${left}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowHeight - 10}" fill="${COLORS[r.kind as keyof typeof COLORS] as string}" rx="2"/>`,
    );
    body.push(
      `<text x="${(left + w + 6).toFixed(1)}" y="${y + 17}" fill="#374151">${r.value} (${r.cpu} µs CPU)</text>`,
    );
  });
  const legendY = height - 14;
  [
    ['Tessera', COLORS.tessera],
    ['peer (no revocation check)', COLORS.peer],
    ['bare framework (or stub)', COLORS.baseline],
  ].forEach(([label, color], i) => {
    const x = 16 + i * 230;
    body.push(`<rect x="${x}" y="${legendY - 10}" width="12" height="12" fill="${color}"/>`);
    body.push(`<text x="${x + 18}" y="${legendY}">${esc(label as string)}</text>`);
  });
  return svg(width, height, 'Requests per second: Tessera, its peers and bare frameworks', body);
}

/** Lines: p99 per guarded series against sessions (log scale). */
export function p99Chart(scale: Json, date: string): string {
  const levels = (scale.sessionLevels as Json[]) ?? [];
  const xs = levels.map((l) => Number(l.sessions));
  const series = ((levels[0]?.guarded as Json[]) ?? []).map((g, s) => ({
    name: String(g.name),
    color: COLORS.line[s % COLORS.line.length] as string,
    values: levels.map((l) => Number(((l.guarded as Json[])[s] as Json | undefined)?.latencyP99Ms ?? 0)),
  }));
  const width = 760;
  const height = 400;
  const plot = { left: 70, top: 60, right: width - 30, bottom: height - 110 };
  const maxY = niceMax(Math.max(1, ...series.flatMap((s) => s.values)));
  const logMin = Math.log10(Math.max(1, Math.min(...xs, 1000)));
  const logMax = Math.log10(Math.max(10, ...xs));
  const px = (x: number) =>
    plot.left +
    ((Math.log10(Math.max(1, x)) - logMin) / Math.max(1e-9, logMax - logMin)) * (plot.right - plot.left);
  const py = (y: number) => plot.bottom - (y / maxY) * (plot.bottom - plot.top);
  const body = [
    `<text x="16" y="24" font-size="16" font-weight="600">Guarded p99 latency vs live sessions in Redis (node:http + guard, -c 50)</text>`,
    `<text x="16" y="42" fill="#6b7280">${esc(`scale suite, ${date}; flat is the goal (largest ÷ smallest ≤ 1.2)`)}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const y = py((maxY * i) / 4);
    body.push(`<line x1="${plot.left}" y1="${y}" x2="${plot.right}" y2="${y}" stroke="#e5e7eb"/>`);
    body.push(
      `<text x="${plot.left - 8}" y="${y + 4}" text-anchor="end" fill="#6b7280">${(maxY * i) / 4} ms</text>`,
    );
  }
  for (const x of xs) {
    body.push(
      `<text x="${px(x)}" y="${plot.bottom + 18}" text-anchor="middle" fill="#6b7280">${x >= 1e6 ? `${x / 1e6}M` : x >= 1e3 ? `${x / 1e3}k` : x}</text>`,
    );
  }
  body.push(
    `<text x="${(plot.left + plot.right) / 2}" y="${plot.bottom + 38}" text-anchor="middle">live sessions in Redis (log scale)</text>`,
  );
  series.forEach((s, i) => {
    const points = s.values.map((v, j) => `${px(xs[j] ?? 1).toFixed(1)},${py(v).toFixed(1)}`);
    body.push(`<polyline points="${points.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2.5"/>`);
    s.values.forEach((v, j) => {
      body.push(
        `<circle cx="${px(xs[j] ?? 1).toFixed(1)}" cy="${py(v).toFixed(1)}" r="4" fill="${s.color}"/>`,
      );
    });
    body.push(
      `<rect x="${plot.left}" y="${height - 58 + i * 18 - 10}" width="12" height="12" fill="${s.color}"/>`,
    );
    body.push(
      `<text x="${plot.left + 18}" y="${height - 58 + i * 18}">${esc(s.name)}: ${s.values.join(' → ')} ms</text>`,
    );
  });
  return svg(width, height, 'Guarded p99 latency against live sessions in Redis', body);
}

/** Histogram of revocation latencies (0.5 ms bins), p50/p99 marked. */
export function revocationChart(revocation: Json, date: string): string {
  const samples = ((revocation.samples as number[]) ?? []).slice().sort((a, b) => a - b);
  const latency = (revocation.latency as Json) ?? {};
  const width = 760;
  const height = 360;
  const plot = { left: 60, top: 76, right: width - 30, bottom: height - 60 };
  const p99 = Number(latency.p99Ms ?? 0);
  const upper = Math.max(5, Math.ceil(Math.min(samples[samples.length - 1] ?? 5, Math.max(10, p99 * 1.2))));
  const bin = upper <= 12 ? 0.5 : niceMax(upper / 24);
  const bins = Array.from({ length: Math.ceil(upper / bin) }, () => 0);
  let over = 0;
  for (const s of samples) {
    const i = Math.floor(s / bin);
    if (i < bins.length) bins[i] = (bins[i] ?? 0) + 1;
    else over++;
  }
  const maxCount = niceMax(Math.max(1, ...bins));
  const bw = (plot.right - plot.left) / bins.length;
  const px = (ms: number) => plot.left + (ms / upper) * (plot.right - plot.left);
  const py = (n: number) => plot.bottom - (n / maxCount) * (plot.bottom - plot.top);
  const body = [
    `<text x="16" y="24" font-size="16" font-weight="600">Global revocation latency: logout response → both example services refuse</text>`,
    `<text x="16" y="42" fill="#6b7280">${esc(`${samples.length} trials, ${date}; p50 ${String(latency.p50Ms)} ms, p99 ${String(latency.p99Ms)} ms, max ${String(latency.maxMs)} ms`)}</text>`,
    `<text x="16" y="58" fill="#6b7280">${esc(`goal p50 ≤ 1 ms, p99 ≤ 5 ms${over ? `; ${over} trial(s) beyond the axis` : ''}`)}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const y = py((maxCount * i) / 4);
    body.push(`<line x1="${plot.left}" y1="${y}" x2="${plot.right}" y2="${y}" stroke="#e5e7eb"/>`);
    body.push(
      `<text x="${plot.left - 8}" y="${y + 4}" text-anchor="end" fill="#6b7280">${(maxCount * i) / 4}</text>`,
    );
  }
  bins.forEach((n, i) => {
    if (n === 0) return;
    body.push(
      `<rect x="${(plot.left + i * bw + 1).toFixed(1)}" y="${py(n).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${(plot.bottom - py(n)).toFixed(1)}" fill="${COLORS.tessera}"/>`,
    );
  });
  const every = Math.max(1, Math.ceil(bins.length / 12));
  for (let i = 0; i <= bins.length; i += every) {
    const ms = i * bin;
    body.push(
      `<text x="${px(ms)}" y="${plot.bottom + 18}" text-anchor="middle" fill="#6b7280">${Math.round(ms * 10) / 10}</text>`,
    );
  }
  body.push(
    `<text x="${(plot.left + plot.right) / 2}" y="${plot.bottom + 38}" text-anchor="middle">ms (bins of ${bin} ms); trials per bin on the left</text>`,
  );
  const marks = [
    ['p50', Number(latency.p50Ms ?? 0), '#16a34a'],
    ['p99', p99, '#dc2626'],
    ['goal p99', 5, '#6b7280'],
  ] as const;
  marks.forEach(([label, ms, color], k) => {
    if (ms > upper) return;
    body.push(
      `<line x1="${px(ms)}" y1="${plot.top}" x2="${px(ms)}" y2="${plot.bottom}" stroke="${color}" stroke-dasharray="4 3" stroke-width="1.5"/>`,
    );
    body.push(`<text x="${px(ms) + 4}" y="${plot.top + 12 + k * 16}" fill="${color}">${label}</text>`);
  });
  return svg(width, height, 'Distribution of the global revocation latency', body);
}

/** Writes every chart whose results exist; returns the files written. */
/** Width and height of an SVG written by this module (for rendering it to PNG at its size). */
export function svgSize(content: string): { width: number; height: number } {
  const match = /width="(\d+)" height="(\d+)"/.exec(content);
  return { width: Number(match?.[1] ?? 800), height: Number(match?.[2] ?? 400) };
}

export function writeCharts(): string[] {
  mkdirSync(OUT, { recursive: true });
  const written: string[] = [];
  const stamp = (r: Json) =>
    String(r.date ?? '')
      .slice(0, 16)
      .replace('T', ' ');
  const out = (name: string, content: string) => {
    writeFileSync(new URL(name, OUT), content);
    written.push(`docs/charts/${name}`);
  };
  const peers = load('peers');
  const render = (result: Json, chart: (r: Json, date: string) => string) => {
    validationNote = result.validation ? String(result.validation) : undefined;
    return chart(result, stamp(result));
  };
  if (peers) out('throughput.svg', render(peers, throughputChart));
  const scale = load('scale');
  if (scale) out('p99-vs-sessions.svg', render(scale, p99Chart));
  const revocation = load('revocation');
  if (revocation?.samples) out('revocation-latency.svg', render(revocation, revocationChart));
  return written;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const file of writeCharts()) {
    const size = svgSize(readFileSync(new URL(`../${file}`, import.meta.url), 'utf8'));
    console.log(`  ${file} (${size.width}×${size.height})`);
  }
}
