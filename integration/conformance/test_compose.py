"""The docker compose stack, checked without a Docker engine (integration/compose/check.py).

The shipped docker-compose.yml, Dockerfile and .dockerignore must pass every check; each check
must reject a document broken in the way it guards against. `docker compose config` runs when
a compose v2 CLI is available (integration/compose/get-compose.sh caches one) and is skipped
otherwise.
"""
from __future__ import annotations

import copy
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("compose_check", ROOT / "integration/compose/check.py")
check = importlib.util.module_from_spec(_spec)
sys.modules["compose_check"] = check  # dataclasses look their module up by name
_spec.loader.exec_module(check)

COMPOSE = ROOT / "docker-compose.yml"


@pytest.fixture(scope="module")
def shipped() -> dict:
    doc, missing = check.load_compose(COMPOSE)
    assert missing == []
    return doc


@pytest.fixture
def doc(shipped) -> dict:
    return copy.deepcopy(shipped)


def problems(doc: dict, root: Path = ROOT) -> list[str]:
    report = check.Report()
    check.check_document(doc, root, report)
    return report.problems


# ---- the shipped stack -------------------------------------------------------------------

def test_shipped_stack_passes_every_static_check():
    report = check.run_all(COMPOSE, ROOT, cli=False)
    assert report.problems == [], "\n".join(report.problems)


