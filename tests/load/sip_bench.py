#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""SIP load benchmark of softswitchd: call rate sweep and concurrent held calls (issue 7).

A benchmark, not a test: not registered with CTest. Everything runs on 127.0.0.1 with free
ports, and everything it starts is stopped by its PID at the end:

  1. a private PostgreSQL 15 cluster (fault_common.PrivatePg) with durable settings: fsync,
     synchronous_commit and full_page_writes on, plus the embedded cluster's tuning
     (cdr/embedded_postgres.cpp); `swctl db migrate`, then orig1 (127.0.0.1) -> route 1555 ->
     term1 = a SIPp UAS, and SS_SIP_SESSION_TTL = 90 (`swctl param set`);
  2. softswitchd (--log-level warn, its own spool and state dir, ready file, --sip-threads);
  3. sweep mode: one SIPp UAS (tests/sipp/scenarios/uas_answer.xml) for the whole sweep and,
     per rate, a fresh softswitchd and a fresh SIPp UAC (tests/fault/uac_call_hold.xml, 1 s
     hold, a different dialled number per call) placing RATE calls/s for STEP seconds; then one step at twice the highest sustained
     rate (overload). Sustained: every call completed, INVITE->200 p99 < 500 ms, SIPp kept
     95 % of the rate. Per step:
     calls attempted / completed / failed, INVITE->200 p50 and p99 (SIPp -trace_rtt),
     retransmissions (SIPp's Retransmissions(C), UAC and UAS), 503s received by the UAC
     (load shedding), datagrams the kernel dropped at each UDP socket (/proc/net/udp),
     softswitchd CPU % (utime+stime from /proc/PID/stat over the step; its sip-loop threads,
     the main thread and those named sip-loop-N, separately) and peak RSS (VmRSS sampled every 0.25 s), PostgreSQL CPU %
     (postmaster, its live children and the children it reaped), SIPp's own CPU %, the whole
     machine's CPU while the UAC places calls (/proc/stat, % of all cores: how near the VM is
     to saturation, which the per-process figures, averaged over the whole step, hide), and the CDR
     rows that landed for the step (waited for until the count stops changing and the spool is
     empty) against the completed calls;
  4. hold mode: per N, a fresh softswitchd, and a UAC / UAS pair made from the same two
     scenarios with RFC 4028 headers added (Supported: timer, Session-Expires: 90, Allow:
     UPDATE) and SIPp -aa (answers the switch's refresh UPDATEs with 200), so the switch runs
     the session timers of both legs: it refreshes each leg with UPDATE 67.5 s into the call
     (TTL 90, SS_SIP_SESSION_UPDATE_SEGMENT 4). N calls placed at --hold-rate, held long enough
     for every call to be refreshed inside the measuring window. Reported: RSS before, RSS
     with the calls up, RSS per call, softswitchd and PostgreSQL CPU % while they are held,
     refreshes answered, failures, CDR rows;
  5. prints a Markdown table per mode and writes them, with the machine (nproc, CPU model, RAM,
     load average before/after) and the exact command, into docs/benchmarks.md between the
     `<!-- sip_bench:begin -->` / `<!-- sip_bench:end -->` markers (the text around them is
     kept; the file is created if missing).

CPU % is of one core (100 % = one core busy all the time; the VM has `nproc` cores). The
processes' open-file limit is raised (RLIMIT_NOFILE) for SIPp and the switch.

Usage (from the repository root):
  python3 tests/load/sip_bench.py --build BUILD_DIR [--rates 200,500,1000,2000,3000]
      [--step-seconds 10] [--mode sweep|hold|all] [--hold-calls 10000,50000]
      [--hold-rate 1000] [--artifacts DIR] [--doc docs/benchmarks.md | --no-doc]

Exit status: 0 when the run finished (whatever the figures), 1 when it could not run.
Python 3 standard library only.
"""

import argparse
import glob
import math
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "fault"))
import fault_common as fc  # noqa: E402

NAME = "sip_bench"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024

# Durable: what production runs (cdr/embedded_postgres.cpp's tuning), not the tests' fsync=off.
DURABLE_PG_SETTINGS = {
    "fsync": "on", "synchronous_commit": "on", "full_page_writes": "on",
    "max_connections": "100", "shared_buffers": "256MB", "wal_buffers": "16MB",
    "max_wal_size": "4GB", "checkpoint_timeout": "15min",
    "checkpoint_completion_target": "0.9",
    # Each row's commit time (pg_xact_commit_timestamp): how long after a call's end its CDR
    # was committed (issue 5: durable within 100 ms of the end).
    "track_commit_timestamp": "on",
}
SESSION_TTL = 90        # default --session-ttl: SS_SIP_SESSION_TTL's minimum


def refresh_at_s(ttl):
    """When the switch refreshes a session, after the answer: default
    SS_SIP_SESSION_UPDATE_SEGMENT 4, so TTL - TTL/4 (67.5 s at TTL 90)."""
    return ttl - ttl / 4


SWEEP_HOLD_MS = 1000    # -d of the sweep's calls
SUSTAINED_P99_MS = 500  # below T1: no INVITE retransmission was needed
BUFF_SIZE = "8388608"   # SIPp -buff_size (the kernel caps it at net.core.[rw]mem_max)
NOFILE = 200000         # RLIMIT_NOFILE wanted for the children (SIPp, softswitchd)
DOC_BEGIN = "<!-- sip_bench:begin -->"
DOC_END = "<!-- sip_bench:end -->"


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", required=True, help="build dir (switch/softswitchd, swctl)")
    ap.add_argument("--rates", default="200,500,1000,2000,3000", help="calls/s per sweep step")
    ap.add_argument("--step-seconds", type=int, default=10, help="seconds of calls per step")
    ap.add_argument("--mode", choices=("sweep", "hold", "all"), default="all")
    ap.add_argument("--hold-calls", default="10000,50000", help="concurrent calls per hold run")
    ap.add_argument("--hold-rate", type=int, default=1000, help="calls/s placing held calls")
    ap.add_argument("--refresh", choices=("reinvite", "update"), default="reinvite",
                    help="how the switch refreshes the held calls' sessions (update: the peers "
                         "allow UPDATE and SIPp -aa answers it)")
    ap.add_argument("--session-ttl", type=int, default=SESSION_TTL,
                    help="SS_SIP_SESSION_TTL and the peers' Session-Expires, 90-86400 s "
                         "(default 90, the minimum: a refresh of every call in each hold run; "
                         "SPEC's default 1800 refreshes after the hold)")
    ap.add_argument("--sip-threads", type=int, default=1,
                    help="softswitchd --sip-threads (SIP threads; new calls spread by number)")
    ap.add_argument("--no-overload", action="store_true",
                    help="skip the step at twice the highest sustained rate")
    ap.add_argument("--artifacts", help="logs and SIPp files (default BUILD/sip_bench)")
    ap.add_argument("--doc", default=os.path.join(REPO, "docs", "benchmarks.md"))
    ap.add_argument("--no-doc", action="store_true", help="print the tables only")
    ap.add_argument("--max-minutes", type=float, default=60, help="bound of the whole run")
    ap.add_argument("--pg-setting", action="append", default=[], metavar="NAME=VALUE",
                    help="an extra PostgreSQL setting (repeatable), e.g. "
                         "log_min_duration_statement=100")
    ap.add_argument("--schema-dir", default=os.path.join(REPO, "schema"),
                    help="migrations for `swctl db migrate` (those the build expects)")
    ap.add_argument("--sipp", default=shutil.which("sipp") or "sipp")
    ap.add_argument("--switch-prefix", default="",
                    help="a command to run softswitchd under, e.g. 'heaptrack -o FILE' "
                         "(CPU and RSS are still read from the switch's own pid)")
    args = ap.parse_args()
    if not 90 <= args.session_ttl <= 86400:
        ap.error(f"--session-ttl {args.session_ttl}: allowed 90-86400")
    args.command = "python3 tests/load/sip_bench.py " + " ".join(
        shlex.quote(a) for a in sys.argv[1:])
    args.build = os.path.abspath(args.build)
    args.softswitchd = os.path.join(args.build, "switch", "softswitchd")
    args.swctl = os.path.join(args.build, "switch", "swctl", "swctl")
    args.schema_dir = os.path.abspath(args.schema_dir)
    args.scenarios = os.path.join(REPO, "tests", "sipp", "scenarios")
    args.artifacts = os.path.abspath(args.artifacts or os.path.join(args.build, "sip_bench"))
    args.name = "run"  # fc.Harness puts its files in ARTIFACTS/run
    args.rates = [int(r) for r in args.rates.split(",") if r]
    args.hold_calls = [int(n) for n in args.hold_calls.split(",") if n]
    return args


# ----------------------------------------------------------------------------------------------
# /proc: CPU time and memory of processes

def cpu_ticks(pid, children=False, thread=None):
    """utime+stime of `pid` in clock ticks (+ cutime+cstime, its reaped children, when asked;
    only its thread `thread` when given); None when the process is gone."""
    path = f"/proc/{pid}/task/{thread}/stat" if thread else f"/proc/{pid}/stat"
    try:
        with open(path) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # fields[0] is field 3 (state): utime = field 14, stime 15, cutime 16, cstime 17.
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks


def sip_loop_ticks(pid):
    """utime+stime of softswitchd's sip-loop threads: its main thread and those named
    sip-loop-N; None when the process is gone."""
    total = cpu_ticks(pid, thread=pid)
    if total is None:
        return None
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return None
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if name.startswith("sip-loop-"):
            total += cpu_ticks(pid, thread=tid) or 0
    return total


def ppid_of(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (FileNotFoundError, ProcessLookupError, ValueError, IndexError):
        return None


def pg_cpu_ticks(data_dir):
    """CPU ticks of a PostgreSQL cluster: the postmaster (with the children it has reaped) plus
    its live children (backends, walwriter, checkpointer, autovacuum, ...)."""
    with open(os.path.join(data_dir, "postmaster.pid")) as f:
        postmaster = int(f.readline())
    total = cpu_ticks(postmaster, children=True) or 0
    for entry in os.listdir("/proc"):
        if entry.isdigit() and ppid_of(int(entry)) == postmaster:
            total += cpu_ticks(int(entry)) or 0
    return total


def status_kib(pid, key):
    """A `kB` line of /proc/PID/status (VmRSS, VmHWM) in KiB; 0 when the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def machine_ticks():
    """(busy, total) clock ticks of all CPUs since boot (/proc/stat: idle and iowait are not
    busy)."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def machine_busy_percent(t0, t1):
    """% of all cores busy between two machine_ticks() readings."""
    total = t1[1] - t0[1]
    return 100.0 * (t1[0] - t0[0]) / total if total > 0 else None


class CpuMeter:
    """CPU % (of one core) of a set of processes between start() and stop()."""

    def __init__(self, read_ticks):
        self.read = read_ticks  # () -> ticks
        self.t0 = self.ticks0 = None
        self.last = None

    def start(self):
        self.t0, self.ticks0 = time.monotonic(), self.read()
        self.last = (self.t0, self.ticks0)

    def sample(self):
        """Keeps the latest reading (a process that exits keeps its last one)."""
        ticks = self.read()
        if ticks is not None:
            self.last = (time.monotonic(), ticks)

    def percent(self):
        t1, ticks1 = self.last
        if self.ticks0 is None or t1 <= self.t0:
            return None
        return 100.0 * (ticks1 - self.ticks0) / CLK_TCK / (t1 - self.t0)


# ----------------------------------------------------------------------------------------------
# SIPp files

def stat_rows(path):
    """Every row of a SIPp -trace_stat file as {column: value} (first line = header)."""
    try:
        with open(path) as f:
            lines = [line.rstrip("\n").split(";") for line in f if line.strip()]
    except FileNotFoundError:
        return []
    return [dict(zip(lines[0], row)) for row in lines[1:]] if lines else []


def stat_int(row, key):
    try:
        return int(row.get(key, "0") or 0)
    except ValueError:
        return 0


def rtt_ms(directory):
    """The response times (ms) of the `setup` RTD in SIPp's -trace_rtt file(s) under
    `directory` (SIPp names it SCENARIO_PID_rtt.csv), and the span (s) of their time stamps."""
    values, stamps = [], []
    for path in glob.glob(os.path.join(directory, "*_rtt.csv")):
        with open(path) as f:
            for line in f:
                parts = line.strip().split(";")
                if len(parts) == 3 and parts[2] == "setup":
                    try:
                        stamps.append(float(parts[0]))
                        values.append(float(parts[1]))
                    except ValueError:
                        continue
    span = (max(stamps) - min(stamps)) / 1000.0 if len(stamps) > 1 else 0.0
    return sorted(values), span


def refreshes(directory, stat_row, refresh):
    """Session refreshes this SIPp instance has answered so far: its AutoAnswered(C) (-aa,
    UPDATE), or the count of its scenario's refresh re-INVITE (-trace_counts: the column
    N_INVITE_Recv with N > 0)."""
    if refresh == "update":
        return stat_int(stat_row, "AutoAnswered(C)")
    total = 0
    for path in glob.glob(os.path.join(directory, "*_counts.csv")):
        rows = stat_rows(path)
        if rows:
            total += sum(stat_int(rows[-1], k) for k in rows[-1]
                         if re.fullmatch(r"[1-9][0-9]*_INVITE_Recv", k))
    return total


def percentile(sorted_values, p):
    """Nearest-rank percentile of an already sorted list; None when empty."""
    if not sorted_values:
        return None
    rank = max(1, int(-(-p * len(sorted_values) // 100)))  # ceil(p/100 * n)
    return sorted_values[min(rank, len(sorted_values)) - 1]


def calls_ended_by(error_log, code):
    """Calls the SIPp UAC aborted on an unexpected final response `code` (its -trace_err log
    has one such line per call; retransmissions of it to a dead call are not counted)."""
    try:
        with open(error_log, errors="replace") as f:
            text = f.read()
    except FileNotFoundError:
        return 0
    return len(re.findall(rf"Aborting call on unexpected message[^\n]*received 'SIP/2\.0 {code} ",
                          text))


def udp_drops(port):
    """Datagrams the kernel dropped for the UDP socket(s) bound to `port` (/proc/net/udp
    `drops`: the receive buffer was full), or None when no such socket exists."""
    total = None
    with open("/proc/net/udp") as f:
        next(f)
        for line in f:
            fields = line.split()
            if int(fields[1].split(":")[1], 16) == port:
                total = (total or 0) + int(fields[-1])
    return total


def count_in_file(path, needle):
    try:
        with open(path, "rb") as f:
            return f.read().count(needle.encode())
    except FileNotFoundError:
        return 0


# The switch's session refresh by re-INVITE, answered with the SDP this side already sent
# (the same o= version: nothing changes), then its ACK. Inserted into the hold scenarios.
REINVITE_ANSWER = """
  <!-- Session refresh by the switch (RFC 4028): a re-INVITE, 3/4 of the TTL after the answer. -->
  <recv request="INVITE"/>
  <send retrans="500">
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:{user}[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o={who} 53655765 2353687637 IN [local_ip_type] [local_ip]
      s={who}-{sdp_s}
      c=IN [media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP {codecs}
{rtpmaps}
    ]]>
  </send>
  <recv request="ACK" crlf="true"/>
