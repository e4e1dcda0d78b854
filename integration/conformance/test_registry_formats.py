"""Protobuf, JSON Schema and Kafka's primitive converters end to end, with clients we did not
write: records serialized by confluent-kafka's `ProtobufSerializer` / `JSONSerializer` against
the schema registry (or with Kafka's big-endian primitive encodings), a `cassink worker`
process with connectors POSTed to its REST API, rows read back with the DataStax driver.

Covers the shipped `connectors/meter-protobuf.json` pipeline (its `.proto` compiled by protoc
from grpcio-tools, as a user would), schema evolution mid-stream without restart for both
registry formats, and bad payloads reaching the dead letter queue with the converter stage.

SCHEMA_REGISTRY_URL, KAFKA_BOOTSTRAP, CASSANDRA_CONTACT_POINTS and CASSANDRA_PORT select the
servers (default: the local stack of integration/stack.sh).
"""
from __future__ import annotations

import importlib
import json
import struct
import subprocess
import sys
import tempfile
import uuid

import pytest
from confluent_kafka.schema_registry.json_schema import JSONSerializer
from confluent_kafka.schema_registry.protobuf import ProtobufSerializer
from confluent_kafka.serialization import (DoubleSerializer, IntegerSerializer, MessageField,
                                           SerializationContext)
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from harness import (CONTACT, CQL_PORT, REGISTRY, REPO, SINK_CLASS, create_connector, dead_letters, drain,
                     send, topic)

METER_TABLE = """CREATE TABLE {ks}.meter_data (id uuid, timestamp timestamp, p_1 float, p_2 float,
    p_3 float, q_1 float, q_2 float, q_3 float, harm frozen<list<int>>, PRIMARY KEY (id, timestamp))"""


@pytest.fixture(scope="module")
def meter_pb2():
    """connectors/meter.proto compiled to Python by protoc (grpcio-tools)."""
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([sys.executable, "-m", "grpc_tools.protoc", f"-I{REPO / 'connectors'}",
                        f"--python_out={out}", "meter.proto"], check=True)
        sys.path.insert(0, out)
        try:
            yield importlib.import_module("meter_pb2")
        finally:
            sys.path.remove(out)


def shipped(file, topic_name, keyspace):
    """A shipped connector config pointed at `topic_name` and `keyspace`."""
    config = json.loads((REPO / "connectors" / file).read_text())["config"]
    out = {}
    for key, value in config.items():
        if key.startswith("topic."):
            _, _, rest = key.partition(".")
            _, _, rest = rest.partition(".")  # drop the shipped topic name
            _, _, rest = rest.partition(".")  # and keyspace
            key = f"topic.{topic_name}.{keyspace}.{rest}"
        out[key] = value
    out.update({"topics": topic_name, "contactPoints": CONTACT, "port": CQL_PORT,
                "tasks.max": "1", "value.converter.schema.registry.url": REGISTRY})
    return out


def sink(t, ks, table, mapping, key_converter="org.apache.kafka.connect.storage.StringConverter",
         value_converter="io.confluent.connect.protobuf.ProtobufConverter", **extra):
    """A connector config writing topic `t` to `ks.table` with `mapping`."""
    return {"connector.class": SINK_CLASS,
            "topics": t, "contactPoints": CONTACT, "port": CQL_PORT,
            "loadBalancing.localDc": "datacenter1",
            "key.converter": key_converter, "value.converter": value_converter,
            "value.converter.schema.registry.url": REGISTRY,
            f"topic.{t}.{ks}.{table}.mapping": mapping, **extra}


def reading(i):
    meter = uuid.UUID(int=(0x6d65746572 << 64) + i % 7)
    return {"id": str(meter), "timestamp": 1_700_000_000_000 + i * 1000, "P_1": 200.0 + i,
            "P_2": 210.5, "P_3": 0.25 * i, "Q_1": 1.5, "Q_2": i / 4, "Q_3": 30.0, "HARM": [i, i + 1, 7]}


