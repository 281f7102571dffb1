#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""End-to-end SIPp case runner for softswitchd (CTest label `sipp`).

One case = one manifest in tests/sipp/cases/NAME.json. For each case this script:
  1. creates a fresh PostgreSQL database (random name) on the cluster given by SS_TEST_PG_URL
     and runs `swctl db migrate` on it;
  2. starts the UAS SIPp instances (the termination gateways) on free 127.0.0.1 ports and waits
     until their sockets are bound (or, instead of SIPp, a silent UDP sink or a refused TCP
     port);
  3. provisions gateways and routes with swctl (before the daemon starts: it loads them once);
  4. starts softswitchd on OS-assigned ports and waits for its ready file (then any PUBLISH
     steps and waits for requests at silent gateways);
  5. runs the UAC SIPp against the switch and checks its exit code (the scenario encodes the
     expected final response and the SDP it must see);
  6. polls the cdr/cdr_attempt rows until present and checks them against the manifest, and
     `swctl cdr query` for the same call;
  7. SIGTERMs the daemon (exit 0 expected), checks the CDR count again (no duplicates; none at
     all for a case that expects no CDR), waits for the UAS instances and drops the database.
Only processes this script started are signalled, by PID. Logs go to ARTIFACTS/<case>/.

Exit status: 0 pass, 1 fail, 77 skipped (no SS_TEST_PG_URL outside CI).
Python 3 standard library only.
"""

import argparse
import ctypes
import json
import os
import random
import re
import shutil
import signal
import socket
import string
import subprocess
import sys
import threading
import time
import urllib.parse

SKIP = 77
PR_SET_PDEATHSIG = 1


class CaseFailure(Exception):
    pass


class Deadline:
    def __init__(self, seconds):
        self.end = time.monotonic() + seconds
        self.seconds = seconds

    def left(self):
        return self.end - time.monotonic()

    def check(self, what):
        if self.left() <= 0:
            raise CaseFailure(f"case deadline ({self.seconds} s) passed while {what}")

    def bound(self, seconds):
        """The smaller of `seconds` and the time left in the case."""
        return max(0.0, min(seconds, self.left()))


def log(msg):
    print(f"[run_case {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def die_with_parent():
    # Children get SIGKILL if this runner dies (e.g. killed by CTest's TIMEOUT), so a timed-out
    # case never leaves a daemon or SIPp behind.
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


# ----------------------------------------------------------------------------------------------
# PostgreSQL helpers (psql; no driver needed)

def dsn_with_dbname(url, dbname):
    """`url` with its database replaced: works for URIs and keyword/value strings."""
    if url.startswith("postgres://") or url.startswith("postgresql://"):
        parts = urllib.parse.urlsplit(url)
        return urllib.parse.urlunsplit(parts._replace(path="/" + dbname))
    return f"{url} dbname={dbname}"


def psql(dsn, sql, timeout=30):
    proc = subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-d", dsn, "-c", sql],
        capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise CaseFailure(f"psql failed ({proc.returncode}): {sql}\n{proc.stderr.strip()}")
    return proc.stdout.strip()


CDR_SQL = """
SELECT coalesce(json_agg(row_to_json(t) ORDER BY t.id), '[]'::json) FROM (
  SELECT c.*,
         (extract(epoch FROM c.end_at - c.answer_at) * 1000)::bigint AS x_answer_to_end_ms,
         (extract(epoch FROM c.end_at - c.setup_at) * 1000)::bigint AS x_setup_to_end_ms,
         (extract(epoch FROM c.end_at - c.ring_at) * 1000)::bigint AS x_ring_to_end_ms,
         (c.ring_at IS NULL OR c.ring_at >= c.setup_at) AS x_ring_after_setup,
         (c.answer_at IS NULL OR c.answer_at >= c.setup_at) AS x_answer_after_setup,
         (c.end_at >= c.setup_at) AS x_end_after_setup,
         (c.answer_at IS NULL OR c.end_at >= c.answer_at) AS x_end_after_answer,
         (SELECT coalesce(json_agg(row_to_json(a) ORDER BY a.seq), '[]'::json)
            FROM (SELECT a0.*, (extract(epoch FROM a0.ended_at - a0.started_at) * 1000)::bigint
                             AS x_duration_ms,
                         (extract(epoch FROM a0.started_at - c.setup_at) * 1000)::bigint
                             AS x_since_setup_ms,
                         (extract(epoch FROM a0.started_at - lag(a0.started_at)
                             OVER (ORDER BY a0.seq)) * 1000)::bigint AS x_since_prev_start_ms,
                         (extract(epoch FROM a0.started_at - lag(a0.ended_at)
                             OVER (ORDER BY a0.seq)) * 1000)::bigint AS x_since_prev_end_ms
                    FROM cdr_attempt a0 WHERE a0.cdr_id = c.id) a) AS x_attempts
  FROM cdr c) t
