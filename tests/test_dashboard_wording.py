"""What the dashboard's pages say to a user: readable labels with units, trends that say which days they compare,
and no recording claimed for the demo's made-up runs.

The expected texts come from the inputs (0.360 s is 360 ms, 0.095 m is 9.5 cm; the demo's eight weeks end on
Sunday 2 March 2025, its pain rose in weeks 5-6 and eased in week 8), not from what the pages showed before.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from dashboard import figures as F


def _text(component) -> str:
    """All text of a Dash component tree, depth first."""
    if component is None:
        return ""
    if isinstance(component, (str, int, float)):
        return str(component)
    if isinstance(component, (list, tuple)):
        return " ".join(_text(c) for c in component)
    return _text(getattr(component, "children", None))


@pytest.fixture(scope="module")
def demo_settings(tmp_path_factory):
    from dashboard.data import Settings
    from journal.demo import load_demo

    d = tmp_path_factory.mktemp("demo")
    url = f"sqlite:///{d / 'journal.sqlite3'}"
    load_demo(url)
    return Settings(journal_url=url, data_dir=d / "data")


# ----------------------------------------------------------------------------
# 1. Form under fatigue: words with units, values in those units


FATIGUE = [{"bout": 1, "metrics": {
    "step_time_s": {"early": 0.360, "late": 0.372, "change": 0.012, "flagged": False, "threshold": 0.02},
    "flight_time_s": {"early": 0.100, "late": 0.080, "change": -0.020, "flagged": True, "threshold": 0.015},
    "vertical_oscillation_m": {"early": 0.080, "late": 0.095, "change": 0.015, "flagged": True, "threshold": 0.01},
    "trunk_lean_side_deg": {"early": 1.0, "late": 1.5, "change": 0.5, "flagged": False, "threshold": 2.0},
}}]


def test_fatigue_table_headers_are_words_with_units_and_values_in_those_units():
    from dashboard.pages.run import fatigue_table

    table = fatigue_table(FATIGUE)
    head, body = table.children
    headers = [th.children for th in head.children.children]
    assert headers[0] == "bout"
    assert not any("_" in h for h in headers), headers
    by_name = dict(zip(headers[1:], body.children[0].children[1:]))
    step = next(h for h in by_name if h.startswith("step time"))
    flight = next(h for h in by_name if h.startswith("flight time"))
    vo = next(h for h in by_name if h.startswith("vertical oscillation"))
    side = next(h for h in by_name if h.startswith("trunk lean sideways"))
    assert step.endswith("(ms)") and flight.endswith("(ms)") and "(cm)" in vo and "°" in side
    assert by_name[step].children == "360 → 372 (+12)"
    assert by_name[flight].children == "100 → 80 (-20) ⚑ flagged" and by_name[flight].className == "flagged"
    assert by_name[vo].children == "8.0 → 9.5 (+1.5) ⚑ flagged"
    assert by_name[side].children == "1.0 → 1.5 (+0.5)"


def test_every_per_step_metric_has_a_label_with_a_unit():
    from analysis.pipeline import PER_STEP_METRICS

    fatigue = [{"bout": 0, "metrics": {m: {"early": 1.0, "late": 1.0, "change": 0.0, "flagged": False,
                                           "threshold": None} for m in PER_STEP_METRICS}}]
    labels = [r["metric"] for r in F.fatigue_rows(fatigue)]
    assert len(labels) == len(PER_STEP_METRICS)
    for label in labels:
        assert "_" not in label and re.search(r"\(.+\)$", label), label
    # the thresholds are shown in the unit of the label too: 1 cm of vertical oscillation
    vo = F.fatigue_rows(FATIGUE)[2]
    assert vo["metric"].startswith("vertical oscillation") and vo["threshold"] == pytest.approx(1.0)


def test_per_step_panels_keep_their_titles():
    steps = pd.DataFrame({"ic_s": [0.0, 0.35, 0.70], "cadence_spm": [170.0, 171.0, 172.0],
                          "contact_time_s": [0.25, 0.26, 0.27], "step_time_s": [0.35, 0.35, 0.35],
                          "activity": ["running"] * 3})
    fig = F.per_step_figure(steps)
    titles = {a.text for a in fig.layout.annotations}
    assert {"cadence (steps/min)", "contact time (ms)"} <= titles
    contact = [t for t in fig.data if t.name == "contact_time_s"][0]
    assert list(contact.y) == pytest.approx([250.0, 260.0, 270.0])
    assert "step time (ms)" not in titles  # step time is in the fatigue table, not a panel


# ----------------------------------------------------------------------------
# 2. Runners: the pain trend and the pain prompts say which days they are about


def test_pain_trend_says_which_days_it_compares():
    days = pd.date_range("2025-02-17", "2025-03-02")
    pains = pd.DataFrame({"local_date": days, "rating": [5] * 7 + [3] * 7})
    t = F.pain_trend(pains, date(2025, 3, 2))
    assert (t["before"], t["recent"]) == (5.0, 3.0)
    assert t["word"].startswith("easing") and "5.0 → 3.0/10" in t["word"]
    assert "7 days to 02 Mar 2025" in t["word"] and "the 7 before" in t["word"]


def test_pain_prompt_names_the_day_it_was_raised():
    from dashboard.pages.runners import prompt_text
    from journal.rules import PainFlag

    flags = [PainFlag(date(2025, 2, 19), "rising", "pain keeps rising (weekly average 1.0 → 5.0 → 5.3/10): see"),
             PainFlag(date(2025, 3, 2), "persisting", "pain has not eased after 3 weeks: see")]
    assert prompt_text(flags) == ("19 Feb 2025: pain keeps rising (weekly average 1.0 → 5.0 → 5.3/10): see; "
                                  "02 Mar 2025: pain has not eased after 3 weeks: see")


def test_demo_runner_row_does_not_read_as_rising_and_easing_at_once(demo_settings):
    from dashboard.pages.runners import overview
    from journal.demo import DEFAULT_START

    row = next(r for r in overview(demo_settings) if r["name"] == "demo")
    end = DEFAULT_START + timedelta(days=55)  # the last of the eight weeks
    assert end == date(2025, 3, 2)
    # week 8: pain eases (3-4/10 after 4-6/10), over the 7 days to the last day
    assert row["pain"].startswith("easing") and f"7 days to {end:%d %b %Y}" in row["pain"]
    # the current flags are dated too: the journal's last 7 days, which need not be this week
    assert f"in the 7 days to {end:%d %b %Y}" in row["flags"]
    # a "keeps rising" prompt, if shown, is dated, and that day is before the 7 days of the trend
    rising = re.findall(r"(\d\d \w{3} \d{4}): pain keeps rising", row["prompt"])
    assert rising and len(rising) == row["prompt"].count("pain keeps rising")
    for d in rising:
        assert datetime.strptime(d, "%d %b %Y").date() <= end - timedelta(days=7)


# ----------------------------------------------------------------------------
# 3. The demo's made-up runs claim no recording


def test_demo_history_names_no_recording():
    from journal.demo import generate

    data = generate()
    assert data.analyses  # the demo still has its analysis summaries
    for a in data.analyses:
        assert "recording_path" not in a and "recording" not in a


def test_demo_runs_show_no_recording_stored(demo_settings):
    from dashboard.data import open_journal
    from dashboard.pages.run import layout, run_data

    with open_journal(demo_settings) as j:
        runs = j.runs(runner="demo")
    assert len(runs) == 22 and runs["recording_path"].isna().all()
    assert runs["analysis_summary"].notna().sum() == 20
    for run in runs.to_dict("records"):
        steps, meta, why = run_data(demo_settings, run)
        assert steps is None and why.startswith("no recording stored with this run"), why
    # the Run page: no "not in the data directory", and the stored early → late change is named in words
    page = _text(layout(demo_settings, "demo", {}))
    assert "not in the data directory" not in page and "no recording stored with this run" in page
    assert re.search(r"Early → late change stored with the run: trunk lean forward \(°\) [+-]\d", page), page
