"""``backstride`` subcommands of the training journal.

::

    backstride runner add ana --timezone Europe/Amsterdam --hr-rest 50 --hr-max 188
    backstride import run1.fit run2.fit analysis.json
    backstride run add --start 2026-03-01T07:30 --duration-min 45 --distance-km 8.2 --rpe 4 --kind easy
    backstride run set 12 --rpe 6 --kind tempo
    backstride pain 4 --where lower-back-left --when after-run
    backstride checkin --sleep-h 7.5 --sleep-quality 4 --stress 2 --sitting-h 6 --lifting none
    backstride exercise plank --sets 3
    backstride timeline --weeks 8
    backstride export --format csv --table timeline -o ana.csv

Every command takes ``--journal URL`` (default ``$BACKSTRIDE_JOURNAL`` or
``journal.sqlite3`` in the user data directory) and, where it concerns one
runner, ``--runner NAME`` (optional when the journal has a single runner).
Handlers return an exit code: 0 done, 1 refused input (the message says why),
2 usage.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from datetime import date, timedelta
from pathlib import Path

from analysis.cli import placement_arg
from journal.db import EXERCISE_CATEGORIES, LIFTING_LEVELS, PAIN_LOCATIONS, PAIN_TIMINGS, RUN_KINDS, kind_text
from journal.errors import InvalidValueError, JournalError
from journal.link import week_change_text, week_load_text
from journal.load import LOAD_LABELS, LOAD_MEASURES
from journal import validate as v
from journal.store import MAX_DISTANCE_M, MAX_EXERCISE_S, MAX_RUN_S, MAX_SPEED_M_S, PAIN_ALIASES, TIMING_ALIASES

# ----------------------------------------------------------------------------
# Registration


def _whole(lo: int, hi: int, what: str):
    """An argparse type: a whole number from ``lo`` to ``hi`` (a huge one overflowed SQLite and the calendar)."""
    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number ({what}), got {text!r}") from None
        if not lo <= n <= hi:
            raise argparse.ArgumentTypeError(f"expected {what} from {lo} to {hi}, got {text}")
        return n
    return parse


#: Run ids are SQLite integers; weeks back cover at most 20 years.
RUN_ID = _whole(1, 2**63 - 1, "a run's id")
WEEKS = _whole(1, 1040, "weeks")


def _common(p: argparse.ArgumentParser, runner: bool = True) -> None:
    p.add_argument("--journal", metavar="URL", default=None,
                   help="journal database: SQLAlchemy URL or file path (default: $BACKSTRIDE_JOURNAL, "
                        "else journal.sqlite3 in the user data directory)")
    if runner:
        p.add_argument("--runner", metavar="NAME", default=None,
                       help="whose journal (optional when there is one runner)")


def register(subparsers) -> None:
    """Add the journal's subcommands to the ``backstride`` parser."""
    # runner
    p = subparsers.add_parser("runner", help="add, list or change runners of the journal")
    sub = p.add_subparsers(dest="runner_command", metavar="ACTION")
    a = sub.add_parser("add", help="add a runner")
    a.add_argument("name")
    _runner_options(a)
    _common(a, runner=False)
    a.set_defaults(func=cmd_runner_add)
    a = sub.add_parser("set", help="change a runner's time zone or heart-rate settings")
    a.add_argument("name")
    _runner_options(a)
    _common(a, runner=False)
    a.set_defaults(func=cmd_runner_set)
    a = sub.add_parser("list", help="list the runners")
    _common(a, runner=False)
    a.set_defaults(func=cmd_runner_list)
    a = sub.add_parser("demo", help="add the demo runner (eight weeks of made-up history, see journal/demo.py)")
    a.add_argument("--name", default="demo")
    _common(a, runner=False)
    a.set_defaults(func=cmd_runner_demo)
    p.set_defaults(func=lambda args, p=p: _usage(p))

    # import
    p = subparsers.add_parser("import", help="import recordings (.parquet, BIDS-Motion *_motion.tsv, a `backstride "
                              "record` folder: analysed on import), FIT files, analysis reports (.json) or sitting "
                              "days (.json)")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--rpe", type=float, default=None, help="session RPE (0-10) for the imported runs")
    p.add_argument("--kind", choices=RUN_KINDS, default=None, help="kind of the imported runs")
    p.add_argument("--start", default=None,
                   help="start time for an analysis report that has none (2026-03-01T07:30, local time)")
    p.add_argument("--placement", default=None, metavar="P", type=placement_arg,
                   help="where the sensor of a recording was worn, when the file does not say or holds several "
                        "sensors: lower-back, foot-left, foot-right, thigh-left, thigh-right, chest (or a common "
                        "name for one: LowerBack, L5, LeftFoot, ...); overrides the file's")
    _common(p)
    p.set_defaults(func=cmd_import)

    # run
    p = subparsers.add_parser("run", help="add, change, list or delete runs typed by hand")
    sub = p.add_subparsers(dest="run_command", metavar="ACTION")
    a = sub.add_parser("add", help="add a run typed by hand")
    a.add_argument("--start", required=True,
                   help="start, local time (2026-03-01T07:30) or a date alone (2026-03-01)")
    a.add_argument("--duration-min", type=float, required=True)
    a.add_argument("--distance-km", type=float, default=None)
    a.add_argument("--rpe", type=float, default=None, help="session RPE, 0-10")
    a.add_argument("--kind", choices=RUN_KINDS, default=None)
    a.add_argument("--hr", type=float, default=None, help="mean heart rate (bpm)")
    a.add_argument("--note", default=None)
    _common(a)
    a.set_defaults(func=cmd_run_add)
    a = sub.add_parser("set", help="set a run's RPE, kind or note")
    a.add_argument("run_id", type=RUN_ID)
    a.add_argument("--rpe", type=float, default=None)
    a.add_argument("--kind", choices=RUN_KINDS, default=None)
    a.add_argument("--note", default=None)
    _common(a)
    a.set_defaults(func=cmd_run_set)
    a = sub.add_parser("list", help="list runs")
    a.add_argument("--weeks", type=WEEKS, default=8, help="how many weeks back from the latest run (default 8)")
    _common(a)
    a.set_defaults(func=cmd_run_list)
    a = sub.add_parser("delete", help="delete a run")
    a.add_argument("run_id", type=RUN_ID)
    _common(a)
    a.set_defaults(func=cmd_run_delete)
    p.set_defaults(func=lambda args, p=p: _usage(p))

    # pain
    p = subparsers.add_parser("pain", help="report pain (0-10)")
    p.add_argument("rating", type=int, help="0 (none) to 10 (worst imaginable)")
    aliases: dict[str, list[str]] = {}  # location → the other names it takes
    for alias, loc in PAIN_ALIASES.items():
        aliases.setdefault(loc, []).append(alias)
    p.add_argument("--where", required=True, metavar="WHERE", help="one of: " + ", ".join(PAIN_LOCATIONS) + "".join(
        f"; {_or(names)} mean{'s' if len(names) == 1 else ''} {loc}" for loc, names in aliases.items()))
    p.add_argument("--when", required=True, choices=PAIN_TIMINGS, help="when it hurts")
    p.add_argument("--at", default=None, help="time of the report, local (default: now)")
    p.add_argument("--note", default=None)
    _common(p)
    p.set_defaults(func=cmd_pain)

    # checkin
    p = subparsers.add_parser(
        "checkin", help="daily check-in: sleep, stress, work load",
        description="Daily check-in: sleep, stress, work load. A day checked in without a pain report counts as a "
                    "pain-free day (0/10) where pain is set beside the other factors (timeline --associations); "
                    "report pain with 'backstride pain'. A check-in also makes the day known: no run that day is a "
                    "rest day, not a missing one.")
    p.add_argument("--date", default=None, help="the day (default: today)")
    p.add_argument("--sleep-h", type=float, default=None, help="hours slept")
    p.add_argument("--sleep-quality", type=int, default=None, help="1 (very poor) to 5 (very good)")
    p.add_argument("--stress", type=int, default=None, help="1 (none) to 5 (very high)")
    p.add_argument("--sitting-h", type=float, default=None, help="hours sitting at work")
    p.add_argument("--standing-h", type=float, default=None, help="hours standing at work")
    p.add_argument("--lifting", choices=LIFTING_LEVELS, default=None)
    p.add_argument("--note", default=None)
    _common(p)
    p.set_defaults(func=cmd_checkin)

    # exercise
    p = subparsers.add_parser("exercise", help="log a core or mobility session")
    p.add_argument("name", help="e.g. plank, bird-dog, dead-bug, side-plank, sun-salutation")
    p.add_argument("--sets", type=int, default=None)
    p.add_argument("--minutes", type=float, default=None)
    p.add_argument("--category", choices=EXERCISE_CATEGORIES, default="core")
    p.add_argument("--date", default=None, help="the day (default: today)")
    p.add_argument("--note", default=None)
    _common(p)
    p.set_defaults(func=cmd_exercise)

    # timeline
    p = subparsers.add_parser("timeline", help="daily timeline with load, flags, sitting, pain")
    _timeline_options(p)
    p.add_argument("--associations", action="store_true",
                   help="also list how pain went with each factor over the previous 0-3 days")
    p.add_argument("--width", type=int, default=None, help="table width in characters")
    _common(p)
    p.set_defaults(func=cmd_timeline)

    # export
    p = subparsers.add_parser("export", help="export a runner's journal as CSV or JSON")
    p.add_argument("--format", choices=("csv", "json"), required=True)
    p.add_argument("--table", default="timeline",
                   choices=("timeline", "weekly", "runs", "sitting", "pain", "checkins", "exercises"),
                   help="CSV only: which table (default: the daily timeline)")
    p.add_argument("-o", "--output", default=None, help="file to write (default: standard output); an existing "
                                                         "file is kept unless --force")
    p.add_argument("--force", action="store_true", help="with -o: replace the file if it exists")
    _timeline_options(p)
    _common(p)
    p.set_defaults(func=cmd_export)


