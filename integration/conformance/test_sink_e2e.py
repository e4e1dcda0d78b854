"""End to end as a user runs it, with clients we did not write: a `cassink worker` process,
connectors POSTed to its REST API, records produced with confluent-kafka, rows read back with
the DataStax Python driver from the real Cassandra. One test per DataStax mapping feature:
deletes, nullToUnset, __timestamp, now(), header.<name>, counters, several tables per topic,
several topics per connector, consistencyLevel, compression.

The worker, session and keyspace fixtures come from conftest.py, the helpers from harness.py;
KAFKA_BOOTSTRAP, CASSANDRA_CONTACT_POINTS and CASSANDRA_PORT select the servers (default: the
local stack of integration/stack.sh), CASSINK_BIN the binary (default: the newest build under
target/).
"""
from __future__ import annotations

import json
import uuid

import pytest

from harness import CONTACT, CQL_PORT, SINK_CLASS, call, create_connector, drain, send, topic, wait_until


def produce(name, records):
    """records: (key, value dict or None for a tombstone, headers list or None)."""
    send(name, [(key, None if value is None else json.dumps(value), headers)
                for key, value, headers in records])


def connector(worker, name, topics, tables, extra=None):
    """POSTs a JSON connector writing `topics` with `tables` ({'topic.t.ks.table.mapping': ...})."""
    config = {
        "connector.class": SINK_CLASS,
        "tasks.max": "1",
        "topics": topics,
        "contactPoints": CONTACT,
        "port": CQL_PORT,
        "loadBalancing.localDc": "datacenter1",
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false",
        **tables,
        **(extra or {}),
    }
    return create_connector(worker, config, name)[1]


def test_a_tombstone_deletes_the_row_when_deletes_are_enabled(worker, session, ks):
    session.execute(f"CREATE TABLE {ks}.kv (id text PRIMARY KEY, v int)")
    t = topic("e2e-del")
    produce(t, [("a", {"v": 1}, None), ("b", {"v": 2}, None), ("a", None, None)])
    name = f"del-{uuid.uuid4().hex[:6]}"
    group = connector(worker, name, t, {f"topic.{t}.{ks}.kv.mapping": "id=key, v=value.v"})
    drain(worker, name, group, t, 3)
    rows = {r.id: r.v for r in session.execute(f"SELECT id, v FROM {ks}.kv")}
    assert rows == {"b": 2}


def test_null_to_unset_keeps_or_clears_the_cell_one_topic_two_tables(worker, session, ks):
    for table in ("kept", "cleared"):
        session.execute(f"CREATE TABLE {ks}.{table} (id text PRIMARY KEY, a int, b int)")
    t = topic("e2e-null")
    produce(t, [("x", {"a": 1, "b": 2}, None), ("x", {"a": None, "b": 3}, None)])
    name = f"null-{uuid.uuid4().hex[:6]}"
    mapping = "id=key, a=value.a, b=value.b"
    group = connector(worker, name, t, {
        f"topic.{t}.{ks}.kept.mapping": mapping,
        f"topic.{t}.{ks}.kept.nullToUnset": "true",
        f"topic.{t}.{ks}.cleared.mapping": mapping,
        f"topic.{t}.{ks}.cleared.nullToUnset": "false",
    })
    drain(worker, name, group, t, 2)
    kept = session.execute(f"SELECT a, b FROM {ks}.kept WHERE id = 'x'").one()
    cleared = session.execute(f"SELECT a, b FROM {ks}.cleared WHERE id = 'x'").one()
    assert (kept.a, kept.b) == (1, 3), "nullToUnset=true leaves the cell as it was"
    assert (cleared.a, cleared.b) == (None, 3), "nullToUnset=false writes the null"


def test_timestamp_sets_the_write_time_in_its_unit(worker, session, ks):
    session.execute(f"CREATE TABLE {ks}.ev (id text PRIMARY KEY, v int)")
    t = topic("e2e-ts")
    produce(t, [("a", {"v": 1, "at": 1_700_000_000_123}, None),
                # Older than the first: it must not overwrite it.
                ("a", {"v": 2, "at": 1_600_000_000_000}, None)])
    name = f"ts-{uuid.uuid4().hex[:6]}"
    group = connector(worker, name, t, {
        f"topic.{t}.{ks}.ev.mapping": "id=key, v=value.v, __timestamp=value.at",
        f"topic.{t}.{ks}.ev.timestampTimeUnit": "MILLISECONDS",
    })
    drain(worker, name, group, t, 2)
    row = session.execute(f"SELECT v, WRITETIME(v) AS w FROM {ks}.ev WHERE id = 'a'").one()
    assert (row.v, row.w) == (1, 1_700_000_000_123_000)


