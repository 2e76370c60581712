"""Benchmark: sustained ingest through `POST /api/events` on the embedded store, and a crash.

A real `leadpact serve` (uvicorn, SQLite in WAL mode) on a free loopback port, over a demo
workspace of N leads (default 100,000, scored). Measured:

1. Sustained ingest: a client sends B batches of S activity events (default 60 x 1,000) for
   existing leads, one request after another on a keep-alive connection: events per second
   over the whole run, and request latency p50/p95/p99.
2. Crash and retry: the client sends K more batches, each event with its own `key`; while a
   batch is in flight the server is killed with SIGKILL, restarted, and the client retries
   the batch until it is answered. Afterwards every event must be stored exactly once.

Target (ARCHITECTURE.md): >= 5,000 events/s through the batch API on the embedded store.

    .venv/bin/python benchmarks/bench_ingest.py [--leads 100000] [--batches 60] [--size 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
AS_OF = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def build(directory: Path, leads: int) -> tuple[str, list[str]]:
    """A demo workspace of `leads` leads, imported and scored; an ingest token; the lead ids."""
    from leadpact.clock import FixedClock
    from leadpact.services import demo, importing
    from leadpact.services.events import rescore_workspace
    from leadpact.services.users import create_token
    from leadpact.services.workspace import open_workspace

    directory.mkdir(parents=True)
    pact = (ROOT / "src" / "leadpact" / "data" / "pact.yaml").read_text(encoding="utf-8")
    (directory / "pact.yaml").write_text(pact, encoding="utf-8")
    data = demo.generate(seed=1, leads=leads, start=date(2025, 1, 6), days=364)
    files = data.write_csv(directory / "data")
    with open_workspace(directory, clock=FixedClock(AS_OF)) as ws:
        for kind in ("leads", "activities", "touches", "deals"):
            importing.import_file(ws, files[kind], score=False)
        rescore_workspace(ws)
        token = create_token(ws, "bench", "marketing")[1]
    return token, [str(x) for x in data.leads.column("id").to_pylist()]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`leadpact serve` in a child process, started, killed and restarted on one port."""

    def __init__(self, directory: Path, port: int, log: Path) -> None:
        self.directory, self.port, self.log = directory, port, log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> float:
        """Start the server; return the seconds until it answered."""
        began = time.perf_counter()
        env = {**os.environ, "LEADPACT_LOG_LEVEL": "warning", "LEADPACT_SESSION_SECRET": "bench"}
        command = [sys.executable, "-m", "leadpact", "serve", "-w", str(self.directory)]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--no-scheduler"]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        for _ in range(1200):
            if self.process.poll() is not None:
                raise SystemExit(f"the server stopped:\n{self.log.read_text(errors='replace')}")
            try:
                if httpx2.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return time.perf_counter() - began
            except httpx2.HTTPError:
                time.sleep(0.05)
        raise SystemExit("the server did not answer within 60 s")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)


TYPES = ["page_view", "email_open", "email_click", "pricing_page_view", "content_download"]


def batch(ids: list[str], rng: np.random.Generator, size: int, tag: str, keyed: bool) -> list[Any]:
    """`size` activity events for random leads, each unique (its url carries `tag` and i)."""
    leads = rng.integers(0, len(ids), size)
    kinds = rng.integers(0, len(TYPES), size)
    seconds = rng.integers(0, 86_400 * 30, size)
    events = []
    for i in range(size):
        at = AS_OF - timedelta(seconds=int(seconds[i]))
        event = {
            "kind": "activity",
            "lead_id": ids[leads[i]],
            "type": TYPES[kinds[i]],
            "at": at.isoformat(),
            "url": f"/bench/{tag}/{i}",
        }
        if keyed:
            event["key"] = f"{tag}-{i}"
        events.append(event)
    return events


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q)) if values else float("nan")