def meter_rows(session, keyspace):
    return {(str(r.id), int(r.timestamp.timestamp() * 1000)): r
            for r in session.execute(f"SELECT * FROM {keyspace}.meter_data")}


def assert_rows_match(rows, readings):
    assert len(rows) == len(readings)
    for want in readings:
        row = rows[(want["id"], want["timestamp"])]
        assert row.p_1 == pytest.approx(want["P_1"]) and row.p_3 == pytest.approx(want["P_3"])
        assert row.q_2 == pytest.approx(want["Q_2"]) and row.q_3 == pytest.approx(want["Q_3"])
        assert list(row.harm) == want["HARM"]


def test_the_protobuf_meter_pipeline_lands_row_by_row(worker, session, ks, registry, meter_pb2):
    session.execute(METER_TABLE.format(ks=ks))
    t = topic("meter-protobuf")
    serializer = ProtobufSerializer(meter_pb2.MeterReading, registry, {})
    readings = [reading(i) for i in range(120)]
    records = []
    for want in readings:
        msg = meter_pb2.MeterReading(id=want["id"], P_1=want["P_1"], P_2=want["P_2"], P_3=want["P_3"],
                                     Q_1=want["Q_1"], Q_2=want["Q_2"], Q_3=want["Q_3"], HARM=want["HARM"])
        msg.timestamp.FromMilliseconds(want["timestamp"])
        records.append((want["id"], serializer(msg, SerializationContext(t, MessageField.VALUE))))
    send(t, records)
    name, group = create_connector(worker, shipped("meter-protobuf.json", t, ks), prefix="fmt")
    drain(worker, name, group, t, len(records))
    assert_rows_match(meter_rows(session, ks), readings)


