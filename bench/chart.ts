// Renders benchmark results as dependency-free SVG: router latency against shape count (log-log), and grouped bars.
import type { RouterBenchResult } from './router-bench.js';

const COLORS: Record<string, string> = { indexed: '#1f77b4', filter: '#ff7f0e', naive: '#d62728' };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
}

/**
 * One panel per workload; x = shapes (log), y = median latency per change (log, ticks labelled in ns, µs or ms), a
 * line per mode. `notRun` names the cells that were not measured, printed under the chart.
 */
export function latencyChartSvg(
  results: readonly Pick<RouterBenchResult, 'workload' | 'shapes' | 'mode' | 'medianNs'>[],
  title: string,
  notRun: readonly string[] = [],
): string {
  const workloads = [...new Set(results.map((r) => r.workload))];
  const W = 420;
  const H = 300;
  const pad = { l: 64, r: 16, t: 36, b: 44 };
  const panels: string[] = [];
  workloads.forEach((wl, k) => {
    const rs = results.filter((r) => r.workload === wl && Number.isFinite(r.medianNs) && r.medianNs > 0);
    if (rs.length === 0) return;
    const xs = rs.map((r) => Math.log10(r.shapes));
    const ys = rs.map((r) => Math.log10(Math.max(1, r.medianNs)));
    const x0 = Math.floor(Math.min(...xs));
    const x1 = Math.ceil(Math.max(...xs));
    const y0 = Math.floor(Math.min(...ys));
    const y1 = Math.ceil(Math.max(...ys)) + (Math.ceil(Math.max(...ys)) === Math.floor(Math.min(...ys)) ? 1 : 0);
    const px = (x: number): number => pad.l + ((x - x0) / Math.max(1, x1 - x0)) * (W - pad.l - pad.r);
    const py = (y: number): number => H - pad.b - ((y - y0) / Math.max(1, y1 - y0)) * (H - pad.t - pad.b);
    const g: string[] = [
      `<g transform="translate(${k * W},0)">`,
      `<text x="${W / 2}" y="20" text-anchor="middle" font-weight="bold">${esc(wl)}</text>`,
    ];
    for (let x = x0; x <= x1; x++) {
      g.push(`<line x1="${px(x)}" y1="${py(y0)}" x2="${px(x)}" y2="${py(y1)}" stroke="#eee"/>`);
      g.push(
        `<text x="${px(x)}" y="${H - pad.b + 16}" text-anchor="middle" font-size="11">${x >= 6 ? `${10 ** (x - 6)}M` : x >= 3 ? `${10 ** (x - 3)}k` : 10 ** x}</text>`,
      );
    }
    for (let y = y0; y <= y1; y++) {
      g.push(`<line x1="${px(x0)}" y1="${py(y)}" x2="${px(x1)}" y2="${py(y)}" stroke="#eee"/>`);
      const ns = 10 ** y;
      const label = ns >= 1e6 ? `${ns / 1e6} ms` : ns >= 1e3 ? `${ns / 1e3} µs` : `${ns} ns`;
      g.push(`<text x="${pad.l - 6}" y="${py(y) + 4}" text-anchor="end" font-size="11">${label}</text>`);
    }
    g.push(`<text x="${W / 2}" y="${H - 8}" text-anchor="middle" font-size="11">shapes</text>`);
    for (const mode of [...new Set(rs.map((r) => r.mode))]) {
      const pts = rs.filter((r) => r.mode === mode).sort((a, b) => a.shapes - b.shapes);
      const color = COLORS[mode] ?? '#555';
      g.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map((r) => `${px(Math.log10(r.shapes)).toFixed(1)},${py(Math.log10(Math.max(1, r.medianNs))).toFixed(1)}`).join(' ')}"/>`,
      );
      for (const r of pts)
        g.push(
          `<circle cx="${px(Math.log10(r.shapes)).toFixed(1)}" cy="${py(Math.log10(Math.max(1, r.medianNs))).toFixed(1)}" r="3" fill="${color}"/>`,
        );
    }
    g.push('</g>');
    panels.push(g.join('\n'));
  });
  const modes = [...new Set(results.map((r) => r.mode))];
  const legend = modes
    .map(
      (m, i) =>
        `<g transform="translate(${16 + i * 110},${H + 16})"><rect width="14" height="4" y="-6" fill="${COLORS[m] ?? '#555'}"/><text x="20" font-size="12">${esc(m)}</text></g>`,
    )
    .join('\n');
  const width = Math.max(1, panels.length) * W;
  const notRunLine =
    notRun.length === 0
      ? ''
      : `<text x="16" y="${H + 66}" font-size="11" fill="#555">not run: ${esc(notRun.join(', '))}</text>\n`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H + (notRun.length === 0 ? 60 : 78)}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="16" y="${H + 48}" font-size="11" fill="#555">${esc(title)} — median latency per change (log-log)</text>