"""


def timer_variant(src, dst, uac, refresh, ttl, count=1):
    """Writes `dst`: the scenario `src` with RFC 4028 headers added so that the switch runs a
    session timer on that leg and is its refresher: the UAC's INVITE says Supported: timer,
    Session-Expires: TTL;refresher=uas; the UAS's 200 says Require: timer, Session-Expires:
    TTL;refresher=uac. With refresh="reinvite" the scenario answers `count` refresh re-INVITEs
    after the ACK (the -d pause comes after them); with refresh="update" both sides allow UPDATE and
    SIPp -aa answers the refresh UPDATEs during the pause. The sweep uses the files as they
    are (no session timer)."""
    with open(src) as f:
        text = f.read()
    indent = "      "
    allow = f"{indent}Allow: INVITE, ACK, CANCEL, BYE, UPDATE\n" if refresh == "update" else ""
    if uac:
        anchor = f"{indent}Subject: softswitch test call\n"
        extra = (f"{indent}Supported: timer\n{indent}Session-Expires: {ttl};"
                 f"refresher=uas\n" + allow)
        after_ack = "  <!-- Hold time (the CDR's hold_ms is about this long). -->\n"
        answer = REINVITE_ANSWER.format(
            user="15550001000@", who="caller", sdp_s="offer", codecs="0 8",
            rtpmaps=f"{indent}a=rtpmap:0 PCMU/8000\n{indent}a=rtpmap:8 PCMA/8000")
    else:
        anchor = f"{indent}Content-Type: application/sdp\n"  # only in the 200 OK
        extra = (f"{indent}Require: timer\n{indent}Session-Expires: {ttl};"
                 f"refresher=uac\n" + allow)
        after_ack = '  <recv request="BYE"/>\n'
        answer = REINVITE_ANSWER.format(user="", who="callee", sdp_s="answer", codecs="0",
                                        rtpmaps=f"{indent}a=rtpmap:0 PCMU/8000")
    for needle in (anchor, after_ack):
        if text.count(needle) != 1:
            raise fc.TestFailure(f"{src}: expected one '{needle.strip()}' line")
    text = text.replace(anchor, anchor + extra)
    if refresh == "reinvite":
        text = text.replace(after_ack, answer.lstrip("\n") * count + "\n" + after_ack)
    with open(dst, "w") as f:
        f.write(text)
    return dst


# ----------------------------------------------------------------------------------------------
# The bench: processes, provisioning, CDR counts

class Bench(fc.Harness):
    """fc.Harness (spawn by PID, swctl, psql, provisioning, cleanup) with the load pieces: the
    switch at --log-level warn, SIPp with big buffers and statistics but no message log."""

    def __init__(self, args, pg):
        super().__init__(args, args.max_minutes * 60)
        self.pg = pg
        self.daemon = None
        self.switch_pid = None
        self.daemon_dir = None
        self.uas = None
        self.uas_port = None
        self.uas_dir = None

    def spawn_in(self, name, argv, cwd):
        """A process logging to CWD/NAME.out with CWD as its working directory (SIPp writes its
        -trace_rtt file there)."""
        os.makedirs(cwd, exist_ok=True)
        p = fc.Proc(name, argv, os.path.join(cwd, f"{name}.out"), cwd, self.env)
        self.procs.append(p)
        return p

    def stop_proc(self, proc, grace=10):
        if proc is not None:
            rc = proc.stop(signal.SIGTERM, grace=grace)
            if proc in self.procs:
                self.procs.remove(proc)
            return rc
        return None

    def stop_switch(self, grace):
        """Stops softswitchd; a wrapper (--switch-prefix) need not pass the signal on, so the
        switch gets it directly. Returns the exit status of what was started."""
        if self.daemon is not None and self.args.switch_prefix and self.daemon.running():
            try:
                os.kill(self.switch_pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        return self.stop_proc(self.daemon, grace=grace)

    def start_switch(self, tag):
        """A fresh softswitchd (stopping the previous one); waits for its ready file. Returns
        its SIP address."""
        self.stop_switch(grace=15)
        d = self.daemon_dir = os.path.join(self.dir, tag)
        os.makedirs(d, exist_ok=True)
        ready = os.path.join(d, "softswitchd.ready")
        argv = shlex.split(self.args.switch_prefix) + [
                self.args.softswitchd, "--db", self.dsn, "--sip", "udp:127.0.0.1:0",
                "--node", "bench", "--spool", os.path.join(d, "spool"),
                "--state-dir", os.path.join(d, "state"), "--log-level", "warn",
                "--ready-file", ready, "--drain-seconds", "5",
                "--sip-threads", str(self.args.sip_threads)]
        os.makedirs(os.path.join(d, "spool"), exist_ok=True)
        self.daemon = self.spawn_in("softswitchd", argv, d)
        info = {}
        while "pid" not in info or "sip.udp" not in info:
            if not self.daemon.running():
                raise fc.TestFailure(f"softswitchd exited ({self.daemon.popen.returncode}) "
                                     f"before it was ready:\n{fc.tail(self.daemon.log_path, 30)}")
            if self.deadline.left() <= 0:
                raise fc.TestFailure("deadline passed waiting for the softswitchd ready file")
            time.sleep(0.05)
            if os.path.exists(ready):
                with open(ready) as f:
                    info = dict(line.strip().split("=", 1) for line in f if "=" in line)
        # The switch's own pid (its ready file): with --switch-prefix, self.daemon is the
        # wrapper, and the figures must still be the switch's.
        self.switch_pid = int(info["pid"])
        log(f"softswitchd pid {self.switch_pid} ready on udp {info['sip.udp']}")
        return info["sip.udp"]

    def sipp_common(self, tag, cwd):
        return ["-i", "127.0.0.1", "-t", "u1", "-nostdin", "-buff_size", BUFF_SIZE,
                "-trace_err", "-error_file", os.path.join(cwd, f"{tag}_errors.log"),
                "-trace_stat", "-stf", os.path.join(cwd, f"{tag}_stat.csv"), "-fd", "1"]

    def start_uas(self, tag, scenario, timeout_s, extra=()):
        """The SIPp UAS (term1) on the port term1 is provisioned with (chosen at the first
        start); waits until it is bound. Stops the previous UAS first."""
        self.stop_proc(self.uas)
        if self.uas_port is None:
            self.uas_port = fc.free_port(["udp"])
        self.uas_dir = os.path.join(self.dir, tag)
        argv = [self.args.sipp, "-sf", scenario, "-bind_local", "-p", str(self.uas_port),
                "-timeout", f"{int(timeout_s)}s", *self.sipp_common("uas", self.uas_dir),
                *extra]
        self.uas = self.spawn_in("uas", argv, self.uas_dir)
        t_end = time.monotonic() + 10
        while not fc.port_bound("udp", "127.0.0.1", self.uas_port):
            if not self.uas.running() or time.monotonic() > t_end:
                raise fc.TestFailure(f"the SIPp UAS did not bind 127.0.0.1:{self.uas_port}:\n"
                                     f"{fc.tail(self.uas.log_path, 20)}")
            time.sleep(0.02)
        log(f"UAS ({os.path.basename(scenario)}) pid {self.uas.pid} on udp "
            f"127.0.0.1:{self.uas_port}")

    def start_uac(self, cwd, scenario, target, rate, calls, limit, hold_ms, timeout_s,
                  extra=()):
        port = fc.free_port(["udp"])
        argv = [self.args.sipp, "-sf", scenario, "-s", "15551234567", target,
                "-p", str(port), "-bind_local",
                "-r", str(rate), "-rp", "1000", "-m", str(calls), "-l", str(limit),
                "-d", str(hold_ms), "-timeout", f"{int(timeout_s)}s",
                *self.sipp_common("uac", cwd), *extra]
        proc = self.spawn_in("uac", argv, cwd)
        proc.port = port
        return proc

    def uas_stats(self):
        rows = stat_rows(os.path.join(self.uas_dir, "uas_stat.csv"))
        return rows[-1] if rows else {}

    def cdr_counts(self):
        """(all CDR rows, rows of calls the caller ended with BYE)."""
        out = self.sql("SELECT count(*), count(*) FILTER (WHERE end_reason = 'caller_bye') "
                       "FROM cdr", timeout=60)
        total, bye = out.split("|")
        return int(total), int(bye)

    def cdr_marker(self):
        """The highest CDR id so far: the rows of a step are those above it."""
        return int(self.sql("SELECT coalesce(max(id), 0) FROM cdr", timeout=60))

    def commit_lag(self, after_id):
        """(p50, p99, max) in ms of commit time - end_at over the CDRs with id > after_id: how
        long a call's CDR took to be committed after the call ended. Rows replayed from the
        spool count from their replay."""
        out = self.sql(
            "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY d), "
            "percentile_disc(0.99) WITHIN GROUP (ORDER BY d), max(d) FROM ("
            "SELECT extract(epoch FROM pg_xact_commit_timestamp(xmin) - end_at) * 1000 AS d "
            f"FROM cdr WHERE id > {int(after_id)}) s", timeout=60)
        vals = [float(v) if v else None for v in out.split("|")]
        return tuple(vals) if len(vals) == 3 else (None, None, None)

    def wait_cdrs(self, bound_s, quiet_s=6.0):
        """Polls the CDR count until it has not changed for `quiet_s` and the switch's spool
        is empty (a failed batch waits there for its retry), or `bound_s` passed; `quiet_s`
        is above the sink's 5 s statement timeout, so one slow batch is waited for. Returns
        (counts, seconds waited, stable?)."""
        t0 = time.monotonic()
        last, since = None, t0
        while True:
            counts = self.cdr_counts()
            now = time.monotonic()
            if counts != last:
                last, since = counts, now
            elif now - since >= quiet_s and self.spool_lines() == 0:
                return counts, now - t0, True
            if now - t0 >= self.deadline.bound(bound_s):
                return counts, now - t0, False
            time.sleep(0.5)

    def spool_lines(self):
        """CDRs in the running switch's spool (the database did not take them yet)."""
        return sum(count_in_file(path, "\n")
                   for path in glob.glob(os.path.join(self.daemon_dir, "spool", "cdr.spool*")))