def test_now_gives_each_record_a_row_and_headers_reach_their_column(worker, session, ks):
    session.execute(f"CREATE TABLE {ks}.seen (id timeuuid PRIMARY KEY, reading int, origin text)")
    t = topic("e2e-now")
    produce(t, [(None, {"reading": i}, [("origin", f"meter-{i}".encode())]) for i in range(30)])
    name = f"now-{uuid.uuid4().hex[:6]}"
    group = connector(worker, name, t, {
        f"topic.{t}.{ks}.seen.mapping": "id=now(), reading=value.reading, origin=header.origin",
    })
    drain(worker, name, group, t, 30)
    rows = list(session.execute(f"SELECT id, reading, origin FROM {ks}.seen"))
    assert sorted(r.reading for r in rows) == list(range(30))
    assert all(r.origin == f"meter-{r.reading}" for r in rows)
    assert all(r.id.version == 1 for r in rows)


def test_counters_add_up(worker, session, ks):
    session.execute(f"CREATE TABLE {ks}.hits (page text PRIMARY KEY, n counter)")
    t = topic("e2e-counter")
    produce(t, [("a", {"page": "a", "n": 1}, None), ("a", {"page": "a", "n": 2}, None),
                ("b", {"page": "b", "n": 5}, None), ("a", {"page": "a", "n": 3}, None)])
    name = f"cnt-{uuid.uuid4().hex[:6]}"
    group = connector(worker, name, t, {f"topic.{t}.{ks}.hits.mapping": "page=value.page, n=value.n"})
    drain(worker, name, group, t, 4)
    assert {r.page: r.n for r in session.execute(f"SELECT page, n FROM {ks}.hits")} == {"a": 6, "b": 5}


def test_several_topics_per_connector_each_to_its_table(worker, session, ks):
    session.execute(f"CREATE TABLE {ks}.left (id text PRIMARY KEY, v int)")
    session.execute(f"CREATE TABLE {ks}.right (id text PRIMARY KEY, v int)")
    t1, t2 = topic("e2e-left"), topic("e2e-right", partitions=2)
    produce(t1, [(f"l{i}", {"v": i}, None) for i in range(10)])
    produce(t2, [(f"r{i}", {"v": i}, None) for i in range(15)])
    name = f"multi-{uuid.uuid4().hex[:6]}"
    group = connector(worker, name, f"{t1},{t2}", {
        f"topic.{t1}.{ks}.left.mapping": "id=key, v=value.v",
        f"topic.{t2}.{ks}.right.mapping": "id=key, v=value.v",
    })
    drain(worker, name, group, t1, 10)
    drain(worker, name, group, t2, 15, partitions=2)
    assert {r.id for r in session.execute(f"SELECT id FROM {ks}.left")} == {f"l{i}" for i in range(10)}
    assert {r.id for r in session.execute(f"SELECT id FROM {ks}.right")} == {f"r{i}" for i in range(15)}


def test_consistency_level_is_applied_to_the_writes(worker, session, ks):
    session.execute(f"CREATE TABLE {ks}.cl (id text PRIMARY KEY, v int)")
    t = topic("e2e-cl")
    produce(t, [("a", {"v": 1}, None)])
    name = f"cl-{uuid.uuid4().hex[:6]}"
    key = f"topic.{t}.{ks}.cl.consistencyLevel"
    mapping = {f"topic.{t}.{ks}.cl.mapping": "id=key, v=value.v"}
    # THREE on a keyspace of replication factor 1: Cassandra answers Unavailable, the task
    # retries (RUNNING, the problem in its trace) and writes nothing.
    connector(worker, name, t, mapping, {key: "THREE"})

    def retrying():
        _, st = call("GET", f"{worker}/connectors/{name}/status")
        tasks = (st or {}).get("tasks", [])
        return tasks and "UnavailableException" in (tasks[0].get("trace") or "")
    wait_until("the task to report Unavailable", retrying)
    assert session.execute(f"SELECT * FROM {ks}.cl").one() is None
    # ONE: the same record lands.
    config = call("GET", f"{worker}/connectors/{name}/config")[1]
    config[key] = "ONE"
    status, body = call("PUT", f"{worker}/connectors/{name}/config", config)
    assert status == 200, body
    drain(worker, name, f"connect-{name}", t, 1)
    assert session.execute(f"SELECT v FROM {ks}.cl WHERE id = 'a'").one().v == 1


@pytest.mark.parametrize("algo", ["LZ4", "Snappy"])
def test_compressed_connections_write(worker, session, ks, algo):
    session.execute(f"CREATE TABLE {ks}.z (id text PRIMARY KEY, body text)")
    t = topic("e2e-z")
    produce(t, [(f"k{i}", {"body": "x" * 2000 + str(i)}, None) for i in range(20)])
    name = f"z-{algo.lower()}-{uuid.uuid4().hex[:6]}"
    group = connector(worker, name, t, {f"topic.{t}.{ks}.z.mapping": "id=key, body=value.body"},
                      {"compression": algo})
    drain(worker, name, group, t, 20)
    assert session.execute(f"SELECT count(*) FROM {ks}.z").one()[0] == 20
