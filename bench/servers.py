"""Granian servers started for the benchmark, each stopped with its whole process group however the run ends."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LOG_DIR = REPO / "bench" / "results"
WORKERS = 1  # two cores: one for the server, one shared by PostgreSQL and the load generator
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class GranianServer:
    """`granian --interface asgi --factory TARGET` on 127.0.0.1, as a context manager."""

    def __init__(self, name: str, target: str, env: dict[str, str], ready_path: str) -> None:
        self.name, self.target, self.env, self.ready_path = name, target, env, ready_path
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = LOG_DIR / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> GranianServer:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        args = [
            sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "--host", "127.0.0.1",
            "--port", str(self.port), "--workers", str(WORKERS), "--no-access-log", "--working-dir", str(REPO),
            self.target,
        ]
        env = {**os.environ, **self.env, "PYTHONPATH": str(REPO)}
        with open(self.log_path, "wb") as log:
            # A session of its own, so that stopping it reaches Granian's worker processes too.
            self.process = subprocess.Popen(args, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            # Not listening yet: try again shortly.
            with contextlib.suppress(OSError), urllib.request.urlopen(self.base_url + self.ready_path,
                                                                      timeout=2) as response:
                if response.status == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {START_TIMEOUT:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if process.poll() is not None:
                break
            _signal_group(process.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):  # escalate to the next signal
                process.wait(timeout=STOP_TIMEOUT)
        # The leader is gone; none of its workers may outlive it.
        _signal_group(process.pid, signal.SIGKILL)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(pgid, sig)
