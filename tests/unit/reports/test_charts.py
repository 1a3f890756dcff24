"""Chart specs: stable colours per name, one palette in buildapi.css, top-N, gaps not zeros."""

from __future__ import annotations

import re
from pathlib import Path

from buildapi.reports import charts
from buildapi.reports.charts import OTHER_LABEL, SERIES_COLOURS, pie, series, top_n, totals
from buildapi.reports.pages.waittimes import RAMP_COLOURS, shares_of
from buildapi.vocabulary import Result

CSS = (Path(charts.__file__).parents[1] / "web" / "static" / "buildapi.css").read_text()
PROPERTIES = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", CSS))
BRANCHES = ("mozilla-central", "mozilla-inbound", "try", "ash")


def luminance(hex_colour: str) -> float:
    """WCAG relative luminance of #rrggbb."""
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_on_white(hex_colour: str) -> float:
    return 1.05 / (luminance(hex_colour) + 0.05)


STATES = [f"result-{int(result)}" for result in Result] + ["pending", "running"]


def test_every_result_and_state_has_one_colour_readable_as_text_and_under_white_text() -> None:
    colours = [PROPERTIES[name] for name in STATES]
    assert len(set(colours)) == len(colours), "two states share a colour"
    for name in STATES:
        assert contrast_on_white(PROPERTIES[name]) >= 4.5, f"{name} fails WCAG AA on white"


def test_result_classes_use_the_properties_on_any_element_and_on_grid_cells() -> None:
    for code in range(len(Result)):
        assert re.search(rf"^\.result{code} {{ color: var\(--result-{code}\); }}", CSS, re.M)
        assert f".cell.result{code} {{ background: var(--result-{code}); }}" in CSS
    for state in ("pending", "running"):
        assert f".{state} {{ color: var(--{state}); }}" in CSS
        assert f".cell.{state} {{ background: var(--{state}); }}" in CSS


def test_every_colour_token_a_chart_can_name_is_defined_in_the_stylesheet() -> None:
    tokens = {charts.TOTALS, charts.OTHER, charts.SINGLE, *STATES}
    tokens |= {f"series-{i}" for i in range(SERIES_COLOURS)}
    tokens |= {f"ramp-{i}" for i in range(RAMP_COLOURS)}
    assert tokens <= set(PROPERTIES)


def test_totals_and_other_are_colours_no_series_has() -> None:
    palette = {PROPERTIES[f"series-{i}"] for i in range(SERIES_COLOURS)}
    assert PROPERTIES["totals"] not in palette and PROPERTIES["other"] not in palette
    assert totals([1, 2])["colour"] == charts.TOTALS and totals([1])["dash"]


def test_a_branch_keeps_its_colour_whatever_else_a_chart_shows() -> None:
    alone = series("try", [1], order=BRANCHES)["colour"]
    with_others = [series(name, [1], order=BRANCHES) for name in ("ash", "try")]
    assert with_others[1]["colour"] == alone == "series-2"
    # Layout order gives the layout's branches distinct colours.
    assert len({series(name, [], order=BRANCHES)["colour"] for name in BRANCHES}) == 4


def test_a_name_outside_the_order_gets_a_colour_from_its_name_alone() -> None:
    first = series("some idle builder", [1])["colour"]
    assert first == series("some idle builder", [5, 6], order=BRANCHES)["colour"]
    assert re.fullmatch(r"series-\d+", first)


def test_past_the_palette_colours_repeat_with_a_dashed_line() -> None:
    names = tuple(f"silo-{i}" for i in range(SERIES_COLOURS + 2))
    lines = [series(name, [], order=names) for name in names]
    assert [line["dash"] for line in lines].count(True) == 2
    pairs = {(line["colour"], line["dash"]) for line in lines}
    assert len(pairs) == len(lines), "no two lines look the same"


def test_top_n_keeps_the_largest_and_sums_the_rest_as_other() -> None:
    pairs = [(f"b{i}", float(i)) for i in range(100)]
    top = top_n(pairs, 10)
    assert [label for label, _ in top[:10]] == [f"b{i}" for i in range(99, 89, -1)]
    assert top[10] == (OTHER_LABEL, float(sum(range(90))))
    assert top_n(pairs[:3], 10) == [("b2", 2.0), ("b1", 1.0), ("b0", 0.0)]


def test_a_pie_of_a_hundred_builders_has_eleven_slices() -> None:
    spec = pie("c", "t", "%", [(f"builder {i}", 1.0 + i) for i in range(100)])
    (line,) = spec["series"]
    assert spec["type"] == "pie" and len(spec["labels"]) == len(line["data"]) == 11
    assert spec["labels"][-1] == OTHER_LABEL and line["colours"][-1] == charts.OTHER
    assert sum(line["data"]) == sum(1.0 + i for i in range(100))


def test_an_interval_without_jobs_is_a_gap_in_the_shares_not_zero_percent() -> None:
    lines = [{"label": "0-15 min", "data": [3, 0, 1]}, {"label": "15-30 min", "data": [1, 0, 0]}]
    shares = shares_of(lines)
    assert [line["data"] for line in shares] == [[75.0, None, 100.0], [25.0, None, 0.0]]
