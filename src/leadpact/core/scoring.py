"""Lead scoring by the pact: fit to the ICP, persona, decayed engagement and matrix priority.

One lead at a time (`score`, with every point explained) or millions at once (`score_many`,
numpy columns; `score_many_at` scores each lead as of its own instant); the two paths compute
the same numbers in the same order, and a property test holds them to it. The rules
(PRODUCT.md parts 2 and 3):

- **Fit** (0-100): each ICP criterion weighs ``6 - importance`` (importance 1 weighs 5);
  ``fit = 100 * weight of the criteria met / total weight``. Grades A-C from
  ``scoring.grades`` (at or above the threshold), D below C.
- **Persona**: the best-ranked persona with a title keyword inside the lead's title
  (case-insensitive); none when no keyword occurs or the title is missing.
- **Engagement** (0-cap): each activity at or before `now` and no older than ``window`` earns
  its type's points times ``0.5 ** (age / half_life)``; each type's sum is cut at its
  ``caps`` entry, and the total at ``cap`` (and never below 0, should a type carry negative
  points). Activity types without points count (for conditions) but earn nothing.
- **Priority** (1-4): ``pact.matrix.priority(fit, engagement)``.

Facts a criterion may test: the lead's own fields, its persona and its activity counts
(``activities.<type>``, counted over the same activities as engagement). Fit, grade,
engagement and priority are not known yet while fit is computed: they read as missing there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from leadpact.core.conditions import ACTIVITY_TYPES, FieldTest, Op, evaluate_many, walk
from leadpact.core.models import (
    FACT_FIELDS,
    Activity,
    Contribution,
    ContributionKind,
    LeadFacts,
    Score,
)
from leadpact.core.pact import EngagementRules, Pact
from leadpact.errors import LeadPactError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_TYPE_CODE = {kind: code for code, kind in enumerate(ACTIVITY_TYPES)}

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ObjectArray = npt.NDArray[np.object_]


def _require_aware_now(now: datetime) -> None:
    if now.utcoffset() is None:
        raise LeadPactError(f"scoring needs a timezone-aware 'now', found naive {now}")


def _persona_tests(pact: Pact) -> list[tuple[str, FieldTest]]:
    """Each persona as a `title contains any keyword` test, best rank first."""
    ranked = sorted(pact.icp.personas, key=lambda p: p.rank)
    return [(p.id, FieldTest("title", Op.CONTAINS, tuple(p.titles))) for p in ranked]


def _type_order(rules: EngagementRules) -> list[str]:
    """Activity types in the order their points are added: the pact's, then the others."""
    return [*rules.points, *(t for t in ACTIVITY_TYPES if t not in rules.points)]


def grade(fit: float, pact: Pact) -> str:
    """The grade (A-D) of a fit score by the pact's thresholds."""
    grades = pact.scoring.grades
    if fit >= grades.a:
        return "A"
    if fit >= grades.b:
        return "B"
    if fit >= grades.c:
        return "C"
    return "D"


# --- One lead ----------------------------------------------------------------------------