def _runner_options(a: argparse.ArgumentParser) -> None:
    a.add_argument("--timezone", default=None,
                   help="IANA time zone, e.g. Europe/Amsterdam (default UTC)")
    a.add_argument("--hr-rest", type=float, default=None, help="resting heart rate (bpm), for TRIMP")
    a.add_argument("--hr-max", type=float, default=None, help="maximum heart rate (bpm), for TRIMP")
    a.add_argument("--sex", choices=("female", "male"), default=None, help="chooses the TRIMP weighting")


def _timeline_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--weeks", type=WEEKS, default=8, help="how many calendar weeks (default 8)")
    p.add_argument("--end", default=None, help="last day (default: the last day with an entry)")
    p.add_argument("--load", choices=tuple(LOAD_MEASURES), default="session",
                   help="load measure for the ratios and the weekly rule (default: session RPE load)")
    p.add_argument("--unlogged", choices=("unknown", "rest"), default="unknown",
                   help="days with nothing logged: unknown (default) or rest days")


def _or(words: list[str]) -> str:
    return " or ".join(filter(None, (", ".join(words[:-1]), words[-1])))


def _usage(p: argparse.ArgumentParser) -> int:
    p.print_help()
    return 2


def _open(args):
    from journal.store import Journal

    return Journal.open(args.journal)


