"""The synthetic company: deterministic, plausible, and shaped as the canonical import."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from leadpact.core.conditions import ACTIVITY_TYPES
from leadpact.services.demo import JOURNEY, generate


def test_same_seed_same_data_other_seed_other_data():
    first, again, other = (
        generate(seed=3, leads=400),
        generate(seed=3, leads=400),
        generate(seed=4, leads=400),
    )
    for kind in ("leads", "activities", "touches", "deals"):
        assert getattr(first, kind).equals(getattr(again, kind))
    assert not first.leads.equals(other.leads)


def test_lifecycle_dates_follow_the_funnel():
    data = generate(seed=1, leads=2000)
    leads = data.leads.to_pandas()
    previous = leads["created_at"]
    for stage in JOURNEY[1:]:
        column = leads[f"became_{stage}_at"]
        reached = column.notna()
        assert (column[reached] >= previous[reached]).all(), stage
        previous = column.where(reached, previous)
    assert (leads["stage_at"] >= leads["created_at"]).all()
    assert set(leads["stage"]) <= {*JOURNEY, "won", "lost", "nurture"}


def test_touches_follow_sql_and_deals_belong_to_proposals():
    data = generate(seed=2, leads=2000)
    leads = data.leads.to_pandas().set_index("id")
    touches = data.touches.to_pandas()
    sql_at = leads.loc[touches["lead_id"], "became_sql_at"].to_numpy()
    assert (touches["at"].to_numpy() >= sql_at).all()
    assert set(touches["outcome"]) <= {"no_answer", "connected", "break_up"}
    deals = data.deals.to_pandas()
    assert leads.loc[deals["lead_id"], "became_proposal_at"].notna().all()
    assert set(deals["stage"]) <= {"proposal", "won", "lost"}


def test_rates_vary_by_source_and_persona():
    leads = generate(seed=5, leads=6000).leads.to_pandas()
    mql = leads["became_mql_at"].notna()
    by_source = mql.groupby(leads["source"]).mean()
    assert by_source.max() - by_source.min() > 0.15
    director = leads["title"].isin(["Managing Director", "CEO", "Director of Operations", "Owner"])
    won = leads["stage"] == "won"
    assert won[director].mean() > 2 * won[leads["title"] == "Student"].mean()


def test_activities_sorted_per_lead_and_sqls_show_intent():
    data = generate(seed=6, leads=1500)
    acts = data.activities
    lead = acts.column("lead_id").to_numpy(zero_copy_only=False)
    at = acts.column("at").cast("int64").to_numpy()
    same = lead[1:] == lead[:-1]
    assert (at[1:][same] >= at[:-1][same]).all()
    sqls = set(
        pc.filter(
            data.leads.column("id"), pc.is_valid(data.leads.column("became_sql_at"))
        ).to_pylist()
    )
    intent = pc.is_in(
        acts.column("type"),
        value_set=pa.array(["demo_request", "pricing_page_view"]),
    )
    assert sqls <= set(pc.filter(acts.column("lead_id"), intent).to_pylist())
    types = set(acts.column("type").to_pylist())
    assert types <= set(ACTIVITY_TYPES) - {"event", "chat"}
    assert {"page_view", "demo_request", "webinar"} <= types


def test_write_csv(tmp_path):
    paths = generate(seed=1, leads=50).write_csv(tmp_path)
    header = paths["leads"].read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith('"id","email","first_name","last_name","title","company"')
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "activities.csv",
        "deals.csv",
        "leads.csv",
        "touches.csv",
    ]
