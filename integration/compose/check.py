#!/usr/bin/env python3
"""Static checks of the docker compose stack, for machines without a Docker engine.

    python integration/compose/check.py [--compose FILE] [--root DIR] [--no-cli]

Checks docker-compose.yml, Dockerfile and .dockerignore:
  schema       the document against the compose-spec JSON schema (from check-jsonschema)
  files        build contexts, Dockerfiles, bind-mounted paths and files named in commands
               exist; every connectors/*.json is loaded by an init service
  depends_on   targets exist, are in the same profiles, have a health check for
               service_healthy and are one-shot for service_completed_successfully
  ports        no host port is published twice
  env          the worker gets only CONNECT_* keys it knows (src/worker/config.rs), the
               producers only flags `cassink produce` takes, init scripts only variables they read
  images       tags pinned (no `latest`, no bare names), locally built images built somewhere
  volumes/networks  declared and used
  monitoring   every Prometheus scrape target is `service:port` of this stack on a port the
               service listens on (the worker: its REST port), path /metrics; Grafana's
               bind-mounted provisioning files exist and parse, the provisioned Prometheus
               datasource points at the prometheus service, every dashboard the providers load
               is mounted, its panels, targets and variables name the provisioned datasource
               uid, and every metric its expressions use is listed in docs/metrics.md
  dockerfile   parses, multi-stage, runs as a non-root USER, has a HEALTHCHECK, COPY --from
               names a stage; .dockerignore lets every Cargo workspace member in
  cli          `docker compose config` when a compose v2 CLI is there (the docker plugin, or
               DOCKER_COMPOSE_BIN, or the binary integration/compose/get-compose.sh caches);
               skipped otherwise
  promtool     `promtool check config` on prometheus.yml when a promtool is there
               (PROMTOOL_BIN, PATH, or $CASSINK_CACHE/promtool/promtool); skipped otherwise

Exit status 0 when every check passes, 1 otherwise (each problem on its own line).
The functions take the loaded document so tests can feed them broken ones.
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]

# Images that may float, each with the reason no pinned tag can be used. Empty: every image
# in the stack has a pinned tag.
UNPINNED_OK: dict[str, str] = {}

# Environment the cassink binary reads outside the worker properties.
CASSINK_PROCESS_ENV = {"RUST_LOG"}
# `cassink produce` reads KAFKA_BOOTSTRAP for --bootstrap (clap env).
PRODUCE_ENV = CASSINK_PROCESS_ENV | {"KAFKA_BOOTSTRAP"}
# The `cassink produce` interface the stack relies on, used when no built binary can be
# asked with --help.
PRODUCE_FLAGS = {
    "--bootstrap", "--topic", "--partitions", "--create-topic", "--count", "--rate",
    "--format", "--schema-registry", "--seed",
}
PRODUCE_WORKLOADS = {"tweets", "weather", "meter"}

# Used when src/worker/config.rs cannot be read (the list there is the source of truth).
FALLBACK_WORKER_KEYS = [
    "bootstrap.servers", "listeners", "rest.host.name", "rest.port", "rest.advertised.host.name",
    "rest.advertised.port", "rest.advertised.listener", "group.id", "offset.flush.interval.ms",
    "offset.flush.timeout.ms", "state.dir", "plugin.path", "client.id",
]
FALLBACK_WORKER_PREFIXES = [
    "consumer.", "producer.", "key.converter", "value.converter", "header.converter",
    "log4j.", "security.", "ssl.", "sasl.",
]


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, check: str, msg: str) -> None:
        self.problems.append(f"{check}: {msg}")


# ---- loading ----------------------------------------------------------------------------

_VAR = re.compile(r"\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


def interpolate(value, env: dict[str, str], missing: list[str]):
    """Compose-style `${VAR}`, `${VAR:-default}`, `$VAR`, `$$` over strings in the tree."""
    if isinstance(value, dict):
        return {k: interpolate(v, env, missing) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env, missing) for v in value]
    if not isinstance(value, str):
        return value

    def sub(m: re.Match) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1) or m.group(4)
        op, arg = m.group(2), m.group(3)
        val = env.get(name)
        if op in (":-", "-"):
            if val is None or (op == ":-" and val == ""):
                return arg
            return val
        if val is None:
            missing.append(name)
            return ""
        return val

    return _VAR.sub(sub, value)


def load_compose(path: Path, env: dict[str, str] | None = None) -> tuple[dict, list[str]]:
    """The document with variables interpolated (from `env`, default: none set, as on a
    fresh machine without .env), and the variables used without a default."""
    raw = yaml.load(path.read_text(), Loader=ComposeLoader)
    missing: list[str] = []
    return interpolate(raw, env or {}, missing), missing


class ComposeLoader(yaml.SafeLoader):
    """YAML with compose's merge tags: `!override` (replace, not merge, the value of the file
    below) and `!reset` (drop it). Loaded as the plain value, and nothing for `!reset`."""


def _untagged(loader: yaml.SafeLoader, node: yaml.Node):
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


ComposeLoader.add_constructor("!override", _untagged)
ComposeLoader.add_constructor("!reset", lambda loader, node: None)


def compose_schema() -> dict:
    ref = resources.files("check_jsonschema") / "builtin_schemas" / "vendor" / "compose-spec.json"
    return json.loads(ref.read_text())


# ---- helpers ----------------------------------------------------------------------------

def services(doc: dict) -> dict[str, dict]:
    return doc.get("services") or {}


def as_list(cmd) -> list[str]:
    if cmd is None:
        return []
    if isinstance(cmd, str):
        return shlex.split(cmd)
    return [str(c) for c in cmd]


def env_map(svc: dict) -> dict[str, str | None]:
    env = svc.get("environment") or {}
    if isinstance(env, list):
        out = {}
        for item in env:
            k, _, v = str(item).partition("=")
            out[k] = v if "=" in str(item) else None
        return out
    return {k: (None if v is None else str(v)) for k, v in env.items()}


def depends(svc: dict) -> dict[str, dict]:
    dep = svc.get("depends_on") or {}
    if isinstance(dep, list):
        return {d: {"condition": "service_started"} for d in dep}
    return {k: (v or {"condition": "service_started"}) for k, v in dep.items()}


@dataclass
class Mount:
    kind: str  # bind | volume | tmpfs
    source: str | None
    target: str


def mounts(svc: dict) -> list[Mount]:
    out = []
    for v in svc.get("volumes") or []:
        if isinstance(v, dict):
            out.append(Mount(v.get("type", "volume"), v.get("source"), v["target"]))
            continue
        parts = str(v).split(":")
        if len(parts) == 1:
            out.append(Mount("volume", None, parts[0]))
            continue
        src, tgt = parts[0], parts[1]
        kind = "bind" if src.startswith((".", "/", "~")) else "volume"
        out.append(Mount(kind, src, tgt))
    return out


def host_path(root: Path, src: str) -> Path:
    return Path(os.path.expanduser(src)) if src.startswith(("/", "~")) else (root / src)


def container_to_host(root: Path, svc: dict, path: str) -> Path | None:
    """The host file behind an absolute container path, through the service's bind mounts."""
    best = None
    for m in mounts(svc):
        if m.kind != "bind" or m.source is None:
            continue
        tgt = m.target.rstrip("/")
        if path == tgt or path.startswith(tgt + "/"):
            if best is None or len(tgt) > len(best[0]):
                best = (tgt, m.source)
    if best is None:
        return None
    return host_path(root, best[1]) / path[len(best[0]):].lstrip("/")