def _err(msg: str) -> None:
    print(f"error: {msg}", file=sys.stderr)


def _in_range(value: float | None, option: str, unit: str, lo: float, hi: float, *,
              lo_open: bool = False) -> float | None:
    """``value`` of ``option`` checked in the unit the user typed, before it is converted to SI units.

    The journal checks the converted value again, but its message would name
    its own field in seconds (``sleep_s: got 108000.0``) instead of the option.
    """
    if value is None or (math.isfinite(value) and (value > lo if lo_open else value >= lo) and value <= hi):
        return value
    expected = f"above {lo:g} and at most {hi:g} {unit}" if lo_open else f"from {lo:g} to {hi:g} {unit}"
    raise JournalError(f"{option}: got {value:g} {unit}, expected a number {expected}")


#: journal field -> the option (its argparse dest) that typed it, in the same unit, so a refusal names what the
#: user typed (``--hr: got 300.0``, not ``avg_hr_bpm``); fields typed in another unit are checked by _in_range
_FIELD_OPTIONS = {"avg_hr_bpm": "hr", "hr_rest_bpm": "hr_rest", "hr_max_bpm": "hr_max", "day": "date",
                  **{f: f for f in ("rpe", "kind", "note", "where", "when", "at", "sets", "stress", "sleep_quality",
                                    "lifting", "category", "sex", "timezone", "weeks", "start", "end")}}


