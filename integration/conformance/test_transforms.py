"""Single message transforms end to end: records produced with confluent-kafka, a `cassink
worker` process with connectors POSTed to its REST API (Connect's transform class names and
keys), rows read back with the DataStax driver from the real Cassandra.

Covers routing (the mapping is looked up by the routed topic), a Filter guarded by a predicate
(filtered records are committed, not written), field transforms before the mapping, Debezium
change events through `ExtractNewRecordState` (deletes become Cassandra deletes), a transform
failing on a record (stage TRANSFORMATION in the DLQ), and bad transform configs (400 naming
the key at create, PUT .../config and validate).
"""
from __future__ import annotations

import json
import uuid

from harness import (CONTACT, CQL_PORT, SINK_CLASS, call, create_connector, dead_letters, drain, send,
                     topic)


def sink(topics, mappings, **extra):
    return {"connector.class": SINK_CLASS,
            "topics": topics, "contactPoints": CONTACT, "port": CQL_PORT,
            "loadBalancing.localDc": "datacenter1",
            "key.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter.schemas.enable": "false", **mappings, **extra}


def test_routed_filtered_and_reshaped_records_land_by_the_routed_topic(worker, session, ks):
    session.execute(f"CREATE TABLE {ks}.orders (id text PRIMARY KEY, total int, src text, note text)")
    t = topic("smt-raw")
    routed = t.replace("smt-raw", "smt-orders")
    records = [(f"o{i}", json.dumps({"id": f"o{i}", "amount": i + 0.75, "secret": "x", "note": "n"}),
                [("test", b"1")] if i % 3 == 0 else None) for i in range(9)]
    send(t, records)
    config = sink(t, {f"topic.{routed}.{ks}.orders.mapping":
                      "id=value.id, total=value.total, src=value.src, note=value.note"},
                  **{"transforms": "skipTests, route, rename, cast, origin",
                     "transforms.skipTests.type": "org.apache.kafka.connect.transforms.Filter",
                     "transforms.skipTests.predicate": "isTest",
                     "predicates": "isTest",
                     "predicates.isTest.type": "org.apache.kafka.connect.transforms.predicates.HasHeaderKey",
                     "predicates.isTest.name": "test",
                     "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
                     "transforms.route.regex": "smt-raw-(.*)",
                     "transforms.route.replacement": "smt-orders-$1",
                     "transforms.rename.type": "org.apache.kafka.connect.transforms.ReplaceField$Value",
                     "transforms.rename.exclude": "secret",
                     "transforms.rename.renames": "amount:total",
                     "transforms.cast.type": "org.apache.kafka.connect.transforms.Cast$Value",
                     "transforms.cast.spec": "total:int32",
                     "transforms.origin.type": "org.apache.kafka.connect.transforms.InsertField$Value",
                     "transforms.origin.topic.field": "src"})
    name, group = create_connector(worker, config, prefix="smt")
    drain(worker, name, group, t, len(records))
    rows = {r.id: (r.total, r.src, r.note) for r in session.execute(f"SELECT * FROM {ks}.orders")}
    assert rows == {f"o{i}": (i, routed, "n") for i in range(9) if i % 3 != 0}


def envelope_schema():
    row = {"type": "struct", "optional": True, "name": "dbserver1.inventory.customers.Value",
           "fields": [{"field": "id", "type": "int32"}, {"field": "email", "type": "string"}]}
    return {"type": "struct", "name": "dbserver1.inventory.customers.Envelope", "fields": [
        {"field": "before", **row}, {"field": "after", **row},
        {"field": "source", "type": "struct", "fields": [{"field": "table", "type": "string"}]},
        {"field": "op", "type": "string"}, {"field": "ts_ms", "type": "int64", "optional": True}]}


def change(op, before, after):
    return json.dumps({"schema": envelope_schema(), "payload": {
        "before": before, "after": after, "source": {"table": "customers"}, "op": op, "ts_ms": 1}})


def key(i):
    return json.dumps({"schema": {"type": "struct", "fields": [{"field": "id", "type": "int32"}]},
                       "payload": {"id": i}})


def test_debezium_change_events_become_rows_and_deletes_delete(worker, session, ks):
    session.execute(f"CREATE TABLE {ks}.customers (id int PRIMARY KEY, email text, op text)")
    t = topic("dbz")
    a1, a2 = {"id": 1, "email": "a@x"}, {"id": 1, "email": "a@y"}
    b1 = {"id": 2, "email": "b@x"}
    events = [(key(1), change("c", None, a1), None), (key(2), change("r", None, b1), None),
              (key(1), change("u", a1, a2), None),
              (key(2), change("d", b1, None), None), (key(2), None, None)]
    send(t, events)
    config = sink(t, {f"topic.{t}.{ks}.customers.mapping": "id=key.id, email=value.email, op=value.__op"},
                  **{"key.converter": "org.apache.kafka.connect.json.JsonConverter",
                     "key.converter.schemas.enable": "true",
                     "value.converter.schemas.enable": "true",
                     "transforms": "unwrap",
                     "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState",
                     "transforms.unwrap.add.fields": "op"})
    name, group = create_connector(worker, config, prefix="smt")
    drain(worker, name, group, t, len(events))
    rows = {r.id: (r.email, r.op) for r in session.execute(f"SELECT * FROM {ks}.customers")}
    assert rows == {1: ("a@y", "u")}, "the update applied and the delete removed row 2"


