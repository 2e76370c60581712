"""The report's charts: Vega-Lite specs of a real demo report, by structure (marks, encodings,
target layers) and by the figures they carry; offline rendering through vl-convert."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from xml.etree import ElementTree

import pytest

from leadpact.errors import NotFoundError
from leadpact.reports import chart_style, chart_targets, charts
from leadpact.reports.charts import Labels, chart, chart_specs, render_chart

AS_OF = datetime.fromisoformat("2025-11-20T15:30:00+00:00")


@pytest.fixture(scope="module")
def report(demo_dir):
    from leadpact.services.reporting import build_report
    from leadpact.services.workspace import open_workspace

    with open_workspace(demo_dir) as ws:
        return build_report(ws, as_of=AS_OF)


@pytest.fixture(scope="module")
def specs(report):
    return chart_specs(report)


def leaves(spec, data=None):
    """The unit specs (one mark each) of a layered or concatenated spec, in order, each with
    the data it inherits from its layer when it has none of its own."""
    data = spec.get("data", data)
    for key in ("layer", "concat", "hconcat", "vconcat"):
        if key in spec:
            for part in spec[key]:
                yield from leaves(part, data)
            return
    yield spec if "data" in spec or data is None else {**spec, "data": data}


def first_leaf(spec):
    return next(leaves(spec))


def mark(leaf) -> str:
    return str(leaf["mark"]["type"] if isinstance(leaf["mark"], dict) else leaf["mark"])


def shape(spec) -> list[tuple[str, dict[str, str]]]:
    """Each distinct (mark, {channel: field:type or 'value'}) of a spec, in order: the part of
    a chart that decides what it shows."""
    out: list[tuple[str, dict[str, str]]] = []
    for leaf in leaves(spec):
        encoding = {}
        for channel, definition in sorted(leaf.get("encoding", {}).items()):
            if isinstance(definition, dict) and "field" in definition:
                encoding[channel] = f"{definition['field']}:{definition['type'][0].upper()}"
            elif isinstance(definition, dict) and "value" in definition:
                encoding[channel] = "value"
        item = (mark(leaf), encoding)
        if item not in out:
            out.append(item)
    return out


def data_of(spec, leaf):
    """A leaf's rows: inline, or by name from the top-level datasets Altair consolidates."""
    data = leaf.get("data", {})
    if "values" in data:
        return data["values"]
    return spec.get("datasets", {}).get(data.get("name", ""), [])


TARGET_LAYER = [
    ("rule", {"y": "target:Q"}),
    ("text", {"text": "label:N", "x": "value", "y": "target:Q"}),
]

# Hand-checked snapshots of each chart's structure (update them when a chart changes on
# purpose, after looking at the rendered chart).
SHAPES = {
    "kpi_tiles": [
        ("rect", {"color": "state:N", "x": "col:O", "y": "row:O"}),
        ("rect", {"stroke": "state:N", "x": "col:O", "y": "row:O"}),
        ("text", {"text": "name:N", "x": "col:O", "y": "row:O"}),
        ("text", {"color": "state:N", "text": "value:N", "x": "col:O", "y": "row:O"}),
        ("text", {"text": "target:N", "x": "col:O", "y": "row:O"}),
    ],
    "waterfall": [
        ("line", {"color": "series:N", "strokeDash": "series:N", "x": "on:T", "y": "value:Q"}),
        ("point", {"x": "on:T", "y": "value:Q"}),
    ],
    "funnel": [
        ("bar", {"color": "part:N", "x": "leads:Q", "y": "stage:N"}),
        ("text", {"text": "text:N", "x": "leads:Q", "y": "stage:N"}),
        ("bar", {"x": "rate:Q", "y": "step:N"}),
        ("text", {"text": "text:N", "x": "rate:Q", "y": "step:N"}),
    ],
    "trend": [("bar", {"color": "state:N", "x": "period:O", "y": "leads:Q"})],
    "conversion": [
        ("bar", {"color": "part:N", "x": "rate:Q", "y": "value:N"}),
        ("text", {"text": "text:N", "x": "rate:Q", "y": "value:N"}),
    ],
    "speed": [
        ("line", {"color": "stat:N", "strokeDash": "stat:N", "x": "period:O", "y": "value:Q"}),
        *TARGET_LAYER,
        ("bar", {"x": "period:O", "y": "rate:Q"}),
        ("text", {"text": "text:N", "x": "period:O", "y": "rate:Q"}),
    ],
    "depth": [
        ("bar", {"x": "period:O", "y": "mean:Q"}),
        ("text", {"text": "text:N", "x": "period:O", "y": "mean:Q"}),
        *TARGET_LAYER,
        ("bar", {"color": "state:N", "x": "attempts:O", "y": "leads:Q"}),
        ("text", {"text": "leads:Q", "x": "attempts:O", "y": "leads:Q"}),
    ],
    "aging": [
        ("bar", {"color": "status:N", "x": "bucket:N", "xOffset": "status:N", "y": "leads:Q"}),
        ("text", {"text": "text:N", "x": "bucket:N", "xOffset": "status:N", "y": "leads:Q"}),
    ],
}


