"""The background rescorer: only the leads events changed, and every lead now and then."""

from __future__ import annotations

import threading

from leadpact.web.state import Rescorer


def wait_for(condition, seconds: float = 10.0) -> None:
    """Poll until `condition()` holds (bounded; no timing is asserted)."""
    done = threading.Event()
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        done.wait(0.02)
    raise AssertionError("condition not reached")


def test_requests_are_coalesced_into_one_partial_rescore():
    calls: list[set[str] | None] = []
    rescorer = Rescorer(calls.append, min_interval=0.0, full_interval=3600.0)
    rescorer.request(["a", "b"])
    rescorer.request(["b", "c"])
    rescorer.start()
    try:
        wait_for(lambda: rescorer.runs >= 1)
    finally:
        rescorer.stop()
    assert calls[0] == {"a", "b", "c"}


def test_a_request_without_leads_rescores_every_lead():
    calls: list[set[str] | None] = []
    rescorer = Rescorer(calls.append, min_interval=0.0, full_interval=3600.0)
    rescorer.request(["a"])
    rescorer.request(None)
    rescorer.start()
    try:
        wait_for(lambda: rescorer.runs >= 1)
    finally:
        rescorer.stop()
    assert calls == [None]


def test_every_lead_is_rescored_once_the_full_interval_has_passed():
    calls: list[set[str] | None] = []
    rescorer = Rescorer(calls.append, min_interval=0.0, full_interval=0.05)
    rescorer.start()
    try:
        wait_for(lambda: rescorer.runs >= 1)
    finally:
        rescorer.stop()
    assert calls[0] is None


def test_a_failing_job_does_not_end_the_thread():
    seen: list[set[str] | None] = []

    def job(lead_ids: set[str] | None) -> None:
        seen.append(lead_ids)
        if len(seen) == 1:
            raise RuntimeError("first rescore fails")

    rescorer = Rescorer(job, min_interval=0.0, full_interval=3600.0)
    rescorer.start()
    try:
        rescorer.request(["a"])
        wait_for(lambda: len(seen) >= 1)
        rescorer.request(["b"])
        wait_for(lambda: rescorer.runs >= 1)
    finally:
        rescorer.stop()
    assert seen[-1] == {"b"}
