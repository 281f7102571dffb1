#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The operator web page in a real browser against a real switch (ctest browser.ui).

Issue 8, "Done when": headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core
from tests/browser/ui_steps.js) uses the page softswitchd serves on --http, through the
data-testid hooks of the UI contract only, against real processes on 127.0.0.1:

  1. a fresh database on the SS_TEST_PG_URL cluster (dropped at the end); gateways orig1,
     term1 (a SIPp UAS answering 503: a failover code) and term2 (a SIPp UAS answering);
     routes 1555 -> term1 (priority 10), term2 (20); softswitchd --http 127.0.0.1:0, its token
     generated into STATE_DIR/http.token;
  2. login: a wrong token shows login-error, the right one the dashboard;
  3. a call held by SIPp (term1 503 -> term2 answers) is a row of the live calls and counts in
     the dashboard's active calls; once it ended, the CDR search finds it and cdr-open shows its
     timeline and failover chain term1 (503) -> term2;
  4. gateways: gw-toggle -> confirm-cancel keeps term1 enabled, gw-toggle -> confirm-ok disables
     it (gw-state `disabled`, API too); the next call goes to term2, term1 gets no INVITE;
  5. params: a bad value shows the server's own message (param-error), a good one param-saved
     (API too), reset brings the default back;
  6. 100,000 CDRs inserted by SQL over the last 5 hours: the CDR search shows page 1, pages
     older (cdr-older) and back (cdr-newer) exactly as SQL orders them; each page's render time
     is printed (asserted only < 10 s);
  7. charts render (chart-asr/acd/pdd, one line per gateway); logout.
Screenshots of every view (*.png), the daemon's log, SIPp's logs and the browser's log stay
in the artifacts directory (printed at the end).

Exit 0 pass, 1 fail, 77 skipped (no SS_TEST_PG_URL outside CI; in CI it fails, and so does
any missing tool).
"""

import argparse
import hashlib
import json
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "fault"))
# tests/fault/fault_common.py (and through it tests/sipp/run_case.py): imported, never changed.
import fault_common as fc  # noqa: E402
from run_case import die_with_parent, free_port, port_bound  # noqa: E402

NAME = "browser.ui"
DEADLINE_S = 210        # the whole test; CTest TIMEOUT is 240
HOLD_MS = 8000          # the first call is held this long (the page polls every 2 s)
BULK = 100_000          # CDRs inserted by SQL for the paging step
PAGE = 50               # the CDR search's default page size (UI contract)
PAGES = 5               # pages walked with cdr-older
RENDER_BOUND_MS = 10_000
TIMEZONE = "Asia/Tokyo"  # the browser's zone: not UTC, and a different date for part of the day
TZ_OFFSET = timezone(timedelta(hours=9))  # Asia/Tokyo: UTC+09:00 all year (no DST)
PARAM, PARAM_BAD, PARAM_GOOD = "SS_SIP_TIMEOUT_RINGING", "0", "95"


def log(msg):
    print(f"[browser {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--softswitchd", required=True)
    ap.add_argument("--swctl", required=True)
    ap.add_argument("--schema-dir", required=True)
    ap.add_argument("--scenarios", required=True, help="tests/sipp/scenarios")
    ap.add_argument("--fault-scenarios", default=os.path.join(os.path.dirname(HERE), "fault"),
                    help="tests/fault (uac_call_hold.xml)")
    ap.add_argument("--work-dir", default=os.path.join(os.getcwd()),
                    help="where node_modules is installed (npm ci) and artifacts/ is written")
    ap.add_argument("--sipp", default=shutil.which("sipp") or "sipp")
    ap.add_argument("--node", default=shutil.which("node") or "node")
    ap.add_argument("--npm", default=shutil.which("npm") or "npm")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    args = ap.parse_args()
    args.work_dir = os.path.abspath(args.work_dir)
    # fault_common.Harness writes to ARTIFACTS/NAME: here WORK_DIR/artifacts.
    args.artifacts = args.work_dir
    args.name = "artifacts"
    return args


def prerequisites(args):
    """None when the test can run, else its exit status (the tests/sipp convention)."""
    status = fc.prerequisites("ui", need_pgbin=False, label="browser",
                              tools=[("sipp", args.sipp), ("node", args.node),
                                     ("npm", args.npm), ("chromium", args.chromium)])
    if status is not None:
        return status
    out = subprocess.run([args.node, "--version"], capture_output=True, text=True, timeout=20)
    major = int(out.stdout.strip().lstrip("v").split(".")[0] or 0) if out.returncode == 0 else 0
    if major < 18:
        print(f"FAIL {NAME}: node {out.stdout.strip()} is too old (playwright-core needs 18 or "
              f"newer)", flush=True)
        return 1
    return None


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def npm_ci(args, deadline):
    """playwright-core (tests/browser/package-lock.json) in WORK_DIR/node_modules: `npm ci`
    when it is missing or was installed from another lock file (a stamp holds its hash)."""
    for name in ("package.json", "package-lock.json"):
        src, dst = os.path.join(HERE, name), os.path.join(args.work_dir, name)
        if not os.path.exists(dst) or sha256(src) != sha256(dst):
            shutil.copyfile(src, dst)
    want = sha256(os.path.join(HERE, "package-lock.json"))
    stamp = os.path.join(args.work_dir, "node_modules", ".softswitch-lock.sha256")
    pw = os.path.join(args.work_dir, "node_modules", "playwright-core", "package.json")
    if os.path.exists(stamp) and os.path.exists(pw):
        with open(stamp) as f:
            if f.read().strip() == want:
                return
    t0 = time.monotonic()
    log(f"npm ci in {args.work_dir} (node_modules missing or stale)")
    proc = subprocess.run([args.npm, "ci", "--no-audit", "--no-fund"], cwd=args.work_dir,
                          capture_output=True, text=True, timeout=deadline.bound(150))
    if proc.returncode != 0:
        raise fc.TestFailure(f"npm ci failed ({proc.returncode}); it needs the npm registry:\n"
                             f"{proc.stdout[-2000:]}{proc.stderr[-3000:]}")
    with open(stamp, "w") as f:
        f.write(want + "\n")
    log(f"npm ci done in {time.monotonic() - t0:.1f} s")


class Harness(fc.Harness):
    """fault_common.Harness, with this test's name in its failure report."""

    def report_failure(self):
        print("=" * 100, flush=True)
        print(f"FAILED {NAME}; artifacts in {self.dir}", flush=True)
        for name, lines in (("softswitchd.out", 60), ("node.log", 40)):
            path = os.path.join(self.dir, name)
            if os.path.exists(path):
                print(f"--- {name} (last {lines} lines) ---\n{fc.tail(path, lines)}",
                      flush=True)
        for name in sorted(os.listdir(self.dir)):
            if name.endswith("_errors.log"):
                print(f"--- {name} (last 20 lines) ---\n"
                      f"{fc.tail(os.path.join(self.dir, name), 20)}", flush=True)


