// The API client, the global error banner, the "updated" stamp and the confirmation dialog.
import { h, fmtTime } from './util.js';

export class ApiError extends Error {
  constructor(status, body) {
    const msg = (body && typeof body.error === 'string' && body.error) ||
      (status ? `HTTP ${status}` : 'network error');
    super(msg);
    this.status = status;
    this.body = body || {};
  }
}

let onUnauthorized = () => {};

/** Called (once per 401) when the session is gone: the app shows the login form. */
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

/**
 * fetch() /api/v1 + path. Resolves with the parsed JSON; rejects with ApiError (status 0 for
 * network failures). A 401 anywhere but the login itself sends the user back to the login form.
 */
export async function api(method, path, body, { signal } = {}) {
  const opts = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store', signal };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch('/api/v1' + path, opts);
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError(0, { error: 'cannot reach the switch: ' + (e && e.message ? e.message : e) });
  }
  let data = null;
  const text = await res.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { error: `HTTP ${res.status}: the answer is not JSON` };
    }
  }
  if (res.status === 401 && path !== '/session') {
    onUnauthorized();
    const err = new ApiError(401, data);
    err.unauthorized = true;
    throw err;
  }
  if (!res.ok) throw new ApiError(res.status, data || { error: `HTTP ${res.status} ${res.statusText}` });
  return data;
}

// --- banner -------------------------------------------------------------------------------

const banner = () => document.getElementById('error-banner');

/** Shows `err` (an Error or text) in the global banner; 401s are not shown (login follows). */
export function showError(err, context, source = 'action') {
  if (err && (err.unauthorized || err.name === 'AbortError')) return;
  const b = banner();
  if (!b) return;
  b.setAttribute('data-source', source);
  // A failed refresh: what the page shows is getting old.
  document.body.classList.toggle('stale', source === 'poll');
  const msg = typeof err === 'string' ? err : (err && err.message) || String(err);
  const status = err && err.status ? ` (HTTP ${err.status})` : '';
  b.replaceChildren(
    h('span', { class: 'banner-text' }, (context ? context + ': ' : '') + msg + status),
    h('button', { type: 'button', class: 'banner-close', title: 'Dismiss', 'aria-label': 'Dismiss', on: { click: () => clearError() } }, '×'),
  );
  b.hidden = false;
}

/** Hides the banner; with `source`, only an error that came from there (e.g. 'poll'). */
export function clearError(source) {
  const b = banner();
  if (!b) return;
  if (typeof source === 'string' && b.getAttribute('data-source') !== source) return;
  document.body.classList.remove('stale');
  b.hidden = true;
  b.replaceChildren();
}

/** Marks a successful refresh in the header. */
export function markUpdated(t = Date.now()) {
  const u = document.getElementById('updated');
  if (u) {
    u.textContent = 'updated ' + fmtTime(t, { date: false });
    u.setAttribute('title', 'last refresh ' + fmtTime(t));
  }
}

export function setNode(node) {
  const n = document.getElementById('node-name');
  if (n && node) {
    n.textContent = node;
    n.setAttribute('title', 'node ' + node);
  }
}

// --- confirmation dialog (our own, not window.confirm) ------------------------------------

/** Resolves true (OK) or false (Cancel, Escape, backdrop). */
export function confirmDialog({ title, message, ok = 'OK', danger = false }) {
  return new Promise((resolve) => {
    const prevFocus = document.activeElement;
    let done = false;
    const close = (answer) => {
      if (done) return;
      done = true;
      document.removeEventListener('keydown', onKey, true);
      backdrop.remove();
      if (prevFocus && prevFocus.focus && document.contains(prevFocus)) prevFocus.focus();
      resolve(answer);
    };
    const onKey = (e) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        close(false);
      }
    };
    const okBtn = h('button', { type: 'button', class: ['btn', danger ? 'danger' : 'primary'], testid: 'confirm-ok', on: { click: () => close(true) } }, ok);
    const cancelBtn = h('button', { type: 'button', class: 'btn', testid: 'confirm-cancel', on: { click: () => close(false) } }, 'Cancel');
    const dialog = h('div', { class: 'modal', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'confirm-title', testid: 'confirm-dialog' },
      h('h2', { id: 'confirm-title' }, title),
      h('p', {}, message),
      h('div', { class: 'modal-actions' }, cancelBtn, okBtn));
    const backdrop = h('div', { class: 'modal-backdrop', on: { click: (e) => { if (e.target === backdrop) close(false); } } }, dialog);
    document.addEventListener('keydown', onKey, true);
    document.body.append(backdrop);
    okBtn.focus();
  });
}

// --- polling ------------------------------------------------------------------------------

/**
 * Runs `fn` now and then every `ms` after each run finished, until stop() is called. Runs are
 * skipped while the tab is hidden and resumed when it shows again.
 */
export function poller(fn, ms) {
  let timer = null;
  let stopped = false;
  let running = false;
  const run = async () => {
    timer = null;
    if (stopped) return;
    if (document.hidden) return; // resumed by visibilitychange
    running = true;
    try {
      await fn();
    } catch (e) {
      showError(e, undefined, 'poll');
    } finally {
      running = false;
    }
    if (!stopped) timer = setTimeout(run, ms);
  };
  const onVis = () => {
    if (!document.hidden && !stopped && !running && timer === null) run();
  };
  document.addEventListener('visibilitychange', onVis);
  run();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVis);
    },
    now() {
      if (stopped || running) return;
      if (timer) clearTimeout(timer);
      run();
    },
  };
}
