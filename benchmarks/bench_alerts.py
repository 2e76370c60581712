"""Benchmark: how late an SLA alert arrives after its due time, with 100,000+ open leads.

ARCHITECTURE.md target: an alert within 5 s of its due time with 100,000 open leads.

Builds a SQLite workspace from the demo generator (`services.demo.generate`, a year of leads
ending now, imported with `services.importing.import_file`; default 165,000 leads, of which
about 100,000 are open), adds a 24/7 "probe" team to the example pact, and runs the real
scheduler (`services.alerts.run_scheduler`, system clock, `LEADPACT_SCHEDULER_INTERVAL` 2 s)
delivering to a real HTTP receiver on loopback. Probe leads (priority 1: a 2 h response
clock on the 24/7 calendar) are due at known instants during the run, some stored before the
scheduler starts and some while it runs; each probe's breach alert is timed from its due
instant to its arrival at the receiver. A full re-evaluation runs in the background every
`--refresh` seconds during the run, as it does every 5 minutes in production.

Prints: open leads, the first (full) cycle, the steady cycles (median, p95, max), the
background refreshes, and each probe's delay with the maximum against the 5 s target.

    .venv/bin/python benchmarks/bench_alerts.py [--leads 165000] [--probes 8] [--refresh 20]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from leadpact.cli.pact import example_pact_text
from leadpact.clock import FixedClock, SystemClock
from leadpact.core.models import StageChange
from leadpact.core.pact import Outcome
from leadpact.services import importing, scoring
from leadpact.services.alerts import Cycle, Planner, run_scheduler
from leadpact.services.channels import WebhookChannel
from leadpact.services.demo import generate
from leadpact.services.workspace import Workspace, open_workspace
from leadpact.settings import Settings
from leadpact.store.events import add_stage_change
from leadpact.store.leads import LeadRow, add_lead
from leadpact.store.tables import leads

CLOCK = SystemClock()
#: p1-response: 2 business hours; on the 24/7 probe calendar exactly 2 h.
WITHIN = timedelta(hours=2)


def probe_pact() -> str:
    """The example pact with a 24/7 calendar and a probe team on it."""
    yaml = YAML()
    data = yaml.load(example_pact_text())
    week = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    data["calendars"]["always"] = {"timezone": "UTC", "hours": dict.fromkeys(week, "00:00-24:00")}
    data["teams"]["probe"] = {
        "party": "sales",
        "calendar": "always",
        "manager": {"name": "Probe Manager", "email": "probe.manager@example.com"},
        "members": [{"name": "Probe Rep", "email": "probe.rep@example.com"}],
    }
    from io import StringIO

    out = StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def build(directory: Path, n: int) -> None:
    """A year of demo leads ending today, imported and scored."""
    (directory / "pact.yaml").write_text(probe_pact(), encoding="utf-8")
    today = CLOCK.now().date()
    data = generate(seed=3, leads=n, start=today - timedelta(days=365), days=365)
    files = data.write_csv(directory / "data")
    now = CLOCK.now()
    settings = Settings(_env_file=None)
    with open_workspace(directory, settings=settings, clock=FixedClock(now)) as ws:
        for kind in ("leads", "activities", "touches", "deals"):
            importing.import_file(ws, files[kind], score=False)
        with ws.transaction() as conn:
            scoring.rescore(conn, ws.pact, now=now)


def open_leads(ws: Workspace) -> int:
    from sqlalchemy import func, select

    closed = [s.id for s in ws.pact.stages if s.outcome is not Outcome.OPEN]
    with ws.engine.connect() as conn:
        query = select(func.count()).select_from(leads).where(leads.c.stage.not_in(closed))
        return int(conn.execute(query).scalar_one())


def add_probe(ws: Workspace, name: str, due: datetime) -> None:
    entered = due - WITHIN
    with ws.transaction() as conn:
        add_lead(
            conn,
            LeadRow(
                id=name,
                stage="sql",
                stage_at=entered,
                created_at=entered,
                owner="Probe Rep",
                team="probe",
                priority=1,
            ),
        )
        add_stage_change(conn, StageChange(name, None, "sql", entered))


class Receiver:
    """An HTTP receiver on loopback that notes when each alert key arrives."""

    def __init__(self) -> None:
        self.arrived: dict[str, datetime] = {}
        self.count = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with receiver.lock:
                    receiver.arrived.setdefault(body["key"], CLOCK.now())
                    receiver.count += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=165_000, help="demo leads to generate")
    parser.add_argument("--probes", type=int, default=8, help="probe alerts to time")
    parser.add_argument("--refresh", type=float, default=20.0, help="s between full refreshes")
    parser.add_argument("--keep", type=Path, help="build the workspace here and keep it")
    args = parser.parse_args()

    directory = args.keep or Path(tempfile.mkdtemp(prefix="leadpact-bench-alerts-"))
    directory.mkdir(parents=True, exist_ok=True)
    receiver = Receiver()
    try:
        if not (directory / "leadpact.db").exists():
            started = time.perf_counter()
            build(directory, args.leads)
            print(f"built the workspace in {time.perf_counter() - started:.0f} s")
        settings = Settings(_env_file=None)
        with open_workspace(directory, settings=settings) as ws:
            total_open = open_leads(ws)
            start = CLOCK.now()
            # Probes due 25 s to 25 + 7*probes s from now, every 7 s: half stored now, half
            # while the scheduler runs (a few seconds before they fall due).
            dues = {
                f"PROBE-{i:02d}-{start:%H%M%S}": start + timedelta(seconds=25 + 7 * i)
                for i in range(args.probes)
            }
            early = dict(list(dues.items())[: args.probes // 2])
            for name, due in early.items():
                add_probe(ws, name, due)
            cycles: list[tuple[float, Cycle]] = []

            def record(cycle: Cycle) -> None:
                cycles.append(((CLOCK.now() - cycle.now).total_seconds(), cycle))

            planner = Planner(
                ws, [WebhookChannel(receiver.url)], refresh=timedelta(seconds=args.refresh)
            )
            stop = threading.Event()
            thread = threading.Thread(
                target=run_scheduler,
                args=(ws, stop),
                kwargs={"planner": planner, "on_cycle": record},
            )
            thread.start()
            for name, due in dues.items():
                if name not in early:
                    while CLOCK.now() < due - timedelta(seconds=10):
                        time.sleep(0.1)
                    add_probe(ws, name, due)
            last = max(dues.values())
            while CLOCK.now() < last + timedelta(seconds=15):
                time.sleep(0.2)
            stop.set()
            thread.join()
    finally:
        receiver.close()
        if args.keep is None:
            shutil.rmtree(directory, ignore_errors=True)

    first, *steady = [seconds for seconds, _ in cycles]
    steady_sorted = sorted(steady)
    p95 = steady_sorted[int(0.95 * (len(steady_sorted) - 1))]
    print(f"open leads {total_open:,}  (target: 100,000)")
    print(f"first cycle (evaluate every open lead, store and send): {first:.2f} s")
    print(f"  alerts stored {cycles[0][1].planned.stored:,}, sent {cycles[0][1].delivered.sent:,}")
    print(
        f"steady cycles: {len(steady)}  median {statistics.median(steady):.3f} s  "
        f"p95 {p95:.3f} s  max {max(steady):.3f} s  (interval 2 s)"
    )
    print(f"full evaluations (first + background refreshes): {planner.evaluations}")
    delays = []
    for name, due in dues.items():
        key = f"breach:{name}:p1-response:{due.astimezone(UTC).isoformat()}"
        arrived = receiver.arrived.get(key)
        delay = None if arrived is None else (arrived - due).total_seconds()
        delays.append(delay)
        shown = "NOT DELIVERED" if delay is None else f"{delay:.2f} s"
        print(f"  {name}  due {due.astimezone(UTC):%H:%M:%S}  delay {shown}")
    delivered = [d for d in delays if d is not None]
    worst = max(delivered) if len(delivered) == len(delays) else float("inf")
    verdict = "OK" if worst <= 5 else "MISSED"
    print(
        f"alert delay after due time: max {worst:.2f} s over {len(delays)} probes "
        f"(target <= 5 s): {verdict}"
    )
    print(f"webhook posts received: {receiver.count:,}")


if __name__ == "__main__":
    main()
