"""What the conformance tests share: starting a server process (a `cassink worker`, or Kafka
Connect for the REST diff) and waiting for its REST API, calling that API, creating
connectors, waiting for their records to be committed, and the Kafka clients the tests produce
and read with. The pytest fixtures built on it (worker, session, ks, registry) are in
conftest.py.

KAFKA_BOOTSTRAP, CASSANDRA_CONTACT_POINTS, CASSANDRA_PORT and SCHEMA_REGISTRY_URL select the
servers (default: the local stack of integration/stack.sh); CASSINK_BIN the binary (default:
the newer of target/debug/cassink and target/release/cassink).
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import pathlib
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

REPO = pathlib.Path(__file__).resolve().parents[2]
BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP", "127.0.0.1:9092")
CONTACT = os.environ.get("CASSANDRA_CONTACT_POINTS", "127.0.0.1").split(",")[0].strip()
CQL_PORT = os.environ.get("CASSANDRA_PORT", "9042")
REGISTRY = os.environ.get("SCHEMA_REGISTRY_URL", "http://127.0.0.1:8081/apis/ccompat/v7")
SINK_CLASS = "com.datastax.oss.kafka.sink.CassandraSinkConnector"


def cassink_binary():
    explicit = os.environ.get("CASSINK_BIN")
    if explicit:
        return explicit
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    built = [p for p in (target / "debug" / "cassink", target / "release" / "cassink") if p.exists()]
    assert built, "no cassink binary: run `cargo build -p cassink` first"
    return str(max(built, key=lambda p: p.stat().st_mtime))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what, check, timeout=60.0):
    """Polls `check` until it returns something true (which it returns); fails after `timeout`
    seconds, naming `what`."""
    deadline = time.time() + timeout
    while True:
        got = check()
        if got:
            return got
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)


def call(method, url, body=None, raw=None):
    """One HTTP request with a JSON `body` (or `raw` bytes): (status, parsed JSON answer, or
    None for an empty one, or the text of an error answer that is not JSON)."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            text = r.read().decode()
            return r.status, json.loads(text) if text.strip() else None
    except urllib.error.HTTPError as e:
        text = e.read().decode()
        try:
            return e.code, json.loads(text) if text.strip() else None
        except ValueError:
            return e.code, text


def answers(base):
    """The worker answers requests (a distributed one only once it joined its group)."""
    try:
        with urllib.request.urlopen(base + "/connectors", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@dataclasses.dataclass
class Server:
    """A server process started by `serve`: its REST base URL, its own temporary directory
    (properties, log, state) and the process."""
    base: str
    dir: str
    proc: subprocess.Popen
    log: pathlib.Path

    def log_text(self):
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def serve(what, command, properties, *, timeout, stop_within=60, must_not_log=None):
    """Runs `command` + the path of a properties file holding `listeners` on a free port and
    `properties(base, dir)` (lines), in a fresh temporary directory, until its REST API
    answers (failing early if it exits); yields a Server, then stops it with SIGTERM. When the
    body went through, the log must not contain `must_not_log`."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        props = pathlib.Path(tmp) / "server.properties"
        props.write_text("\n".join([f"listeners={base}", *properties(base, tmp)]) + "\n")
        log = pathlib.Path(tmp) / "server.log"
        with open(log, "w") as out:
            proc = subprocess.Popen([*command, str(props)], stdout=out, stderr=subprocess.STDOUT)
        server = Server(base, tmp, proc, log)
        try:
            wait_until(what, lambda: answers(base) or proc.poll() is not None, timeout=timeout)
            assert proc.poll() is None, f"{what}: the process exited:\n" + server.log_text()[-3000:]
            yield server
        finally:
            proc.terminate()
            proc.wait(timeout=stop_within)
        if must_not_log is not None:
            text = server.log_text()
            assert must_not_log not in text, text[-4000:]


@contextlib.contextmanager
def start_worker(properties=(), timeout=30):
    """A `cassink worker` of BOOTSTRAP with its own state dir and `properties` (lines) on top;
    it must not panic."""
    def lines(_base, tmp):
        return [f"bootstrap.servers={BOOTSTRAP}", f"state.dir={tmp}/state", *properties]
    with serve("cassink's REST API", [cassink_binary(), "worker", "--config"], lines,
               timeout=timeout, must_not_log="panicked") as server:
        yield server


def distributed_properties(cluster):
    """Worker properties of a distributed cluster `cluster`, its topics on BOOTSTRAP."""
    return [f"group.id={cluster}", f"config.storage.topic={cluster}-configs",
            f"offset.storage.topic={cluster}-offsets", f"status.storage.topic={cluster}-status",
            "config.storage.replication.factor=1", "offset.storage.replication.factor=1",
            "status.storage.replication.factor=1"]


def create_connector(base, config, name=None, prefix="connector"):
    """POSTs `config` as connector `name` (default: a fresh `<prefix>-...`), which must answer
    201; returns the name and the connector's consumer group."""
    name = name or f"{prefix}-{uuid.uuid4().hex[:8]}"
    status, body = call("POST", f"{base}/connectors", {"name": name, "config": config})
    assert status == 201, body
    return name, f"connect-{name}"


def committed(group, name, partitions=1):
    """The offsets `group` committed on topic `name`, summed over its partitions."""
    c = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": group})
    try:
        offsets = c.committed([TopicPartition(name, p) for p in range(partitions)], timeout=10)
        return sum(max(tp.offset, 0) for tp in offsets)
    except KafkaException as e:
        # A coordinator still moving (a fresh broker, a new group) answers again shortly; a
        # fresh broker answers NOT_COORDINATOR without marking it retriable.
        if e.args and (e.args[0].retriable() or e.args[0].code() == KafkaError.NOT_COORDINATOR):
            return 0
        raise
    finally:
        c.close()


def drain(base, name, group, topic_name, expected, partitions=1):
    """Waits until every record is committed (so written), failing early on a failed task."""
    def done():
        _, st = call("GET", f"{base}/connectors/{name}/status")
        for t in (st or {}).get("tasks", []):
            assert t["state"] != "FAILED", t.get("trace")
        return committed(group, topic_name, partitions) >= expected
    wait_until(f"{expected} records committed on {topic_name}", done)


def topic(prefix, partitions=1):
    """A fresh topic `<prefix>-...` with one replica."""
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    admin = AdminClient({"bootstrap.servers": BOOTSTRAP})
    for f in admin.create_topics([NewTopic(name, partitions, 1)]).values():
        f.result(30)
    return name


def send(topic_name, records):
    """records: (key, value) or (key, value, headers); keys and values str, bytes or None."""
    p = Producer({"bootstrap.servers": BOOTSTRAP})
    for key, value, *headers in records:
        p.produce(topic_name, key=key, value=value, headers=(headers[0] if headers else None) or [])
    assert p.flush(30) == 0


def dead_letters(dlq, expected):
    """The headers of the first `expected` records on the dead letter queue `dlq`."""
    c = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": f"dlq-{uuid.uuid4().hex[:6]}",
                  "auto.offset.reset": "earliest"})
    c.subscribe([dlq])
    got = []
    try:
        def poll():
            m = c.poll(1.0)
            if m is not None and m.error() is None:
                got.append({k: (v or b"").decode(errors="replace") for k, v in m.headers() or []})
            return len(got) >= expected
        wait_until(f"{expected} dead letters on {dlq}", poll)
    finally:
        c.close()
    return got
