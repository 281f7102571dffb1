// Charts: ASR, ACD and PDD per termination gateway per hour, from
// /api/v1/cdr-stats?by=gateway&bucket=hour&since=RANGE.
import { h, fmtInt, fmtPct, fmtDec, fmtMs, fmtTime, parseTime, DASH, emptyState } from './util.js';
import { api, markUpdated, showError, clearError } from './core.js';
import { lineChart, legend, PALETTE } from './chart.js';

const RANGES = [['-6h', 'last 6 hours'], ['-24h', 'last 24 hours'], ['-7d', 'last 7 days']];
const HOUR = 3600 * 1000;
const RANGE_MS = { '-6h': 6 * HOUR, '-24h': 24 * HOUR, '-7d': 7 * 24 * HOUR };

export function chartsView({ root, params }) {
  let alive = true;
  let range = RANGE_MS[params.get('since')] ? params.get('since') : '-24h';
  let data = null;
  let loadedAt = 0;
  const hidden = new Set();
  let reqNo = 0;

  const sel = h('select', { testid: 'chart-range', 'aria-label': 'time range' }, RANGES.map(([v, l]) => h('option', { value: v }, l)));
  sel.value = range;
  sel.addEventListener('change', () => {
    location.hash = '#/charts?since=' + encodeURIComponent(sel.value);
  });
  const refresh = h('button', { type: 'button', class: 'btn small', testid: 'chart-refresh', on: { click: () => load() } }, 'Refresh');
  const status = h('span', { class: 'muted' });
  const holder = h('div', { class: 'charts' }, h('div', { class: 'muted' }, 'loading…'));
  root.append(h('div', { class: 'title-row' }, h('h1', {}, 'Charts'), sel, refresh, status),
    h('p', { class: 'muted' }, 'Per termination gateway, one point per hour (hours in your time zone). Click a legend entry to hide or show a gateway.'),
    holder);

  async function load() {
    const my = ++reqNo;
    status.textContent = 'loading…';
    try {
      const q = new URLSearchParams({ by: 'gateway', bucket: 'hour', since: range });
      const res = await api('GET', '/cdr-stats?' + q.toString());
      if (!alive || my !== reqNo) return;
      data = res;
      loadedAt = Date.now();
      render();
      clearError();
      markUpdated();
    } catch (err) {
      if (!alive || my !== reqNo) return;
      showError(err, 'charts');
      holder.replaceChildren(h('div', { class: 'empty error-state' }, 'Could not load the statistics: ' + err.message));
    } finally {
      if (alive && my === reqNo) {
        status.textContent = '';
        root.setAttribute('data-testid', 'view-charts');
      }
    }
  }

  function render() {
    if (!data) return;
    const buckets = Array.isArray(data.buckets) ? data.buckets : [];
    const t1 = parseTime(data.until) ?? loadedAt;
    const t0 = parseTime(data.since) ?? (t1 - RANGE_MS[range]);
    if (buckets.length === 0) {
      holder.replaceChildren(emptyState(`No calls between ${fmtTime(t0)} and ${fmtTime(t1)}`));
      return;
    }
    // Gateways by calls in the period (the busiest first), one colour each.
    const totals = new Map();
    for (const b of buckets) for (const g of b.groups || []) totals.set(g.group, (totals.get(g.group) || 0) + (g.calls || 0));
    for (const g of data.groups || []) if (!totals.has(g.group)) totals.set(g.group, g.calls || 0);
    const names = [...totals.keys()].sort((a, b) => totals.get(b) - totals.get(a) || a.localeCompare(b));
    const noGw = (n) => n === '' || n === '-';
    // Colours by name (stable when the range changes), the calls without a gateway grey.
    const byName = names.filter((n) => !noGw(n)).sort((a, b) => a.localeCompare(b));
    const color = new Map(byName.map((n, i) => [n, PALETTE[i % 8]]));
    for (const n of names) if (noGw(n)) color.set(n, '#7f7f7f');
    const label = (n) => (noGw(n) ? '(no gateway)' : n);
    const visible = names.filter((n) => !hidden.has(n));

    const seriesOf = (pick, fmt, opts = {}) => visible.map((n) => ({
      name: n + (opts.suffix || ''),
      color: color.get(n),
      dashed: !!opts.dashed,
      points: buckets.map((b) => {
        const g = (b.groups || []).find((x) => x.group === n);
        const start = parseTime(b.start) ?? 0;
        const t = (Math.max(start, t0) + Math.min(start + HOUR, t1)) / 2; // the middle of the hour's part in range
        const v = g ? pick(g) : null;
        const hourText = fmtTime(parseTime(b.start), { date: true }).slice(0, 16);
        return { t, v, tip: `${label(n)}${opts.suffix || ''}, hour from ${hourText}: ${fmt(v)} (${fmtInt(g ? g.calls : 0)} calls, ${fmtInt(g ? g.answered : 0)} answered)` };
      }),
    }));

    const width = Math.max(360, holder.clientWidth || root.clientWidth || 900);
    const base = { width, height: 230, t0, t1, minStep: 60 };
    const asr = lineChart({ ...base, testid: 'chart-asr', title: 'ASR (answered / calls) per hour', unit: '%', yMax: 1,
      yFormat: (v) => fmtPct(v), yTickFormat: (v) => `${Math.round(v * 100)}`, series: seriesOf((g) => g.asr, fmtPct) });
    const acd = lineChart({ ...base, testid: 'chart-acd', title: 'ACD (mean hold time of answered calls) per hour', unit: 's',
      yFormat: (v) => fmtDec(v, 1) + ' s', yTickFormat: (v) => fmtDec(v, 2), series: seriesOf((g) => g.acd_s, (v) => (v === null ? DASH : fmtDec(v, 1) + ' s')) });
    const pddSeries = [
      ...seriesOf((g) => g.pdd_p50_ms, fmtMs, { suffix: ' p50' }),
      ...seriesOf((g) => g.pdd_p95_ms, fmtMs, { suffix: ' p95', dashed: true }),
    ];
    const pdd = lineChart({ ...base, testid: 'chart-pdd', title: 'PDD per hour (p50 solid, p95 dashed)', unit: 'ms',
      yFormat: fmtMs, yTickFormat: (v) => fmtDec(v, 2), series: pddSeries });

    const onToggle = (n) => {
      if (hidden.has(n)) hidden.delete(n);
      else hidden.add(n);
      render();
    };
    const legendItems = names.map((n) => ({ name: n, label: `${label(n)} (${fmtInt(totals.get(n))} calls)`, color: color.get(n) }));
    const box = (title, svg, extra) => h('figure', { class: 'panel chart-box' }, h('figcaption', {}, title), svg, legend(legendItems, hidden, onToggle), extra || null);
    const pddNote = h('div', { class: 'muted small' }, h('span', { class: 'swatch-line' }), ' p50  ', h('span', { class: 'swatch-line dashed' }), ' p95');

    holder.replaceChildren(
      box('ASR', asr),
      box('ACD', acd),
      box('PDD', pdd, pddNote),
      totalsTable(data.groups || [], color, label, noGw));
  }

  function totalsTable(groups, color, label, noGw) {
    if (groups.length === 0) return null;
    return h('section', { class: 'panel' }, h('h2', {}, 'Totals for the period'),
      h('table', { class: 'table compact' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Gateway'), h('th', { class: 'num' }, 'Calls'), h('th', { class: 'num' }, 'Answered'),
          h('th', { class: 'num' }, 'ASR'), h('th', { class: 'num' }, 'NER'), h('th', { class: 'num' }, 'ACD'),
          h('th', { class: 'num' }, 'PDD p50'), h('th', { class: 'num' }, 'PDD p95'), h('th', {}, 'Top failures'))),
        h('tbody', {}, groups.map((g) => {
          const sw = h('span', { class: 'swatch' });
          const c = color.get(g.group);
          if (c) {
            sw.style.background = c;
            sw.style.borderColor = c;
          }
          return h('tr', { data: { group: g.group } },
            h('td', {}, sw, ' ', h('a', { href: '#/cdrs?' + new URLSearchParams(!noGw(g.group) ? { since: range, gateway: g.group } : { since: range }).toString() }, label(g.group))),
            h('td', { class: 'num' }, fmtInt(g.calls)),
            h('td', { class: 'num' }, fmtInt(g.answered)),
            h('td', { class: 'num' }, fmtPct(g.asr)),
            h('td', { class: 'num' }, fmtPct(g.ner)),
            h('td', { class: 'num' }, g.acd_s === null || g.acd_s === undefined ? DASH : fmtDec(g.acd_s, 1) + ' s'),
            h('td', { class: 'num' }, fmtMs(g.pdd_p50_ms)),
            h('td', { class: 'num' }, fmtMs(g.pdd_p95_ms)),
            h('td', { class: 'small' }, (g.failures || []).map((f) => `${f.end_reason}${f.sip_code ? ' ' + f.sip_code : ''}: ${fmtInt(f.calls)}`).join(', ') || DASH));
        }))));
  }

  let resizeTimer = null;
  const onResize = () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(render, 150);
  };
  window.addEventListener('resize', onResize);
  const auto = setInterval(() => { if (!document.hidden) load(); }, 60 * 1000);
  load();

  return {
    update(q) {
      const r = q.get('since');
      range = RANGE_MS[r] ? r : '-24h';
      sel.value = range;
      load();
    },
    destroy() {
      alive = false;
      window.removeEventListener('resize', onResize);
      clearInterval(auto);
      clearTimeout(resizeTimer);
    },
  };
}
