"""What integration/bench/bench.py and its systems share: the settings (environment variables
with their defaults), logging, and the probes of a process tree (CPU ticks, RSS) and of a REST
API."""
from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent
HZ = os.sysconf("SC_CLK_TCK")


def env(name, default):
    return os.environ.get(name) or default


def env_int(name, default):
    return int(env(name, default))


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


RECORDS = env_int("RECORDS", 1_000_000)
ROUNDS = env_int("ROUNDS", 3)
TASKS = env_int("TASKS", 3)
PARTITIONS = env_int("PARTITIONS", 6)
SYSTEMS = [s.strip() for s in env("SYSTEMS", "cassink,connect,python").split(",") if s.strip()]
BOOTSTRAP = env("KAFKA_BOOTSTRAP", "127.0.0.1:9092")
CONTACT = env("CASSANDRA_CONTACT_POINTS", "127.0.0.1").split(",")[0]
CQL_PORT = env_int("CASSANDRA_PORT", 9042)
TABLE = "kafkapipeline.weatherreport"
RUN_DIR = pathlib.Path(env("RUN_DIR", REPO / "integration" / ".stack" / "bench"))
TIMEOUT_S = float(env("BENCH_TIMEOUT", 1800))
STALL_S = float(env("BENCH_STALL_S", 180))
SAMPLE_S = float(env("SAMPLE_S", 0.5))
STOP_GRACE_S = float(env("BENCH_STOP_GRACE_S", 15))
CASSINK = env("BENCH_CASSINK", REPO / "target" / "release" / "cassink")
VENV_PYTHON = env("BENCH_PYTHON", sys.executable)
RSS_STEP = env_int("RSS_STEP", 100_000)
PROFILE = env("BENCH_PROFILE", "")
CACHE = pathlib.Path(env("CASSINK_CACHE", pathlib.Path.home() / ".cache" / "cassink"))


# --- the process tree: CPU ticks and RSS ---------------------------------------------------------
def tree(roots):
    """roots and all their live descendants."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], list(roots)
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def ticks(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
        except OSError:
            pass
    return total


def machine_busy_ticks():
    """Ticks every CPU of the machine spent busy (not idle, not waiting for I/O)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return sum(fields) - fields[3] - fields[4]


def cassandra_pids():
    """The Cassandra servers running on this machine (the local stack), by main class."""
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                if b"org.apache.cassandra.service.CassandraDaemon" in f.read():
                    found.append(int(d))
        except OSError:
            continue
    return found


def status_kb(pids, key):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                total += next(int(l.split()[1]) for l in f if l.startswith(key + ":"))
        except (OSError, StopIteration):
            pass
    return total


class Sampler(threading.Thread):
    """The tree's RSS every SAMPLE_S seconds: (time, MB) pairs."""

    def __init__(self, roots):
        super().__init__(daemon=True)
        self.roots, self.samples, self.halt = roots, [], threading.Event()

    def run(self):
        while not self.halt.is_set():
            self.samples.append((time.time(), status_kb(tree(self.roots), "VmRSS") / 1024))
            self.halt.wait(SAMPLE_S)


class Watch(threading.Thread):
    """Polls check() until it is true; `at` is when it first was."""

    def __init__(self, check, every=0.05):
        super().__init__(daemon=True)
        self.check, self.every, self.at, self.halt = check, every, None, threading.Event()

    def run(self):
        while not self.halt.is_set():
            try:
                if self.check():
                    self.at = time.time()
                    return
            except Exception as e:  # noqa: BLE001 - a failed probe is retried
                log(f"probe failed (retried): {e}")
            self.halt.wait(self.every)


def http(method, url, body=None, timeout=10):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read().decode()


def rest_ready(base):
    try:
        return http("GET", base + "/connectors", timeout=2)[0] == 200
    except (urllib.error.URLError, OSError):
        return False


def stop_processes(procs):
    """SIGTERM, then SIGKILL after STOP_GRACE_S; says how they ended ("SIGTERM" or "SIGKILL")."""
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline, how = time.time() + STOP_GRACE_S, "SIGTERM"
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            how = f"SIGKILL (still running {STOP_GRACE_S:g}s after SIGTERM)"
    return how


def tail(path, n=40):
    try:
        return "".join(pathlib.Path(path).read_text(errors="replace").splitlines(True)[-n:])
    except OSError:
        return "(no log)"
