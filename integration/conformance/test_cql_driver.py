"""Conformance of the CQL endpoint with the DataStax python driver, default settings.

Passes unchanged against Apache Cassandra 4.1; run against cqlmem with
CASSANDRA_PORT=<port> python -m pytest integration/conformance/test_cql_driver.py
"""
import datetime
import decimal
import ipaddress
import time
import uuid

import pytest
from cassandra import AlreadyExists, InvalidRequest
from cassandra.cluster import Cluster
from cassandra.protocol import SyntaxException
from cassandra.query import BatchStatement, BatchType, SimpleStatement
from cassandra.util import Date, Duration, Time

ALL_TYPES = """
CREATE TABLE {ks}.alltypes (
    id int PRIMARY KEY,
    a ascii, t text, vc varchar, bo boolean, ti tinyint, si smallint, i int, bi bigint,
    vi varint, f float, d double, de decimal, bl blob, u uuid, tu timeuuid,
    ts timestamp, da date, tm time, ip inet, du duration,
    l list<int>, s set<text>, m map<text, int>, fl frozen<list<int>>,
    tup tuple<int, text>, addr frozen<address>
)"""


@pytest.fixture(scope="module")
def cluster(contact_points, cql_port):
    c = Cluster(contact_points, port=cql_port)
    yield c
    c.shutdown()


@pytest.fixture(scope="module")
def session(cluster):
    return cluster.connect()


@pytest.fixture(scope="module")
def ks(session, run_id):
    name = f"conf_{run_id}"
    session.execute(
        f"CREATE KEYSPACE {name} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}"
    )
    session.execute(f"CREATE TYPE {name}.address (street text, zip int)")
    session.execute(ALL_TYPES.format(ks=name))
    session.execute(
        f"CREATE TABLE {name}.events (k text, c int, v text, PRIMARY KEY (k, c)) "
        "WITH CLUSTERING ORDER BY (c DESC)"
    )
    session.execute(f"CREATE TABLE {name}.kv (k int PRIMARY KEY, v text, w int)")
    session.execute(f"CREATE TABLE {name}.counts (k text PRIMARY KEY, n counter)")
    yield name
    session.execute(f"DROP KEYSPACE {name}")


def test_connects_with_v4_and_reads_system_local(session, cluster):
    assert cluster.protocol_version >= 4
    row = session.execute("SELECT cluster_name, partitioner, release_version FROM system.local WHERE key = 'local'").one()
    assert row.partitioner.endswith("Murmur3Partitioner")
    assert row.release_version.split(".")[0] in ("4", "5")


def test_metadata_shows_keyspace_table_columns(cluster, ks):
    cluster.refresh_schema_metadata()
    ksm = cluster.metadata.keyspaces[ks]
    t = ksm.tables["events"]
    assert [c.name for c in t.partition_key] == ["k"]
    assert [c.name for c in t.clustering_key] == ["c"]
    assert t.columns["v"].cql_type == "text"
    assert t.columns["c"].is_reversed
    assert "address" in ksm.user_types
    assert ksm.tables["alltypes"].columns["m"].cql_type == "map<text, int>"


def _values(uid, tuid):
    return dict(
        id=1, a="ascii", t="tëxt", vc="varchar", bo=True, ti=-8, si=1600, i=-32000000, bi=2**40,
        vi=10**30, f=1.5, d=2.25, de=decimal.Decimal("123.4500"), bl=b"\x00\x01\xff", u=uid, tu=tuid,
        ts=datetime.datetime(2021, 3, 4, 5, 6, 7, 123000), da=Date(datetime.date(2020, 2, 29)),
        tm=Time(datetime.time(13, 14, 15, 123456)), ip=ipaddress.ip_address("10.1.2.3"),
        du=Duration(1, 2, 3_000_000_000), l=[3, 1, 2], s={"b", "a"}, m={"x": 1, "y": 2}, fl=[9, 8],
        tup=(7, "seven"),
    )


def _check(row, v):
    for k, want in v.items():
        got = getattr(row, k)
        if k == "ip":
            assert str(got) == str(want)
        elif k == "s":
            assert set(got) == want
        elif k == "m":
            assert dict(got) == want
        elif k == "da":
            assert str(got) == str(want)
        else:
            assert got == want, k