def provision(b):
    b.dsn = fc.dsn_with_dbname(b.pg.url, "softswitch")
    fc.psql(b.pg.url, 'CREATE DATABASE "softswitch"')
    b.uas_port = fc.free_port(["udp"])
    b.provision(b.uas_port)  # migrate; orig1, term1 = 127.0.0.1:uas_port, route 1555
    b.swctl("param", "set", "SS_SIP_SESSION_TTL", str(b.args.session_ttl))


# ----------------------------------------------------------------------------------------------
# Sweep mode

def run_step(b, target, rate, seconds, label):
    """One sweep step: a fresh UAC placing RATE calls/s for SECONDS s (1 s hold each) through
    the running switch and UAS. Returns the step's figures."""
    calls = rate * seconds
    cwd = os.path.join(b.dir, f"step-{label}")
    os.makedirs(cwd, exist_ok=True)
    scenario = fc.numbered_scenario(os.path.join(REPO, "tests", "fault", "uac_call_hold.xml"),
                                    os.path.join(cwd, "uac_call_hold_numbered.xml"))
    cdr0, _, _ = b.wait_cdrs(5, quiet_s=1.0)
    marker = b.cdr_marker()
    uas0 = b.uas_stats()
    sw_port = int(target.rsplit(":", 1)[1])
    drops0 = (udp_drops(sw_port), udp_drops(b.uas_port))
    sw = CpuMeter(lambda: cpu_ticks(b.switch_pid))
    # softswitchd's main thread runs the first sip-loop, threads named sip-loop-N the others
    # (--sip-threads, switch/main.cpp): one core at most each.
    loop = CpuMeter(lambda: sip_loop_ticks(b.switch_pid))
    pg = CpuMeter(lambda: pg_cpu_ticks(b.pg.data))
    uas = CpuMeter(lambda: cpu_ticks(b.uas.pid))
    for m in (sw, loop, pg, uas):
        m.start()
    timeout_s = seconds + SWEEP_HOLD_MS / 1000 + 45
    uac = b.start_uac(cwd, scenario, target, rate, calls, calls, SWEEP_HOLD_MS, timeout_s,
                      ["-trace_rtt", "-rtt_freq", "1"])
    uacm = CpuMeter(lambda: cpu_ticks(uac.pid))
    uacm.start()
    # The machine while the UAC places calls (its first `seconds`), not the tail of the step.
    placing_end = time.monotonic() + seconds
    machine0, machine1 = machine_ticks(), None
    uac_drops = 0  # its socket closes when it exits: the last reading
    peak_rss = 0
    t_end = time.monotonic() + timeout_s + 15
    while uac.running() and time.monotonic() < t_end:
        if machine1 is None and time.monotonic() >= placing_end:
            machine1 = machine_ticks()
        peak_rss = max(peak_rss, status_kib(b.switch_pid, "VmRSS"))
        uacm.sample()  # the others are read at the end (PostgreSQL: a /proc scan)
        uac_drops = udp_drops(uac.port) or uac_drops
        time.sleep(0.25)
    for m in (sw, loop, pg, uas):
        m.sample()
    machine1 = machine1 or machine_ticks()
    drops1 = (udp_drops(sw_port), udp_drops(b.uas_port))
    rc = uac.wait(0.1)
    if rc is None:
        log(f"step {label}: the UAC is still running {timeout_s + 15:.0f} s later: stopping it")
        rc = b.stop_proc(uac)
    else:
        b.stop_proc(uac)  # closes its log
    wall = time.monotonic() - sw.t0
    (cdr_total, cdr_bye), waited, stable = b.wait_cdrs(90 if label.endswith("overload") else 45)
    rows = stat_rows(os.path.join(cwd, "uac_stat.csv"))
    last = rows[-1] if rows else {}
    rtts, span = rtt_ms(cwd)
    uas1 = b.uas_stats()
    step = {
        "label": label, "rate": rate, "calls": calls, "rc": rc, "wall": wall,
        "created": stat_int(last, "TotalCallCreated"),
        "ok": stat_int(last, "SuccessfulCall(C)"),
        "failed": stat_int(last, "FailedCall(C)"),
        "f_timeout": stat_int(last, "FailedTimeoutOnRecv(C)"),
        "f_unexpected": stat_int(last, "FailedUnexpectedMessage(C)"),
        "f_retrans": stat_int(last, "FailedMaxUDPRetrans(C)"),
        "retrans_uac": stat_int(last, "Retransmissions(C)"),
        "retrans_uas": stat_int(uas1, "Retransmissions(C)") - stat_int(uas0, "Retransmissions(C)"),
        "n503": calls_ended_by(os.path.join(cwd, "uac_errors.log"), 503),
        "p50": percentile(rtts, 50), "p99": percentile(rtts, 99), "max": rtts[-1] if rtts else None,
        "achieved": (len(rtts) - 1) / span if span > 0 else None,
        "sw_cpu": sw.percent(), "loop_cpu": loop.percent(), "pg_cpu": pg.percent(),
        "uac_cpu": uacm.percent(),
        "uas_cpu": uas.percent(), "peak_rss": peak_rss,
        "machine_busy": machine_busy_percent(machine0, machine1),
        "cdr": cdr_total - cdr0[0], "cdr_bye": cdr_bye - cdr0[1], "cdr_wait": waited,
        "cdr_stable": stable, "spool": b.spool_lines(),
        "drops": (drops1[0] - drops0[0], drops1[1] - drops0[1], uac_drops),
        "commit_lag": b.commit_lag(marker),
    }
    step["switch_exit"] = b.daemon.popen.poll()  # None: still running, as it should be
    # Sustained: every call completed, none needed an INVITE retransmission, SIPp kept the rate.
    step["sustained"] = (step["switch_exit"] is None and step["ok"] == calls
                         and step["failed"] == 0 and step["p99"] is not None
                         and step["p99"] < SUSTAINED_P99_MS
                         and step["achieved"] is not None and step["achieved"] >= 0.95 * rate)
    log(f"step {label}: {step}")
    return step


