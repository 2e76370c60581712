"""Compliance: how well each timed commitment is kept, aggregated over SLA clocks.

Per commitment: how many clocks are pending, at risk, met and breached; the attainment rate,
met / (met + breached) — open clocks are not decided yet and do not count; and the median and
90th percentile of the business time clocks took to stop, over the clocks stopped by the event
they wait for (a touch, a decision, a connection, the last attempt). Clocks stopped by a
closing stage (won, lost, recycled, disqualified) and clocks still running are left out of the
times: they measure no response. Percentiles interpolate linearly between the two nearest
values (numpy's default), to the microsecond.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from leadpact.core.sla import SlaResult, SlaStatus, Stop, TimedCommitment

__all__ = ["CommitmentCompliance", "quantile", "summarize"]


@dataclass(frozen=True, slots=True)
class CommitmentCompliance:
    """How one commitment stands over a set of clocks.

    Attributes:
        commitment_id: the commitment.
        kind: "response", "acceptance" or "follow_up".
        pending, at_risk, met, breached: clocks per status.
        attainment_rate: met / (met + breached), in 0..1; None while nothing is decided.
        median_business_time: median business time to the stopping event; None without one.
        p90_business_time: its 90th percentile.
        stopped: how many clocks the two times are over.
    """

    commitment_id: str
    kind: str
    pending: int
    at_risk: int
    met: int
    breached: int
    attainment_rate: float | None
    median_business_time: timedelta | None
    p90_business_time: timedelta | None
    stopped: int

    @property
    def total(self) -> int:
        """Every clock of the commitment."""
        return self.pending + self.at_risk + self.met + self.breached


def quantile(values: Sequence[timedelta], rate: float) -> timedelta | None:
    """The `rate` quantile (0..1) of durations, interpolated linearly; None when empty.

    Example:
        >>> quantile([timedelta(hours=1), timedelta(hours=2)], 0.5)
        datetime.timedelta(seconds=5400)
    """
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * rate
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    gap = ordered[high] - ordered[low]
    return ordered[low] + timedelta(
        microseconds=round(gap / timedelta(microseconds=1) * (position - low))
    )


def summarize(
    results: Iterable[SlaResult], commitments: Sequence[TimedCommitment] = ()
) -> list[CommitmentCompliance]:
    """Compliance per commitment over SLA clocks.

    Args:
        results: the clocks (any leads, any commitments).
        commitments: commitments to report even without clocks, first and in this order
            (e.g. `core.sla.timed_commitments(pact)`); others follow in order of appearance.

    Returns:
        One entry per commitment.

    Example:
        >>> [c.attainment_rate for c in summarize(results)]
        [0.75, 1.0]
    """
    kinds: dict[str, str] = {c.id: c.kind for c in commitments}
    counts: dict[str, dict[SlaStatus, int]] = {
        c.id: dict.fromkeys(SlaStatus, 0) for c in commitments
    }
    times: dict[str, list[timedelta]] = {c.id: [] for c in commitments}
    for result in results:
        key = result.commitment_id
        if key not in counts:
            kinds[key] = result.kind
            counts[key] = dict.fromkeys(SlaStatus, 0)
            times[key] = []
        counts[key][result.status] += 1
        if result.stopped_by not in (None, Stop.CLOSED):
            times[key].append(result.business_time_used)
    out = []
    for key, count in counts.items():
        decided = count[SlaStatus.MET] + count[SlaStatus.BREACHED]
        out.append(
            CommitmentCompliance(
                commitment_id=key,
                kind=kinds[key],
                pending=count[SlaStatus.PENDING],
                at_risk=count[SlaStatus.AT_RISK],
                met=count[SlaStatus.MET],
                breached=count[SlaStatus.BREACHED],
                attainment_rate=count[SlaStatus.MET] / decided if decided else None,
                median_business_time=quantile(times[key], 0.5),
                p90_business_time=quantile(times[key], 0.9),
                stopped=len(times[key]),
            )
        )
    return out
