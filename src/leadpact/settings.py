"""Runtime settings: where the database is, which workspace, how the web server listens.

One pydantic-settings class read from `LEADPACT_*` environment variables and `.env` files; never
business rules (those live in `pact.yaml`). Every field is documented in docs/settings.md.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from leadpact.errors import LeadPactError

#: The database file of a workspace when `database_url` is not set.
DATABASE_FILE = "leadpact.db"

LogLevel = Literal["debug", "info", "warning", "error", "critical"]


def _duration(value: Any) -> Any:
    """A duration as in pact.yaml ("2s", "30m", "1d") or a number of seconds."""
    from leadpact.core.durations import parse_duration

    if isinstance(value, str):
        text = value.strip()
        try:
            return timedelta(seconds=float(text))
        except ValueError:
            return parse_duration(text)
    return value


#: A duration setting: "2s", "1h30m", "1d", or seconds ("2", "0.5").
SettingDuration = Annotated[timedelta, BeforeValidator(_duration)]


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
        description="Shared secret of signed webhooks (/api/webhooks/hubspot); unset: refused.",
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
    smtp_host: str | None = Field(
        None, description="SMTP server for alert emails; unset: alerts are not emailed."
    )
    smtp_port: int = Field(587, ge=1, le=65535, description="Port of the SMTP server.")
    smtp_user: str | None = Field(None, description="SMTP login name; unset: no login.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password (never printed).")
    smtp_from: str = Field(
        "LeadPact <leadpact@localhost>", description="Sender address of alert emails."
    )
    smtp_tls: Literal["starttls", "ssl", "none"] = Field(
        "starttls",
        description="SMTP encryption: starttls (upgrade, port 587), ssl (port 465) or none.",
    )
    slack_webhook_url: str | None = Field(
        None, description="Slack-compatible incoming webhook: every alert is posted as text."
    )
    alert_webhook_url: str | None = Field(
        None, description="Generic webhook: every alert is POSTed to this URL as JSON."
    )
    scheduler_interval: SettingDuration = Field(
        timedelta(seconds=2),
        gt=timedelta(0),
        description="Time between two alert scheduler cycles, e.g. 2s (or seconds: 2).",
    )
    alert_max_age: SettingDuration = Field(
        timedelta(days=1),
        gt=timedelta(0),
        description="Clock alerts that fell due longer ago are not sent, e.g. 1d or 12h.",
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