def sweep(b, args):
    """The rate steps, each through a fresh softswitchd (so that no step inherits the last
    one's gateway health, retained memory or transactions), then the overload step."""
    uas_calls_bound = sum(args.rates) * args.step_seconds * 3 + 10
    b.start_uas("sweep-uas", os.path.join(args.scenarios, "uas_answer.xml"),
                timeout_s=args.max_minutes * 60, extra=["-m", str(uas_calls_bound)])
    steps = []
    for rate in args.rates:
        target = b.start_switch(f"sweep-{rate}")
        steps.append(run_step(b, target, rate, args.step_seconds, str(rate)))
        if steps[-1]["switch_exit"] is not None:
            log(f"softswitchd exited ({steps[-1]['switch_exit']}): sweep stopped")
            break
    sustained = [s["rate"] for s in steps if s["sustained"]]
    if sustained and not args.no_overload:
        over = 2 * max(sustained)
        log(f"highest sustained rate {max(sustained)} calls/s: overload step at {over}")
        target = b.start_switch(f"sweep-{over}-overload")
        steps.append(run_step(b, target, over, args.step_seconds, f"{over}-overload"))
    elif not sustained:
        log("no step was sustained: no overload step")
    b.stop_proc(b.uas)
    b.uas = None
    return steps


# ----------------------------------------------------------------------------------------------
# Hold mode