def built_images(doc: dict) -> dict[str, str]:
    """image name -> service that builds it."""
    return {s["image"]: n for n, s in services(doc).items() if s.get("build") and s.get("image")}


def uses_local_build(doc: dict, svc: dict) -> bool:
    return bool(svc.get("build")) or svc.get("image") in built_images(doc)


def build_of(doc: dict, svc: dict) -> dict | None:
    if svc.get("build"):
        b = svc["build"]
        return {"context": b} if isinstance(b, str) else b
    name = built_images(doc).get(svc.get("image"))
    return build_of(doc, services(doc)[name]) if name else None


# ---- checks -----------------------------------------------------------------------------

def check_schema(doc: dict, report: Report, schema: dict | None = None) -> None:
    import jsonschema

    schema = schema or compose_schema()
    cls = jsonschema.validators.validator_for(schema)
    for err in sorted(cls(schema).iter_errors(doc), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in err.absolute_path) or "(top)"
        report.add("schema", f"{where}: {err.message}")


def check_files(doc: dict, root: Path, report: Report) -> None:
    for name, svc in services(doc).items():
        build = svc.get("build")
        if build:
            b = {"context": build} if isinstance(build, str) else build
            ctx = host_path(root, b.get("context", "."))
            if not ctx.is_dir():
                report.add("files", f"{name}: build context {ctx} is not a directory")
            else:
                df = ctx / b.get("dockerfile", "Dockerfile")
                if not df.is_file():
                    report.add("files", f"{name}: Dockerfile {df} does not exist")
        for m in mounts(svc):
            if m.kind == "bind" and m.source and not host_path(root, m.source).exists():
                report.add("files", f"{name}: bind mount source {m.source} does not exist")
        env_files = svc.get("env_file") or []
        for ef in [env_files] if isinstance(env_files, str) else env_files:
            ef = ef if isinstance(ef, str) else ef.get("path")
            if ef and not host_path(root, ef).is_file():
                report.add("files", f"{name}: env_file {ef} does not exist")
        # Files the command or entrypoint names inside the container must come from a mount.
        for arg in as_list(svc.get("entrypoint")) + as_list(svc.get("command")):
            if not re.fullmatch(r"/[\w./-]+\.(sh|json|cql|properties|py)", arg):
                continue
            hp = container_to_host(root, svc, arg)
            if hp is None:
                report.add("files", f"{name}: {arg} is used but no bind mount provides it")
            elif not hp.is_file():
                report.add("files", f"{name}: {arg} maps to {hp}, which does not exist")

    # Every shipped connector is created by some init service.
    loaded: set[Path] = set()
    for svc in services(doc).values():
        for arg in as_list(svc.get("command")):
            hp = container_to_host(root, svc, arg) if arg.startswith("/") else None
            if hp is not None:
                loaded.add(hp.resolve())
    for conn in sorted((root / "connectors").glob("*.json")):
        if conn.resolve() not in loaded:
            report.add("files", f"connectors/{conn.name} is not loaded by any init service")


