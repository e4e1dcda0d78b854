"""Fuzzes the worker's REST API from its own OpenAPI description with schemathesis (an
independent tool): no request may get a 5xx answer or make the worker panic."""
import pathlib
import subprocess
import sys

from harness import start_worker


def test_no_request_gets_a_server_error_or_a_panic():
    # start_worker fails the test when the worker's log shows a panic.
    with start_worker() as worker:
        base = worker.base
        st = pathlib.Path(sys.executable).parent / "schemathesis"
        run = subprocess.run(
            [str(st), "run", f"{base}/openapi.json", "--url", base, "--max-examples", "25",
             "--checks", "not_a_server_error", "--seed", "1"],
            capture_output=True, text=True, timeout=600,
        )
        assert run.returncode == 0, run.stdout[-4000:]
        assert "passed" in run.stdout
        assert worker.proc.poll() is None, "the worker died during the fuzz run"
