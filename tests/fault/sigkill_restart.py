#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Fault test: softswitchd SIGKILLed under load and restarted bills every call exactly once.

Issue 5, "Done when": softswitchd SIGKILLed mid-load and restarted → every call that had ended
has its CDR and every call that was up has a `switch_restart` CDR; no duplicates anywhere.

  1. a fresh database on the SS_TEST_PG_URL cluster (random name, dropped at the end; this
     test never stops PostgreSQL, so the shared cluster is fine), migrated and provisioned
     with swctl: orig1 (127.0.0.1), term1 = a SIPp UAS (uas_answer.xml: answers, waits for
     the BYE), route 1555 -> term1;
  2. softswitchd on an OS-assigned UDP port, spool (and so the crash journal) in the
     artifacts dir;
  3. a SIPp UAC (uac_call_hold4.xml: answer, 4 s, BYE) at 5 calls/s;
  4. KILL_AT s after the UAC started: SIGKILL to the daemon's PID (the kill instant K is
     time.time() just before the kill), then the UAC and UAS are stopped (by PID);
  5. softswitchd restarted with the same --spool and --node on the same UDP port; once ready,
     the CDR count is polled until stable; SIGTERM (exit 0; the journal is removed).
From the UAC's message log each call (A-leg Call-ID) is classed by what it saw before K:
  completed  — the 200 to its BYE arrived before K: exactly one caller/caller_bye CDR;
  up         — the 200 to its INVITE arrived before K and it had not sent its BYE: exactly one
               switch/switch_restart/send_bye CDR with answer_at set, K − 2.5 s ≤ end_at ≤ K
               (the last heartbeat; never billed past the crash), hold_ms ≥ 0 and
               hold_ms = end_at − answer_at (±5 ms);
  bye_in_flight — BYE sent before K, its 200 not: one CDR, caller_bye or switch_restart;
  setup      — INVITE sent, no 200 before K: at most one CDR, switch/switch_restart.
Plus: count(*) = count(distinct call_id), every CDR's call id is one the UAC placed, and the
CDR count equals the number of calls the switch saw (distinct INVITEs the UAS received, i.e.
B legs the switch created; the difference, if any, must be calls in setup that never got any
response before K).

Exit 0 pass, 1 fail, 77 skipped (no SS_TEST_PG_URL outside CI, the tests/sipp convention).
"""

import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fault_common as fc  # noqa: E402

NAME = "sigkill_restart"
NODE = "fault-sigkill"
RATE = 5            # calls per second
KILL_AT = 8.0       # s after the UAC starts
HEARTBEAT_SLACK = 2.5
DEADLINE_S = 80     # the whole test; CTest TIMEOUT is 90

CDR_SQL = """
SELECT coalesce(json_agg(json_build_object(
    'call_id', call_id, 'end_direction', end_direction, 'end_reason', end_reason,
    'disposition', disposition, 'hold_ms', hold_ms,
    'setup', extract(epoch FROM setup_at), 'answer', extract(epoch FROM answer_at),
    'end', extract(epoch FROM end_at),
    'answer_to_end_ms', (extract(epoch FROM end_at - answer_at) * 1000)::bigint)), '[]')
