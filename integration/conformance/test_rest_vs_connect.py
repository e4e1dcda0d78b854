"""cassink's REST API diffed against a real Kafka Connect worker.

A Kafka Connect 4.3 worker (jars resolved by Maven from integration/connect-reference/pom.xml
into $CASSINK_CACHE/connect-reference/lib), standalone (`ConnectStandalone`) and distributed
(`ConnectDistributed`, its topics on the real broker), runs the FileStreamSink connector; a
`cassink worker` in the same mode runs the Cassandra sink. The
same sequence of requests goes to both (create, 409, 400, expand, config GET/PUT/PATCH, status,
tasks, pause/resume/stop, restart, offsets, topics, plugins, validate, loggers, health, unknown
paths and methods, bad bodies), and for each the status code and the JSON shape (keys and value
types, not values) must be equal, and state transitions must reach the same states.

Where cassink answers differently on purpose, DELIBERATE names the request and why; the README's
migration section lists the same.
"""
from __future__ import annotations

import contextlib
import json
import os
import pathlib
import uuid

import pytest

from harness import (BOOTSTRAP, CONTACT, CQL_PORT, SINK_CLASS, call, distributed_properties, send, serve,
                     start_worker, topic, wait_until)

CACHE = pathlib.Path(os.environ.get("CASSINK_CACHE", pathlib.Path.home() / ".cache" / "cassink"))
CONNECT_LIB = CACHE / "connect-reference" / "lib"

# request label -> why cassink answers differently on purpose.
DELIBERATE = {
    "create without config": "Connect fails with a 500 (a NullPointerException); cassink "
                             "answers 400 listing the missing keys",
    "create with a bad body": "Connect answers malformed JSON with a 500; cassink with a 400",
    "validate an unknown plugin": "Connect answers a 500 wrapping its BadRequestException; "
                                  "cassink a 404 (Unknown plugin)",
    "distributed:create": "Connect's distributed worker answers the create before its leader has "
                          "made the tasks (`tasks: []`); cassink lists the tasks it will run",
}


@contextlib.contextmanager
def start_connect(mode):
    assert (CONNECT_LIB / "connect-runtime-4.3.0.jar").exists(), \
        f"no Kafka Connect at {CONNECT_LIB} (run integration/install.sh)"
    main = ("org.apache.kafka.connect.cli.ConnectDistributed" if mode == "distributed"
            else "org.apache.kafka.connect.cli.ConnectStandalone")

    def lines(_base, tmp):
        out = [f"bootstrap.servers={BOOTSTRAP}",
               "key.converter=org.apache.kafka.connect.storage.StringConverter",
               "value.converter=org.apache.kafka.connect.storage.StringConverter",
               "offset.flush.interval.ms=500", "plugin.discovery=only_scan"]
        if mode == "distributed":
            return out + distributed_properties(f"connect-ref-{uuid.uuid4().hex[:8]}")
        return out + [f"offset.storage.file.filename={tmp}/offsets"]
    with serve("Kafka Connect's REST API", ["java", "-Xms128m", "-Xmx512m", "-cp", f"{CONNECT_LIB}/*", main],
               lines, timeout=180) as server:
        yield server


def start_cassink(mode):
    extra = distributed_properties(f"cassink-ref-{uuid.uuid4().hex[:8]}") if mode == "distributed" else []
    return start_worker(["offset.flush.interval.ms=500", *extra], timeout=90)


@pytest.fixture(scope="module", params=["standalone", "distributed"])
def workers(request):
    with start_connect(request.param) as connect, start_cassink(request.param) as cassink:
        yield connect, cassink, request.param


def shape(value, path=""):
    """Keys and value types of a JSON document; connector configs (whose keys are the plugin's
    own) and free-form maps are reduced to 'an object of strings'."""
    if isinstance(value, dict):
        if path.endswith("config"):
            return {"*": sorted({shape(v) for v in value.values()})}
        if path.endswith("loggers"):
            return {"*": [shape(v) for v in value.values()][:1]}
        return {k: shape(v, f"{path}.{k}") for k, v in sorted(value.items())}
    if isinstance(value, list):
        shapes = []
        for item in value:
            s = shape(item, path + "[]")
            if s not in shapes:
                shapes.append(s)
        return shapes[:1] if all(s == shapes[0] for s in shapes) else shapes
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "null"
    return "string"


class Side:
    def __init__(self, server, config, name):
        self.base, self.config, self.name = server.base, config, name

    def __call__(self, method, path, body=None, raw=None):
        path = path.replace("{c}", self.name).replace("{p}", self.config["connector.class"])
        return call(method, self.base + path, body, raw)


def connect_config(t, tmp):
    return {"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
            "tasks.max": "1", "topics": t, "file": f"{tmp}/sink.txt"}


def cassink_config(t, keyspace):
    return {"connector.class": SINK_CLASS,
            "tasks.max": "1", "topics": t, "contactPoints": CONTACT, "port": CQL_PORT,
            "loadBalancing.localDc": "datacenter1",
            "key.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter": "org.apache.kafka.connect.storage.StringConverter",
            f"topic.{t}.{keyspace}.tbl.mapping": "id=key, v=value"}


def state_of(side):
    _, st = side("GET", "/connectors/{c}/status")
    return (st or {}).get("connector", {}).get("state")


