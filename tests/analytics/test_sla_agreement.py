"""The report's SLA clocks agree, lead by lead, with the live clocks (`services.sla`).

Both follow docs/sla.md; the live clocks run in Python (`core.sla.evaluate_many`), the report's
in SQL over the calendar lookup table. Same clocks, same status, same business time used.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from tests.analytics.conftest import AS_OF

#: The report's finer statuses, as the live clocks name them (at risk is still pending).
LIVE = {"met": "met", "late": "breached", "overdue": "breached", "pending": "pending"}


#: `when` conditions of the two response commitments: the example pact's, and ones that read
#: the counted facts (activities, attempts, connected) the report computes in SQL.
VARIANTS: dict[str, tuple[str, str] | None] = {
    "example": None,
    "counted facts": (
        "{activities.demo_request: {gte: 1}, connected: false}",
        "{any: [{attempts: {gte: 2}}, {activities.pricing_page_view: {gte: 2}}]}",
    ),
}


@pytest.fixture(scope="module", params=list(VARIANTS))
def both(request, demo_dir, tmp_path_factory):
    directory = demo_dir
    conditions = VARIANTS[request.param]
    if conditions is not None:
        import shutil

        directory = tmp_path_factory.mktemp("variant") / "ws"
        shutil.copytree(demo_dir, directory)
        first, second = conditions
        pact = directory / "pact.yaml"
        text = pact.read_text(encoding="utf-8")
        text = text.replace("when: {priority: 1}", f"when: {first}")
        text = text.replace("when: {priority: {gte: 2}}", f"when: {second}")
        pact.write_text(text, encoding="utf-8")
    return _clocks(directory)


def _clocks(directory):
    from leadpact.analytics import sla_metrics
    from leadpact.analytics.connection import open_analytics
    from leadpact.analytics.frames import Frames, ReportScope
    from leadpact.core.goals import Period
    from leadpact.services import sla
    from leadpact.services.workspace import open_workspace

    with open_workspace(directory) as ws:
        live = {
            (r.lead_id, r.commitment_id): r
            for r in sla.sla_status(ws, AS_OF)
            if r.kind in ("response", "acceptance")
        }
        url = ws.engine.url.render_as_string(hide_password=False)
        with open_analytics("embedded", url) as source:
            frames = Frames.build(
                source, ws.pact, ReportScope(AS_OF, Period.MONTH, date(2025, 11, 1))
            )
            table = sla_metrics.clocks(frames)
            assert table is not None
            rows = source.to_pyarrow(table).to_pylist()
    return live, {(r["lead_id"], r["commitment"]): r for r in rows}


def test_the_same_clocks_exist(both):
    live, report = both
    assert len(live) > 500
    assert set(report) == set(live)


def test_every_clock_has_the_same_status(both):
    live, report = both
    differ = Counter(
        (live[key].status.value, report[key]["status"])
        for key in live
        if LIVE[report[key]["status"]] != live[key].status.value.replace("at_risk", "pending")
    )
    assert differ == Counter()
    assert {r["status"] for r in report.values()} >= {"met", "late", "overdue"}


def test_answered_clocks_use_the_same_business_time(both):
    live, report = both
    answered = [key for key, row in report.items() if row["elapsed_s"] is not None]
    assert len(answered) > 300
    for key in answered:
        used = live[key].business_time_used.total_seconds()
        assert abs(used - report[key]["elapsed_s"]) < 1, key
