"""Shared fixtures of the analytics tests: a store filled with the demo generator's lead flow.

Until the import service lands, the demo tables are written straight into the store tables
with SQLAlchemy Core: leads (scored with `core.scoring.score_many`), their stage history from
the lifecycle date columns, activities, touches and deals.
"""

from __future__ import annotations

import hashlib
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest

EXAMPLE_PACT = Path(__file__).resolve().parents[2] / "src" / "leadpact" / "data" / "pact.yaml"
DEMO_SEED = 11
DEMO_LEADS = 1500
#: The instant the shared demo reports are as of: late in the generated year.
AS_OF = datetime(2025, 11, 20, 15, 30, tzinfo=UTC)


def _key(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()


def load_demo(engine, data, pact, *, now: datetime) -> None:
    """Write `data` (a `services.demo.DemoData`) into the store tables behind `engine`."""
    from sqlalchemy import insert

    from leadpact.core.scoring import score_many, type_codes
    from leadpact.store import tables

    leads = data.leads.to_pylist()
    ids = {row["id"]: i for i, row in enumerate(leads)}
    acts = data.activities.to_pylist()
    columns = {
        name: np.array([row.get(name) for row in leads], dtype=object)
        for name in ("id", "industry", "country", "source", "title", "owner", "team", "stage")
    }
    columns["employees"] = np.array([row["employees"] for row in leads], dtype=np.float64)
    columns["annual_revenue"] = np.array([row["annual_revenue"] for row in leads], np.float64)
    scores = score_many(
        columns,
        {
            "lead": np.array([ids[a["lead_id"]] for a in acts], dtype=np.int64),
            "type": type_codes(np.array([a["type"] for a in acts], dtype=object)),
            "at": np.array([a["at"].replace(tzinfo=None) for a in acts], dtype="datetime64[us]"),
        },
        pact,
        now=now,
    )
    lead_rows, changes = [], []
    for i, row in enumerate(leads):
        lead_rows.append(
            {
                "id": row["id"],
                "email": row["email"],
                "first_name": row["first_name"],
                "last_name": row["last_name"],
                "title": row["title"],
                "company": row["company"],
                "employees": row["employees"],
                "annual_revenue": row["annual_revenue"],
                "industry": row["industry"],
                "country": row["country"],
                "source": row["source"],
                "owner": row["owner"],
                "team": row["team"],
                "stage": row["stage"],
                "stage_at": row["stage_at"],
                "created_at": row["created_at"],
                "opted_out": False,
                "persona": scores.persona[i],
                "fit": float(scores.fit[i]),
                "fit_grade": scores.fit_grade[i],
                "engagement": float(scores.engagement[i]),
                "priority": int(scores.priority[i]),
            }
        )
        previous = "lead"
        for stage in ("mql", "sal", "sql", "meeting", "proposal"):
            at = row[f"became_{stage}_at"]
            if at is not None:
                changes.append(
                    {
                        "key": _key(row["id"], stage, at),
                        "lead_id": row["id"],
                        "from_stage": previous,
                        "to_stage": stage,
                        "at": at,
                    }
                )
                previous = stage
        if row["stage"] in ("won", "lost", "nurture"):
            changes.append(
                {
                    "key": _key(row["id"], row["stage"], row["stage_at"]),
                    "lead_id": row["id"],
                    "from_stage": previous,
                    "to_stage": row["stage"],
                    "at": row["stage_at"],
                }
            )
    activity_rows = [
        {
            "key": _key(n, a["lead_id"], a["type"], a["at"]),
            "lead_id": a["lead_id"],
            "type": a["type"],
            "at": a["at"],
            "url": a["url"] or None,
            "content": a["content"] or None,
        }
        for n, a in enumerate(acts)
    ]
    touch_rows = [
        {
            "key": _key(n, t["lead_id"], t["at"]),
            "lead_id": t["lead_id"],
            "rep": t["rep"],
            "channel": t["channel"],
            "at": t["at"],
            "outcome": t["outcome"],
        }
        for n, t in enumerate(data.touches.to_pylist())
    ]
    deal_rows = [
        {
            "id": d["id"],
            "lead_id": d["lead_id"],
            "stage": d["stage"],
            "amount": d["amount"],
            "created_at": d["created_at"],
            "closed_at": d["closed_at"],
            "won": None if d["closed_at"] is None else d["stage"] == "won",
        }
        for d in data.deals.to_pylist()
    ]
    with engine.begin() as conn:
        conn.execute(insert(tables.leads), lead_rows)
        for table, rows in (
            (tables.stage_changes, changes),
            (tables.activities, activity_rows),
            (tables.touches, touch_rows),
            (tables.deals, deal_rows),
        ):
            if rows:
                conn.execute(insert(table), rows)


@pytest.fixture(scope="session")
def demo_data():
    """The demo lead flow the analytics tests share (seed 11, 1,500 leads over 2025)."""
    from leadpact.services.demo import generate

    return generate(seed=DEMO_SEED, leads=DEMO_LEADS, start=date(2025, 1, 1), days=365)


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory, demo_data):
    """A SQLite store holding the demo lead flow; tests copy it before writing to it."""
    from leadpact.pact_file import load_pact
    from leadpact.store.engine import make_engine, sqlite_url
    from leadpact.store.tables import metadata

    path = tmp_path_factory.mktemp("store") / "leadpact.db"
    engine = make_engine(sqlite_url(path))
    metadata.create_all(engine)
    load_demo(engine, demo_data, load_pact(EXAMPLE_PACT), now=AS_OF)
    engine.dispose()
    return path


@pytest.fixture
def store_copy(demo_store, tmp_path) -> Path:
    """A private copy of the demo store."""
    path = tmp_path / "leadpact.db"
    shutil.copy(demo_store, path)
    return path
