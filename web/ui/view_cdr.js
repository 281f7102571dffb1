// One call: #/cdr/<encodeURIComponent(call_id)> -> /api/v1/cdrs/<id>: summary, timeline, and the
// failover chain attempt by attempt.
import { h, thead, num, fmtInt, fmtMs, fmtDuration, fmtTime, parseTime, zoneName, DASH, emptyState } from './util.js';
import { api, markUpdated, showError } from './core.js';
import { lastSearchHash } from './view_cdrs.js';

export function cdrView({ root, arg }) {
  let alive = true;
  let callId;
  try {
    callId = decodeURIComponent(arg);
  } catch {
    callId = arg;
  }
  const back = h('a', { href: lastSearchHash, class: 'back' }, '‹ back to the CDR search');
  const title = h('h1', {}, 'Call ', h('span', { class: 'mono callid-title' }, callId));
  const body = h('div', { class: 'muted' }, 'loading…');
  root.append(back, title, body);

  (async () => {
    try {
      const res = await api('GET', '/cdrs/' + encodeURIComponent(callId));
      if (!alive) return;
      const cdrs = res.cdrs || [];
      if (cdrs.length === 0) {
        body.replaceChildren(emptyState('No CDR with this call id'));
      } else {
        body.replaceChildren(...cdrs.map((c) => renderCall(c, cdrs.length > 1)));
        body.className = '';
      }
      markUpdated();
    } catch (err) {
      if (!alive) return;
      if (err.status === 404) {
        body.replaceChildren(emptyState(`No CDR with call id ${callId} (a call in progress has none yet)`));
        // Is it in progress? Then say so and point to the live calls.
        api('GET', '/calls').then((live) => {
          const c = alive && (live.calls || []).find((x) => x.call_id === callId);
          if (c) {
            body.append(h('p', { class: 'center' }, `This call is in progress (${c.state}, attempt ${c.attempt}): see `,
              h('a', { href: '#/calls' }, 'Live calls'), '.'));
          }
        }).catch(() => {});
      } else {
        showError(err, 'CDR');
        body.replaceChildren(h('div', { class: 'empty error-state' }, 'Could not load the call: ' + err.message));
      }
    } finally {
      if (alive) root.setAttribute('data-testid', 'view-cdr');
    }
  })();

  return {
    destroy() {
      alive = false;
    },
  };
}

function kv(k, v, title) {
  return [h('dt', {}, k), h('dd', title ? { title } : {}, v)];
}

