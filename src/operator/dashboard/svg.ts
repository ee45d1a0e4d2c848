// Small inline SVG plots for the dashboard: lines over time and a run timeline. No script, no external file: the
// page's Content-Security-Policy allows neither. Every text that can come from a user (feature names, versions,
// run names) goes through escapeHtml.
import { escapeHtml } from './html.js';

export interface Series {
  readonly name: string;
  readonly points: readonly { readonly t: number; readonly v: number }[];
}

const palette = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
export const colorOf = (i: number): string => palette[i % palette.length] ?? '#000';

const fmt = (v: number): string => String(Number(v.toPrecision(3)));
const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 19);

interface Frame { readonly w: number; readonly h: number; readonly left: number; readonly right: number; readonly top: number; readonly bottom: number }
const frame: Frame = { w: 680, h: 220, left: 48, right: 150, top: 12, bottom: 28 };

/** Lines of values over time, with the value range on the y axis, the time range on the x axis and a legend. */
export function lineChart(title: string, series: readonly Series[], options: { readonly step?: boolean; readonly yMin?: number; readonly yMax?: number } = {}): string {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return `<p class="empty">${escapeHtml(title)}: no measurements yet.</p>`;
  const t0 = Math.min(...all.map((p) => p.t));
  const t1 = Math.max(...all.map((p) => p.t), t0 + 1);
  let y0 = options.yMin ?? Math.min(...all.map((p) => p.v));
  let y1 = options.yMax ?? Math.max(...all.map((p) => p.v));
  if (y1 - y0 < 1e-9) { y0 -= 0.5; y1 += 0.5; }
  const { w, h, left, right, top, bottom } = frame;
  const x = (t: number): number => left + ((t - t0) / (t1 - t0)) * (w - left - right);
  const y = (v: number): number => top + (1 - (v - y0) / (y1 - y0)) * (h - top - bottom);
  const lines = series.map((s, i) => {
    const pts: string[] = [];
    s.points.forEach((p, j) => {
      const prev = s.points[j - 1];
      if (options.step && prev) pts.push(`${x(p.t).toFixed(1)},${y(prev.v).toFixed(1)}`);
      pts.push(`${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`);
    });
    const dots = s.points.length === 1 ? `<circle cx="${pts[0]?.split(',')[0] ?? 0}" cy="${pts[0]?.split(',')[1] ?? 0}" r="3" fill="${colorOf(i)}"/>` : '';
    return `<polyline fill="none" stroke="${colorOf(i)}" stroke-width="2" points="${pts.join(' ')}"/>${dots}`;
  }).join('');
  const legend = series.map((s, i) => `<text x="${w - right + 12}" y="${top + 14 + i * 16}" fill="${colorOf(i)}">${escapeHtml(s.name)}</text>`).join('');
  return `<figure><figcaption>${escapeHtml(title)}</figcaption><svg role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" xmlns="http://www.w3.org/2000/svg">`
    + `<rect x="${left}" y="${top}" width="${w - left - right}" height="${h - top - bottom}" fill="#fafafa" stroke="#ccc"/>`
    + `<text x="${left - 4}" y="${top + 10}" text-anchor="end">${fmt(y1)}</text><text x="${left - 4}" y="${h - bottom}" text-anchor="end">${fmt(y0)}</text>`
    + `<text x="${left}" y="${h - 8}">${clock(t0)}</text><text x="${w - right}" y="${h - 8}" text-anchor="end">${clock(t1)}</text>`
    + lines + legend + '</svg></figure>';
}

export interface TimelineRun {
  readonly name: string;
  readonly trigger: string;
  readonly outcome: string;
  readonly start: number;
  readonly end: number | undefined;
}

const outcomeColor: Readonly<Record<string, string>> = { Blessed: '#2ca02c', Rejected: '#ff7f0e', Failed: '#d62728', InvalidData: '#9467bd', Running: '#1f77b4' };

/** One bar per run from its start to its end (or now, while running), coloured by outcome, labelled with its trigger. */
export function runTimeline(runs: readonly TimelineRun[], now: number): string {
  if (runs.length === 0) return '<p class="empty">No runs yet.</p>';
  const t0 = Math.min(...runs.map((r) => r.start));
  const t1 = Math.max(now, ...runs.map((r) => r.end ?? now), t0 + 1);
  const rowH = 22;
  const { left, right } = { left: 150, right: 160 };
  const w = 680;
  const h = runs.length * rowH + 30;
  const x = (t: number): number => left + ((t - t0) / (t1 - t0)) * (w - left - right);
  const rows = [...runs].reverse().map((r, i) => {
    const y = 6 + i * rowH;
    const x0 = x(r.start);
    const width = Math.max(3, x(r.end ?? now) - x0);
    return `<text x="${left - 6}" y="${y + 14}" text-anchor="end">${escapeHtml(r.name)}</text>`
      + `<rect x="${x0.toFixed(1)}" y="${y}" width="${width.toFixed(1)}" height="${rowH - 6}" fill="${outcomeColor[r.outcome] ?? '#7f7f7f'}"><title>${escapeHtml(`${r.name}: ${r.trigger}, ${r.outcome}`)}</title></rect>`
      + `<text x="${(x0 + width + 4).toFixed(1)}" y="${y + 14}">${escapeHtml(`${r.trigger} · ${r.outcome}`)}</text>`;
  }).join('');
  return `<svg role="img" aria-label="run timeline" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" xmlns="http://www.w3.org/2000/svg">${rows}`
    + `<text x="${left}" y="${h - 6}">${escapeHtml(new Date(t0).toISOString().replace('.000Z', 'Z'))}</text><text x="${w - right}" y="${h - 6}" text-anchor="end">${escapeHtml(new Date(t1).toISOString().replace(/\.\d{3}Z$/, 'Z'))}</text></svg>`;
}
