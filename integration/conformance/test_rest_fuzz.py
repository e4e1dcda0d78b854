"""Fuzzes the worker's REST API from its own OpenAPI description with schemathesis (an
independent tool): no request may get a 5xx answer or make the worker panic."""
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = pathlib.Path(__file__).resolve().parents[2]


def cassink_binary():
    explicit = os.environ.get("CASSINK_BIN")
    if explicit:
        return explicit
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    built = [p for p in (target / "debug" / "cassink", target / "release" / "cassink") if p.exists()]
    assert built, "no cassink binary: run `cargo build -p cassink` first"
    return str(max(built, key=lambda p: p.stat().st_mtime))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_no_request_gets_a_server_error_or_a_panic():
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        props = pathlib.Path(tmp) / "worker.properties"
        props.write_text(
            f"bootstrap.servers={os.environ.get('KAFKA_BOOTSTRAP', '127.0.0.1:9092')}\n"
            f"listeners={base}\nstate.dir={tmp}/state\n"
        )
        log = open(pathlib.Path(tmp) / "worker.log", "w+")
        worker = subprocess.Popen([cassink_binary(), "worker", "--config", str(props)], stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.time() + 30
            while True:
                try:
                    urllib.request.urlopen(f"{base}/health", timeout=1)
                    break
                except OSError:
                    assert time.time() < deadline, "the worker did not start"
                    time.sleep(0.2)
            st = pathlib.Path(sys.executable).parent / "schemathesis"
            run = subprocess.run(
                [str(st), "run", f"{base}/openapi.json", "--url", base, "--max-examples", "25",
                 "--checks", "not_a_server_error", "--seed", "1"],
                capture_output=True, text=True, timeout=600,
            )
            assert run.returncode == 0, run.stdout[-4000:]
            assert "passed" in run.stdout
            assert worker.poll() is None, "the worker died during the fuzz run"
        finally:
            worker.terminate()
            worker.wait(timeout=30)
        log.seek(0)
        text = log.read()
        assert "panicked" not in text, text[-4000:]