${notRunLine}${panels.join('\n')}
${legend}
</svg>
`;
}

export interface BarGroup {
  readonly group: string;
  readonly bars: readonly { readonly label: string; readonly value: number; readonly note?: string }[];
}

const BAR_COLORS = ['#7f7f7f', '#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#d62728', '#8c564b'];

/** Grouped bars on a linear axis from 0 (e.g. changes/s per target, one group per workload); a note above each bar. */
export function barChartSvg(groups: readonly BarGroup[], title: string, unit: string): string {
  const labels = [...new Set(groups.flatMap((g) => g.bars.map((b) => b.label)))];
  const max = Math.max(1, ...groups.flatMap((g) => g.bars.map((b) => b.value)));
  const step = 10 ** Math.floor(Math.log10(max));
  const top = Math.ceil(max / step) * step;
  const barW = 34;
  const groupW = labels.length * barW + 40;
  // The title sits at the top (y 22) and the unit label above the axis (y pad.t - 10): pad.t keeps them apart.
  const pad = { l: 80, r: 16, t: 58, b: 40 };
  const H = 338;
  const W = pad.l + pad.r + groups.length * groupW;
  const py = (v: number): number => H - pad.b - (v / top) * (H - pad.t - pad.b);
  const out: string[] = [];
  for (let v = 0; v <= top + 1e-9; v += step) {
    out.push(`<line x1="${pad.l}" y1="${py(v).toFixed(1)}" x2="${W - pad.r}" y2="${py(v).toFixed(1)}" stroke="#eee"/>`);
    out.push(
      `<text x="${pad.l - 6}" y="${(py(v) + 4).toFixed(1)}" text-anchor="end" font-size="11">${v.toLocaleString('en-US')}</text>`,
    );
  }
  groups.forEach((g, k) => {
    const x0 = pad.l + k * groupW + 20;
    out.push(
      `<text x="${x0 + (labels.length * barW) / 2}" y="${H - pad.b + 18}" text-anchor="middle" font-weight="bold" font-size="12">${esc(g.group)}</text>`,
    );
    for (const b of g.bars) {
      const i = labels.indexOf(b.label);
      const x = x0 + i * barW;
      const y = py(b.value);
      out.push(
        `<rect x="${x + 3}" y="${y.toFixed(1)}" width="${barW - 6}" height="${(H - pad.b - y).toFixed(1)}" fill="${BAR_COLORS[i % BAR_COLORS.length]}"/>`,
      );
      if (b.note !== undefined)
        out.push(
          `<text x="${x + barW / 2}" y="${(y - 4).toFixed(1)}" text-anchor="middle" font-size="10">${esc(b.note)}</text>`,
        );
    }
  });
  const legend = labels
    .map(
      (l, i) =>
        `<g transform="translate(${16 + (i % 4) * 190},${H + 8 + Math.floor(i / 4) * 18})"><rect width="12" height="12" y="-10" fill="${BAR_COLORS[i % BAR_COLORS.length]}"/><text x="18" font-size="12">${esc(l)}</text></g>`,
    )
    .join('\n');
  const rows = Math.ceil(labels.length / 4);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.max(W, 780)}" height="${H + 30 + rows * 18}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="16" y="22" font-size="13" font-weight="bold">${esc(title)}</text>
<text x="${pad.l - 6}" y="${pad.t - 10}" text-anchor="end" font-size="11" fill="#555">${esc(unit)}</text>
${out.join('\n')}
${legend}
</svg>
`;
}

/** One panel of a time-series chart: lines sharing a y axis (linear from 0). */
export interface SeriesPanel {
  readonly title: string;
  readonly unit: string;
  readonly lines: readonly { readonly label: string; readonly points: readonly (readonly [number, number])[] }[];
}

/** Panels side by side, x = minutes since the start (linear), y linear from 0; a legend per panel. */
export function timeSeriesSvg(panels: readonly SeriesPanel[], title: string): string {
  const W = 360;
  const H = 260;
  const pad = { l: 58, r: 14, t: 36, b: 40 };
  const out: string[] = [];
  panels.forEach((p, k) => {
    const pts = p.lines.flatMap((l) => l.points);
    const xMax = Math.max(1e-9, ...pts.map(([x]) => x));
    const yRaw = Math.max(1e-9, ...pts.map(([, y]) => y));
    const step = 10 ** Math.floor(Math.log10(yRaw));
    const yMax = Math.ceil(yRaw / step) * step;
    const px = (x: number): number => pad.l + (x / xMax) * (W - pad.l - pad.r);
    const py = (y: number): number => H - pad.b - (y / yMax) * (H - pad.t - pad.b);
    const g: string[] = [
      `<g transform="translate(${k * W},24)">`,
      `<text x="${W / 2}" y="16" text-anchor="middle" font-weight="bold" font-size="13">${esc(p.title)}</text>`,
    ];
    for (let v = 0; v <= yMax + 1e-9; v += step) {
      g.push(`<line x1="${pad.l}" y1="${py(v).toFixed(1)}" x2="${W - pad.r}" y2="${py(v).toFixed(1)}" stroke="#eee"/>`);
      g.push(
        `<text x="${pad.l - 6}" y="${(py(v) + 4).toFixed(1)}" text-anchor="end" font-size="10">${Number(v.toPrecision(6)).toLocaleString('en-US')}</text>`,
      );
    }
    for (let m = 0; m <= Math.floor(xMax); m += Math.max(1, Math.ceil(xMax / 10)))
      g.push(`<text x="${px(m).toFixed(1)}" y="${H - pad.b + 14}" text-anchor="middle" font-size="10">${m}</text>`);
    g.push(`<text x="${W / 2}" y="${H - 8}" text-anchor="middle" font-size="11">minutes (${esc(p.unit)})</text>`);
    p.lines.forEach((l, i) => {
      const color = BAR_COLORS[(i + 1) % BAR_COLORS.length];
      g.push(
        `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${l.points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`,
      );
      g.push(
        `<g transform="translate(${pad.l + 8 + i * 90},${pad.t + 4})"><rect width="10" height="10" y="-9" fill="${color}"/><text x="14" font-size="11">${esc(l.label)}</text></g>`,
      );
    });
    g.push('</g>');
    out.push(g.join('\n'));
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${panels.length * W}" height="${H + 30}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="8" y="16" font-size="13">${esc(title)}</text>
${out.join('\n')}
</svg>
`;
}