def test_all_types_prepared_roundtrip(session, ks):
    uid, tuid = uuid.uuid4(), uuid.uuid1()
    v = _values(uid, tuid)
    cols = ", ".join(v)
    marks = ", ".join("?" for _ in v)
    p = session.prepare(f"INSERT INTO {ks}.alltypes ({cols}) VALUES ({marks})")
    session.execute(p, list(v.values()))
    row = session.execute(session.prepare(f"SELECT * FROM {ks}.alltypes WHERE id = ?"), [1]).one()
    _check(row, v)


def test_all_types_simple_statement_literals(session, ks):
    session.execute(
        f"INSERT INTO {ks}.alltypes (id, a, t, bo, ti, si, i, bi, vi, f, d, de, bl, u, tu, ts, da, tm, ip, du, l, s, m, tup, addr) "
        "VALUES (2, 'a''b', 'text', false, 1, 2, 3, 4, 12345678901234567890, 1.25, -2.5, 0.001, 0xcafe, "
        "123e4567-e89b-12d3-a456-426614174000, 50554d6e-29bb-11e5-b345-feff819cdc9f, '2020-01-02 03:04:05+0000', "
        "'2020-01-02', '01:02:03.5', '::1', 1h30m, [1, 2], {'z', 'y'}, {'k': 5}, (1, 'one'), {street: 'Main', zip: 12345})"
    )
    row = session.execute(f"SELECT * FROM {ks}.alltypes WHERE id = 2").one()
    assert row.a == "a'b" and row.bo is False and row.ti == 1 and row.vi == 12345678901234567890
    assert row.de == decimal.Decimal("0.001") and row.bl == b"\xca\xfe"
    assert row.u == uuid.UUID("123e4567-e89b-12d3-a456-426614174000")
    assert row.ts == datetime.datetime(2020, 1, 2, 3, 4, 5)
    assert str(row.da) == "2020-01-02" and row.tm == Time(datetime.time(1, 2, 3, 500000))
    assert str(row.ip) == "::1" and row.du == Duration(0, 0, 5400 * 10**9)
    assert row.l == [1, 2] and list(row.s) == ["y", "z"] and dict(row.m) == {"k": 5}
    assert row.tup == (1, "one")
    assert row.addr.street == "Main" and row.addr.zip == 12345


def test_batch_prepared_and_simple(session, ks):
    p = session.prepare(f"INSERT INTO {ks}.kv (k, v) VALUES (?, ?)")
    b = BatchStatement(batch_type=BatchType.UNLOGGED)
    for i in range(10, 20):
        b.add(p, (i, f"v{i}"))
    b.add(SimpleStatement(f"INSERT INTO {ks}.kv (k, v) VALUES (%s, %s)"), (20, "v20"))
    session.execute(b)
    session.execute(f"BEGIN BATCH INSERT INTO {ks}.kv (k, v) VALUES (21, 'x'); UPDATE {ks}.kv SET v = 'y' WHERE k = 22; APPLY BATCH")
    rows = session.execute(f"SELECT k, v FROM {ks}.kv WHERE k IN (10, 19, 20, 21, 22)")
    assert sorted((r.k, r.v) for r in rows) == [(10, "v10"), (19, "v19"), (20, "v20"), (21, "x"), (22, "y")]


def test_a_batch_with_a_rejected_statement_applies_nothing(session, ks):
    """Cassandra validates a whole batch before applying any of it."""
    p = session.prepare(f"INSERT INTO {ks}.kv (k, v) VALUES (?, ?)")
    b = BatchStatement(batch_type=BatchType.UNLOGGED)
    b.add(p, (70, "kept?"))
    b.add(p, (None, "null partition key"))
    with pytest.raises(InvalidRequest):
        session.execute(b)
    with pytest.raises(InvalidRequest):
        session.execute(f"BEGIN UNLOGGED BATCH INSERT INTO {ks}.kv (k, v) VALUES (71, 'kept?'); "
                        f"INSERT INTO {ks}.kv (k, nosuch) VALUES (72, 'x'); APPLY BATCH")
    assert list(session.execute(f"SELECT k FROM {ks}.kv WHERE k IN (70, 71, 72)")) == []