def test_the_same_requests_get_the_same_answers(workers, session, ks):
    connect, cassink, mode = workers
    session.execute(f"CREATE TABLE {ks}.tbl (id text PRIMARY KEY, v text)")
    t = topic("restdiff")
    name = f"diff-{uuid.uuid4().hex[:6]}"
    sides = {"connect": Side(connect, connect_config(t, connect.dir), name),
             "cassink": Side(cassink, cassink_config(t, ks), name)}
    differences = []

    def both(label, method, path, body=None, raw=None, compare_shape=True, body_of=None, root=""):
        answers = {}
        for who, side in sides.items():
            b = body_of(side) if body_of else body
            answers[who] = side(method, path, b, raw)
        (cs, cb), (ks, kb) = answers["connect"], answers["cassink"]
        same = cs == ks and (not compare_shape or shape(cb, root) == shape(kb, root))
        if not same and label not in DELIBERATE and f"{mode}:{label}" not in DELIBERATE:
            differences.append(f"{label}: {method} {path}\n  connect: {cs} {json.dumps(cb)[:600]}\n"
                               f"  cassink: {ks} {json.dumps(kb)[:600]}")
        return answers

    def settle(label, want):
        for who, side in sides.items():
            try:
                wait_until(f"{who} {label} {want}", lambda: state_of(side) == want, timeout=60)
            except AssertionError:
                differences.append(f"{label}: {who} never reached {want} (at {state_of(side)})")

    both("root", "GET", "/")
    both("list empty", "GET", "/connectors")
    both("create", "POST", "/connectors", body_of=lambda s: {"name": name, "config": s.config})
    both("create again", "POST", "/connectors", body_of=lambda s: {"name": name, "config": s.config})
    both("create without config", "POST", "/connectors", {"name": "x-" + name})
    both("create with a bad body", "POST", "/connectors", raw=b"{not json")
    both("create with a missing class", "POST", "/connectors",
         {"name": "y-" + name, "config": {"connector.class": "com.example.Missing", "topics": t}})
    settle("after create", "RUNNING")
    both("list", "GET", "/connectors")
    both("expand status+info", "GET", "/connectors?expand=status&expand=info")
    both("get", "GET", "/connectors/{c}")
    both("get config", "GET", "/connectors/{c}/config", root="config")
    both("put config", "PUT", "/connectors/{c}/config", body_of=lambda s: s.config)
    both("patch config with null", "PATCH", "/connectors/{c}/config", {"tasks.max": "1", "no.such.key": None})
    both("status", "GET", "/connectors/{c}/status")
    both("tasks", "GET", "/connectors/{c}/tasks")
    both("task status", "GET", "/connectors/{c}/tasks/0/status")
    both("unknown task status", "GET", "/connectors/{c}/tasks/9/status")
    both("topics before any record", "GET", "/connectors/{c}/topics")
    send(t, [("k", "v")])
    for who, side in sides.items():
        wait_until(f"{who} reporting {t} active",
                   lambda: (side("GET", "/connectors/{c}/topics")[1] or {}).get(name, {}).get("topics") == [t])
    both("topics", "GET", "/connectors/{c}/topics")
    both("offsets while running", "GET", "/connectors/{c}/offsets")
    both("pause", "PUT", "/connectors/{c}/pause")
    settle("after pause", "PAUSED")
    both("resume", "PUT", "/connectors/{c}/resume")
    settle("after resume", "RUNNING")
    both("restart", "POST", "/connectors/{c}/restart")
    both("restart with tasks", "POST", "/connectors/{c}/restart?includeTasks=true&onlyFailed=false")
    both("restart task", "POST", "/connectors/{c}/tasks/0/restart")
    both("restart only failed", "POST", "/connectors/{c}/restart?includeTasks=true&onlyFailed=true")
    both("stop", "PUT", "/connectors/{c}/stop")
    settle("after stop", "STOPPED")
    both("offsets while stopped", "GET", "/connectors/{c}/offsets")
    both("alter offsets while stopped", "PATCH", "/connectors/{c}/offsets", {"offsets": [
        {"partition": {"kafka_topic": t, "kafka_partition": 0}, "offset": {"kafka_offset": 1}}]})
    both("alter offsets with a bad body", "PATCH", "/connectors/{c}/offsets", {"offsets": [{"partition": {}}]})
    both("topics reset", "PUT", "/connectors/{c}/topics/reset")
    both("topics after reset", "GET", "/connectors/{c}/topics")
    both("delete offsets while stopped", "DELETE", "/connectors/{c}/offsets")
    both("plugins", "GET", "/connector-plugins")
    both("plugins with the rest", "GET", "/connector-plugins?connectorsOnly=false", compare_shape=False)
    both("validate an unknown plugin", "PUT", "/connector-plugins/x/config/validate", {"connector.class": "x"},
         compare_shape=False)
    both("validate", "PUT", "/connector-plugins/{p}/config/validate",
         body_of=lambda s: dict(s.config, name="v"), compare_shape=False)
    both("loggers", "GET", "/admin/loggers", root="loggers")
    both("one logger", "GET", "/admin/loggers/root")
    both("set a logger", "PUT", "/admin/loggers/org.example.quiet", {"level": "WARN"})
    both("set a logger to a bad level", "PUT", "/admin/loggers/org.example.quiet", {"level": "LOUD"})
    both("health", "GET", "/health")
    both("unknown connector", "GET", "/connectors/no-such-connector")
    both("unknown path", "GET", "/no/such/path")
    both("wrong method", "DELETE", "/connector-plugins")
    both("delete", "DELETE", "/connectors/{c}")
    # A distributed worker forgets a deleted connector once it reads the deletion back.
    for who, side in sides.items():
        wait_until(f"{who} forgetting {name}", lambda: side("GET", "/connectors/{c}/status")[0] == 404)
    both("gone", "GET", "/connectors/{c}/status")
    assert not differences, f"{len(differences)} differences:\n" + "\n".join(differences)
