"""CPU time that other processes take while the bench measures: on two cores, a test suite running beside the
bench halves what the servers get, and every figure with it.

A thread samples every process once a second. "Ours" are this process and its descendants (Granian servers
and their workers, wrk) and PostgreSQL's backends serving the bench databases; PostgreSQL's shared helpers
(checkpointer, WAL writer) and kernel threads count for nobody; everything else is foreign.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time

import psutil

SAMPLE_SECONDS = 1.0
# A backend's title: "postgres: 15/main: <user> <database> <client> <state>".
BACKEND_TITLE = re.compile(r"^postgres: [^:]+: \S+ (\S+) ")


class ForeignCpu:
    """`with ForeignCpu(our_databases, all_databases) as foreign:` … then `foreign.share` (of all cores)."""

    def __init__(self, our_databases: set[str], all_databases: set[str]) -> None:
        self.ours, self.databases = our_databases, all_databases
        self.seconds = 0.0  # CPU seconds of foreign processes during the window
        self.elapsed = 0.0
        self.busiest: str = ""  # the foreign process that took the most, for the report
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="foreign-cpu", daemon=True)
        self._first: dict[tuple[int, float], float] = {}
        self._last: dict[tuple[int, float], tuple[float, str]] = {}

    @property
    def share(self) -> float:
        return self.seconds / (self.elapsed * (os.cpu_count() or 1)) if self.elapsed else 0.0

    def __enter__(self) -> ForeignCpu:
        self._started = time.time()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.elapsed = time.time() - self._started
        taken = {key: last - self._first[key] for key, (last, _) in self._last.items()}
        self.seconds = sum(taken.values())
        if taken:
            top = max(taken, key=taken.__getitem__)
            self.busiest = f"{self._last[top][1][:60]} ({taken[top]:.0f} s)"

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            # A process that comes or goes mid-sample is left to the next sample.
            with contextlib.suppress(psutil.Error):
                self._sample({me.pid, *(child.pid for child in me.children(recursive=True))})
            self._stop.wait(SAMPLE_SECONDS)

    def _sample(self, ours: set[int]) -> None:
        for process in psutil.process_iter(["pid", "ppid", "name", "cmdline", "cpu_times", "create_time"]):
            info = process.info
            if info["cpu_times"] is None or info["pid"] in ours or info["ppid"] in (0, 2):  # 2: kernel threads
                continue
            title = " ".join(info["cmdline"] or [info["name"] or "?"])
            if info["name"] == "postgres":
                backend = BACKEND_TITLE.match(title)
                if backend is None or backend.group(1) not in self.databases or backend.group(1) in self.ours:
                    continue
            cpu = info["cpu_times"].user + info["cpu_times"].system
            key = (info["pid"], info["create_time"])
            # A process started during the window counts from zero; one already running, from now.
            self._first.setdefault(key, 0.0 if info["create_time"] > self._started else cpu)
            self._last[key] = (cpu, title)