def test_older_timestamp_does_not_overwrite(session, ks):
    session.execute(f"INSERT INTO {ks}.kv (k, v) VALUES (100, 'new') USING TIMESTAMP 2000")
    session.execute(f"INSERT INTO {ks}.kv (k, v) VALUES (100, 'old') USING TIMESTAMP 1000")
    row = session.execute(f"SELECT v, writetime(v) AS wt FROM {ks}.kv WHERE k = 100").one()
    assert row.v == "new" and row.wt == 2000


def test_delete_at_ts_hides_older_writes(session, ks):
    session.execute(f"INSERT INTO {ks}.kv (k, v) VALUES (101, 'a') USING TIMESTAMP 1000")
    session.execute(f"DELETE FROM {ks}.kv USING TIMESTAMP 2000 WHERE k = 101")
    session.execute(f"INSERT INTO {ks}.kv (k, v) VALUES (101, 'b') USING TIMESTAMP 1500")
    assert session.execute(f"SELECT * FROM {ks}.kv WHERE k = 101").one() is None
    session.execute(f"INSERT INTO {ks}.kv (k, v) VALUES (101, 'c') USING TIMESTAMP 2500")
    assert session.execute(f"SELECT v FROM {ks}.kv WHERE k = 101").one().v == "c"


def test_prepared_timestamp_and_ttl_markers(session, ks):
    p = session.prepare(f"INSERT INTO {ks}.kv (k, v) VALUES (?, ?) USING TTL ? AND TIMESTAMP ?")
    session.execute(p, (102, "t", 1000, 5000))
    row = session.execute(f"SELECT writetime(v) AS wt, ttl(v) AS tl FROM {ks}.kv WHERE k = 102").one()
    assert row.wt == 5000 and 990 <= row.tl <= 1000


def test_null_binding_deletes_cell(session, ks):
    session.execute(f"INSERT INTO {ks}.kv (k, v, w) VALUES (103, 'x', 1)")
    p = session.prepare(f"INSERT INTO {ks}.kv (k, v) VALUES (?, ?)")
    session.execute(p, (103, None))
    row = session.execute(f"SELECT v, w FROM {ks}.kv WHERE k = 103").one()
    assert row.v is None and row.w == 1


def test_ttl_expiry(session, ks):
    session.execute(f"INSERT INTO {ks}.kv (k, v) VALUES (104, 'gone') USING TTL 1")
    assert session.execute(f"SELECT v FROM {ks}.kv WHERE k = 104").one().v == "gone"
    time.sleep(2)
    assert session.execute(f"SELECT v FROM {ks}.kv WHERE k = 104").one() is None


def test_update_only_row_disappears_when_cells_deleted(session, ks):
    session.execute(f"UPDATE {ks}.kv SET v = 'u' WHERE k = 105")
    assert session.execute(f"SELECT v FROM {ks}.kv WHERE k = 105").one().v == "u"
    session.execute(f"DELETE v FROM {ks}.kv WHERE k = 105")
    assert session.execute(f"SELECT * FROM {ks}.kv WHERE k = 105").one() is None
    session.execute(f"INSERT INTO {ks}.kv (k, v) VALUES (106, 'i')")
    session.execute(f"DELETE v FROM {ks}.kv WHERE k = 106")
    row = session.execute(f"SELECT * FROM {ks}.kv WHERE k = 106").one()
    assert row is not None and row.v is None


