"""The web server's alert scheduler: a background thread that plans and delivers SLA alerts.

The app's lifespan calls `start(state)` after startup and `stop(state)` before shutdown.
`start` needs one thing from `state`: `state.workspace`, an open `Workspace` (its clock says
what "now" is; its settings give the channels, `LEADPACT_SCHEDULER_INTERVAL` and
`LEADPACT_ALERT_MAX_AGE`). It keeps its `AlertScheduler` in `state.extra["alert_scheduler"]`
when the state has an `extra` dict, else in the attribute `state.alert_scheduler`.

The thread runs `services.alerts.run_scheduler`: every interval, plan the due alerts and
deliver them. Several servers (or a server and `leadpact alerts run`) on one database are
safe: each alert is stored once and claimed by one sender.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from leadpact.errors import LeadPactError
from leadpact.services.alerts import Cycle, run_scheduler
from leadpact.services.channels import channels_from_settings

__all__ = ["AlertScheduler", "find", "start", "stop"]

log = logging.getLogger("leadpact.alerts")

#: Where the scheduler is kept on the app state.
KEY = "alert_scheduler"
#: How long `stop` waits for a cycle in progress (a send times out after 10 s).
STOP_TIMEOUT = 60.0


@dataclass
class AlertScheduler:
    """A running scheduler: its thread, its stop signal and what its last cycle did."""

    stopping: threading.Event
    thread: threading.Thread = field(init=False)
    cycles: int = 0
    last: Cycle | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, cycle: Cycle) -> None:
        """Remember a finished cycle (`cycles`, `last`), and log what it did."""
        with self.lock:
            self.cycles += 1
            self.last = cycle
        done = cycle.delivered
        if cycle.planned.stored or done.attempts or done.interrupted:
            log.info(
                "alerts at %s: %d new, %d sent, %d to retry, %d failed",
                cycle.now.isoformat(),
                cycle.planned.stored,
                done.sent,
                done.retrying,
                done.failed,
            )


def find(state: Any) -> AlertScheduler | None:
    """The scheduler `start` put on `state`, if any."""
    extra = getattr(state, "extra", None)
    found = extra.get(KEY) if isinstance(extra, dict) else getattr(state, KEY, None)
    return found if isinstance(found, AlertScheduler) else None


def start(state: Any) -> AlertScheduler | None:
    """Start the scheduler thread for `state.workspace` (once; a second call is a no-op).

    A bad channel setting (a webhook URL that is not http) is logged as an error and the
    scheduler is not started: the rest of the server still runs.

    Returns:
        The running scheduler, or None when the settings are invalid.
    """
    running = find(state)
    if running is not None and running.thread.is_alive():
        return running
    workspace = state.workspace
    try:
        channels = channels_from_settings(workspace.settings)
    except LeadPactError as err:
        log.error("alert scheduler not started: %s", err)
        return None
    scheduler = AlertScheduler(threading.Event())
    scheduler.thread = threading.Thread(
        target=run_scheduler,
        args=(workspace, scheduler.stopping),
        kwargs={"channels": channels, "on_cycle": scheduler.record},
        name="leadpact-alert-scheduler",
        daemon=True,
    )
    extra = getattr(state, "extra", None)
    if isinstance(extra, dict):
        extra[KEY] = scheduler
    else:
        setattr(state, KEY, scheduler)
    scheduler.thread.start()
    names = ", ".join(c.name for c in channels) or "none (alerts are stored, not sent)"
    log.info(
        "alert scheduler started: every %ss, channels: %s",
        workspace.settings.scheduler_interval.total_seconds(),
        names,
    )
    return scheduler


def stop(state: Any, timeout: float = STOP_TIMEOUT) -> None:
    """Stop the scheduler of `state` and wait for its cycle in progress to end."""
    scheduler = find(state)
    if scheduler is None:
        return
    scheduler.stopping.set()
    scheduler.thread.join(timeout)
    if scheduler.thread.is_alive():
        log.warning("alert scheduler still busy after %ss; leaving it to finish", timeout)
