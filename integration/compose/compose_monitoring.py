"""The monitoring checks of the compose stack: Prometheus's scrape targets, Grafana's
provisioning and dashboards against the metrics docs/metrics.md lists, and promtool."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml


from compose_model import (Report, as_list, container_to_host, dockerfile_cmd, env_map, host_path, mounts, services, uses_local_build)

# ---- monitoring: Prometheus and Grafana ---------------------------------------------------

METRICS_DOC = Path("docs") / "metrics.md"
PROMETHEUS_CONFIG = "/etc/prometheus/prometheus.yml"
GRAFANA_PROVISIONING = "/etc/grafana/provisioning"
# Samples a family exposes besides its own name, by OpenMetrics type.
FAMILY_SUFFIXES = {"histogram": ("_bucket", "_sum", "_count", "_created"),
                   "summary": ("_sum", "_count", "_created")}
# PromQL's functions, aggregations and keywords: every other identifier in an expression
# (outside label matchers, strings, ranges and grouping clauses) is a metric name.
PROMQL_WORDS = {
    "abs", "absent", "absent_over_time", "acos", "acosh", "asin", "asinh", "atan", "atanh",
    "avg_over_time", "ceil", "changes", "clamp", "clamp_max", "clamp_min", "cos", "cosh",
    "count_over_time", "day_of_month", "day_of_week", "day_of_year", "days_in_month", "deg",
    "delta", "deriv", "double_exponential_smoothing", "exp", "floor", "histogram_avg",
    "histogram_count", "histogram_fraction", "histogram_quantile", "histogram_stddev",
    "histogram_stdvar", "histogram_sum", "holt_winters", "hour", "idelta", "increase", "info",
    "irate", "label_join", "label_replace", "last_over_time", "ln", "log10", "log2",
    "mad_over_time", "max_over_time", "min_over_time", "minute", "month", "pi",
    "predict_linear", "present_over_time", "quantile_over_time", "rad", "rate", "resets",
    "round", "scalar", "sgn", "sin", "sinh", "sort", "sort_by_label", "sort_by_label_desc",
    "sort_desc", "sqrt", "stddev_over_time", "stdvar_over_time", "sum_over_time", "tan", "tanh",
    "time", "timestamp", "vector", "year",
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk",
    "topk", "quantile", "limitk", "limit_ratio",
    "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "and",
    "or", "unless", "atan2", "inf", "nan", "start", "end",
}


@dataclass
class Monitoring:
    """The monitoring files as the stack mounts them, loaded (tests replace parts of it)."""
    prometheus: str | None = None                 # the Prometheus service
    grafana: str | None = None                    # the Grafana service
    scrape: dict | None = None                    # prometheus.yml
    datasources: list[tuple[str, dict]] = field(default_factory=list)  # (file, document)
    providers: list[tuple[str, dict]] = field(default_factory=list)
    dashboards: list[tuple[str, dict]] = field(default_factory=list)
    metrics: dict[str, str] = field(default_factory=dict)  # documented name -> type


def image_repo(svc: dict) -> str:
    image = str(svc.get("image") or "").split("@", 1)[0]
    head, _, last = image.rpartition("/")
    return (head + "/" if head else "") + last.split(":", 1)[0]


def is_prometheus(svc: dict) -> bool:
    return image_repo(svc).endswith(("prom/prometheus", "prometheus/prometheus"))


def is_grafana(svc: dict) -> bool:
    return image_repo(svc).endswith(("grafana/grafana", "grafana/grafana-oss",
                                     "grafana/grafana-enterprise"))


def flag_value(args: list[str], flag: str) -> str | None:
    for i, a in enumerate(args):
        if a.startswith(flag + "="):
            return a.split("=", 1)[1]
        if a == flag and i + 1 < len(args):
            return args[i + 1]
    return None


def is_worker(doc: dict, root: Path, svc: dict) -> bool:
    cmd = as_list(svc.get("entrypoint")) + (as_list(svc.get("command"))
                                             or dockerfile_cmd(doc, root, svc))
    return uses_local_build(doc, svc) and cmd[:2] in (["cassink", "worker"],
                                                       ["cassink", "standalone"])


def listen_ports(doc: dict, root: Path, svc: dict) -> set[str]:
    """The ports a service listens on inside the compose network. A worker: its REST port
    (CONNECT_REST_PORT, default 8083, and the ports of CONNECT_LISTENERS); others: the
    container side of `ports` and `expose`, plus Prometheus' and Grafana's own defaults."""
    env = env_map(svc)
    if is_worker(doc, root, svc):
        out = {env.get("CONNECT_REST_PORT") or "8083"}
        for url in (env.get("CONNECT_LISTENERS") or "").split(","):
            m = re.search(r":(\d+)/?$", url.strip())
            if m:
                out.add(m.group(1))
        return out
    out = set()
    for p in svc.get("ports") or []:
        out.add(str(p["target"]) if isinstance(p, dict)
                else str(p).partition("/")[0].rsplit(":", 1)[-1])
    out |= {str(e).partition("/")[0] for e in svc.get("expose") or []}
    if is_prometheus(svc):
        addr = flag_value(as_list(svc.get("command")), "--web.listen-address") or ":9090"
        out.add(addr.rsplit(":", 1)[-1])
    if is_grafana(svc):
        out.add(env.get("GF_SERVER_HTTP_PORT") or "3000")
    return out


def documented_metrics(text: str) -> dict[str, str]:
    """name -> type from the tables of docs/metrics.md (a `Name` column of backticked names
    and a `Type` column)."""
    out: dict[str, str] = {}
    cols: list[str] | None = None
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("|"):
            cols = None
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cols is None:
            cols = [c.lower() for c in cells]
            continue
        if set("".join(cells)) <= set("-: "):
            continue  # the separator row
        if "name" not in cols:
            continue
        m = re.fullmatch(r"`([A-Za-z_:][A-Za-z0-9_:]*)`", cells[cols.index("name")])
        if m:
            kind = cells[cols.index("type")].lower() if "type" in cols and \
                len(cells) > cols.index("type") else ""
            out[m.group(1)] = kind
    return out


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression (or Grafana's `label_values(metric, label)`)
    selects: identifiers left once template variables, strings, label matchers, ranges,
    grouping clauses, functions and keywords are taken out."""
    expr = re.sub(r"\$\{[^}]*\}|\$\w+|\[\[\w+\]\]", " ", expr)
    expr = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)
    m = re.fullmatch(r"\s*label_values\s*\((.*)\)\s*", expr, re.S)
    if m:  # label_values(label) or label_values(selector, label)
        expr = m.group(1).rsplit(",", 1)[0] if "," in m.group(1) else ""
    m = re.fullmatch(r"\s*query_result\s*\((.*)\)\s*", expr, re.S)
    if m:
        expr = m.group(1)
    if re.fullmatch(r"\s*(label_names|metrics)\s*\(.*\)\s*", expr, re.S):
        return set()
    expr = re.sub(r"\{[^{}]*\}", " ", expr)
    expr = re.sub(r"\[[^\]]*\]", " ", expr)
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    names = set(re.findall(r"(?<![\w.])[A-Za-z_:][A-Za-z0-9_:]*", expr))
    return {n for n in names if n.lower() not in PROMQL_WORDS}