def score(lead: LeadFacts, activities: Sequence[Activity], pact: Pact, *, now: datetime) -> Score:
    """Score one lead by the pact, explaining every point.

    Args:
        lead: the lead's facts.
        activities: the lead's activities, in any order (the order sums are taken in).
        pact: the agreement whose `icp`, `scoring` and `matrix` decide.
        now: the instant scores are computed for (timezone-aware).

    Returns:
        The `Score`; its `contributions` list every ICP criterion (met or not, weight,
        points) and every activity type with points or counted activities (count, raw and
        decayed points, the cap when it cut the sum, points added).

    Raises:
        LeadPactError: `now` is naive.
    """
    _require_aware_now(now)
    rules = pact.scoring.engagement
    facts = lead.facts()
    persona = next((pid for pid, test in _persona_tests(pact) if test.matches(facts)), None)

    # Engagement, per type, in input order (the batch path sums in the same order).
    counts = dict.fromkeys(ACTIVITY_TYPES, 0)
    ages: dict[str, list[float]] = {t: [] for t in ACTIVITY_TYPES}
    for activity in activities:
        age = now - activity.at
        if activity.type not in counts or age < timedelta(0):
            continue
        if rules.window is not None and age > rules.window:
            continue
        counts[activity.type] += 1
        ages[activity.type].append(age.total_seconds())
    lines: list[Contribution] = []
    total = 0.0
    for kind in _type_order(rules):
        points = rules.points.get(kind, 0.0)
        if kind not in rules.points and counts[kind] == 0:
            continue
        decayed = 0.0
        for value in _decayed_points(points, np.asarray(ages[kind], dtype=np.float64), rules):
            decayed += float(value)
        cap = rules.caps.get(kind)
        added = decayed if cap is None else min(decayed, cap)
        total += added
        lines.append(
            Contribution(
                kind=ContributionKind.ACTIVITY,
                key=kind,
                label=kind.replace("_", " "),
                points=added,
                count=counts[kind],
                raw=points * counts[kind],
                decayed=decayed,
                cap=cap if cap is not None and decayed > cap else None,
            )
        )
    engagement = min(max(total, 0.0), rules.cap)

    # Fit, from the criteria met.
    facts |= {"persona": persona} | {f"activities.{t}": c for t, c in counts.items()}
    total_weight = sum(6 - c.importance for c in pact.icp.criteria)
    met_weight = 0
    criteria: list[Contribution] = []
    for criterion in pact.icp.criteria:
        weight = 6 - criterion.importance
        met = criterion.when.matches(facts)
        met_weight += weight if met else 0
        criteria.append(
            Contribution(
                kind=ContributionKind.CRITERION,
                key=criterion.id,
                label=criterion.name,
                points=100.0 * weight / total_weight if met else 0.0,
                met=met,
                weight=weight,
            )
        )
    fit = 100.0 * met_weight / total_weight
    return Score(
        fit=fit,
        fit_grade=grade(fit, pact),
        persona=persona,
        engagement=engagement,
        priority=pact.matrix.priority(fit, engagement),
        contributions=(*criteria, *lines),
        engagement_uncapped=total,
    )


def _decayed_points(points: float, age_seconds: FloatArray, rules: EngagementRules) -> FloatArray:
    """Points of activities of these ages after decay (numpy, so both paths round alike)."""
    if rules.half_life is None:
        return np.full(len(age_seconds), points, dtype=np.float64)
    factor = np.power(0.5, age_seconds / rules.half_life.total_seconds())
    return np.asarray(points * factor, dtype=np.float64)


def scored_facts(lead: LeadFacts, result: Score, **extra: Any) -> dict[str, Any]:
    """Everything a stage condition may test about a scored lead.

    Args:
        lead: the lead's facts.
        result: its score.
        **extra: further facts (``attempts``, ``connected``) from the lead's touches.

    Returns:
        The lead's fields, persona, fit, grade, engagement, priority and activity counts, under
        the names of `core.conditions.LEAD_FIELDS`.
    """
    counts = result.activity_counts
    return (
        lead.facts()
        | {
            "persona": result.persona,
            "fit": result.fit,
            "fit_grade": result.fit_grade,
            "engagement": result.engagement,
            "priority": result.priority,
        }
        | {f"activities.{t}": counts.get(t, 0) for t in ACTIVITY_TYPES}
        | extra
    )


# --- Many leads ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreColumns:
    """Scores of many leads, one array per measure, aligned with the lead columns."""

    fit: FloatArray
    fit_grade: ObjectArray
    persona: ObjectArray
    engagement: FloatArray
    priority: IntArray
    counts: dict[str, IntArray]

    def facts(self) -> dict[str, npt.NDArray[Any]]:
        """The scores and activity counts as condition columns (`core.conditions`)."""
        return {
            "persona": self.persona,
            "fit": self.fit,
            "fit_grade": self.fit_grade,
            "engagement": self.engagement,
            "priority": self.priority,
        } | {f"activities.{t}": c for t, c in self.counts.items()}


def type_codes(types: npt.NDArray[Any]) -> npt.NDArray[np.int16]:
    """Activity type names as the codes `score_many` reads (their position in ACTIVITY_TYPES).

    Unknown types get -1 and are ignored by scoring.
    """
    return np.fromiter(
        (_TYPE_CODE.get(t, -1) for t in types.tolist()), dtype=np.int16, count=len(types)
    )


