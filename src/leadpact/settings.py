"""Runtime settings: where the database is, which workspace, how the web server listens.

One pydantic-settings class read from `LEADPACT_*` environment variables and `.env` files; never
business rules (those live in `pact.yaml`). Every field is documented in docs/settings.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from leadpact.errors import LeadPactError

#: The database file of a workspace when `database_url` is not set.
DATABASE_FILE = "leadpact.db"

LogLevel = Literal["debug", "info", "warning", "error", "critical"]


class Settings(BaseSettings):
    """How this LeadPact process runs: read from `LEADPACT_*` variables and `.env`."""

    model_config = SettingsConfigDict(
        env_prefix="LEADPACT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    database_url: str | None = Field(
        None,
        description=(
            "SQLAlchemy URL of the database, e.g. postgresql+psycopg://user@host/db. "
            f"Unset: an SQLite file `{DATABASE_FILE}` inside the workspace folder."
        ),
    )
    workspace: Path = Field(
        Path("."),
        description="The workspace folder (holds pact.yaml and, by default, the database).",
    )
    host: str = Field("127.0.0.1", description="Address the web server listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port the web server listens on.")
    webhook_secret: str | None = Field(
        None,
        description="Shared secret of signed webhooks (POST /api/webhooks/hubspot); unset: refused.",
    )
    session_secret: str | None = Field(
        None,
        description="Key that signs web login sessions; unset: a random key kept in the workspace.",
    )
    scheduler: bool = Field(
        True, description="Run the SLA alert scheduler inside the web server (`leadpact serve`)."
    )
    log_level: LogLevel = Field(
        "info", description="Least severe log level written: debug, info, warning, error, critical."
    )


def load_settings(directory: Path | None = None) -> Settings:
    """Read the settings from the environment, `./.env` and `<directory>/.env`.

    Environment variables win over `.env` files; a workspace's own `.env` wins over the one in
    the current folder.

    Raises:
        LeadPactError: a setting has an invalid value (the message names the variable).
    """
    files: list[Path] = [Path(".env")]
    if directory is not None:
        files.append(directory / ".env")
    try:
        return Settings(_env_file=tuple(files))
    except ValidationError as err:
        first = err.errors()[0]
        name = "LEADPACT_" + "_".join(str(part) for part in first["loc"]).upper()
        raise LeadPactError(
            f"setting {name} is invalid: {first['msg']} (found {first.get('input')!r})"
        ) from None