def undocumented(name: str, documented: dict[str, str]) -> bool:
    if name in documented:
        return False
    for kind, suffixes in FAMILY_SUFFIXES.items():
        for suffix in suffixes:
            if name.endswith(suffix) and documented.get(name[: -len(suffix)]) == kind:
                return False
    return True


def mounted_at(root: Path, svc: dict, path: str) -> list[Path]:
    """The host paths a container directory shows: the bind mount it lies in, and the bind
    mounts below it (a file mounted at /dir/x.json makes /dir hold x.json)."""
    out = []
    hp = container_to_host(root, svc, path)
    if hp is not None and hp.exists():
        out.append(hp)
    base = path.rstrip("/") + "/"
    for m in mounts(svc):
        if m.kind == "bind" and m.source and m.target.startswith(base):
            sub = host_path(root, m.source)
            if sub.exists():
                out.append(sub)
    return out


def _yaml_file(path: Path, what: str, report: Report) -> dict | None:
    try:
        loaded = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        report.add("monitoring", f"{what} {path} does not parse: {e}".replace("\n", " "))
        return None
    if not isinstance(loaded, dict):
        report.add("monitoring", f"{what} {path} is not a mapping")
        return None
    return loaded


def _rel(root: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def load_monitoring(doc: dict, root: Path, report: Report) -> Monitoring:
    """Reads what the prometheus and grafana services mount: the scrape config, the
    provisioning files (each must exist and parse) and the dashboards the providers load,
    and the metric names of docs/metrics.md."""
    mon = Monitoring()
    svcs = services(doc)
    mon.prometheus = next((n for n, s in svcs.items() if is_prometheus(s)), None)
    mon.grafana = next((n for n, s in svcs.items() if is_grafana(s)), None)
    if mon.prometheus:
        svc = svcs[mon.prometheus]
        path = flag_value(as_list(svc.get("command")), "--config.file") or PROMETHEUS_CONFIG
        hp = container_to_host(root, svc, path)
        if hp is None:
            report.add("monitoring", f"{mon.prometheus}: its config {path} comes from no bind "
                       "mount")
        elif not hp.is_file():
            report.add("monitoring", f"{mon.prometheus}: its config {path} maps to {hp}, which "
                       "does not exist")
        else:
            mon.scrape = _yaml_file(hp, "prometheus config", report)
    if mon.grafana:
        svc = svcs[mon.grafana]
        prov = (env_map(svc).get("GF_PATHS_PROVISIONING") or GRAFANA_PROVISIONING).rstrip("/")
        for m in mounts(svc):
            tgt = m.target.rstrip("/")
            if m.kind != "bind" or not m.source or not (tgt + "/").startswith(prov + "/"):
                continue
            hp = host_path(root, m.source)
            if not hp.exists():
                report.add("monitoring", f"{mon.grafana}: provisioning {m.source} -> {tgt} does "
                           "not exist")
                continue
            files = sorted(f for f in hp.rglob("*") if f.suffix in (".yml", ".yaml")) \
                if hp.is_dir() else [hp]
            for f in files:
                where = tgt if f == hp else f"{tgt}/{f.relative_to(hp).as_posix()}"
                kind = where[len(prov) + 1:].split("/", 1)[0]
                loaded = _yaml_file(f, f"grafana provisioning {where}:", report)
                if loaded is None:
                    continue
                if kind == "datasources":
                    mon.datasources.append((_rel(root, f), loaded))
                elif kind == "dashboards":
                    mon.providers.append((_rel(root, f), loaded))
        if not mon.datasources:
            report.add("monitoring", f"{mon.grafana}: no datasource is provisioned (a file "
                       f"mounted under {prov}/datasources)")
        if not mon.providers:
            report.add("monitoring", f"{mon.grafana}: no dashboard provider is provisioned "
                       f"(a file mounted under {prov}/dashboards)")
        for file, prov_doc in mon.providers:
            for p in prov_doc.get("providers") or []:
                if p.get("type", "file") != "file":
                    continue
                path = str((p.get("options") or {}).get("path") or "")
                hosts = mounted_at(root, svc, path) if path.startswith("/") else []
                if not hosts:
                    report.add("monitoring", f"{file}: provider {p.get('name')} loads "
                               f"dashboards from {path or '(no options.path)'}, which no bind "
                               f"mount of {mon.grafana} provides")
                    continue
                found = sorted({f for hp in hosts for f in (
                    hp.rglob("*.json") if hp.is_dir() else [hp] if hp.suffix == ".json" else [])})
                if not found:
                    report.add("monitoring", f"{file}: provider {p.get('name')} loads {path} "
                               f"({', '.join(map(str, hosts))}), where there is no dashboard")
                for f in found:
                    try:
                        dash = json.loads(f.read_text())
                    except (OSError, ValueError) as e:
                        report.add("monitoring", f"dashboard {_rel(root, f)} does not parse: {e}")
                        continue
                    mon.dashboards.append((_rel(root, f), dash))
    if mon.prometheus or mon.grafana:
        docs = root / METRICS_DOC
        if docs.is_file():
            mon.metrics = documented_metrics(docs.read_text())
        if not mon.metrics:
            report.add("monitoring", f"{METRICS_DOC}: no metric table found (the dashboards "
                       "may only use the names listed there)")
    return mon


def duration_s(value) -> float | None:
    """A Prometheus duration (`5s`, `1m30s`) in seconds."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|y|w|d|h|m|s)", str(value))
    if not parts or "".join(a + b for a, b in parts) != str(value):
        return None
    unit = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    return sum(float(a) * unit[b] for a, b in parts)


def check_scrape(doc: dict, root: Path, mon: Monitoring, report: Report) -> None:
    """Every static target is `service:port` of this stack on a port the service listens
    on (a worker: its REST port), the path is /metrics, a worker with basic auth on is
    scraped with credentials, and the worker is scraped at all."""
    svcs = services(doc)
    cfg = mon.scrape or {}
    glob = cfg.get("global") or {}
    scraped: set[str] = set()
    jobs = cfg.get("scrape_configs") or []
    if not jobs:
        report.add("monitoring", f"{mon.prometheus}: prometheus.yml has no scrape_configs")
    seen_jobs: set[str] = set()
    for job in jobs:
        name = job.get("job_name")
        where = f"prometheus job {name}"
        if not name:
            report.add("monitoring", "prometheus: a scrape config has no job_name")
        elif name in seen_jobs:
            report.add("monitoring", f"{where}: job_name is used twice")
        seen_jobs.add(name)
        path = job.get("metrics_path", "/metrics")
        if path != "/metrics":
            report.add("monitoring", f"{where}: metrics_path is {path}; the worker serves /metrics")
        interval = duration_s(job.get("scrape_interval", glob.get("scrape_interval", "1m")))
        timeout = job.get("scrape_timeout", glob.get("scrape_timeout"))
        # Unset: 10 s, or the interval when that is shorter (as Prometheus does).
        timeout = duration_s(timeout) if timeout is not None else min(10.0, interval or 10.0)
        if interval is None or timeout is None:
            report.add("monitoring", f"{where}: scrape_interval/scrape_timeout is not a duration")
        elif timeout > interval:
            report.add("monitoring", f"{where}: scrape_timeout ({timeout:g}s) is longer than "
                       f"scrape_interval ({interval:g}s)")
        for kind in job:
            if kind.endswith("_sd_configs"):
                report.notes.append(f"monitoring: {where}: {kind} targets are not checked")
        for sc in job.get("static_configs") or []:
            for target in sc.get("targets") or []:
                host, sep, port = str(target).rpartition(":")
                if not sep or not port.isdigit():
                    report.add("monitoring", f"{where}: target {target} is not host:port")
                    continue
                if host in ("localhost", "127.0.0.1") and mon.prometheus:
                    host = mon.prometheus  # Prometheus scraping itself
                if host not in svcs:
                    report.add("monitoring", f"{where}: target {target}: {host} names no compose "
                               f"service")
                    continue
                ports = listen_ports(doc, root, svcs[host])
                if port not in ports:
                    report.add("monitoring", f"{where}: target {target}: {host} does not listen "
                               f"on {port} (it listens on {', '.join(sorted(ports)) or 'nothing'})")
                    continue
                if is_worker(doc, root, svcs[host]):
                    scraped.add(host)
                    env = env_map(svcs[host])
                    if env.get("CONNECT_REST_AUTH_CREDENTIALS_FILE") and not (
                            job.get("basic_auth") or job.get("authorization")):
                        report.add("monitoring", f"{where}: {host} has basic auth on "
                                   "(CONNECT_REST_AUTH_CREDENTIALS_FILE) but the job sends no "
                                   "basic_auth")
    workers = sorted(n for n, s in svcs.items() if is_worker(doc, root, s))
    if workers and not scraped:
        report.add("monitoring", f"{mon.prometheus}: no scrape job targets the worker "
                   f"({', '.join(workers)})")
    for w in workers:
        if scraped and w not in scraped:
            report.notes.append(f"monitoring: worker {w} is not scraped by {mon.prometheus}")


def check_datasources(doc: dict, root: Path, mon: Monitoring, report: Report) -> set[str]:
    """The uids of the provisioned Prometheus datasources, each pointing at the Prometheus
    service on the port it listens on."""
    svcs = services(doc)
    uids: set[str] = set()
    for file, ds_doc in mon.datasources:
        for ds in ds_doc.get("datasources") or []:
            if ds.get("type") != "prometheus":
                continue
            name = ds.get("name")
            if not ds.get("uid"):
                report.add("monitoring", f"{file}: datasource {name} has no uid, so dashboards "
                           "cannot name it")
            else:
                uids.add(str(ds["uid"]))
            m = re.fullmatch(r"https?://([^/:]+)(?::(\d+))?(/.*)?", str(ds.get("url") or ""))
            if not m:
                report.add("monitoring", f"{file}: datasource {name}: url {ds.get('url')} is not "
                           "http://host:port")
                continue
            host, port = m.group(1), m.group(2) or "80"
            if host not in svcs:
                report.add("monitoring", f"{file}: datasource {name}: {host} names no compose "
                           "service")
            elif not is_prometheus(svcs[host]):
                report.add("monitoring", f"{file}: datasource {name}: {host} is not the "
                           f"Prometheus service ({mon.prometheus})")
            elif port not in listen_ports(doc, root, svcs[host]):
                report.add("monitoring", f"{file}: datasource {name}: {host} does not listen "
                           f"on {port}")
    if mon.datasources and not uids:
        report.add("monitoring", f"{mon.grafana}: no Prometheus datasource is provisioned")
    return uids


def dashboard_panels(panels: list) -> list[dict]:
    out = []
    for p in panels or []:
        if isinstance(p, dict):
            out.append(p)
            out.extend(dashboard_panels(p.get("panels")))  # a collapsed row holds its panels
    return out


GRAFANA_BUILTIN_UIDS = {"-- Grafana --", "grafana", "-- Mixed --", "-- Dashboard --"}


def check_dashboard(file: str, dash: dict, uids: set[str], documented: dict[str, str],
                    report: Report) -> None:
    """Every panel, target and variable names a provisioned datasource uid, every metric in
    an expression is listed in docs/metrics.md, every `$variable` is defined, panel ids are
    unique."""
    variables = {v.get("name") for v in (dash.get("templating") or {}).get("list") or []}

    def uid_ok(where: str, ds, required: bool) -> None:
        if ds is None:
            if required:
                report.add("monitoring", f"{file}: {where} has no datasource (provisioned: "
                           f"{', '.join(sorted(uids))})")
            return
        uid = ds.get("uid") if isinstance(ds, dict) else ds
        if uid in GRAFANA_BUILTIN_UIDS or (isinstance(ds, dict) and ds.get("type") == "grafana"):
            return
        if isinstance(uid, str) and uid.startswith("$") and uid.strip("${}") in variables:
            return
        if uid not in uids:
            wrong.setdefault(str(uid), []).append(where)

    def expr_ok(where: str, expr: str) -> None:
        for name in sorted(metric_names(expr)):
            if re.search(rf"(?<![\w:]){re.escape(name)}\s*\(", expr):
                report.add("monitoring", f"{file}: {where} calls {name}(), which is no PromQL "
                           "function")
            elif undocumented(name, documented):
                report.add("monitoring", f"{file}: {where} uses {name}, which {METRICS_DOC} "
                           "does not list")
        for var in sorted(set(re.findall(r"\$\{?(\w+)", expr))):
            if not var.startswith("__") and var not in variables:
                report.add("monitoring", f"{file}: {where} uses ${var}, which the dashboard "
                           "does not define")

    wrong: dict[str, list[str]] = {}  # datasource uid -> where it is used
    ids: dict = {}
    for p in dashboard_panels(dash.get("panels")):
        title = f"panel {p.get('title')!r}"
        if p.get("id") in ids:
            report.add("monitoring", f"{file}: {title}: id {p.get('id')} is also panel "
                       f"{ids[p['id']]!r}")
        ids.setdefault(p.get("id"), p.get("title"))
        if p.get("type") == "row":
            continue
        targets = p.get("targets") or []
        uid_ok(title, p.get("datasource"), required=bool(targets))
        for t in targets:
            where = f"{title} target {t.get('refId')}"
            if "datasource" in t:
                uid_ok(where, t["datasource"], required=True)
            if t.get("expr"):
                expr_ok(where, str(t["expr"]))
    for v in (dash.get("templating") or {}).get("list") or []:
        if v.get("type") != "query":
            continue
        where = f"variable {v.get('name')}"
        uid_ok(where, v.get("datasource"), required=True)
        q = v.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        if q:
            expr_ok(where, str(q))
    for a in (dash.get("annotations") or {}).get("list") or []:
        if a.get("builtIn"):
            continue
        where = f"annotation {a.get('name')!r}"
        uid_ok(where, a.get("datasource"), required=True)
        if a.get("expr"):
            expr_ok(where, str(a["expr"]))
    for uid, places in wrong.items():
        more = f" and {len(places) - 2} more" if len(places) > 2 else ""
        report.add("monitoring", f"{file}: datasource uid {uid!r} is not a provisioned one "
                   f"({', '.join(sorted(uids)) or 'none'}); used by {', '.join(places[:2])}{more}")


def check_monitoring(doc: dict, root: Path, report: Report, mon: Monitoring | None = None) -> None:
    """Prometheus scrapes the worker and Grafana shows it: the scrape targets, the
    provisioned datasource and dashboards (see check_scrape, check_datasources,
    check_dashboard). `mon` defaults to what the stack mounts (load_monitoring)."""
    mon = mon or load_monitoring(doc, root, report)
    if not mon.prometheus and not mon.grafana:
        report.notes.append("monitoring: skipped (no prometheus or grafana service)")
        return
    if not mon.prometheus:
        report.add("monitoring", f"{mon.grafana} has no Prometheus service to read from")
    elif mon.scrape is not None:
        check_scrape(doc, root, mon, report)
    if mon.grafana:
        uids = check_datasources(doc, root, mon, report)
        for file, dash in mon.dashboards:
            check_dashboard(file, dash, uids, mon.metrics, report)


CACHED_PROMTOOL = Path(os.environ.get("CASSINK_CACHE", Path.home() / ".cache" / "cassink")) \
    / "promtool" / "promtool"


def promtool_cli() -> str | None:
    for cand in (os.environ.get("PROMTOOL_BIN"), shutil.which("promtool"), str(CACHED_PROMTOOL)):
        if cand and Path(cand).is_file() and os.access(cand, os.X_OK):
            return cand
    return None


def check_promtool(doc: dict, root: Path, report: Report, promtool: str | None = None) -> bool:
    """`promtool check config --syntax-only` on the config the prometheus service mounts;
    False when there is no promtool (PROMTOOL_BIN, PATH, or the cached one): skipped."""
    svcs = services(doc)
    name = next((n for n, s in svcs.items() if is_prometheus(s)), None)
    if name is None:
        return False
    promtool = promtool or promtool_cli()
    if promtool is None:
        report.notes.append(f"promtool: skipped (no PROMTOOL_BIN, promtool on PATH or "
                            f"{CACHED_PROMTOOL})")
        return False
    path = flag_value(as_list(svcs[name].get("command")), "--config.file") or PROMETHEUS_CONFIG
    hp = container_to_host(root, svcs[name], path)
    if hp is None or not hp.is_file():
        return True  # reported by check_monitoring
    r = subprocess.run([promtool, "check", "config", "--syntax-only", str(hp)],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        out = " ".join((r.stderr + r.stdout).split())
        report.add("promtool", f"{promtool} check config {_rel(root, hp)}: {out}")
    else:
        report.notes.append(f"promtool: check config {_rel(root, hp)}: ok")
    return True
