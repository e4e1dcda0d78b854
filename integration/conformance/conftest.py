"""The fixtures of the conformance tests, on harness.py: a `cassink worker` per test module, a
DataStax driver session on the real Cassandra, a fresh keyspace per test and a schema registry
client."""
from __future__ import annotations

import uuid

import pytest
from cassandra.cluster import Cluster
from confluent_kafka.schema_registry import SchemaRegistryClient

import harness


@pytest.fixture(scope="module")
def worker():
    """The REST base URL of a standalone `cassink worker` flushing offsets every 500 ms."""
    with harness.start_worker(["offset.flush.interval.ms=500"]) as server:
        yield server.base


@pytest.fixture(scope="module")
def session():
    cluster = Cluster([harness.CONTACT], port=int(harness.CQL_PORT))
    s = cluster.connect()
    yield s
    cluster.shutdown()


@pytest.fixture
def ks(session):
    name = f"e2e_{uuid.uuid4().hex[:10]}"
    session.execute(f"CREATE KEYSPACE {name} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}")
    yield name
    session.execute(f"DROP KEYSPACE IF EXISTS {name}")


@pytest.fixture(scope="module")
def registry():
    return SchemaRegistryClient({"url": harness.REGISTRY})
