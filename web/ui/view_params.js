// Parameters: /api/v1/params; inline edit, PUT to save, DELETE to reset to the default.
import { h, DASH, emptyState } from './util.js';
import { api, markUpdated, showError, clearError } from './core.js';

export function paramsView({ root }) {
  let alive = true;
  const filter = h('input', { type: 'search', class: 'filter', placeholder: 'filter parameters', 'aria-label': 'filter parameters' });
  const changedOnly = h('input', { type: 'checkbox', id: 'changed-only' });
  const holder = h('div', { class: 'table-wrap' }, h('div', { class: 'muted' }, 'loading…'));
  const unknownHolder = h('div');
  root.append(
    h('div', { class: 'title-row' }, h('h1', {}, 'Parameters'), filter,
      h('label', { class: 'check' }, changedOnly, ' changed only')),
    h('p', { class: 'muted' }, 'Changes are stored in the database; the switch picks them up within a second. Reset removes the stored value (the default applies).'),
    holder, unknownHolder);
  const rows = [];

  function applyFilter() {
    const q = filter.value.trim().toLowerCase();
    let shown = 0;
    for (const r of rows) {
      const vis = (!q || r.text.includes(q)) && (!changedOnly.checked || r.tr.classList.contains('changed'));
      r.tr.hidden = !vis;
      if (vis) shown++;
    }
    const e = holder.querySelector('.filter-empty');
    if (e) e.hidden = shown > 0;
  }
  filter.addEventListener('input', applyFilter);
  changedOnly.addEventListener('change', applyFilter);

  function paramRow(p) {
    const input = h('input', { type: 'text', class: 'param-input mono', testid: 'param-input', value: p.value, 'aria-label': p.name, spellcheck: 'false', autocomplete: 'off' });
    const save = h('button', { type: 'button', class: 'btn small primary', testid: 'param-save' }, 'Save');
    const reset = h('button', { type: 'button', class: 'btn small', testid: 'param-reset', title: 'reset to the default' }, 'Reset');
    const msg = h('div', { class: 'param-msg' });
    const valueCell = h('td', { class: 'value-cell' }, input, msg);
    const defCell = h('td', { class: 'mono' });
    const tr = h('tr', { data: { param: p.name } },
      h('td', { class: 'mono pname' }, p.name, h('span', { class: 'badge changed-badge' }, 'changed')),
      valueCell,
      defCell,
      h('td', { class: 'allowed' }, p.allowed || DASH),
      h('td', { class: 'meaning' }, p.meaning || p.description || ''),
      h('td', { class: 'actions nowrap' }, save, ' ', reset));
    let current = p;

    const showState = (q) => {
      current = q;
      input.value = q.value ?? '';
      input.classList.remove('dirty');
      defCell.textContent = q.default ?? '';
      tr.classList.toggle('changed', !!q.changed);
      if (q.error) {
        msg.replaceChildren(h('span', { class: 'inline-warn', title: 'the stored value is ignored' },
          `stored value ${JSON.stringify(q.stored)} is invalid (${q.error}); the default applies`));
      }
    };
    const setMsg = (el) => msg.replaceChildren(...(el ? [el] : []));
    const busy = (b) => {
      save.disabled = b;
      reset.disabled = b;
      input.disabled = b;
    };

    async function doSave() {
      setMsg(null);
      input.classList.remove('invalid');
      busy(true);
      try {
        const res = await api('PUT', '/params/' + encodeURIComponent(p.name), { value: input.value });
        if (!alive) return;
        showState({ ...current, ...res });
        setMsg(h('span', { class: 'ok-msg', testid: 'param-saved' }, `saved${res.previous !== undefined ? ' (was ' + (res.previous ?? 'default') + ')' : ''}`));
        markUpdated();
      } catch (err) {
        if (!alive || err.unauthorized) return;
        input.classList.add('invalid');
        setMsg(h('span', { class: 'inline-error', testid: 'param-error', role: 'alert' }, err.message));
        if (err.status !== 400) showError(err, 'save ' + p.name);
      } finally {
        busy(false);
        if (alive && !msg.querySelector('[data-testid=param-error]')) input.classList.remove('invalid');
      }
    }

    async function doReset() {
      setMsg(null);
      busy(true);
      try {
        const res = await api('DELETE', '/params/' + encodeURIComponent(p.name));
        if (!alive) return;
        showState({ ...current, ...res, stored: null, changed: false, error: undefined });
        setMsg(h('span', { class: 'ok-msg', testid: 'param-saved' }, `reset to the default${res.removed ? ' (was ' + res.removed + ')' : ''}`));
        input.classList.remove('invalid');
        markUpdated();
      } catch (err) {
        if (!alive || err.unauthorized) return;
        setMsg(h('span', { class: 'inline-error', testid: 'param-error', role: 'alert' }, err.message));
        if (err.status !== 400) showError(err, 'reset ' + p.name);
      } finally {
        busy(false);
      }
    }

    save.addEventListener('click', doSave);
    reset.addEventListener('click', doReset);
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        doSave();
      } else if (e.key === 'Escape') {
        input.value = current.value ?? '';
        input.classList.remove('dirty', 'invalid');
        setMsg(null);
      }
    });
    input.addEventListener('input', () => {
      input.classList.toggle('dirty', input.value !== (current.value ?? ''));
      const saved = msg.querySelector('[data-testid=param-saved]');
      if (saved) setMsg(null);
    });
    showState(p);
    return { tr, text: [p.name, p.meaning, p.allowed].join(' ').toLowerCase() };
  }

  function renderUnknown(list) {
    if (!list || list.length === 0) {
      unknownHolder.replaceChildren();
      return;
    }
    unknownHolder.replaceChildren(h('section', { class: 'panel' },
      h('h2', {}, 'Stored values the switch ignores'),
      h('p', { class: 'muted' }, 'These names are not parameters of this version; Remove deletes them.'),
      h('table', { class: 'table compact' }, h('tbody', {}, list.map((u) => {
        const btn = h('button', { type: 'button', class: 'btn small' }, 'Remove');
        const tr = h('tr', { data: { 'unknown-param': u.name } }, h('td', { class: 'mono' }, u.name), h('td', { class: 'mono' }, u.stored), h('td', {}, btn));
        btn.addEventListener('click', async () => {
          btn.disabled = true;
          try {
            await api('DELETE', '/params/' + encodeURIComponent(u.name));
            tr.remove();
          } catch (err) {
            showError(err, 'remove ' + u.name);
            btn.disabled = false;
          }
        });
        return tr;
      })))));
  }

  (async () => {
    try {
      const res = await api('GET', '/params');
      if (!alive) return;
      const params = res.params || [];
      if (params.length === 0) {
        holder.replaceChildren(emptyState('No parameters'));
      } else {
        rows.length = 0;
        for (const p of params) rows.push(paramRow(p));
        holder.replaceChildren(h('table', { class: 'table params' },
          h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Value'), h('th', {}, 'Default'),
            h('th', {}, 'Allowed'), h('th', {}, 'Description'), h('th', {}, ''))),
          h('tbody', {}, rows.map((r) => r.tr))),
        h('div', { class: 'empty filter-empty', hidden: true }, 'No parameter matches the filter'));
      }
      renderUnknown(res.unknown_stored);
      clearError();
      markUpdated();
    } catch (err) {
      if (!alive) return;
      showError(err, 'parameters');
      holder.replaceChildren(h('div', { class: 'empty error-state' }, 'Could not load the parameters: ' + err.message));
    } finally {
      if (alive) root.setAttribute('data-testid', 'view-params');
    }
  })();

  return {
    destroy() {
      alive = false;
    },
  };
}
