#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Fault test: PostgreSQL stopped for 30 s under steady SIPp load loses no CDR and duplicates none.

Issue 5, "Done when": PostgreSQL stopped for 30 s while SIPp places calls at a steady rate →
after it returns, the CDR count equals SIPp's count of completed calls exactly.

  1. a private PostgreSQL 15 cluster (initdb, free port, socket in a temp dir; never the shared
     SS_TEST_PG_URL cluster, as this test stops it), migrated and provisioned with swctl:
     orig1 (127.0.0.1), term1 = a SIPp UAS (uas_answer.xml), route 1555 -> term1;
  2. softswitchd on an OS-assigned UDP port, spool in the artifacts dir;
  3. a SIPp UAC (uac_call.xml: answer, 1 s, BYE) at 5 calls/s for CALLS calls;
  4. OUTAGE_AT s after the UAC started: checks CDRs are arriving, then `pg_ctl stop -m fast`;
     during the outage watches the spool file grow; OUTAGE_S s later `pg_ctl start`;
  5. waits for the UAC and UAS to finish, then (bounded, polling) until the spool is empty and
     the CDR count has stopped changing; SIGTERM (exit 0), count again.
Asserts: CDR rows = SIPp's SuccessfulCall(C) exactly, FailedCall(C) = 0, the set of CDR call ids
= the set of UAC Call-IDs whose BYE got its 200, count(*) = count(distinct call_id), every CDR
is caller/caller_bye/recv_bye, CDRs were spooled during the outage (spool file non-empty,
"CDR sink failed" logged) and replayed after it ("replayed N spooled CDRs", N total ≥ what the
spool held), and the spool is empty at the end.

