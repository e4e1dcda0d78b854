"""The systems integration/bench/bench.py measures: cassink (and a second build of it), a
Kafka Connect worker and the hand-written Python pipeline. Each starts its processes, says when
it is ready, creates its connector (or tells its processes to start), and finds and counts what
it wrote."""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import time

from common import (
    BOOTSTRAP,
    BenchError,
    CACHE,
    CASSINK,
    CONTACT,
    CQL_PORT,
    HERE,
    REPO,
    RUN_DIR,
    TABLE,
    TASKS,
    VENV_PYTHON,
    env,
    env_int,
    http,
    rest_ready,
)


# --- the systems ---------------------------------------------------------------------------------
class System:
    """One system's run: start, wait ready, create, (measured), stop, count."""

    name = ""
    writes_to = "cassandra"

    def __init__(self, ctx, round_no):
        self.ctx, self.round = ctx, round_no
        self.dir = RUN_DIR / f"{self.name}-r{round_no}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.procs = []
        self.log = self.dir / "log"

    def first_row(self):
        return self.ctx.session.execute(f"SELECT location FROM {TABLE} LIMIT 1").one() is not None

    def count(self):
        return self.ctx.session.execute(f"SELECT count(*) FROM {TABLE}", timeout=600).one()[0]

    def alive(self):
        return all(p.poll() is None for p in self.procs)


class Cassink(System):
    name = "cassink"
    port = env_int("REST_PORT", 18083)
    binary = str(CASSINK)
    worker_properties = env("BENCH_WORKER_PROPERTIES", "")

    @classmethod
    def settings(cls):
        return {"binary": cls.binary, "rest_port": Cassink.port, "offset.flush.interval.ms": 1000,
                "extra_worker_properties": cls.worker_properties,
                "connector": "connectors/weather.json (topic renamed; tasks.max=TASKS)"}

    def start(self):
        base = f"http://127.0.0.1:{self.port}"
        if rest_ready(base):
            raise BenchError(f"port {self.port} is in use: set REST_PORT")
        props = self.dir / "worker.properties"
        props.write_text("\n".join([f"bootstrap.servers={BOOTSTRAP}", f"listeners={base}",
                                    f"state.dir={self.dir}/state", "offset.flush.interval.ms=1000",
                                    self.worker_properties]) + "\n")
        if not self.binary or not os.access(self.binary, os.X_OK):
            raise BenchError(f"{self.name}: no executable cassink at {self.binary!r}")
        self.procs = [subprocess.Popen([self.binary, "worker", "--config", str(props)],
                                       stdout=open(self.log, "w"), stderr=subprocess.STDOUT)]
        self.base = base

    def ready(self):
        return rest_ready(self.base)

    def create(self):
        doc = json.load(open(REPO / "connectors" / "weather.json"))
        cfg, topic = doc["config"], self.ctx.topic
        for k in [k for k in cfg if k.startswith("topic.weather.")]:
            cfg["topic." + topic + k[len("topic.weather"):]] = cfg.pop(k)
        cfg.update({"topics": topic, "tasks.max": str(TASKS), "contactPoints": CONTACT, "port": str(CQL_PORT)})
        doc["name"] = f"bench-{self.name}-r{self.round}"
        self.group = "connect-" + doc["name"]
        (self.dir / "connector.json").write_text(json.dumps(doc, indent=1))
        http("POST", self.base + "/connectors", doc)


class CassinkB(Cassink):
    """Another build of cassink (BENCH_CASSINK_B, default: the same build) or other worker
    settings (BENCH_WORKER_PROPERTIES_B, default: BENCH_WORKER_PROPERTIES), for an interleaved
    A/B against cassink: SYSTEMS=cassink,cassink-b."""

    name = "cassink-b"
    binary = env("BENCH_CASSINK_B", "") or str(CASSINK)
    worker_properties = env("BENCH_WORKER_PROPERTIES_B", "") or Cassink.worker_properties


