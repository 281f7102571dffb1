#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Runs every UAC scenario against its UAS counterpart directly (no switch), over UDP and TCP,
and a few mismatched pairs that must fail. Proves the scenarios themselves before they are used
to judge softswitchd. Python 3 standard library only; needs `sipp`.
"""

import argparse
import os
import shutil
import signal
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_case import Proc, free_port, port_bound, tail  # noqa: E402

# (uas, uac): both must succeed.
GOOD = [
    ("uas_answer", "uac_call"),
    ("uas_answer_bye", "uac_wait_bye"),
    ("uas_ring", "uac_cancel"),
    ("uas_busy", "uac_expect_486"),
    ("uas_unavailable", "uac_expect_503"),
    ("uas_accept_reinvite", "uac_reinvite"),
    ("uas_reinvite", "uac_accept_reinvite"),
    ("uas_answer_late", "uac_call"),
    ("uas_prack", "uac_prack"),
    ("uas_prack", "uac_prack_retransmit"),
    ("uas_answer_ring3", "uac_call"),
    ("uas_unavailable_480", "uac_expect_480"),
    ("uas_reinvite_retry", "uac_reinvite_retry"),  # the UAC plays the switch's resend
]
# (uas, uac, which side must fail): the scenarios really check what they claim.
BAD = [
    ("uas_busy", "uac_call", "uac"),            # 486 where a 200 is required
    ("uas_busy", "uac_expect_404", "uac"),      # 486 is not the 404 expected
    ("uas_answer_bye", "uac_call", "any"),      # both hang up after 1 s: whoever is second
                                                # gets a BYE it does not expect
    ("uas_answer", "uac_reinvite", "uas"),      # a re-INVITE the UAS does not expect
    ("uas_unavailable", "uac_expect_408", "uac"),  # 503 is not the 408 expected
    ("uas_reinvite_retry", "uac_reinvite", "uac"),  # the re-INVITE gets the 503, not a 200
    ("uas_reinvite_retry", "uac_reinvite_fast_retry", "uas"),  # resent after 200 ms: too soon
]


def run_pair(args, uas, uac, transport, tag):
    d = os.path.join(args.artifacts, tag)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    t = "t1" if transport == "tcp" else "u1"
    common = ["-nostdin", "-m", "1", "-timeout", "10s", "-timeout_error", "-t", t,
              "-i", "127.0.0.1", "-bind_local"]
    port = free_port(["udp", "tcp"])
    server = Proc(f"uas {uas}", [args.sipp, "-sf", os.path.join(args.scenarios, uas + ".xml"),
                                 "-p", str(port), *common, "-trace_err", "-trace_msg"],
                  os.path.join(d, "uas.out"), d)
    end = time.monotonic() + 5
    while server.running() and not port_bound(transport, "127.0.0.1", port):
        if time.monotonic() > end:
            break
        time.sleep(0.02)
    client = Proc(f"uac {uac}", [args.sipp, "-sf", os.path.join(args.scenarios, uac + ".xml"),
                                 "-s", "15551234567", f"127.0.0.1:{port}",
                                 "-p", str(free_port(["udp", "tcp"])), *common,
                                 "-trace_err", "-trace_msg"],
                  os.path.join(d, "uac.out"), d)
    rc_uac = client.wait(20)
    if rc_uac is None:
        rc_uac = client.stop(signal.SIGKILL)
    rc_uas = server.wait(5)
    if rc_uas is None:
        rc_uas = server.stop(signal.SIGTERM, grace=3)
        rc_uas = "killed"
    client.stop()
    server.stop()
    return rc_uac, rc_uas, d


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenarios", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "scenarios"))
    ap.add_argument("--artifacts", default=os.path.join(os.getcwd(), "scenario_pairs"))
    ap.add_argument("--sipp", default=shutil.which("sipp") or "sipp")
    args = ap.parse_args()
    args.artifacts = os.path.abspath(args.artifacts)
    if shutil.which(args.sipp) is None:
        print(f"FAIL: {args.sipp} not found (bash packaging/install-deps.sh)")
        return 1

    failures = []
    for uas, uac in GOOD:
        for transport in ("udp", "tcp"):
            tag = f"{uac}--{uas}--{transport}"
            rc_uac, rc_uas, d = run_pair(args, uas, uac, transport, tag)
            ok = rc_uac == 0 and rc_uas == 0
            print(f"{'ok  ' if ok else 'FAIL'} {tag}: uac exit {rc_uac}, uas exit {rc_uas}",
                  flush=True)
            if not ok:
                failures.append((tag, d))
    for uas, uac, side in BAD:
        tag = f"mismatch-{uac}--{uas}"
        rc_uac, rc_uas, d = run_pair(args, uas, uac, "udp", tag)
        if side == "any":
            ok = rc_uac != 0 or rc_uas != 0
        else:
            ok = (rc_uac if side == "uac" else rc_uas) != 0
        print(f"{'ok  ' if ok else 'FAIL'} {tag}: {side} side must fail; uac exit {rc_uac}, "
              f"uas exit {rc_uas}", flush=True)
        if not ok:
            failures.append((tag, d))
    for tag, d in failures:
        for f in sorted(os.listdir(d)):
            if f.endswith("errors.log") or f.endswith(".out"):
                print(f"--- {tag}/{f} ---\n{tail(os.path.join(d, f), 30)}")
    print(f"{len(GOOD) * 2 + len(BAD) - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
