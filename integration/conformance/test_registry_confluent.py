"""Conformance of the schema registry with Confluent's own Python client.

Runs against the registry at SCHEMA_REGISTRY_URL (default: the local stack's Apicurio Registry,
http://127.0.0.1:8081/apis/ccompat/v7), or a real Confluent Schema Registry, unchanged. Every test uses fresh subject and
record names, so the tests can run repeatedly against a long-lived registry.
"""

import json
import uuid

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext

from harness import REGISTRY as URL


@pytest.fixture
def client():
    return SchemaRegistryClient({"url": URL})


def fresh(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def record_schema(name, *extra_fields):
    fields = [
        {"name": "station", "type": "string"},
        {"name": "temperature", "type": "double"},
        *extra_fields,
    ]
    return json.dumps(
        {"type": "record", "name": name, "namespace": "cassink.conformance", "fields": fields}
    )


def avro_name():
    return "R_" + uuid.uuid4().hex[:16]


def test_serialize_auto_registers_and_deserializes(client):
    topic = fresh("weather")
    schema = record_schema(avro_name())
    serializer = AvroSerializer(client, schema)
    deserializer = AvroDeserializer(client)
    ctx = SerializationContext(topic, MessageField.VALUE)
    reading = {"station": "Utrecht", "temperature": 21.5}

    data = serializer(reading, ctx)

    assert data[0] == 0, "Confluent magic byte"
    schema_id = int.from_bytes(data[1:5], "big")
    assert client.get_latest_version(f"{topic}-value").schema_id == schema_id
    # A fresh client (no cache) decodes by the id in the bytes.
    fresh_deserializer = AvroDeserializer(SchemaRegistryClient({"url": URL}))
    assert fresh_deserializer(data, ctx) == reading
    assert deserializer(data, ctx) == reading


def test_get_latest_version_and_schema_by_id(client):
    subject = fresh("latest-value")
    name = avro_name()
    v1 = record_schema(name)
    v2 = record_schema(name, {"name": "humidity", "type": "int", "default": 0})
    id1 = client.register_schema(subject, Schema(v1, "AVRO"))
    id2 = client.register_schema(subject, Schema(v2, "AVRO"))
    assert id1 != id2

    latest = client.get_latest_version(subject)
    assert (latest.version, latest.schema_id, latest.subject) == (2, id2, subject)
    assert json.loads(latest.schema.schema_str) == json.loads(v2)
    assert latest.schema.schema_type == "AVRO"

    assert client.get_version(subject, 1).schema_id == id1
    assert client.get_versions(subject) == [1, 2]
    by_id = SchemaRegistryClient({"url": URL}).get_schema(id1)
    assert json.loads(by_id.schema_str) == json.loads(v1)


def test_register_and_lookup(client):
    subject = fresh("lookup-value")
    schema = Schema(record_schema(avro_name()), "AVRO")
    schema_id = client.register_schema(subject, schema)
    assert client.register_schema(subject, schema) == schema_id, "re-registering is idempotent"
    # Same schema in another subject: same global id.
    assert client.register_schema(fresh("other-value"), schema) == schema_id

    found = SchemaRegistryClient({"url": URL}).lookup_schema(subject, schema)
    assert (found.schema_id, found.subject, found.version) == (schema_id, subject, 1)

    other = Schema(record_schema(avro_name()), "AVRO")
    with pytest.raises(SchemaRegistryError) as err:
        SchemaRegistryClient({"url": URL}).lookup_schema(subject, other)
    assert (err.value.http_status_code, err.value.error_code) == (404, 40403)


def test_get_subjects(client):
    subjects = [fresh("listed-value"), fresh("listed-key")]
    schema = Schema(record_schema(avro_name()), "AVRO")
    for subject in subjects:
        client.register_schema(subject, schema)
    listed = client.get_subjects()
    assert set(subjects) <= set(listed)


def test_set_and_test_compatibility(client):
    subject = fresh("compat-value")
    name = avro_name()
    client.register_schema(subject, Schema(record_schema(name), "AVRO"))
    with_default = Schema(record_schema(name, {"name": "h", "type": "int", "default": 0}), "AVRO")
    without_default = Schema(record_schema(name, {"name": "h", "type": "int"}), "AVRO")

    assert client.test_compatibility(subject, with_default) is True
    assert client.test_compatibility(subject, without_default) is False
    with pytest.raises(SchemaRegistryError) as err:
        client.register_schema(subject, without_default)
    assert (err.value.http_status_code, err.value.error_code) == (409, 409)

    assert client.set_compatibility(subject, "NONE")["compatibility"] == "NONE"
    assert client.get_compatibility(subject) == "NONE"
    assert client.test_compatibility(subject, without_default) is True
    assert client.test_compatibility(subject, without_default, version=1) is True
    client.register_schema(subject, without_default)

    with pytest.raises(SchemaRegistryError) as err:
        client.set_compatibility(subject, "SIDEWAYS")
    assert err.value.error_code == 42203


def test_delete_subject(client):
    subject = fresh("deleted-value")
    name = avro_name()
    schema_id = client.register_schema(subject, Schema(record_schema(name), "AVRO"))
    client.register_schema(
        subject, Schema(record_schema(name, {"name": "h", "type": "int", "default": 0}), "AVRO")
    )

    assert client.delete_subject(subject) == [1, 2]
    assert subject not in client.get_subjects()
    with pytest.raises(SchemaRegistryError) as err:
        client.get_latest_version(subject)
    assert (err.value.http_status_code, err.value.error_code) == (404, 40401)
    # Soft-deleted schemas still decode.
    assert SchemaRegistryClient({"url": URL}).get_schema(schema_id).schema_str

    assert client.delete_subject(subject, permanent=True) == [1, 2]
    with pytest.raises(SchemaRegistryError) as err:
        client.delete_subject(subject)
    assert err.value.error_code == 40401


def test_unknown_schema_id(client):
    with pytest.raises(SchemaRegistryError) as err:
        client.get_schema(2_000_000_000)
    assert (err.value.http_status_code, err.value.error_code) == (404, 40403)
