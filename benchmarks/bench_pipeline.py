"""Benchmark: the lead engine end to end: import, score and clock a big synthetic company.

Generates the demo company (`services.demo.generate`) at scale (default 100,000 leads with 20
activities each; `--leads 1000000` for the full size of the issue: 1,000,000 leads and about
20,000,000 activities), writes the canonical CSV files, and times each stage of the pipeline
into a fresh SQLite workspace:

    parse (pyarrow, baseline)  import leads  import activities  import touches+deals
    score (fit, engagement, priority, pact stages)  clocks (every SLA clock, batch)

Prints seconds and rows per second per stage, and the import / pyarrow-parse ratio
(ARCHITECTURE.md target: import within 3x the parse time).

    .venv/bin/python benchmarks/bench_pipeline.py [--leads 100000] [--activities-per-lead 20]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow.csv as pacsv

from leadpact.cli.pact import example_pact_text
from leadpact.clock import FixedClock
from leadpact.services import importing, scoring, sla
from leadpact.services.demo import generate
from leadpact.services.workspace import open_workspace
from leadpact.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--activities-per-lead", type=float, default=20.0)
    parser.add_argument("--keep", type=Path, help="build the workspace here and keep it")
    args = parser.parse_args()

    directory = args.keep or Path(tempfile.mkdtemp(prefix="leadpact-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[str, float, int]] = []
    try:
        started = time.perf_counter()
        data = generate(
            seed=1,
            leads=args.leads,
            start=date(2025, 1, 6),
            activities_per_lead=args.activities_per_lead,
        )
        files = data.write_csv(directory / "data")
        rows.append(("generate + write CSV", time.perf_counter() - started, 0))
        sizes = {kind: path.stat().st_size for kind, path in files.items()}

        parse = 0.0
        for path in files.values():
            started = time.perf_counter()
            pacsv.read_csv(path)
            parse += time.perf_counter() - started
        total_rows = sum(getattr(data, kind).num_rows for kind in files)
        rows.append(("pyarrow parse (baseline)", parse, total_rows))

        (directory / "pact.yaml").write_text(example_pact_text(), encoding="utf-8")
        now = datetime(2026, 1, 6, tzinfo=UTC)
        settings = Settings(database_url=None)
        with open_workspace(directory, settings=settings, clock=FixedClock(now)) as workspace:
            imported = 0.0
            for kind in ("leads", "activities", "touches", "deals"):
                started = time.perf_counter()
                report = importing.import_file(workspace, files[kind], score=False)
                took = time.perf_counter() - started
                imported += took
                rows.append((f"import {kind}", took, report.landed))
            started = time.perf_counter()
            with workspace.transaction() as conn:
                summary = scoring.rescore(conn, workspace.pact, now=now)
            rows.append(("score + pact stages", time.perf_counter() - started, args.leads))
            started = time.perf_counter()
            clocks = sla.sla_status(workspace, now)
            rows.append(("SLA clocks (all, batch)", time.perf_counter() - started, len(clocks)))
    finally:
        if args.keep is None:
            shutil.rmtree(directory, ignore_errors=True)

    print(
        f"leads {args.leads:,}  activities {data.activities.num_rows:,}  "
        f"touches {data.touches.num_rows:,}  deals {data.deals.num_rows:,}  "
        f"CSV {sum(sizes.values()) / 1e9:.2f} GB"
    )
    print(f"{'stage':<28}{'seconds':>10}{'rows':>14}{'rows/s':>14}")
    for name, seconds, count in rows:
        rate = f"{count / seconds:,.0f}" if count and seconds else ""
        print(f"{name:<28}{seconds:>10.2f}{count:>14,}{rate:>14}")
    print(f"import / pyarrow parse: {imported / parse:.1f}x (target <= 3x)")
    print(f"scoring moved {summary!r}")


if __name__ == "__main__":
    main()
