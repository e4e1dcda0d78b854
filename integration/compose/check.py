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
  env          the worker gets only CONNECT_* keys it knows (crates/worker/src/config/keys.rs), the
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
The functions take the loaded document so tests can feed them broken ones. What the checks
share (the report, loading, services and mounts) is in compose_model.py, the monitoring checks
in compose_monitoring.py.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]

sys.path.insert(0, str(Path(__file__).resolve().parent))
# The modules beside this script.
from compose_model import (  # noqa: E402
    Report,
    as_list,
    build_of,
    built_images,
    compose_schema,
    container_to_host,
    depends,
    dockerfile_cmd,
    env_map,
    host_path,
    load_compose,
    mounts,
    services,
    uses_local_build,
)
# The monitoring checks; some re-exported for the tests, which call them as check.<name>.
from compose_monitoring import (  # noqa: E402,F401
    check_monitoring,
    check_promtool,
    dashboard_panels,
    documented_metrics,
    load_monitoring,
    metric_names,
    promtool_cli,
    undocumented,
)

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

# Used when crates/worker/src/config/keys.rs cannot be read (the list there is the source of truth).
FALLBACK_WORKER_KEYS = [
    "bootstrap.servers", "listeners", "rest.host.name", "rest.port", "rest.advertised.host.name",
    "rest.advertised.port", "rest.advertised.listener", "group.id", "offset.flush.interval.ms",
    "offset.flush.timeout.ms", "state.dir", "plugin.path", "client.id",
]
FALLBACK_WORKER_PREFIXES = [
    "consumer.", "producer.", "key.converter", "value.converter", "header.converter",
    "log4j.", "security.", "ssl.", "sasl.",
]


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
    src = root / "crates" / "worker" / "src" / "config" / "keys.rs"
    text = src.read_text() if src.is_file() else ""
    m = re.search(r"const KNOWN_PREFIXES: &\[&str\] = &\[(.*?)\];", text, re.S)
    prefixes = re.findall(r'"([^"]+)"', m.group(1)) if m else None
    keys = re.findall(r'ConfigKey::new\("([^"]+)"', text)
    # Keys named by constants of the override policy.
    consts = {"POLICY_KEY": "connector.client.config.override.policy",
              "ALLOWLIST_KEY": "connector.client.config.override.allowlist"}
    keys += [v for k, v in consts.items() if f"ConfigKey::new({k}," in text]
    if not keys or prefixes is None:
        report.notes.append(f"env: the worker keys (ConfigKey::new) or KNOWN_PREFIXES not found "
                            f"in {src}; using the list in check.py")
        return FALLBACK_WORKER_KEYS, FALLBACK_WORKER_PREFIXES
    return keys, prefixes


def connect_env_key(var: str) -> str:
    """CONNECT_FOO_BAR -> foo.bar (Confluent convention: ___ -> -, __ -> _, _ -> .)."""
    rest = var[len("CONNECT_"):].lower()
    return (rest.replace("___", "\x01").replace("__", "\x02").replace("_", ".")
            .replace("\x01", "-").replace("\x02", "_"))




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
                               "(crates/worker/src/config/keys.rs)")
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


INCLUDE = re.compile(r'include_(?:str|bytes)!\(\s*"([^"]+)"\s*\)')


def embedded_files(root: Path, members: list[str]) -> list[tuple[str, str]]:
    """(source file, embedded file) for every include_str!/include_bytes! the build compiles:
    not those of test code (a `tests.rs`, or after a file's first `#[cfg(test)]`)."""
    found = []
    for m in members:
        src = root / ("" if m in (".", "") else m) / "src"
        for rs in sorted(src.rglob("*.rs")) if src.is_dir() else []:
            if rs.name == "tests.rs":
                continue
            text = rs.read_text(errors="replace")
            cut = text.find("#[cfg(test)]")
            for hit in INCLUDE.finditer(text if cut < 0 else text[:cut]):
                target = (rs.parent / hit.group(1)).resolve()
                try:
                    rel = target.relative_to(root.resolve()).as_posix()
                except ValueError:
                    continue
                found.append((rs.relative_to(root).as_posix(), rel))
    return found


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
    for source, path in embedded_files(root, members):
        if dockerignore_excludes(patterns, path):
            report.add("dockerignore", f"{path} is excluded from the build context, but "
                       f"{source} embeds it (include_str!/include_bytes!)")
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
