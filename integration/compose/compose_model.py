"""What the compose checks share: the report, loading docker-compose.yml (with its ${VAR}
interpolation) and reading services, mounts and commands out of it."""
from __future__ import annotations

import json
import os
import re
import shlex
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml


ROOT = Path(__file__).resolve().parents[2]


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