class Browser:
    """node ui_steps.js: one JSON command per line on its stdin, one JSON reply per line on its
    stdout (see ui_steps.js). Started here, stopped by its PID."""

    def __init__(self, h, args, config):
        self.h = h
        cfg_path = os.path.join(h.dir, "ui_steps.json")
        with open(cfg_path, "w") as f:
            json.dump(config, f, indent=1)
        self.errf = open(os.path.join(h.dir, "node.log"), "wb")
        argv = [args.node, os.path.join(HERE, "ui_steps.js"), cfg_path]
        self.popen = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=self.errf, cwd=h.dir, preexec_fn=die_with_parent)
        log(f"started node pid {self.popen.pid}: {' '.join(argv)}")
        self.buf = b""
        self.next_id = 0

    def running(self):
        return self.popen.poll() is None

    def call(self, cmd, timeout=60, **kwargs):
        """Runs one browser command; its reply (dict). A failed command fails the test."""
        self.next_id += 1
        msg = dict(kwargs, id=self.next_id, cmd=cmd)
        try:
            self.popen.stdin.write((json.dumps(msg) + "\n").encode())
            self.popen.stdin.flush()
        except BrokenPipeError:
            raise fc.TestFailure(f"browser {cmd}: node exited ({self.popen.poll()}):\n"
                                 f"{fc.tail(self.errf.name, 30)}")
        end = time.monotonic() + self.h.deadline.bound(timeout)
        fd = self.popen.stdout.fileno()
        while True:
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                try:
                    reply = json.loads(line)
                except ValueError:
                    log(f"node (not JSON): {line[:300]!r}")
                    continue
                if reply.get("id") != self.next_id:
                    continue
                if not reply.get("ok"):
                    raise fc.TestFailure(f"browser step {cmd}: {reply.get('error')}"
                                         f" (screenshot {reply.get('screenshot')})")
                log(f"browser {cmd}: done in {reply.get('took_ms')} ms")
                return reply
            left = end - time.monotonic()
            if left <= 0:
                raise fc.TestFailure(f"browser step {cmd}: no reply within {timeout} s")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    raise fc.TestFailure(f"browser step {cmd}: node exited "
                                         f"({self.popen.wait(5)}):\n{fc.tail(self.errf.name, 30)}")
                self.buf += chunk

    def stop(self):
        if self.running():
            try:
                self.call("quit", timeout=15)
            except Exception as e:  # noqa: BLE001 — then by signal
                log(f"node quit: {e}")
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                log(f"node pid {self.popen.pid} did not exit: SIGTERM")
                os.kill(self.popen.pid, signal.SIGTERM)
                try:
                    self.popen.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.kill(self.popen.pid, signal.SIGKILL)
                    self.popen.wait()
        for f in (self.popen.stdin, self.popen.stdout):
            try:
                f.close()
            except OSError:
                pass
        self.errf.close()


