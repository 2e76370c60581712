"""A workspace: a folder with `pact.yaml` and its database; opening it, and erasing a person.

`open_workspace` loads the pact, connects to the database (`<dir>/leadpact.db`, or
`LEADPACT_DATABASE_URL`), brings its schema up to date on first use and picks the clock. Every
other service takes the resulting `Workspace`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from leadpact.clock import Clock, SystemClock
from leadpact.errors import LeadPactError, NotFoundError
from leadpact.settings import DATABASE_FILE, Settings, load_settings

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

    from leadpact.core.pact import Pact
    from leadpact.store.erasure import ErasureResult, PurgeStatus

#: The agreement file every workspace holds.
PACT_FILE = "pact.yaml"


@dataclass
class Workspace:
    """An open workspace: its folder, agreement, database engine and clock.

    Close it (or use it as a context manager) to release the database connections.
    """

    directory: Path
    pact: Pact
    engine: Engine
    clock: Clock
    settings: Settings = field(repr=False)

    @property
    def database(self) -> str:
        """The database URL, password hidden (for messages)."""
        from leadpact.store.engine import describe

        return describe(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction on the workspace database (committed unless it raises)."""
        from leadpact.store.engine import begin_write

        with begin_write(self.engine) as conn:
            yield conn

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def open_workspace(
    directory: Path, *, settings: Settings | None = None, clock: Clock | None = None
) -> Workspace:
    """Open the workspace in `directory`, migrating its database on first use.

    Args:
        directory: the folder holding `pact.yaml`.
        settings: runtime settings; default: `LEADPACT_*` variables and `.env` files
            (`./.env`, then `<directory>/.env`).
        clock: what "now" is; default: the system clock.

    Returns:
        The open workspace; close it when done.

    Raises:
        LeadPactError: there is no `pact.yaml` in `directory`, the database cannot be opened,
            or a setting is invalid.
        PactError: `pact.yaml` is invalid.
    """
    from leadpact.pact_file import load_pact
    from leadpact.store.engine import make_engine, sqlite_url
    from leadpact.store.migrations import ensure_schema

    pact_path = directory / PACT_FILE
    if not pact_path.is_file():
        raise LeadPactError(
            f"no {PACT_FILE} in {directory}; create one with `leadpact init {directory}`"
        )
    if settings is None:
        settings = load_settings(directory)
    pact = load_pact(pact_path)
    url = settings.database_url or sqlite_url(directory / DATABASE_FILE)
    engine = make_engine(url)
    try:
        ensure_schema(engine)
    except BaseException:
        engine.dispose()
        raise
    return Workspace(directory, pact, engine, clock or SystemClock(), settings)


@dataclass(frozen=True)
class ErasureReport:
    """The leads one erasure request anonymised, and whether the old bytes are gone."""

    erased: tuple[ErasureResult, ...]
    purge: PurgeStatus


def erase(
    workspace: Workspace,
    *,
    lead_id: str | None = None,
    email: str | None = None,
    reason: str,
) -> ErasureReport:
    """Erase a person who opted out: by lead id, or every lead with their email.

    All leads are erased in one transaction (all or none), at the workspace clock's now; then
    the database files are purged of the old bytes (`store.erasure.purge_erased`).

    Args:
        workspace: the open workspace.
        lead_id: the lead to erase; or
        email: erase every lead with this email (case-insensitive).
        reason: why (kept in the audit log; must not contain the email or names).

    Returns:
        One result per erased lead (its anonymous token and counts), and the purge status.

    Raises:
        LeadPactError: neither or both of `lead_id` and `email` given, or a bad reason.
        NotFoundError: no such lead, or no lead with this email.
        ConflictError: the lead was already erased.
    """
    from leadpact.store.erasure import erase_lead, purge_erased
    from leadpact.store.leads import list_leads

    if (lead_id is None) == (email is None):
        raise LeadPactError("say whom to erase: a lead id or an email, not both")
    at = workspace.clock.now()
    with workspace.transaction() as conn:
        if email is not None:
            ids = [lead.id for lead in list_leads(conn, email=email)]
            if not ids:
                raise NotFoundError(f"no lead with email {email.strip()!r} in this workspace")
        else:
            ids = [str(lead_id)]
        results = tuple(erase_lead(conn, each, at=at, reason=reason) for each in ids)
    return ErasureReport(results, purge_erased(workspace.engine))