def hold(b, args, n):
    """N concurrent calls with session timers: RSS before and with them up, CPU while held."""
    d = os.path.join(b.dir, f"hold-{n}")
    os.makedirs(d, exist_ok=True)
    rate = args.hold_rate
    ramp_s = n / rate
    # The measuring window runs from "all up" (ramp_s + 3) to 2 s before the first call's BYE
    # and lasts at least one refresh period, so it holds one refresh of each leg of every call.
    # With re-INVITE refreshes the scenarios answer K of them (every refresh_at after the
    # answer), then pause -d (< refresh_at: no refresh K+1) and the caller sends BYE. With
    # UPDATE (-aa) the pause itself spans the refreshes. A session TTL so long that no refresh
    # falls in ~70 s of window: no refresh at all, the calls end before their first.
    refresh_at = refresh_at_s(args.session_ttl)
    if ramp_s + 72.5 < refresh_at:
        k = 0
        pause_s = first_bye_s = ramp_s + 72.5
    elif args.refresh == "reinvite":
        k = max(1, math.ceil((ramp_s + 12.5) / refresh_at))
        pause_s = max(10.0, ramp_s + 72.5 - k * refresh_at)
        first_bye_s = k * refresh_at + pause_s
    else:
        k = 0
        pause_s = first_bye_s = ramp_s + 10 + refresh_at
    uac_sf = timer_variant(os.path.join(REPO, "tests", "fault", "uac_call_hold.xml"),
                           os.path.join(d, "uac_call_hold_timer.xml"), True, args.refresh,
                           args.session_ttl, k)
    uac_sf = fc.numbered_scenario(uac_sf, os.path.join(d, "uac_call_hold_timer_numbered.xml"))
    uas_sf = timer_variant(os.path.join(args.scenarios, "uas_answer.xml"),
                           os.path.join(d, "uas_answer_timer.xml"), False, args.refresh,
                           args.session_ttl, k)
    log(f"hold {n}: {rate} calls/s ({ramp_s:.0f} s), {k} refresh re-INVITEs per call, "
        f"-d {pause_s:.1f} s, first BYE at {first_bye_s:.0f} s")
    run_bound = ramp_s * 2 + first_bye_s + 60
    target = b.start_switch(f"hold-{n}-switch")
    b.start_uas(f"hold-{n}-uas", uas_sf, timeout_s=run_bound + 30,
                extra=["-aa", "-trace_counts"])
    time.sleep(3)
    rss_before = status_kib(b.switch_pid, "VmRSS")
    cdr0, _, _ = b.wait_cdrs(5, quiet_s=1.0)
    uac = b.start_uac(d, uac_sf, target, rate, n, n, int(pause_s * 1000), run_bound,
                      ["-aa", "-trace_counts", "-trace_rtt", "-rtt_freq", "1"])
    t_start = time.monotonic()
    stat_path = os.path.join(d, "uac_stat.csv")

    # Placing: until every call is up (or failed), or the ramp took 3x longer than planned.
    up, peak_up, t_up = 0, 0, None
    while uac.running() and time.monotonic() < t_start + max(3 * ramp_s, ramp_s + 60):
        rows = stat_rows(stat_path)
        last = rows[-1] if rows else {}
        up = stat_int(last, "CurrentCall")
        peak_up = max(peak_up, up)
        if stat_int(last, "TotalCallCreated") >= n and up + stat_int(last, "FailedCall(C)") \
                + stat_int(last, "SuccessfulCall(C)") >= n:
            t_up = time.monotonic()
            break
        time.sleep(1)
    place_s = (t_up or time.monotonic()) - t_start
    log(f"hold {n}: {up} calls up after {place_s:.1f} s")

    # Held: from 3 s after "all up" to 2 s before the first call's BYE.
    time.sleep(3)
    win_end = t_start + first_bye_s - 2
    sw = CpuMeter(lambda: cpu_ticks(b.switch_pid))
    pg = CpuMeter(lambda: pg_cpu_ticks(b.pg.data))
    for m in (sw, pg):
        m.start()
    a0 = refreshes(d, (stat_rows(stat_path) or [{}])[-1], args.refresh)
    b0 = refreshes(b.uas_dir, b.uas_stats(), args.refresh)
    rss_samples = []
    while time.monotonic() < win_end and uac.running():
        rss_samples.append(status_kib(b.switch_pid, "VmRSS"))
        time.sleep(1)
    for m in (sw, pg):
        m.sample()
    window_s = time.monotonic() - sw.t0
    rows = stat_rows(stat_path)
    held = stat_int(rows[-1] if rows else {}, "CurrentCall")
    ref_a = refreshes(d, rows[-1] if rows else {}, args.refresh) - a0
    ref_b = refreshes(b.uas_dir, b.uas_stats(), args.refresh) - b0
    rss_up = max(rss_samples) if rss_samples else status_kib(b.switch_pid, "VmRSS")
    rss_up_median = sorted(rss_samples)[len(rss_samples) // 2] if rss_samples else rss_up
    log(f"hold {n}: window {window_s:.0f} s, {held} calls held, RSS {rss_up} KiB, "
        f"refreshes A {ref_a} B {ref_b}")

    # Ending: the BYEs go out at the placing rate; then the CDRs.
    if uac.wait(b.deadline.bound(max(0.0, t_start + run_bound + 10 - time.monotonic()))) is None:
        log(f"hold {n}: the UAC did not finish in time: stopping it")
    rc = b.stop_proc(uac)  # closes its log; SIGTERM only if it still runs
    (cdr_total, cdr_bye), waited, stable = b.wait_cdrs(120)
    rows = stat_rows(stat_path)
    last = rows[-1] if rows else {}
    rtts, _ = rtt_ms(d)
    result = {
        "n": n, "rate": rate, "rc": rc, "place_s": place_s, "peak_up": peak_up,
        "held": held, "all_up": t_up is not None, "window_s": window_s,
        "rss_before": rss_before, "rss_up": rss_up, "rss_up_median": rss_up_median,
        "rss_after": status_kib(b.switch_pid, "VmRSS"),
        "sw_cpu": sw.percent(), "pg_cpu": pg.percent(), "ref_a": ref_a, "ref_b": ref_b,
        "created": stat_int(last, "TotalCallCreated"), "ok": stat_int(last, "SuccessfulCall(C)"),
        "failed": stat_int(last, "FailedCall(C)"),
        "retrans": stat_int(last, "Retransmissions(C)"),
        "p50": percentile(rtts, 50), "p99": percentile(rtts, 99),
        "cdr": cdr_total - cdr0[0], "cdr_bye": cdr_bye - cdr0[1], "cdr_wait": waited,
        "cdr_stable": stable,
    }
    result["switch_exit"] = b.daemon.popen.poll()  # None: still running, as it should be
    result["kib_per_call"] = ((rss_up_median - rss_before) / held) if held else None
    log(f"hold {n}: {result}")
    return result


# ----------------------------------------------------------------------------------------------
# Report

def fmt(v, spec="{:.0f}", none="–"):
    return none if v is None else spec.format(v)


def sweep_table(steps):
    head = ("| target calls/s | achieved calls/s | attempted | completed | failed | "
            "INVITE→200 p50 / p99 / max (ms) | retransmissions UAC / UAS | "
            "UDP drops switch / UAS / UAC | 503 | "
            "softswitchd CPU % (its sip-loop threads) | peak RSS (MiB) | PostgreSQL CPU % | "
            "SIPp CPU % UAC / UAS | machine CPU busy while placing (% of all cores) | "
            "CDR rows (caller BYE) vs completed | CDR committed after the call's end p50 / p99 / "
            "max (ms) |")
    lines = [head, "|" + "|".join(["---"] * (head.count("|") - 1)) + "|"]
    for s in steps:
        failed = str(s["failed"])
        if s["failed"]:
            failed += (f" (timeout {s['f_timeout']}, unexpected {s['f_unexpected']}, "
                       f"max retrans {s['f_retrans']})")
        cdr_ok = "=" if s["cdr"] == s["ok"] == s["cdr_bye"] else "≠"
        cdr = f"{s['cdr']} ({s['cdr_bye']}) {cdr_ok} {s['ok']}"
        if not s["cdr_stable"]:
            cdr += " (still changing)"
        if s["spool"]:
            cdr += f", {s['spool']} spooled"
        label = f"{s['rate']}" + (" (2× overload)" if s["label"].endswith("overload") else "")
        lines.append(
            f"| {label} | {fmt(s['achieved'])} | {s['created']} | {s['ok']} | {failed} | "
            f"{fmt(s['p50'])} / {fmt(s['p99'])} / {fmt(s['max'])} | "
            f"{s['retrans_uac']} / {s['retrans_uas']} | "
            f"{s['drops'][0]} / {s['drops'][1]} / {s['drops'][2]} | "
            f"{s['n503']} | {fmt(s['sw_cpu'])} ({fmt(s['loop_cpu'])}) | "
            f"{s['peak_rss'] / 1024:.0f} | {fmt(s['pg_cpu'])} | "
            f"{fmt(s['uac_cpu'])} / {fmt(s['uas_cpu'])} | {fmt(s.get('machine_busy'))} | "
            f"{cdr} | "
            f"{' / '.join(fmt(v) for v in s.get('commit_lag', (None,) * 3))} |")
    return "\n".join(lines)


def died(rows):
    """Notes under a table for the runs in which softswitchd exited."""
    notes = [f"softswitchd exited during the {r.get('label') or r.get('n')} run "
             f"(status {r['switch_exit']}; see its log in the artifacts)"
             for r in rows if r.get("switch_exit") is not None]
    return "".join(f"\n\n**{note}.**" for note in notes)


def hold_table(results):
    head = ("| calls | placed at calls/s | held in the window (time to place) | RSS before (MiB) | "
            "RSS with calls up (MiB) | RSS per call (KiB) | softswitchd CPU % while held | "
            "PostgreSQL CPU % while held | refreshes answered A / B in the window | "
            "INVITE→200 p50 / p99 (ms) | completed / failed / retransmissions | "
            "CDR rows vs completed |")
    lines = [head, "|" + "|".join(["---"] * (head.count("|") - 1)) + "|"]
    for r in results:
        up = f"{r['held']}" + (f", peak {r['peak_up']}," if r["peak_up"] > r["held"] else "")
        cdr_ok = "=" if r["cdr"] == r["ok"] == r["cdr_bye"] else "≠"
        lines.append(
            f"| {r['n']} | {r['rate']} | {up} ({r['place_s']:.0f} s) | "
            f"{r['rss_before'] / 1024:.0f} | {r['rss_up_median'] / 1024:.0f} | "
            f"{fmt(r['kib_per_call'], '{:.1f}')} | {fmt(r['sw_cpu'], '{:.1f}')} | "
            f"{fmt(r['pg_cpu'], '{:.1f}')} | {r['ref_a']} / {r['ref_b']} "
            f"({r['window_s']:.0f} s) | {fmt(r['p50'])} / {fmt(r['p99'])} | "
            f"{r['ok']} / {r['failed']} / {r['retrans']} | "
            f"{r['cdr']} {cdr_ok} {r['ok']}{'' if r['cdr_stable'] else ' (still changing)'} |")
    return "\n".join(lines)


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kib = status_line("/proc/meminfo", "MemTotal")
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_gib": mem_kib / 1024 / 1024,
            "kernel": platform.release(), "load": os.getloadavg()}


