// DOM building and formatting helpers. Server data only ever goes into textContent or
// attributes set with setAttribute (never innerHTML): call ids and numbers come from the network.

/** h('div', {class: 'x', testid: 'y', data: {k: v}, on: {click: fn}}, child, ...) */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  applyAttrs(el, attrs);
  appendChildren(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** The same for SVG elements (createElementNS). */
/** A numeric (right-aligned) column of thead(). */
export const num = (label) => ({ num: label });

/** A table head row: each column a label, or num(label). */
export function thead(...columns) {
  return h('thead', {}, h('tr', {}, columns.map((c) =>
    (typeof c === 'object' ? h('th', { class: 'num' }, c.num) : h('th', {}, c)))));
}

export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  applyAttrs(el, attrs);
  appendChildren(el, children);
  return el;
}

function applyAttrs(el, attrs) {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') {
      el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
    } else if (k === 'testid') {
      el.setAttribute('data-testid', v);
    } else if (k === 'data') {
      for (const [dk, dv] of Object.entries(v)) el.setAttribute('data-' + dk, String(dv));
    } else if (k === 'on') {
      for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    } else if (k === 'text') {
      el.textContent = String(v);
    } else if (k === 'style') {
      throw new Error('use classes or el.style (CSP)');
    } else if (v === true) {
      el.setAttribute(k, '');
    } else {
      el.setAttribute(k, String(v));
    }
  }
}

function appendChildren(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// --- numbers ------------------------------------------------------------------------------

const intFmt = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const dec1Fmt = new Intl.NumberFormat(undefined, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const dec2Fmt = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
const pctFmt = new Intl.NumberFormat(undefined, { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });

export const DASH = '—';

function isNum(n) {
  return typeof n === 'number' && Number.isFinite(n);
}

export function fmtInt(n) {
  return isNum(n) ? intFmt.format(n) : DASH;
}

export function fmtDec(n, digits = 1) {
  if (!isNum(n)) return DASH;
  return digits === 1 ? dec1Fmt.format(n) : dec2Fmt.format(n);
}

/** 0.634 -> "63.4 %" (locale). */
export function fmtPct(ratio) {
  return isNum(ratio) ? pctFmt.format(ratio) : DASH;
}

export function fmtBytes(n) {
  if (!isNum(n)) return DASH;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return (i === 0 ? intFmt.format(v) : dec1Fmt.format(v)) + ' ' + units[i];
}

/** Milliseconds as "1 h 02 m 03 s", "1 m 23 s", "45 s", "850 ms". */
export function fmtDuration(ms, { showMs = true } = {}) {
  if (!isNum(ms)) return DASH;
  if (ms < 0) ms = 0;
  if (ms < 1000 && showMs) return intFmt.format(Math.round(ms)) + ' ms';
  let sec = Math.floor(ms / 1000);
  const d = Math.floor(sec / 86400);
  sec -= d * 86400;
  const hr = Math.floor(sec / 3600);
  sec -= hr * 3600;
  const m = Math.floor(sec / 60);
  sec -= m * 60;
  const p2 = (x) => String(x).padStart(2, '0');
  if (d > 0) return `${d} d ${hr} h ${p2(m)} m`;
  if (hr > 0) return `${hr} h ${p2(m)} m ${p2(sec)} s`;
  if (m > 0) return `${m} m ${p2(sec)} s`;
  return `${sec} s`;
}

/** PDD and other short times: "850 ms", "2.35 s". */
export function fmtMs(ms) {
  if (!isNum(ms)) return DASH;
  if (Math.abs(ms) < 1000) return intFmt.format(ms) + ' ms';
  return dec2Fmt.format(ms / 1000) + ' s';
}

// --- times (always the browser's zone) -----------------------------------------------------

export function parseTime(iso) {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
}

const p2 = (x) => String(x).padStart(2, '0');
const p3 = (x) => String(x).padStart(3, '0');

/** "2026-11-22 19:03:04" (+ ".123" with ms) in the browser's zone. */
export function fmtTime(t, { ms = false, date = true } = {}) {
  if (t === null || t === undefined) return DASH;
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return DASH;
  let out = `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
  if (ms) out += '.' + p3(d.getMilliseconds());
  if (date) out = `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ` + out;
  return out;
}

/** "+01:00" for the browser's offset at `t` (default now). */
export function zoneOffset(t = Date.now()) {
  const off = -new Date(t).getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const a = Math.abs(off);
  return `${sign}${p2(Math.floor(a / 60))}:${p2(a % 60)}`;
}

export function zoneName() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'local';
  } catch {
    return 'local';
  }
}

/** A local time as ISO 8601 with the browser's offset: 2026-11-22T10:00:00.000+01:00. */
export function isoLocal(t) {
  const d = new Date(t);
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}T${p2(d.getHours())}:` +
    `${p2(d.getMinutes())}:${p2(d.getSeconds())}.${p3(d.getMilliseconds())}${zoneOffset(t)}`;
}

/**
 * What the user typed into a since/until field, for the API: relative (-1h) and zoned ISO
 * times pass through; a time without a zone ("2026-11-22 10:00", "2026-11-22T10:00") is taken
 * in the browser's zone and sent with its offset.
 */
export function timeForApi(text) {
  const v = (text || '').trim();
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?$/.exec(v);
  if (!m) return v;
  const d = new Date(+m[1], +m[2] - 1, +m[3], +(m[4] || 0), +(m[5] || 0), +(m[6] || 0),
    +((m[7] || '0').padEnd(3, '0')));
  if (Number.isNaN(d.getTime())) return v;
  return isoLocal(d.getTime());
}

export function clear(el) {
  el.replaceChildren();
}

/** An empty-state block. */
export function emptyState(text) {
  return h('div', { class: 'empty', testid: 'empty' }, text);
}
