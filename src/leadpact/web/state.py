"""What the running web app keeps between requests: the workspace, a report cache, the rescorer.

One `AppState` per app (`app.state.leadpact`). The report behind the overview takes seconds on
a large workspace, so it is kept for `REPORT_TTL` per (period, start) and computed by one
request at a time. Ingested leads and activities are scored by a background thread that
coalesces requests (`Rescorer`): a rescore of a large workspace takes seconds and holds the
write lock, so it runs at most once per `min_interval`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from leadpact.services.workspace import Workspace
from leadpact.settings import Settings

__all__ = ["REPORT_TTL", "AppState", "ReportCache", "Rescorer"]

log = logging.getLogger("leadpact.web")

#: How long a computed report is served before it is computed again.
REPORT_TTL = 60.0


class ReportCache:
    """Reports by (period, start), each kept for `ttl` seconds; one computation at a time."""

    def __init__(self, ttl: float = REPORT_TTL) -> None:
        self.ttl = ttl
        self._lock = threading.RLock()
        self._reports: dict[tuple[Any, ...], tuple[float, Any]] = {}

    def get(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        """The cached report for `key`, or a fresh one from `compute`."""
        with self._lock:
            found = self._reports.get(key)
            if found is not None and time.monotonic() - found[0] < self.ttl:
                return found[1]
            report = compute()
            self._reports[key] = (time.monotonic(), report)
            return report

    def clear(self) -> None:
        """Forget every report (after a change the next page must show)."""
        with self._lock:
            self._reports.clear()


class Rescorer:
    """A background thread that rescores the workspace after events changed leads or activities.

    `request()` only sets a flag; the thread runs `job` once for all requests made since its
    last run, and never more often than every `min_interval` seconds.
    """

    def __init__(self, job: Callable[[], object], min_interval: float = 30.0) -> None:
        self.job = job
        self.min_interval = min_interval
        self.runs = 0
        self._wanted = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="leadpact-rescore", daemon=True)
            self._thread.start()

    def request(self) -> None:
        """Ask for a rescore soon."""
        self._wanted.set()

    def stop(self) -> None:
        """Stop the thread, letting a running rescore finish."""
        self._stop.set()
        self._wanted.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wanted.wait()
            if self._stop.is_set():
                return
            self._wanted.clear()
            try:
                self.job()
                self.runs += 1
            except Exception:  # a failed rescore must not end the thread; the log tells
                log.exception("background rescore failed")
            self._stop.wait(self.min_interval)


@dataclass
class AppState:
    """The web app's long-lived objects."""

    settings: Settings
    workspace: Workspace
    reports: ReportCache = field(default_factory=ReportCache)
    rescorer: Rescorer | None = None
    extra: dict[str, Any] = field(default_factory=dict)