class Test:
    def __init__(self, args, h):
        self.args, self.h = args, h
        self.uas = {}
        self.uac_count = 0
        self.ready = {}
        self.daemon = None
        self.browser = None
        self.token = None
        self.base = None
        self.figures = []
        # urllib without any proxy from the environment: 127.0.0.1 only.
        self.http = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    # ---- processes ------------------------------------------------------------------------

    def start_uas(self, name, scenario, calls):
        """A SIPp UAS for gateway `name` on a free UDP port (waits until it is bound)."""
        h = self.h
        for _ in range(3):
            port = free_port(["udp"])
            argv = [self.args.sipp, "-sf", os.path.join(self.args.scenarios, scenario),
                    "-i", "127.0.0.1", "-bind_local", "-p", str(port), "-t", "u1", "-nostdin",
                    "-m", str(calls), "-timeout", f"{DEADLINE_S}s", *h.sipp_logs(name)]
            proc = h.spawn(name, argv)
            while proc.running() and not port_bound("udp", "127.0.0.1", port):
                h.check(h.deadline.left() > 0, f"deadline passed waiting for {name} to bind")
                time.sleep(0.02)
            if proc.running():
                self.uas[name] = (proc, port)
                log(f"{name}: SIPp UAS ({scenario}) on udp 127.0.0.1:{port}")
                return
            h.procs.remove(proc)
        raise fc.TestFailure(f"the SIPp UAS {name} would not start")

    def uac(self, scenario, callee, hold_ms=None, timeout_s=20):
        """One SIPp UAC call to `callee` through the switch; returns (Proc, tag)."""
        self.uac_count += 1
        tag = f"uac{self.uac_count}"
        argv = [self.args.sipp, "-sf", scenario, "-s", callee, self.ready["sip.udp"],
                "-i", "127.0.0.1", "-bind_local", "-p", str(free_port(["udp"])), "-t", "u1",
                "-nostdin", "-m", "1", "-l", "1", "-timeout", f"{int(timeout_s)}s",
                *self.h.sipp_logs(tag)]
        if hold_ms is not None:
            argv += ["-d", str(hold_ms)]
        return self.h.spawn(tag, argv), tag

    def invite_call_ids(self, name, direction):
        """Distinct Call-IDs of the INVITEs SIPp `name` has `direction` ("sent" or "received")
        so far (its message log)."""
        path = os.path.join(self.h.dir, f"{name}_messages.log")
        if not os.path.exists(path):
            return set()
        return {c for _, d, first, c, _ in fc.sipp_messages(path)
                if d == direction and first.startswith("INVITE ")}

    def invites_at(self, name):
        return self.invite_call_ids(name, "received")

    def sent_call_ids(self, tag):
        return self.invite_call_ids(tag, "sent")

    # ---- HTTP API (the test's own view, to cross-check the page) ----------------------------

    def api(self, method, path, body=None, token=True):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with self.http.open(req, timeout=self.h.deadline.bound(15)) as r:
                raw, status, headers = r.read(), r.status, r.headers
        except urllib.error.HTTPError as e:
            raw, status, headers = e.read(), e.code, e.headers
        try:
            doc = json.loads(raw) if raw else None
        except ValueError:
            doc = raw.decode("utf-8", "replace")
        return status, doc, headers

    def poll(self, what, bound_s, fn):
        """fn() until it returns something true (returned), at most `bound_s` seconds."""
        end = time.monotonic() + self.h.deadline.bound(bound_s)
        while True:
            out = fn()
            if out:
                return out
            if time.monotonic() > end:
                raise fc.TestFailure(f"{what}: not within {bound_s} s")
            time.sleep(0.05)

    def gateway(self, name):
        status, doc, _ = self.api("GET", "/api/v1/gateways")
        self.h.check(status == 200, f"GET /api/v1/gateways: {status} {doc}")
        found = [g for g in doc["gateways"] if g["name"] == name]
        self.h.check(len(found) == 1, f"GET /api/v1/gateways: no {name}: {doc}")
        return found[0]

    def param(self, name):
        status, doc, _ = self.api("GET", "/api/v1/params")
        self.h.check(status == 200, f"GET /api/v1/params: {status} {doc}")
        rows = doc["params"] if isinstance(doc, dict) else doc
        found = [p for p in rows if p["name"] == name]
        self.h.check(len(found) == 1, f"GET /api/v1/params: no {name}: {doc}")
        return found[0]

    def cdr_row(self, call_id):
        out = self.h.sql("SELECT term_gateway || '|' || attempts || '|' || end_reason FROM cdr "
                         f"WHERE call_id = '{call_id}'")
        return out.split("|") if out else None

    # ---- the test ---------------------------------------------------------------------------

    def run(self):
        args, h = self.args, self.h
        t_start = time.monotonic()
        npm_ci(args, h.deadline)

        admin = os.environ["SS_TEST_PG_URL"]
        db = f"ss_browser_{secrets.token_hex(4)}"
        fc.psql(admin, f'CREATE DATABASE "{db}"')
        h.db_name = db
        h.dsn = fc.dsn_with_dbname(admin, db)
        log(f"database {db} on the SS_TEST_PG_URL cluster")

        # term1 refuses with 503 (a failover code: SPEC §3 default 408,480,5xx); after it is
        # disabled it must get nothing more, so -m 2 keeps it running to see a stray INVITE.
        self.start_uas("term1", "uas_unavailable.xml", 2)
        self.start_uas("term2", "uas_answer.xml", 4)
        h.swctl("db", "migrate")
        h.swctl("gateway", "add", "orig1", "--role", "origination", "--host", "127.0.0.1")
        for name in ("term1", "term2"):
            h.swctl("gateway", "add", name, "--role", "termination", "--host",
                    f"127.0.0.1:{self.uas[name][1]}")
        h.swctl("route", "add", "--prefix", "1555", "--gateway", "term1", "--priority", "10")
        h.swctl("route", "add", "--prefix", "1555", "--gateway", "term2", "--priority", "20")

        # The token is generated into STATE_DIR/http.token (none in the environment).
        h.env.pop("SOFTSWITCH_HTTP_TOKEN", None)
        if h.env.get("SOFTSWITCH_UI_DIR"):
            log(f"NOTE: SOFTSWITCH_UI_DIR={h.env['SOFTSWITCH_UI_DIR']} is set: the page is "
                f"served from there (dev mode), not the files built into softswitchd")
        self.daemon, self.ready = h.start_daemon("browser-ui", "udp:127.0.0.1:0",
                                                 extra=["--http", "127.0.0.1:0"])
        h.check("http" in self.ready, f"the ready file has no http address: {self.ready}")
        self.base = f"http://{self.ready['http']}"
        with open(os.path.join(h.dir, "state", "http.token")) as f:
            self.token = f.read().strip()
        self.check_serving()

        self.browser = Browser(h, args, {
            "modules": args.work_dir, "chromium": args.chromium, "base_url": self.base,
            "artifacts": h.dir, "timezone": TIMEZONE})
        r = self.browser.call("start")
        log(f"Chromium {r['browser_version']}, time zone {r['zone']}")

        self.step_login()
        self.step_held_call()
        self.step_disable_gateway()
        self.step_params()
        self.step_bulk_paging()
        self.step_charts()
        self.step_end()
        log(f"whole run {time.monotonic() - t_start:.1f} s")

    def check_serving(self):
        h = self.h
        req = urllib.request.Request(self.base + "/")
        with self.http.open(req, timeout=h.deadline.bound(10)) as r:
            body, ctype = r.read(), r.headers.get("Content-Type", "")
            csp = r.headers.get("Content-Security-Policy", "")
        h.check(ctype.startswith("text/html"), f"GET / : Content-Type {ctype!r}")
        h.check("default-src 'self'" in csp and "script-src 'self'" in csp,
                f"GET / : Content-Security-Policy {csp!r}")
        log(f"GET / : {len(body)} bytes {ctype}; CSP {csp}")
        status, doc, _ = self.api("GET", "/api/v1/status", token=False)
        h.check(status == 401, f"GET /api/v1/status without a token: {status}, expected 401")

    def step_login(self):
        h = self.h
        r = self.browser.call("login", token=self.token,
                              wrong_token="not-the-token-0123456789abcdef")
        log(f"login: wrong token -> login-error {r['login_error']!r}; right token -> dashboard "
            f"in {r['login_ms']} ms; tz {r['tz']!r}")
        h.check(r["login_error"] != "", "login-error is visible but empty")
        h.check(not r["logged_in_with_wrong_token"], "logged in with a wrong token")
        h.check(r["login_form_gone"], "the login form is still visible after logging in")
        h.check(TIMEZONE in r["tz"], f"tz shows {r['tz']!r}, the browser's zone is {TIMEZONE}")
        r = self.browser.call("dashboard", screenshot="dashboard")
        h.check(r["banner"] == "", f"dashboard: error-banner {r['banner']!r}")
        h.check(r["stats"]["stat-active-calls"] == "0",
                f"dashboard with no calls: stat-active-calls {r['stats']}")
        r = self.browser.call("nav", view="calls", screenshot="calls_empty")
        h.check(r["empty"], f"live calls with no calls: no [data-testid=empty] ({r})")
        log(f"live calls, none: {r['empty']!r}")

    def step_held_call(self):
        """A held call fails over term1 (503) -> term2; seen live, then in the CDRs."""
        h, b = self.h, self.browser
        uac, tag = self.uac(os.path.join(self.args.fault_scenarios, "uac_call_hold.xml"),
                            "15551000001", hold_ms=HOLD_MS, timeout_s=HOLD_MS // 1000 + 20)

        def up():
            status, doc, _ = self.api("GET", "/api/v1/calls")
            calls = [c for c in (doc or {}).get("calls", []) if c.get("callee") == "15551000001"]
            return calls[0] if calls and calls[0].get("state") == "up" else None
        call = self.poll("the held call up in GET /api/v1/calls", 10, up)
        call_id = call["call_id"]
        sent = self.sent_call_ids(tag)
        log(f"held call {call_id} up: legs {call['legs']}; SIPp sent {sent}")
        h.check(call_id in sent, f"the API's call id {call_id} is not the Call-ID SIPp sent "
                f"{sent}")
        h.check(call["legs"][-1]["gateway"] == "term2", f"the held call is not on term2: {call}")

        r = b.call("call_row", call_id=call_id, screenshot="calls", timeout_ms=HOLD_MS - 1000)
        log(f"live calls: row {call_id} after {r['appeared_ms']} ms: {r['row']!r}")
        h.check("term2" in r["row"], f"the live call's row does not name term2: {r['row']!r}")
        r = b.call("dashboard", active=1, screenshot="dashboard_1_call")
        log(f"dashboard with the held call: {r['stats']}; tz {r['tz']!r}, updated "
            f"{r['updated']!r}")
        h.check(r["updated"] != "", "dashboard: [data-testid=updated] is empty")
        h.check(all(v not in (None, "") for v in r["stats"].values()),
                f"dashboard: a stat is missing or empty: {r['stats']}")
        b.call("nav", view="calls")

        rc = uac.wait(h.deadline.bound(HOLD_MS / 1000 + 15))
        h.check(rc == 0, f"{tag}: exit {rc} (expected the call answered by term2 after 503 "
                f"from term1, held, BYE)")
        r = b.call("call_row_gone", call_id=call_id, timeout_ms=10000)
        log(f"live calls: row gone {r['gone_ms']} ms after the UAC finished; empty "
            f"{r['empty']!r}")

        cdr = self.poll(f"the CDR of {call_id} in PostgreSQL", 10, lambda: self.cdr_row(call_id))
        h.check(cdr[0] == "term2" and cdr[1] == "2",
                f"CDR of {call_id}: term_gateway|attempts|end_reason = {cdr}, expected term2, 2")
        status, doc, _ = self.api("GET", "/api/v1/cdrs/" + urllib.parse.quote(call_id, safe=""))
        h.check(status == 200, f"GET /api/v1/cdrs/{call_id}: {status} {doc}")
        chain = [(a["gateway"], a["sip_code"], a["outcome"]) for a in
                 doc["cdrs"][0]["attempt_list"]]
        log(f"API failover chain: {chain}")
        h.check([c[0] for c in chain] == ["term1", "term2"] and chain[0][1] == 503,
                f"API failover chain {chain}, expected term1 (503) then term2")

        r = b.call("cdr_open", call_id=call_id)
        log(f"CDR search: found {call_id} in {r['search_ms']} ms; row {r['row']!r}")
        log(f"call page {r['hash']}: attempts {r['attempts']}")
        log(f"timeline: {r['timeline']!r}")
        # Times in the browser's zone: the setup time as a clock time there (not UTC's).
        setup_utc = h.sql("SELECT to_char(setup_at AT TIME ZONE 'UTC', "
                          f"'YYYY-MM-DD\"T\"HH24:MI:SS') FROM cdr WHERE call_id = '{call_id}'")
        local = datetime.fromisoformat(setup_utc + "+00:00").astimezone(
            TZ_OFFSET).strftime("%H:%M:%S")
        h.check(local in r["row"], f"CDR search row: no setup time {local} ({TIMEZONE}; "
                f"{setup_utc} UTC) in {r['row']!r}")
        h.check(local in r["timeline"], f"call page timeline: no setup time {local} "
                f"({TIMEZONE}) in {r['timeline']!r}")
        want_hash = "#/cdr/" + urllib.parse.quote(call_id, safe="")
        h.check(r["hash"] == want_hash, f"cdr-open went to {r['hash']}, expected {want_hash}")
        gws = [a["gateway"] for a in r["attempts"]]
        h.check(gws == ["term1", "term2"], f"call page: attempt rows {gws}, expected the "
                f"failover chain term1, term2")
        h.check("503" in r["attempts"][0]["text"],
                f"call page: term1's attempt row does not show 503: {r['attempts'][0]}")
        h.check("answer" in r["timeline"].lower() and "setup" in r["timeline"].lower(),
                f"call page: the timeline shows no setup/answer: {r['timeline']!r}")
        self.call_id = call_id

    def step_disable_gateway(self):
        h, b = self.h, self.browser
        term1_before = self.invites_at("term1")
        term2_before = self.invites_at("term2")
        h.check(len(term1_before) == 1 and len(term2_before) == 1,
                f"before the disable: INVITEs at term1 {term1_before}, term2 {term2_before}; "
                f"expected the first call's one each")
        r = b.call("gw_disable", name="term1")
        log(f"gateways: term1 {r['toggle_before']!r} -> cancel -> {r['state_after_cancel']!r}; "
            f"confirm-ok -> disabled in {r['disabled_ms']} ms, toggle now {r['toggle_after']!r}")
        log(f"confirm dialog: {r['dialog_text']!r}")
        h.check(r["banner"] == "", f"gateways: error-banner {r['banner']!r}")
        h.check(r["state_after_cancel"] == "enabled",
                f"confirm-cancel changed term1: gw-state {r['state_after_cancel']!r}")
        h.check(r["dialog_gone"], "the confirm dialog is still shown after confirm-ok")
        h.check((r["toggle_before"], r["toggle_after"]) == ("Disable", "Enable"),
                f"gw-toggle reads {r['toggle_before']!r} then {r['toggle_after']!r}, expected "
                f"'Disable' then 'Enable'")
        g = self.gateway("term1")
        h.check(g["enabled"] is False, f"GET /api/v1/gateways: term1 not disabled: {g}")
        db_state = h.sql("SELECT enabled FROM gateway WHERE name = 'term1'")
        h.check(db_state == "f", f"gateway table: term1 enabled = {db_state!r}")

        uac, tag = self.uac(os.path.join(self.args.scenarios, "uac_call.xml"), "15551000002")
        rc = uac.wait(h.deadline.bound(20))
        h.check(rc == 0, f"{tag}: exit {rc} for the call after term1 was disabled")
        call_id = next(iter(self.sent_call_ids(tag)), None)
        term1_new = self.invites_at("term1") - term1_before
        term2_new = self.invites_at("term2") - term2_before
        log(f"call after the disable ({call_id}): INVITEs at term1 {len(term1_new)}, "
            f"term2 {len(term2_new)}")
        h.check(not term1_new, f"term1 got an INVITE after it was disabled: {term1_new}")
        h.check(len(term2_new) == 1, f"term2 got {len(term2_new)} INVITEs for the call after "
                f"term1 was disabled, expected 1")
        cdr = self.poll(f"the CDR of {call_id}", 10, lambda: self.cdr_row(call_id))
        h.check(cdr[0] == "term2" and cdr[1] == "1",
                f"CDR of the call after the disable: {cdr}, expected term2 with 1 attempt")

        # Another operator enables term1 (the API): the open gateways view follows by itself,
        # within three of its 2 s polls.
        status, doc, _ = self.api("POST", "/api/v1/gateways/term1/enable")
        h.check(status == 200, f"POST /api/v1/gateways/term1/enable: {status} {doc}")
        r = b.call("gw_state", name="term1", want="enabled", timeout_ms=6000)
        log(f"gateways: term1 enabled through the API, the open page shows it after "
            f"{r['ms']} ms")

    def step_params(self):
        h, b = self.h, self.browser
        p = self.param(PARAM)
        default = p["default"]
        status, doc, _ = self.api("PUT", f"/api/v1/params/{PARAM}", {"value": PARAM_BAD})
        h.check(status == 400 and doc.get("error"), f"PUT {PARAM}={PARAM_BAD}: {status} {doc}")
        server_msg = doc["error"]
        b.call("nav", view="params")
        r = b.call("param_set", name=PARAM, value=PARAM_BAD, expect="error",
                   screenshot="params_error")
        log(f"params: {PARAM}={PARAM_BAD} -> param-error {r['text']!r}")
        h.check(server_msg in r["text"], f"param-error shows {r['text']!r}, not the server's "
                f"message {server_msg!r}")
        h.check(self.param(PARAM)["value"] == default, "a refused value changed the parameter")
        r = b.call("param_set", name=PARAM, value=PARAM_GOOD, expect="saved",
                   screenshot="params_saved")
        log(f"params: {PARAM}={PARAM_GOOD} -> param-saved {r['text']!r} (param-error visible: "
            f"{r['error_visible']})")
        h.check(not r["error_visible"], "param-error still visible after a good value was saved")
        got = self.param(PARAM)
        h.check(got["value"] == PARAM_GOOD and got["stored"] == PARAM_GOOD,
                f"GET /api/v1/params after param-saved: {got}")
        r = b.call("param_reset", name=PARAM, default_value=default, screenshot="params")
        got = self.poll(f"{PARAM} back to its default", 5,
                        lambda: (lambda g: g if g["stored"] is None else None)(self.param(PARAM)))
        h.check(got["value"] == default, f"after param-reset: {got}")
        log(f"params: reset -> {got['value']} (default), stored {got['stored']}")

    def step_bulk_paging(self):
        h, b = self.h, self.browser
        t0 = time.monotonic()
        h.sql("SELECT cdr_ensure_partitions(((now() - interval '6 hours') AT TIME ZONE 'UTC')"
              "::date, (now() AT TIME ZONE 'UTC')::date)", timeout=60)
        # setup_at 178 ms apart, the newest 200 s ago: no tie with each other or the real calls.
        h.sql(f"""
WITH g AS (
  SELECT i,
         date_trunc('milliseconds', now() - interval '5 hours'
                    + i * interval '178 milliseconds') AS s,
         (ARRAY['term1', 'term2', 'term3'])[1 + i % 3] AS gw,
         -- per gateway (i % 3) its own ASR (50/70/90 %), PDD and ACD: apart in the charts
         (i % 10) < 5 + (i % 3) * 2 AS answered,
         50 + (i % 3) * 900 + (i * 7919) % 1000 AS pdd,
         1000 + (i % 3) * 60000 + (i * 104729) % 120000 AS hold
  FROM generate_series(1::bigint, {BULK}) AS i),
c AS (
  INSERT INTO cdr (node, call_id, caller, callee, callee_out, origin_gateway, origin_addr,
                   term_gateway, term_addr, attempts, setup_at, ring_at, answer_at, end_at,
                   pdd_ms, hold_ms, end_direction, end_reason, disposition, sip_code,
                   sip_reason)
  SELECT 'bulk', format('bulk-%s@browser.test', lpad(i::text, 6, '0')),
         '4930' || lpad((i % 9973)::text, 7, '0'), '1555' || lpad(i::text, 7, '0'),
         '1555' || lpad(i::text, 7, '0'), 'orig1', '127.0.0.1:5060', gw,
         '127.0.0.1:' || (5070 + i % 3), 1, s, s + pdd * interval '1 ms',
         CASE WHEN answered THEN s + (pdd + 100) * interval '1 ms' END,
         s + (pdd + 100 + CASE WHEN answered THEN hold ELSE 0 END) * interval '1 ms',
         pdd, CASE WHEN answered THEN hold ELSE 0 END,
         CASE WHEN answered THEN 'caller' ELSE 'callee' END,
         CASE WHEN answered THEN 'caller_bye' ELSE 'callee_rejected' END,
         CASE WHEN answered THEN 'recv_bye' ELSE 'send_refuse' END,
         CASE WHEN answered THEN 200 ELSE 486 END,
         CASE WHEN answered THEN 'OK' ELSE 'Busy Here' END
  FROM g
  RETURNING id, setup_at, term_gateway, term_addr, ring_at, answer_at, end_at, sip_code)
INSERT INTO cdr_attempt (cdr_id, seq, gateway, addr, transport, started_at, ended_at, sip_code,
                         outcome, setup_at)
SELECT id, 1, term_gateway, term_addr, 'udp', setup_at, coalesce(answer_at, ring_at, end_at),
       sip_code, CASE WHEN answer_at IS NULL THEN 'rejected' ELSE 'answered' END, setup_at
FROM c""", timeout=120)
        t_insert = time.monotonic() - t0
        h.sql("SELECT cdr_rollup_rebuild(now() - interval '7 hours', now() + interval '1 hour')",
              timeout=60)
        h.sql("ANALYZE cdr", timeout=60)
        total = int(h.sql("SELECT count(*) FROM cdr WHERE setup_at >= now() - interval '6 hours'"))
        log(f"{BULK} CDRs (+ attempts) inserted in {t_insert:.1f} s, rollup rebuilt and "
            f"analysed in {time.monotonic() - t0 - t_insert:.1f} s; {total} CDRs in the last 6 h")
        h.check(total >= BULK, f"only {total} CDRs in the last 6 hours")
        ids = h.sql("SELECT call_id FROM cdr WHERE setup_at >= now() - interval '6 hours' "
                    f"ORDER BY setup_at DESC, id DESC LIMIT {PAGE * PAGES}").split("\n")
        expected = [ids[k * PAGE:(k + 1) * PAGE] for k in range(PAGES)]

        r = b.call("cdr_paging", route="#/cdrs?since=-6h", expected=expected, timeout=120,
                   timeout_ms=20000)
        lines = []
        for p in r["pages"]:
            want = expected[p["page"] - 1]
            h.check(p["ids"] == want, f"CDR page {p['page']} ({p['how']}): rows differ from "
                    f"SQL's order: got {p['ids'][:3]}.., expected {want[:3]}..")
            lines.append(f"page {p['page']} ({p['how']}): {p['ms']} ms, page-info "
                         f"{p['info']!r}")
            h.check(p["ms"] < RENDER_BOUND_MS, f"CDR page {p['page']} took {p['ms']} ms "
                    f"(bound {RENDER_BOUND_MS} ms)")
        log(f"CDR search over {total} CDRs in range, {PAGE} rows a page, render times:\n    "
            + "\n    ".join(lines))
        self.figures += [f"CDR page render over {total} CDRs: "
                         + ", ".join(f"p{p['page']} {p['how']} {p['ms']} ms" for p in r["pages"])]
        infos = [p["info"] for p in r["pages"]]
        h.check(len(set(infos[:PAGES])) == PAGES,
                f"cdr-page-info does not change from page to page: {infos}")
        h.check(r["banner"] == "", f"CDR search: error-banner {r['banner']!r}")

        # The search form's filters: term3's refused (486) calls of the last 6 hours.
        want = h.sql("SELECT call_id FROM cdr WHERE setup_at >= now() - interval '6 hours' "
                     "AND term_gateway = 'term3' AND sip_code = 486 "
                     f"ORDER BY setup_at DESC, id DESC LIMIT {PAGE}").split("\n")
        r = b.call("cdr_filter", fields={"cdr-since": "-6h", "cdr-gateway": "term3",
                                         "cdr-code": "486"},
                   expected=want, timeout=60, timeout_ms=20000)
        log(f"CDR search form (since -6h, gateway term3, code 486): {len(r['ids'])} rows in "
            f"{r['ms']} ms, route {r['hash']}, page-info {r['info']!r}")
        h.check(r["ids"] == want, f"filtered CDR search: rows differ from SQL's: "
                f"{r['ids'][:3]}.., expected {want[:3]}..")
        self.figures += [f"filtered search (gateway term3, code 486): {r['ms']} ms"]

    def step_charts(self):
        h = self.h
        gws = ["term1", "term2", "term3"]
        r = self.browser.call("charts", range="-6h", gateways=gws)
        log(f"charts: range control <{r['range_control']}>, route {r['hash']}, cdr-stats "
            f"{r['stats_status']}")
        h.check(r["stats_status"] == 200, f"charts: GET /api/v1/cdr-stats {r['stats_status']}")
        for name, c in r["charts"].items():
            log(f"{name}: svg {c['svg']}, {c['series']} path/polyline, names {c['named']}, "
                f"text {c['text'][:120]!r}..")
            h.check(c["svg"] and c["series"] >= len(gws), f"{name}: not a line per gateway: {c}")
            h.check(c["named"] == gws, f"{name}: the legend names {c['named']}, expected {gws}")
        h.check("-6h" in r["hash"], f"charts: chart-range -6h did not reach the route: {r['hash']}")
        h.check(r["banner"] == "", f"charts: error-banner {r['banner']!r}")

    def step_end(self):
        h, b = self.h, self.browser
        seen = b.call("seen")
        # The only HTTP errors of the run: the session check before login, the wrong token,
        # the refused parameter value (a browser's own /favicon.ico request is tolerated).
        expected = {("GET", "/api/v1/session", 401), ("POST", "/api/v1/session", 401),
                    ("PUT", f"/api/v1/params/{PARAM}", 400)}
        unexpected = []
        for e in seen["http_errors"]:
            method, url, _, status = e.split(" ")
            path = urllib.parse.urlsplit(url).path
            if (method, path, int(status)) not in expected and path != "/favicon.ico":
                unexpected.append(e)
        log(f"browser: HTTP errors {seen['http_errors']} (expected: the 401s before login, "
            f"the 400 of the refused parameter)")
        h.check(not unexpected, f"unexpected HTTP errors in the page: {unexpected}")
        other = [m for m in seen["console_errors"]
                 if not m.startswith("Failed to load resource: the server responded")]
        h.check(not other, f"console errors in the page: {other}")
        h.check(not seen["page_errors"], f"uncaught errors in the page: {seen['page_errors']}")
        h.check(not seen["csp"], f"Content-Security-Policy violations: {seen['csp']}")
        r = b.call("logout")
        h.check(r["session_status_after"] == 401,
                f"GET /api/v1/session after logout: {r['session_status_after']}, expected 401")
        b.stop()
        self.daemon.stop(signal.SIGTERM, grace=h.deadline.bound(20))
        h.check(self.daemon.popen.returncode == 0,
                f"softswitchd exit {self.daemon.popen.returncode} after SIGTERM, expected 0")


def main():
    args = parse_args()
    status = prerequisites(args)
    if status is not None:
        return status
    os.makedirs(args.work_dir, exist_ok=True)
    h = Harness(args, DEADLINE_S)
    test = Test(args, h)
    t0 = time.monotonic()

    def cleanup():
        if test.browser is not None:
            test.browser.stop()
        if h.db_name:
            try:
                fc.psql(os.environ["SS_TEST_PG_URL"],
                        f'DROP DATABASE IF EXISTS "{h.db_name}" WITH (FORCE)')
            except Exception as e:  # noqa: BLE001 — clean-up must not hide the verdict
                log(f"warning: could not drop {h.db_name}: {e}")

    rc = fc.verdict(NAME, h, test.run, cleanup=cleanup)
    shots = sorted(f for f in os.listdir(h.dir) if f.endswith(".png"))
    print(f"{NAME}: {'PASS' if rc == 0 else 'FAIL'} ({h.checks} checks, "
          f"{time.monotonic() - t0:.1f} s)", flush=True)
    for line in test.figures:
        print(f"  {line}", flush=True)
    print(f"  screenshots ({len(shots)}): {' '.join(shots)}", flush=True)
    print(f"  artifacts: {h.dir}", flush=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
