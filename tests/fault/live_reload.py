#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Live reload under held calls: swctl changes reach the running switch within 1 s, held calls survive, and a PostgreSQL restart does not stop routing.

Issue 6, "Done when": while SIPp holds calls through softswitchd, `swctl param set
SS_SIP_RESEND_INTERVAL 1,1,1` and `swctl gateway disable` take effect for the next call within
1 s (shown on the wire) and no held call is dropped; PostgreSQL restarted under the running
switch -> it keeps routing on its snapshot and picks up a change made after the restart.

  1. a private PostgreSQL 15 cluster (this test restarts it), provisioned with swctl: orig1;
     term1 and term2 = SIPp UASes (uas_answer.xml), route 1555 -> term1 (priority 10), term2
     (20); `slow` = a UDP sink that never answers, route 1999 -> slow; SS_SIP_TIMEOUT_INVITE
     300 so the resend list alone ends an unanswered attempt;
  2. softswitchd with --http on 127.0.0.1:0 (token from the environment);
  3. HELD calls through term1 (uac_call_hold.xml, held HOLD_S s); waits until term1 has ACKed
     them all; `swctl calls` lists them;
  4. `swctl param set SS_SIP_RESEND_INTERVAL 1,1,1`; 1 s after swctl returned, a call to 1999:
     the sink gets the INVITE at 0, 1, 2, 3 s (the default list would give 0, 0.5, 1.5, 3.5);
     then an invalid value written by hand in SQL: the reload is refused and logged;
  5. `swctl gateway disable term1`; 1 s after swctl returned, a call to 1555 goes to term2
     (term1 gets no INVITE); `swctl gateway status` shows term1 disabled;
  6. PostgreSQL stopped: a call to 1555 still completes (term2, on the snapshot); PostgreSQL
     started; `swctl gateway enable term1`; once the daemon logged the reload (bounded), a
     call to 1555 goes to term1 again;
  7. the held calls end by the caller's BYE after HOLD_S s: all completed, none failed, CDRs
     caller/caller_bye with hold_ms >= HOLD_S s.
