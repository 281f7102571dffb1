// Dashboard: /api/v1/status every 2 s. Attempts/s and the answer ratio come from successive
// polls (counter deltas), as the status endpoint only gives counters since start.
import { h, fmtInt, fmtDec, fmtPct, fmtBytes, fmtDuration, fmtTime, parseTime, DASH, emptyState } from './util.js';
import { api, poller, markUpdated, setNode, clearError } from './core.js';
import { lineChart, legend } from './chart.js';

const WINDOW_MS = 60 * 1000; // the answer ratio window
const HISTORY_MS = 15 * 60 * 1000; // the live chart

export function dashboardView({ root }) {
  let alive = true;
  const samples = []; // { t, offered, answered, attempts }
  const history = []; // { t, active, cps, aps } for the live chart

  const stat = (testid, label, sub) => {
    const value = h('div', { class: 'stat-value', testid }, DASH);
    const subEl = h('div', { class: 'stat-sub' }, sub || '');
    return { box: h('div', { class: 'stat' }, h('div', { class: 'stat-label' }, label), value, subEl), value, sub: subEl };
  };
  const sActive = stat('stat-active-calls', 'Active calls');
  const sCps = stat('stat-cps', 'CPS', 'new calls in the last second');
  const sAtt = stat('stat-attempts-per-s', 'Attempts / s', 'gateway attempts, last poll interval');
  const sAnswer = stat('stat-answer-ratio', 'Answer ratio', 'answered / ended, last minute');
  const sQueue = stat('stat-cdr-queue', 'CDR queue', 'CDRs waiting for the writer');
  const sSpool = stat('stat-cdr-spool', 'CDR spool', 'bytes waiting for PostgreSQL');

  const grid = h('div', { class: 'stats' }, [sActive, sCps, sAtt, sAnswer, sQueue, sSpool].map((x) => x.box));
  const info = h('dl', { class: 'kv' });
  const reasons = h('div', { class: 'reasons' });
  const liveChart = h('div', { class: 'live-chart-body' });
  const gwBox = h('div', { class: 'gw-summary' }, h('span', { class: 'muted' }, 'loading…'));
  const LIVE_SERIES = [
    { key: 'active', name: 'active calls', color: '#1f77b4' },
    { key: 'cps', name: 'CPS', color: '#2ca02c' },
    { key: 'aps', name: 'attempts / s', color: '#ff7f0e', dashed: true },
  ];
  const body = h('div', {},
    h('h1', {}, 'Dashboard'),
    grid,
    h('div', { class: 'cols' },
      h('section', { class: 'panel' }, h('h2', {}, 'Switch'), info),
      h('section', { class: 'panel live-chart' }, h('h2', {}, 'Last 15 minutes (while this page is open)'), liveChart),
      h('div', {},
        h('section', { class: 'panel' }, h('h2', {}, h('a', { href: '#/gateways' }, 'Termination gateways')), gwBox),
        h('section', { class: 'panel' }, h('h2', {}, 'End reasons since start'), reasons))));
  body.querySelector('.cols').classList.add('cols-3');
  root.append(body);

  const kv = (k, v, title) => [h('dt', {}, k), h('dd', title ? { title } : {}, v)];

  function render(st) {
    const c = st.counters || {};
    const now = parseTime(st.at) ?? Date.now();
    // Answered calls (counted at the answer) over ended calls within the window: the ratio of
    // the last minute's traffic.
    const sample = { t: now, offered: c.calls_offered, ended: c.calls_ended, answered: c.calls_answered, attempts: c.attempts };
    const before = samples[samples.length - 1];
    if (before && (sample.offered < before.offered || sample.ended < before.ended || sample.attempts < before.attempts || sample.t <= before.t)) {
      samples.length = 0; // the switch restarted: counters began again
    }
    samples.push(sample);
    while (samples.length > 2 && now - samples[1].t >= WINDOW_MS) samples.shift();
    const last = samples[samples.length - 1];
    const prev = samples.length > 1 ? samples[samples.length - 2] : null;

    sActive.value.textContent = fmtInt(st.calls_active);
    sCps.value.textContent = fmtInt(st.cps);
    // Overload control (README "Overload"): new calls limited, the rest refused with 503.
    sCps.box.classList.toggle('warn', !!st.overloaded);
    sCps.sub.textContent = st.overloaded
      ? 'OVERLOAD: new calls limited, the rest get 503'
      : 'new calls in the last second';
    if (prev && last.t > prev.t && typeof last.attempts === 'number' && last.attempts >= prev.attempts) {
      sAtt.value.textContent = fmtDec((last.attempts - prev.attempts) / ((last.t - prev.t) / 1000), 1);
    } else {
      sAtt.value.textContent = DASH;
    }
    const aps = prev && last.t > prev.t && last.attempts >= prev.attempts
      ? (last.attempts - prev.attempts) / ((last.t - prev.t) / 1000) : null;
    history.push({ t: now, active: st.calls_active, cps: st.cps, aps });
    while (history.length && now - history[0].t > HISTORY_MS) history.shift();
    renderLive(now);
    const first = samples[0];
    const ended = last.ended - first.ended;
    const answered = last.answered - first.answered;
    if (samples.length > 1 && ended > 0 && answered >= 0) {
      sAnswer.value.textContent = fmtPct(answered / ended);
      sAnswer.sub.textContent = `${fmtInt(answered)} of ${fmtInt(ended)} ended calls, last ${fmtDuration(last.t - first.t, { showMs: false })}`;
    } else if (c.calls_ended > 0) {
      sAnswer.value.textContent = fmtPct(c.calls_answered / c.calls_ended);
      sAnswer.sub.textContent = `since start (${fmtInt(c.calls_answered)} of ${fmtInt(c.calls_ended)} ended calls)`;
    } else {
      sAnswer.value.textContent = DASH;
      sAnswer.sub.textContent = 'no call has ended yet';
    }
    sAnswer.box.setAttribute('title', 'answered calls / ended calls; since start: ' +
      (c.calls_ended > 0 ? fmtPct(c.calls_answered / c.calls_ended) : DASH));
    sQueue.value.textContent = fmtInt(c.cdr_queue_depth);
    sQueue.box.classList.toggle('warn', c.cdr_queue_depth > 1000);
    sSpool.value.textContent = fmtBytes(c.cdr_spool_bytes);
    sSpool.box.classList.toggle('warn', c.cdr_spool_bytes > 0);

    const started = parseTime(st.started_at);
    info.replaceChildren(
      ...kv('Node', st.node || DASH),
      ...kv('Started', started ? fmtTime(started) : DASH),
      ...kv('Uptime', started ? fmtDuration(now - started, { showMs: false }) : DASH),
      ...kv('Calls offered', fmtInt(c.calls_offered)),
      ...kv('Calls answered', fmtInt(c.calls_answered)),
      ...kv('Calls ended', fmtInt(c.calls_ended)),
      ...kv('Refused (overload)', fmtInt(c.calls_shed ?? 0),
        'new calls refused with 503 while the switch was overloaded (no CDR)'),
      ...kv('SIP receive wait', `${fmtInt(st.sip_receive_wait_ms ?? 0)} ms`,
        'how long the oldest unread SIP datagram had waited; new calls are refused above 50 ms'),
      ...kv('Attempts', fmtInt(c.attempts)),
      ...kv('Retransmissions', fmtInt(c.retransmissions)),
      ...kv('CDRs delivered', fmtInt(c.cdr_delivered)),
      ...kv('Provisioning reloads', fmtInt(c.reloads)),
    );
    const er = Object.entries(c.end_reasons || {}).sort((a, b) => b[1] - a[1]);
    if (er.length === 0) {
      reasons.replaceChildren(emptyState('No calls have ended since start'));
    } else {
      const total = er.reduce((n, [, v]) => n + v, 0);
      reasons.replaceChildren(h('table', { class: 'table compact' },
        h('thead', {}, h('tr', {}, h('th', {}, 'End reason'), h('th', { class: 'num' }, 'Calls'), h('th', { class: 'num' }, 'Share'))),
        h('tbody', {}, er.map(([r, n]) => h('tr', {},
          h('td', {}, h('a', { href: '#/cdrs?' + new URLSearchParams({ since: '-24h', reason: r }).toString(), title: 'CDRs of the last 24 h with this end reason' }, r)),
          h('td', { class: 'num' }, fmtInt(n)),
          h('td', { class: 'num' }, fmtPct(total ? n / total : 0)))))));
    }
    setNode(st.node);
    root.setAttribute('data-testid', 'view-dashboard');
  }

  function renderLive(now) {
    const width = Math.max(320, (liveChart.clientWidth || 420) - 4);
    const svg = lineChart({
      testid: 'chart-live', title: 'active calls, CPS and attempts per second', width, height: 170,
      t0: now - HISTORY_MS, t1: now, minTop: 5, yFormat: (v) => fmtDec(v, 1), yTickFormat: (v) => fmtDec(v, 2),
      series: LIVE_SERIES.map((se) => ({
        name: se.name, color: se.color, dashed: se.dashed, maxGap: 10000,
        points: history.map((x) => ({ t: x.t, v: x[se.key], tip: `${se.name} ${fmtDec(x[se.key], 1)} at ${fmtTime(x.t, { date: false })}` })),
      })),
      noDots: true,
    });
    liveChart.replaceChildren(svg, legend(LIVE_SERIES, new Set()));
  }

  function renderGateways(gws) {
    const term = gws.filter((g) => g.role === 'termination');
    if (term.length === 0) {
      gwBox.replaceChildren(h('span', { class: 'muted' }, 'No termination gateways'));
      return;
    }
    gwBox.replaceChildren(h('table', { class: 'table compact' }, h('tbody', {}, term.map((g) => {
      const healths = (g.addresses || []).map((a) => a.health);
      const worst = !g.enabled ? 'disabled' : healths.length === 0 ? 'unknown'
        : healths.every((x) => x === 'up') ? 'up' : healths.some((x) => x === 'up') ? 'partly up'
          : healths.includes('blacklisted') ? 'blacklisted' : 'probe_down';
      const cls = { up: 'health-up', disabled: 'state-disabled', blacklisted: 'health-blacklisted', probe_down: 'health-probe_down', 'partly up': 'health-probe_down' }[worst] || '';
      const cps = typeof g.cps === 'number' ? g.cps : g.calls_last_second;
      return h('tr', { data: { 'gw-summary': g.name } },
        h('td', {}, g.name),
        h('td', {}, h('span', { class: ['health', cls] }, worst === 'probe_down' ? 'probe down' : worst)),
        h('td', { class: 'num', title: 'active calls / capacity' }, `${fmtInt(g.active_calls)} / ${g.capacity > 0 ? fmtInt(g.capacity) : '∞'}`),
        h('td', { class: 'num', title: 'CPS / limit' }, `${fmtInt(cps)} cps`));
    }))));
  }

  const p = poller(async () => {
    const [st, gws] = await Promise.all([api('GET', '/status'),
      api('GET', '/gateways').catch((e) => (e.unauthorized ? Promise.reject(e) : null))]);
    if (!alive) return;
    if (gws) renderGateways(gws.gateways || []);
    render(st);
    clearError('poll');
    markUpdated();
  }, 2000);

  return {
    destroy() {
      alive = false;
      p.stop();
    },
  };
}
