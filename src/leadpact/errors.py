"""The exception tree: every error a user can cause is a `LeadPactError`.

    LeadPactError                 base; `str(err)` is the message shown to the user
    ├── PactError                 a pact file is invalid: carries every `PactProblem`
    │   └── MappingError          an import mapping file is invalid (problems like a pact's)
    ├── ImportFileError           a whole file cannot be imported (its `path` and why)
    ├── CalendarError             a calendar spec or a calendar query is invalid
    ├── GoalError                 goal-calculator inputs are invalid (rates, sizes)
    ├── NotFoundError             a named thing (calendar, lead, version) does not exist
    ├── ConflictError             a write collides with what is stored
    ├── NotAuthenticatedError     a web request carries no valid session or token (401)
    ├── ForbiddenError            the user or token may not do this (403)
    │   └── CsrfError             a form was posted without the session's CSRF token
    ├── WebhookSignatureError     a webhook delivery is unsigned, wrongly signed or stale (401)
    └── InvalidTransitionError    a stage change the pact does not allow

This module imports nothing from the project: every layer may raise these.
"""

from __future__ import annotations

from dataclasses import dataclass


class LeadPactError(Exception):
    """Base of every error caused by input; the CLI prints it in one line, exit code 1."""


@dataclass(frozen=True)
class PactProblem:
    """One problem in a pact file: where it is and what was expected."""

    path: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


class PactError(LeadPactError):
    """A pact file could not be loaded; `problems` lists every problem found."""

    def __init__(self, problems: list[PactProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class MappingError(PactError):
    """An import mapping file (or a preset over a file) is invalid; `problems` lists each one.

    Each problem names the mapping file, the line and the field (`columns.email`), like the
    problems of a pact file.
    """


class ImportFileError(LeadPactError):
    """A whole file cannot be imported: missing, unreadable, of an unknown kind or format, or
    without a column its kind needs. Bad rows are never this error: they are set aside."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(message)


class CalendarError(LeadPactError):
    """A business calendar spec or query is invalid (naive datetime, bad hours)."""


class GoalError(LeadPactError):
    """Goal-calculator inputs are out of range (a rate outside 0..1, a zero deal size)."""


class NotFoundError(LeadPactError):
    """A named thing does not exist; the message names what and where."""


class ConflictError(LeadPactError):
    """A write collides with a stored record."""


class NotAuthenticatedError(LeadPactError):
    """The request carries no valid session or token (401; pages redirect to the login)."""


class ForbiddenError(LeadPactError):
    """The user or token may not do this (403)."""


class CsrfError(ForbiddenError):
    """A form was posted without the session's CSRF token (403)."""


class WebhookSignatureError(LeadPactError):
    """A webhook delivery is unsigned, wrongly signed or stale (401)."""


class InvalidTransitionError(LeadPactError):
    """A stage change that the pact does not allow."""

    def __init__(self, from_stage: str, to_stage: str, allowed: list[str]) -> None:
        self.from_stage = from_stage
        self.to_stage = to_stage
        self.allowed = allowed
        options = ", ".join(allowed) if allowed else "none"
        super().__init__(
            f"a lead in stage {from_stage!r} cannot move to {to_stage!r}; allowed: {options}"
        )
