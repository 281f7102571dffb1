#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Wire test: softswitchd with two SIP threads keeps every message of a call on one thread.

Issue 7: the switch scales across cores with several SIP threads (`--sip-threads`), each with
its own sofia-sip agent (README "SIP threads"). New calls reach the threads through one public
UDP port, steered by their Request-URI; everything later in a call comes to the port of the
thread that holds it (its Contact, and the source of its requests). This test checks it on
the wire with one SIPp UAC sending everything from one address (one carrier):

  1. a fresh database on the SS_TEST_PG_URL cluster, provisioned with swctl: orig1, term1 = a
     SIPp UAS that answers (route 1555), term2 = a SIPp UAS that rings until CANCELled
     (route 1666); softswitchd --sip-threads 2 on an OS-assigned UDP port;
  2. ANSWERED calls, each to a different number (155512345671, 155512345672, ...): every one
     completes (INVITE, 200, ACK, the caller's BYE). SIPp sends the ACK and the BYE to the
     address it sent the INVITE to, the public port, not to the switch's Contact: the
     steering brings them to the thread that the Contact (their Request-URI) names. The
     Contact's port in each 200 and the source port (Via) of the same number's B-leg INVITE
     are the same — one thread held both legs — and one of the two threads' own ports, never
     the public one; both threads took calls;
  3. CANCELLED calls to 1666...: the CANCEL and the ACK for the 487 go to the public port like
     the INVITE, so the steering must bring them to the thread that holds the INVITE: every
     caller gets 487 for its INVITE, the callee sees each CANCEL, both threads took calls;
  4. TCP_CALLS answered calls over one TCP connection to term3 (a TCP SIPp UAS, route 1777):
     the connection and its calls belong to one thread, whose own TCP port sends the B legs;
  5. the CDRs: ANSWERED + TCP_CALLS caller_bye and CANCELLED caller_cancel, one per call;
  6. SIGTERM: both threads drain and softswitchd exits 0.

Exit 0 pass, 1 fail, 77 skipped (no SS_TEST_PG_URL outside CI, the tests/sipp convention).
"""

import os
import re
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fault_common as fc  # noqa: E402

NAME = "sip_threads"
NODE = "fault-threads"
ANSWERED = 40
CANCELLED = 20
TCP_CALLS = 10
DEADLINE_S = 80     # the whole test; CTest TIMEOUT is 90


def header(msg, name):
    m = re.search(rf"^(?:{name})\s*:\s*(.+?)\s*$", msg, re.I | re.M)
    return m.group(1) if m else ""


def ruri_user(msg):
    m = re.match(r"\s*[A-Z]+ sips?:([^@;>\s]+)@", msg)
    return m.group(1) if m else ""


def via_port(msg):
    """The port of the top Via's sent-by (the sender's port: rport is what it sent from)."""
    m = re.search(r"SIP/2\.0/(?:UDP|TCP)\s+[^:;\s]+:(\d+)", header(msg, "Via|v"))
    return int(m.group(1)) if m else None


def contact_port(msg):
    m = re.search(r"sip:[^>;]*?:(\d+)", header(msg, "Contact|m"))
    return int(m.group(1)) if m else None


def messages(h, tag, direction, start):
    path = os.path.join(h.dir, f"{tag}_messages.log")
    return [msg for _, d, msg in fc.sipp_message_texts(path)
            if d == direction and msg.lstrip().startswith(start)]


def run(args, h):
    h.fresh_database("ss_fault_threads_")
    _, uas_port = h.start_uas(os.path.join(args.scenarios, "uas_answer.xml"), ANSWERED, 60)
    _, ring_port = h.start_uas(os.path.join(args.scenarios, "uas_ring.xml"), CANCELLED, 60,
                               tag="uas_ring")
    h.provision(uas_port)
    h.swctl("gateway", "add", "term2", "--role", "termination", "--host",
            f"127.0.0.1:{ring_port}", "--transport", "udp")
    h.swctl("route", "add", "--prefix", "1666", "--gateway", "term2", "--priority", "10")
    _, tcp_port = h.start_uas(os.path.join(args.scenarios, "uas_answer.xml"), TCP_CALLS, 60,
                              tag="uas_tcp", transport="tcp")
    h.swctl("gateway", "add", "term3", "--role", "termination", "--host",
            f"127.0.0.1:{tcp_port}", "--transport", "tcp")
    h.swctl("route", "add", "--prefix", "1777", "--gateway", "term3", "--priority", "10")
    daemon, ready = h.start_daemon(NODE, "udp:127.0.0.1:0,tcp:127.0.0.1:0",
                                   extra=["--sip-threads", "2"])
    sip_addr = ready["sip.udp"]
    public = int(sip_addr.rsplit(":", 1)[1])
    lines = fc.daemon_log_lines(os.path.join(h.dir, "softswitchd.out"), "2 SIP threads")
    h.check(len(lines) == 1, f"no '2 SIP threads' line in the log: {lines}")
    homes = {int(p) for p in re.findall(r"udp:[^,\s]+:(\d+)", lines[0])}
    tcp_homes = {int(p) for p in re.findall(r"tcp:[^,\s]+:(\d+)", lines[0])}
    fc.log(f"public port {public}; the threads' own ports {sorted(homes)}, TCP "
           f"{sorted(tcp_homes)}")
    h.check(len(homes) == 2 and public not in homes,
            f"expected two own ports besides the public {public}: {lines[0]}")
    h.check(len(tcp_homes) == 2, f"expected two own TCP ports: {lines[0]}")

    # 2. Answered calls, one number each, all from one UAC address.
    hold = fc.numbered_scenario(os.path.join(args.fault_scenarios, "uac_call_hold.xml"),
                                os.path.join(h.dir, "uac_call_hold_numbered.xml"))
    uac = h.start_uac(hold, sip_addr, 20, ANSWERED, ANSWERED, 30, tag="uac")
    h.check(uac.wait(h.deadline.bound(35)) == 0, "not every answered call completed")
    a_leg = {}  # number -> the switch's Contact port in the 200 to the caller
    for msg in messages(h, "uac", "received", "SIP/2.0 200"):
        if "INVITE" in header(msg, "CSeq"):
            number = re.search(r"sip:(\d+)@", header(msg, "To|t"))
            a_leg[number.group(1) if number else ""] = contact_port(msg)
    b_leg = {ruri_user(m): via_port(m) for m in messages(h, "uas", "received", "INVITE ")}
    fc.log(f"FIGURES: answered calls per thread port: "
           f"{ {p: list(b_leg.values()).count(p) for p in sorted(homes)} }")
    h.check(len(a_leg) == ANSWERED and set(a_leg) == set(b_leg),
            f"{len(a_leg)} answered numbers at the caller, {len(b_leg)} at the callee")
    for number, port in a_leg.items():
        h.check(port == b_leg[number],
                f"{number}: Contact port {port} to the caller, B-leg sent from {b_leg[number]}")
    h.check(set(b_leg.values()) == homes,
            f"B legs sent from {set(b_leg.values())}, expected both of {homes}")

    # 3. Cancelled calls: the CANCEL and the 487's ACK come to the public port.
    cancel = fc.numbered_scenario(os.path.join(args.scenarios, "uac_cancel.xml"),
                                  os.path.join(h.dir, "uac_cancel_numbered.xml"))
    uac2 = h.start_uac(cancel, sip_addr, 20, CANCELLED, CANCELLED, 30, tag="uac_cancel",
                       service="16660000000")
    h.check(uac2.wait(h.deadline.bound(35)) == 0, "not every cancelled call ended with 487")
    got_487 = [m for m in messages(h, "uac_cancel", "received", "SIP/2.0 487")]
    cancels = messages(h, "uas_ring", "received", "CANCEL ")
    ring_from = {via_port(m) for m in messages(h, "uas_ring", "received", "INVITE ")}
    fc.log(f"FIGURES: {len(got_487)} 487s to the caller, {len(cancels)} CANCELs at the "
           f"callee, B legs from {sorted(p for p in ring_from if p)}")
    h.check(len({header(m, "Call-ID|i") for m in got_487}) == CANCELLED,
            f"{len(got_487)} 487s for {CANCELLED} cancelled calls")
    h.check(len({header(m, "Call-ID|i") for m in cancels}) == CANCELLED,
            f"the callee saw {len(cancels)} CANCELs for {CANCELLED} calls")
    h.check(ring_from == homes, f"cancelled calls' B legs from {ring_from}, expected {homes}")

    # 4. Over TCP: one connection, so one thread.
    uac3 = h.start_uac(hold, ready["sip.tcp"], 10, TCP_CALLS, TCP_CALLS, 30, tag="uac_tcp",
                       service="17770000000", transport="tcp")
    h.check(uac3.wait(h.deadline.bound(35)) == 0, "not every call over TCP completed")
    tcp_from = {via_port(m) for m in messages(h, "uas_tcp", "received", "INVITE ")}
    fc.log(f"FIGURES: TCP B legs from {sorted(p for p in tcp_from if p)}")
    h.check(len(tcp_from) == 1 and tcp_from <= tcp_homes,
            f"TCP B legs from {tcp_from}, expected one of {tcp_homes}")

    # 5. One CDR per call, ended as it was.
    rows = h.sql("SELECT end_reason || ':' || count(*) FROM cdr GROUP BY end_reason "
                 "ORDER BY 1").split()
    fc.log(f"FIGURES: CDRs {rows}")
    want = [f"caller_bye:{ANSWERED + TCP_CALLS}", f"caller_cancel:{CANCELLED}"]
    h.check(sorted(rows) == sorted(want), f"CDRs {rows}, expected {want}")

    # 6. Both threads drain on SIGTERM.
    os.kill(daemon.pid, signal.SIGTERM)
    rc = daemon.wait(h.deadline.bound(15))
    h.check(rc == 0, f"softswitchd exit {rc} after SIGTERM, expected 0")


def main():
    return fc.main_with_shared_pg(NAME, __doc__, DEADLINE_S, run)


if __name__ == "__main__":
    sys.exit(main())
