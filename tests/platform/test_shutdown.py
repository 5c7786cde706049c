"""Graceful shutdown: a request in flight when the server is told to stop (SIGTERM) still finishes its write.

Runs the real server (Granian, as `yishi serve` and the Helm chart run it) on SQLite in a temporary
directory; the request's body is sent in two halves around the signal, so the stop lands mid-request.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import WORLD

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)  # one real server is enough


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited while starting"
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} never answered")


def test_sigterm_lets_the_request_in_flight_finish_its_write(database, tmp_path: Path) -> None:  # noqa: ARG001
    db = tmp_path / "yishi.db"
    env = {**os.environ, "YISHI_DATABASE_URL": f"sqlite+aiosqlite:///{db}", "YISHI_PASSWORD_HASH": "cheapest",
           "YISHI_MEDIA_DIR": str(tmp_path / "media"), "PYTHONPATH": str(ROOT)}
    yishi = [sys.executable, "-c", "from core.cli import main; main()"]
    manifest = tmp_path / "world.yaml"
    manifest.write_text(WORLD, encoding="utf-8")
    for command in (["migrate"], ["tenants", "apply", str(manifest)]):
        subprocess.run([*yishi, *command], env=env, cwd=ROOT, check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "--host", "127.0.0.1", "--port",
         str(port), "--workers", "1", "--no-access-log", "core.app:create_app"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_ready(f"http://127.0.0.1:{port}/ready", server)
        login = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/auth/token", method="POST",
                                       data=json.dumps({"username": "resident", "password": "password-123"}).encode(),
                                       headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(login, timeout=10) as answer:
            token = json.load(answer)["access_token"]
        body = json.dumps({"title": "停机时提交的诉求", "description": "服务重启时也不能丢", "category": "other",
                           "channel": "portal"}, ensure_ascii=False).encode()
        head = (f"POST /api/v1/tenants/comm-a/concerns HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
        with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
            sock.sendall(head + body[:10])
            time.sleep(0.5)
            os.killpg(server.pid, signal.SIGTERM)  # the stop arrives while the request is half sent
            time.sleep(0.5)
            sock.sendall(body[10:])
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        status = answer.split(b"\r\n", 1)[0]
        assert b" 201 " in status, answer[:500]
        assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["reference"].startswith("JSX-")
        assert server.wait(timeout=30) is not None  # and then it does stop
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT count(*) FROM concern WHERE title = ?", ("停机时提交的诉求",)).fetchone()
    assert stored == (1,)
