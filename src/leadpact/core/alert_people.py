"""Who is who in the pact for alerts: lead owners among the team members, their managers.

The owner of a lead is looked up among the `members` of the pact's teams by name or email,
ignoring case; the owner's team is the team that lists them, else the lead's team. A manager
is the manager of that team, else the first manager of a team of the commitment's provider
party. A reassignment goes to the member of the owner's team (the owner left out) with the
fewest open leads, ties broken by the order of `members`. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from leadpact.core.pact import Pact, Person

__all__ = ["Directory", "Recipient"]


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who an alert is for: a person of the pact (or a lead owner the pact does not list)."""

    name: str
    email: str | None
    role: str  # "owner", "manager", "rep" or "pact owner"


@dataclass(frozen=True)
class Directory:
    """The people of the pact: reps by name and email, their teams, managers, party owners."""

    pact: Pact
    reps: Mapping[str, tuple[Person, str]]  # casefolded name or email -> (person, team)

    @classmethod
    def of(cls, pact: Pact) -> Directory:
        """The directory of a pact (a member of two teams belongs to the first)."""
        reps: dict[str, tuple[Person, str]] = {}
        for name, team in pact.teams.items():
            for person in team.members:
                for handle in (person.name, person.email):
                    if handle:
                        reps.setdefault(handle.casefold(), (person, name))
        return cls(pact, reps)

    def rep(self, owner: str) -> tuple[Person, str] | None:
        """The team member an owner field names (name or email, any case), and the team."""
        return self.reps.get(owner.casefold())

    def owner(self, owner: str) -> Recipient:
        """The recipient for a lead's owner: the member, or the bare name without an email."""
        found = self.rep(owner)
        if found is None:
            return Recipient(owner, None, "owner")
        return Recipient(found[0].name, found[0].email, "owner")

    def team_of(self, owner: str | None, lead_team: str | None) -> str | None:
        """The owner's team: the team listing them, else the lead's team."""
        found = None if owner is None else self.rep(owner)
        return found[1] if found is not None else lead_team

    def manager(self, team: str | None, provider: str) -> Recipient | None:
        """The manager of `team`, else the first manager of a team of the provider party."""
        teams = self.pact.teams
        candidates = [teams[team]] if team in teams else []
        candidates += [t for t in teams.values() if t.party == provider]
        for each in candidates:
            if each.manager is not None:
                return Recipient(each.manager.name, each.manager.email, "manager")
        return None

    def everyone(self) -> list[Person]:
        """Every person the pact names, party owners first (for looking a name up)."""
        people = [p.owner for p in self.pact.parties.values()]
        people += [c for p in self.pact.parties.values() for c in p.contacts]
        people += [t.manager for t in self.pact.teams.values() if t.manager is not None]
        people += [m for t in self.pact.teams.values() for m in t.members]
        return people

    def reassign_to(
        self, owner: str | None, team: str | None, counts: Mapping[str, int]
    ) -> tuple[Person, int] | None:
        """The member of `team` other than the owner with the fewest open leads (pact order).

        Args:
            owner: the lead's owner.
            team: the owner's team.
            counts: open leads per owner, by name or email in any case.
        """
        if team not in self.pact.teams:
            return None
        current = None if owner is None else self.rep(owner)
        members = [m for m in self.pact.teams[team].members if current is None or m != current[0]]
        folded = {name.casefold(): count for name, count in counts.items()}

        def load(member: Person) -> int:
            handles = [member.name] + ([member.email] if member.email else [])
            return sum(folded.get(h.casefold(), 0) for h in handles)

        ranked = [(load(m), i, m) for i, m in enumerate(members)]
        if not ranked:
            return None
        count, _, person = min(ranked, key=lambda r: (r[0], r[1]))
        return person, count

    @staticmethod
    def owns(owner: str | None, rep: Person) -> bool:
        """Whether `owner` (a lead's owner field) names `rep`, by name or email."""
        if owner is None:
            return False
        handle = owner.casefold()
        return handle == rep.name.casefold() or (
            rep.email is not None and handle == rep.email.casefold()
        )