def _guard(fn):
    """Turn refused input into a message and exit code 1."""
    def wrapper(args) -> int:
        try:
            return fn(args)
        except InvalidValueError as exc:
            dest = _FIELD_OPTIONS.get(exc.field)
            if dest is not None and hasattr(args, dest):
                msg = f"--{dest.replace('_', '-')}: got {exc.value!r}, expected {exc.expected}"
                _err(msg + (f"; {exc.hint}" if exc.hint else ""))
            else:
                _err(str(exc))
            return 1
        except JournalError as exc:
            _err(str(exc))
            return 1
    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


# ----------------------------------------------------------------------------
# Handlers


@_guard
def cmd_runner_add(args) -> int:
    with _open(args) as j:
        r = j.add_runner(args.name, timezone="UTC" if args.timezone is None else args.timezone, hr_rest_bpm=args.hr_rest, hr_max_bpm=args.hr_max,
                         sex=args.sex)
        print(f"runner {r.name!r} added (time zone {r.timezone}) to {j.url}"
              + ("; runs and pain are dated in UTC: set the runner's own zone with `backstride runner set "
                 f"{r.name} --timezone Area/City` (e.g. Europe/Amsterdam)" if args.timezone is None else ""))
    return 0


@_guard
def cmd_runner_set(args) -> int:
    changes = {k: val for k, val in (("timezone", args.timezone), ("hr_rest_bpm", args.hr_rest),
                                     ("hr_max_bpm", args.hr_max), ("sex", args.sex)) if val is not None}
    with _open(args) as j:
        r = j.update_runner(args.name, **changes)
        print(f"runner {r.name!r}: time zone {r.timezone}, HR rest {r.hr_rest_bpm}, HR max {r.hr_max_bpm}, "
              f"sex {r.sex}")
        if j.redated_:
            print(f"{j.redated_} run(s) and pain report(s) now fall on another day (the calendar of {r.timezone})")
    return 0


@_guard
def cmd_runner_list(args) -> int:
    with _open(args) as j:
        rs = j.runners()
        if not rs:
            print("no runners yet: backstride runner add NAME")
        for r in rs:
            print(f"{r.name}\t{r.timezone}\tHR rest {r.hr_rest_bpm or '-'}\tHR max {r.hr_max_bpm or '-'}")
    return 0


@_guard
def cmd_runner_demo(args) -> int:
    from journal.demo import load_demo
    from journal.store import Journal

    name = load_demo(args.journal, name=args.name)
    with Journal.open(args.journal) as j:
        print(f"demo runner {name!r} in {j.url}; try: backstride timeline --runner {name}")
    return 0


