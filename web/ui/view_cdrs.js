// CDR search: the form's values live in the URL hash (#/cdrs?since=-1h&gateway=x), so a link
// reproduces the search. One page at a time (keyset paging with the server's `next` cursor; a
// stack of the cursors used so far gives "newer").
import { h, thead, num, fmtInt, fmtMs, fmtDuration, fmtTime, parseTime, timeForApi, DASH, emptyState } from './util.js';
import { api, markUpdated, clearError, showError } from './core.js';

const FIELDS = ['since', 'until', 'caller', 'callee', 'gateway', 'end_direction', 'code', 'reason'];
const PRESETS = [['-15m', '15 min'], ['-1h', '1 h'], ['-6h', '6 h'], ['-24h', '24 h'], ['-7d', '7 days'], ['-30d', '30 days']];
const PAGE_SIZES = [25, 50, 100, 200, 500];
const DEFAULT_LIMIT = 50;
const DEFAULT_SINCE = '-1h';
const REASONS = ['caller_bye', 'callee_bye', 'caller_cancel', 'callee_rejected', 'no_route',
  'all_gateways_failed', 'timeout_ringing', 'early_hangup', 'session_expired', 'no_timer_reinvite_failed',
  'ack_timeout', 'shutdown', 'transport_error', 'capacity_limit', 'cps_limit', 'switch_restart', 'acl_rejected'];

/** The hash of the last search, for the call page's "back to the search" link. */
export let lastSearchHash = '#/cdrs';

function testidOf(name) {
  return 'cdr-' + (name === 'end_direction' ? 'direction' : name);
}