def sustained(
    server: Server, token: str, ids: list[str], batches: int, size: int
) -> dict[str, Any]:
    rng = np.random.default_rng(7)
    payloads = [batch(ids, rng, size, f"s{b}", keyed=False) for b in range(batches)]
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {token}"}
    landed = 0
    busy = 0
    with httpx2.Client(base_url=server.url, headers=headers, timeout=120) as client:
        client.post("/api/events", json=payloads[0][:10])  # warm up: imports, first queries
        began = time.perf_counter()
        for payload in payloads:
            sent = time.perf_counter()
            response = client.post("/api/events", json=payload)
            while response.status_code == 503:  # the writer was busy (a background rescore)
                busy += 1
                time.sleep(float(response.headers.get("retry-after", "1")))
                response = client.post("/api/events", json=payload)
            latencies.append(time.perf_counter() - sent)
            if response.status_code != 200:
                raise SystemExit(f"ingest failed: {response.status_code} {response.text[:500]}")
            landed += int(response.json()["inserted"])
        seconds = time.perf_counter() - began
    events = batches * size
    return {
        "events": events,
        "inserted": landed,
        "seconds": round(seconds, 2),
        "events_per_second": round(events / seconds),
        "latency_ms": {
            "p50": round(percentile(latencies, 50) * 1000, 1),
            "p95": round(percentile(latencies, 95) * 1000, 1),
            "p99": round(percentile(latencies, 99) * 1000, 1),
            "max": round(max(latencies) * 1000, 1),
        },
        "batch_size": size,
        "busy_retries": busy,
    }


def crash(
    server: Server, token: str, ids: list[str], batches: int, size: int, kill_at: int
) -> dict[str, Any]:
    """Send keyed batches; SIGKILL the server while batch `kill_at` is in flight; retry."""
    rng = np.random.default_rng(11)
    payloads = [batch(ids, rng, size, f"c{b}", keyed=True) for b in range(batches)]
    headers = {"Authorization": f"Bearer {token}"}
    retries = 0
    restart_seconds = 0.0
    killed = False
    for number, payload in enumerate(payloads):
        if number == kill_at:
            # Kill while the request is being handled: a little after it was sent.
            timer = threading.Timer(0.02, server.kill)
            timer.start()
            killed = True
        while True:
            try:
                response = httpx2.post(
                    f"{server.url}/api/events", json=payload, headers=headers, timeout=120
                )
                if response.status_code == 200:
                    break
                if response.status_code == 503:
                    retries += 1
                    time.sleep(1)
                    continue
                raise SystemExit(f"ingest failed: {response.status_code} {response.text[:500]}")
            except httpx2.HTTPError:
                retries += 1
                if server.process is not None and server.process.poll() is not None:
                    restart_seconds = server.start()
                else:
                    time.sleep(0.05)
    db = sqlite3.connect(server.directory / "leadpact.db")
    try:
        stored = db.execute("SELECT count(*) FROM activities WHERE url LIKE '/bench/c%'").fetchone()
        distinct = db.execute(
            "SELECT count(DISTINCT url) FROM activities WHERE url LIKE '/bench/c%'"
        ).fetchone()
    finally:
        db.close()
    sent = batches * size
    return {
        "events_sent": sent,
        "stored": int(stored[0]),
        "distinct": int(distinct[0]),
        "exactly_once": int(stored[0]) == sent == int(distinct[0]),
        "killed_during_batch": kill_at if killed else None,
        "client_retries": retries,
        "restart_seconds": round(restart_seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--batches", type=int, default=60)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--crash-batches", type=int, default=10)
    parser.add_argument("--workspace", type=Path, help="reuse (or keep) the workspace here")
    args = parser.parse_args()

    folder = args.workspace or Path(tempfile.mkdtemp(prefix="leadpact-bench-")) / "ws"
    began = time.perf_counter()
    token_file = folder / ".bench-token"
    if (folder / "leadpact.db").exists() and token_file.exists():
        token = token_file.read_text().strip()
        import pyarrow.csv as pcsv

        ids = pcsv.read_csv(folder / "data" / "leads.csv").column("id").to_pylist()
    else:
        token, ids = build(folder, args.leads)
        token_file.write_text(token)
    built = time.perf_counter() - began
    server = Server(folder, free_port(), folder / "server.log")
    try:
        start_seconds = server.start()
        rate = sustained(server, token, ids, args.batches, args.size)
        crashed = crash(server, token, ids, args.crash_batches, args.size, args.crash_batches // 2)
    finally:
        server.stop()
    result = {
        "leads": len(ids),
        "workspace": str(folder),
        "build_seconds": round(built, 1),
        "server_start_seconds": round(start_seconds, 2),
        "sustained": rate,
        "crash": crashed,
        "target_events_per_second": 5000,
        "target_met": rate["events_per_second"] >= 5000,
    }
    print(json.dumps(result, indent=2))
    if not crashed["exactly_once"]:
        raise SystemExit("events were lost or stored twice")


if __name__ == "__main__":
    main()