Exit 0 pass, 1 fail, 77 skipped (no SS_TEST_PG_URL outside CI, the tests/sipp convention).
"""

import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fault_common as fc  # noqa: E402
from run_case import SilentSink, free_port, port_bound  # noqa: E402

NAME = "live_reload"
HELD = 6            # calls held through term1 while the changes are made
HOLD_S = 30         # how long they are held
DEADLINE_S = 100    # the whole test; CTest TIMEOUT is 120
TOKEN = "live-reload-test-token-0123456789abcdef"


class Test:
    def __init__(self, args, h, pg):
        self.args, self.h, self.pg = args, h, pg
        self.uas = {}
        self.uac_count = 0
        self.daemon = None
        self.ready = {}

    def start_uas(self, name, calls):
        """A SIPp UAS (uas_answer.xml) for gateway `name` on a free port."""
        h = self.h
        for attempt in range(3):
            port = free_port(["udp"])
            argv = [self.args.sipp, "-sf", os.path.join(self.args.scenarios, "uas_answer.xml"),
                    "-i", "127.0.0.1", "-bind_local", "-p", str(port), "-t", "u1", "-nostdin",
                    "-m", str(calls), "-timeout", f"{DEADLINE_S}s", *h.sipp_logs(name)]
            proc = h.spawn(name, argv)
            while proc.running() and not port_bound("udp", "127.0.0.1", port):
                if h.deadline.left() <= 0:
                    raise fc.TestFailure(f"deadline passed waiting for {name} to bind")
                time.sleep(0.02)
            if proc.running():
                self.uas[name] = (proc, port)
                return
            h.procs.remove(proc)
        raise fc.TestFailure(f"the SIPp UAS {name} would not start")

    def invites_at(self, name):
        """Calls (distinct Call-IDs of INVITEs, copies folded) SIPp UAS `name` has received so
        far, from its message log."""
        path = os.path.join(self.h.dir, f"{name}_messages.log")
        if not os.path.exists(path):
            return 0
        return len({c for _, d, first, c, m in fc.sipp_messages(path)
                    if d == "received" and first.startswith("INVITE ")})

    def acks_at(self, name):
        path = os.path.join(self.h.dir, f"{name}_messages.log")
        if not os.path.exists(path):
            return 0
        return len({c for _, d, first, c, m in fc.sipp_messages(path)
                    if d == "received" and first.startswith("ACK ")})

    def uac(self, scenario, callee, calls, rate, hold_ms=None, timeout_s=20):
        """A SIPp UAC placing `calls` calls to `callee` through the switch; returns its Proc
        and its log tag."""
        self.uac_count += 1
        tag = f"uac{self.uac_count}"
        port = free_port(["udp"])
        argv = [self.args.sipp, "-sf", scenario, "-s", callee, self.ready["sip.udp"],
                "-i", "127.0.0.1", "-bind_local", "-p", str(port), "-t", "u1", "-nostdin",
                "-r", str(rate), "-rp", "1000", "-m", str(calls), "-l", str(calls),
                "-timeout", f"{int(timeout_s)}s", *self.h.sipp_logs(tag)]
        if hold_ms is not None:
            argv += ["-d", str(hold_ms)]
        return self.h.spawn(tag, argv), tag

    def one_call(self, callee, scenario="uac_call.xml", timeout_s=15):
        """One call through the switch, waited for; returns (exit status, tag)."""
        proc, tag = self.uac(os.path.join(self.args.scenarios, scenario), callee, 1, 1,
                             timeout_s=timeout_s)
        rc = proc.wait(self.h.deadline.bound(timeout_s + 5))
        return rc, tag

    def swctl(self, *argv):
        t = time.monotonic()
        out = self.h.swctl(*argv)
        return out, t, time.monotonic()

    def swctl_live(self, *argv):
        """A live-state swctl command (calls, gateway status) against the daemon's API."""
        env = dict(self.h.env)
        env["SOFTSWITCH_HTTP_TOKEN"] = TOKEN
        cmd = [self.args.swctl, *argv, "--api", f"http://{self.ready['http']}"]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env,
                              timeout=self.h.deadline.bound(20))
        with open(os.path.join(self.h.dir, "swctl.log"), "a") as f:
            f.write(f"$ {' '.join(cmd)}\n[exit {proc.returncode}]\n{proc.stdout}{proc.stderr}\n")
        self.h.check(proc.returncode == 0, f"swctl {' '.join(argv)}: exit {proc.returncode}\n"
                     f"{proc.stdout}{proc.stderr}")
        return proc.stdout

    def reloads(self):
        return fc.daemon_log_lines(os.path.join(self.h.dir, "softswitchd.out"),
                                   "provisioning reloaded")

    def wait_reload(self, seen, what, bound_s):
        """Waits (bounded) until the daemon logged more than `seen` reloads; returns the
        seconds waited."""
        t0 = time.monotonic()
        while len(self.reloads()) <= seen:
            if time.monotonic() - t0 > bound_s:
                raise fc.TestFailure(f"{what}: no reload logged within {bound_s} s")
            time.sleep(0.02)
        return time.monotonic() - t0

    def run(self):
        args, h, pg = self.args, self.h, self.pg
        pg.init()
        pg.start()
        h.dsn = fc.dsn_with_dbname(pg.url, "softswitch")
        fc.psql(pg.url, 'CREATE DATABASE "softswitch"')

        # term1: the held calls, then one more after it is enabled again; term2: the call
        # after term1 is disabled and the call during the PostgreSQL outage.
        self.start_uas("term1", HELD + 1)
        self.start_uas("term2", 2)
        slow = SilentSink("slow", os.path.join(h.dir, "slow_requests.log"))
        try:
            self.steps(slow)
        finally:
            slow.stop()

    def steps(self, slow):
        args, h, pg = self.args, self.h, self.pg
        h.swctl("db", "migrate")
        h.swctl("gateway", "add", "orig1", "--role", "origination", "--host", "127.0.0.1")
        for name in ("term1", "term2"):
            h.swctl("gateway", "add", name, "--role", "termination", "--host",
                    f"127.0.0.1:{self.uas[name][1]}")
        h.swctl("gateway", "add", "slow", "--role", "termination", "--host",
                f"127.0.0.1:{slow.port}")
        h.swctl("route", "add", "--prefix", "1555", "--gateway", "term1", "--priority", "10")
        h.swctl("route", "add", "--prefix", "1555", "--gateway", "term2", "--priority", "20")
        h.swctl("route", "add", "--prefix", "1999", "--gateway", "slow")
        h.swctl("param", "set", "SS_SIP_TIMEOUT_INVITE", "300")

        h.env["SOFTSWITCH_HTTP_TOKEN"] = TOKEN
        self.daemon, self.ready = h.start_daemon(
            "live-reload", "udp:127.0.0.1:0", extra=["--http", "127.0.0.1:0"])
        h.check("http" in self.ready, f"the ready file has no http address: {self.ready}")

        # 3. Calls held through term1.
        held, held_tag = self.uac(os.path.join(args.fault_scenarios, "uac_call_hold.xml"),
                                  "15551000001", HELD, 20, hold_ms=HOLD_S * 1000,
                                  timeout_s=HOLD_S + 30)
        t_held = time.monotonic()
        while self.acks_at("term1") < HELD:
            h.check(held.running(), f"the held-calls UAC exited early ({held.popen.returncode})")
            if time.monotonic() - t_held > 10:
                raise fc.TestFailure(f"only {self.acks_at('term1')} of {HELD} held calls were "
                                     f"up after 10 s")
            time.sleep(0.05)
        fc.log(f"{HELD} calls up through term1 after {time.monotonic() - t_held:.2f} s")
        calls = json.loads(self.swctl_live("--json", "calls"))
        up = [c for c in calls["calls"] if c["state"] == "up"]
        h.check(len(up) == HELD, f"swctl calls: {len(up)} calls up, expected {HELD}: {calls}")
        h.check(all(c["legs"][-1]["gateway"] == "term1" for c in up),
                f"swctl calls: not every held call is on term1: {calls}")

        # 4. SS_SIP_RESEND_INTERVAL 1,1,1 for the next call, within 1 s.
        seen = len(self.reloads())
        _, _, t_done = self.swctl("param", "set", "SS_SIP_RESEND_INTERVAL", "1,1,1")
        took = self.wait_reload(seen, "param set", 1.0)
        fc.log(f"param set: reload logged {took * 1000:.0f} ms after swctl returned")
        time.sleep(h.deadline.bound(max(0.0, t_done + 1.0 - time.monotonic())))
        rc, tag = self.one_call("19991000002", scenario="uac_expect_503.xml", timeout_s=15)
        invites = slow.invites()
        h.check(len(invites) == 4, f"the silent gateway got {len(invites)} INVITE copies, "
                f"expected 4 (1,1,1): {invites}")
        offsets = [round(t - invites[0][0], 3) for t, *_ in invites]
        fc.log(f"INVITE copies at {offsets} s (the default list would give 0, 0.5, 1.5, 3.5)")
        for got, want in zip(offsets, [0, 1, 2, 3]):
            h.check(abs(got - want) <= 0.1, f"INVITE copies at {offsets} s, expected 0,1,2,3 "
                    f"(+-100 ms): the new SS_SIP_RESEND_INTERVAL was not applied")
        h.check(rc == 0, f"{tag}: exit {rc}, expected the 503 of an unanswered route")
        status = json.loads(self.swctl_live("--json", "gateway", "status"))
        slow_live = [g for g in status["gateways"] if g["name"] == "slow"]
        h.check(slow_live and slow_live[0]["addresses"] and
                slow_live[0]["addresses"][0]["addr"] == f"127.0.0.1:{slow.port}" and
                slow_live[0]["addresses"][0]["health"] == "blacklisted" and
                slow_live[0]["outcomes"] == {"resend_exhausted": 1},
                f"gateway status: the silent gateway should be blacklisted after "
                f"resend_exhausted: {slow_live}")

        # 4b. A stored value swctl would refuse (written by hand in SQL): the reload is refused
        # whole and logged, and the switch keeps its snapshot; swctl puts it right again.
        refused = "reload refused, keeping the running snapshot"
        h.sql("UPDATE param SET value = 'forever' WHERE name = 'SS_SIP_TIMEOUT_INVITE'")
        dlog = os.path.join(h.dir, "softswitchd.out")
        t0 = time.monotonic()
        while not fc.daemon_log_lines(dlog, refused):
            h.check(time.monotonic() - t0 < 2, "a hand-written invalid parameter was not "
                    "refused (no 'reload refused' logged within 2 s)")
            time.sleep(0.02)
        fc.log(f"invalid stored parameter: {fc.daemon_log_lines(dlog, refused)[0]}")
        seen = len(self.reloads())
        h.swctl("param", "set", "SS_SIP_TIMEOUT_INVITE", "300")
        self.wait_reload(seen, "param set after the refused reload", 1.0)

        # 5. gateway disable: the next call avoids term1, within 1 s.
        term1_before = self.invites_at("term1")
        seen = len(self.reloads())
        _, _, t_done = self.swctl("gateway", "disable", "term1")
        took = self.wait_reload(seen, "gateway disable", 1.0)
        fc.log(f"gateway disable: reload logged {took * 1000:.0f} ms after swctl returned")
        status = json.loads(self.swctl_live("--json", "gateway", "status"))
        term1 = [g for g in status["gateways"] if g["name"] == "term1"]
        h.check(term1 and not term1[0]["enabled"], f"gateway status: term1 not disabled: "
                f"{status}")
        h.check(term1[0]["active_calls"] == HELD, f"gateway status: term1 has "
                f"{term1[0]['active_calls']} active calls, expected the {HELD} held")
        time.sleep(h.deadline.bound(max(0.0, t_done + 1.0 - time.monotonic())))
        term2_before = self.invites_at("term2")
        rc, tag = self.one_call("15551000003")
        h.check(rc == 0, f"{tag}: exit {rc} for the call after term1 was disabled")
        h.check(self.invites_at("term1") == term1_before,
                "term1 got an INVITE after it was disabled")
        h.check(self.invites_at("term2") == term2_before + 1,
                "the call after `gateway disable term1` did not go to term2")

        # 6. PostgreSQL restarted under the running switch.
        pg.stop()
        rc, tag = self.one_call("15551000004")
        h.check(rc == 0, f"{tag}: exit {rc}: the switch stopped routing while PostgreSQL was "
                f"down (it should route on its snapshot)")
        h.check(self.daemon.running(), "softswitchd exited while PostgreSQL was down")
        pg.start()
        t_pg = time.monotonic()
        # The watcher reconnects with backoff and reloads everything; a change made now must
        # reach the switch then (or by its own NOTIFY). The live view shows when it has.
        h.swctl("gateway", "enable", "term1")
        while True:
            status = json.loads(self.swctl_live("--json", "gateway", "status"))
            if any(g["name"] == "term1" and g["enabled"] for g in status["gateways"]):
                break
            h.check(time.monotonic() - t_pg < 15, "15 s after PostgreSQL came back, the "
                    "switch still has term1 disabled")
            time.sleep(0.1)
        fc.log(f"after the PostgreSQL restart: term1 enabled in the switch "
               f"{time.monotonic() - t_pg:.2f} s after PostgreSQL was started")
        term1_before = self.invites_at("term1")
        rc, tag = self.one_call("15551000005")
        h.check(rc == 0, f"{tag}: exit {rc} for the call after term1 was enabled again")
        h.check(self.invites_at("term1") == term1_before + 1,
                "the call after `gateway enable term1` did not go to term1")

        # 7. The held calls were never touched.
        rc = held.wait(h.deadline.bound(HOLD_S + 20))
        stats = fc.sipp_final_stats(os.path.join(h.dir, f"{held_tag}_stat.csv"))
        ok, failed = int(stats["SuccessfulCall(C)"]), int(stats["FailedCall(C)"])
        fc.log(f"held calls: successful {ok}, failed {failed}, UAC exit {rc}")
        h.check(rc == 0 and ok == HELD and failed == 0,
                f"held calls: {ok} successful, {failed} failed (exit {rc}); expected {HELD}, 0")
        query = ("SELECT end_direction || '/' || end_reason, min(hold_ms), count(*) FROM cdr "
                 "WHERE callee = '15551000001' GROUP BY 1")
        end = time.monotonic() + h.deadline.bound(30)
        rows = h.sql(query)
        while (not rows or int(rows.split("|")[-1]) < HELD) and time.monotonic() < end:
            time.sleep(0.05)  # the writer batches; bounded
            rows = h.sql(query)
        fc.log(f"held calls' CDRs: {rows}")
        h.check(rows.count("|") == 2, f"held calls' CDRs: expected one kind, got {rows!r}")
        kind, min_hold, n = rows.split("|")
        h.check(kind == "caller/caller_bye" and int(n) == HELD and
                int(min_hold) >= HOLD_S * 1000 - 100,
                f"held calls' CDRs: {rows}; expected {HELD} caller/caller_bye held "
                f">= {HOLD_S} s")

        self.daemon.stop(signal.SIGTERM, grace=h.deadline.bound(20))
        h.check(self.daemon.popen.returncode == 0,
                f"softswitchd exit {self.daemon.popen.returncode} after SIGTERM, expected 0")


def main():
    return fc.main_with_private_pg(NAME, __doc__, DEADLINE_S,
                                   lambda args, h, pg: Test(args, h, pg).run())


if __name__ == "__main__":
    sys.exit(main())