export function cdrsView({ root, params }) {
  let alive = true;
  let ctrl = null;
  let cursors = [null]; // cursors[i]: the `before` of page i (null: the newest page)
  let search = null; // the URLSearchParams of the search shown
  let nextCursor = null;

  // --- the form -----------------------------------------------------------------------------
  const inputs = {};
  const fieldErrors = {};
  const mkInput = (name, attrs) => {
    inputs[name] = h('input', { id: 'f-' + name, name, testid: testidOf(name), autocomplete: 'off', spellcheck: 'false', ...attrs });
    return inputs[name];
  };
  const field = (name, label, control, hint) => {
    fieldErrors[name] = h('div', { class: 'inline-error', testid: 'field-error', role: 'alert' });
    fieldErrors[name].hidden = true;
    return h('div', { class: 'field field-' + name }, h('label', { for: 'f-' + name }, label), control,
      hint ? h('div', { class: 'hint' }, hint) : null, fieldErrors[name]);
  };
  const gwList = h('datalist', { id: 'gw-list' });
  const reasonList = h('datalist', { id: 'reason-list' }, REASONS.map((r) => h('option', { value: r })));
  inputs.end_direction = h('select', { id: 'f-end_direction', name: 'end_direction', testid: 'cdr-direction' },
    h('option', { value: '' }, 'any'), h('option', { value: 'caller' }, 'caller'),
    h('option', { value: 'callee' }, 'callee'), h('option', { value: 'switch' }, 'switch'));
  const limitSel = h('select', { id: 'f-limit', testid: 'cdr-limit', 'aria-label': 'rows per page' },
    PAGE_SIZES.map((n) => h('option', { value: String(n) }, `${n} per page`)));
  const presetBtns = PRESETS.map(([v, label]) => h('button', {
    type: 'button', class: 'btn small preset', data: { since: v }, testid: 'cdr-preset',
    on: { click: () => { inputs.since.value = v; inputs.until.value = ''; submit(); } },
  }, label));
  const submitBtn = h('button', { type: 'submit', class: 'btn primary', testid: 'cdr-search' }, 'Search');
  const resetBtn = h('button', { type: 'button', class: 'btn', on: { click: () => { for (const f of FIELDS) inputs[f].value = ''; inputs.since.value = DEFAULT_SINCE; submit(); } } }, 'Clear');

  const form = h('form', { class: 'search-form', autocomplete: 'off' },
    h('div', { class: 'form-row' },
      field('since', 'Since', mkInput('since', { type: 'text', placeholder: '-1h or 2026-11-22 10:00' }), 'relative (-30m, -24h, -7d) or a time in your zone'),
      field('until', 'Until', mkInput('until', { type: 'text', placeholder: 'now' })),
      h('div', { class: 'field presets' }, h('span', { class: 'label' }, 'Last'), h('div', { class: 'preset-row' }, presetBtns))),
    h('div', { class: 'form-row' },
      field('caller', 'Caller prefix', mkInput('caller', { type: 'text', placeholder: 'e.g. 4930' })),
      field('callee', 'Callee prefix', mkInput('callee', { type: 'text', placeholder: 'e.g. 1555' })),
      field('gateway', 'Term. gateway', mkInput('gateway', { type: 'text', list: 'gw-list', placeholder: 'any' })),
      field('end_direction', 'Ended by', inputs.end_direction),
      field('code', 'SIP code', mkInput('code', { type: 'number', min: '0', max: '699', placeholder: 'any' })),
      field('reason', 'End reason', mkInput('reason', { type: 'text', list: 'reason-list', placeholder: 'any' })),
      h('div', { class: 'field buttons' }, submitBtn, resetBtn)),
    gwList, reasonList);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submit();
  });
  limitSel.addEventListener('change', () => submit());

  // --- results ------------------------------------------------------------------------------
  const olderBtn = h('button', { type: 'button', class: 'btn small', testid: 'cdr-older', on: { click: older } }, 'Older ›');
  const newerBtn = h('button', { type: 'button', class: 'btn small', testid: 'cdr-newer', on: { click: newer } }, '‹ Newer');
  const firstBtn = h('button', { type: 'button', class: 'btn small', testid: 'cdr-first', title: 'the newest page', on: { click: () => { cursors = [null]; load(); } } }, '« Newest');
  const refreshBtn = h('button', { type: 'button', class: 'btn small', testid: 'cdr-refresh', on: { click: () => load() } }, 'Refresh');
  const pageInfo = h('span', { class: 'page-info', testid: 'cdr-page-info' });
  const status = h('span', { class: 'muted status' });
  const pager = h('div', { class: 'pager' }, firstBtn, newerBtn, pageInfo, olderBtn, limitSel, refreshBtn, status);
  const results = h('div', { class: 'table-wrap results' });
  root.append(h('h1', {}, 'CDR search'), form, pager, results);

  // Gateway names for the datalist (best effort).
  api('GET', '/gateways').then((res) => {
    if (!alive) return;
    gwList.replaceChildren(...(res.gateways || []).filter((g) => g.role !== 'origination').map((g) => h('option', { value: g.name })));
  }).catch(() => {});

  function formParams() {
    const q = new URLSearchParams();
    for (const f of FIELDS) {
      const v = inputs[f].value.trim();
      if (v !== '') q.set(f, v);
    }
    const lim = Number(limitSel.value);
    if (lim !== DEFAULT_LIMIT) q.set('limit', String(lim));
    return q;
  }

  function fillForm(q) {
    for (const f of FIELDS) inputs[f].value = q.get(f) || '';
    if (!q.has('since') && !q.has('until')) inputs.since.value = DEFAULT_SINCE;
    const lim = Number(q.get('limit')) || DEFAULT_LIMIT;
    if (!PAGE_SIZES.includes(lim)) limitSel.append(h('option', { value: String(lim) }, `${lim} per page`));
    limitSel.value = String(lim);
  }

  function submit() {
    const q = formParams();
    const hash = '#/cdrs' + (q.toString() ? '?' + q.toString() : '');
    if (location.hash === hash) {
      start(q); // same search again: no hashchange
    } else {
      location.hash = hash; // -> update()
    }
  }

  function start(q) {
    search = q;
    cursors = [null];
    lastSearchHash = '#/cdrs' + (q.toString() ? '?' + q.toString() : '');
    load();
  }

  function older() {
    if (!nextCursor) return;
    cursors.push(nextCursor);
    load();
  }

  function newer() {
    if (cursors.length <= 1) return;
    cursors.pop();
    load();
  }

  function apiQuery() {
    const q = new URLSearchParams();
    for (const f of FIELDS) {
      const v = search.get(f);
      if (v) q.set(f, f === 'since' || f === 'until' ? timeForApi(v) : v);
    }
    if (!search.has('since') && !search.has('until')) q.set('since', DEFAULT_SINCE);
    q.set('limit', String(pageSize()));
    const before = cursors[cursors.length - 1];
    if (before) q.set('before', before);
    return q;
  }

  function pageSize() {
    return Number(search.get('limit')) || DEFAULT_LIMIT;
  }

  function setBusy(busy) {
    for (const b of [olderBtn, newerBtn, firstBtn, refreshBtn, submitBtn]) b.disabled = busy;
    results.classList.toggle('loading', busy);
    results.setAttribute('aria-busy', String(busy));
  }

  async function load() {
    if (ctrl) ctrl.abort();
    const my = new AbortController();
    ctrl = my;
    for (const f of FIELDS) fieldErrors[f].hidden = true;
    setBusy(true);
    pageInfo.textContent = 'loading…';
    const t0 = performance.now();
    try {
      const res = await api('GET', '/cdrs?' + apiQuery().toString(), undefined, { signal: my.signal });
      if (!alive || ctrl !== my) return;
      nextCursor = typeof res.next === 'string' && res.next !== '' ? res.next : (res.next ?? null);
      render(res.cdrs || [], performance.now() - t0);
      clearError();
      markUpdated();
    } catch (err) {
      if (!alive || ctrl !== my || err.name === 'AbortError') return;
      const f = err.body && err.body.field;
      const formField = f === 'before' ? null : (f === 'limit' ? null : f);
      if (formField && fieldErrors[formField]) {
        fieldErrors[formField].textContent = err.message;
        fieldErrors[formField].hidden = false;
      }
      showError(err, 'CDR search');
      results.replaceChildren(h('div', { class: 'empty error-state' }, 'The search failed: ' + err.message));
      pageInfo.textContent = '';
      nextCursor = null;
    } finally {
      if (ctrl === my) {
        ctrl = null;
        setBusy(false);
        newerBtn.disabled = cursors.length <= 1;
        firstBtn.disabled = cursors.length <= 1;
        olderBtn.disabled = !nextCursor;
      }
      root.setAttribute('data-testid', 'view-cdrs');
    }
  }

  function render(cdrs, ms) {
    const base = (cursors.length - 1) * pageSize();
    if (cdrs.length === 0) {
      pageInfo.textContent = cursors.length > 1 ? `no rows after ${fmtInt(base)}` : 'no rows';
      results.replaceChildren(emptyState(cursors.length > 1 ? 'No older CDRs match' : 'No CDRs match'));
      return;
    }
    pageInfo.textContent = `rows ${fmtInt(base + 1)}–${fmtInt(base + cdrs.length)}`;
    status.textContent = '';
    results.setAttribute('title', `page loaded in ${Math.round(ms)} ms`);
    const tbody = h('tbody', {}, cdrs.map((c) => {
      const setup = parseTime(c.setup_at);
      const link = '#/cdr/' + encodeURIComponent(c.call_id);
      const answered = !!c.answer_at;
      return h('tr', { data: { 'call-id': c.call_id }, class: answered ? 'answered' : 'failed' },
        h('td', { class: 'nowrap' }, h('a', { href: link, testid: 'cdr-open', title: 'call ' + c.call_id }, fmtTime(setup))),
        h('td', { class: 'mono' }, c.caller),
        h('td', { class: 'mono' }, c.callee, c.callee_out && c.callee_out !== c.callee ? h('div', { class: 'muted small' }, '→ ' + c.callee_out) : null),
        h('td', {}, c.term_gateway || h('span', { class: 'muted' }, DASH)),
        h('td', { class: 'num' }, fmtInt(c.attempts)),
        h('td', { class: ['num', codeClass(c.sip_code)], title: c.sip_reason || undefined }, c.sip_code ? String(c.sip_code) : DASH),
        h('td', {}, c.end_reason),
        h('td', {}, c.end_direction),
        h('td', { class: 'num' }, c.ring_at || c.answer_at ? fmtMs(c.pdd_ms) : DASH),
        h('td', { class: 'num' }, answered ? fmtDuration(c.hold_ms, { showMs: false }) : DASH),
        h('td', { class: 'mono callid muted', title: c.call_id }, c.call_id),
      );
    }));
    results.replaceChildren(h('table', { class: 'table cdrs' },
      thead('Setup', 'Caller', 'Callee', 'Term. gateway', num('Attempts'), num('SIP code'),
        'End reason', 'Ended by', num('PDD'), num('Hold'), 'Call-ID'),
      tbody));
  }

  fillForm(params);
  start(formParams());

  return {
    update(q) {
      fillForm(q);
      start(formParams());
    },
    destroy() {
      alive = false;
      if (ctrl) ctrl.abort();
    },
  };
}

function codeClass(code) {
  if (!code) return '';
  if (code >= 200 && code < 300) return 'code-ok';
  if (code >= 500) return 'code-5xx';
  if (code >= 400) return 'code-4xx';
  return '';
}
