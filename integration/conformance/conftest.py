"""Shared fixtures for conformance tests against a CQL endpoint (cqlmem or real Cassandra).

CASSANDRA_CONTACT_POINTS (default 127.0.0.1) and CASSANDRA_PORT (default 9042) select it.
"""
import os
import uuid

import pytest


@pytest.fixture(scope="session")
def contact_points():
    return [h.strip() for h in os.environ.get("CASSANDRA_CONTACT_POINTS", "127.0.0.1").split(",")]


@pytest.fixture(scope="session")
def cql_port():
    return int(os.environ.get("CASSANDRA_PORT", "9042"))


@pytest.fixture(scope="session")
def run_id():
    """A suffix that makes keyspace names unique per test run."""
    return uuid.uuid4().hex[:8]
