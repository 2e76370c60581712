"""What the running web app keeps between requests: the workspace, a report cache, the rescorer.

One `AppState` per app (`app.state.leadpact`). The report behind the overview takes seconds on
a large workspace, so it is kept for `REPORT_TTL` per (period, start) and computed by one
request at a time. Ingested leads and activities are scored by a background thread that
coalesces requests (`Rescorer`): it rescores the leads that changed, at most once per
`min_interval`, and every lead once per `full_interval` (engagement decays).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
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
    """A background thread that rescores the leads events changed, and now and then all leads.

    `request(lead_ids)` only records the ids; the thread rescores the leads recorded since its
    last run, never more often than every `min_interval` seconds. Engagement decays with time,
    so every `full_interval` seconds (and when a request names no leads) it rescores every lead.
    """

    def __init__(
        self,
        job: Callable[[set[str] | None], object],
        min_interval: float = 30.0,
        full_interval: float = 3600.0,
    ) -> None:
        self.job = job
        self.min_interval = min_interval
        self.full_interval = full_interval
        self.runs = 0
        self._lock = threading.Lock()
        self._lead_ids: set[str] = set()
        self._full = False
        self._last_full = time.monotonic()
        self._wanted = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="leadpact-rescore", daemon=True)
            self._thread.start()

    def request(self, lead_ids: Iterable[str] | None = None) -> None:
        """Ask for a rescore of these leads soon (None: of every lead)."""
        with self._lock:
            if lead_ids is None:
                self._full = True
            else:
                self._lead_ids.update(lead_ids)
        self._wanted.set()

    def stop(self) -> None:
        """Stop the thread, letting a running rescore finish."""
        self._stop.set()
        self._wanted.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
            self._thread = None

    def _take(self) -> set[str] | None:
        """The leads to rescore now (None: all), and forget them."""
        with self._lock:
            due = self._full or time.monotonic() - self._last_full >= self.full_interval
            wanted = None if due else self._lead_ids
            self._lead_ids, self._full = set(), False
        if wanted is None:
            self._last_full = time.monotonic()
        return wanted

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wanted.wait(timeout=self.full_interval)
            if self._stop.is_set():
                return
            self._wanted.clear()
            try:
                self.job(self._take())
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