def test_clustering_order_ranges_and_in(session, ks):
    p = session.prepare(f"INSERT INTO {ks}.events (k, c, v) VALUES (?, ?, ?)")
    for k in ("a", "b"):
        for c in range(10):
            session.execute(p, (k, c, f"{k}{c}"))
    rows = session.execute(f"SELECT c FROM {ks}.events WHERE k = 'a'")
    assert [r.c for r in rows] == list(range(9, -1, -1))
    rows = session.execute(f"SELECT c FROM {ks}.events WHERE k = 'a' AND c >= 3 AND c < 6")
    assert [r.c for r in rows] == [5, 4, 3]
    rows = session.execute(f"SELECT c FROM {ks}.events WHERE k = 'a' ORDER BY c ASC LIMIT 3")
    assert [r.c for r in rows] == [0, 1, 2]
    rows = session.execute(f"SELECT k, c FROM {ks}.events WHERE k IN ('a', 'b') AND c = 7")
    assert sorted((r.k, r.c) for r in rows) == [("a", 7), ("b", 7)]
    n = session.execute(f"SELECT count(*) FROM {ks}.events WHERE k = 'b'").one()[0]
    assert n == 10


def test_paging_with_fetch_size(session, ks):
    p = session.prepare(f"INSERT INTO {ks}.events (k, c, v) VALUES ('p', ?, 'x')")
    for c in range(25):
        session.execute(p, (c,))
    st = SimpleStatement(f"SELECT c FROM {ks}.events WHERE k = 'p'", fetch_size=10)
    res = session.execute(st)
    assert len(res.current_rows) == 10 and res.has_more_pages
    assert [r.c for r in res] == list(range(24, -1, -1))
    total = session.execute(f"SELECT count(*) FROM {ks}.events").one()[0]
    assert total >= 25
    scan = SimpleStatement(f"SELECT k, c FROM {ks}.events", fetch_size=7)
    seen = [(r.k, r.c) for r in session.execute(scan)]
    assert len(seen) == total and len(set(seen)) == total


def test_counters(session, ks):
    session.execute(f"UPDATE {ks}.counts SET n = n + 5 WHERE k = 'x'")
    session.execute(f"UPDATE {ks}.counts SET n = n - 2 WHERE k = 'x'")
    p = session.prepare(f"UPDATE {ks}.counts SET n = n + ? WHERE k = ?")
    session.execute(p, (10, "x"))
    assert session.execute(f"SELECT n FROM {ks}.counts WHERE k = 'x'").one().n == 13


def test_if_not_exists_applied(session, ks):
    r = session.execute(f"INSERT INTO {ks}.kv (k, v) VALUES (200, 'first') IF NOT EXISTS").one()
    assert r[0] is True
    r = session.execute(f"INSERT INTO {ks}.kv (k, v) VALUES (200, 'second') IF NOT EXISTS").one()
    assert r[0] is False and r.v == "first"


def test_errors(session, ks):
    with pytest.raises(SyntaxException):
        session.execute("SELEKT * FROM nowhere")
    with pytest.raises(InvalidRequest):
        session.execute(f"SELECT * FROM {ks}.no_such_table")
    with pytest.raises(AlreadyExists):
        session.execute(f"CREATE TABLE {ks}.kv (k int PRIMARY KEY)")
    with pytest.raises(InvalidRequest):
        session.execute(f"INSERT INTO {ks}.kv (v) VALUES ('no key')")
    with pytest.raises(InvalidRequest):
        session.execute(f"INSERT INTO {ks}.kv (k, v) VALUES ('text', 'x')")


def test_wrong_size_bind_value_is_invalid(session, ks):
    from cassandra.query import BoundStatement

    p = session.prepare(f"SELECT * FROM {ks}.kv WHERE k = ?")
    bs = BoundStatement(p)
    bs.values = [b"\x00\x00\x00\x00\x00\x00\x00\x01"]
    bs.raw_values = bs.values
    with pytest.raises(InvalidRequest):
        session.execute(bs)


def _compression_available(name):
    try:
        __import__(name)
        return True
    except ImportError:
        return False


@pytest.mark.parametrize("algo,module", [("lz4", "lz4"), ("snappy", "snappy")])
def test_compression(contact_points, cql_port, ks, algo, module):
    if not _compression_available(module):
        pytest.skip(f"python module {module} not installed")
    c = Cluster(contact_points, port=cql_port, compression=algo)
    try:
        s = c.connect()
        big = "z" * 5000
        s.execute(f"INSERT INTO {ks}.kv (k, v) VALUES (300, %s)", (big,))
        assert s.execute(f"SELECT v FROM {ks}.kv WHERE k = 300").one().v == big
    finally:
        c.shutdown()