"""


# ----------------------------------------------------------------------------------------------
# Ports and processes

def free_port(kinds):
    """A port free on 127.0.0.1 for every socket kind in `kinds` ('udp', 'tcp') at once."""
    for _ in range(50):
        socks = []
        try:
            first = socket.socket(socket.AF_INET,
                                  socket.SOCK_DGRAM if kinds[0] == "udp" else socket.SOCK_STREAM)
            socks.append(first)
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            for kind in kinds[1:]:
                s = socket.socket(socket.AF_INET,
                                  socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM)
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise CaseFailure(f"no free port for {kinds}")


def port_bound(transport, ip, port):
    """True when some socket is bound to ip:port (UDP) or listening there (TCP), per /proc."""
    table = "/proc/net/udp" if transport == "udp" else "/proc/net/tcp"
    want_ips = {socket.inet_aton(ip)[::-1].hex().upper(), "00000000"}
    with open(table) as f:
        next(f)
        for line in f:
            fields = line.split()
            local_ip, local_port = fields[1].split(":")
            if int(local_port, 16) != port or local_ip not in want_ips:
                continue
            if transport == "tcp" and fields[3] != "0A":  # 0A = LISTEN
                continue
            return True
    return False


class Proc:
    """A child process this runner owns: started here, signalled only by its PID."""

    def __init__(self, name, argv, log_path, cwd, env=None):
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.logf = open(log_path, "wb")
        self.popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.logf,
                                      stderr=subprocess.STDOUT, cwd=cwd, env=env,
                                      preexec_fn=die_with_parent)
        log(f"started {name} pid {self.popen.pid}: {' '.join(argv)}")

    @property
    def pid(self):
        return self.popen.pid

    def running(self):
        return self.popen.poll() is None

    def wait(self, timeout):
        try:
            return self.popen.wait(timeout=max(timeout, 0.01))
        except subprocess.TimeoutExpired:
            return None

    def stop(self, sig=signal.SIGTERM, grace=5.0):
        """Signal this PID (never a name or group); SIGKILL after `grace`. Returns the status."""
        if self.running():
            try:
                os.kill(self.popen.pid, sig)
            except ProcessLookupError:
                pass
            if self.wait(grace) is None:
                log(f"{self.name} pid {self.pid} did not stop in {grace} s: SIGKILL")
                os.kill(self.popen.pid, signal.SIGKILL)
                self.popen.wait()
        self.logf.close()
        return self.popen.returncode


def tail(path, lines=60):
    try:
        with open(path, "rb") as f:
            data = f.read().decode("utf-8", "replace").splitlines()
    except OSError as e:
        return f"(cannot read {path}: {e})"
    return "\n".join(data[-lines:])


class SilentSink:
    """A termination gateway that never answers (UDP): a thread records the arrival time
    (time.monotonic()) and the method, Call-ID and Via branch of every request it receives."""

    def __init__(self, name, log_path):
        self.name = name
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.sock.settimeout(0.1)
        self.log_path = log_path
        self.requests = []   # (monotonic, method, call_id, branch)
        self.responses = []  # (monotonic, text)
        self.cseq = 0
        self.stopping = False
        self.thread = threading.Thread(target=self.loop, name=f"sink-{name}", daemon=True)
        self.thread.start()

    @staticmethod
    def header(lines, *names):
        for line in lines:
            k, _, v = line.partition(":")
            if k.strip().lower() in names:
                return v.strip()
        return ""

    def loop(self):
        with open(self.log_path, "w") as logf:
            while not self.stopping:
                try:
                    data, peer = self.sock.recvfrom(65535)
                except socket.timeout:
                    continue
                except OSError:
                    break
                t = time.monotonic()
                text = data.decode("utf-8", "replace")
                lines = text.split("\r\n")
                first = lines[0].split(" ")[0] if lines else ""
                if not first:
                    continue  # a keep-alive
                if first.startswith("SIP/"):
                    self.responses.append((t, text))  # to a request sent by send_publish()
                    logf.write(f"--- {t:.6f} from {peer[0]}:{peer[1]}\n{text}\n")
                    logf.flush()
                    continue
                via = self.header(lines, "via", "v")
                branch = ""
                for part in via.split(";")[1:]:
                    k, _, v = part.partition("=")
                    if k.strip().lower() == "branch":
                        branch = v.strip()
                self.requests.append((t, first, self.header(lines, "call-id", "i"), branch))
                logf.write(f"--- {t:.6f} from {peer[0]}:{peer[1]}\n{text}\n")
                logf.flush()

    def send_publish(self, target, event, expires, body, timeout):
        """Sends a PUBLISH (RFC 3903) from this gateway's socket to `target` (ip, port) and
        returns (status code, {lower-case header: value}) of its final response."""
        self.cseq += 1
        ip, port = "127.0.0.1", self.port
        branch = "z9hG4bK" + "".join(random.choices(string.ascii_lowercase, k=12))
        lines = [f"PUBLISH sip:{self.name}@{target[0]}:{target[1]} SIP/2.0",
                 f"Via: SIP/2.0/UDP {ip}:{port};branch={branch};rport",
                 f"From: <sip:{self.name}@{ip}:{port}>;tag=pub{self.cseq}",
                 f"To: <sip:{self.name}@{ip}:{port}>",
                 f"Call-ID: publish-{self.name}-{self.cseq}-{port}@{ip}",
                 f"CSeq: {self.cseq} PUBLISH", "Max-Forwards: 70"]
        if event:
            lines.append(f"Event: {event}")
        if expires is not None:
            lines.append(f"Expires: {expires}")
        payload = body or ""
        if payload:
            lines.append("Content-Type: application/pidf+xml")
        lines.append(f"Content-Length: {len(payload.encode())}")
        msg = ("\r\n".join(lines) + "\r\n\r\n" + payload).encode()
        seen = len(self.responses)
        end = time.monotonic() + timeout
        next_send = 0.0
        while time.monotonic() < end:
            if time.monotonic() >= next_send:
                self.sock.sendto(msg, target)
                next_send = time.monotonic() + 0.5
            for _, text in self.responses[seen:]:
                head, _, _ = text.partition("\r\n\r\n")
                hl = head.split("\r\n")
                code = int(hl[0].split(" ")[1])
                headers = {}
                for line in hl[1:]:
                    k, _, v = line.partition(":")
                    headers[k.strip().lower()] = v.strip()
                if code >= 200 and f"publish-{self.name}-{self.cseq}-" in headers.get("call-id", ""):
                    return code, headers
            time.sleep(0.01)
        return None, {}

    def invites(self):
        return [r for r in self.requests if r[1] == "INVITE"]

    def transactions(self, method):
        """The distinct (Call-ID, branch) of the `method` requests received so far, in arrival
        order: one per transaction, retransmissions folded."""
        out = []
        for _, m, call_id, branch in list(self.requests):
            if m == method and (call_id, branch) not in out:
                out.append((call_id, branch))
        return out

    def stop(self):
        self.stopping = True
        self.thread.join(2)
        self.sock.close()


class RefusedPort:
    """A TCP address where nothing listens: a socket bound to a free 127.0.0.1 port but never
    listening, so a connect() there is refused at once (RST) and, as the port stays bound for
    the whole case, nothing else can take it meanwhile."""

    def __init__(self, name):
        self.name = name
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.stopping = False

    def stop(self):
        self.stopping = True
        self.sock.close()


# ----------------------------------------------------------------------------------------------
# The case

class Case:
    def __init__(self, args, manifest, name):
        self.args = args
        self.m = manifest
        self.name = name
        self.deadline = Deadline(manifest.get("deadline_s", 60))
        self.dir = os.path.join(args.artifacts, name)
        self.procs = []
        self.uas = {}        # name -> {"proc", "port", "transport", ...}
        self.daemon = None
        self.db_name = None
        self.admin_url = os.environ.get("SS_TEST_PG_URL", "")
        self.dsn = None
        first_uac = manifest["uacs"][0] if "uacs" in manifest else manifest["uac"]
        self.uac_ip = first_uac.get("source_ip", "127.0.0.1")
        self.env = dict(os.environ)
        self.env["SOFTSWITCH_SCHEMA_DIR"] = args.schema_dir
        self.env.pop("SOFTSWITCH_DB", None)
        self.checks = 0

    # -- bookkeeping ---------------------------------------------------------------------------

    def check(self, cond, what):
        self.checks += 1
        if not cond:
            raise CaseFailure(what)

    def spawn(self, name, argv, cwd=None, env=None):
        p = Proc(name, argv, os.path.join(self.dir, f"{name}.out"), cwd or self.dir, env)
        self.procs.append(p)
        return p

    def swctl(self, *argv, expect=0):
        cmd = [self.args.swctl, "--db", self.dsn, *argv]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=self.env,
                              timeout=self.deadline.bound(30))
        with open(os.path.join(self.dir, "swctl.log"), "a") as f:
            f.write(f"$ {' '.join(cmd)}\n[exit {proc.returncode}]\n{proc.stdout}{proc.stderr}\n")
        if expect is not None and proc.returncode != expect:
            raise CaseFailure(f"swctl {' '.join(argv)}: exit {proc.returncode}, expected {expect}"
                              f"\n{proc.stdout}{proc.stderr}")
        return proc

    # -- steps ---------------------------------------------------------------------------------

    def create_db(self):
        suffix = "".join(random.choices(string.ascii_lowercase + string.digits, k=8))
        self.db_name = f"ss_sipp_{self.name.replace('-', '_')}_{suffix}"
        psql(self.admin_url, f'CREATE DATABASE "{self.db_name}"')
        self.dsn = dsn_with_dbname(self.admin_url, self.db_name)
        log(f"database {self.db_name}")
        self.swctl("db", "migrate")

    def sipp_common(self, tag, calls=1):
        return ["-nostdin", "-m", str(calls),
                "-trace_err", "-error_file", os.path.join(self.dir, f"{tag}_errors.log"),
                "-trace_msg", "-message_file", os.path.join(self.dir, f"{tag}_messages.log"),
                "-trace_screen", "-screen_file", os.path.join(self.dir, f"{tag}_screen.log"),
                "-trace_calldebug", "-calldebug_file",
                os.path.join(self.dir, f"{tag}_calldebug.log")]

    def set_params(self):
        """The manifest's `params` (SPEC §2) into table param, before the daemon starts."""
        params = self.m.get("params", {})
        if not params:
            return
        def lit(v):
            return "'" + str(v).replace("'", "''") + "'"
        values = ", ".join(f"({lit(k)}, {lit(v)})" for k, v in params.items())
        psql(self.dsn, f"INSERT INTO param (name, value) VALUES {values}")
        log(f"params: {params}")

    def start_uas(self):
        for spec in self.m.get("uas", []):
            name = spec["name"]
            if spec.get("kind") == "silent":
                sink = SilentSink(name, os.path.join(self.dir, f"uas_{name}_sink.log"))
                self.uas[name] = {"proc": None, "sink": sink, "port": sink.port,
                                  "transport": "udp", "spec": spec}
                log(f"UAS {name} (silent sink) on udp 127.0.0.1:{sink.port}")
                continue
            if spec.get("kind") == "refused":
                refused = RefusedPort(name)
                self.uas[name] = {"proc": None, "refused": refused, "port": refused.port,
                                  "transport": "tcp", "spec": spec}
                log(f"UAS {name} (refused): tcp 127.0.0.1:{refused.port}, bound, not listening")
                continue
            self.start_sipp_uas(name, spec)

    def start_sipp_uas(self, name, spec, fixed_port=None):
        """A SIPp UAS for gateway `name` on a free port (or on `fixed_port`, the port of the
        silent sink it replaces in a `second_call`)."""
        transport = spec.get("transport", self.m.get("transport", "udp"))
        for attempt in range(3):
            port = fixed_port or free_port(["udp", "tcp"])
            argv = [self.args.sipp, "-sf", os.path.join(self.args.scenarios, spec["scenario"]),
                    "-i", "127.0.0.1", "-bind_local", "-p", str(port),
                    "-t", "t1" if transport == "tcp" else "u1",
                    "-timeout", f"{int(self.deadline.left())}s", "-timeout_error",
                    *self.sipp_common(f"uas_{name}", max(1, spec.get("expect_calls", 1)))]
            proc = self.spawn(f"uas_{name}", argv)
            while proc.running() and not port_bound(transport, "127.0.0.1", port):
                self.deadline.check(f"waiting for UAS {name} to bind {transport}/{port}")
                time.sleep(0.02)
            if proc.running():
                break
            log(f"UAS {name} exited at start ({proc.popen.returncode}); retrying, "
                f"attempt {attempt + 1}:\n{tail(proc.log_path, 10)}")
        else:
            raise CaseFailure(f"UAS {name} would not start")
        self.uas[name] = {"proc": proc, "port": port, "transport": transport, "spec": spec}
        log(f"UAS {name} ({spec['scenario']}) on {transport} 127.0.0.1:{port}")

    def provision(self):
        for gw in self.m.get("gateways", []):
            argv = ["gateway", "add", gw["name"], "--role", gw["role"]]
            if "uas" in gw:
                u = self.uas[gw["uas"]]
                argv += ["--host", f"127.0.0.1:{u['port']}", "--transport", u["transport"]]
            else:
                argv += ["--host", gw["host"]]
                if "transport" in gw:
                    argv += ["--transport", gw["transport"]]
            for key in ("capacity", "cps", "site"):
                if key in gw:
                    argv += [f"--{key}", str(gw[key])]
            for key, value in gw.get("opts", {}).items():
                argv += ["--opt", f"{key}={self.expand(str(value))}"]
            self.swctl(*argv)
        for r in self.m.get("routes", []):
            argv = ["route", "add", "--prefix", r["prefix"], "--gateway", r["gateway"]]
            for key in ("priority", "weight", "site_order"):
                if key in r:
                    argv += [f"--{key.replace('_', '-')}", str(r[key])]
            self.swctl(*argv)

    def start_daemon(self):
        ready = os.path.join(self.dir, "ready")
        argv = [self.args.softswitchd, "--db", self.dsn,
                "--sip", "udp:127.0.0.1:0,tcp:127.0.0.1:0",
                "--node", f"sipp-{self.name}",
                "--spool", os.path.join(self.dir, "spool"),
                "--state-dir", os.path.join(self.dir, "state"),
                "--log-level", "debug", "--ready-file", ready,
                *self.m.get("daemon_args", [])]
        self.daemon = self.spawn("softswitchd", argv, env=self.env)
        while not os.path.exists(ready):
            if not self.daemon.running():
                raise CaseFailure(f"softswitchd exited ({self.daemon.popen.returncode}) before "
                                  f"it was ready")
            self.deadline.check("waiting for the softswitchd ready file")
            time.sleep(0.02)
        info = {}
        with open(ready) as f:
            for line in f:
                if "=" in line:
                    k, v = line.strip().split("=", 1)
                    info[k] = v
        log(f"softswitchd ready: {info}")
        self.check(info.get("pid") == str(self.daemon.pid),
                   f"ready file pid {info.get('pid')} is not the daemon's pid {self.daemon.pid}")
        self.ready = info

    def publish(self, steps=None):
        """Manifest `publish`: PUBLISH heartbeats sent from a silent gateway's socket before
        the call: [{"from": NAME, "event": "presence"|null, "expires": N|null, "body": true,
        "expect_code": 200, "expect_expires": N, "wait_after_s": S}, ...]."""
        steps = self.m.get("publish", []) if steps is None else steps
        if not steps:
            return
        ip, port = self.ready["sip.udp"].rsplit(":", 1)
        pidf = ('<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf" '
                'entity="sip:gw@127.0.0.1"><tuple id="t1"><status><basic>open</basic>'
                '</status></tuple></presence>')
        for step in steps:
            sink = self.uas[step["from"]]["sink"]
            code, headers = sink.send_publish((ip, int(port)), step.get("event", "presence"),
                                              step.get("expires"),
                                              pidf if step.get("body", True) else "",
                                              self.deadline.bound(5))
            log(f"PUBLISH from {step['from']} (Event {step.get('event', 'presence')}, Expires "
                f"{step.get('expires')}): {code} SIP-ETag {headers.get('sip-etag')!r} Expires "
                f"{headers.get('expires')!r}")
            want = step.get("expect_code", 200)
            self.check(code == want, f"PUBLISH from {step['from']}: {code}, expected {want}")
            if want == 200:
                self.check(bool(headers.get("sip-etag")), "PUBLISH 200 without SIP-ETag")
                if "expect_expires" in step:
                    self.check(headers.get("expires") == str(step["expect_expires"]),
                               f"PUBLISH 200 Expires {headers.get('expires')!r}, expected "
                               f"{step['expect_expires']}")
            if step.get("wait_after_s"):
                log(f"waiting {step['wait_after_s']} s")
                time.sleep(self.deadline.bound(step["wait_after_s"]))

    def run_uac(self, spec=None, tag="uac"):
        spec = self.m["uac"] if spec is None else spec
        self.finish_uac(self.start_uac(spec, tag), spec, tag)

    def run_uacs(self):
        """Manifest `uacs` (instead of `uac`): several UAC SIPp instances at once, each started
        `start_after_ms` after the case's first (`uac`, `uac2`, ... logs); each must exit as its
        `expect_exit` says."""
        specs = self.m["uacs"]
        t0 = time.monotonic()
        procs = []
        for i, spec in enumerate(specs):
            delay = t0 + spec.get("start_after_ms", 0) / 1000.0 - time.monotonic()
            time.sleep(self.deadline.bound(max(0.0, delay)))
            tag = "uac" if i == 0 else f"uac{i + 1}"
            procs.append((self.start_uac(spec, tag), spec, tag))
        for proc, spec, tag in procs:
            self.finish_uac(proc, spec, tag)

    def start_uac(self, spec, tag):
        transport = self.m.get("transport", "udp")
        target = self.ready.get(f"sip.{transport}")
        self.check(target is not None, f"ready file has no sip.{transport} line: {self.ready}")
        ip, port = target.rsplit(":", 1)
        self.check(port != "0", f"ready file reports port 0 for {transport}")
        uac_port = free_port(["udp", "tcp"])
        calls = spec.get("calls", 1)
        argv = [self.args.sipp, "-sf", os.path.join(self.args.scenarios, spec["scenario"]),
                "-s", spec.get("callee", "15551234567"), f"{ip}:{port}",
                "-i", self.uac_ip, "-bind_local", "-p", str(uac_port),
                "-t", "t1" if transport == "tcp" else "u1",
                "-timeout", f"{spec.get('timeout_s', 30)}s", "-timeout_error",
                *self.sipp_common(tag, calls)]
        if calls > 1:
            # -r calls per -rp ms: the calls start this far apart and overlap while they last.
            argv += ["-r", "1", "-rp", str(spec.get("interval_ms", 200)), "-l", str(calls)]
        return self.spawn(tag, argv)

    def finish_uac(self, uac, spec, tag):
        rc = uac.wait(self.deadline.bound(spec.get("timeout_s", 30) + 10))
        if rc is None:
            uac.stop(signal.SIGKILL)
            raise CaseFailure(f"UAC SIPp ({tag}) did not finish in time")
        expect = spec.get("expect_exit", 0)
        self.check(rc == expect,
                   f"UAC SIPp {tag} ({spec['scenario']}) exit {rc}, expected {expect} (0 = the "
                   f"call went exactly as the scenario says, including the expected final "
                   f"response)")
        log(f"UAC {tag} finished: exit {rc} as expected ({spec.get('expect_final', '?')} final)")
        if spec.get("expect_responses"):
            self.check_uac_responses(spec["expect_responses"], tag)

    def uac_received(self, tag):
        """(seconds since the epoch, message text) of every message the UAC received, from its
        SIPp message log (`-trace_msg`): it holds identical copies SIPp absorbed as
        retransmissions, which a scenario cannot <recv>."""
        path = os.path.join(self.dir, f"{tag}_messages.log")
        with open(path, errors="replace") as f:
            text = f.read()
        out = []
        for chunk in text.split("----------------------------------------------- ")[1:]:
            stamp, _, rest = chunk.partition("\n")
            what, _, msg = rest.partition("\n")
            if "received" not in what:
                continue
            t = time.mktime(time.strptime(stamp.strip()[:19], "%Y-%m-%d %H:%M:%S"))
            t += float("0" + stamp.strip()[19:])
            out.append((t, msg.strip("\r\n")))
        return out

    def check_uac_responses(self, want, tag):
        """uac.expect_responses: {"180": {"at_s": [0, 0.5], "tolerance_ms": 150,
        "same_headers": ["RSeq"]}}: the copies of that response the UAC received, at those
        instants (seconds after the first copy), all with the same values of those headers."""
        got = self.uac_received(tag)
        for code, spec in want.items():
            copies = [(t, m) for t, m in got if m.startswith(f"SIP/2.0 {code} ")]
            t0 = copies[0][0] if copies else 0.0
            offsets = [round(t - t0, 3) for t, _ in copies]
            log(f"UAC received {len(copies)} copies of {code} at {offsets} s after the first")
            self.check_instants(f"UAC: {code}", offsets, spec.get("at_s", []),
                                spec.get("tolerance_ms", 150))
            for h in spec.get("same_headers", []):
                values = {SilentSink.header(m.split("\r\n") if "\r\n" in m else m.split("\n"),
                                            h.lower()) for _, m in copies}
                log(f"UAC: {h} of the {code} copies: {sorted(values)}")
                self.check(len(values) == 1 and "" not in values,
                           f"UAC: the {code} copies differ in {h}: {sorted(values)}")

    def query_cdrs(self):
        return json.loads(psql(self.dsn, CDR_SQL))

    def wait_cdrs(self, count):
        """Polls until `count` CDR rows exist (CDRs are written asynchronously)."""
        limit = self.deadline.bound(self.m.get("cdr_wait_s", 10))
        end = time.monotonic() + limit
        rows = self.query_cdrs()
        while len(rows) < count and time.monotonic() < end:
            time.sleep(0.1)
            rows = self.query_cdrs()
        return rows

    def match_value(self, field, got, want):
        if isinstance(want, dict):
            for op, arg in want.items():
                if op == "not_null":
                    self.check((got is not None) == arg, f"cdr.{field} = {got!r}: expected "
                               f"{'not ' if arg else ''}null")
                elif op == "gt":
                    self.check(got is not None and got > arg,
                               f"cdr.{field} = {got!r}: expected > {arg}")
                elif op == "between":
                    lo, hi = arg
                    self.check(got is not None and lo <= got <= hi,
                               f"cdr.{field} = {got!r}: expected between {lo} and {hi}")
                elif op == "in":
                    arg = [self.expand(a) if isinstance(a, str) else a for a in arg]
                    self.check(got in arg, f"cdr.{field} = {got!r}: expected one of {arg}")
                elif op == "startswith":
                    arg = self.expand(arg)
                    self.check(isinstance(got, str) and got.startswith(arg),
                               f"cdr.{field} = {got!r}: expected to start with {arg!r}")
                elif op == "contains":
                    arg = self.expand(arg)
                    self.check(isinstance(got, str) and arg in got,
                               f"cdr.{field} = {got!r}: expected to contain {arg!r}")
                else:
                    raise CaseFailure(f"manifest: unknown matcher {op!r} for {field}")
        else:
            self.check(got == want, f"cdr.{field} = {got!r}, expected {want!r}")

    def expand(self, text):
        out = text.replace("{uac_ip}", self.uac_ip)
        for name, u in self.uas.items():
            out = out.replace(f"{{uas.{name}.port}}", str(u["port"]))
        return out

    def check_cdr(self, row, want):
        for field, value in want.items():
            if field in ("attempt_rows", "consistency"):
                continue
            self.check(field in row, f"cdr has no column {field!r}; columns: {sorted(row)}")
            self.match_value(field, row[field], value)
        if want.get("consistency", True):
            for flag in ("x_ring_after_setup", "x_answer_after_setup", "x_end_after_setup",
                         "x_end_after_answer"):
                self.check(row[flag], f"cdr timestamps out of order ({flag[2:]}): "
                           f"setup {row['setup_at']} ring {row['ring_at']} "
                           f"answer {row['answer_at']} end {row['end_at']}")
            if row["answer_at"] is not None:
                diff = abs(row["hold_ms"] - row["x_answer_to_end_ms"])
                self.check(diff <= 5, f"cdr.hold_ms {row['hold_ms']} differs from end_at - "
                           f"answer_at ({row['x_answer_to_end_ms']} ms) by {diff} ms")
            self.check(len(row["x_attempts"]) == row["attempts"],
                       f"cdr.attempts = {row['attempts']} but {len(row['x_attempts'])} "
                       f"cdr_attempt rows")
        for i, want_a in enumerate(want.get("attempt_rows", [])):
            self.check(i < len(row["x_attempts"]),
                       f"expected cdr_attempt #{i + 1}, got {len(row['x_attempts'])} rows")
            got_a = row["x_attempts"][i]
            for field, value in want_a.items():
                self.check(field in got_a, f"cdr_attempt has no column {field!r}")
                self.match_value(f"attempt[{i + 1}].{field}", got_a[field], value)

    def check_swctl_query(self, row, rows):
        """`swctl cdr query --callee` lists exactly the calls of `rows` to that callee, and
        agrees with the database on `row`."""
        proc = self.swctl("cdr", "query", "--callee", row["callee"], "--format", "json")
        try:
            items = json.loads(proc.stdout)
        except json.JSONDecodeError as e:
            raise CaseFailure(f"swctl cdr query --format json printed no JSON ({e}):\n"
                              f"{proc.stdout[:2000]}")
        self.check(isinstance(items, list), "swctl cdr query --format json: not a JSON array")
        ids = sorted(str(i.get("call_id")) for i in items if isinstance(i, dict))
        want_ids = sorted(r["call_id"] for r in rows if r["callee"] == row["callee"])
        self.check(ids == want_ids,
                   f"swctl cdr query --callee {row['callee']}: call ids {ids}, expected "
                   f"{want_ids}")
        got = next(i for i in items if str(i.get("call_id")) == row["call_id"])
        for field in ("end_direction", "end_reason", "disposition", "sip_code", "caller"):
            self.check(str(got.get(field)) == str(row[field]),
                       f"swctl cdr query: {field} = {got.get(field)!r}, database has "
                       f"{row[field]!r}")

    def stop_daemon(self):
        self.daemon.stop(signal.SIGTERM, grace=self.deadline.bound(20))
        rc = self.daemon.popen.returncode
        self.check(rc == 0, f"softswitchd exit {rc} after SIGTERM, expected 0")
        log("softswitchd stopped with exit 0")

    def check_sink(self, name, u):
        """A silent gateway: INVITE copies at the instants `expect_invites_at` (seconds after
        the first) within `tolerance_ms`; all copies of one transaction (same Call-ID and
        branch) unless `same_branch` is false."""
        sink, spec = u["sink"], u["spec"]
        sink.stop()
        invites = sink.invites()
        t0 = invites[0][0] if invites else 0.0
        offsets = [round(t - t0, 3) for t, _, _, _ in invites]
        log(f"UAS {name} (silent) got {len(invites)} INVITEs at {offsets} s after the first; "
            f"other requests: {[r[1] for r in sink.requests if r[1] != 'INVITE']}")
        for method, bounds in spec.get("expect_requests", {}).items():
            n = len(sink.transactions(method))
            lo, hi = bounds.get("min", 0), bounds.get("max", float("inf"))
            log(f"UAS {name} (silent) got {n} {method} transactions")
            self.check(lo <= n <= hi, f"UAS {name} (silent): {n} {method} transactions "
                       f"(retransmissions folded), expected {lo} to {hi}")
        want = spec.get("expect_invites_at")
        if want is None:
            return
        self.check_instants(f"UAS {name} (silent): INVITE", offsets, want,
                            spec.get("tolerance_ms", 50))
        if invites and spec.get("same_branch", True):
            keys = {(c, b) for _, _, c, b in invites}
            self.check(len(keys) == 1, f"UAS {name} (silent): the INVITE copies are not "
                       f"retransmissions of one transaction (Call-ID, branch): {sorted(keys)}")

    def check_instants(self, what, offsets, want, tolerance_ms):
        """Copies of one message arrived at `offsets` (s after the first): as many as `want`,
        each within `tolerance_ms` of its expected instant."""
        self.check(len(offsets) == len(want), f"{what}: {len(offsets)} copies at {offsets}, "
                   f"expected {len(want)} at {want}")
        tol = tolerance_ms / 1000.0
        for i, (got, exp) in enumerate(zip(offsets, want)):
            self.check(abs(got - exp) <= tol, f"{what}: copy #{i + 1} at {got} s, expected "
                       f"{exp} s +-{tolerance_ms:.0f} ms (all: {offsets})")

    def finish_uas(self):
        for name, u in self.uas.items():
            if "sink" in u:
                self.check_sink(name, u)
                continue
            if "refused" in u:
                u["refused"].stop()  # nothing to check: a refused connect leaves no trace here
                continue
            calls = u["spec"].get("expect_calls", 1)
            proc = u["proc"]
            if calls:
                rc = proc.wait(self.deadline.bound(10))
                if rc is None:
                    proc.stop(signal.SIGKILL)
                    raise CaseFailure(f"UAS {name} ({u['spec']['scenario']}) still running: its "
                                      f"call did not complete as the scenario expects")
                self.check(rc == 0, f"UAS {name} ({u['spec']['scenario']}) exit {rc}, "
                           f"expected 0 (the B-leg did not go as the scenario expects)")
            else:
                self.check(proc.running(), f"UAS {name} exited ({proc.popen.returncode}) but "
                           f"should never have been called")
                proc.stop(signal.SIGTERM, grace=3)
                msgs = os.path.join(self.dir, f"uas_{name}_messages.log")
                seen = os.path.exists(msgs) and "INVITE" in open(msgs, errors="replace").read()
                self.check(not seen, f"UAS {name} received an INVITE but should not have")

    def run(self):
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        os.makedirs(os.path.join(self.dir, "spool"))
        log(f"case {self.name}: {self.m.get('description', '')}")
        self.create_db()
        self.set_params()
        self.start_uas()
        self.provision()
        self.start_daemon()
        self.publish()
        self.wait_for_sinks()
        if "uacs" in self.m:
            self.run_uacs()
        else:
            self.run_uac()

        want = self.m.get("cdr")
        if "cdrs" in self.m:
            self.check_cdrs_in_setup_order(self.m["cdrs"])
            self.stop_daemon()
            rows = self.query_cdrs()
            self.check(len(rows) == len(self.m["cdrs"]), f"after shutdown: {len(rows)} CDRs, "
                       f"expected exactly {len(self.m['cdrs'])}")
        elif want is None:
            # No CDR expected: the daemon flushes on SIGTERM, so check after it has stopped.
            self.stop_daemon()
            rows = self.query_cdrs()
            self.check(rows == [], f"expected no CDR, found {len(rows)}: "
                       f"{[(r['call_id'], r['end_reason']) for r in rows]}")
            log("no CDR, as expected")
        else:
            self.check_nth_cdr(1, want)
            second = self.m.get("second_call")
            if second:
                self.run_second_call(second)
                self.check_nth_cdr(2, second["cdr"])
            count = 2 if second else 1
            self.stop_daemon()
            rows = self.query_cdrs()
            self.check(len(rows) == count, f"after shutdown: {len(rows)} CDRs, expected exactly "
                       f"{count}")
        self.check_daemon_log()
        self.finish_uas()

    def check_daemon_log(self):
        """Manifest `daemon_log_matches`: regular expressions (Python, multi-line) that the
        daemon's log must match, e.g. the whole messages `--sip-trace` logs."""
        patterns = self.m.get("daemon_log_matches", [])
        if not patterns:
            return
        with open(os.path.join(self.dir, "softswitchd.out"), errors="replace") as f:
            text = f.read()
        for pattern in patterns:
            self.check(re.search(pattern, text, re.M) is not None,
                       f"the daemon log does not match {pattern!r}")
            log(f"daemon log matches {pattern!r}")

    def wait_for_sinks(self):
        """Manifest `wait_for`: [{"sink": NAME, "method": "OPTIONS", "transactions": N,
        "timeout_s": T, "then_s": S}]: before the call, wait (at most T s) until that silent
        gateway has received N distinct `method` transactions, then S s more."""
        for step in self.m.get("wait_for", []):
            sink = self.uas[step["sink"]]["sink"]
            want = step["transactions"]
            end = time.monotonic() + self.deadline.bound(step.get("timeout_s", 10))
            while len(sink.transactions(step["method"])) < want and time.monotonic() < end:
                time.sleep(0.02)
            got = len(sink.transactions(step["method"]))
            self.check(got >= want, f"UAS {step['sink']} (silent): {got} {step['method']} "
                       f"transactions within {step.get('timeout_s', 10)} s, expected {want}")
            log(f"UAS {step['sink']} (silent) has received {got} {step['method']} "
                f"transactions; waiting {step.get('then_s', 0)} s more")
            time.sleep(self.deadline.bound(step.get("then_s", 0)))

    def check_cdrs_in_setup_order(self, wants):
        """Manifest `cdrs` (overlapping calls, e.g. a UAC with `calls` > 1): exactly that many
        CDRs, checked in the order of their setup_at (then id)."""
        rows = self.wait_cdrs(len(wants))
        self.check(len(rows) == len(wants), f"expected {len(wants)} CDRs within "
                   f"{self.m.get('cdr_wait_s', 10)} s, found {len(rows)}")
        rows = sorted(rows, key=lambda r: (r["setup_at"], r["id"]))
        for n, (row, want) in enumerate(zip(rows, wants), 1):
            log(f"cdr #{n} by setup: " + json.dumps({k: v for k, v in row.items()
                                                     if not k.startswith("x_")}))
            log(f"cdr_attempt #{n} by setup: " + json.dumps(row["x_attempts"]))
            try:
                self.check_cdr(row, want)
            except CaseFailure as e:
                raise CaseFailure(f"CDR #{n} (by setup_at): {e}")
            if self.m.get("check_swctl_query", True):
                self.check_swctl_query(row, rows)

    def check_nth_cdr(self, n, want):
        """Waits for the n-th CDR (rows ordered by id) and checks it against `want`."""
        rows = self.wait_cdrs(n)
        self.check(len(rows) == n, f"expected {n} CDR(s) within {self.m.get('cdr_wait_s', 10)} "
                   f"s, found {len(rows)}")
        row = rows[n - 1]
        log(f"cdr #{n}: " + json.dumps({k: v for k, v in row.items() if not k.startswith("x_")}))
        log(f"cdr_attempt #{n}: " + json.dumps(row["x_attempts"]))
        self.check_cdr(row, want)
        if self.m.get("check_swctl_query", True):
            self.check_swctl_query(row, rows)

    def run_second_call(self, second):
        """Manifest `second_call` (after the first call's CDR is checked): `publish` steps,
        then `replace_sink` {NAME: scenario} stops those silent sinks (checking their
        expectations so far) and starts a SIPp UAS on the same port, then a second UAC call
        `uac` (use another callee: swctl cdr query is by callee) whose CDR must match `cdr`."""
        log("second call phase")
        self.publish(second.get("publish", []))
        for name, scenario in second.get("replace_sink", {}).items():
            u = self.uas[name]
            self.check_sink(name, u)
            spec = {"name": name, "scenario": scenario, "expect_calls": 1}
            self.start_sipp_uas(name, spec, fixed_port=u["port"])
        self.run_uac(second["uac"], "uac2")

    def report_failure(self):
        print("=" * 100, flush=True)
        print(f"FAILED case {self.name}; artifacts in {self.dir}", flush=True)
        d = os.path.join(self.dir, "softswitchd.out")
        if os.path.exists(d):
            print(f"--- softswitchd log (last 80 lines of {d}) ---\n{tail(d, 80)}", flush=True)
        for fname in sorted(os.listdir(self.dir)) if os.path.isdir(self.dir) else []:
            path = os.path.join(self.dir, fname)
            if fname.endswith("_errors.log") or fname.endswith("_calldebug.log"):
                print(f"--- {fname} ---\n{tail(path, 40)}", flush=True)
        for fname in ("uac_messages.log",):
            path = os.path.join(self.dir, fname)
            if os.path.exists(path):
                print(f"--- {fname} (last 60 lines) ---\n{tail(path, 60)}", flush=True)
        path = os.path.join(self.dir, "swctl.log")
        if os.path.exists(path):
            print(f"--- swctl.log (last 30 lines) ---\n{tail(path, 30)}", flush=True)

    def cleanup(self):
        for u in self.uas.values():
            for kind in ("sink", "refused"):
                if kind in u and not u[kind].stopping:
                    u[kind].stop()
        for p in reversed(self.procs):
            if p.running():
                p.stop(signal.SIGTERM, grace=3)
            elif not p.logf.closed:
                p.logf.close()
        if self.db_name:
            try:
                psql(self.admin_url, f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
            except (CaseFailure, subprocess.TimeoutExpired) as e:
                log(f"warning: could not drop {self.db_name}: {e}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("manifest")
    ap.add_argument("--softswitchd", required=True)
    ap.add_argument("--swctl", required=True)
    ap.add_argument("--schema-dir", required=True)
    ap.add_argument("--scenarios", default=os.path.join(os.path.dirname(
        os.path.abspath(__file__)), "scenarios"))
    ap.add_argument("--artifacts", default=os.path.join(os.getcwd(), "artifacts"))
    ap.add_argument("--sipp", default=shutil.which("sipp") or "sipp")
    args = ap.parse_args()

    name = os.path.splitext(os.path.basename(args.manifest))[0]
    if not os.environ.get("SS_TEST_PG_URL"):
        if os.environ.get("CI"):
            print(f"FAIL sipp.{name}: SS_TEST_PG_URL is not set and CI is; the sipp tests need a "
                  f"PostgreSQL cluster (run them with: bash packaging/test.sh)", flush=True)
            return 1
        print("*" * 78 + f"\n*** SKIP sipp.{name}: SS_TEST_PG_URL is not set. These end-to-end "
              f"tests need a\n*** throwaway PostgreSQL cluster; bash packaging/test.sh starts "
              f"one.\n" + "*" * 78, flush=True)
        return SKIP
    for tool in (args.sipp, "psql"):
        if shutil.which(tool) is None:
            print(f"FAIL sipp.{name}: {tool} not found (bash packaging/install-deps.sh)")
            return 1

    with open(args.manifest) as f:
        manifest = json.load(f)
    args.artifacts = os.path.abspath(args.artifacts)
    case = Case(args, manifest, name)
    ok = False
    try:
        case.run()
        ok = True
    except CaseFailure as e:
        print(f"\nFAIL sipp.{name}: {e}", flush=True)
    except Exception as e:  # a harness bug or an environment error: still clean up and report
        print(f"\nERROR sipp.{name}: {type(e).__name__}: {e}", flush=True)
        import traceback
        traceback.print_exc()
    finally:
        if not ok:
            case.report_failure()
        case.cleanup()
    if ok:
        log(f"PASS sipp.{name} ({case.checks} checks)")
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