FROM cdr
"""


def classify(msgs, kill_at):
    """{Call-ID: class} for every call the UAC sent an INVITE for before `kill_at`, from its
    message log; also {Call-ID: epoch of the 200 (INVITE) received} and the Call-IDs that got
    any response before `kill_at`."""
    invited, answered, bye_sent, bye_ok, any_response = {}, {}, {}, {}, set()
    for t, direction, first, call_id, method in msgs:
        if t >= kill_at:
            continue
        if direction == "sent" and first.startswith("INVITE "):
            invited.setdefault(call_id, t)
        elif direction == "sent" and first.startswith("BYE "):
            bye_sent.setdefault(call_id, t)
        elif direction == "received" and first.startswith("SIP/2.0 "):
            any_response.add(call_id)
            if first.startswith("SIP/2.0 200") and method == "INVITE":
                answered.setdefault(call_id, t)
            elif first.startswith("SIP/2.0 200") and method == "BYE":
                bye_ok.setdefault(call_id, t)
    classes = {}
    for call_id in invited:
        if call_id in bye_ok:
            classes[call_id] = "completed"
        elif call_id in bye_sent:
            classes[call_id] = "bye_in_flight"
        elif call_id in answered:
            classes[call_id] = "up"
        else:
            classes[call_id] = "setup"
    return classes, answered, any_response


def run(args, h):
    uas, daemon, sip_addr = h.start_switch_to_uas("ss_fault_sigkill_", NODE, 60)

    uac = h.start_uac(os.path.join(args.fault_scenarios, "uac_call_hold4.xml"), sip_addr, RATE,
                      1000, 100, 60)
    t0 = time.monotonic()
    time.sleep(h.deadline.bound(max(0.0, t0 + KILL_AT - time.monotonic())))
    h.check(uac.running(), f"the UAC ended before the kill (exit {uac.popen.returncode})")
    journal = os.path.join(h.spool, "calls.journal")
    h.check(os.path.exists(journal), f"no crash journal {journal} while calls are up")
    before = h.cdr_count()

    kill_at = time.time()
    os.kill(daemon.pid, signal.SIGKILL)
    rc = daemon.wait(5)
    h.check(rc == -signal.SIGKILL, f"softswitchd did not die of the SIGKILL (status {rc})")
    daemon.logf.close()
    fc.log(f"SIGKILLed softswitchd pid {daemon.pid} at {kill_at:.3f} "
           f"({time.monotonic() - t0:.2f} s into the load; {before} CDRs in the database)")
    uac.stop(signal.SIGTERM, grace=3)
    uas.stop(signal.SIGTERM, grace=3)
    fc.log("stopped the SIPp UAC and UAS")

    ip, port = sip_addr.rsplit(":", 1)
    try:
        daemon2, ready2 = h.start_daemon(NODE, f"udp:{ip}:{port}", tag="softswitchd2")
    except fc.TestFailure as e:
        fc.log(f"restart on the same port {port} failed ({e}); restarting on a new port")
        daemon2, ready2 = h.start_daemon(NODE, "udp:127.0.0.1:0", tag="softswitchd3")
    t_ready = time.monotonic()

    last, stable_since = -1, time.monotonic()
    end = time.monotonic() + h.deadline.bound(20)
    while time.monotonic() < end and time.monotonic() - stable_since < 2.0:
        n = h.cdr_count()
        if n != last:
            last, stable_since = n, time.monotonic()
        time.sleep(0.1)
    fc.log(f"after the restart: {last} CDRs (stable for 2 s, "
           f"{time.monotonic() - t_ready:.1f} s after ready)")
    daemon2.stop(signal.SIGTERM, grace=h.deadline.bound(20))
    h.check(daemon2.popen.returncode == 0,
            f"restarted softswitchd exit {daemon2.popen.returncode} after SIGTERM, expected 0")
    h.check(not os.path.exists(journal), f"{journal} still exists after a clean SIGTERM")

    # The figures.
    rows = json.loads(h.sql(CDR_SQL))
    by_id = {}
    for r in rows:
        by_id.setdefault(r["call_id"], []).append(r)
    msgs = fc.sipp_messages(os.path.join(h.dir, "uac_messages.log"))
    classes, answered, any_response = classify(msgs, kill_at)
    uas_msgs = fc.sipp_messages(os.path.join(h.dir, "uas_messages.log"))
    uas_invites = {c for _, d, first, c, _ in uas_msgs
                   if d == "received" and first.startswith("INVITE ")}
    count = {k: sum(1 for v in classes.values() if v == k)
             for k in ("completed", "up", "bye_in_flight", "setup")}
    kinds = {}
    for r in rows:
        key = f"{r['end_direction']}/{r['end_reason']}/{r['disposition']}"
        kinds[key] = kinds.get(key, 0) + 1
    restart_rows = [r for r in rows if r["end_reason"] == "switch_restart"]
    lags = sorted(round((kill_at - r["end"]) * 1000) for r in restart_rows)
    recovery = fc.daemon_log_lines(os.path.join(h.dir, "softswitchd2.out"), "crash recovery")
    fc.log(f"FIGURES: UAC calls placed before the kill {len(classes)}: {count}; the UAS "
           f"received {len(uas_invites)} INVITEs (B legs); CDR rows {len(rows)} "
           f"({len(by_id)} distinct call ids): {kinds}")
    fc.log(f"FIGURES: switch_restart CDRs {len(restart_rows)}; kill instant − end_at (ms), "
           f"sorted: {lags}; hold_ms of those: "
           f"{sorted(r['hold_ms'] for r in restart_rows)}")
    for line in recovery:
        fc.log(f"  daemon: {line}")

    h.check(len(rows) == len(by_id), "duplicates: " + str(
        {c: len(v) for c, v in by_id.items() if len(v) > 1}))
    stray = sorted(set(by_id) - set(classes))
    h.check(not stray, f"CDRs for calls the UAC did not place before the kill: {stray[:5]}")
    h.check(count["completed"] > 0 and count["up"] > 0,
            f"the kill did not hit the load as planned: {count}")
    for call_id, cls in sorted(classes.items()):
        got = by_id.get(call_id, [])
        what = f"call {call_id} ({cls} at the kill)"
        if cls == "setup":
            h.check(len(got) <= 1, f"{what}: {len(got)} CDRs")
            if got:
                r = got[0]
                h.check((r["end_direction"], r["end_reason"]) == ("switch", "switch_restart"),
                        f"{what}: CDR {r}, expected switch/switch_restart")
                h.check(r["end"] <= kill_at, f"{what}: end_at {r['end']} after the kill")
            continue
        h.check(len(got) == 1, f"{what}: {len(got)} CDRs, expected exactly 1")
        r = got[0]
        if cls == "completed":
            h.check((r["end_direction"], r["end_reason"], r["disposition"])
                    == ("caller", "caller_bye", "recv_bye"),
                    f"{what}: CDR {r}, expected caller/caller_bye/recv_bye")
        elif cls == "bye_in_flight":
            h.check(r["end_reason"] in ("caller_bye", "switch_restart"),
                    f"{what}: CDR {r}, expected caller_bye or switch_restart")
        else:  # up
            h.check((r["end_direction"], r["end_reason"], r["disposition"])
                    == ("switch", "switch_restart", "send_bye"),
                    f"{what}: CDR {r}, expected switch/switch_restart/send_bye")
            h.check(r["answer"] is not None, f"{what}: answered but answer_at is NULL: {r}")
            h.check(kill_at - HEARTBEAT_SLACK <= r["end"] <= kill_at,
                    f"{what}: end_at {r['end']:.3f} is not within [K − {HEARTBEAT_SLACK} s, K] "
                    f"(K = {kill_at:.3f}; {kill_at - r['end']:.3f} s before K)")
            h.check(r["hold_ms"] is not None and r["hold_ms"] >= 0,
                    f"{what}: hold_ms {r['hold_ms']}")
            h.check(abs(r["hold_ms"] - r["answer_to_end_ms"]) <= 5,
                    f"{what}: hold_ms {r['hold_ms']} but end_at − answer_at = "
                    f"{r['answer_to_end_ms']} ms")
    unanswered = {c for c, cls in classes.items() if cls == "setup" and c not in any_response}
    h.check(len(uas_invites) <= len(rows) <= len(uas_invites) + len(unanswered),
            f"{len(rows)} CDRs but the switch saw {len(uas_invites)} calls (INVITEs at the "
            f"UAS); {len(unanswered)} UAC INVITEs had no response before the kill")
    h.check(len(recovery) == 1, f"expected one 'crash recovery' line in the restarted "
            f"daemon's log, found {recovery}")


def main():
    return fc.main_with_shared_pg(NAME, __doc__, DEADLINE_S, run)


if __name__ == "__main__":
    sys.exit(main())