def score_many(
    leads: Mapping[str, npt.NDArray[Any]],
    activities: Mapping[str, npt.NDArray[Any]],
    pact: Pact,
    *,
    now: datetime,
) -> ScoreColumns:
    """Score many leads at once, with the meaning (and the arithmetic) of `score`.

    Args:
        leads: lead columns of equal length, keyed by condition field name (``employees``,
            ``industry``, ``title``...); ``id`` is required and gives the number of leads.
        activities: ``lead`` (position of the lead in `leads`), ``type`` (codes from
            `type_codes`) and ``at`` (``datetime64``, UTC), one element per activity.
        pact: the agreement whose `icp`, `scoring` and `matrix` decide.
        now: the instant scores are computed for (timezone-aware).

    Returns:
        One array per measure (`ScoreColumns`), element i for lead i.

    Raises:
        LeadPactError: `now` is naive.
        ValueError: an activity points at no lead.
    """
    _require_aware_now(now)
    return _score_columns(leads, activities, pact, (now - _EPOCH) // _MICROSECOND)


def score_many_at(
    leads: Mapping[str, npt.NDArray[Any]],
    activities: Mapping[str, npt.NDArray[Any]],
    pact: Pact,
    *,
    at: npt.NDArray[np.datetime64],
) -> ScoreColumns:
    """`score_many` with each lead scored as of its own instant (same arithmetic).

    Lead i is scored as `score_many` would score it with ``now = at[i]``: activities after
    ``at[i]`` or older than the window at ``at[i]`` do not count, and decay runs to ``at[i]``.
    `core.qualification` uses it to score a lead at many instants of its history at once (one
    row per lead and instant).

    Args:
        leads: lead columns, as for `score_many`.
        activities: activity columns, as for `score_many`.
        pact: the agreement whose `icp`, `scoring` and `matrix` decide.
        at: one instant per lead (``datetime64``, UTC; no NaT).

    Returns:
        One array per measure (`ScoreColumns`), element i for lead i as of ``at[i]``.

    Raises:
        ValueError: `at` does not hold one instant per lead, or an activity points at no lead.
    """
    return _score_columns(leads, activities, pact, _instants(at, len(leads["id"])))


def engagement_many_at(
    activities: Mapping[str, npt.NDArray[Any]],
    n: int,
    pact: Pact,
    *,
    at: npt.NDArray[np.datetime64],
) -> tuple[FloatArray, dict[str, IntArray]]:
    """The engagement and activity counts `score_many_at` gives `n` leads (same arithmetic).

    Fit, grade and persona do not change with time unless an ICP criterion tests activity
    counts (`fit_reads_activities`): scoring a lead at many instants then needs only this.

    Args:
        activities: activity columns, as for `score_many`.
        n: the number of leads.
        pact: the agreement whose `scoring.engagement` decides.
        at: one instant per lead (``datetime64``, UTC; no NaT).

    Returns:
        Engagement per lead, and activity counts per type (``ScoreColumns.counts``).

    Raises:
        ValueError: `at` does not hold one instant per lead, or an activity points at no lead.
    """
    return _engagement(activities, n, pact, _instants(at, n))


def fit_reads_activities(pact: Pact) -> bool:
    """Whether an ICP criterion tests activity counts (so fit changes as activities happen)."""
    return any(
        test.field.startswith("activities.")
        for criterion in pact.icp.criteria
        for test in walk(criterion.when)
    )


def _instants(at: npt.NDArray[np.datetime64], n: int) -> IntArray:
    instants = np.asarray(at).astype("datetime64[us]")
    if len(instants) != n or np.isnat(instants).any():
        raise ValueError(f"scoring at instants needs one instant per lead ({n})")
    return instants.astype(np.int64)


def _score_columns(
    leads: Mapping[str, npt.NDArray[Any]],
    activities: Mapping[str, npt.NDArray[Any]],
    pact: Pact,
    now_us: int | IntArray,
) -> ScoreColumns:
    """`score_many` at `now_us` microseconds since the epoch: one instant, or one per lead."""
    n = len(leads["id"])
    engagement, counts = _engagement(activities, n, pact, now_us)

    # A criterion sees what the scalar path sees: the lead's own facts, persona, counts.
    columns = {name: leads[name] for name in FACT_FIELDS if name in leads}
    persona = np.full(n, None, dtype=object)
    for persona_id, test in reversed(_persona_tests(pact)):  # best rank written last
        persona[evaluate_many(test, columns, n)] = persona_id
    columns |= {"persona": persona} | {f"activities.{t}": c for t, c in counts.items()}

    total_weight = sum(6 - c.importance for c in pact.icp.criteria)
    met_weight = np.zeros(n, dtype=np.int64)
    for criterion in pact.icp.criteria:
        met = evaluate_many(criterion.when, columns, n)
        met_weight += np.where(met, 6 - criterion.importance, 0)
    fit = 100.0 * met_weight / total_weight

    grades = pact.scoring.grades
    fit_grade = np.select(
        [fit >= grades.a, fit >= grades.b, fit >= grades.c], ["A", "B", "C"], "D"
    ).astype(object)
    return ScoreColumns(
        fit=fit,
        fit_grade=fit_grade,
        persona=persona,
        engagement=engagement,
        priority=priorities(fit, engagement, pact),
        counts=counts,
    )


def _engagement(
    activities: Mapping[str, npt.NDArray[Any]],
    n: int,
    pact: Pact,
    now_us: int | IntArray,
) -> tuple[FloatArray, dict[str, IntArray]]:
    """Engagement and counts of `n` leads at `now_us`: one instant, or one per lead."""
    rules = pact.scoring.engagement
    kinds = len(ACTIVITY_TYPES)

    # Which activities count: known type, not in the future, inside the window.
    lead = np.asarray(activities["lead"], dtype=np.int64)
    code = np.asarray(activities["type"], dtype=np.int64)
    at = np.asarray(activities["at"]).astype("datetime64[us]")
    if len(lead) and (lead.min() < 0 or lead.max() >= n):
        raise ValueError(f"activity lead positions must lie in 0..{n - 1}")
    scored_at = now_us[lead] if isinstance(now_us, np.ndarray) else now_us
    age_us = scored_at - at.astype(np.int64)
    keep = ~np.isnat(at) & (code >= 0) & (code < kinds) & (age_us >= 0)
    if rules.window is not None:
        keep &= age_us <= rules.window // _MICROSECOND
    lead, code, age_seconds = lead[keep], code[keep], age_us[keep] / 1e6
    cell = lead * kinds + code
    count_matrix = np.bincount(cell, minlength=n * kinds).reshape(n, kinds)

    points = np.array([rules.points.get(t, 0.0) for t in ACTIVITY_TYPES], dtype=np.float64)
    decayed = np.zeros(len(cell), dtype=np.float64)
    for kind in rules.points:
        rows = code == _TYPE_CODE[kind]
        decayed[rows] = _decayed_points(points[_TYPE_CODE[kind]], age_seconds[rows], rules)
    # bincount adds each cell's weights in input order: the scalar path's order.
    sums = np.bincount(cell, weights=decayed, minlength=n * kinds).reshape(n, kinds)
    total = np.zeros(n, dtype=np.float64)
    for kind in rules.points:
        per_type = sums[:, _TYPE_CODE[kind]]
        cap = rules.caps.get(kind)
        total += per_type if cap is None else np.minimum(per_type, cap)
    engagement = np.minimum(np.maximum(total, 0.0), rules.cap)
    counts = {t: count_matrix[:, i].astype(np.int64) for i, t in enumerate(ACTIVITY_TYPES)}
    return engagement, counts


def priorities(fit: FloatArray, engagement: FloatArray, pact: Pact) -> IntArray:
    """`Matrix.priority` over arrays."""
    matrix = pact.matrix
    good = fit >= matrix.fit_threshold
    high = engagement >= matrix.engagement_threshold
    mixed_good = matrix.priority(matrix.fit_threshold, -np.inf)  # good fit, low engagement
    mixed_high = 5 - mixed_good  # the other mixed quadrant: 2 <-> 3
    return np.select([good & high, ~good & ~high, good], [1, 4, mixed_good], mixed_high).astype(
        np.int64
    )
