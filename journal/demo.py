"""A demo runner with eight weeks of journal, for the dashboard, the docs and tests.

The story (days counted from ``start``, a Monday; office job on weekdays):

======  =================================================================================
weeks   what happens
======  =================================================================================
1-4     Steady base: easy runs on Tuesday and Thursday (40-47 min, RPE 3), a long run on
        Saturday (70-76 min, RPE 4); each week at most ~3 % above the one before.
        Core work (plank, bird-dog) on Monday and Wednesday, sun salutations most days.  Occasional stiffness (1-2/10).
        Days 17-19 (Thursday to Saturday of week 3): nothing logged at all (a gap:
        the timeline shows them as unknown, not as rest); that week's runs are on
        Tuesday, Wednesday and Sunday.
5       Work deadline: 8-9 h sitting a day (usually ~5 h) with bouts over 2 h, less sleep,
        stress 4.
        Training spikes anyway: intervals on Tuesday (RPE 8), tempo on Thursday
        (RPE 7), a 100 min long run on Saturday (day 33, RPE 6): a run ~30 % longer
        than the recent long runs and a week far above 10 %.  No core work.
        Pain starts after the long run (3/10) and is 5-6/10 the next mornings.
6       Two short easy runs; pain 4-6/10; still no core work.
7       Core work resumes, sitting breaks improve.  Intervals on Thursday with 105 min
        of running in 7 days (usual ~160 min): intensity before volume is back.
8       Easy runs; pain eases a little but stays at 3-4/10: on day 55 it has not
        eased for three weeks (flag: worth discussing with a physiotherapist).
======  =================================================================================

Runs recorded with the IMU (all but two) carry an analysis summary
(``backstride.analysis/1``) with form figures: heel-strike share and trunk-lean
drift are larger in the long and hard runs of week 5.  The summaries are made
up and no recording file comes with the demo, so no run names one (no
``recording_path``): the dashboard shows their summaries only.  Everything is drawn
from ``numpy.random.default_rng(seed)``: the same seed gives the same journal.

Load it with :func:`load_demo` (``python -m journal.demo [URL]``).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from analysis.constants import REPORT_SCHEMA

DEFAULT_SEED = 20250106
DEFAULT_START = date(2025, 1, 6)  # a Monday
DEFAULT_NAME = "demo"
TIMEZONE = "Europe/Amsterdam"

# (week index 0-7, weekday 0=Mon) -> (kind, minutes, RPE, mean heart rate bpm, recorded with the IMU)
_PLAN: dict[tuple[int, int], tuple[str, float, float, float, bool]] = {
    (0, 1): ("easy", 40, 3, 138, True), (0, 3): ("easy", 45, 3, 139, True), (0, 5): ("long", 70, 4, 142, True),
    (1, 1): ("easy", 42, 3, 138, True), (1, 3): ("easy", 45, 3, 139, True), (1, 5): ("long", 72, 4, 142, True),
    # week 3: Thursday to Saturday are not logged (the gap); runs on Tuesday, Wednesday, Sunday
    (2, 1): ("easy", 42, 3, 138, True), (2, 2): ("easy", 46, 3, 139, False), (2, 6): ("long", 74, 4, 142, True),
    (3, 1): ("easy", 43, 3, 138, True), (3, 3): ("easy", 47, 3, 139, True), (3, 5): ("long", 76, 4, 143, True),
    # week 5: the spike
    (4, 1): ("intervals", 50, 8, 162, True), (4, 3): ("tempo", 50, 7, 164, True), (4, 5): ("long", 100, 6, 150, True),
    (5, 2): ("easy", 30, 4, 140, True), (5, 5): ("easy", 35, 4, 141, True),
    # week 7: intervals on Thursday with little volume
    (6, 1): ("easy", 30, 3, 139, True), (6, 3): ("intervals", 40, 8, 160, True),
    (7, 1): ("easy", 35, 3, 138, True), (7, 3): ("easy", 35, 3, 138, False), (7, 5): ("easy", 40, 3, 139, True),
}
GAP_DAYS = (17, 18, 19)
SPIKE_DAY = 33


@dataclass
class DemoData:
    """The demo journal as plain entries (the arguments of the Journal's methods)."""

    runner: dict
    runs: list[dict] = field(default_factory=list)
    analyses: list[dict] = field(default_factory=list)
    days: list[dict] = field(default_factory=list)
    pains: list[dict] = field(default_factory=list)
    checkins: list[dict] = field(default_factory=list)
    exercises: list[dict] = field(default_factory=list)


def generate(seed: int = DEFAULT_SEED, *, start: date = DEFAULT_START, name: str = DEFAULT_NAME) -> DemoData:
    """The eight demo weeks (see the module docstring); pure, no database."""
    if start.weekday() != 0:
        raise ValueError(f"start must be a Monday, got {start} ({start:%A})")
    rng = np.random.default_rng(seed)
    zone = ZoneInfo(TIMEZONE)
    data = DemoData(runner={"name": name, "timezone": TIMEZONE, "hr_rest_bpm": 52.0, "hr_max_bpm": 188.0,
                            "sex": "female"})
    for i in range(56):
        d = start + timedelta(days=i)
        week, wd = divmod(i, 7)
        if i in GAP_DAYS:
            continue
        office = wd < 5
        deadline = week == 4 and office

        # Runs (morning before work, Saturday/Sunday at 9:00).
        plan = _PLAN.get((week, wd))
        if plan:
            kind, minutes, rpe, hr, recorded = plan
            t0 = datetime.combine(d, time(7, 0) if office else time(9, 0), zone)
            pace_s_per_km = {"easy": 345, "long": 355, "tempo": 290, "intervals": 315}[kind]
            duration_s = minutes * 60.0
            run = {"start": t0, "duration_s": duration_s,
                   "distance_m": round(duration_s / pace_s_per_km * 1000.0 * rng.uniform(0.97, 1.03), 1),
                   "rpe": rpe, "kind": kind, "avg_hr_bpm": hr + float(rng.integers(-2, 3))}
            data.runs.append(run)
            if recorded:
                hard = kind in ("intervals", "tempo") or minutes >= 90
                heel = 0.55 + (0.15 if minutes >= 90 else 0.05 if hard else 0.0) + rng.normal(0, 0.02)
                drift = (2.8 if minutes >= 90 else 1.6 if hard else 0.6) + rng.normal(0, 0.2)
                cadence = {"easy": 168, "long": 166, "tempo": 176, "intervals": 178}[kind] + rng.normal(0, 1)
                data.analyses.append({
                    "schema": REPORT_SCHEMA, "placement": "lower-back", "sampling_rate_hz": 100.0,
                    "steps": [], "bouts": [{"start_s": 0.0, "end_s": duration_s}], "warnings": [],
                    "summary": {
                        "start_utc": t0.astimezone(ZoneInfo("UTC")).isoformat(),
                        "duration_s": duration_s,
                        "n_steps": int(round(cadence * minutes)),
                        "cadence_spm": round(float(cadence), 1),
                        # g/s, the scale of analysed runs (the simulated sample run reads 52 g/s)
                        "impact_index_mean": round(52.0 + (8.0 if hard else 0.0) + rng.normal(0, 1.5), 1),
                        "rearfoot_share": round(float(np.clip(heel, 0, 1)), 3),
                        "trunk_lean_fwd_deg": round(8.0 + drift / 2 + rng.normal(0, 0.3), 2),
                        "fatigue": {"trunk_lean_fwd_deg": {"change": round(float(drift), 2)}},
                    },
                })

        # Sitting day from the all-day recording.
        if office:
            sitting_h = (8.6 if deadline else 5.3) + rng.normal(0, 0.3)
            longest_h = (2.6 if deadline else 1.3) + rng.normal(0, 0.2)
            if week >= 6:
                longest_h -= 0.3
            breaks = (0.8 if deadline else 2.4 if week >= 6 else 1.8) + rng.normal(0, 0.15)
        else:
            sitting_h = 3.5 + rng.normal(0, 0.4)
            longest_h = 1.0 + rng.normal(0, 0.2)
            breaks = 2.5 + rng.normal(0, 0.2)
        if week == 1 and wd == 2:  # one long meeting day early on
            longest_h, sitting_h = 2.2, 7.4
        sitting_s = round(sitting_h * 3600.0)
        longest_s = round(min(longest_h * 3600.0, sitting_s))
        data.days.append({
            "date": d.isoformat(), "sitting_s": sitting_s,
            "bouts_ge_30min": int(round(sitting_h / 1.1)),
            "bouts_ge_2h": int(longest_s >= 7200) + (1 if deadline and wd in (1, 3) else 0),
            "longest_sitting_s": longest_s, "breaks_per_sitting_h": round(float(max(breaks, 0.1)), 2),
            "wear_s": 15 * 3600, "flags": ["sitting_bout_2h"] if longest_s >= 7200 else [],
        })

        # Check-in (sleep, stress, work).
        data.checkins.append({
            "day": d, "sleep_s": round(((6.0 if week == 4 else 7.4) + rng.normal(0, 0.3)) * 3600),
            "sleep_quality": int(np.clip(round((2 if week == 4 else 4) + rng.normal(0, 0.5)), 1, 5)),
            "stress": 4 if deadline else 2,
            "work_sitting_s": round(sitting_h * 0.8 * 3600) if office else 0,
            "work_standing_s": 3600 if office else 0,
            "lifting": "light" if wd == 5 else "none",
        })

        # Core and mobility.
        core_weeks = week < 4 or week >= 6
        if core_weeks and wd in (0, 2):
            data.exercises.append({"name": "plank", "category": "core", "sets": 3, "day": d})
            data.exercises.append({"name": "bird-dog", "category": "core", "sets": 3, "day": d})
        if core_weeks and wd in (0, 1, 2, 3, 4, 6):
            data.exercises.append({"name": "sun salutation", "category": "mobility", "sets": 5, "day": d})

        # Pain.
        at = datetime.combine(d, time(20, 0), zone)
        if i in (9, 24):
            data.pains.append({"rating": 2 if i == 9 else 1, "where": "lower-back-centre", "when": "at-work",
                               "at": datetime.combine(d, time(16, 0), zone), "note": "stiff after sitting"})
        if i == SPIKE_DAY:
            data.pains.append({"rating": 3, "where": "lower-back-left", "when": "after-run", "at": at})
        if i > SPIKE_DAY:
            morning = datetime.combine(d, time(7, 30), zone)
            if i <= 36:
                r = 5 + (i >= 35)
            elif i <= 48:
                r = int(np.clip(round(5 + rng.normal(0, 0.6)), 4, 6))
            else:
                r = int(np.clip(round(3.6 + rng.normal(0, 0.4)), 3, 4))
            data.pains.append({"rating": r, "where": "lower-back-left", "when": "next-morning", "at": morning})
    return data


def load_demo(url: str | None = None, *, name: str = DEFAULT_NAME, seed: int = DEFAULT_SEED,
              start: date = DEFAULT_START) -> str:
    """Create the demo runner in the journal at ``url`` (once; later calls do nothing).

    Returns the runner's name.  Everything goes through the public
    :class:`journal.Journal` methods, so the demo exercises the same checks as
    real entries.
    """
    from journal.errors import UnknownRunnerError
    from journal.store import Journal

    data = generate(seed, start=start, name=name)
    with Journal.open(url) as j:
        try:
            j.runner(name)
            return name
        except UnknownRunnerError:
            pass
        j.add_runner(**data.runner)
        for r in data.runs:
            j.add_run(runner=name, **r)
        for a in data.analyses:
            j.import_analysis(a, runner=name)
        j.add_days(data.days, runner=name)
        for c in data.checkins:
            j.add_checkin(runner=name, **c)
        for e in data.exercises:
            j.add_exercise(runner=name, **e)
        for p in data.pains:
            j.add_pain(runner=name, **p)
    return name


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m journal.demo", description=__doc__.split("\n\n")[0])
    p.add_argument("url", nargs="?", default=None, help="journal URL or path (default: $BACKSTRIDE_JOURNAL "
                                                        "or the user data directory)")
    p.add_argument("--name", default=DEFAULT_NAME)
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = p.parse_args(argv)
    name = load_demo(args.url, name=args.name, seed=args.seed)
    print(f"demo runner {name!r} ready; try: backstride timeline --runner {name} --weeks 8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
