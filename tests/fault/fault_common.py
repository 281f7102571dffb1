# SPDX-License-Identifier: Apache-2.0
"""Shared pieces of the fault tests (CTest label `fault`): a private PostgreSQL cluster, a
softswitchd started and restarted on the same spool, SIPp instances and their logs.

Process, port and psql helpers are imported from tests/sipp/run_case.py (not copied, not
changed). Python 3 standard library only.
"""

import argparse
import os
import random
import shutil
import signal
import string
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "sipp"))
# tests/sipp/run_case.py (owned by the sipp tests; imported, never changed here).
from run_case import (CaseFailure, Deadline, Proc, dsn_with_dbname, free_port,  # noqa: E402
                      port_bound, psql, tail)

SKIP = 77
PGBIN = "/usr/lib/postgresql/15/bin"


class TestFailure(Exception):
    pass


def log(msg):
    print(f"[fault {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def parse_args(name, doc):
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--softswitchd", required=True)
    ap.add_argument("--swctl", required=True)
    ap.add_argument("--schema-dir", required=True)
    ap.add_argument("--scenarios", required=True, help="tests/sipp/scenarios")
    ap.add_argument("--fault-scenarios", default=os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--artifacts", default=os.path.join(os.getcwd(), "artifacts"))
    ap.add_argument("--sipp", default=shutil.which("sipp") or "sipp")
    args = ap.parse_args()
    args.artifacts = os.path.abspath(args.artifacts)
    args.name = name
    return args


def prerequisites(name, need_pgbin, label="fault", tools=()):
    """None when the test `label`.`name` can run, else its exit status: SKIP (77) without
    SS_TEST_PG_URL outside CI (the tests/sipp convention), 1 in CI or when a tool is missing.
    `tools`: more (what, command) pairs the test needs besides sipp and psql."""
    test = f"{label}.{name}"
    if not os.environ.get("SS_TEST_PG_URL"):
        if os.environ.get("CI"):
            print(f"FAIL {test}: SS_TEST_PG_URL is not set and CI is; the {label} tests "
                  f"need PostgreSQL 15 (run them with: bash packaging/test.sh -L {label})",
                  flush=True)
            return 1
        print("*" * 78 + f"\n*** SKIP {test}: SS_TEST_PG_URL is not set. The {label} "
              f"tests need\n*** PostgreSQL 15; bash packaging/test.sh starts one.\n" + "*" * 78,
              flush=True)
        return SKIP
    needed = [("sipp", "sipp"), ("psql", "psql"), *tools]
    if need_pgbin:
        needed += [("initdb", f"{PGBIN}/initdb"), ("pg_ctl", f"{PGBIN}/pg_ctl")]
    for what, tool in needed:
        if shutil.which(tool) is None:
            print(f"FAIL {test}: {what} not found ({tool}); bash packaging/install-deps.sh "
                  f"installs it", flush=True)
            return 1
    return None


# The server settings of the fault tests: speed over durability (a throwaway cluster).
FAST_PG_SETTINGS = {"fsync": "off", "full_page_writes": "off", "max_connections": "100"}


class PrivatePg:
    """A PostgreSQL 15 cluster of this test alone (initdb in a mktemp dir, a free port, socket
    in the temp dir, 127.0.0.1 only), run as the `postgres` OS user when we are root. Stopped
    and started by its own pg_ctl and data dir; never the shared SS_TEST_PG_URL cluster.

    `settings` ({name: value}, each passed as `-c name=value`) defaults to FAST_PG_SETTINGS
    (fsync off); tests/load/sip_bench.py passes durable ones."""

    def __init__(self, log_dir, settings=None):
        self.tmp = tempfile.mkdtemp(prefix="ss-fault-pg.")  # short: unix socket path limit
        os.chmod(self.tmp, 0o755)
        self.data = os.path.join(self.tmp, "data")
        # The server log lives in the temp dir (the postgres user may not reach the build
        # tree); destroy() copies it to `log_dir`.
        self.log_path = os.path.join(self.tmp, "postgres.log")
        self.log_dir = log_dir
        self.as_pg = []
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root.
            shutil.chown(self.tmp, "postgres", "postgres")
            self.as_pg = ["runuser", "-u", "postgres", "--"]
        self.port = free_port(["tcp"])
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.settings = dict(FAST_PG_SETTINGS if settings is None else settings)
        self.initialised = False

    def _run(self, argv, timeout):
        proc = subprocess.run(self.as_pg + argv, capture_output=True, text=True,
                              timeout=timeout)
        if proc.returncode != 0:
            raise TestFailure(f"{' '.join(argv)}: exit {proc.returncode}\n{proc.stdout}"
                              f"{proc.stderr}\n--- postgres.log ---\n{tail(self.log_path, 30)}")
        return proc

    def init(self):
        self._run([f"{PGBIN}/initdb", "-D", self.data, "-U", "postgres", "--auth=trust",
                   "-E", "UTF8", "--no-locale"], timeout=60)
        self.initialised = True

    def start(self, timeout=30):
        t0 = time.monotonic()
        self._run([f"{PGBIN}/pg_ctl", "-D", self.data, "-l", self.log_path, "-w",
                   "-t", str(int(timeout)),
                   "-o", f"-p {self.port} -k {self.tmp} -c listen_addresses=127.0.0.1 "
                         + " ".join(f"-c {k}={v}" for k, v in self.settings.items()),
                   "start"], timeout=timeout + 10)
        log(f"PostgreSQL (private) up on 127.0.0.1:{self.port} in "
            f"{time.monotonic() - t0:.2f} s")

    def stop(self, timeout=30):
        t0 = time.monotonic()
        self._run([f"{PGBIN}/pg_ctl", "-D", self.data, "-m", "fast", "-w",
                   "-t", str(int(timeout)), "stop"], timeout=timeout + 10)
        log(f"PostgreSQL (private) stopped (-m fast) in {time.monotonic() - t0:.2f} s")

    def running(self):
        return os.path.exists(os.path.join(self.data, "postmaster.pid"))

    def destroy(self):
        """Stops the cluster if it runs (by its data dir) and removes the temp dir."""
        try:
            if self.initialised and self.running():
                self.stop()
        except (TestFailure, subprocess.TimeoutExpired) as e:
            log(f"warning: could not stop the private cluster: {e}")
        if os.path.exists(self.log_path):
            shutil.copy(self.log_path, os.path.join(self.log_dir, "postgres.log"))
        shutil.rmtree(self.tmp, ignore_errors=True)


class Harness:
    """Processes, logs and provisioning of one fault test. Every process is started here and
    signalled only by its PID (run_case.Proc)."""

    def __init__(self, args, deadline_s):
        self.args = args
        self.deadline = Deadline(deadline_s)
        self.dir = os.path.join(args.artifacts, args.name)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.spool = os.path.join(self.dir, "spool")
        os.makedirs(self.spool)
        self.procs = []
        self.dsn = None
        self.db_name = None  # a database this test created on a shared cluster (to drop)
        self.env = dict(os.environ)
        self.env["SOFTSWITCH_SCHEMA_DIR"] = args.schema_dir
        self.env.pop("SOFTSWITCH_DB", None)
        self.checks = 0

    def check(self, cond, what):
        self.checks += 1
        if not cond:
            raise TestFailure(what)

    def spawn(self, name, argv, env=None):
        p = Proc(name, argv, os.path.join(self.dir, f"{name}.out"), self.dir, env)
        self.procs.append(p)
        return p

    def swctl(self, *argv):
        cmd = [self.args.swctl, "--db", self.dsn, *argv]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=self.env,
                              timeout=self.deadline.bound(30))
        with open(os.path.join(self.dir, "swctl.log"), "a") as f:
            f.write(f"$ {' '.join(cmd)}\n[exit {proc.returncode}]\n{proc.stdout}{proc.stderr}\n")
        if proc.returncode != 0:
            raise TestFailure(f"swctl {' '.join(argv)}: exit {proc.returncode}\n{proc.stdout}"
                              f"{proc.stderr}")
        return proc

    def sql(self, query, timeout=10):
        try:
            return psql(self.dsn, query, timeout=timeout)
        except CaseFailure as e:
            raise TestFailure(str(e))

    def provision(self, uas_port):
        self.swctl("db", "migrate")
        self.swctl("gateway", "add", "orig1", "--role", "origination", "--host", "127.0.0.1")
        self.swctl("gateway", "add", "term1", "--role", "termination", "--host",
                   f"127.0.0.1:{uas_port}", "--transport", "udp")
        self.swctl("route", "add", "--prefix", "1555", "--gateway", "term1", "--priority", "10")

    def sipp_logs(self, tag):
        return ["-trace_err", "-error_file", os.path.join(self.dir, f"{tag}_errors.log"),
                "-trace_msg", "-message_file", os.path.join(self.dir, f"{tag}_messages.log"),
                "-trace_screen", "-screen_file", os.path.join(self.dir, f"{tag}_screen.log"),
                "-trace_stat", "-stf", os.path.join(self.dir, f"{tag}_stat.csv"), "-fd", "1"]

    def start_uas(self, scenario, calls, timeout_s, tag="uas", transport="udp"):
        """A SIPp UAS (a termination gateway) on a free port of `transport` (udp or tcp);
        waits until it is bound. Its logs are TAG_*."""
        for attempt in range(3):
            port = free_port([transport])
            argv = [self.args.sipp, "-sf", scenario, "-i", "127.0.0.1", "-bind_local",
                    "-p", str(port), "-t", "u1" if transport == "udp" else "t1", "-nostdin",
                    "-m", str(calls),
                    "-timeout", f"{int(timeout_s)}s", *self.sipp_logs(tag)]
            proc = self.spawn(tag, argv)
            while proc.running() and not port_bound(transport, "127.0.0.1", port):
                if self.deadline.left() <= 0:
                    raise TestFailure("deadline passed waiting for the UAS to bind")
                time.sleep(0.02)
            if proc.running():
                log(f"UAS ({os.path.basename(scenario)}) on {transport} 127.0.0.1:{port}")
                return proc, port
            log(f"UAS exited at start ({proc.popen.returncode}), attempt {attempt + 1}:\n"
                f"{tail(proc.log_path, 10)}")
            self.procs.remove(proc)
        raise TestFailure("the SIPp UAS would not start")

    def start_uac(self, scenario, target, rate, calls, limit, timeout_s, tag="uac",
                  service="15551234567", transport="udp"):
        """A SIPp UAC placing `calls` calls at `rate` per second (at most `limit` at once) to
        `target` over `transport` (udp, or tcp: one connection), dialling `service`;
        `timeout_s` bounds its whole run (SIPp -timeout). Its logs are TAG_*."""
        port = free_port([transport])
        argv = [self.args.sipp, "-sf", scenario, "-s", service, target,
                "-i", "127.0.0.1", "-bind_local", "-p", str(port),
                "-t", "u1" if transport == "udp" else "t1", "-nostdin",
                "-r", str(rate), "-rp", "1000", "-m", str(calls), "-l", str(limit),
                "-timeout", f"{int(timeout_s)}s", *self.sipp_logs(tag)]
        return self.spawn(tag, argv)

    def start_daemon(self, node, sip, tag="softswitchd", extra=()):
        """softswitchd on `sip` (e.g. udp:127.0.0.1:0) with `extra` options; waits for its
        ready file. Returns (Proc, {ready file keys})."""
        ready = os.path.join(self.dir, f"{tag}.ready")
        if os.path.exists(ready):
            os.unlink(ready)
        argv = [self.args.softswitchd, "--db", self.dsn, "--sip", sip, "--node", node,
                "--spool", self.spool, "--state-dir", os.path.join(self.dir, "state"),
                "--log-level", "debug", "--ready-file", ready, "--drain-seconds", "5",
                *extra]
        proc = self.spawn(tag, argv, env=self.env)
        while not os.path.exists(ready):
            if not proc.running():
                raise TestFailure(f"{tag} exited ({proc.popen.returncode}) before it was "
                                  f"ready:\n{tail(proc.log_path, 30)}")
            if self.deadline.left() <= 0:
                raise TestFailure(f"deadline passed waiting for the {tag} ready file")
            time.sleep(0.02)
        info = {}
        # The ready file may be caught mid-write: read until it has the pid line.
        for _ in range(100):
            with open(ready) as f:
                info = dict(line.strip().split("=", 1) for line in f if "=" in line)
            if "pid" in info and "sip.udp" in info:
                break
            time.sleep(0.02)
        log(f"{tag} ready: {info}")
        self.check(info.get("pid") == str(proc.pid),
                   f"ready file pid {info.get('pid')} is not the daemon's pid {proc.pid}")
        return proc, info

    def fresh_database(self, prefix):
        """A new database with a random name on the SS_TEST_PG_URL cluster (dropped by
        main_with_shared_pg at the end); sets self.dsn."""
        admin = os.environ["SS_TEST_PG_URL"]
        db = prefix + "".join(random.choices(string.ascii_lowercase + string.digits, k=8))
        psql(admin, f'CREATE DATABASE "{db}"')
        self.db_name = db
        self.dsn = dsn_with_dbname(admin, db)
        log(f"database {db} on the SS_TEST_PG_URL cluster")

    def start_switch_to_uas(self, db_prefix, node, uas_timeout_s):
        """The usual setup on the SS_TEST_PG_URL cluster: a fresh database, a SIPp UAS that
        answers (tests/sipp/scenarios/uas_answer.xml) as term1, provision(), and softswitchd
        on an OS-assigned UDP port. Returns (uas Proc, daemon Proc, the daemon's SIP
        address)."""
        self.fresh_database(db_prefix)
        uas, uas_port = self.start_uas(os.path.join(self.args.scenarios, "uas_answer.xml"),
                                       1000, uas_timeout_s)
        self.provision(uas_port)
        daemon, ready = self.start_daemon(node, "udp:127.0.0.1:0")
        return uas, daemon, ready["sip.udp"]

    def cdr_count(self):
        return int(self.sql("SELECT count(*) FROM cdr"))

    def cleanup(self):
        for p in reversed(self.procs):
            if p.running():
                p.stop(signal.SIGTERM, grace=3)
            elif not p.logf.closed:
                p.logf.close()

    def report_failure(self):
        print("=" * 100, flush=True)
        print(f"FAILED fault.{self.args.name}; artifacts in {self.dir}", flush=True)
        for name in ("softswitchd.out", "softswitchd2.out"):
            path = os.path.join(self.dir, name)
            if os.path.exists(path):
                print(f"--- {name} (last 60 lines) ---\n{tail(path, 60)}", flush=True)
        for name in ("uac_errors.log", "uas_errors.log"):
            path = os.path.join(self.dir, name)
            if os.path.exists(path):
                print(f"--- {name} (last 20 lines) ---\n{tail(path, 20)}", flush=True)


def verdict(name, h, body, on_failure=None, cleanup=None):
    """Runs `body()`, reports FAIL/ERROR (with the harness's logs and `on_failure()`), always
    cleans up (the harness, then `cleanup()`), and returns the exit status: 0 or 1."""
    ok = False
    try:
        body()
        ok = True
    except TestFailure as e:
        print(f"\nFAIL fault.{name}: {e}", flush=True)
    except Exception as e:  # a harness or environment error: still clean up and report
        print(f"\nERROR fault.{name}: {type(e).__name__}: {e}", flush=True)
        import traceback
        traceback.print_exc()
    finally:
        if not ok:
            h.report_failure()
            if on_failure:
                on_failure()
        h.cleanup()
        if cleanup:
            cleanup()
    if ok:
        log(f"PASS fault.{name} ({h.checks} checks)")
        return 0
    return 1



def main_with_shared_pg(name, doc, deadline_s, body):
    """The whole main() of a fault test that uses a database of its own on the SS_TEST_PG_URL
    cluster (Harness.fresh_database) and never stops PostgreSQL: arguments, prerequisites, the
    harness, then verdict() of `body(args, h)`; the database is always dropped. Returns the
    exit status."""
    args = parse_args(name, doc)
    status = prerequisites(name, need_pgbin=False)
    if status is not None:
        return status
    h = Harness(args, deadline_s)

    def drop_database():
        if h.db_name:
            try:
                psql(os.environ["SS_TEST_PG_URL"],
                     f'DROP DATABASE IF EXISTS "{h.db_name}" WITH (FORCE)')
            except Exception as e:  # noqa: BLE001 — clean-up must not hide the verdict
                log(f"warning: could not drop {h.db_name}: {e}")

    return verdict(name, h, lambda: body(args, h), cleanup=drop_database)


def main_with_private_pg(name, doc, deadline_s, body):
    """The whole main() of a fault test that runs its own PostgreSQL cluster: arguments,
    prerequisites, the harness and the cluster, then verdict() of `body(args, h, pg)` with the
    server's log on failure; the cluster is always destroyed. Returns the exit status."""
    args = parse_args(name, doc)
    status = prerequisites(name, need_pgbin=True)
    if status is not None:
        return status
    h = Harness(args, deadline_s)
    pg = PrivatePg(h.dir)
    return verdict(
        name, h, lambda: body(args, h, pg),
        on_failure=lambda: print(f"--- postgres.log (last 20 lines) ---\n"
                                 f"{tail(pg.log_path, 20)}", flush=True),
        cleanup=pg.destroy)

def numbered_scenario(src, dst):
    """Writes `dst`: the UAC scenario `src` dialling [service][call_number], a different number
    per call (155512345671, 155512345672, ... for -s 15551234567), the same one in a call's
    INVITE, CANCEL and ACK. softswitchd spreads new calls over its SIP threads by the dialled
    number (README "SIP threads"), as wholesale traffic spreads them. Returns `dst`."""
    with open(src) as f:
        text = f.read()
    out = text.replace("sip:[service]@", "sip:[service][call_number]@")
    if out == text:
        raise TestFailure(f"{src}: no sip:[service]@ to number")
    with open(dst, "w") as f:
        f.write(out)
    return dst


def sipp_final_stats(path):
    """The last row of a SIPp -trace_stat file (-stf) as {column: value}."""
    with open(path) as f:
        rows = [line.rstrip("\n").split(";") for line in f if line.strip()]
    if len(rows) < 2:
        raise TestFailure(f"SIPp statistics file {path} has no data row")
    return dict(zip(rows[0], rows[-1]))


def sipp_message_texts(path):
    """Every message of a SIPp -trace_msg log: (its time stamp text, 'sent'|'received', the
    message text), in log order."""
    with open(path, errors="replace") as f:
        text = f.read()
    for chunk in text.split("----------------------------------------------- ")[1:]:
        stamp, _, rest = chunk.partition("\n")
        what, _, msg = rest.partition("\n")
        direction = "received" if "received" in what else "sent" if "sent" in what else ""
        if direction:
            yield stamp.strip(), direction, msg


def sipp_messages(path):
    """Every message of a SIPp -trace_msg log: (epoch seconds, 'sent'|'received', first line,
    Call-ID, CSeq method), in log order."""
    out = []
    for stamp, direction, msg in sipp_message_texts(path):
        t = time.mktime(time.strptime(stamp[:19], "%Y-%m-%d %H:%M:%S")) + float("0" + stamp[19:])
        lines = [line.strip() for line in msg.strip("\r\n").splitlines()]
        first = lines[0] if lines else ""
        call_id = cseq = ""
        for line in lines[1:]:
            k, _, v = line.partition(":")
            k = k.strip().lower()
            if k in ("call-id", "i") and not call_id:
                call_id = v.strip()
            elif k == "cseq" and not cseq:
                cseq = v.strip().split(" ")[-1]
            elif not line:
                break
        out.append((t, direction, first, call_id, cseq))
    return out


def daemon_log_lines(path, needle):
    with open(path, errors="replace") as f:
        return [line.rstrip("\n") for line in f if needle in line]
