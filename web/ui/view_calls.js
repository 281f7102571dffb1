// Live calls: /api/v1/calls every 2 s; durations tick every second between polls.
import { h, thead, num, fmtInt, fmtDuration, fmtTime, parseTime, DASH, emptyState } from './util.js';
import { api, poller, markUpdated, setNode, clearError } from './core.js';

export function callsView({ root }) {
  let alive = true;
  let skew = 0; // server clock - browser clock, from the answer's "at"
  const tickers = []; // { el, text(now) }

  const count = h('p', { class: 'muted' });
  const filter = h('input', { type: 'search', class: 'filter', placeholder: 'filter: number, call id, gateway, state', 'aria-label': 'filter calls' });
  const holder = h('div', { class: 'table-wrap' });
  root.append(h('div', { class: 'title-row' }, h('h1', {}, 'Live calls'), filter), count, holder);
  let last = null;
  filter.addEventListener('input', () => last && render(last));

  const tbody = h('tbody');
  const table = h('table', { class: 'table calls' },
    thead('State', 'Caller', 'Callee', 'Gateway', num('Attempt'), 'Duration', 'Legs', 'Timers',
      'Call-ID'),
    tbody);

  function tick() {
    const now = Date.now() + skew;
    for (const t of tickers) t.el.textContent = t.text(now);
  }
  const tickTimer = setInterval(tick, 1000);

  function currentGateway(c) {
    const legs = (c.legs || []).filter((l) => l.side === 'callee');
    const l = legs[legs.length - 1];
    return l ? l : null;
  }

  function render(calls) {
    tickers.length = 0;
    const q = filter.value.trim().toLowerCase();
    const shown = q
      ? calls.filter((c) => [c.call_id, c.caller, c.callee, c.callee_out, c.state,
        ...(c.legs || []).map((l) => l.gateway)].some((x) => (x || '').toLowerCase().includes(q)))
      : calls;
    count.textContent = `${fmtInt(calls.length)} ${calls.length === 1 ? 'call' : 'calls'} in progress` + (q ? ` · ${fmtInt(shown.length)} match the filter` : '');
    if (shown.length === 0) {
      holder.replaceChildren(emptyState(calls.length === 0 ? 'No calls in progress' : 'No calls match the filter'));
      return;
    }
    const now = Date.now() + skew;
    const trs = shown.map((c) => {
      const setup = parseTime(c.setup_at);
      const answer = parseTime(c.answer_at);
      const ring = parseTime(c.ring_at);
      const dur = h('span', { class: 'duration', testid: 'call-duration' });
      const from = answer ?? setup;
      const label = answer ? 'talk' : (ring ? 'ringing' : 'setup');
      if (from !== null) {
        const text = (t) => label + ' ' + fmtDuration(t - from, { showMs: false });
        tickers.push({ el: dur, text });
        dur.textContent = text(now);
      } else {
        dur.textContent = DASH;
      }
      const gw = currentGateway(c);
      const durTitle = [`setup ${fmtTime(setup, { ms: true })}`, ring ? `ring ${fmtTime(ring, { ms: true })}` : '', answer ? `answer ${fmtTime(answer, { ms: true })}` : ''].filter(Boolean).join('\n');
      return h('tr', { data: { 'call-id': c.call_id }, class: 'state-row-' + String(c.state).replace(/[^a-z_]/g, '') },
        h('td', {}, h('span', { class: ['badge', 'call-' + String(c.state).replace(/[^a-z_]/g, '')], testid: 'call-state' }, c.state)),
        h('td', { class: 'mono' }, c.caller),
        h('td', { class: 'mono' }, c.callee, c.callee_out && c.callee_out !== c.callee ? h('div', { class: 'muted small', title: 'number sent to the gateway' }, '→ ' + c.callee_out) : null),
        h('td', {}, gw && gw.gateway ? gw.gateway : h('span', { class: 'muted' }, DASH), gw && gw.addr ? h('div', { class: 'muted small mono' }, gw.addr) : null),
        h('td', { class: 'num' }, fmtInt(c.attempt)),
        h('td', { title: durTitle }, dur),
        h('td', {}, h('ul', { class: 'legs' }, (c.legs || []).map((l) => h('li', {},
          h('span', { class: 'leg-side' }, l.side), ' ',
          l.gateway ? l.gateway + ' ' : '',
          h('span', { class: 'mono muted' }, l.addr || ''), l.transport ? ' ' + l.transport : '', ' ',
          h('span', { class: 'badge leg-state' }, l.state))))),
        h('td', {}, (c.timers || []).length === 0 ? h('span', { class: 'muted' }, DASH)
          : h('ul', { class: 'timers' }, c.timers.map((t) => {
            const due = parseTime(t.due);
            const el = h('li', { title: 'due ' + fmtTime(due, { ms: true }) }, t.name + ' ');
            const left = h('span', { class: 'muted' });
            el.append(left);
            if (due !== null) {
              const text = (t) => (due >= t ? 'in ' + fmtDuration(due - t, { showMs: false }) : 'due');
              tickers.push({ el: left, text });
              left.textContent = text(now);
            }
            return el;
          }))),
        h('td', { class: 'mono callid', title: c.call_id }, c.call_id),
      );
    });
    tbody.replaceChildren(...trs);
    if (holder.firstChild !== table) holder.replaceChildren(table);
  }

  const p = poller(async () => {
    const res = await api('GET', '/calls');
    if (!alive) return;
    const at = parseTime(res.at);
    if (at !== null) skew = at - Date.now();
    last = res.calls || [];
    render(last);
    setNode(res.node);
    clearError('poll');
    markUpdated();
    root.setAttribute('data-testid', 'view-calls');
  }, 2000);

  return {
    destroy() {
      alive = false;
      p.stop();
      clearInterval(tickTimer);
    },
  };
}
