"""Alembic environment: hands over to `leadpact.store.migrations.run_env`.

There is no alembic.ini: `leadpact.store.migrations` builds the configuration in code and puts an
open connection (already inside a locked transaction) in `config.attributes["connection"]`.
"""

from __future__ import annotations

from leadpact.store.migrations import run_env

run_env()