def has_healthcheck(doc: dict, root: Path, svc: dict) -> bool:
    hc = svc.get("healthcheck")
    if hc is not None:
        return not hc.get("disable") and hc.get("test") not in (None, ["NONE"], "NONE")
    build = build_of(doc, svc)
    if build is None:
        return False
    df = host_path(root, build.get("context", ".")) / build.get("dockerfile", "Dockerfile")
    return df.is_file() and dockerfile_final_stage_has(df, "HEALTHCHECK")


def check_depends_on(doc: dict, root: Path, report: Report) -> None:
    svcs = services(doc)
    for name, svc in svcs.items():
        mine = set(svc.get("profiles") or [])
        for dep, spec in depends(svc).items():
            if dep not in svcs:
                report.add("depends_on", f"{name} depends on {dep}, which is not a service")
                continue
            theirs = set(svcs[dep].get("profiles") or [])
            if theirs and not (mine and mine <= theirs):
                report.add("depends_on", f"{name} depends on {dep}, which only runs with "
                           f"profile(s) {sorted(theirs)}")
            cond = spec.get("condition", "service_started")
            if cond == "service_healthy" and not has_healthcheck(doc, root, svcs[dep]):
                report.add("depends_on", f"{name} waits for {dep} to be healthy, but {dep} "
                           "has no health check")
            if cond == "service_completed_successfully":
                restart = str(svcs[dep].get("restart", "no"))
                if restart not in ("no", "on-failure") and not restart.startswith("on-failure"):
                    report.add("depends_on", f"{name} waits for {dep} to complete, but {dep} "
                               f"restarts ({restart})")
    # cycles
    state: dict[str, int] = {}

    def visit(n: str, path: list[str]) -> None:
        if state.get(n) == 1:
            report.add("depends_on", "cycle: " + " -> ".join(path + [n]))
            return
        if state.get(n) == 2 or n not in svcs:
            return
        state[n] = 1
        for d in depends(svcs[n]):
            visit(d, path + [n])
        state[n] = 2

    for n in svcs:
        visit(n, [])


