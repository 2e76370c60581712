"""The weekly-status service: the week it picks, the report of that week, and the governance
status it gathers from the workspace (versions waiting for approval, reviews, reports)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from leadpact.services.weekly import default_week, weekly_data

AS_OF = datetime(2025, 11, 20, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "monday"),
    [
        (datetime(2025, 11, 20, 15, 30, tzinfo=UTC), date(2025, 11, 10)),  # a Thursday
        (datetime(2025, 11, 17, 0, 0, tzinfo=UTC), date(2025, 11, 10)),  # Monday, 00:00
        (datetime(2025, 11, 16, 23, 59, tzinfo=UTC), date(2025, 11, 3)),  # Sunday night
    ],
)
def test_the_default_week_is_the_last_complete_one(moment, monday):
    assert default_week(moment) == monday


def test_weekly_data_gathers_the_week_and_the_governance(workspace_dir):
    from leadpact.services.pact_versions import commit_pact
    from leadpact.services.workspace import open_workspace

    with open_workspace(workspace_dir) as ws:
        commit_pact(ws, "First signed version")
        data = weekly_data(ws, as_of=AS_OF, start=date(2025, 11, 17))
    report, governance = data["report"], data["governance"]
    assert report["meta"]["period"] == "week"
    assert (report["meta"]["period_start"], report["meta"]["period_end"]) == (
        "2025-11-17",
        "2025-11-23",
    )
    assert report["meta"]["as_of"] == "2025-11-20T15:30:00+00:00"
    assert governance["on"] == "2025-11-20"
    (pending,) = governance["versions_pending"]
    assert (pending["number"], pending["message"]) == (1, "First signed version")
    assert pending["pending"] == list(ws.pact.parties)
    assert pending["state"] == "pending approval"
    assert governance["parties"] == {
        pid: {"name": p.name, "owner": p.owner.name} for pid, p in ws.pact.parties.items()
    }
    assert governance["weekly_meeting"] == ws.pact.governance.weekly_status
    assert governance["next_review"] == "2025-07-01"  # half-yearly after 2025-01-01
    assert governance["review_overdue"] is True
    json.dumps(data)  # plain data, for any edge


def test_the_weekly_status_names_the_owners_who_must_approve(workspace_dir):
    from leadpact.reports.weekly import build_weekly
    from leadpact.services.pact_versions import commit_pact
    from leadpact.services.workspace import open_workspace

    with open_workspace(workspace_dir) as ws:
        commit_pact(ws, "First signed version")
        data = weekly_data(ws, as_of=AS_OF)
    status = build_weekly(data["report"], data["governance"])
    approvals = [i for i in status["due"] if i["kind"] == "approval"]
    assert len(approvals) == 1
    assert approvals[0]["text"].startswith(
        "Version 1 (“First signed version”) waits for approval by"
    )
    for party in ws.pact.parties.values():
        assert f"{party.name} ({party.owner.name})" in approvals[0]["text"]
    review = next(i for i in status["due"] if i["kind"] == "review")
    assert review["state"] == "overdue"
    assert review["text"].startswith(
        "The half-yearly review of the agreement was due on 1 Jul 2025"
    )


def test_a_week_in_the_future_is_refused(demo_dir):
    from leadpact.errors import LeadPactError
    from leadpact.services.workspace import open_workspace

    with open_workspace(demo_dir) as ws, pytest.raises(LeadPactError, match="after as_of"):
        weekly_data(ws, as_of=AS_OF, start=date(2025, 12, 1))
