// SPDX-License-Identifier: Apache-2.0
// The browser half of ctest browser.ui (tests/browser/browser_ui.py runs it): headless Debian
// Chromium driven by playwright-core, through the data-testid hooks of the operator page only
// (see tests/browser/README.md).
//
//   node ui_steps.js CONFIG.json
//
// CONFIG: {"modules": DIR with node_modules/playwright-core, "chromium": path, "base_url":
// "http://127.0.0.1:PORT", "artifacts": DIR (screenshots), "timezone": IANA zone}.
//
// Protocol: one JSON object per line on stdin, {"id": N, "cmd": NAME, ...arguments}; one JSON
// object per line on stdout in reply, {"id": N, "ok": true, ...results} or {"id": N, "ok":
// false, "error": text, "screenshot": path of the page when it failed}. Commands run one at a
// time, in order. Diagnostics go to stderr (the test keeps them in artifacts/node.log). Every
// wait is bounded (Playwright timeouts); `quit` (or stdin closing) closes the browser and
// exits 0.

'use strict';

const fs = require('fs');
const path = require('path');
const readline = require('readline');

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const { chromium } = require(path.join(config.modules, 'node_modules', 'playwright-core'));

const WAIT_MS = 15000;       // any single wait for the page
let browser = null;
let page = null;
const seen = { console_errors: [], page_errors: [], csp: [], http_errors: [] };

function log(msg) {
  process.stderr.write(`[ui_steps ${new Date().toISOString()}] ${msg}\n`);
}