def test_every_chart_is_a_vega_lite_spec_with_the_house_style(specs):
    assert list(specs) == list(charts.CHARTS)
    for name, spec in specs.items():
        assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/v5"), name
        assert spec["config"]["font"].startswith("Liberation Sans"), name
        json.dumps(spec)  # plain JSON, ready for vega-embed


@pytest.mark.parametrize("name", list(SHAPES))
def test_chart_structure_matches_its_snapshot(specs, name):
    assert shape(specs[name]) == SHAPES[name]


def test_waterfall_draws_goal_line_and_actual_per_goal_metric(report, specs):
    spec = specs["waterfall"]
    panels = spec["concat"]
    with_goal = [
        m
        for m in chart_targets.WATERFALL_METRICS
        if any(r["metric"] == m and r["goal"] is not None for r in report["waterfall"])
    ]
    assert [p["title"]["text"] for p in panels] == [Labels.of(report).metric(m) for m in with_goal]
    assert {"Leads", "MQLs", "SQLs", "Revenue"} <= {p["title"]["text"] for p in panels}
    leads = first_leaf(panels[0])
    colour = leads["encoding"]["color"]["scale"]
    assert colour == {
        "domain": ["Goal line", "Actual"],
        "range": [chart_style.GOAL, chart_style.ACTUAL],
    }
    assert leads["encoding"]["strokeDash"]["scale"]["range"] == [[6, 4], [1, 0]]
    rows = data_of(spec, leads)
    goal = [r["value"] for r in rows if r["series"] == "Goal line"]
    actual = [r for r in rows if r["series"] == "Actual"]
    source = [r for r in report["waterfall"] if r["metric"] == "leads"]
    assert goal == [r["goal_cumulative"] for r in source]
    assert goal[-1] == pytest.approx(source[0]["goal"])  # the line reaches the goal
    assert actual[-1]["on"] == "2025-11-20"  # the actual stops at as_of
    assert actual[-1]["value"] == source[19]["actual_cumulative"]
    # The subtitle says ahead or behind in green or red, as the figures say.
    ahead = source[19]["actual_cumulative"] >= source[19]["goal_cumulative"]
    assert panels[0]["title"]["subtitleColor"] == (chart_style.MET if ahead else chart_style.MISSED)
    assert ("ahead" if ahead else "behind") in panels[0]["title"]["subtitle"][0]


def test_speed_has_a_labelled_target_line_per_commitment(report, specs):
    rows = spec_rows = specs["speed"]["vconcat"]
    commitments = list(dict.fromkeys(r["commitment"] for r in report["speed"]))
    targets = {r["commitment"]: r["target_seconds"] for r in report["speed"]}
    assert len(rows) == len(
        [
            c
            for c in commitments
            if any(r["clocks"] for r in report["speed"] if r["commitment"] == c)
        ]
    )
    for row in spec_rows:
        time_chart = row["hconcat"][0]
        commitment = time_chart["title"]["text"].split(" ")[0]
        target = next(leaf for leaf in leaves(time_chart) if mark(leaf) == "rule")
        hours = targets[commitment] / 3600
        assert data_of(specs["speed"], target) == [
            {"target": hours, "label": f"Target {Labels.of(report).hours(targets[commitment])}"}
        ]
        y = time_chart["layer"][0]["encoding"]["y"]
        assert y["title"] in ("Business hours", "Business minutes")
        share = row["hconcat"][1]["layer"][0]["encoding"]["y"]
        assert share["axis"]["format"] == "%"
        assert share["scale"]["domain"] == [0, 1]


def test_depth_compares_attempts_with_the_target(report, specs):
    spec = specs["depth"]
    row = spec["vconcat"][0]
    commitment = report["depth"]["by_period"][0]["commitment"]
    target = report["depth"]["by_period"][0]["target_attempts"]
    rule = next(leaf for leaf in leaves(row) if mark(leaf) == "rule")
    assert data_of(spec, rule) == [{"target": target, "label": f"Target {target}"}]
    spread = [leaf for leaf in leaves(row) if mark(leaf) == "bar"][1]
    colours = spread["encoding"]["color"]["scale"]
    assert colours == {
        "domain": ["Below target", "At target"],
        "range": [chart_style.MISSED, chart_style.MET],
    }
    counts = {
        r["attempts"]: r["leads"]
        for r in report["depth"]["attempts"]
        if r["commitment"] == commitment
    }
    assert {r["attempts"]: r["leads"] for r in data_of(spec, spread)} == counts
    assert all(
        r["state"] == ("At target" if r["attempts"] >= target else "Below target")
        for r in data_of(spec, spread)
    )


