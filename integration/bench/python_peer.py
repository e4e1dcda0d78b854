"""The Python peer of integration/bench.sh: the hand-written pipeline the seeds had, one process
per task, all in one consumer group (the broker spreads the partitions over them).

A `confluent-kafka` consumer takes up to BATCH records, each JSON value becomes one row of
kafkapipeline.weatherreport (the mapping of connectors/weather.json), the batch goes to
Cassandra as a prepared INSERT run `execute_concurrent_with_args` (CONCURRENCY requests in
flight, LOCAL_QUORUM as the connector), and the consumer commits synchronously after every
batch Cassandra acknowledged. So, like cassink, the committed offsets only cover written rows.

    python_peer.py --bootstrap B --topic T --group G --contact C --port P --table KS.T

Prints `READY` once the session, the prepared statement and the consumer exist, then waits for
one line on stdin before it subscribes (the bench's "connector creation"). Runs until killed.
"""
from __future__ import annotations

import argparse
import datetime
import json
import signal
import sys

from cassandra import ConsistencyLevel
from cassandra.cluster import Cluster
from cassandra.concurrent import execute_concurrent_with_args
from confluent_kafka import Consumer, KafkaError, KafkaException

COLUMNS = ["location", "forecastdate", "description", "temp", "feels_like", "temp_min", "temp_max",
           "pressure", "humidity", "wind", "sunrise", "sunset"]


def row(value: bytes):
    v = json.loads(value)
    when = datetime.datetime.strptime(v["report_time"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return (v["location"], when, v["description"], float(v["temp"]), float(v["feels_like"]),
            float(v["temp_min"]), float(v["temp_max"]), float(v["pressure"]), float(v["humidity"]),
            float(v["wind"]), int(v["sunrise"]), int(v["sunset"]))


def main() -> int:
    p = argparse.ArgumentParser()
    for name in ("bootstrap", "topic", "group", "contact", "table"):
        p.add_argument("--" + name, required=True)
    p.add_argument("--port", type=int, default=9042)
    p.add_argument("--batch", type=int, default=500)
    p.add_argument("--concurrency", type=int, default=64)
    a = p.parse_args()

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    cluster = Cluster([a.contact], port=a.port)
    session = cluster.connect()
    insert = session.prepare(
        f"INSERT INTO {a.table} ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})")
    insert.consistency_level = ConsistencyLevel.LOCAL_QUORUM
    consumer = Consumer({"bootstrap.servers": a.bootstrap, "group.id": a.group, "enable.auto.commit": False,
                         "auto.offset.reset": "earliest"})
    print("READY", flush=True)
    sys.stdin.readline()
    consumer.subscribe([a.topic])
    while not stop:
        messages = consumer.consume(num_messages=a.batch, timeout=0.5)
        if not messages:
            continue
        rows = []
        for m in messages:
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    continue
                raise RuntimeError(f"consume failed: {m.error()}")
            rows.append(row(m.value()))
        if not rows:
            continue
        execute_concurrent_with_args(session, insert, rows, concurrency=a.concurrency, raise_on_first_error=True)
        try:
            consumer.commit(asynchronous=False)
        except KafkaException as e:  # a rebalance under way: the next batch's commit covers this one
            print(f"commit failed, retried with the next batch: {e}", file=sys.stderr, flush=True)
    consumer.close()
    cluster.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
