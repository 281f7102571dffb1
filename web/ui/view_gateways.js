// Gateways: /api/v1/gateways every 2 s; enable/disable after a confirmation.
import { h, thead, num, fmtInt, fmtDec, DASH, emptyState } from './util.js';
import { api, poller, markUpdated, setNode, clearError, showError, confirmDialog } from './core.js';

const HEALTH_LABEL = { up: 'up', blacklisted: 'blacklisted', probe_down: 'probe down' };

export function gatewaysView({ root }) {
  let alive = true;
  let last = null;
  const rows = new Map(); // name -> { tr, btn, err, busy }
  // After a successful enable/disable the database has the change; the switch applies it on its
  // next provisioning reload (NOTIFY, about a second). gw-state always shows the switch's live
  // state; until it agrees, the row says "applying…" and polls faster.
  const pending = new Map(); // name -> { enabled, until }
  let fastTimer = null;

  const tbody = h('tbody');
  const table = h('table', { class: 'table gateways' },
    thead('Gateway', 'State', 'Addresses / health', num('Active / capacity'), num('CPS / limit'),
      num('Attempts'), 'Outcomes', 'Last error', ''),
    tbody);
  const summary = h('p', { class: 'muted' });
  const holder = h('div', { class: 'table-wrap' });
  root.append(h('h1', {}, 'Gateways'), summary, holder);

  function rowFor(name) {
    let r = rows.get(name);
    if (r) return r;
    const btn = h('button', { type: 'button', class: 'btn small', testid: 'gw-toggle' });
    const err = h('div', { class: 'inline-error', role: 'alert' });
    err.hidden = true;
    const tr = h('tr', { data: { gateway: name } });
    r = { tr, btn, err, busy: false };
    btn.addEventListener('click', () => toggle(name, r));
    rows.set(name, r);
    return r;
  }

  /** The pending change of `g` still waiting for the switch, or null. */
  function pendingOf(g) {
    const p = pending.get(g.name);
    if (!p) return null;
    if (p.enabled === !!g.enabled) {
      pending.delete(g.name);
      return null;
    }
    return p;
  }

  async function toggle(name, r) {
    const g = last && last.find((x) => x.name === name);
    const enabled = g ? !!g.enabled : true;
    const action = enabled ? 'disable' : 'enable';
    const ok = await confirmDialog({
      title: `${enabled ? 'Disable' : 'Enable'} gateway ${name}?`,
      message: enabled
        ? `New calls will no longer be routed to ${name}. Calls in progress are not affected.`
        : `${name} will take new calls again.`,
      ok: enabled ? 'Disable' : 'Enable',
      danger: enabled,
    });
    if (!ok || !alive) return;
    r.busy = true;
    r.btn.disabled = true;
    r.err.hidden = true;
    try {
      const res = await api('POST', `/gateways/${encodeURIComponent(name)}/${action}`);
      pending.set(name, { enabled: res && typeof res.enabled === 'boolean' ? res.enabled : !enabled, until: Date.now() + 15000 });
    } catch (err) {
      if (err.unauthorized) return;
      r.err.textContent = `${action} failed: ${err.message}`;
      r.err.hidden = false;
      showError(err, `${action} ${name}`);
    } finally {
      r.busy = false;
      r.btn.disabled = false;
    }
    if (alive) {
      if (last) render(last);
      p.now();
    }
  }

  function healthList(g) {
    const addrs = g.addresses || [];
    if (addrs.length === 0) return h('span', { class: 'muted' }, g.role === 'termination' ? 'no address resolved' : DASH);
    return h('ul', { class: 'addr-list' }, addrs.map((a) => {
      const health = a.health || 'unknown';
      const title = [a.last_error ? 'last error: ' + a.last_error : '', a.penalty ? 'penalty ' + fmtDec(a.penalty, 2) : ''].filter(Boolean).join('; ');
      return h('li', { data: { health }, title: title || undefined },
        h('span', { class: ['health', 'health-' + health.replace(/[^a-z_]/g, '')], testid: 'gw-health' }, HEALTH_LABEL[health] || health),
        ' ', h('span', { class: 'mono' }, a.addr));
    }));
  }

  function outcomesCell(o) {
    const e = Object.entries(o || {}).sort((a, b) => b[1] - a[1]);
    if (e.length === 0) return h('span', { class: 'muted' }, DASH);
    return h('div', { class: 'chips' }, e.map(([k, v]) => h('span', { class: ['chip', 'outcome-' + k.replace(/[^a-z0-9_]/g, '')] }, `${k} ${fmtInt(v)}`)));
  }

  function ofLimit(n, limit) {
    return `${fmtInt(n)} / ${limit > 0 ? fmtInt(limit) : '∞'}`;
  }

  function render(gws) {
    if (gws.length === 0) {
      rows.clear();
      holder.replaceChildren(emptyState('No gateways are provisioned (swctl gateway add)'));
      summary.textContent = '';
      return;
    }
    if (holder.firstChild !== table) holder.replaceChildren(table);
    const seen = new Set();
    const ordered = [];
    for (const g of gws) {
      seen.add(g.name);
      const r = rowFor(g.name);
      const enabled = !!g.enabled;
      const pend = pendingOf(g);
      const cps = typeof g.cps === 'number' ? g.cps : g.calls_last_second;
      const healthSet = new Set((g.addresses || []).map((a) => a.health));
      r.tr.className = [enabled ? '' : 'disabled', healthSet.has('up') || healthSet.size === 0 ? '' : 'down'].filter(Boolean).join(' ');
      r.btn.textContent = enabled ? 'Disable' : 'Enable';
      r.btn.classList.toggle('danger', enabled);
      r.btn.disabled = r.busy || (!!pend && Date.now() <= pend.until);
      const flags = [g.role, g.site ? 'site ' + g.site : '', g.transport, g.probing ? 'OPTIONS ping' : '', g.published === false ? 'unpublished' : ''].filter(Boolean).join(' · ');
      const capFull = g.capacity > 0 && g.active_calls >= g.capacity;
      const cpsFull = g.cps_limit > 0 && cps >= g.cps_limit;
      r.tr.replaceChildren(
        h('td', {}, h('div', { class: 'gw-name' }, g.name), h('div', { class: 'muted small' }, flags)),
        h('td', {}, h('span', { class: ['state', enabled ? 'state-enabled' : 'state-disabled'], testid: 'gw-state' }, enabled ? 'enabled' : 'disabled'),
          pend ? h('div', { class: Date.now() > pend.until ? 'inline-warn' : 'muted small', testid: 'gw-pending' },
            Date.now() > pend.until ? `stored as ${pend.enabled ? 'enabled' : 'disabled'}; the switch has not applied it yet`
              : (pend.enabled ? 'enabling…' : 'disabling…')) : null),
        h('td', {}, healthList(g)),
        h('td', { class: ['num', capFull ? 'hot' : ''], testid: 'gw-active' }, ofLimit(g.active_calls, g.capacity)),
        h('td', { class: ['num', cpsFull ? 'hot' : ''], testid: 'gw-cps' }, ofLimit(cps, g.cps_limit)),
        h('td', { class: 'num' }, fmtInt(g.attempts)),
        h('td', {}, outcomesCell(g.outcomes)),
        h('td', { class: 'last-error', testid: 'gw-last-error' }, g.last_error ? g.last_error : h('span', { class: 'muted' }, DASH)),
        h('td', { class: 'actions' }, r.btn, r.err),
      );
      ordered.push(r.tr);
    }
    for (const name of [...rows.keys()]) if (!seen.has(name)) rows.delete(name);
    // Keep the existing <tr> elements (and the button under the mouse) in place.
    ordered.forEach((tr, i) => {
      if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] || null);
    });
    while (tbody.children.length > ordered.length) tbody.lastChild.remove();
    const term = gws.filter((g) => g.role === 'termination');
    const down = term.filter((g) => !(g.addresses || []).some((a) => a.health === 'up'));
    const disabled = gws.filter((g) => !g.enabled);
    summary.textContent = `${fmtInt(gws.length)} gateways · ${fmtInt(disabled.length)} disabled · ${fmtInt(down.length)} termination gateways without a healthy address`;
  }

  const p = poller(async () => {
    const res = await api('GET', '/gateways');
    if (!alive) return;
    last = res.gateways || [];
    render(last);
    setNode(res.node);
    clearError('poll');
    markUpdated();
    root.setAttribute('data-testid', 'view-gateways');
    // While a change waits for the switch, look again soon rather than in 2 s.
    const waiting = [...pending.values()].some((x) => Date.now() <= x.until);
    clearTimeout(fastTimer);
    if (waiting) fastTimer = setTimeout(() => alive && p.now(), 400);
  }, 2000);

  return {
    destroy() {
      alive = false;
      clearTimeout(fastTimer);
      p.stop();
    },
  };
}