def test_shipped_stack_has_the_expected_shape(shipped):
    svcs = shipped["services"]
    for name in ("kafka", "schema-registry", "cassandra", "cassandra-init", "cassink",
                 "connectors-init", "producer-tweets", "producer-weather", "producer-meter"):
        assert name in svcs, name
    assert "zookeeper" not in svcs and "kafka-manager" not in svcs
    kafka = svcs["kafka"]["environment"]
    assert kafka["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert "KAFKA_ZOOKEEPER_CONNECT" not in kafka
    assert svcs["cassink"]["environment"]["CONNECT_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert svcs["connectors-init"]["depends_on"]["cassink"]["condition"] == "service_healthy"
    assert "8083:8083" in svcs["cassink"]["ports"]
    assert all(svcs[s].get("profiles") == ["avro"]
               for s in ("producer-meter-avro", "connectors-init-avro"))
    # Monitoring runs with plain `docker compose up` (no profile), images pinned.
    for name in ("prometheus", "grafana"):
        assert name in svcs and not svcs[name].get("profiles"), name
    assert svcs["prometheus"]["image"].startswith("prom/prometheus:v3.")
    assert svcs["grafana"]["image"].startswith("grafana/grafana:")
    assert svcs["grafana"]["environment"]["GF_AUTH_ANONYMOUS_ENABLED"] == "true"
    assert svcs["grafana"]["environment"]["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"


def test_check_script_exit_codes(tmp_path):
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  a:\n    image: busybox\n    depends_on: [nope]\n")
    r = subprocess.run([sys.executable, str(ROOT / "integration/compose/check.py"),
                        "--no-cli", "--compose", str(broken)], capture_output=True, text=True)
    assert r.returncode == 1, r.stdout
    assert "depends on nope, which is not a service" in r.stdout
    assert "image busybox is not pinned" in r.stdout


# ---- each check rejects what it guards against --------------------------------------------

def test_schema_rejects_a_malformed_document(doc):
    doc["services"]["kafka"]["ports"] = 29092
    doc["services"]["cassink"]["depends_on"]["kafka"]["condition"] = "service_ready"
    doc["servcies"] = {}
    found = problems(doc)
    assert any(p.startswith("schema: services/kafka/ports") for p in found), found
    assert any("service_ready" in p for p in found), found
    assert any("servcies" in p for p in found), found


def _svc(doc, name):
    return doc["services"][name]


MUTATIONS = {
    "missing depends_on target": (
        lambda d: _svc(d, "cassink")["depends_on"].update({"kafak": {"condition": "service_started"}}),
        "depends on kafak, which is not a service"),
    "service_healthy without a health check": (
        lambda d: _svc(d, "kafka").pop("healthcheck"),
        "waits for kafka to be healthy, but kafka has no health check"),
    "service_healthy on a disabled health check": (
        lambda d: _svc(d, "producer-meter").update(
            {"depends_on": {"producer-tweets": {"condition": "service_healthy"}}}),
        "producer-tweets has no health check"),
    "completion of a service that restarts": (
        lambda d: _svc(d, "cassandra-init").update({"restart": "always"}),
        "waits for cassandra-init to complete, but cassandra-init restarts"),
    "dependency only in a profile": (
        lambda d: _svc(d, "producer-tweets")["depends_on"].update(
            {"producer-meter-avro": {"condition": "service_started"}}),
        "depends on producer-meter-avro, which only runs with profile(s) ['avro']"),
    "dependency cycle": (
        lambda d: _svc(d, "kafka").setdefault("depends_on", {}).update({"cassink": {"condition": "service_started"}}),
        "cycle:"),
    "host port clash": (
        lambda d: _svc(d, "cassandra")["ports"].append("8083:9160"),
        "host port 8083/tcp is published by both"),
    "unknown worker key": (
        lambda d: _svc(d, "cassink")["environment"].update({"CONNECT_BOOTSTRAP_SERVER": "kafka:9092"}),
        "CONNECT_BOOTSTRAP_SERVER -> bootstrap.server, which the worker does not know"),
    "non-CONNECT variable on the worker": (
        lambda d: _svc(d, "cassink")["environment"].update({"KAFKA_BOOTSTRAP": "kafka:9092"}),
        "KAFKA_BOOTSTRAP is not a worker setting"),
    "bootstrap host that is no service": (
        lambda d: _svc(d, "cassink")["environment"].update({"CONNECT_BOOTSTRAP_SERVERS": "broker:9092"}),
        "bootstrap host broker is not a service"),
    "state dir off the volume": (
        lambda d: _svc(d, "cassink").pop("volumes"),
        "state dir /var/lib/cassink is not on a volume"),
    "REST port not published": (
        lambda d: _svc(d, "cassink")["environment"].update({"CONNECT_REST_PORT": "8084"}),
        "REST port 8084 is not the container side"),
    "unknown produce flag": (
        lambda d: _svc(d, "producer-tweets").update(
            {"command": ["cassink", "produce", "tweets", "--bootstrap", "kafka:9092", "--rat", "10"]}),
        "`cassink produce` has no flag --rat"),
    "unknown workload": (
        lambda d: _svc(d, "producer-tweets").update({"command": ["cassink", "produce", "tweet"]}),
        "`cassink produce` needs a workload"),
    "variable an init script never reads": (
        lambda d: _svc(d, "connectors-init")["environment"].update({"CONNECT_URL": "x"}),
        "CONNECT_URL is set but /compose/connectors-init.sh never reads it"),
    "variable the schema script never reads": (
        lambda d: _svc(d, "cassandra-init")["environment"].update({"CQLSH_HOST": "cassandra"}),
        "CQLSH_HOST is set but /compose/cassandra-init.sh never reads it"),
    "unpinned image (latest)": (
        lambda d: _svc(d, "cassandra").update({"image": "cassandra:latest"}),
        "image cassandra:latest is not pinned"),
    "unpinned image (no tag)": (
        lambda d: _svc(d, "schema-registry").update({"image": "confluentinc/cp-schema-registry"}),
        "image confluentinc/cp-schema-registry is not pinned"),
    "local image pulled": (
        lambda d: _svc(d, "producer-meter").update({"pull_policy": "always"}),
        "would pull cassink:local"),
    "missing bind mount source": (
        lambda d: _svc(d, "cassandra-init")["volumes"].append("./compose/nope.cql:/schema/nope.cql:ro"),
        "bind mount source ./compose/nope.cql does not exist"),
    "connector file that does not exist": (
        lambda d: _svc(d, "connectors-init")["command"].append("/connectors/nope.json"),
        "/connectors/nope.json maps to"),
    "script with no mount": (
        lambda d: _svc(d, "connectors-init").pop("volumes"),
        "/compose/connectors-init.sh is used but no bind mount provides it"),
    "shipped connector left out": (
        lambda d: _svc(d, "connectors-init")["command"].remove("/connectors/meter.json"),
        "connectors/meter.json is not loaded by any init service"),
    "missing build context": (
        lambda d: _svc(d, "cassink").update({"build": {"context": "./nope"}}),
        "build context"),
    "undeclared volume": (
        lambda d: _svc(d, "kafka")["volumes"].append("kafka-logs:/var/log/kafka"),
        "volume kafka-logs is not declared"),
    "declared volume never used": (
        lambda d: d["volumes"].update({"spare": None}),
        "volume spare is declared but never mounted"),
    "service off the network": (
        lambda d: _svc(d, "schema-registry").pop("networks"),
        "schema-registry: not attached"),
}


@pytest.mark.parametrize("case", sorted(MUTATIONS))
def test_check_rejects(doc, case):
    mutate, expected = MUTATIONS[case]
    mutate(doc)
    found = problems(doc)
    assert any(expected in p for p in found), f"{case}: expected {expected!r} in {found}"


def test_variable_without_default_is_reported(tmp_path):
    f = tmp_path / "c.yml"
    f.write_text("services:\n  a:\n    image: ${A_IMAGE}\n  b:\n    image: ${B_IMAGE:-x:1}\n")
    doc, missing = check.load_compose(f)
    assert missing == ["A_IMAGE"]
    assert doc["services"]["b"]["image"] == "x:1"
    doc, missing = check.load_compose(f, {"A_IMAGE": "y:2"})
    assert missing == [] and doc["services"]["a"]["image"] == "y:2"


def test_connect_env_follows_the_confluent_convention():
    # The same cases as crates/worker/src/config/mod.rs env_follows_confluent_convention.
    assert check.connect_env_key("CONNECT_BOOTSTRAP_SERVERS") == "bootstrap.servers"
    assert check.connect_env_key("CONNECT_CONSUMER_MAX__POLL__RECORDS") == "consumer.max_poll_records"
    assert check.connect_env_key("CONNECT_FOO___BAR") == "foo-bar"


def test_worker_keys_come_from_the_worker_source():
    report = check.Report()
    keys, prefixes = check.worker_keys(ROOT, report)
    assert report.notes == [], report.notes
    assert "bootstrap.servers" in keys and "state.dir" in keys
    assert "consumer." in prefixes


# ---- monitoring: Prometheus and Grafana ---------------------------------------------------

@pytest.fixture
def mon(doc):
    report = check.Report()
    loaded = check.load_monitoring(doc, ROOT, report)
    assert report.problems == [], report.problems
    return loaded


def monitoring_problems(doc: dict, mon) -> list[str]:
    report = check.Report()
    check.check_monitoring(doc, ROOT, report, mon)
    return report.problems


def test_shipped_monitoring_passes(doc, mon):
    assert mon.prometheus == "prometheus" and mon.grafana == "grafana"
    assert [f for f, _ in mon.dashboards] == ["integration/compose/monitoring/cassink.json"]
    assert monitoring_problems(doc, mon) == []
    dash = mon.dashboards[0][1]
    var = dash["templating"]["list"][0]
    assert var["name"] == "connector"
    assert var["query"] == "label_values(kafka_connect_sink_task_sink_record_read_total, connector)"
    # Prometheus scrapes the worker's REST port every 5 s.
    job = next(j for j in mon.scrape["scrape_configs"] if j["job_name"] == "cassink")
    assert job["static_configs"][0]["targets"] == ["cassink:8083"]
    assert mon.scrape["global"]["scrape_interval"] == "5s"


def test_dashboard_covers_every_area(mon):
    exprs = " ".join(t["expr"] for p in check.dashboard_panels(mon.dashboards[0][1]["panels"])
                     for t in p.get("targets") or [])
    used = check.metric_names(exprs)
    for name in ("kafka_connect_sink_task_sink_record_read_rate", "cassink_records_written_total",
                 "cassink_lag", "kafka_connect_sink_task_sink_record_lag_max",
                 "kafka_connect_task_error_total_record_errors",
                 "kafka_connect_task_error_deadletterqueue_produce_requests",
                 "cassink_records_skipped_total", "cassink_records_failed_total",
                 "cassink_write_latency_seconds_bucket",
                 "kafka_connect_sink_task_put_batch_avg_time_ms",
                 "kafka_connect_connector_task_status",
                 "kafka_connect_worker_connector_failed_task_count",
                 "cassink_records_read_total", "cassink_records_filtered_total",
                 "cassink_records_in_flight"):
        assert name in used, name


def _job(mon):
    return mon.scrape["scrape_configs"][0]


def _first_target(mon):
    panels = [p for p in check.dashboard_panels(mon.dashboards[0][1]["panels"]) if p.get("targets")]
    return panels[0], panels[0]["targets"][0]


MONITORING_MUTATIONS = {
    "scrape target to a missing service": (
        lambda d, m: _job(m)["static_configs"][0].update({"targets": ["cassnik:8083"]}),
        "target cassnik:8083: cassnik names no compose service"),
    "scrape target on a port the worker does not listen on": (
        lambda d, m: _job(m)["static_configs"][0].update({"targets": ["cassink:9090"]}),
        "target cassink:9090: cassink does not listen on 9090 (it listens on 8083)"),
    "scrape target follows the REST port": (
        lambda d, m: _svc(d, "cassink")["environment"].update({"CONNECT_REST_PORT": "8084"}),
        "target cassink:8083: cassink does not listen on 8083 (it listens on 8084)"),
    "wrong metrics path": (
        lambda d, m: _job(m).update({"metrics_path": "/prometheus"}),
        "metrics_path is /prometheus; the worker serves /metrics"),
    "scrape timeout longer than the interval": (
        lambda d, m: _job(m).update({"scrape_timeout": "10s"}),
        "scrape_timeout (10s) is longer than scrape_interval (5s)"),
    "worker not scraped at all": (
        lambda d, m: m.scrape.update({"scrape_configs": [{"job_name": "self", "static_configs": [
            {"targets": ["localhost:9090"]}]}]}),
        "no scrape job targets the worker (cassink)"),
    "basic auth on the worker but not on the scrape": (
        lambda d, m: _svc(d, "cassink")["environment"].update(
            {"CONNECT_REST_AUTH_CREDENTIALS_FILE": "/etc/cassink/users"}),
        "cassink has basic auth on (CONNECT_REST_AUTH_CREDENTIALS_FILE) but the job sends no basic_auth"),
    "metric not in docs/metrics.md": (
        lambda d, m: _first_target(m)[1].update({"expr": "sum(rate(cassink_records_polled_total[1m]))"}),
        "uses cassink_records_polled_total, which docs/metrics.md does not list"),
    "_bucket of a metric that is no histogram": (
        lambda d, m: _first_target(m)[1].update(
            {"expr": "histogram_quantile(0.9, rate(kafka_connect_sink_task_sink_record_read_rate_bucket[1m]))"}),
        "uses kafka_connect_sink_task_sink_record_read_rate_bucket, which docs/metrics.md"),
    "misspelt function": (
        lambda d, m: _first_target(m)[1].update({"expr": "sum(rat(cassink_records_written_total[1m]))"}),
        "calls rat(), which is no PromQL function"),
    "metric in the variable query not in the docs": (
        lambda d, m: m.dashboards[0][1]["templating"]["list"][0].update(
            {"query": "label_values(kafka_connect_sink_task_sink_record_reads_total, connector)"}),
        "variable connector uses kafka_connect_sink_task_sink_record_reads_total"),
    "undefined template variable": (
        lambda d, m: _first_target(m)[1].update(
            {"expr": 'sum(cassink_lag{connector=~"$conector"})'}),
        "uses $conector, which the dashboard does not define"),
    "wrong datasource uid on a panel": (
        lambda d, m: _first_target(m)[0].update({"datasource": {"type": "prometheus", "uid": "prom"}}),
        "datasource uid 'prom' is not a provisioned one (cassink-prometheus); used by panel 'Running tasks'"),
    "wrong datasource uid on a target": (
        lambda d, m: _first_target(m)[1].update({"datasource": {"type": "prometheus", "uid": "P1809F7CD0C75ACF3"}}),
        "datasource uid 'P1809F7CD0C75ACF3' is not a provisioned one (cassink-prometheus); "
        "used by panel 'Running tasks' target A"),
    "wrong datasource uid on the variable": (
        lambda d, m: m.dashboards[0][1]["templating"]["list"][0].update({"datasource": "Prometheus"}),
        "datasource uid 'Prometheus' is not a provisioned one (cassink-prometheus); used by variable connector"),
    "panel without a datasource": (
        lambda d, m: _first_target(m)[0].pop("datasource"),
        "has no datasource (provisioned: cassink-prometheus)"),
    "provisioned datasource uid changed": (
        lambda d, m: m.datasources[0][1]["datasources"][0].update({"uid": "other"}),
        "datasource uid 'cassink-prometheus' is not a provisioned one (other); used by panel "
        "'Running tasks', panel 'Running tasks' target A and "),
    "datasource without a uid": (
        lambda d, m: m.datasources[0][1]["datasources"][0].pop("uid"),
        "datasource Prometheus has no uid"),
    "datasource url to a missing service": (
        lambda d, m: m.datasources[0][1]["datasources"][0].update({"url": "http://prom:9090"}),
        "datasource Prometheus: prom names no compose service"),
    "datasource url to the wrong port": (
        lambda d, m: m.datasources[0][1]["datasources"][0].update({"url": "http://prometheus:9091"}),
        "datasource Prometheus: prometheus does not listen on 9091"),
    "duplicate panel id": (
        lambda d, m: _first_target(m)[0].update({"id": 1}),
        "id 1 is also panel 'Tasks'"),
}


@pytest.mark.parametrize("case", sorted(MONITORING_MUTATIONS))
def test_monitoring_check_rejects(doc, mon, case):
    mutate, expected = MONITORING_MUTATIONS[case]
    mutate(doc, mon)
    found = monitoring_problems(doc, mon)
    assert any(expected in p for p in found), f"{case}: expected {expected!r} in {found}"


@pytest.mark.parametrize("mutate,expected", [
    (lambda g: g.update({"volumes": [v for v in g["volumes"] if "cassink.json" not in v]}),
     "provider cassink loads dashboards from /etc/grafana/dashboards, which no bind mount of grafana provides"),
    (lambda g: g.update({"volumes": [v for v in g["volumes"] if "datasources" not in v]}),
     "grafana: no datasource is provisioned"),
    (lambda g: g.update({"volumes": [v for v in g["volumes"] if "provisioning/dashboards" not in v]}),
     "grafana: no dashboard provider is provisioned"),
    (lambda g: g["volumes"].append("./integration/compose/monitoring/nope.yml:/etc/grafana/provisioning/alerting/x.yml:ro"),
     "provisioning ./integration/compose/monitoring/nope.yml -> /etc/grafana/provisioning/alerting/x.yml does not exist"),
])
def test_monitoring_checks_what_grafana_mounts(doc, mutate, expected):
    mutate(_svc(doc, "grafana"))
    found = problems(doc)
    assert any(expected in p for p in found), found


def test_prometheus_config_must_be_mounted(doc):
    _svc(doc, "prometheus")["volumes"] = ["prometheus-data:/prometheus"]
    found = problems(doc)
    assert any("prometheus: its config /etc/prometheus/prometheus.yml comes from no bind mount" in p
               for p in found), found


def test_provisioning_files_must_parse(doc, tmp_path):
    bad = tmp_path / "datasource.yml"
    bad.write_text("apiVersion: 1\ndatasources:\n  - name: [unclosed\n")
    g = _svc(doc, "grafana")
    g["volumes"] = [f"{bad}:/etc/grafana/provisioning/datasources/cassink.yml:ro" if "datasources" in v
                    else v for v in g["volumes"]]
    found = problems(doc)
    assert any("grafana provisioning /etc/grafana/provisioning/datasources/cassink.yml:" in p
               and "does not parse" in p for p in found), found


def test_dashboard_must_parse(doc, tmp_path):
    bad = tmp_path / "cassink.json"
    bad.write_text("{\"panels\": [")
    g = _svc(doc, "grafana")
    g["volumes"] = [f"{bad}:/etc/grafana/dashboards/cassink.json:ro" if "cassink.json" in v
                    else v for v in g["volumes"]]
    found = problems(doc)
    assert any("cassink.json does not parse" in p for p in found), found


def test_a_stack_without_monitoring_is_skipped_with_a_note(doc):
    for name in ("prometheus", "grafana"):
        del doc["services"][name]
    report = check.Report()
    check.check_monitoring(doc, ROOT, report)
    assert report.problems == [] and any("monitoring: skipped" in n for n in report.notes)


def test_metric_names_of_an_expression():
    names = check.metric_names(
        'histogram_quantile(0.99, sum by (le, connector) (rate(cassink_write_latency_seconds_bucket'
        '{connector=~"$connector", task!="x_total"}[$__rate_interval]))) '
        '/ on(connector) group_left sum without (task) (increase(cassink_batches_total[5m] offset 1h)) '
        '> bool 1e3 and ignoring(task) kafka_connect_worker_task_count or vector(0)')
    assert names == {"cassink_write_latency_seconds_bucket", "cassink_batches_total",
                     "kafka_connect_worker_task_count"}
    assert check.metric_names("label_values(kafka_connect_sink_task_sink_record_read_total, connector)") \
        == {"kafka_connect_sink_task_sink_record_read_total"}
    assert check.metric_names("label_values(connector)") == set()
    assert check.metric_names('sum(rate(ns:recorded_rule:rate1m[1m]))') == {"ns:recorded_rule:rate1m"}


def test_documented_metrics_come_from_the_tables():
    text = (ROOT / "docs/metrics.md").read_text()
    documented = check.documented_metrics(text)
    assert documented["cassink_write_latency_seconds"] == "histogram"
    assert documented["kafka_connect_sink_task_sink_record_read_total"] == "counter"
    assert documented["cassink_lag"] == "gauge"
    assert not check.undocumented("cassink_write_latency_seconds_bucket", documented)
    assert not check.undocumented("cassink_write_latency_seconds_count", documented)
    assert check.undocumented("cassink_lag_bucket", documented)
    assert check.undocumented("cassink_records_polled_total", documented)


@pytest.fixture(scope="module")
def promtool():
    cli = check.promtool_cli()
    if cli is None:
        pytest.skip("no promtool (PROMTOOL_BIN, PATH or $CASSINK_CACHE/promtool/promtool)")
    return cli


def test_promtool_accepts_the_shipped_config(shipped, promtool):
    report = check.Report()
    assert check.check_promtool(shipped, ROOT, report, promtool)
    assert report.problems == [], report.problems


def test_promtool_rejects_a_broken_config(doc, promtool, tmp_path):
    bad = tmp_path / "prometheus.yml"
    bad.write_text("global:\n  scrape_interval: 5x\nscrape_configs: []\n")
    _svc(doc, "prometheus")["volumes"] = [f"{bad}:/etc/prometheus/prometheus.yml:ro"]
    report = check.Report()
    check.check_promtool(doc, ROOT, report, promtool)
    assert any(p.startswith("promtool:") for p in report.problems), report.problems


# ---- Dockerfile and .dockerignore ---------------------------------------------------------

def test_shipped_dockerfile_passes():
    report = check.Report()
    check.check_dockerfile(ROOT / "Dockerfile", report)
    assert report.problems == [], report.problems


GOOD_DOCKERFILE = """\
FROM rust:1-bookworm AS builder
RUN cargo build --release
FROM debian:bookworm-slim
COPY --from=builder /out/cassink /usr/local/bin/cassink
USER cassink
HEALTHCHECK CMD curl -fsS localhost:8083/health
CMD ["cassink", "worker"]
"""


@pytest.mark.parametrize("old,new,expected", [
    ("USER cassink\n", "", "runs as root (no USER)"),
    ("USER cassink\n", "USER root\n", "runs as root (USER root)"),
    ("USER cassink\n", "USER 0:0\n", "runs as root (USER 0:0)"),
    ("HEALTHCHECK CMD curl -fsS localhost:8083/health\n", "", "no HEALTHCHECK"),
    ("HEALTHCHECK CMD curl -fsS localhost:8083/health\n", "HEALTHCHECK NONE\n", "no HEALTHCHECK"),
    ("--from=builder", "--from=build", "COPY --from=build names no stage"),
    ("FROM debian:bookworm-slim", "FROM debian", "FROM debian is not pinned"),
    ('CMD ["cassink", "worker"]\n', "", "no CMD or ENTRYPOINT"),
])
def test_dockerfile_check_rejects(tmp_path, old, new, expected):
    df = tmp_path / "Dockerfile"
    df.write_text(GOOD_DOCKERFILE)
    report = check.Report()
    check.check_dockerfile(df, report)
    assert report.problems == []
    df.write_text(GOOD_DOCKERFILE.replace(old, new))
    check.check_dockerfile(df, report)
    assert any(expected in p for p in report.problems), report.problems


def test_single_stage_dockerfile_is_rejected(tmp_path):
    df = tmp_path / "Dockerfile"
    df.write_text("FROM rust:1-bookworm\nUSER nobody\nHEALTHCHECK CMD true\nCMD [\"x\"]\n")
    report = check.Report()
    check.check_dockerfile(df, report)
    assert any("not multi-stage" in p for p in report.problems), report.problems


def test_dockerignore_matching():
    pats = ["*", "!src/", "!integration/cqlmem/", "**/target/"]
    ex = check.dockerignore_excludes
    assert ex(pats, "README.md")
    assert ex(pats, "integration/stack.sh")
    assert not ex(pats, "src/main.rs")
    assert not ex(pats, "integration/cqlmem/src/main.rs")
    assert ex(pats, "integration/cqlmem/target/x")
    assert ex(pats, "target/release/cassink")
    assert not ex(["target"], "src/target.rs")
    assert ex(["**/*.pyc"], "a/b/c.pyc") and ex(["**/*.pyc"], "c.pyc")


def test_dockerignore_must_let_workspace_members_in(tmp_path):
    for rel in ("Cargo.toml", "Cargo.lock", "src/main.rs", "crates/x/Cargo.toml", "crates/x/src/lib.rs"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    (tmp_path / "Cargo.toml").write_text('[workspace]\nmembers = [".", "crates/x"]\n')
    (tmp_path / ".dockerignore").write_text("*\n!Cargo.toml\n!Cargo.lock\n!src/\n")
    report = check.Report()
    check.check_dockerignore(tmp_path, report)
    assert any("crates/x/Cargo.toml is excluded" in p for p in report.problems), report.problems
    (tmp_path / ".dockerignore").write_text("*\n!Cargo.toml\n!Cargo.lock\n!src/\n!crates/\n")
    report = check.Report()
    check.check_dockerignore(tmp_path, report)
    assert report.problems == [], report.problems


def test_dockerignore_must_let_embedded_files_in(tmp_path):
    for rel in ("Cargo.toml", "Cargo.lock", "ui/index.html", "docs/notes.md"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    (tmp_path / "src").mkdir()
    (tmp_path / "src/main.rs").write_text(
        'const PAGE: &[u8] = include_bytes!("../ui/index.html");\n'
        '#[cfg(test)]\nmod tests { const D: &str = include_str!("../docs/notes.md"); }\n'
    )
    (tmp_path / ".dockerignore").write_text("*\n!Cargo.toml\n!Cargo.lock\n!src/\n")
    report = check.Report()
    check.check_dockerignore(tmp_path, report)
    assert report.problems == [
        "dockerignore: ui/index.html is excluded from the build context, but src/main.rs embeds "
        "it (include_str!/include_bytes!)"
    ], report.problems  # the test-only include is not needed by the image build
    (tmp_path / ".dockerignore").write_text("*\n!Cargo.toml\n!Cargo.lock\n!src/\n!ui/\n")
    report = check.Report()
    check.check_dockerignore(tmp_path, report)
    assert report.problems == [], report.problems


def test_shipped_dockerignore_passes():
    report = check.Report()
    check.check_dockerignore(ROOT, report)
    assert report.problems == [], report.problems


# ---- docker compose config (needs a compose v2 CLI, not an engine) -------------------------

@pytest.fixture(scope="module")
def compose_cli():
    cli = check.compose_cli()
    if cli is None:
        pytest.skip("no compose v2 CLI (docker compose plugin, DOCKER_COMPOSE_BIN, or "
                    "integration/compose/get-compose.sh)")
    return cli


def test_compose_cli_accepts_the_shipped_stack(compose_cli):
    report = check.Report()
    assert check.check_cli(COMPOSE, ROOT, report, cli=compose_cli)
    assert report.problems == [], report.problems


def test_compose_cli_rejects_a_broken_stack(compose_cli, tmp_path):
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(COMPOSE.read_text().replace(
        "      cassandra-init:\n        condition: service_completed_successfully\n    command: [\"cassink\", \"worker\"]",
        "      cassandra-initt:\n        condition: service_completed_successfully\n    command: [\"cassink\", \"worker\"]"))
    assert broken.read_text() != COMPOSE.read_text()
    report = check.Report()
    check.check_cli(broken, ROOT, report, cli=compose_cli)
    assert any("cassandra-initt" in p for p in report.problems), report.problems


# ---- the distributed override -------------------------------------------------------------

DISTRIBUTED = ROOT / "docker-compose.distributed.yml"


def test_distributed_override_is_a_valid_compose_document():
    doc, missing = check.load_compose(DISTRIBUTED)
    assert missing == []
    report = check.Report()
    check.check_schema(doc, report)
    assert report.problems == [], report.problems


def merged_with_override(cli: list[str]) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    r = subprocess.run(cli + ["-f", str(COMPOSE), "-f", str(DISTRIBUTED), "--project-directory",
                              str(ROOT), "--profile", "*", "config", "--format", "json"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_distributed_override_runs_three_workers_of_one_cluster(compose_cli):
    merged = merged_with_override(compose_cli)
    report = check.Report()
    check.check_document(merged, ROOT, report)
    assert report.problems == [], "\n".join(report.problems)
    workers = {n: s for n, s in merged["services"].items() if n.startswith("cassink")}
    assert sorted(workers) == ["cassink", "cassink-2", "cassink-3"]
    envs = [s["environment"] for s in workers.values()]
    for key in ("CONNECT_GROUP_ID", "CONNECT_CONFIG_STORAGE_TOPIC", "CONNECT_STATUS_STORAGE_TOPIC",
                "CONNECT_BOOTSTRAP_SERVERS"):
        assert len({e.get(key) for e in envs}) == 1 and envs[0].get(key), key
    # Each worker advertises its own service name, so statuses say which one runs a task.
    assert {e["CONNECT_REST_ADVERTISED_HOST_NAME"] for e in envs} == set(workers)
    published = sorted(p["published"] for s in workers.values() for p in s["ports"])
    assert published == ["8083", "8084", "8085"]


def test_a_worker_without_state_dir_or_cluster_is_rejected(doc):
    del doc["services"]["cassink"]["environment"]["CONNECT_STATE_DIR"]
    assert any("CONNECT_STATE_DIR is not set" in p for p in problems(doc))
    doc["services"]["cassink"]["environment"]["CONNECT_CONFIG_STORAGE_TOPIC"] = "cassink-configs"
    assert not any("CONNECT_STATE_DIR" in p for p in problems(doc))


# ---- the same major versions as the test stack --------------------------------------------

def _stack_version(component: str, artifact: str) -> str:
    import xml.etree.ElementTree as ET
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    pom = ET.parse(ROOT / f"integration/stack/{component}/pom.xml")
    for dep in pom.getroot().iterfind(".//m:dependency", ns):
        if dep.findtext("m:artifactId", namespaces=ns) == artifact:
            return dep.findtext("m:version", namespaces=ns)
    raise AssertionError(f"{artifact} not in integration/stack/{component}/pom.xml")


def _tag(image: str) -> str:
    return image.rsplit(":", 1)[1]


def test_compose_runs_the_kafka_and_cassandra_majors_the_tests_run_on(shipped):
    svcs = shipped["services"]
    kafka = _stack_version("kafka", "kafka_2.13")
    cassandra = _stack_version("cassandra", "cassandra-all")
    assert svcs["kafka"]["image"].startswith("apache/kafka:")
    assert _tag(svcs["kafka"]["image"]).split(".")[0] == kafka.split(".")[0], (svcs["kafka"], kafka)
    for name in ("cassandra", "cassandra-init"):
        tag = _tag(svcs[name]["image"])
        assert tag.split(".")[:2] == cassandra.split(".")[:2], (name, tag, cassandra)


# ---- the kafka-manager override -----------------------------------------------------------

KAFKA_MANAGER = ROOT / "docker-compose.kafka-manager.yml"


def test_kafka_manager_override_is_a_valid_compose_document():
    doc, missing = check.load_compose(KAFKA_MANAGER)
    assert missing == []
    report = check.Report()
    check.check_schema(doc, report)
    assert report.problems == [], report.problems


def test_kafka_manager_override_swaps_kafka_for_zookeeper_mode(compose_cli):
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    r = subprocess.run(compose_cli + ["-f", str(COMPOSE), "-f", str(KAFKA_MANAGER),
                                      "--project-directory", str(ROOT), "--profile", "*", "config",
                                      "--format", "json"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    merged = json.loads(r.stdout)
    report = check.Report()
    check.check_document(merged, ROOT, report)
    assert report.problems == [], "\n".join(report.problems)
    svcs = merged["services"]
    kafka = svcs["kafka"]["environment"]
    # !override: none of the KRaft settings leak into the ZooKeeper-mode broker.
    assert kafka["KAFKA_ZOOKEEPER_CONNECT"] == "zookeeper:2181"
    assert not any(k.startswith(("KAFKA_PROCESS_ROLES", "KAFKA_CONTROLLER")) for k in kafka), kafka
    assert [v["source"] for v in svcs["kafka"]["volumes"]] == ["kafka-zk-data"]
    assert [p["published"] for p in svcs["kafka-manager"]["ports"]] == ["9000"]
    assert svcs["kafka-manager"]["environment"]["ZK_HOSTS"] == "zookeeper:2181"
    assert svcs["cassink"]["environment"]["CONNECT_BOOTSTRAP_SERVERS"] == "kafka:9092"