Exit 0 pass, 1 fail, 77 skipped (no SS_TEST_PG_URL outside CI, the tests/sipp convention).
"""

import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fault_common as fc  # noqa: E402

NAME = "pg_outage"
RATE = 5            # calls per second
CALLS = 225         # 45 s of calls at RATE
OUTAGE_AT = 10.0    # s after the UAC starts
OUTAGE_S = 30.0
DEADLINE_S = 110    # the whole test; CTest TIMEOUT is 120


def spool_lines(spool_dir):
    """CDRs waiting in the spool: lines of cdr.spool plus cdr.spool.replay (a replay in
    progress renames the first to the second)."""
    n = 0
    for name in ("cdr.spool", "cdr.spool.replay"):
        try:
            with open(os.path.join(spool_dir, name), "rb") as f:
                n += f.read().count(b"\n")
        except FileNotFoundError:
            pass
    return n


def spool_empty(spool_dir):
    main = os.path.join(spool_dir, "cdr.spool")
    return (not os.path.exists(os.path.join(spool_dir, "cdr.spool.replay"))
            and (not os.path.exists(main) or os.path.getsize(main) == 0))


def run(args, h, pg):
    pg.init()
    pg.start()
    h.dsn = fc.dsn_with_dbname(pg.url, "softswitch")
    fc.psql(pg.url, 'CREATE DATABASE "softswitch"')

    uas, uas_port = h.start_uas(os.path.join(args.scenarios, "uas_answer.xml"), CALLS, 100)
    h.provision(uas_port)
    daemon, ready = h.start_daemon("fault-pg-outage", "udp:127.0.0.1:0")

    # SIPp's -timeout bounds its whole run: CALLS / RATE s of calls plus slack.
    uac = h.start_uac(os.path.join(args.scenarios, "uac_call.xml"), ready["sip.udp"], RATE,
                      CALLS, 50, CALLS / RATE + 25)
    t0 = time.monotonic()

    # Before the outage: CDRs reach PostgreSQL directly.
    time.sleep(h.deadline.bound(max(0.0, t0 + OUTAGE_AT - time.monotonic())))
    h.check(uac.running(), f"the UAC ended before the outage (exit {uac.popen.returncode})")
    before = h.cdr_count()
    fc.log(f"{time.monotonic() - t0:.1f} s into the load: {before} CDRs in PostgreSQL; "
           f"stopping PostgreSQL")
    h.check(before > 0, "no CDR in PostgreSQL 10 s into the load (before any outage)")
    pg.stop()
    t_stop = time.monotonic()

    # The outage: the switch keeps taking calls; their CDRs go to the spool.
    max_spooled = 0
    while time.monotonic() < t_stop + OUTAGE_S:
        max_spooled = max(max_spooled, spool_lines(h.spool))
        h.check(daemon.running(), f"softswitchd exited ({daemon.popen.returncode}) during "
                f"the PostgreSQL outage")
        time.sleep(h.deadline.bound(0.2))
    max_spooled = max(max_spooled, spool_lines(h.spool))
    fc.log(f"outage of {time.monotonic() - t_stop:.1f} s: the spool held up to {max_spooled} "
           f"CDRs; starting PostgreSQL")
    h.check(max_spooled > 0, "nothing was spooled while PostgreSQL was down")
    pg.start()
    t_start = time.monotonic()

    rc = uac.wait(h.deadline.bound(40))
    h.check(rc is not None, "the SIPp UAC did not finish in time")
    fc.log(f"UAC finished {time.monotonic() - t0:.1f} s after it started: exit {rc}")
    rc_uas = uas.wait(h.deadline.bound(10))
    fc.log(f"UAS exit {rc_uas}")

    # After the outage: the spool is replayed (retry backoff is at most 10 s).
    last, stable_since = -1, time.monotonic()
    end = time.monotonic() + h.deadline.bound(30)
    while time.monotonic() < end:
        n = h.cdr_count()
        if n != last:
            last, stable_since = n, time.monotonic()
        if spool_empty(h.spool) and time.monotonic() - stable_since >= 2.0:
            break
        time.sleep(0.2)
    fc.log(f"CDR count {last}, spool empty: {spool_empty(h.spool)}, "
           f"{time.monotonic() - t_start:.1f} s after PostgreSQL came back")
    h.check(spool_empty(h.spool), f"the spool still holds {spool_lines(h.spool)} CDRs "
            f"{time.monotonic() - t_start:.1f} s after PostgreSQL came back")

    daemon.stop(signal.SIGTERM, grace=h.deadline.bound(20))
    h.check(daemon.popen.returncode == 0,
            f"softswitchd exit {daemon.popen.returncode} after SIGTERM, expected 0")

    # The figures.
    stats = fc.sipp_final_stats(os.path.join(h.dir, "uac_stat.csv"))
    ok, failed = int(stats["SuccessfulCall(C)"]), int(stats["FailedCall(C)"])
    created = int(stats["TotalCallCreated"])
    rows = h.sql("SELECT count(*), count(DISTINCT call_id) FROM cdr").split("|")
    total, distinct = int(rows[0]), int(rows[1])
    kinds = h.sql("SELECT end_direction || '/' || end_reason || '/' || disposition, count(*) "
                  "FROM cdr GROUP BY 1 ORDER BY 1")
    cdr_ids = set(h.sql("SELECT call_id FROM cdr").split("\n")) - {""}
    msgs = fc.sipp_messages(os.path.join(h.dir, "uac_messages.log"))
    bye_ok = {c for _, d, first, c, m in msgs
              if d == "received" and m == "BYE" and first.startswith("SIP/2.0 200")}
    dlog = os.path.join(h.dir, "softswitchd.out")
    failed_lines = fc.daemon_log_lines(dlog, "CDR sink failed")
    replay_lines = fc.daemon_log_lines(dlog, "replayed")
    replayed = [int(m.group(1)) for line in replay_lines
                for m in [re.search(r"replayed (\d+) spooled CDRs", line)] if m]
    lost = fc.daemon_log_lines(dlog, "LOST")

    fc.log(f"FIGURES: SIPp calls created {created}, successful {ok}, failed {failed}; "
           f"UAC BYEs answered 200: {len(bye_ok)}; CDR rows {total} ({distinct} distinct "
           f"call ids); by direction/reason/disposition: {kinds.replace(chr(10), ', ')}")
    fc.log(f"FIGURES: CDRs before the outage {before}; spool held up to {max_spooled}; "
           f"'CDR sink failed' logged {len(failed_lines)} times; replays {replayed} "
           f"(total {sum(replayed)})")
    for line in failed_lines[:2] + failed_lines[-1:] + replay_lines:
        fc.log(f"  daemon: {line}")

    h.check(rc == 0 and failed == 0, f"SIPp UAC exit {rc} with {failed} failed calls "
            f"(see uac_errors.log): the switch should have completed every call during the "
            f"outage (routing does not need PostgreSQL)")
    h.check(rc_uas == 0, f"SIPp UAS exit {rc_uas}, expected 0 after {CALLS} calls")
    h.check(ok == CALLS, f"SIPp: {ok} successful calls, expected {CALLS}")
    h.check(total == ok, f"{total} CDR rows, SIPp counted {ok} successful calls")
    h.check(distinct == total, f"duplicates: {total} CDR rows, {distinct} distinct call ids")
    h.check(cdr_ids == bye_ok, f"CDR call ids differ from the UAC's completed calls: only in "
            f"the DB {sorted(cdr_ids - bye_ok)[:10]}, only in SIPp {sorted(bye_ok - cdr_ids)[:10]}")
    h.check(kinds == f"caller/caller_bye/recv_bye|{total}",
            f"not every CDR is caller/caller_bye/recv_bye: {kinds}")
    h.check(len(failed_lines) > 0, "the daemon log has no 'CDR sink failed' line: it never "
            "noticed the outage")
    h.check(sum(replayed) >= max_spooled and sum(replayed) > 0,
            f"the daemon replayed {sum(replayed)} spooled CDRs ({replayed}), but the spool "
            f"held {max_spooled}")
    h.check(not lost, f"the daemon logged lost CDRs: {lost[:3]}")


def main():
    return fc.main_with_private_pg(NAME, __doc__, DEADLINE_S, run)


if __name__ == "__main__":
    sys.exit(main())