def published_ports(svc: dict) -> list[tuple[str, str, str]]:
    """(host ip, host port, protocol) for each published port."""
    out = []
    for p in svc.get("ports") or []:
        if isinstance(p, dict):
            if p.get("published") is not None:
                out.append((p.get("host_ip", ""), str(p["published"]), p.get("protocol", "tcp")))
            continue
        spec, _, proto = str(p).partition("/")
        parts = spec.rsplit(":", 2)
        if len(parts) == 1:
            continue  # container port only: a random host port
        ip = parts[0] if len(parts) == 3 else ""
        host = parts[-2]
        if host:
            out.append((ip, host, proto or "tcp"))
    return out


def expand_range(port: str) -> list[int]:
    if "-" in port:
        a, b = port.split("-", 1)
        return list(range(int(a), int(b) + 1))
    return [int(port)]


def check_ports(doc: dict, report: Report) -> None:
    seen: dict[tuple[str, int, str], str] = {}
    for name, svc in services(doc).items():
        for ip, port, proto in published_ports(svc):
            for n in expand_range(port):
                for key_ip in {ip, ""} if ip else {""}:
                    key = (key_ip, n, proto)
                    if key in seen and seen[key] != name:
                        report.add("ports", f"host port {n}/{proto} is published by both "
                                   f"{seen[key]} and {name}")
                    seen.setdefault(key, name)


def worker_keys(root: Path, report: Report) -> tuple[list[str], list[str]]:
    src = root / "src" / "worker" / "config.rs"
    text = src.read_text() if src.is_file() else ""

    def const(name: str) -> list[str] | None:
        m = re.search(rf"const {name}: &\[&str\] = &\[(.*?)\];", text, re.S)
        return re.findall(r'"([^"]+)"', m.group(1)) if m else None

    keys, prefixes = const("KNOWN_KEYS"), const("KNOWN_PREFIXES")
    if keys is None or prefixes is None:
        report.notes.append(f"env: KNOWN_KEYS/KNOWN_PREFIXES not found in {src}; "
                            "using the list in check.py")
        return FALLBACK_WORKER_KEYS, FALLBACK_WORKER_PREFIXES
    return keys, prefixes


def connect_env_key(var: str) -> str:
    """CONNECT_FOO_BAR -> foo.bar (Confluent convention: ___ -> -, __ -> _, _ -> .)."""
    rest = var[len("CONNECT_"):].lower()
    return (rest.replace("___", "\x01").replace("__", "\x02").replace("_", ".")
            .replace("\x01", "-").replace("\x02", "_"))


def dockerfile_cmd(doc: dict, root: Path, svc: dict) -> list[str]:
    build = build_of(doc, svc)
    if build is None:
        return []
    df = host_path(root, build.get("context", ".")) / build.get("dockerfile", "Dockerfile")
    if not df.is_file():
        return []
    from dockerfile_parse import DockerfileParser

    cmd = DockerfileParser(path=str(df)).cmd or ""
    try:
        return [str(c) for c in json.loads(cmd)]
    except (ValueError, TypeError):
        return shlex.split(cmd)


def produce_interface(root: Path, report: Report) -> tuple[set[str], set[str], str]:
    """Flags and workloads of `cassink produce`: from the built binary's --help when there is
    one (CASSINK_BIN, or the newest target/{release,debug}/cassink), else the documented set."""
    candidates = [Path(os.environ["CASSINK_BIN"])] if os.environ.get("CASSINK_BIN") else sorted(
        (p for p in (root / "target/release/cassink", root / "target/debug/cassink") if p.is_file()),
        key=lambda p: p.stat().st_mtime, reverse=True)
    for binary in candidates[:1]:
        try:
            out = subprocess.run([str(binary), "produce", "--help"], capture_output=True,
                                 text=True, timeout=20).stdout
        except (OSError, subprocess.TimeoutExpired):
            continue
        flags = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", out)) - {"--help", "--version"}
        values = re.search(r"<WORKLOAD>.*?possible values: ([^\]]+)\]", out)
        if flags:
            workloads = {v.strip() for v in values.group(1).split(",")} if values else PRODUCE_WORKLOADS
            return flags | {"--log-format"}, workloads, f"`{binary} produce --help`"
    return PRODUCE_FLAGS | {"--log-format"}, PRODUCE_WORKLOADS, "the documented interface"


