"""The side-by-side benchmark behind integration/bench.sh: cassink, a Kafka Connect worker and a
hand-written Python pipeline, interleaved, on the same broker, Cassandra and records.

One topic of RECORDS weather reports (`cassink produce weather`, PARTITIONS partitions) is
produced once; every run of every system reads it from the start in a consumer group of its
own, with TASKS tasks (Python: TASKS processes), into kafkapipeline.weatherreport, truncated
before each run. ROUNDS rounds run the systems in SYSTEMS order (cassink, connect, python,
cassink, ...). One JSON document goes to stdout, logs to stderr; files of the runs (worker logs,
configs, the raw JSON) go under RUN_DIR.

Figures of one run (t_create = connector created / the Python processes told to start):
  records_per_s             RECORDS / (t_create -> committed offsets cover every record). cassink
                            and the Python peer commit only what Cassandra acknowledged; Connect's
                            FileStreamSink commits what it flushed to its file.
  records_per_s_after_first_row  the same from the first row in the table (line in the file).
  cpu_us_per_record         utime+stime of the process tree (/proc/<pid>/stat), t_create -> done
  cpu_us_per_record_with_startup  the same from process start (JVM start-up, JIT, imports)
  cpu_cores / cassandra_cpu_cores / machine_busy_cores  cores held on average, t_create -> done,
                            by the process tree / the local Cassandra server (None when it runs
                            elsewhere) / the whole machine (/proc/stat, not idle nor iowait), of
                            machine_cores: who the throughput waits for
  peak_rss_mb / steady_rss_mb  the tree's RSS sampled every SAMPLE_S (0.5 s) from process start:
                            its maximum / the median of the samples in the second half of the ingest
  ingest_peak_rss_mb        the maximum of the samples between t_create and done (Connect's
                            start-up, its plugin scan, can peak above its ingest)
  rss_mb_at_committed       the tree's RSS at the first poll past every RSS_STEP (100,000) records
  hwm_rss_mb                the sum of the processes' VmHWM (exact peak for one process)
  start_to_ready_s          process start -> first 200 from GET /connectors (Python: every
                            process has its session, prepared statement and consumer)
  create_to_first_row_s     t_create -> the first row in the table (line in the file)
BENCH_PROFILE=FILE records a perf profile of cassink in round 1 (see profile()).
Every run must have written RECORDS rows (lines) and committed RECORDS offsets, or the bench fails.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

from cassandra.cluster import Cluster
from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient

from common import (
    BOOTSTRAP,
    BenchError,
    CASSINK,
    CONTACT,
    CQL_PORT,
    HZ,
    PARTITIONS,
    PROFILE,
    RECORDS,
    ROUNDS,
    RSS_STEP,
    RUN_DIR,
    SAMPLE_S,
    STALL_S,
    SYSTEMS,
    Sampler,
    TABLE,
    TASKS,
    TIMEOUT_S,
    Watch,
    cassandra_pids,
    env,
    log,
    machine_busy_ticks,
    status_kb,
    stop_processes,
    tail,
    ticks,
    tree,
)
from systems import SYSTEM_CLASSES


# --- one run -------------------------------------------------------------------------------------
class Context:
    def __init__(self, topic):
        self.topic = topic
        self.cluster = Cluster([CONTACT], port=CQL_PORT)
        self.session = self.cluster.connect()


def committed(consumer, topic, previous=0):
    """The committed records of `topic`; `previous` while the group's coordinator is moving (a
    fresh broker answers NOT_COORDINATOR without marking it retriable)."""
    try:
        parts = consumer.committed([TopicPartition(topic, p) for p in range(PARTITIONS)], timeout=10)
    except KafkaException as e:
        err = e.args[0] if e.args else None
        moving = (KafkaError.NOT_COORDINATOR, KafkaError.COORDINATOR_LOAD_IN_PROGRESS)
        if err is not None and (err.retriable() or err.code() in moving):
            return previous
        raise
    return sum(max(tp.offset, 0) for tp in parts)


def profile(s, roots, round_no):
    """BENCH_PROFILE=FILE: a CPU profile (perf, software clock, DWARF unwinding: the release
    build has no frame pointers) of the cassink worker's first BENCH_PROFILE_SECONDS (10) of
    ingestion in round 1."""
    if not PROFILE or s.name != "cassink" or round_no != 1:
        return None
    return subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-F", "1999", "--call-graph", "dwarf,32768",
                             "-p", str(roots[0]), "-o", PROFILE, "--", "sleep", env("BENCH_PROFILE_SECONDS", "10")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run_one(ctx, cls, round_no):
    s = cls(ctx, round_no)
    log(f"round {round_no}: {s.name}")
    ctx.session.execute(f"TRUNCATE {TABLE}", timeout=120)
    t_spawn = time.time()
    s.start()
    roots = [p.pid for p in s.procs]
    sampler = Sampler(roots)
    sampler.start()
    watcher = None
    try:
        deadline = time.time() + 180
        while not s.ready():
            if not s.alive() or time.time() > deadline:
                raise BenchError(f"{s.name} did not become ready; log {s.log}:\n{tail(s.log)}")
            time.sleep(0.05)
        t_ready = time.time()
        ticks0 = ticks(tree(roots))
        cassandra = cassandra_pids()
        cassandra0, machine0 = ticks(cassandra), machine_busy_ticks()
        t0 = time.time()
        s.create()
        watcher = Watch(s.first_row)
        watcher.start()
        profiler = profile(s, roots, round_no)
        consumer = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": s.group, "enable.auto.commit": False})
        done, last, last_change = 0, -1, time.time()
        at_committed, next_mark = {}, 0
        while True:
            if not s.alive():
                raise BenchError(f"{s.name} exited; log {s.log}:\n{tail(s.log)}")
            done = committed(consumer, ctx.topic, done)
            now = time.time()
            if done >= next_mark:  # the tree's RSS at the first poll past every RSS_STEP records
                at_committed[str(done // RSS_STEP * RSS_STEP)] = round(status_kb(tree(roots), "VmRSS") / 1024, 1)
                next_mark = (done // RSS_STEP + 1) * RSS_STEP
            if done >= RECORDS:
                break
            if done != last:
                last, last_change = done, now
            if now - last_change > STALL_S or now - t0 > TIMEOUT_S:
                raise BenchError(f"{s.name} stalled at {done} of {RECORDS} committed records; log {s.log}:\n{tail(s.log)}")
            time.sleep(0.2)
        t1 = time.time()
        pids = tree(roots)
        ticks1 = ticks(pids)
        cassandra1, machine1 = ticks(cassandra), machine_busy_ticks()
        hwm = status_kb(pids, "VmHWM") / 1024
        consumer.close()
        watcher.join(timeout=30)
        if profiler:
            profiler.wait()
    finally:
        sampler.halt.set()
        if watcher:
            watcher.halt.set()
        t_stop = time.time()
        exit_how = stop_processes(s.procs)
        stop_s = time.time() - t_stop
        if exit_how != "SIGTERM":
            log(f"{s.name} round {round_no}: {exit_how}; log {s.log}")
    sampler.join()
    rows = s.count()
    if rows != RECORDS or done != RECORDS:
        raise BenchError(f"{s.name} round {round_no}: {rows} {s.writes_to} rows and {done} committed offsets, "
                         f"want {RECORDS} of each; log {s.log}")
    if hasattr(s, "cleanup"):
        s.cleanup()
    secs = t1 - t0
    mid = t0 + secs / 2
    steady = [mb for t, mb in sampler.samples if mid <= t <= t1] or [sampler.samples[-1][1]]
    startup_ticks = ticks1  # since process start: every process of the tree started at t_spawn
    first = watcher.at
    return {
        "records_per_s": round(RECORDS / secs),
        "seconds": round(secs, 2),
        "records_per_s_after_first_row": round(RECORDS / (t1 - first)) if first and t1 > first else None,
        "cpu_us_per_record": round((ticks1 - ticks0) / HZ * 1e6 / RECORDS, 2),
        "cpu_us_per_record_with_startup": round(startup_ticks / HZ * 1e6 / RECORDS, 2),
        # Who held the cores during the ingest: this system, the local Cassandra, everything.
        "cpu_cores": round((ticks1 - ticks0) / HZ / secs, 2),
        "cassandra_cpu_cores": round((cassandra1 - cassandra0) / HZ / secs, 2) if cassandra else None,
        "machine_busy_cores": round((machine1 - machine0) / HZ / secs, 2),
        "machine_cores": os.cpu_count(),
        "peak_rss_mb": round(max(mb for _, mb in sampler.samples), 1),
        "ingest_peak_rss_mb": round(max(mb for t, mb in sampler.samples if t0 <= t <= t1), 1)
        if any(t0 <= t <= t1 for t, _ in sampler.samples) else None,
        "steady_rss_mb": round(statistics.median(steady), 1),
        "hwm_rss_mb": round(hwm, 1),
        "start_to_ready_s": round(t_ready - t_spawn, 2),
        "create_to_first_row_s": round(first - t0, 3) if first else None,
        "rows_found": rows,
        "committed": done,
        "rss_samples": len(sampler.samples),
        "rss_mb_at_committed": at_committed,
        "stopped_by": exit_how,
        "stop_s": round(stop_s, 2),
    }


# --- the whole bench -----------------------------------------------------------------------------
def produce(topic):
    log(f"producing {RECORDS} weather records to {topic} ({PARTITIONS} partitions)")
    t = time.time()
    subprocess.run([str(CASSINK), "produce", "weather", "--topic", topic, "--partitions", str(PARTITIONS),
                    "--create-topic", "--count", str(RECORDS), "--bootstrap", BOOTSTRAP],
                   check=True, stdout=sys.stderr)
    log(f"produced in {time.time() - t:.1f}s")


def delete_topic(topic):
    admin = AdminClient({"bootstrap.servers": BOOTSTRAP, "log_level": 3})  # kept alive until the futures resolve
    try:
        for f in admin.delete_topics([topic], operation_timeout=60).values():
            f.result()
    except Exception as e:  # noqa: BLE001
        log(f"could not delete topic {topic}: {e}")


NUMERIC = ["records_per_s", "seconds", "records_per_s_after_first_row", "cpu_us_per_record",
           "cpu_us_per_record_with_startup", "peak_rss_mb", "ingest_peak_rss_mb", "steady_rss_mb", "hwm_rss_mb",
           "start_to_ready_s", "create_to_first_row_s", "cpu_cores", "cassandra_cpu_cores", "machine_busy_cores"]


def summarize(rounds):
    out = {"median": {}, "min": {}, "max": {}}
    for k in NUMERIC:
        vals = [r[k] for r in rounds if r.get(k) is not None]
        if vals:
            out["median"][k] = round(statistics.median(vals), 3)
            out["min"][k], out["max"][k] = min(vals), max(vals)
    return out


def main():
    unknown = [s for s in SYSTEMS if s not in SYSTEM_CLASSES]
    if unknown:
        raise BenchError(f"unknown SYSTEMS {unknown}: choose from {sorted(SYSTEM_CLASSES)}")
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    topic = f"bench_weather_{int(time.time())}"
    started = time.time()
    produce(topic)
    ctx = Context(topic)
    raw = {s: [] for s in SYSTEMS}
    try:
        for r in range(1, ROUNDS + 1):
            for name in SYSTEMS:
                result = run_one(ctx, SYSTEM_CLASSES[name], r)
                log(f"round {r}: {name}: {json.dumps(result)}")
                raw[name].append(result)
                (RUN_DIR / "raw.json").write_text(json.dumps(raw, indent=1))
    finally:
        try:
            ctx.session.execute(f"TRUNCATE {TABLE}", timeout=120)
        finally:
            ctx.cluster.shutdown()
            delete_topic(topic)
    systems = {name: {**summarize(rs), "rounds": rs} for name, rs in raw.items()}
    ratios = {}
    if "cassink" in systems:
        c = systems["cassink"]["median"]
        for peer in (p for p in systems if p != "cassink"):
            m = systems[peer]["median"]
            ratios[f"cassink/{peer}"] = {k: round(c[k] / m[k], 3) for k in
                                         ("cpu_us_per_record", "peak_rss_mb", "ingest_peak_rss_mb", "steady_rss_mb",
                                                   "records_per_s")
                                         if c.get(k) and m.get(k)}
    doc = {
        "bench": "weather_side_by_side",
        "records": RECORDS, "rounds": ROUNDS, "tasks": TASKS, "partitions": PARTITIONS, "order": SYSTEMS,
        "wall_seconds": round(time.time() - started, 1),
        "measure": {"records_per_s": "connector creation -> committed offsets cover every record",
                    "cpu": "utime+stime of the process tree, connector creation -> done",
                    "rss": f"process tree VmRSS sampled every {SAMPLE_S}s; steady = median of the second half of the ingest",
                    "ratios": "cassink median / peer median"},
        "settings": {"kafka": BOOTSTRAP, "cassandra": f"{CONTACT}:{CQL_PORT}", "table": TABLE,
                     "producer": "cassink produce weather (JSON, string keys)", "machine_cores": os.cpu_count(),
                     **{name: SYSTEM_CLASSES[name].settings() for name in SYSTEMS}},
        "systems": systems,
        "ratios": ratios,
    }
    (RUN_DIR / "bench.json").write_text(json.dumps(doc, indent=1))
    print(json.dumps(doc))


if __name__ == "__main__":
    try:
        main()
    except BenchError as e:
        log(f"error: {e}")
        sys.exit(1)
