// A small SVG line chart: time on x (ticks on the browser zone's hours), one line per series,
// gaps where a series has no bucket, <title> tooltips on the points.
import { h, s } from './util.js';

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

const HOUR = 3600 * 1000;
const p2 = (x) => String(x).padStart(2, '0');
const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short' });

/** "nice" tick values from 0 to at least max. */
function niceTicks(max, count = 5) {
  if (!(max > 0)) max = 1;
  const raw = max / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((st) => st >= raw) || 10 * mag;
  const top = Math.ceil(max / step - 1e-9) * step;
  const ticks = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(+v.toFixed(10));
  return ticks;
}

/** Ticks on the browser zone's clock between t0 and t1: minutes, hours or days. */
function timeTicks(t0, t1, maxTicks, minStep = 1) {
  const spanMin = (t1 - t0) / 60000;
  const step = [1, 2, 5, 10, 15, 30, 60, 120, 180, 240, 360, 720, 1440, 2880].find((st) => st >= minStep && spanMin / st <= maxTicks) || 4320;
  const unit = step >= 60 ? 60 : 1; // walk hour by hour (DST-safe) or minute by minute
  const d = new Date(t0);
  d.setSeconds(0, 0);
  if (unit === 60) d.setMinutes(0);
  while (d.getTime() < t0) d.setMinutes(d.getMinutes() + unit);
  const ticks = [];
  let guard = 0;
  while (d.getTime() <= t1 && guard++ < 5000) {
    const minOfDay = d.getHours() * 60 + d.getMinutes();
    if (step >= 1440 ? minOfDay === 0 : minOfDay % step === 0) ticks.push(d.getTime());
    if (unit === 60) d.setHours(d.getHours() + 1);
    else d.setMinutes(d.getMinutes() + 1);
  }
  return { ticks, step };
}

function tickLabel(t, step) {
  const d = new Date(t);
  if ((d.getHours() === 0 && d.getMinutes() === 0) || step >= 1440) return dayFmt.format(d);
  return `${p2(d.getHours())}:${p2(d.getMinutes())}`;
}

/**
 * opts: { testid, title, width, height, t0, t1, minStep? (minutes between x ticks, at least), yMax?,
 *         minTop? (the y axis goes at least this high), yFormat(v), yTickFormat?(v), unit, noDots?,
 *         series: [{ name, color, dashed?, points: [{ t, v, tip }] }] }
 * Points with v null/undefined break the line.
 */
export function lineChart(opts) {
  const W = Math.max(320, Math.floor(opts.width || 800));
  const H = opts.height || 240;
  const m = { l: 58, r: 16, t: 22, b: 34 };
  const iw = W - m.l - m.r;
  const ih = H - m.t - m.b;
  const { t0, t1 } = opts;
  let max = opts.yMax ?? (opts.minTop || 0);
  if (opts.yMax === undefined) {
    for (const se of opts.series) for (const p of se.points) if (p.v !== null && p.v !== undefined && p.v > max) max = p.v;
  }
  const yt = niceTicks(max);
  const yTop = opts.yMax ?? yt[yt.length - 1];
  const x = (t) => m.l + ((t - t0) / (t1 - t0)) * iw;
  const y = (v) => m.t + ih - (v / yTop) * ih;
  const fmtY = opts.yTickFormat || opts.yFormat || String;

  const svg = s('svg', { class: 'chart', width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': opts.title, testid: opts.testid });
  svg.append(s('title', {}, opts.title));
  // grid + y axis
  const gy = s('g', { class: 'axis axis-y' });
  for (const v of (opts.yMax !== undefined ? niceTicks(opts.yMax) : yt)) {
    if (v > yTop + 1e-9) continue;
    gy.append(s('line', { x1: m.l, x2: W - m.r, y1: y(v), y2: y(v), class: v === 0 ? 'axis-line' : 'grid' }));
    gy.append(s('text', { x: m.l - 6, y: y(v) + 4, 'text-anchor': 'end' }, fmtY(v)));
  }
  svg.append(gy);
  // x axis
  const gx = s('g', { class: 'axis axis-x' });
  const { ticks, step } = timeTicks(t0, t1, Math.max(3, Math.floor(iw / 70)), opts.minStep || 1);
  for (const t of ticks) {
    gx.append(s('line', { x1: x(t), x2: x(t), y1: m.t, y2: m.t + ih, class: new Date(t).getHours() === 0 && new Date(t).getMinutes() === 0 ? 'grid day' : 'grid' }));
    const label = tickLabel(t, step);
    const half = label.length * 3.3; // about half the label's width at 11px
    const anchor = x(t) + half > W - 2 ? 'end' : x(t) - half < 2 ? 'start' : 'middle';
    gx.append(s('text', { x: anchor === 'end' ? W - 2 : x(t), y: H - m.b + 16, 'text-anchor': anchor }, label));
  }
  gx.append(s('line', { x1: m.l, x2: m.l, y1: m.t, y2: m.t + ih, class: 'axis-line' }));
  svg.append(gx);
  // series
  const gs = s('g', { class: 'series' });
  for (const se of opts.series) {
    const pts = se.points.filter((p) => p.t >= t0 - HOUR && p.t <= t1 + HOUR).sort((a, b) => a.t - b.t);
    let d = '';
    let prev = null;
    for (const p of pts) {
      if (p.v === null || p.v === undefined) {
        prev = null;
        continue;
      }
      const joined = prev && p.t - prev.t <= (se.maxGap || HOUR) + 1;
      d += `${joined ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`;
      prev = p;
    }
    const g = s('g', { class: 'line', data: { series: se.name } });
    if (d) {
      const path = s('path', { d, fill: 'none', stroke: se.color, 'stroke-width': se.dashed ? 1.5 : 2, class: se.dashed ? 'dashed' : '' });
      if (se.dashed) path.setAttribute('stroke-dasharray', '5 4');
      g.append(path);
    }
    for (const p of pts) {
      if (p.v === null || p.v === undefined || (opts.noDots && p !== pts[pts.length - 1])) continue;
      g.append(s('circle', { cx: x(p.t).toFixed(1), cy: y(p.v).toFixed(1), r: se.dashed ? 2 : 3, fill: se.dashed ? '#fff' : se.color, stroke: se.color },
        s('title', {}, p.tip || `${se.name}: ${opts.yFormat ? opts.yFormat(p.v) : p.v}`)));
    }
    gs.append(g);
  }
  svg.append(gs);
  if (opts.unit) svg.append(s('text', { x: 6, y: 12, class: 'unit' }, opts.unit));
  return svg;
}

/** An HTML legend: [{ name, color, dashed?, label? }]; onToggle(name) when an entry is clicked. */
export function legend(items, hidden, onToggle) {
  return h('ul', { class: 'legend' }, items.map((it) => {
    const sw = h('span', { class: ['swatch', it.dashed ? 'dashed' : ''] });
    sw.style.borderColor = it.color;
    if (!it.dashed) sw.style.background = it.color;
    const li = h('li', { class: hidden.has(it.name) ? 'off' : '', data: { series: it.name } },
      onToggle
        ? h('button', { type: 'button', class: 'legend-btn', title: 'show / hide', 'aria-pressed': String(!hidden.has(it.name)), on: { click: () => onToggle(it.name) } }, sw, it.label || it.name)
        : h('span', { class: 'legend-btn' }, sw, it.label || it.name));
    return li;
  }));
}