function renderCall(c, multi) {
  const setup = parseTime(c.setup_at);
  const ring = parseTime(c.ring_at);
  const answer = parseTime(c.answer_at);
  const end = parseTime(c.end_at);
  const answered = answer !== null;
  const attempts = c.attempt_list || [];

  const summary = h('dl', { class: 'kv summary', testid: 'cdr-summary' },
    kv('Result', h('span', { class: ['badge', answered ? 'ok' : 'bad'] }, answered ? 'answered' : 'not answered')),
    kv('Caller', h('span', { class: 'mono' }, c.caller)),
    kv('Callee', h('span', { class: 'mono' }, c.callee + (c.callee_out && c.callee_out !== c.callee ? ` → ${c.callee_out}` : ''))),
    kv('Origin', [c.origin_gateway || DASH, c.origin_addr ? h('span', { class: 'muted mono' }, ' ' + c.origin_addr) : null]),
    kv('Term. gateway', [c.term_gateway || DASH, c.term_addr ? h('span', { class: 'muted mono' }, ' ' + c.term_addr) : null]),
    kv('Attempts', fmtInt(c.attempts)),
    kv('SIP code', c.sip_code ? `${c.sip_code} ${c.sip_reason || ''}`.trim() : DASH),
    kv('Q.850 cause', c.q850_cause ? String(c.q850_cause) : DASH),
    kv('End reason', c.end_reason),
    kv('Ended by', c.end_direction),
    kv('Disposition', c.disposition),
    kv('PDD', ring !== null || answered ? fmtMs(c.pdd_ms) : DASH),
    kv('Hold', answered ? fmtDuration(c.hold_ms) : DASH),
    kv('Node', c.node),
    kv('CDR id', String(c.id)),
  );

  // Timeline: events with absolute time (browser zone) and offset from setup.
  const events = [
    { key: 'setup', label: 'setup (INVITE)', t: setup },
    { key: 'ring', label: '18x (ringing)', t: ring },
    { key: 'answer', label: 'answer (200)', t: answer },
    { key: 'end', label: `end (${c.end_reason})`, t: end },
  ];
  const span = Math.max(1, (end ?? setup) - setup);
  const pos = (t) => Math.min(100, Math.max(0, ((t - setup) / span) * 100));
  const bar = h('div', { class: 'tl-bar', 'aria-hidden': 'true' });
  const seg = (from, to, cls, label) => {
    if (from === null || to === null) return;
    const el = h('div', { class: ['tl-seg', cls], title: `${label}: ${fmtMs(to - from)}` });
    el.style.left = pos(from) + '%';
    el.style.width = Math.max(0.4, pos(to) - pos(from)) + '%';
    bar.append(el);
  };
  // The phases: before 18x/answer (PDD), ringing, talking.
  const firstResp = ring ?? answer ?? end;
  seg(setup, firstResp, 'tl-pdd', 'setup → first response');
  if (ring !== null) seg(ring, answer ?? end, 'tl-ring', 'ringing');
  if (answer !== null) seg(answer, end, 'tl-talk', 'talking');
  for (const e of events) {
    if (e.t === null) continue;
    const m = h('div', { class: ['tl-mark', 'tl-mark-' + e.key], title: `${e.label} +${fmtInt(e.t - setup)} ms` });
    m.style.left = pos(e.t) + '%';
    bar.append(m);
  }
  // The attempts, one lane each, on their own scale: the setup phase (setup until the last
  // attempt ended) is often milliseconds next to minutes of talk.
  let setupEnd = setup;
  for (const a of attempts) setupEnd = Math.max(setupEnd, parseTime(a.ended_at) ?? setupEnd);
  if (setupEnd === setup) setupEnd = answer ?? ring ?? end ?? setup;
  const span2 = Math.max(1, setupEnd - setup);
  const pos2 = (t) => Math.min(100, Math.max(0, ((t - setup) / span2) * 100));
  const lanes = h('div', { class: 'tl-lanes', 'aria-hidden': 'true' });
  for (const a of attempts) {
    const s0 = parseTime(a.started_at);
    const e0 = parseTime(a.ended_at);
    if (s0 === null || e0 === null) continue;
    const lane = h('div', { class: 'tl-lane' });
    const el = h('div', { class: ['tl-att', 'outcome-' + String(a.outcome).replace(/[^a-z0-9_]/g, '')], title: `#${a.seq} ${a.gateway} ${a.sip_code ?? ''} ${a.outcome}, +${fmtInt(s0 - setup)} ms to +${fmtInt(e0 - setup)} ms` },
      h('span', { class: 'tl-att-label' }, `#${a.seq} ${a.gateway} ${a.sip_code ?? ''} ${a.outcome}`));
    el.style.left = pos2(s0) + '%';
    el.style.width = Math.max(0.6, pos2(e0) - pos2(s0)) + '%';
    if (pos2(e0) > 65) el.classList.add(pos2(s0) > 35 ? 'label-left' : 'label-in');
    lane.append(el);
    lanes.append(lane);
  }
  const lanesTitle = attempts.length
    ? h('div', { class: 'muted small' }, `gateway attempts, setup phase +0 … +${fmtInt(span2)} ms`)
    : null;
  const legend = h('div', { class: 'tl-legend muted small' },
    h('span', { class: 'sw tl-pdd' }), ' setup (until 18x or answer) ',
    h('span', { class: 'sw tl-ring' }), ' ringing ',
    h('span', { class: 'sw tl-talk' }), ' talking');

  const tlTable = h('table', { class: 'table compact timeline-table' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Event'), h('th', {}, `Time (${zoneName()})`), h('th', { class: 'num' }, 'Offset from setup'))),
    h('tbody', {}, events.map((e) => h('tr', { data: { event: e.key }, class: e.t === null ? 'absent' : '' },
      h('td', {}, e.label),
      h('td', { class: 'mono' }, e.t === null ? (e.key === 'ring' ? 'no 18x' : e.key === 'answer' ? 'not answered' : DASH) : fmtTime(e.t, { ms: true })),
      h('td', { class: 'num mono', testid: 'offset-ms' }, e.t === null ? DASH : `+${fmtInt(e.t - setup)} ms`)))));
  const timeline = h('section', { class: 'panel timeline', testid: 'timeline' },
    h('h2', {}, 'Timeline'), h('div', { class: 'muted small' }, `whole call, ${fmtDuration(span)}`), bar, legend, lanesTitle, lanes, tlTable);

  // The failover chain.
  let chain;
  if (attempts.length === 0) {
    chain = emptyState(c.end_reason === 'no_route' ? 'No gateway was tried (no route)' : 'No gateway attempts');
  } else {
    chain = h('table', { class: 'table attempts' },
      thead(num('#'), 'Gateway', 'Address', 'SIP code', 'Outcome', 'Started', num('+ms'), 'Ended',
        num('Duration')),
      h('tbody', {}, attempts.map((a) => {
        const s0 = parseTime(a.started_at);
        const e0 = parseTime(a.ended_at);
        return h('tr', { testid: 'attempt-row', data: { gateway: a.gateway, seq: a.seq }, class: 'outcome-row-' + String(a.outcome).replace(/[^a-z0-9_]/g, '') },
          h('td', { class: 'num' }, String(a.seq)),
          h('td', {}, a.gateway),
          h('td', { class: 'mono' }, (a.addr || DASH) + (a.transport ? ' ' + a.transport : '')),
          h('td', { class: 'num', testid: 'attempt-code' }, a.sip_code ? String(a.sip_code) : DASH),
          h('td', { testid: 'attempt-outcome' }, h('span', { class: ['badge', 'outcome-' + String(a.outcome).replace(/[^a-z0-9_]/g, '')] }, a.outcome)),
          h('td', { class: 'mono' }, fmtTime(s0, { ms: true })),
          h('td', { class: 'num mono' }, s0 !== null && setup !== null ? `+${fmtInt(s0 - setup)}` : DASH),
          h('td', { class: 'mono' }, fmtTime(e0, { ms: true })),
          h('td', { class: 'num' }, fmtMs(a.duration_ms ?? (e0 - s0))));
      })));
  }

  return h('div', { class: 'call' },
    multi ? h('h2', {}, `Node ${c.node}`) : null,
    h('div', { class: 'cols' },
      h('section', { class: 'panel' }, h('h2', {}, 'Summary'), summary),
      timeline),
    h('section', { class: 'panel' }, h('h2', {}, `Failover chain (${fmtInt(attempts.length)} attempts)`), chain));
}