def dynamic_message(package, fields):
    """A message class `<package>.Reading` built at run time in its own descriptor pool (so two
    versions of one message can live in this process): fields are (name, number, type)."""
    file = descriptor_pb2.FileDescriptorProto(name=f"{package}.proto", package=package, syntax="proto3")
    message = file.message_type.add(name="Reading")
    for field_name, number, kind in fields:
        message.field.add(name=field_name, number=number, type=kind,
                          label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{package}.Reading"))


def test_protobuf_schema_evolution_mid_stream_needs_no_restart(worker, session, ks, registry):
    session.execute(f"CREATE TABLE {ks}.kv (id text PRIMARY KEY, reading double)")
    t = topic("pb-evolve")
    F = descriptor_pb2.FieldDescriptorProto
    package = f"evo{uuid.uuid4().hex[:8]}"
    v1 = dynamic_message(package, [("id", 1, F.TYPE_STRING), ("reading", 2, F.TYPE_DOUBLE)])
    v2 = dynamic_message(package, [("id", 1, F.TYPE_STRING), ("reading", 2, F.TYPE_DOUBLE),
                                   ("note", 3, F.TYPE_STRING)])
    ctx = SerializationContext(t, MessageField.VALUE)
    first = ProtobufSerializer(v1, registry, {})
    send(t, [(f"a{i}", first(v1(id=f"a{i}", reading=i), ctx)) for i in range(5)])
    config = sink(t, ks, "kv", "id=value.id, reading=value.reading")
    name, group = create_connector(worker, config, prefix="fmt")
    drain(worker, name, group, t, 5)
    second = ProtobufSerializer(v2, registry, {})
    later = [second(v2(id=f"b{i}", reading=i + 0.5, note="v2"), ctx) for i in range(5)]
    assert later[0][1:5] != first(v1(id="x"), ctx)[1:5], "the new version has its own schema id"
    send(t, [(f"b{i}", v) for i, v in enumerate(later)])
    drain(worker, name, group, t, 10)
    rows = {r.id: r.reading for r in session.execute(f"SELECT id, reading FROM {ks}.kv")}
    assert rows == {**{f"a{i}": float(i) for i in range(5)}, **{f"b{i}": i + 0.5 for i in range(5)}}


def test_protobuf_imports_resolve_through_registry_references(worker, session, ks, registry):
    """A message using a type from another user .proto: the serializer registers that file as
    a reference (its own subject), and the worker fetches it to compile the schema."""
    session.execute(f"CREATE TABLE {ks}.sites (id text PRIMARY KEY, lat double, name text)")
    t = topic("pb-refs")
    F = descriptor_pb2.FieldDescriptorProto
    lib_package, app_package = f"lib{uuid.uuid4().hex[:8]}", f"app{uuid.uuid4().hex[:8]}"
    lib = descriptor_pb2.FileDescriptorProto(name=f"{lib_package}/place.proto", package=lib_package,
                                             syntax="proto3")
    place = lib.message_type.add(name="Place")
    place.field.add(name="lat", number=1, type=F.TYPE_DOUBLE, label=F.LABEL_OPTIONAL)
    place.field.add(name="name", number=2, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    app = descriptor_pb2.FileDescriptorProto(name=f"{app_package}.proto", package=app_package,
                                             syntax="proto3", dependency=[lib.name])
    site = app.message_type.add(name="Site")
    site.field.add(name="id", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    site.field.add(name="place", number=2, type=F.TYPE_MESSAGE, label=F.LABEL_OPTIONAL,
                   type_name=f".{lib_package}.Place")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(lib)
    pool.Add(app)
    Site = message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{app_package}.Site"))
    Place = message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{lib_package}.Place"))
    serialize = ProtobufSerializer(Site, registry, {})
    ctx = SerializationContext(t, MessageField.VALUE)
    send(t, [(f"s{i}", serialize(Site(id=f"s{i}", place=Place(lat=50.0 + i, name=f"n{i}")), ctx))
             for i in range(4)])
    value_subject = registry.get_latest_version(f"{t}-value")
    assert [r.name for r in value_subject.schema.references] == [lib.name], "imported as a reference"
    config = sink(t, ks, "sites", "id=value.id, lat=value.place.lat, name=value.place.name")
    name, group = create_connector(worker, config, prefix="fmt")
    drain(worker, name, group, t, 4)
    rows = {r.id: (r.lat, r.name) for r in session.execute(f"SELECT id, lat, name FROM {ks}.sites")}
    assert rows == {f"s{i}": (50.0 + i, f"n{i}") for i in range(4)}


METER_JSON_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "MeterReading",
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "timestamp": {"type": "integer", "title": "org.apache.kafka.connect.data.Timestamp"},
        **{p: {"type": "number"} for p in ("P_1", "P_2", "P_3", "Q_1", "Q_2", "Q_3")},
        "HARM": {"type": "array", "items": {"type": "integer"}},
    },
    "required": ["id", "timestamp"],
    # Closed, so that adding an optional property is a backward-compatible new version.
    "additionalProperties": False,
}


def test_json_schema_readings_land_and_the_schema_can_evolve(worker, session, ks, registry):
    session.execute(METER_TABLE.format(ks=ks))
    t = topic("meter-jsonschema")
    ctx = SerializationContext(t, MessageField.VALUE)
    v1 = JSONSerializer(json.dumps(METER_JSON_SCHEMA), registry)
    first = [reading(i) for i in range(40)]
    send(t, [(r["id"], v1(r, ctx)) for r in first])
    config = shipped("meter-protobuf.json", t, ks)
    config["value.converter"] = "io.confluent.connect.json.JsonSchemaConverter"
    config["value.converter.json.fail.invalid.schema"] = "true"
    name, group = create_connector(worker, config, prefix="fmt")
    drain(worker, name, group, t, len(first))
    evolved = json.loads(json.dumps(METER_JSON_SCHEMA))
    evolved["properties"]["site"] = {"type": "string"}
    v2 = JSONSerializer(json.dumps(evolved), registry)
    second = [dict(reading(i), site="north") for i in range(40, 60)]
    send(t, [(r["id"], v2(r, ctx)) for r in second])
    drain(worker, name, group, t, len(first) + len(second))
    assert_rows_match(meter_rows(session, ks), first + second)


# (key converter, key encoder, key CQL type, value converter, value encoder, value CQL type, values)
PRIMITIVES = [
    ("LongConverter", lambda k: struct.pack(">q", k), "bigint",
     "DoubleConverter", lambda v: DoubleSerializer()(v), "double", [-1.5, 0.0, 1e300]),
    ("IntegerConverter", lambda k: IntegerSerializer()(k), "int",
     "BooleanConverter", lambda v: struct.pack(">?", v), "boolean", [True, False, True]),
    ("ShortConverter", lambda k: struct.pack(">h", k), "smallint",
     "FloatConverter", lambda v: struct.pack(">f", v), "float", [0.5, -2.25, 1024.0]),
]


@pytest.mark.parametrize("case", PRIMITIVES, ids=[c[0] + "+" + c[3] for c in PRIMITIVES])
def test_primitive_converters_map_key_and_value_to_columns(worker, session, ks, case):
    key_conv, key_enc, key_type, value_conv, value_enc, value_type, values = case
    session.execute(f"CREATE TABLE {ks}.prim (k {key_type} PRIMARY KEY, v {value_type})")
    t = topic("prim")
    keys = [-7, 0, 1234]
    send(t, [(key_enc(k), value_enc(v)) for k, v in zip(keys, values)])
    package = "org.apache.kafka.connect.converters."
    config = sink(t, ks, "prim", "k=key, v=value", package + key_conv, package + value_conv)
    name, group = create_connector(worker, config, prefix="fmt")
    drain(worker, name, group, t, len(keys))
    rows = {r.k: r.v for r in session.execute(f"SELECT k, v FROM {ks}.prim")}
    assert rows.keys() == set(keys)
    for k, v in zip(keys, values):
        assert rows[k] == pytest.approx(v)


def test_bad_payloads_reach_the_dlq_with_the_converter_stage(worker, session, ks, registry):
    session.execute(f"CREATE TABLE {ks}.kv (id bigint PRIMARY KEY, reading double)")
    t, dlq = topic("pb-bad"), topic("pb-bad-dlq")
    F = descriptor_pb2.FieldDescriptorProto
    msg = dynamic_message(f"bad{uuid.uuid4().hex[:8]}", [("reading", 1, F.TYPE_DOUBLE)])
    good = ProtobufSerializer(msg, registry, {})(msg(reading=2.5), SerializationContext(t, MessageField.VALUE))
    schema_id = good[1:5]
    key = struct.pack(">q", 1)
    bad_values = {
        "wrong magic byte": b"\x07" + good[1:],
        "unknown schema id": b"\x00" + (2_000_000_000).to_bytes(4, "big") + good[5:],
        "truncated message": good[:-3],
        "wrong message index": b"\x00" + schema_id + b"\x02\x0a" + good[6:],
    }
    send(t, [(key, good)] + [(struct.pack(">q", 100 + i), v) for i, v in enumerate(bad_values.values())]
         + [(b"\x01\x02\x03", good), (struct.pack(">q", 2), good)])
    config = sink(t, ks, "kv", "id=key, reading=value.reading",
                  "org.apache.kafka.connect.converters.LongConverter",
                  **{"errors.tolerance": "all", "errors.deadletterqueue.topic.name": dlq,
                     "errors.deadletterqueue.topic.replication.factor": "1",
                     "errors.deadletterqueue.context.headers.enable": "true"})
    name, group = create_connector(worker, config, prefix="fmt")
    drain(worker, name, group, t, 7)
    rows = {r.id: r.reading for r in session.execute(f"SELECT id, reading FROM {ks}.kv")}
    assert rows == {1: 2.5, 2: 2.5}
    letters = dead_letters(dlq, 5)
    stages = sorted(h["__connect.errors.stage"] for h in letters)
    assert stages == ["KEY_CONVERTER"] + ["VALUE_CONVERTER"] * 4
    messages = " | ".join(h.get("__connect.errors.exception.message", "") for h in letters)
    for reason in ("magic byte 0x07", "unknown schema id 2000000000", "cannot decode",
                   "message indexes", "LongConverter"):
        assert reason in messages, messages
