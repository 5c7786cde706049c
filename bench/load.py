"""Load generation on loopback: wrk (installed from Debian when missing), or a small asyncio client when it can't be."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

REPORT_SCRIPT = Path(__file__).with_name("report.lua")
SUBMIT_SCRIPT = Path(__file__).with_name("submit.lua")


@dataclass(frozen=True)
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # socket errors, timeouts and non-2xx/3xx answers
    acknowledged: tuple[str, ...] = ()  # ids the server answered 201 for (POST load only)


@dataclass(frozen=True)
class Post:
    """POST load: `body` to each of `targets` (path, bearer token or "") in turn, each request with an
    Idempotency-Key never used before, keeping the id of every 201 answer."""

    targets: tuple[tuple[str, str], ...]
    body: str


def ensure_wrk() -> str | None:
    """Path of wrk, installing Debian's package if it is missing and we may; None means use the fallback."""
    if shutil.which("wrk") or os.geteuid() != 0 or not shutil.which("apt-get"):
        return shutil.which("wrk")
    if not _apt("install", "-y", "-q", "wrk"):
        _apt("update", "-q")  # a fresh machine may have no package lists yet
        _apt("install", "-y", "-q", "wrk")
    return shutil.which("wrk")


def _apt(*args: str) -> bool:
    print(f"  $ apt-get {' '.join(args)}", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        done = subprocess.run(["apt-get", *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=180, check=False)
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


def run_wrk(wrk: str, url: str, seconds: float, connections: int, headers: dict[str, str],
            post: Post | None = None) -> Result:
    """GET `url`, or with `post` POST to its targets on `url`'s host."""
    script = SUBMIT_SCRIPT if post else REPORT_SCRIPT
    args = [wrk, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "5s", "-s", str(script)]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as scratch:
        acked_file = Path(scratch) / "acknowledged"
        env = dict(os.environ)
        if post:
            env.update(BENCH_TARGETS="\n".join(f"{path}\t{token}" for path, token in post.targets),
                       BENCH_BODY=post.body, BENCH_KEY_PREFIX=uuid.uuid4().hex, BENCH_ACKED_FILE=str(acked_file))
        done = subprocess.run(args + [url], capture_output=True, text=True, timeout=seconds + 30, check=False,
                              env=env)
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if done.returncode != 0 or not lines:
            raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout[-500:]} {done.stderr[-500:]}")
        r = json.loads(lines[-1])
        acknowledged = tuple(acked_file.read_text().split()) if post else ()
    if post and len(acknowledged) != r["acknowledged"]:
        raise RuntimeError(f"wrk counted {r['acknowledged']} acknowledgements but wrote {len(acknowledged)} ids")
    return Result(
        rps=r["requests"] / (r["duration_us"] / 1e6),
        p50_ms=r["p50_us"] / 1000,
        p99_ms=r["p99_us"] / 1000,
        requests=r["requests"],
        errors=r["socket_errors"] + r["status_errors"],
        acknowledged=acknowledged,
    )


def run_python(url: str, seconds: float, connections: int, headers: dict[str, str],
               post: Post | None = None) -> Result:
    """The fallback: `connections` keep-alive HTTP/1.1 clients in one event loop, for `seconds`."""
    return asyncio.run(_python_load(url, seconds, connections, headers, post))


async def _python_load(url: str, seconds: float, connections: int, headers: dict[str, str],
                       post: Post | None) -> Result:
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n{head}\r\n".encode()
    key_prefix = uuid.uuid4().hex
    sent_count = 0

    def next_request() -> bytes:
        nonlocal sent_count
        if post is None:
            return request
        sent_count += 1
        path, token = post.targets[sent_count % len(post.targets)]
        body = post.body.encode()
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        return (f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n{head}{auth}"
                f"Content-Type: application/json\r\nIdempotency-Key: {key_prefix}-{sent_count}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode() + body

    latencies: list[float] = []
    acknowledged: list[str] = []
    errors = 0
    started = time.perf_counter()
    deadline = started + seconds

    async def client() -> None:
        nonlocal errors
        reader, writer = await asyncio.wait_for(asyncio.open_connection(parts.hostname, parts.port), 5)
        try:
            while time.perf_counter() < deadline:
                sent = time.perf_counter()
                writer.write(next_request())
                status, answer = await asyncio.wait_for(_read_response(reader), 5)
                latencies.append(time.perf_counter() - sent)
                errors += not 200 <= status < 400
                if post is not None and status == 201:
                    acknowledged.append(str(json.loads(answer).get("id", "?")))
        finally:
            writer.close()

    outcomes = await asyncio.gather(*(client() for _ in range(connections)), return_exceptions=True)
    errors += sum(isinstance(o, BaseException) for o in outcomes)
    elapsed = time.perf_counter() - started
    if len(latencies) < 2:
        raise RuntimeError(f"no answers from {url}: {outcomes}")
    cuts = statistics.quantiles(latencies, n=100)
    return Result(len(latencies) / elapsed, cuts[49] * 1000, cuts[98] * 1000, len(latencies), errors,
                  tuple(acknowledged))


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Read one response off a keep-alive connection; return its status and body."""
    header = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    lines = header.split("\r\n")
    status = int(lines[0].split()[1])
    fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    body = b""
    if "content-length" in fields:
        body = await reader.readexactly(int(fields["content-length"]))
    elif fields.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while size := int((await reader.readline()).split(b";")[0], 16):
            chunks.append((await reader.readexactly(size + 2))[:-2])
        await reader.readline()
        body = b"".join(chunks)
    return status, body