def status_line(path, key):
    with open(path) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def versions(args):
    out = {}
    for name, argv in (("sipp", [args.sipp, "-v"]), ("postgres", [f"{fc.PGBIN}/postgres",
                                                                   "--version"])):
        try:
            text = subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout
            line = next((x.strip() for x in text.splitlines() if "SIPp" in x or "postgres" in x),
                        "")
            out[name] = line.rstrip(".")
        except (OSError, subprocess.SubprocessError):
            out[name] = "?"
    return out


def report(args, m0, m1, started, steps, holds, vers):
    load0 = " ".join(f"{x:.2f}" for x in m0["load"])
    load1 = " ".join(f"{x:.2f}" for x in m1["load"])
    rmem = open("/proc/sys/net/core/rmem_max").read().strip()
    parts = [
        f"Run of {started} UTC: `{args.command}`",
        "",
        f"- Machine: {m0['nproc']} vCPUs ({m0['cpu']}), {m0['ram_gib']:.1f} GiB RAM, Linux "
        f"{m0['kernel']}; {vers.get('sipp', '')}; {vers.get('postgres', '')}.",
        f"- Load average (1, 5, 15 min) before: {load0}; after: {load1}.",
        f"- PostgreSQL: private cluster, durable: "
        + ", ".join(f"{k}={v}" for k, v in DURABLE_PG_SETTINGS.items()) + ".",
        f"- softswitchd `--log-level warn --sip-threads {args.sip_threads}`; "
        f"SS_SIP_SESSION_TTL={args.session_ttl}; a different dialled number per call; SIPp "
        f"`-buff_size {BUFF_SIZE}` (capped by net.core.rmem_max = {rmem}); CPU % = of one core.",
    ]
    if steps:
        parts += ["", f"### Sweep ({args.step_seconds} s of calls per step, "
                      f"{SWEEP_HOLD_MS} ms hold)", "", sweep_table(steps) + died(steps)]
    if holds:
        how = "UPDATE" if args.refresh == "update" else "re-INVITE"
        parts += ["", f"### Held calls (session timers on both legs, the switch refreshes "
                      f"each by {how} every {refresh_at_s(args.session_ttl):g} s)", "",
                  hold_table(holds) + died(holds)]
    return "\n".join(parts) + "\n"


