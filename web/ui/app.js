// softswitch operator page: login, hash router, header. The views live in view_*.js.
import { h, zoneName, zoneOffset } from './util.js';
import { api, ApiError, clearError, setUnauthorizedHandler, setNode, showError } from './core.js';
import { dashboardView } from './view_dashboard.js';
import { gatewaysView } from './view_gateways.js';
import { callsView } from './view_calls.js';
import { cdrsView } from './view_cdrs.js';
import { cdrView } from './view_cdr.js';
import { paramsView } from './view_params.js';
import { chartsView } from './view_charts.js';

const views = {
  dashboard: dashboardView,
  gateways: gatewaysView,
  calls: callsView,
  cdrs: cdrsView,
  cdr: cdrView,
  params: paramsView,
  charts: chartsView,
};
const navOf = { cdr: 'cdrs' };

const main = document.getElementById('main');
const loginSection = document.getElementById('login');
const loginForm = document.getElementById('login-form');
const loginToken = document.getElementById('login-token');
const loginError = document.getElementById('login-error');
const nav = document.getElementById('nav');
const logoutBtn = document.getElementById('logout');

let current = null; // { name, view, hash }
let loggedIn = false;

/** "#/cdrs?x=1" -> { name: 'cdrs', arg: '', params: URLSearchParams } */
function parseHash(hash) {
  let rest = (hash || '').replace(/^#\/?/, '');
  let query = '';
  const q = rest.indexOf('?');
  if (q >= 0) {
    query = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  const slash = rest.indexOf('/');
  const name = slash >= 0 ? rest.slice(0, slash) : rest;
  const arg = slash >= 0 ? rest.slice(slash + 1) : '';
  return { name: name || 'dashboard', arg, params: new URLSearchParams(query) };
}

function destroyCurrent() {
  if (current && current.view && current.view.destroy) {
    try {
      current.view.destroy();
    } catch (e) {
      console.error(e);
    }
  }
  current = null;
}

function route() {
  if (!loggedIn) return;
  const hash = location.hash || '#/dashboard';
  const r = parseHash(hash);
  if (!views[r.name]) {
    location.replace('#/dashboard');
    return;
  }
  // Same view, new query (e.g. a CDR search): let the view take it without a remount.
  if (current && current.name === r.name && current.arg === r.arg && current.view.update) {
    current.hash = hash;
    current.view.update(r.params);
    return;
  }
  destroyCurrent();
  clearError();
  for (const a of nav.querySelectorAll('a')) {
    const on = a.getAttribute('data-testid') === 'nav-' + (navOf[r.name] || r.name);
    a.classList.toggle('active', on);
    if (on) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const root = h('div', { class: 'view view-' + r.name });
  main.replaceChildren(root);
  const view = views[r.name]({ root, arg: r.arg, params: r.params });
  current = { name: r.name, arg: r.arg, view, hash };
}

function showLogin(message) {
  loggedIn = false;
  destroyCurrent();
  main.replaceChildren();
  nav.hidden = true;
  logoutBtn.hidden = true;
  loginSection.hidden = false;
  if (message) {
    loginError.textContent = message;
    loginError.hidden = false;
  }
  loginToken.value = '';
  loginToken.focus();
}

function showApp() {
  loggedIn = true;
  loginSection.hidden = true;
  loginError.hidden = true;
  loginError.textContent = '';
  nav.hidden = false;
  logoutBtn.hidden = false;
  route();
  // The node name for the header (the dashboard refreshes it too).
  api('GET', '/status').then((s) => setNode(s && s.node)).catch(() => {});
}

setUnauthorizedHandler(() => {
  if (loggedIn) showLogin('Your session has ended; log in again.');
});

loginForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  const token = loginToken.value.trim();
  loginError.hidden = true;
  if (!token) {
    loginError.textContent = 'Enter the API token.';
    loginError.hidden = false;
    return;
  }
  const btn = loginForm.querySelector('button[type=submit]');
  btn.disabled = true;
  try {
    await api('POST', '/session', { token });
    loginToken.value = '';
    showApp();
  } catch (err) {
    loginError.textContent = err instanceof ApiError && err.status === 401
      ? 'Wrong token: ' + err.message
      : 'Login failed: ' + err.message;
    loginError.hidden = false;
    loginToken.select();
  } finally {
    btn.disabled = false;
  }
});

logoutBtn.addEventListener('click', async () => {
  try {
    await api('DELETE', '/session');
  } catch (err) {
    if (!err.unauthorized) showError(err, 'logout');
  }
  showLogin();
});

window.addEventListener('hashchange', route);

function showZone() {
  const tz = document.getElementById('tz');
  tz.textContent = `${zoneName()} (UTC${zoneOffset()})`;
}

async function start() {
  showZone();
  setInterval(showZone, 60 * 1000); // DST changes
  try {
    await api('GET', '/session');
    showApp();
  } catch (err) {
    if (err instanceof ApiError && err.status !== 401) {
      showLogin();
      if (err.status === 0) showError(err);
    } else {
      showLogin();
    }
  }
}

start();