function reply(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

// A CSS string literal for an attribute selector value.
function cssString(s) {
  return '"' + String(s).replace(/["\\]/g, '\\$&') + '"';
}

function tid(name) {
  return `[data-testid=${cssString(name)}]`;
}

async function shot(name) {
  const file = path.join(config.artifacts, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// Text of the first match, '' when absent; never waits.
async function textOf(selector) {
  const loc = page.locator(selector).first();
  return (await loc.count()) ? (await loc.innerText()).trim() : '';
}

async function visible(selector) {
  const loc = page.locator(selector).first();
  return (await loc.count()) > 0 && (await loc.isVisible());
}

// Waits until the trimmed text of `selector` equals `want` (bounded).
async function waitText(selector, want, timeout = WAIT_MS) {
  try {
    await page.waitForFunction(
      ([sel, w]) => {
        const el = document.querySelector(sel);
        return el !== null && el.textContent.trim() === w;
      },
      [selector, want], { timeout });
  } catch (e) {
    throw new Error(`${selector}: text is ${JSON.stringify(await textOf(selector))} after ` +
                    `${timeout} ms, expected ${JSON.stringify(want)}`);
  }
}

async function banner() {
  return (await visible(tid('error-banner'))) ? await textOf(tid('error-banner')) : '';
}

// Clicks nav-<view> and waits for view-<view> (its first data rendered).
async function nav(view) {
  const t0 = Date.now();
  await page.locator(tid(`nav-${view}`)).first().click();
  await page.locator(tid(`view-${view}`)).first().waitFor({ state: 'visible' });
  return { ms: Date.now() - t0, hash: await page.evaluate(() => location.hash),
           banner: await banner() };
}

// data-call-id of every result row of the view `view`, in page order.
async function rowIds(view) {
  return page.$$eval(`${tid(`view-${view}`)} tr[data-call-id]`,
                     (rows) => rows.map((r) => r.getAttribute('data-call-id')));
}

// Waits until the CDR search shows exactly the rows `want` (call ids, in order: checked by
// count, first and last); on timeout the error tells what it shows instead.
async function waitRows(want, what, timeout_ms) {
  const rowsSel = `${tid('view-cdrs')} tr[data-call-id]`;
  const timeout = timeout_ms || 20000;
  try {
    await page.waitForFunction(([sel, first, last, n]) => {
      const rows = document.querySelectorAll(sel);
      return rows.length === n && rows[0].getAttribute('data-call-id') === first &&
             rows[n - 1].getAttribute('data-call-id') === last;
    }, [rowsSel, want[0], want[want.length - 1], want.length], { timeout });
  } catch (e) {
    const got = await page.$$eval(
      rowsSel, (rows) => rows.map((x) => x.getAttribute('data-call-id'))).catch(() => []);
    throw new Error(`${what}: the page did not show the expected ${want.length} rows ` +
                    `(${want[0]} .. ${want[want.length - 1]}) within ${timeout} ms; it shows ` +
                    `${got.length}: ${got.slice(0, 3).join(', ')} .. ` +
                    `${got.slice(-2).join(', ')}; page-info ` +
                    `${JSON.stringify(await textOf(tid('cdr-page-info')))}; banner ` +
                    `${JSON.stringify(await banner())}`);
  }
}

const commands = {
  async start() {
    // No proxy whatever the environment says: the page is on 127.0.0.1 (Playwright's defaults
    // already turn off Chromium's background networking).
    browser = await chromium.launch({ executablePath: config.chromium, headless: true,
                                      args: ['--no-proxy-server'] });
    const context = await browser.newContext({
      timezoneId: config.timezone, locale: 'en-US', viewport: { width: 1400, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.on('console', (m) => {
      const text = m.text();
      if (m.type() === 'error') {
        (/Content Security Policy/i.test(text) ? seen.csp : seen.console_errors).push(text);
      }
      log(`console.${m.type()}: ${text}`);
    });
    page.on('pageerror', (e) => { seen.page_errors.push(String(e)); log(`pageerror: ${e}`); });
    page.on('response', (r) => {
      if (r.status() >= 400) {
        seen.http_errors.push(`${r.request().method()} ${r.url()} -> ${r.status()}`);
      }
    });
    return { browser_version: browser.version(),
             zone: await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone) };
  },

  // Wrong token first (login-error), then the right one (logout link + dashboard).
  async login({ token, wrong_token }) {
    await page.goto(config.base_url + '/');
    const input = page.locator(tid('login-token')).first();
    await input.waitFor({ state: 'visible' });
    await shot('login');
    await input.fill(wrong_token);
    await page.locator(tid('login-submit')).first().click();
    await page.locator(tid('login-error')).first().waitFor({ state: 'visible' });
    const error = await textOf(tid('login-error'));
    await shot('login_error');
    const logged_in_before = await visible(tid('logout'));
    await input.fill(token);
    const t0 = Date.now();
    await page.locator(tid('login-submit')).first().click();
    await page.locator(tid('logout')).first().waitFor({ state: 'visible' });
    await page.locator(tid('view-dashboard')).first().waitFor({ state: 'visible' });
    return { login_error: error, logged_in_with_wrong_token: logged_in_before,
             login_ms: Date.now() - t0, login_form_gone: !(await visible(tid('login-token'))),
             tz: await textOf(tid('tz')), hash: await page.evaluate(() => location.hash) };
  },

  async nav({ view, screenshot }) {
    const r = await nav(view);
    r.empty = (await visible(tid('empty'))) ? await textOf(tid('empty')) : null;
    if (screenshot) r.screenshot = await shot(screenshot);
    return r;
  },

  async shot({ name }) {
    return { screenshot: await shot(name) };
  },

  // Live calls: the row of `call_id` appears (the view polls every 2 s).
  async call_row({ call_id, screenshot, timeout_ms }) {
    const r = await nav('calls');
    const row = page.locator(`${tid('view-calls')} tr[data-call-id=${cssString(call_id)}]`);
    const t0 = Date.now();
    await row.first().waitFor({ state: 'visible', timeout: timeout_ms || WAIT_MS });
    r.appeared_ms = Date.now() - t0;
    r.row = await row.first().innerText();
    r.ids = await rowIds('calls');
    if (screenshot) r.screenshot = await shot(screenshot);
    return r;
  },

  // Live calls: the row of `call_id` goes away once the call has ended.
  async call_row_gone({ call_id, timeout_ms }) {
    await page.locator(tid('view-calls')).first().waitFor({ state: 'visible' });
    const row = page.locator(`${tid('view-calls')} tr[data-call-id=${cssString(call_id)}]`);
    const t0 = Date.now();
    await row.first().waitFor({ state: 'detached', timeout: timeout_ms || WAIT_MS });
    return { gone_ms: Date.now() - t0,
             empty: (await visible(tid('empty'))) ? await textOf(tid('empty')) : null };
  },

  // Dashboard: waits for stat-active-calls = `active` when given; returns every stat.
  async dashboard({ active, screenshot }) {
    const r = await nav('dashboard');
    if (active !== undefined && active !== null) {
      await waitText(tid('stat-active-calls'), String(active));
    }
    r.stats = {};
    for (const s of ['stat-active-calls', 'stat-cps', 'stat-attempts-per-s', 'stat-answer-ratio',
                     'stat-cdr-queue', 'stat-cdr-spool']) {
      r.stats[s] = (await page.locator(tid(s)).count()) ? await textOf(tid(s)) : null;
    }
    r.tz = await textOf(tid('tz'));
    r.updated = await textOf(tid('updated'));
    if (screenshot) r.screenshot = await shot(screenshot);
    return r;
  },

  // CDR search (the form's defaults) finds `call_id`; cdr-open shows its timeline and chain.
  async cdr_open({ call_id, since }) {
    const r = await nav('cdrs');
    if (since) {
      await page.locator(tid('cdr-since')).first().fill(since);
    }
    const row = page.locator(`${tid('view-cdrs')} tr[data-call-id=${cssString(call_id)}]`);
    const t0 = Date.now();
    await page.locator(tid('cdr-search')).first().click();
    await row.first().waitFor({ state: 'visible' });
    r.search_ms = Date.now() - t0;
    r.row = await row.first().innerText();
    r.search_screenshot = await shot('cdrs');
    await row.first().locator(tid('cdr-open')).first().click();
    await page.locator(tid('view-cdr')).first().waitFor({ state: 'visible' });
    await page.locator(`${tid('view-cdr')} ${tid('attempt-row')}`).first()
      .waitFor({ state: 'visible' });
    r.hash = await page.evaluate(() => location.hash);
    r.attempts = await page.$$eval(`${tid('view-cdr')} ${tid('attempt-row')}`,
      (rows) => rows.map((a) => ({ gateway: a.getAttribute('data-gateway'),
                                   text: a.innerText.trim() })));
    await page.locator(tid('timeline')).first().waitFor({ state: 'visible' });
    r.timeline = await textOf(tid('timeline'));
    r.screenshot = await shot('cdr');
    return r;
  },

  // Gateways: gw-toggle -> confirm-dialog; cancel keeps the gateway enabled, ok disables it.
  async gw_disable({ name }) {
    const r = await nav('gateways');
    const row = page.locator(`${tid('view-gateways')} tr[data-gateway=${cssString(name)}]`).first();
    await row.waitFor({ state: 'visible' });
    const stateSel =
      `${tid('view-gateways')} tr[data-gateway=${cssString(name)}] ${tid('gw-state')}`;
    await waitText(stateSel, 'enabled');
    r.toggle_before = (await row.locator(tid('gw-toggle')).first().innerText()).trim();
    r.row_before = await row.innerText();
    await shot('gateways');
    const dialog = page.locator(tid('confirm-dialog')).first();
    await row.locator(tid('gw-toggle')).first().click();
    await dialog.waitFor({ state: 'visible' });
    await page.locator(tid('confirm-cancel')).first().click();
    await dialog.waitFor({ state: 'hidden' });
    r.state_after_cancel = await textOf(stateSel);
    await row.locator(tid('gw-toggle')).first().click();
    await dialog.waitFor({ state: 'visible' });
    r.dialog_text = await dialog.innerText();
    await shot('gateways_confirm');
    const t0 = Date.now();
    await page.locator(tid('confirm-ok')).first().click();
    await waitText(stateSel, 'disabled');
    r.disabled_ms = Date.now() - t0;
    r.dialog_gone = !(await dialog.isVisible());
    r.toggle_after = (await row.locator(tid('gw-toggle')).first().innerText()).trim();
    r.row_after = await row.innerText();
    r.screenshot = await shot('gateways_disabled');
    return r;
  },

  // Gateways: waits until gw-state of `name` reads `want` (the view polls every 2 s).
  async gw_state({ name, want, timeout_ms }) {
    if (!(await visible(tid('view-gateways')))) await nav('gateways');
    const stateSel =
      `${tid('view-gateways')} tr[data-gateway=${cssString(name)}] ${tid('gw-state')}`;
    const t0 = Date.now();
    await waitText(stateSel, want, timeout_ms || WAIT_MS);
    return { ms: Date.now() - t0, screenshot: await shot(`gateways_${name}_${want}`) };
  },

  // Params: `value` in the row of `name`, param-save; waits for param-error (expect "error") or
  // param-saved (expect "saved").
  async param_set({ name, value, expect, screenshot }) {
    if (!(await visible(tid('view-params')))) await nav('params');
    const row = page.locator(`${tid('view-params')} tr[data-param=${cssString(name)}]`).first();
    await row.waitFor({ state: 'visible' });
    await row.locator(tid('param-input')).first().fill(value);
    await row.locator(tid('param-save')).first().click();
    const want = row.locator(tid(expect === 'error' ? 'param-error' : 'param-saved')).first();
    await want.waitFor({ state: 'visible' });
    const r = { text: (await want.innerText()).trim(),
                error_visible: await row.locator(tid('param-error')).first().isVisible()
                  .catch(() => false),
                row: await row.innerText() };
    if (screenshot) r.screenshot = await shot(screenshot);
    return r;
  },

  // Params: param-reset in the row of `name`; waits until its input shows `default_value`.
  async param_reset({ name, default_value, screenshot }) {
    const row = page.locator(`${tid('view-params')} tr[data-param=${cssString(name)}]`).first();
    await row.locator(tid('param-reset')).first().click();
    const sel = `${tid('view-params')} tr[data-param=${cssString(name)}] ${tid('param-input')}`;
    try {
      await page.waitForFunction(([s, v]) => {
        const el = document.querySelector(s);
        return el !== null && el.value.trim() === v;
      }, [sel, default_value], { timeout: WAIT_MS });
    } catch (e) {
      throw new Error(`after param-reset the input of ${name} shows ` +
                      `${JSON.stringify(await page.locator(sel).first().inputValue())}, ` +
                      `expected the default ${JSON.stringify(default_value)}`);
    }
    const r = { row: await row.innerText() };
    if (screenshot) r.screenshot = await shot(screenshot);
    return r;
  },

  // CDR paging over many rows: `route` (a #/cdrs?... hash) must show expected[0]; each
  // cdr-older click the next page of `expected` (lists of call ids, newest first), then
  // cdr-newer goes back one page. Returns how long each page took to render (trigger -> the
  // expected rows in the DOM).
  async cdr_paging({ route, expected, timeout_ms }) {
    await nav('dashboard');
    const waitPage = (want, what) => waitRows(want, what, timeout_ms);
    const pages = [];
    let t0 = Date.now();
    await page.evaluate((h) => { location.hash = h; }, route);
    await waitPage(expected[0], 'page 1');
    pages.push({ page: 1, how: 'open', ms: Date.now() - t0, ids: await rowIds('cdrs'),
                 info: await textOf(tid('cdr-page-info')) });
    await shot('cdrs_page1');
    for (let k = 1; k < expected.length; k++) {
      t0 = Date.now();
      await page.locator(tid('cdr-older')).first().click();
      await waitPage(expected[k], `page ${k + 1} (cdr-older)`);
      pages.push({ page: k + 1, how: 'older', ms: Date.now() - t0, ids: await rowIds('cdrs'),
                   info: await textOf(tid('cdr-page-info')) });
    }
    await shot(`cdrs_page${expected.length}`);
    const back = expected.length - 2;
    t0 = Date.now();
    await page.locator(tid('cdr-newer')).first().click();
    await waitPage(expected[back], `page ${back + 1} (cdr-newer)`);
    pages.push({ page: back + 1, how: 'newer', ms: Date.now() - t0, ids: await rowIds('cdrs'),
                 info: await textOf(tid('cdr-page-info')) });
    return { pages, banner: await banner() };
  },

  // CDR search form: `fields` ({testid: value}, e.g. {"cdr-gateway": "term3"}) filled in,
  // cdr-search; waits for the rows `expected` (call ids, newest first).
  async cdr_filter({ fields, expected, timeout_ms }) {
    await nav('dashboard');
    await nav('cdrs');
    for (const [name, value] of Object.entries(fields)) {
      const el = page.locator(`${tid('view-cdrs')} ${tid(name)}`).first();
      if ((await el.evaluate((x) => x.tagName.toLowerCase())) === 'select') {
        await el.selectOption(value);
      } else {
        await el.fill(value);
      }
    }
    const t0 = Date.now();
    await page.locator(tid('cdr-search')).first().click();
    await waitRows(expected, 'filtered search', timeout_ms);
    return { ms: Date.now() - t0, ids: await rowIds('cdrs'),
             hash: await page.evaluate(() => location.hash),
             info: await textOf(tid('cdr-page-info')), screenshot: await shot('cdrs_filtered') };
  },

  // Charts: the three SVG charts, after choosing `range` in chart-range. The charts shown
  // before are marked, so the wait is for charts drawn from the new range's statistics.
  async charts({ range, gateways }) {
    const r = await nav('charts');
    await page.$$eval(`${tid('chart-asr')}, ${tid('chart-acd')}, ${tid('chart-pdd')}`,
                      (els) => els.forEach((el) => el.setAttribute('data-ss-test-old', '1')));
    const stats = page.waitForResponse((res) => res.url().includes('/api/v1/cdr-stats') &&
      new URL(res.url()).searchParams.get('since') === range);
    const sel = page.locator(tid('chart-range')).first();
    const tag = await sel.evaluate((el) => el.tagName.toLowerCase());
    if (tag === 'select') {
      await sel.selectOption(range);
    } else {  // buttons or links, one per range
      await sel.locator(`text=${range}`).first().click();
    }
    r.range_control = tag;
    r.stats_status = (await stats).status();
    const view = tid('view-charts');
    r.hash = await page.evaluate(() => location.hash);
    r.charts = {};
    for (const c of ['chart-asr', 'chart-acd', 'chart-pdd']) {
      const loc = page.locator(`${view} ${tid(c)}:not([data-ss-test-old])`).first();
      await loc.waitFor({ state: 'visible' });
      r.charts[c] = await loc.evaluate((el, gws) => {
        const svg = el.tagName.toLowerCase() === 'svg' ? el : el.querySelector('svg');
        // The legend may sit next to the SVG: the text of the chart's panel.
        const panel = el.closest('section, .panel, .chart-panel') || el.parentElement;
        const text = panel.textContent.replace(/\s+/g, ' ');
        return { svg: svg !== null,
                 series: svg ? svg.querySelectorAll('path, polyline').length : 0,
                 named: gws.filter((g) => text.includes(g)),
                 text: text.trim().slice(0, 300) };
      }, gateways);
    }
    r.banner = await banner();
    r.screenshot = await shot('charts');
    return r;
  },

  async logout() {
    await page.locator(tid('logout')).first().click();
    await page.locator(tid('login-token')).first().waitFor({ state: 'visible' });
    const status = await page.evaluate(async () => (await fetch('/api/v1/session')).status);
    return { session_status_after: status, screenshot: await shot('logged_out') };
  },

  async seen() {
    return seen;
  },

  async quit() {
    if (browser) await browser.close();
    browser = null;
    return {};
  },
};

async function main() {
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  for await (const line of rl) {
    if (!line.trim()) continue;
    let msg;
    try {
      msg = JSON.parse(line);
    } catch (e) {
      reply({ id: null, ok: false, error: `bad command line: ${e}` });
      continue;
    }
    const fn = commands[msg.cmd];
    const t0 = Date.now();
    try {
      if (!fn) throw new Error(`unknown command ${msg.cmd}`);
      const out = await fn(msg);
      reply(Object.assign({ id: msg.id, ok: true, took_ms: Date.now() - t0 }, out));
    } catch (e) {
      log(`${msg.cmd} failed: ${e.stack || e}`);
      let screenshot = null;
      if (page) {
        screenshot = await shot(`FAILED_${msg.cmd}`).catch(() => null);
      }
      // Playwright's message and the first lines of its call log, on one line.
      const error = String(e.message || e).split('\n').slice(0, 8).join(' | ').slice(0, 2000);
      reply({ id: msg.id, ok: false, error, screenshot, took_ms: Date.now() - t0 });
    }
    if (msg.cmd === 'quit') break;
  }
  if (browser) await browser.close().catch(() => {});
}

main().then(() => process.exit(0), (e) => { log(`fatal: ${e.stack || e}`); process.exit(2); });