DOC_INTRO = """# Benchmarks

Figures measured on the project's 2-vCPU VM. The CDR ingest and `swctl cdr stats` figures are
in [tests/load/README.md](../tests/load/README.md) (`cdr_bench`, `stats_bench.sh`).

## SIP load: `tests/load/sip_bench.py`

softswitchd between two SIPp instances on 127.0.0.1, with a private durable PostgreSQL 15 for
the CDRs: a sweep of call rates (1 s calls), then calls held concurrently with session timers.
See the script's docstring for what each column measures. The section between the markers is
rewritten by the script.

"""


def write_doc(path, section):
    block = f"{DOC_BEGIN}\n{section}{DOC_END}\n"
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
        if DOC_BEGIN in text and DOC_END in text:
            head, _, rest = text.partition(DOC_BEGIN)
            _, _, tail_ = rest.partition(DOC_END)
            text = head + block + tail_.lstrip("\n")
        else:
            text = text.rstrip("\n") + "\n\n" + block
    else:
        text = DOC_INTRO + block
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    log(f"wrote {path}")


# ----------------------------------------------------------------------------------------------

def raise_nofile():
    """Raises RLIMIT_NOFILE for the children (inherited): as far as root may, else the hard
    limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for want in (NOFILE, hard):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(want, hard)))
            break
        except (ValueError, OSError):
            continue
    log(f"RLIMIT_NOFILE {soft}/{hard} -> {resource.getrlimit(resource.RLIMIT_NOFILE)}")


def main():
    args = parse_args()
    for tool in (args.softswitchd, args.swctl):
        if not os.access(tool, os.X_OK):
            print(f"{tool} not found: build it (cmake --build BUILD --target softswitchd swctl)")
            return 1
    for tool in (args.sipp, "psql", f"{fc.PGBIN}/initdb", f"{fc.PGBIN}/pg_ctl"):
        if shutil.which(tool) is None:
            print(f"{tool} not found (bash packaging/install-deps.sh)")
            return 1
    raise_nofile()
    m0 = machine()
    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    vers = versions(args)
    os.makedirs(args.artifacts, exist_ok=True)
    b = Bench(args, None)
    b.pg = fc.PrivatePg(b.dir, {**DURABLE_PG_SETTINGS,
                                **dict(kv.split("=", 1) for kv in args.pg_setting)})
    steps, holds = [], []

    def body():
        b.pg.init()
        b.pg.start()
        provision(b)
        if args.mode in ("sweep", "all"):
            steps.extend(sweep(b, args))
        sustained = [s["rate"] for s in steps if s["sustained"]]
        if sustained and args.hold_rate > max(sustained):
            log(f"held calls placed at {max(sustained)} calls/s (the highest sustained rate)")
            args.hold_rate = max(sustained)
        if args.mode in ("hold", "all"):
            for n in args.hold_calls:
                holds.append(hold(b, args, n))
        b.stop_proc(b.uas)
        rc = b.stop_switch(grace=30)
        log(f"softswitchd exit {rc}")

    status = 1
    try:
        body()
        status = 0
    except Exception as e:  # report, still stop everything and print what was measured
        log(f"ERROR: {type(e).__name__}: {e}")
        traceback.print_exc()
        if b.daemon is not None:
            print(f"--- softswitchd.out (last 30 lines) ---\n{fc.tail(b.daemon.log_path, 30)}")
    finally:
        b.cleanup()
        b.pg.destroy()
    m1 = machine()
    if steps or holds:
        section = report(args, m0, m1, started, steps, holds, vers)
        print("\n" + section, flush=True)
        if not args.no_doc:
            write_doc(os.path.abspath(args.doc), section)
    log(f"artifacts in {b.dir}")
    return status


if __name__ == "__main__":
    sys.exit(main())