def cmd_import(args) -> int:
    from tqdm import tqdm

    from journal.recordings import import_recording

    try:
        j = _open(args)
    except JournalError as exc:
        _err(str(exc))
        return 1
    failed = 0
    with j:
        try:
            j.runner(args.runner)  # once, before any file is read: a missing runner is no fault of the files
        except JournalError as exc:
            _err(f"{exc}; nothing imported")
            return 1
        bar = tqdm(args.files, desc="importing", unit="file", disable=None, file=sys.stderr)
        for f in bar:
            path = Path(f)
            try:
                if path.suffix.lower() in (".fit", ".json"):
                    res = j.import_file(path, runner=args.runner, rpe=args.rpe, kind=args.kind, start=args.start)
                elif not path.exists():
                    raise JournalError(f"{path}: no such file")
                else:
                    res, _ = import_recording(j, path, runner=args.runner, placement=args.placement,
                                              start=args.start, rpe=args.rpe, kind=args.kind)
            except JournalError as exc:
                failed += 1
                tqdm.write(f"error: {exc}", file=sys.stderr)
                continue
            except Exception as exc:  # noqa: BLE001 - one file's unforeseen fault must not cost the files after it
                failed += 1
                tqdm.write(f"error: {path}: {type(exc).__name__}: {exc} (not foreseen: please report it with the "
                           "file)", file=sys.stderr)
                continue
            what = (f"run {', '.join(map(str, res.run_ids))}" if res.run_ids else
                    f"{len(res.dates)} day(s)" if res.dates else "")
            line = f"{res.status}: {path} ({res.kind}{', ' + what if what else ''})"
            if res.message:
                line += f": {res.message}"
            tqdm.write(line, file=sys.stdout)
    if failed:
        _err(f"{failed} of {len(args.files)} file(s) not imported (nothing was changed for them)")
    return 1 if failed else 0


@_guard
def cmd_run_add(args) -> int:
    _in_range(args.duration_min, "--duration-min", "min", 0, MAX_RUN_S / 60, lo_open=True)
    _in_range(args.distance_km, "--distance-km", "km", 0, MAX_DISTANCE_M / 1000)
    if args.distance_km is not None and args.distance_km * 1000.0 / (args.duration_min * 60.0) > MAX_SPEED_M_S:
        raise JournalError(f"--distance-km: {args.distance_km:g} km in {args.duration_min:g} min is faster than "
                           f"{MAX_SPEED_M_S * 3.6:g} km/h; check the units (kilometres and minutes)")
    with _open(args) as j:
        rid = j.add_run(runner=args.runner, start=args.start, duration_s=args.duration_min * 60.0,
                        distance_m=None if args.distance_km is None else args.distance_km * 1000.0,
                        rpe=args.rpe, kind=args.kind, avg_hr_bpm=args.hr, note=args.note)
        print(f"run {rid} added")
    return 0


@_guard
def cmd_run_set(args) -> int:
    changes = {k: val for k, val in (("rpe", args.rpe), ("kind", args.kind), ("note", args.note)) if val is not None}
    if not changes:
        _err("nothing to change: give --rpe, --kind or --note")
        return 2
    with _open(args) as j:
        j.set_run(args.run_id, runner=args.runner, **changes)
        print(f"run {args.run_id} updated")
    return 0


@_guard
def cmd_run_list(args) -> int:
    from rich.table import Table

    from sensing.record_cli import make_console

    with _open(args) as j:
        runs = j.runs(runner=args.runner)
    title, older = "runs", 0
    if len(runs):
        last = runs["local_date"].max()
        shown = runs["local_date"] > last - timedelta(weeks=args.weeks)
        older = int((~shown).sum())
        runs = runs[shown]
        title = f"runs in the {args.weeks} week(s) up to {last}" + (
            f" ({older} older: --weeks for more)" if older else "")
    t = Table(title=title)
    for c in ("id", "date", "kind", "min", "km", "RPE", "load", "TRIMP", "source"):
        t.add_column(c, justify="right" if c not in ("date", "kind", "source") else "left")
    for _, r in runs.iterrows():
        t.add_row(str(r["id"]), str(r["local_date"]), kind_text(r["kind"], "–"), _f(r["duration_s"] / 60, 0),
                  _f(r["distance_m"] / 1000 if r["distance_m"] == r["distance_m"] else None, 1), _f(r["rpe"], 0),
                  _f(r["session_load_au"], 0), _f(r["trimp_au"], 0), r["source"])
    make_console(args.__dict__.get("width")).print(t)
    return 0