class Connect(System):
    """A real Kafka Connect worker, standalone. By default FileStreamSinkConnector (JsonConverter,
    schemaless, as weather.json) writing the records to a file: the framework's floor, since no
    Cassandra sink connector resolves from Maven Central. BENCH_CONNECT_CONNECTOR_JSON names a
    connector config ({"config": {...}}, @TOPIC@ @TASKS@ @CONTACT@ @PORT@ substituted) to run
    instead, taken to write the Cassandra table (put its jars in BENCH_CONNECT_LIB)."""

    name = "connect"
    port = env_int("BENCH_CONNECT_PORT", 18084)
    heap = env("BENCH_CONNECT_HEAP", "1g")
    lib = pathlib.Path(env("BENCH_CONNECT_LIB", CACHE / "bench" / "connect-peer" / "lib"))
    jvm_opts = env("BENCH_CONNECT_JVM_OPTS", "-XX:+UseG1GC").split()
    template = env("BENCH_CONNECT_CONNECTOR_JSON", "")
    writes_to = "cassandra" if template else "file"

    @classmethod
    def settings(cls):
        jars = sorted(p.name for p in cls.lib.glob("connect-*.jar")) if cls.lib.is_dir() else []
        return {"main": "org.apache.kafka.connect.cli.ConnectStandalone", "lib": str(cls.lib), "connect_jars": jars,
                "java": env("BENCH_CONNECT_JAVA", "java"), "heap": f"-Xmx{cls.heap}", "jvm_opts": cls.jvm_opts,
                "rest_port": cls.port, "offset.flush.interval.ms": 1000,
                "extra_worker_properties": env("BENCH_CONNECT_PROPERTIES", ""),
                "connector": cls.template or {
                    "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
                    "file": "RUN_DIR/connect-rN/sink.out", "key.converter": "org.apache.kafka.connect.storage.StringConverter",
                    "value.converter": "org.apache.kafka.connect.json.JsonConverter",
                    "value.converter.schemas.enable": "false", "tasks.max": "TASKS"},
                "writes_to": cls.writes_to}

    def start(self):
        if not (self.lib / "connect-runtime-4.3.0.jar").exists() and not list(self.lib.glob("connect-runtime-*.jar")):
            raise BenchError(f"no Kafka Connect jars in {self.lib} (run integration/install.sh)")
        base = f"http://127.0.0.1:{self.port}"
        if rest_ready(base):
            raise BenchError(f"port {self.port} is in use: set BENCH_CONNECT_PORT")
        props = self.dir / "connect.properties"
        props.write_text("\n".join([
            f"bootstrap.servers={BOOTSTRAP}", f"listeners={base}",
            "key.converter=org.apache.kafka.connect.storage.StringConverter",
            "value.converter=org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable=false",
            f"offset.storage.file.filename={self.dir}/offsets", "offset.flush.interval.ms=1000",
            "plugin.discovery=only_scan", env("BENCH_CONNECT_PROPERTIES", "")]) + "\n")
        cmd = [env("BENCH_CONNECT_JAVA", "java"), f"-Xmx{self.heap}", *self.jvm_opts,
               f"-Dlog4j2.configurationFile={HERE / 'connect-log4j2.properties'}",
               "-cp", f"{self.lib}/*", "org.apache.kafka.connect.cli.ConnectStandalone", str(props)]
        self.procs = [subprocess.Popen(cmd, stdout=open(self.log, "w"), stderr=subprocess.STDOUT)]
        self.base = base
        self.out = self.dir / "sink.out"

    def ready(self):
        return rest_ready(self.base)

    def create(self):
        name = f"bench-connect-r{self.round}"
        if self.template:
            text = pathlib.Path(self.template).read_text()
            for k, v in {"@TOPIC@": self.ctx.topic, "@TASKS@": str(TASKS), "@CONTACT@": CONTACT,
                         "@PORT@": str(CQL_PORT)}.items():
                text = text.replace(k, v)
            cfg = json.loads(text)["config"]
        else:
            cfg = {"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
                   "file": str(self.out), "topics": self.ctx.topic, "tasks.max": str(TASKS),
                   "key.converter": "org.apache.kafka.connect.storage.StringConverter",
                   "value.converter": "org.apache.kafka.connect.json.JsonConverter",
                   "value.converter.schemas.enable": "false"}
        doc = {"name": name, "config": cfg}
        self.group = "connect-" + name
        (self.dir / "connector.json").write_text(json.dumps(doc, indent=1))
        http("POST", self.base + "/connectors", doc)

    def first_row(self):
        if self.writes_to == "cassandra":
            return super().first_row()
        return self.out.exists() and self.out.stat().st_size > 0

    def count(self):
        if self.writes_to == "cassandra":
            return super().count()
        with open(self.out, "rb") as f:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))

    def cleanup(self):
        if self.writes_to == "file" and self.out.exists():
            self.out.unlink()


class Python(System):
    """integration/bench/python_peer.py, one process per task, one consumer group."""

    name = "python"
    processes = env_int("BENCH_PY_PROCESSES", 0) or TASKS
    batch = env_int("BENCH_PY_BATCH", 500)
    concurrency = env_int("BENCH_PY_CONCURRENCY", 64)

    @classmethod
    def settings(cls):
        return {"script": "integration/bench/python_peer.py", "python": VENV_PYTHON, "processes": cls.processes,
                "batch": cls.batch, "concurrency": cls.concurrency, "consistency": "LOCAL_QUORUM",
                "commit": "synchronous, after each batch Cassandra acknowledged",
                "clients": "confluent-kafka consumer, cassandra-driver prepared INSERT + execute_concurrent_with_args"}

    def start(self):
        self.group = f"bench-python-r{self.round}-{int(time.time())}"
        cmd = [VENV_PYTHON, str(HERE / "python_peer.py"), "--bootstrap", BOOTSTRAP, "--topic", self.ctx.topic,
               "--group", self.group, "--contact", CONTACT, "--port", str(CQL_PORT), "--table", TABLE,
               "--batch", str(self.batch), "--concurrency", str(self.concurrency)]
        self.logf = open(self.log, "w")
        self.procs = [subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.logf, text=True)
                      for _ in range(self.processes)]
        self.readied = 0

    def ready(self):
        # Each process prints READY on its own once connected; readline blocks, one at a time.
        while self.readied < len(self.procs):
            line = self.procs[self.readied].stdout.readline()
            if not line:
                return False
            if line.strip() == "READY":
                self.readied += 1
        return True

    def create(self):
        for p in self.procs:
            p.stdin.write("go\n")
            p.stdin.flush()


SYSTEM_CLASSES = {c.name: c for c in (Cassink, CassinkB, Connect, Python)}
