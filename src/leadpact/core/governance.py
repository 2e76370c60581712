"""Governance of the agreement (PRODUCT.md part 7): which version is in force, and is it kept.

The rules live in one module each, re-exported here: `core.versions` (which version is in force,
who approves), `core.governance_dates` (validity, reviews, reporting periods, report
commitments), `core.consequences` (consequence and cancellation conditions) and
`core.pact_diff` (what changed between two versions). docs/governance.md states them for users.

Pure: `now` and every figure are parameters; nothing here reads a clock, a file or a database.
"""

from __future__ import annotations

from leadpact.core.consequences import (
    ConditionCheck,
    PeriodFigure,
    Target,
    check_conditions,
    goal_target,
)
from leadpact.core.governance_dates import (
    ReportCheck,
    ReportState,
    check_report,
    complete_periods,
    next_review,
    period_bounds,
    period_of,
    report_due_at,
    validity,
)
from leadpact.core.pact_diff import Change, diff_pacts
from leadpact.core.versions import (
    Approval,
    VersionRecord,
    VersionState,
    check_approval,
    version_in_force,
    version_state,
)

__all__ = [
    "Approval",
    "Change",
    "ConditionCheck",
    "PeriodFigure",
    "ReportCheck",
    "ReportState",
    "Target",
    "VersionRecord",
    "VersionState",
    "check_approval",
    "check_conditions",
    "check_report",
    "complete_periods",
    "diff_pacts",
    "goal_target",
    "next_review",
    "period_bounds",
    "period_of",
    "report_due_at",
    "validity",
    "version_in_force",
    "version_state",
]