def test_funnel_counts_the_report_period_in_stage_order(report, specs):
    spec = specs["funnel"]
    bars = first_leaf(spec["hconcat"][0])
    start = report["meta"]["period_start"]
    expected = {
        r["stage_name"]: r["leads"]
        for r in report["funnel"]["by_period"]
        if r["period_start"] == start
    }
    assert {r["stage"]: r["leads"] for r in data_of(spec, bars)} == expected
    assert bars["encoding"]["y"]["sort"] == [s["name"] for s in report["funnel"]["stages"]]
    exits = {r["stage"] for r in data_of(spec, bars) if r["part"] == "Left the funnel"}
    assert exits == {s["name"] for s in report["funnel"]["stages"] if not s["on_ladder"]}


def test_trend_has_one_panel_per_funnel_stage_and_marks_the_running_period(report, specs):
    panels = specs["trend"]["concat"]
    ladder = [s["name"] for s in report["funnel"]["stages"] if s["on_ladder"]]
    assert [p["title"]["text"] for p in panels] == ladder
    rows = data_of(specs["trend"], first_leaf(panels[0]))
    assert rows[-1]["state"] == "So far"  # November 2025 is still running on Nov 20
    assert {r["state"] for r in rows[:-1]} == {"Complete"}


def test_conversion_by_source_matches_the_breakdown(report, specs):
    spec = specs["conversion"]
    rows = data_of(spec, first_leaf(spec))
    assert rows[0]["value"] == "All sources"
    by_source = {
        r["value"]: r["rate"]
        for r in report["funnel"]["breakdown"]
        if r["scope"] == "all"
        and r["dimension"] == "source"
        and (r["from_stage"], r["to_stage"]) == ("lead", "won")
    }
    assert {r["value"]: r["rate"] for r in rows[1:]} == by_source
    assert [r["rate"] for r in rows[1:]] == sorted(by_source.values(), reverse=True)


def test_aging_keeps_the_bucket_order_and_every_count(report, specs):
    spec = specs["aging"]
    bars = first_leaf(spec)
    assert bars["encoding"]["x"]["sort"] == [
        "Under a week",
        "1–2 weeks",
        "2 weeks – a month",
        "Over a month",
    ]
    assert sum(r["leads"] for r in data_of(spec, bars)) == sum(r["leads"] for r in report["aging"])


def test_kpi_tiles_are_green_when_met_and_red_when_missed(report, specs):
    spec = specs["kpi_tiles"]
    tiles = data_of(spec, first_leaf(spec))
    assert len(tiles) == len(report["kpis"])
    for tile, kpi in zip(tiles, report["kpis"], strict=True):
        assert tile["state"] == {True: "Met", False: "Missed", None: "No data"}[kpi["met"]]
    scale = spec["layer"][0]["encoding"]["color"]["scale"]
    assert scale == {
        "domain": ["Met", "Missed", "No data"],
        "range": [chart_style.MET, chart_style.MISSED, chart_style.UNKNOWN],
    }


def test_a_missing_section_gives_a_chart_that_says_why(report):
    bare = copy.deepcopy(report)
    bare["depth"] = {"by_period": [], "attempts": []}
    bare["kpis"] = []
    depth = chart(bare, "depth")
    assert shape(depth) == [("text", {"text": "message:N"})]
    assert data_of(depth, first_leaf(depth)) == [
        {"message": "The pact has no follow-up commitment"}
    ]
    assert chart(bare, "kpi_tiles")["title"]["text"] == "KPIs"


def test_an_unknown_chart_is_a_clear_error(report):
    with pytest.raises(NotFoundError, match="expected one of kpi_tiles, waterfall"):
        chart(report, "pie")


def test_charts_render_offline_as_svg_png_and_pdf(specs):
    svg = render_chart(specs["aging"], "svg").decode("utf-8")
    root = ElementTree.fromstring(svg)
    assert root.tag.endswith("svg")
    assert "Never contacted" in svg
    png = render_chart(specs["aging"], "png", scale=1)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width = int.from_bytes(png[16:20], "big")
    assert width == int(root.get("width", "0"))  # scale 1: one pixel per SVG unit
    assert render_chart(specs["aging"], "pdf").startswith(b"%PDF")


def test_labels_write_periods_money_and_durations():
    labels = Labels.of({"meta": {"currency": "DKK", "period": "month"}})
    assert labels.bucket("2025-12-01") == "Dec 2025"
    assert labels.bucket("2025-12-15") == "15 Dec 2025"
    assert labels.bucket("2025-10-01", "quarter") == "Q4 2025"
    assert labels.bucket("2025-12-08", "week") == "8 Dec"
    assert labels.span("2025-12-01", "2025-12-31") == "December 2025"
    assert labels.span_of("2025-12-08", "2025-12-14") == "week 50, 8 Dec 2025"
    assert labels.span_of("2025-12-03", "2025-12-09") == "3 Dec 2025 – 9 Dec 2025"
    assert labels.hours(28800) == "8 h"
    assert labels.hours(5400) == "1.5 h"
    assert labels.hours(600) == "10 min"
    assert labels.money(684700) == "DKK\u00a0684,700"
    assert labels.money_short(684700) == "DKK\u00a0684.7K"
    assert labels.rate(0.352) == "35.2%"
    assert labels.rate_short(0.352) == "35%"
    assert labels.value(3.5646, "ratio") == "3.56×"
    assert labels.count(None) == "–"