@_guard
def cmd_run_delete(args) -> int:
    with _open(args) as j:
        j.delete_run(args.run_id, runner=args.runner)
        print(f"run {args.run_id} deleted")
    return 0


@_guard
def cmd_pain(args) -> int:
    with _open(args) as j:
        pid = j.add_pain(args.rating, runner=args.runner, where=args.where, when=args.when, at=args.at,
                         note=args.note)
        # echo what was stored (the alias typed, such as lower-back, is kept as lower-back-centre)
        where = v.choice("where", args.where, PAIN_LOCATIONS, aliases=PAIN_ALIASES)
        when = v.choice("when", args.when, PAIN_TIMINGS, aliases=TIMING_ALIASES)
        print(f"pain {args.rating}/10 ({where}, {when}) recorded (report {pid})")
    return 0


@_guard
def cmd_checkin(args) -> int:
    h = 3600.0
    for option, hours in (("--sleep-h", args.sleep_h), ("--sitting-h", args.sitting_h),
                          ("--standing-h", args.standing_h)):
        _in_range(hours, option, "h", 0, 24)
    if (args.sitting_h or 0) + (args.standing_h or 0) > 24:
        raise JournalError(f"--sitting-h + --standing-h: got {args.sitting_h:g} h + {args.standing_h:g} h, "
                           f"expected at most 24 h together")
    with _open(args) as j:
        j.add_checkin(runner=args.runner, day=args.date,
                      sleep_s=None if args.sleep_h is None else args.sleep_h * h,
                      sleep_quality=args.sleep_quality, stress=args.stress,
                      work_sitting_s=None if args.sitting_h is None else args.sitting_h * h,
                      work_standing_s=None if args.standing_h is None else args.standing_h * h,
                      lifting=args.lifting, note=args.note)
        print(f"check-in of {args.date or 'today'} recorded")
    return 0


@_guard
def cmd_exercise(args) -> int:
    _in_range(args.minutes, "--minutes", "min", 0, MAX_EXERCISE_S / 60, lo_open=True)
    if args.sets is None and args.minutes is None:
        raise JournalError(f"exercise {args.name!r}: give --sets, --minutes or both (how much was done)")
    with _open(args) as j:
        j.add_exercise(args.name, runner=args.runner, category=args.category, sets=args.sets,
                       duration_s=None if args.minutes is None else args.minutes * 60.0, day=args.date,
                       note=args.note)
        print(f"{args.category} exercise {args.name!r} recorded")
    return 0


@_guard
def cmd_export(args) -> int:
    kw = {"weeks": args.weeks, "end": args.end, "load": args.load, "unlogged": args.unlogged}
    out = Path(args.output) if args.output else None
    if out is not None:  # said before any work, and an earlier export is not lost by a repeated command
        if out.is_dir():
            raise JournalError(f"-o {out}: a folder; give a file name, e.g. {out / ('journal.' + args.format)}")
        if not out.parent.is_dir():
            raise JournalError(f"-o {out}: its folder {out.parent} does not exist; nothing was written")
        if out.exists() and not args.force:
            raise JournalError(f"-o {out}: exists; nothing was written (give another name, or --force to replace it)")
    with _open(args) as j:
        if args.format == "json":
            text = json.dumps(j.export_json(runner=args.runner, **kw), indent=2, ensure_ascii=False)
        else:
            text = j.export_csv(args.table, runner=args.runner, **kw)
    if out is not None:
        tmp = out.with_name(out.name + ".part")  # a full disk or Ctrl-C leaves the earlier file whole
        try:
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(out)
        finally:
            tmp.unlink(missing_ok=True)
        print(f"written to {out}", file=sys.stderr)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


# ----------------------------------------------------------------------------
# The timeline table