def script_vars(path: Path) -> set[str]:
    return set(re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", path.read_text()))


def check_env(doc: dict, root: Path, report: Report) -> None:
    keys, prefixes = worker_keys(root, report)
    svcs = services(doc)
    produce = None
    for name, svc in svcs.items():
        cmd = as_list(svc.get("entrypoint")) + (as_list(svc.get("command"))
                                                 or dockerfile_cmd(doc, root, svc))
        env = env_map(svc)
        if len(cmd) > 1 and cmd[0] in ("bash", "sh") and cmd[1].startswith("/"):
            # An init script from compose/: every variable it is given must be one it reads.
            hp = container_to_host(root, svc, cmd[1])
            if hp is None or not hp.is_file():
                continue  # reported by check_files
            used = script_vars(hp)
            for var in env:
                if var not in used:
                    report.add("env", f"{name}: {var} is set but {cmd[1]} never reads it")
            continue
        if not uses_local_build(doc, svc):
            continue
        if cmd[:2] == ["cassink", "worker"] or cmd[:2] == ["cassink", "standalone"]:
            for var, val in env.items():
                if var in CASSINK_PROCESS_ENV:
                    continue
                if not var.startswith("CONNECT_"):
                    report.add("env", f"{name}: {var} is not a worker setting (CONNECT_<KEY>)")
                    continue
                key = connect_env_key(var)
                if key not in keys and not any(key.startswith(p) for p in prefixes):
                    report.add("env", f"{name}: {var} -> {key}, which the worker does not know "
                               "(src/worker/config.rs KNOWN_KEYS)")
            check_worker_consistency(doc, name, svc, env, report)
        elif cmd[:2] == ["cassink", "produce"]:
            if produce is None:
                produce = produce_interface(root, report)
                report.notes.append(f"env: `cassink produce` flags from {produce[2]}")
            flags, workloads, source = produce
            for var in env:
                if var not in PRODUCE_ENV:
                    report.add("env", f"{name}: `cassink produce` does not read {var}")
            args = cmd[2:]
            positional = [a for i, a in enumerate(args) if not a.startswith("--")
                          and not (i > 0 and args[i - 1] in flags - {"--create-topic"})]
            if not positional or positional[0] not in workloads:
                report.add("env", f"{name}: `cassink produce` needs a workload "
                           f"({'|'.join(sorted(workloads))}), got {positional[:1]}")
            for a in args:
                if a.startswith("--") and a.split("=", 1)[0] not in flags:
                    report.add("env", f"{name}: `cassink produce` has no flag {a} "
                               f"(according to {source})")
            check_bootstrap(svcs, name, dict(zip(args, args[1:])).get("--bootstrap"), report)
        else:
            report.add("env", f"{name}: runs the cassink image with an unknown command {cmd}")


def check_bootstrap(svcs: dict, name: str, value: str | None, report: Report) -> None:
    for hostport in (value or "").split(","):
        host = hostport.strip().rsplit(":", 1)[0]
        if host and host not in svcs:
            report.add("env", f"{name}: bootstrap host {host} is not a service of this stack")


def check_worker_consistency(doc: dict, name: str, svc: dict, env: dict, report: Report) -> None:
    check_bootstrap(services(doc), name, env.get("CONNECT_BOOTSTRAP_SERVERS"), report)
    if "CONNECT_BOOTSTRAP_SERVERS" not in env:
        report.add("env", f"{name}: CONNECT_BOOTSTRAP_SERVERS is not set (the worker would use "
                   "localhost:9092)")
    state = env.get("CONNECT_STATE_DIR")
    distributed = env.get("CONNECT_GROUP_ID") and env.get("CONNECT_CONFIG_STORAGE_TOPIC")
    if distributed and not state:
        pass  # connectors live in the config topic, not in a state dir
    elif not state:
        report.add("env", f"{name}: CONNECT_STATE_DIR is not set (or set CONNECT_GROUP_ID and "
                   "CONNECT_CONFIG_STORAGE_TOPIC for distributed mode)")
    elif not any(m.target.rstrip("/") == state.rstrip("/") for m in mounts(svc)):
        report.add("env", f"{name}: state dir {state} is not on a volume; connectors are lost "
                   "with the container")
    port = env.get("CONNECT_REST_PORT", "8083")
    targets = set()
    for p in svc.get("ports") or []:
        targets.add(str(p["target"]) if isinstance(p, dict)
                    else str(p).partition("/")[0].rsplit(":", 1)[-1])
    if targets and port not in targets:
        report.add("env", f"{name}: REST port {port} is not the container side of {sorted(targets)}")
    hc = " ".join(as_list((svc.get("healthcheck") or {}).get("test")))
    if hc and f":{port}/" not in hc:
        report.add("env", f"{name}: the health check does not probe port {port}: {hc}")


def check_images(doc: dict, report: Report) -> None:
    built = built_images(doc)
    for name, svc in services(doc).items():
        image = svc.get("image")
        if not image:
            if not svc.get("build"):
                report.add("images", f"{name}: neither image nor build")
            continue
        if svc.get("build"):
            continue  # built here; the tag names our own build
        if image in built:
            if svc.get("pull_policy") not in (None, "never", "missing", "if_not_present"):
                report.add("images", f"{name}: pull_policy {svc['pull_policy']} would pull "
                           f"{image}, which is only built locally")
            continue
        if "@sha256:" in image:
            continue
        last = image.rsplit("/", 1)[-1]
        tag = last.split(":", 1)[1] if ":" in last else None
        if tag is None or tag == "latest":
            if image in UNPINNED_OK:
                report.notes.append(f"images: {image} floats: {UNPINNED_OK[image]}")
            else:
                report.add("images", f"{name}: image {image} is not pinned to a tag")


def check_volumes_networks(doc: dict, report: Report) -> None:
    declared_vols = set((doc.get("volumes") or {}).keys())
    used_vols = set()
    declared_nets = set((doc.get("networks") or {}).keys())
    for name, svc in services(doc).items():
        for m in mounts(svc):
            if m.kind == "volume" and m.source:
                used_vols.add(m.source)
                if m.source not in declared_vols:
                    report.add("volumes", f"{name}: volume {m.source} is not declared")
        nets = svc.get("networks")
        nets = list(nets) if nets else []
        if svc.get("network_mode"):
            continue
        if declared_nets and not nets:
            report.add("networks", f"{name}: not attached to any of {sorted(declared_nets)}")
        for n in nets:
            if n not in declared_nets and n != "default":
                report.add("networks", f"{name}: network {n} is not declared")
    for v in sorted(declared_vols - used_vols):
        report.add("volumes", f"volume {v} is declared but never mounted")


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


# ---- Dockerfile and .dockerignore -------------------------------------------------------

def final_stage(df: Path) -> list[dict]:
    from dockerfile_parse import DockerfileParser

    instrs = DockerfileParser(path=str(df)).structure
    starts = [i for i, ins in enumerate(instrs) if ins["instruction"] == "FROM"]
    return instrs[starts[-1]:] if starts else instrs


def dockerfile_final_stage_has(df: Path, instruction: str) -> bool:
    return any(i["instruction"] == instruction for i in final_stage(df))


def check_dockerfile(df: Path, report: Report) -> None:
    from dockerfile_parse import DockerfileParser

    if not df.is_file():
        report.add("dockerfile", f"{df} does not exist")
        return
    try:
        parser = DockerfileParser(path=str(df))
        instrs = parser.structure
    except Exception as e:  # dockerfile-parse raises plain exceptions
        report.add("dockerfile", f"{df} does not parse: {e}")
        return
    known = {"FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY",
             "ENTRYPOINT", "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL",
             "HEALTHCHECK", "SHELL", "COMMENT"}
    for ins in instrs:
        if ins["instruction"] not in known:
            report.add("dockerfile", f"line {ins['startline'] + 1}: unknown instruction "
                       f"{ins['instruction']}")
    froms = [i for i in instrs if i["instruction"] == "FROM"]
    if not froms:
        report.add("dockerfile", "no FROM")
        return
    stages = set()
    for f in froms:
        words = f["value"].split()
        image = next((w for w in words if not w.startswith("--")), "")
        if image not in stages and (":" not in image.rsplit("/", 1)[-1]
                                    or image.endswith(":latest")) and "@sha256:" not in image:
            report.add("dockerfile", f"FROM {image} is not pinned to a tag")
        if len(words) >= 3 and words[-2].upper() == "AS":
            stages.add(words[-1])
    if len(froms) < 2:
        report.add("dockerfile", "not multi-stage: the build toolchain ends up in the image")
    for ins in instrs:
        if ins["instruction"] in ("COPY", "ADD"):
            m = re.search(r"--from=(\S+)", ins["value"])
            if m and m.group(1) not in stages and not m.group(1).isdigit():
                report.add("dockerfile", f"line {ins['startline'] + 1}: COPY --from={m.group(1)} "
                           "names no stage")
    last = final_stage(df)
    users = [i["value"].strip() for i in last if i["instruction"] == "USER"]
    if not users:
        report.add("dockerfile", "the final stage runs as root (no USER)")
    elif users[-1].split(":")[0] in ("root", "0"):
        report.add("dockerfile", f"the final stage runs as root (USER {users[-1]})")
    hcs = [i["value"] for i in last if i["instruction"] == "HEALTHCHECK"]
    if not hcs or hcs[-1].strip().upper() == "NONE":
        report.add("dockerfile", "the final stage has no HEALTHCHECK")
    if not any(i["instruction"] in ("CMD", "ENTRYPOINT") for i in last):
        report.add("dockerfile", "the final stage has no CMD or ENTRYPOINT")


def dockerignore_regex(pattern: str) -> re.Pattern:
    """A .dockerignore pattern as a regex: `*` and `?` stay within a path segment, `**`
    spans any number of them (Go's filepath.Match plus Docker's `**`)."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i:]:
            j = pattern.index("]", i)
            out.append("[" + pattern[i + 1:j].replace("!", "^", 1) + "]")
            i = j + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("^" + "".join(out) + "$")


def dockerignore_excludes(patterns: list[str], path: str) -> bool:
    """Docker's rule: the last pattern matching the path (or one of its parent dirs) wins;
    `!` re-includes."""
    excluded = False
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for raw in patterns:
        neg = raw.startswith("!")
        rx = dockerignore_regex(os.path.normpath(raw[1:] if neg else raw).lstrip("/"))
        if any(rx.match(p) for p in prefixes):
            excluded = not neg
    return excluded


def check_dockerignore(root: Path, report: Report) -> None:
    di = root / ".dockerignore"
    patterns = []
    if di.is_file():
        for line in di.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                patterns.append(line)
    cargo = tomllib.loads((root / "Cargo.toml").read_text())
    members = (cargo.get("workspace") or {}).get("members") or ["."]
    needed = ["Cargo.toml", "Cargo.lock"]
    for m in members:
        base = "" if m in (".", "") else m.rstrip("/") + "/"
        needed.append(base + "Cargo.toml")
        # One real file of each part cargo reads to build (tests are not built).
        for sub in ("src", "build.rs", "benches", "examples"):
            part = root / base / sub
            if part.is_file():
                needed.append(base + sub)
            elif part.is_dir():
                first = next((f for f in sorted(part.rglob("*")) if f.is_file()), None)
                if first is not None:
                    needed.append(first.relative_to(root).as_posix())
    for path in needed:
        path = path.rstrip("/")
        if dockerignore_excludes(patterns, path):
            report.add("dockerignore", f"{path} is excluded from the build context, but the "
                       "cargo workspace needs it")
    for junk in ("target/release/cassink", ".git/HEAD"):
        if not dockerignore_excludes(patterns, junk):
            report.add("dockerignore", f"{junk.split('/')[0]}/ is sent to the build context")


# ---- the compose CLI --------------------------------------------------------------------

CACHED_COMPOSE = Path(os.environ.get("CASSINK_CACHE", Path.home() / ".cache" / "cassink")) \
    / "compose" / "docker-compose"


def compose_cli() -> list[str] | None:
    """A compose v2 CLI: `docker compose`, else DOCKER_COMPOSE_BIN, else the cached binary."""
    if shutil.which("docker"):
        r = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
        if r.returncode == 0:
            return ["docker", "compose"]
    for cand in (os.environ.get("DOCKER_COMPOSE_BIN"), str(CACHED_COMPOSE)):
        if cand and Path(cand).is_file() and os.access(cand, os.X_OK):
            r = subprocess.run([cand, "version"], capture_output=True, text=True)
            if r.returncode == 0 and "v2" in r.stdout:
                return [cand]
    return None


def check_cli(compose_file: Path, root: Path, report: Report, cli: list[str] | None = None) -> bool:
    """`docker compose config` with every profile; False when no CLI is there (skipped)."""
    cli = cli or compose_cli()
    if cli is None:
        report.notes.append("cli: skipped (no `docker compose` plugin, DOCKER_COMPOSE_BIN or "
                            f"{CACHED_COMPOSE}; integration/compose/get-compose.sh caches one)")
        return False
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    r = subprocess.run(cli + ["-f", str(compose_file), "--project-directory", str(root),
                              "--profile", "*", "config", "--quiet"],
                       capture_output=True, text=True, env=env, timeout=60)
    if r.returncode != 0:
        report.add("cli", f"{' '.join(cli)} config: {(r.stderr or r.stdout).strip()}")
    else:
        report.notes.append(f"cli: {' '.join(cli)} config: ok")
    return True


# ---- main -------------------------------------------------------------------------------

def check_document(doc: dict, root: Path, report: Report) -> None:
    """The schema, then (on a document of the right shape) the checks that build on it."""
    before = len(report.problems)
    check_schema(doc, report)
    if len(report.problems) > before:
        report.notes.append("the other compose checks were skipped: the schema failed")
        return
    check_files(doc, root, report)
    check_depends_on(doc, root, report)
    check_ports(doc, report)
    check_env(doc, root, report)
    check_images(doc, report)
    check_volumes_networks(doc, report)
    check_monitoring(doc, root, report)


def run_all(compose_file: Path, root: Path, cli: bool = True) -> Report:
    report = Report()
    try:
        doc, missing = load_compose(compose_file)
    except (OSError, yaml.YAMLError) as e:
        report.add("load", f"{compose_file}: {e}")
        return report
    for var in missing:
        report.add("load", f"${{{var}}} has no default; `docker compose up` needs it set")
    if not isinstance(doc, dict):
        report.add("load", f"{compose_file} is not a mapping")
        return report
    check_document(doc, root, report)
    for svc in services(doc).values():
        b = svc.get("build") if isinstance(svc, dict) else None
        if b:
            b = {"context": b} if isinstance(b, str) else b
            check_dockerfile(host_path(root, b.get("context", ".")) / b.get("dockerfile", "Dockerfile"),
                             report)
    check_dockerignore(root, report)
    check_promtool(doc, root, report)
    if cli:
        check_cli(compose_file, root, report)
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=ROOT, help="repository root")
    ap.add_argument("--compose", type=Path, help="compose file (default ROOT/docker-compose.yml)")
    ap.add_argument("--no-cli", action="store_true", help="skip `docker compose config`")
    args = ap.parse_args(argv)
    compose_file = args.compose or args.root / "docker-compose.yml"
    report = run_all(compose_file, args.root, cli=not args.no_cli)
    for note in report.notes:
        print(f"note: {note}")
    for p in report.problems:
        print(f"FAIL {p}")
    n = len(services(load_compose(compose_file)[0])) if not report.problems else 0
    print(f"compose check: {len(report.problems)} problem(s)" if report.problems
          else f"compose check: ok ({compose_file.name}, {n} services)")
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
