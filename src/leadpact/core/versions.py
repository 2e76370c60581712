"""Which version of the agreement is in force (PRODUCT.md part 7), and who may approve one.

Rules (docs/governance.md states them for users):

- A version takes effect once the owner of every party *of that version* has approved it. Its
  effective date is the later of the (UTC) date of the last approval and the effective date
  asked for when it was recorded, if any. A version never takes effect before it is approved.
- On a date, the version in force is the highest-numbered version whose effective date is on
  or before that date: a newer version supersedes an older one for good, and an older version
  approved late never displaces a newer one. Until a new version takes effect the previous one
  governs, so reports for a past period use the version in force then.
- Before the first version takes effect there is no earlier agreement; that first version also
  governs earlier dates (imported history is measured against it).

Pure: `now` and every figure are parameters; nothing here reads a clock, a file or a database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

from leadpact.core.pact import Pact
from leadpact.errors import ConflictError, NotFoundError

__all__ = [
    "Approval",
    "VersionRecord",
    "VersionState",
    "check_approval",
    "version_in_force",
    "version_state",
]


@dataclass(frozen=True)
class Approval:
    """One party's approval of a version: who approved it and when (UTC)."""

    party: str
    by: str
    at: datetime


@dataclass(frozen=True)
class VersionRecord:
    """A recorded version as governance sees it: who must approve it, and who has."""

    number: int
    parties: tuple[str, ...]
    approvals: tuple[Approval, ...] = ()
    effective_on: date | None = None

    def pending(self) -> tuple[str, ...]:
        """The parties whose owner has not approved this version yet, in the pact's order."""
        done = {a.party for a in self.approvals}
        return tuple(p for p in self.parties if p not in done)

    def takes_effect_on(self) -> date | None:
        """The date this version takes effect, or None while an approval is missing.

        Example:
            >>> ann = Approval("a", "Ann", datetime(2025, 3, 15, tzinfo=UTC))
            >>> VersionRecord(2, ("a",), (ann,)).takes_effect_on()
            datetime.date(2025, 3, 15)
        """
        if self.pending() or not self.approvals:
            return None
        last = max(a.at for a in self.approvals).astimezone(UTC).date()
        return last if self.effective_on is None else max(last, self.effective_on)


class VersionState(StrEnum):
    """Where a version stands on a date."""

    PENDING = "pending approval"
    SCHEDULED = "approved, not yet in force"
    IN_FORCE = "in force"
    SUPERSEDED = "superseded"


def version_in_force(versions: Sequence[VersionRecord], on: date) -> int | None:
    """The number of the version in force on a date, or None if none has been approved.

    Args:
        versions: every recorded version with its approvals.
        on: the day asked about.

    Returns:
        The highest-numbered version in effect on `on`; before the first version takes
        effect, that first version; None when no version is fully approved.

    Example:
        >>> def ok(day): return (Approval("a", "Ann", datetime(2025, 3, day, tzinfo=UTC)),)
        >>> versions = [VersionRecord(1, ("a",), ok(1)), VersionRecord(2, ("a",), ok(15))]
        >>> [version_in_force(versions, date(2025, 3, day)) for day in (14, 15)]
        [1, 2]
    """
    effective = sorted(
        (day, v.number) for v in versions if (day := v.takes_effect_on()) is not None
    )
    if not effective:
        return None
    in_effect = [number for day, number in effective if day <= on]
    return max(in_effect) if in_effect else effective[0][1]


def version_state(versions: Sequence[VersionRecord], number: int, on: date) -> VersionState:
    """The state of version `number` on a date (pending, scheduled, in force, superseded)."""
    record = next((v for v in versions if v.number == number), None)
    if record is None:
        raise NotFoundError(f"there is no version {number}")
    day = record.takes_effect_on()
    if day is None:
        return VersionState.PENDING
    current = version_in_force(versions, on)
    if current == number:
        return VersionState.IN_FORCE
    if current is not None and current > number:
        return VersionState.SUPERSEDED
    return VersionState.SCHEDULED


def check_approval(pact: Pact, record: VersionRecord, party: str, by: str) -> str:
    """Check that `by` may approve `record` for `party`; return the party's id.

    `party` may be the party's id or its name (case-insensitive); `by` must be that party's
    owner's name in this version (case and spacing ignored).

    Raises:
        NotFoundError: the version has no such party.
        ConflictError: `by` is not the party's owner, or the party has already approved.
    """
    wanted = _folded(party)
    party_id = next(
        (pid for pid, p in pact.parties.items() if wanted in (_folded(pid), _folded(p.name))),
        None,
    )
    if party_id is None:
        known = ", ".join(f"{pid} ({p.name})" for pid, p in pact.parties.items())
        raise NotFoundError(
            f"version {record.number} has no party {party!r}; its parties are: {known}"
        )
    owner = pact.parties[party_id].owner.name
    if _folded(by) != _folded(owner):
        raise ConflictError(
            f"{by!r} is not the owner of {party_id} in version {record.number}; "
            f"only its owner, {owner}, can approve it"
        )
    for approval in record.approvals:
        if approval.party == party_id:
            raise ConflictError(
                f"{party_id} already approved version {record.number} "
                f"({approval.by}, {approval.at:%Y-%m-%d %H:%M} UTC)"
            )
    return party_id


def _folded(text: str) -> str:
    return " ".join(text.split()).casefold()