def _f(x, digits: int = 1, unknown: str = "–") -> str:
    if x is None:
        return unknown
    try:
        if isinstance(x, float) and math.isnan(x):
            return unknown
    except TypeError:
        pass
    return f"{x:.{digits}f}"


#: What an arbitrary unit of each AU load is, for the timeline's legend.
TIMELINE_AU = {"session": "minutes × the run's RPE, Foster's session load",
               "trimp": "Banister's TRIMP, minutes weighted by heart-rate reserve",
               "mechanical": "steps × mean impact index, from a recording"}


def _week_km(row) -> str:
    """A week's kilometres: "–" when its runs gave no distance, "≥ x" when only some did."""
    if row["runs_n"] > 0 and row["distance_runs_known"] < row["runs_n"]:
        return "–" if row["distance_runs_known"] == 0 else f"≥ {row['distance_m'] / 1000:.1f}"
    return _f(row["distance_m"] / 1000 if row["distance_m"] == row["distance_m"] else None)


def _short_flag(kind: str, text: str) -> str:
    if kind == "pain":
        return "pain: see note below"
    return text


@_guard
def cmd_timeline(args) -> int:
    from rich.table import Table
    from rich.text import Text

    from journal.link import CAVEAT
    from sensing.record_cli import make_console

    with _open(args) as j:
        tl = j.timeline(runner=args.runner, weeks=args.weeks, end=args.end, load=args.load,
                        unlogged=args.unlogged)
    console = make_console(args.width)
    label, unit = LOAD_LABELS[tl.load]
    scale = {"duration": 1 / 60, "distance": 1 / 1000}.get(tl.load, 1.0)

    runs_by_day: dict[date, list[str]] = {}
    for _, r in tl.runs.iterrows():
        km = f" {r['distance_m'] / 1000:.1f} km" if r["distance_m"] == r["distance_m"] else ""
        rpe = f" RPE {r['rpe']:g}" if r["rpe"] == r["rpe"] else ""
        runs_by_day.setdefault(r["local_date"], []).append(
            f"{kind_text(r['kind'])} {r['duration_s'] / 60:.0f} min{km}{rpe}")

    t = Table(title=f"{tl.runner}: {tl.start} to {tl.end} ({label}, {unit})", show_lines=False)
    for name, just in (("date", "left"), ("run", "left"), ("load", "right"), ("A:C", "right"),
                       ("sitting h (longest)", "right"), ("sleep h / stress", "right"), ("core+mob.", "right"),
                       ("pain", "left"), ("flags", "left")):
        t.add_column(name, justify=just, overflow="fold")
    for day, row in tl.daily.iterrows():
        d = day.date()
        logged = bool(row["logged"])
        known = row["load"] == row["load"]  # --unlogged rest: a day without entries is a known rest day
        run = "; ".join(runs_by_day.get(d, [])) or ("" if logged else "rest" if known else "no data")
        load = _f(row["load"] * scale, 0) if known else "?"
        sit = (f"{row['sitting_s'] / 3600:.1f} ({row['longest_sitting_s'] / 3600:.1f})"
               if row["sitting_s"] == row["sitting_s"] else
               f"{row['work_sitting_s'] / 3600:.1f} at work, reported" if row["work_sitting_s"] == row["work_sitting_s"]
               else "")
        sleep = ""
        if row["sleep_s"] == row["sleep_s"] or row["stress"] == row["stress"]:
            sleep = f"{_f(row['sleep_s'] / 3600 if row['sleep_s'] == row['sleep_s'] else None)} / {_f(row['stress'], 0)}"
        core = "" if not row["exercise_n"] == row["exercise_n"] or row["exercise_n"] == 0 else \
            f"{int(row['core_n'])}+{int(row['mobility_n'])}"
        pain = ""
        if row["pain_max"] == row["pain_max"]:
            pain = f"{row['pain_max']:.0f} {row['pain_where']}"
        pain_text = Text(pain, style="bold red" if row["pain_max"] >= 5 else "red" if row["pain_max"] >= 3 else "")
        flags = "; ".join(dict.fromkeys(_short_flag(k, txt) for k, txt in row["flag_items"]))
        style = "yellow" if any(k != "pain" for k, _ in row["flag_items"]) else ("dim" if not logged else "")
        t.add_row(f"{d:%a %d %b}", run, load, _f(row["acwr"], 2), sit, sleep, core, pain_text, flags, style=style)
    console.print(t)

    w = Table(title="weeks (Monday to Sunday)")
    for name in ("week", "runs", "time h", "km", f"{label}", "known days", "monotony", "strain", "vs week before",
                 "core", "notes"):
        w.add_column(name, justify="left" if name in ("week", "notes", "vs week before") else "right",
                     overflow="fold")
    for ws, row in tl.weekly.iterrows():
        change = week_change_text(row["increase"], row["flag"], row["unknown_days"], row["prev_unknown_days"])
        if row["flag"] is True:
            change = f"[bold yellow]{change} (> 10 %)[/]"
        elif row["flag"] is None and row["reason"]:
            change = f"{change.removesuffix(' ?')} ? {row['reason']}".strip()
        notes = row["core_note"]
        w.add_row(f"{ws:%d %b}", str(int(row["runs_n"])), _f(row["duration_s"] / 3600 if row["duration_s"] ==
                                                              row["duration_s"] else None),
                  _week_km(row),
                  week_load_text(row["load_known"] * scale, row["coverage"]), f"{int(row['known_days'])}/7",
                  _f(row["monotony"], 2), _f(row["strain"] * scale, 0), change,
                  _f(row["core_n"], 0), notes)
    console.print(w)

    seen = set()
    for pf in reversed(tl.pain_flags):
        if pf.kind not in seen:
            seen.add(pf.kind)
            console.print(f"[bold red]{pf.date}: {pf.message}[/]")
    console.print(tl.sitting_trend.text)
    episodes = tl.pain_episodes()
    if episodes:
        console.print("[bold]Pain rose after flagged days:[/]")
        for e in episodes:
            console.print(f"  {e.text}")
    if args.associations:
        a = tl.associations()
        a = a.dropna(subset=["rho"]) if len(a) else a
    if args.associations and not len(a):
        console.print("No associations yet: too few days with both pain and the factor known.")
    elif args.associations:
        a = a.reindex(a["rho"].abs().sort_values(ascending=False).index).head(12)
        at = Table(title="pain and the days before it (Spearman, strongest first)")
        for name in ("factor", "lag (days)", "rho", "n", "caution"):
            at.add_column(name, overflow="fold")
        for _, r in a.iterrows():
            at.add_row(r["description"], str(r["lag_days"]), f"{r['rho']:+.2f}", str(r["n"]), r["caution"])
        console.print(at)
        console.print(f"[italic]{CAVEAT}[/]")
    unknown = int((~tl.daily["logged"]).sum())
    if unknown and args.unlogged == "rest":
        console.print(f"{unknown} day(s) without any entry are taken as rest days (--unlogged rest).")
    elif unknown:
        console.print(f"{unknown} day(s) without any entry are shown as unknown, not as rest "
                      f"(--unlogged rest if your watch records every run).")
    unit_text = f"AU: arbitrary units ({TIMELINE_AU[tl.load]})" if tl.load in TIMELINE_AU else ""
    console.print("[dim]" + "; ".join(x for x in (
        "A:C: acute:chronic, the mean daily load of the last 7 days over that of the 21 days before"
        + (f" (flagged above {tl.settings['acwr_high']:g}: too much too soon)" if tl.settings.get("acwr_high") else ""),
        "core+mob.: core and mobility sessions that day",
        "monotony: a week's mean daily load over its standard deviation (Foster 1998; above 2, hard and easy days "
        "hardly differ)", "strain: the week's load × its monotony (a week with days unknown: 7 × its known days' mean)", unit_text) if x) + ".[/]")
    console.print("[dim]Flags are patterns worth a look, not a diagnosis.[/]")
    return 0
