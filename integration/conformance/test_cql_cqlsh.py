"""Conformance of the CQL endpoint with the real `cqlsh` binary (from the test venv).

Passes unchanged against Apache Cassandra 4.1.
"""
import os
import shutil
import subprocess
import sys

import pytest


def _cqlsh():
    here = os.path.join(os.path.dirname(sys.executable), "cqlsh")
    return here if os.path.exists(here) else shutil.which("cqlsh")


def run(contact_points, port, cql):
    exe = _cqlsh()
    if exe is None:
        pytest.skip("cqlsh not installed")
    out = subprocess.run(
        [exe, contact_points[0], str(port), "-e", cql],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.fixture(scope="module")
def ks(contact_points, cql_port, run_id):
    name = f"cqlsh_{run_id}"
    run(
        contact_points,
        cql_port,
        f"CREATE KEYSPACE {name} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}};"
        f"CREATE TABLE {name}.people (id int PRIMARY KEY, name text, tags set<text>);",
    )
    yield name
    run(contact_points, cql_port, f"DROP KEYSPACE {name};")


def test_insert_and_select(contact_points, cql_port, ks):
    run(
        contact_points,
        cql_port,
        f"INSERT INTO {ks}.people (id, name, tags) VALUES (1, 'alice', {{'x', 'y'}});"
        f"INSERT INTO {ks}.people (id, name) VALUES (2, 'bob');",
    )
    out = run(contact_points, cql_port, f"SELECT id, name FROM {ks}.people WHERE id = 1;")
    assert "alice" in out and "(1 rows)" in out
    out = run(contact_points, cql_port, f"SELECT count(*) FROM {ks}.people;")
    assert " 2" in out


def test_describe_tables(contact_points, cql_port, ks):
    out = run(contact_points, cql_port, f"USE {ks}; DESCRIBE TABLES;")
    assert "people" in out
    out = run(contact_points, cql_port, f"DESCRIBE TABLE {ks}.people;")
    assert f"CREATE TABLE {ks}.people" in out and "PRIMARY KEY" in out


def test_syntax_error_reported(contact_points, cql_port):
    exe = _cqlsh()
    if exe is None:
        pytest.skip("cqlsh not installed")
    out = subprocess.run([exe, contact_points[0], str(cql_port), "-e", "SELEKT 1;"], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "SyntaxException" in out.stderr or "Syntax" in out.stderr