def test_a_transform_failing_on_a_record_sends_it_to_the_dlq_as_transformation(worker, session, ks):
    session.execute(f"CREATE TABLE {ks}.kv (id text PRIMARY KEY, n int)")
    t, dlq = topic("smt-bad"), topic("smt-bad-dlq")
    send(t, [("a", json.dumps({"id": "a", "n": "12"}), None),
             ("b", json.dumps({"id": "b", "n": "twelve"}), None),
             ("c", json.dumps({"id": "c", "n": "7"}), None)])
    config = sink(t, {f"topic.{t}.{ks}.kv.mapping": "id=value.id, n=value.n"},
                  **{"transforms": "num", "transforms.num.type": "org.apache.kafka.connect.transforms.Cast$Value",
                     "transforms.num.spec": "n:int32", "errors.tolerance": "all",
                     "errors.deadletterqueue.topic.name": dlq,
                     "errors.deadletterqueue.topic.replication.factor": "1",
                     "errors.deadletterqueue.context.headers.enable": "true"})
    name, group = create_connector(worker, config, prefix="smt")
    drain(worker, name, group, t, 3)
    rows = {r.id: r.n for r in session.execute(f"SELECT * FROM {ks}.kv")}
    assert rows == {"a": 12, "c": 7}
    [letter] = dead_letters(dlq, 1)
    assert letter["__connect.errors.stage"] == "TRANSFORMATION"
    assert "twelve" in letter["__connect.errors.exception.message"]
    assert "num" in letter["__connect.errors.exception.message"]


def test_bad_transform_configs_are_a_400_naming_the_key(worker):
    t = topic("smt-cfg")
    base = sink(t, {f"topic.{t}.ks.tbl.mapping": "id=key"})
    cases = {
        "transforms.route.regex": {"transforms": "route",
                                   "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
                                   "transforms.route.regex": "(", "transforms.route.replacement": "x"},
        "transforms.x.type": {"transforms": "x", "transforms.x.type": "com.example.Missing"},
        "transforms.c.spec": {"transforms": "c", "transforms.c.type": "org.apache.kafka.connect.transforms.Cast$Value",
                              "transforms.c.spec": "f:uuid"},
        "transforms.f.predicate": {"transforms": "f", "transforms.f.type": "org.apache.kafka.connect.transforms.Filter",
                                   "transforms.f.predicate": "undeclared"},
    }
    for bad_key, extra in cases.items():
        status, body = call("POST", f"{worker}/connectors",
                            {"name": f"bad-{uuid.uuid4().hex[:6]}", "config": {**base, **extra}})
        assert status == 400, body
        assert bad_key in body["message"], (bad_key, body)
        status, body = call("PUT", f"{worker}/connectors/put-{uuid.uuid4().hex[:6]}/config", {**base, **extra})
        assert status == 400 and bad_key in body["message"], (bad_key, body)
        status, body = call("PUT", f"{worker}/connector-plugins/CassandraSinkConnector/config/validate",
                            {**base, **extra, "name": "v"})
        assert status == 200 and body["error_count"] >= 1, body
        assert bad_key in json.dumps(body), (bad_key, body)


def test_plugin_listing_names_transforms_and_predicates_only_when_asked(worker):
    status, connectors = call("GET", f"{worker}/connector-plugins")
    assert status == 200 and {p["type"] for p in connectors} == {"sink"}
    status, everything = call("GET", f"{worker}/connector-plugins?connectorsOnly=false")
    assert status == 200
    by_class = {p["class"]: p["type"] for p in everything}
    assert by_class["org.apache.kafka.connect.transforms.RegexRouter"] == "transformation"
    assert by_class["org.apache.kafka.connect.transforms.Cast$Value"] == "transformation"
    assert by_class["io.debezium.transforms.ExtractNewRecordState"] == "transformation"
    assert by_class["org.apache.kafka.connect.transforms.predicates.HasHeaderKey"] == "predicate"
    assert by_class["io.confluent.connect.protobuf.ProtobufConverter"] == "converter"
    assert by_class["org.apache.kafka.connect.storage.SimpleHeaderConverter"] == "header_converter"
    status, keys = call("GET", f"{worker}/connector-plugins/org.apache.kafka.connect.transforms.RegexRouter/config")
    assert status == 200 and {k["name"] for k in keys} == {"regex", "replacement"}, keys
    status, keys = call("GET", f"{worker}/connector-plugins/org.apache.kafka.connect.transforms.Cast$Value/config")
    assert status == 200 and "spec" in {k["name"] for k in keys}, keys
    status, _ = call("GET", f"{worker}/connector-plugins/com.example.NoSuchTransform/config")
    assert status == 404
