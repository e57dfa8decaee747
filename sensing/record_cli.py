"""``backstride scan``, ``backstride record`` and ``backstride replay``.

    backstride scan [--timeout 5]
    backstride record --sensor NAME_OR_ADDRESS [--sensor ...] --placement P [--placement ...] [--out DIR] [--rate HZ]
    backstride replay REC [--speed 1|10|max] [--placement P]
    backstride convert FILE.csv --acc X,Y,Z --acc-unit U [--gyr X,Y,Z --gyr-unit U] (--rate-hz HZ | --time COL
                       [--resample-hz HZ])
                       [--start ISO] --placement P [--out FILE.parquet]

``record`` takes one ``--placement`` per ``--sensor``, in order; it writes a
crash-safe live recording (:mod:`sensing.chunked`) into ``--out`` (default
``recordings/live-<UTC time>``) and shows the live view until Ctrl-C, which
stops the sensors and closes the files completely.  A heart-rate strap or
running speed/cadence footpod (standard Bluetooth services) is recorded
beside the IMU sensors as ``heart_rate.arrows`` / ``rsc.arrows``; a Polar H10
gives both its accelerometer and its heart rate.  Open the result with
``backstride analyse DIR --placement P``.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import threading
from pathlib import Path

from rich.console import Console
from rich.table import Table

from analysis.cli import duration_text, placement_arg
from analysis.constants import MAX_SAMPLING_RATE_HZ, MIN_SAMPLING_RATE_HZ, PLACEMENTS

PLACEMENT_HELP = (f"one of {', '.join(PLACEMENTS)} (or a common name for one: LowerBack, L5, pelvis, LeftFoot, "
                  "right_foot, ...)")


def register(subparsers) -> None:
    p = subparsers.add_parser("scan", help="list supported BLE sensors nearby")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds to scan (default 5)")
    p.add_argument("--all", action="store_true", help="list every device, also unsupported ones")
    p.set_defaults(func=cmd_scan)

    p = subparsers.add_parser("record", help="stream and record one or more BLE sensors, with a live view")
    p.add_argument("--sensor", action="append", required=True, metavar="NAME_OR_ADDRESS",
                   help="advertised name (or its start) or address; repeat for several sensors")
    p.add_argument("--placement", action="append", required=True, type=placement_arg, metavar="P",
                   help=f"where each sensor is worn, one per --sensor, in the same order: {PLACEMENT_HELP}")
    p.add_argument("--out", type=Path, default=None, help="folder for the recording (default recordings/live-<UTC>)")
    p.add_argument("--rate", type=int, action="append", default=None,
                   help="sampling rate to ask for, Hz: once for every sensor, or one per --sensor in the same order "
                        "(default: per profile)")
    p.add_argument("--scan-timeout", type=float, default=10.0, help="seconds to look for each sensor")
    p.set_defaults(func=cmd_record)

    p = subparsers.add_parser("replay", help="play a recording through the live path (live view)")
    p.add_argument("recording", type=Path)
    p.add_argument("--speed", default="1", help="1 (real time), 10, any factor, or max")
    p.add_argument("--placement", type=placement_arg, metavar="P", default=None,
                   help=f"overrides the recording's placement: {PLACEMENT_HELP}")
    p.set_defaults(func=cmd_replay)

    p = subparsers.add_parser(
        "convert", help="turn a CSV of accelerometer (and gyroscope) samples into a backstride recording (.parquet)",
        description="Turn a CSV export (a phone app, a sensor's own software) into a backstride recording that "
                    "analyse, replay, import and the dashboard read. Name the file's columns in x, y, z order and "
                    "their units; the sensor's axes need not match the body's (the analysis finds up and forward "
                    "itself). Samples come at a fixed rate: give --rate-hz, or --time for a column of times, which "
                    "also finds rows the recorder lost.")
    p.add_argument("csv", type=Path, help="the CSV file (one header row, one row per sample); with --gyr-file, "
                                          "the accelerometer's")
    p.add_argument("--acc", required=True, metavar="X,Y,Z", help="the accelerometer's three column names")
    p.add_argument("--acc-unit", required=True, metavar="UNIT", help="their unit: g, mg or m/s^2")
    p.add_argument("--gyr", metavar="X,Y,Z", help="the gyroscope's three column names (optional: without one, "
                                                  "analyse says which figures need it)")
    p.add_argument("--gyr-unit", metavar="UNIT", help="their unit: deg/s, rad/s or mdeg/s")
    p.add_argument("--gyr-file", type=Path, metavar="CSV",
                   help="the gyroscope's own file, when the app writes each sensor to a file of its own (phyphox, "
                        "Sensor Logger, MetaBase): --gyr names its columns; it needs --time, a column both files "
                        "have on one clock; its samples are interpolated at the accelerometer's times")
    p.add_argument("--mag", metavar="X,Y,Z", help="the magnetometer's three column names (optional)")
    p.add_argument("--mag-unit", metavar="UNIT", help="their unit: uT, nT, mT or gauss")
    p.add_argument("--mag-file", type=Path, metavar="CSV", help="the magnetometer's own file (as --gyr-file)")
    p.add_argument("--rate-hz", type=float, help="the sensor's sampling rate")
    p.add_argument("--time", metavar="COL", help="a column of sample times (the rate is found from them unless "
                                                 "--rate-hz is given; rows off the grid are refused)")
    p.add_argument("--time-unit", default=None, choices=("s", "ms", "us", "ns"),  # sensing.formats.TIME_UNITS_S
                   help="unit of --time (default s)")
    p.add_argument("--time-format", metavar="FORMAT",
                   help="--time holds dates and times as text in this format, as strptime writes it: "
                        "'%%d-%%b-%%Y %%H:%%M:%%S.%%f' for 01-Mar-2026 07:00:00.007 (MATLAB Mobile); ISO 8601 "
                        "(2026-03-01 07:00:00.010, Axivity's OMGUI) is read without it. They give the start; "
                        "without a UTC offset they are in --timezone")
    p.add_argument("--resample-hz", type=float, metavar="HZ",
                   help="with --time: times that are not on a regular grid (a phone's sensors) are interpolated "
                        "onto one at HZ; pauses stay gaps, and the recording's warnings say it was resampled")
    p.add_argument("--start", help="when the first sample was taken, with its UTC offset (2026-11-20T07:30:00+01:00) "
                                   "or in UTC (…Z), or as the clock showed it with --timezone; not needed when --time "
                                   "holds Unix times")
    p.add_argument("--placement", required=True, type=placement_arg, metavar="P",
                   help=f"where the sensor was worn: {PLACEMENT_HELP}")
    p.add_argument("--timezone", metavar="TZ", help="where it was recorded, an IANA time zone such as Europe/Amsterdam "
                                                    "(kept with the recording: analyse and the Day page show its clock "
                                                    "times and days there; without it UTC, or the runner's on import); "
                                                    "needed for --start or dates and times written without their "
                                                    "UTC offset")
    p.add_argument("--sep", default=",", help="the column separator (default ,; ';' or 'tab' for others)")
    p.add_argument("--decimal", default=".", help="the decimal mark (default .; ',' for exports that write 9,81)")
    p.add_argument("--no-header", action="store_true",
                   help="the file has no header row (Axivity's OMGUI export): name the columns by their number "
                        "from 1, e.g. --time 1 --acc 2,3,4")
    p.add_argument("--out", type=Path, default=None, help="where to write the recording (default: the CSV's name "
                                                          "with .parquet; an existing file is never overwritten)")
    p.set_defaults(func=cmd_convert)


def _refused(command: str, text: str) -> int:
    """Say on stderr, named by its command, why a command does nothing; exit code 2."""
    Console(stderr=True).print(f"backstride {command}: {text}", style="red", soft_wrap=True, markup=False)
    return 2


def parse_speed(text: str) -> float | None:
    """``"max"`` → None (as fast as possible); else a positive factor."""
    if str(text).strip().lower() == "max":
        return None
    try:
        speed = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--speed must be a number such as 1 or 10, or max; got {text!r}") from None
    if not speed > 0:
        raise argparse.ArgumentTypeError(f"--speed must be positive, got {text!r}")
    return speed


def cmd_scan(args, *, scanner_backend=None, console: Console | None = None) -> int:
    from sensing import ble

    console = console or make_console()
    try:
        found = asyncio.run(ble.scan(args.timeout, backend=scanner_backend, supported_only=not args.all))
    except Exception as exc:  # bleak: no adapter, BlueZ not running …
        console.print(f"[red]cannot scan: {type(exc).__name__}: {exc}[/] (is a Bluetooth adapter present and bluetoothd running?)")
        return 1
    table = Table(title=f"BLE sensors seen in {args.timeout:g} s")
    for col in ("name", "address", "RSSI dBm", "profile"):
        table.add_column(col)
    for f in found:
        table.add_row(f.name or "–", f.address, "–" if f.rssi is None else str(f.rssi),
                      f.profile.name if f.profile else "(not supported)")
    console.print(table)
    if not found:
        console.print("no supported sensors found: is the sensor awake and not connected to a phone?")
    return 0


def make_console(width: int | None = None) -> Console:
    """The commands' console (these and the journal's): ``width`` columns if given, else the terminal's; a pipe
    or file gets 160, so the live values and the timeline's columns are not cut at 80."""
    return Console(width=width or (None if sys.stdout.isatty() else 160))


def _summary(session, console: Console, folder: Path | None, *, interrupted: bool = False) -> int:
    """One line per sensor and stream, then the session's error unless a line already said it; 1 after an error.
    ``interrupted``: a replay stopped with Ctrl-C, whose sources read "stopped" rather than "finished"."""
    snap = session.snapshot()
    code = 0
    streams = snap.get("streams") or []
    # a session that failed before it had a sensor (no Bluetooth, an unreadable file) has nothing to count:
    # its error alone says what happened
    sensors = snap.get("sensors") if session.has_sources else []
    told = set()
    for s in sensors or []:
        console.print(f"{s.get('sensor') or s.get('placement')}: {s.get('samples_received')} samples, "
                      f"{s.get('lost_samples')} lost, {s.get('link_drops')} link drops, state "
                      f"{'stopped' if interrupted and s.get('state') == 'finished' else s.get('state')}"
                      + (f" ({s['error']})" if s.get("error") else ""))
        told.add(s.get("error"))
    for s in streams:
        console.print(stream_summary(s))
        told.add(s.get("error"))
    if snap.get("state") == "error":
        if snap.get("error") not in told:
            console.print(f"[red]{snap.get('error')}[/]")
        code = 1
    if folder is not None:
        console.print(f"recording: {folder}  (open with: backstride analyse {folder} --placement P)")
        if streams:
            console.print("heart rate / speed: sensing.chunked.read_heart_rate(folder), read_rsc(folder)")
    return code


def stream_summary(s: dict) -> str:
    """One line for a heart-rate or RSC stream at the end of a session."""
    if s.get("kind") == "heart_rate":
        what = (f"heart rate: {s.get('measurements')} measurements, {s.get('rr_intervals')} RR intervals"
                + (f", mean {s['hr_mean_bpm']:.0f} bpm" if s.get("hr_mean_bpm") is not None else ""))
    else:
        what = f"speed and cadence: {s.get('measurements')} measurements" + (
            f", last {s['speed_m_s']:.2f} m/s" if s.get("speed_m_s") is not None else "")
    return (f"{s.get('sensor') or s.get('placement')} {what}, {s.get('corrupt_frames')} corrupt, "
            f"{s.get('link_drops')} link drops, state {s.get('state')}" + (f" ({s['error']})" if s.get("error") else ""))


def cmd_record(args, *, client_backend=None, scanner_backend=None, console: Console | None = None,
               show_view: bool = True) -> int:
    from sensing.ingest import default_out_dir
    from sensing.session import LiveSession

    console = console or make_console()
    if len(args.sensor) != len(args.placement):
        console.print(f"[red]give one --placement per --sensor, in order: {len(args.sensor)} sensors, "
                      f"{len(args.placement)} placements[/]")
        return 2
    rates = [args.rate] if isinstance(args.rate, int) else args.rate
    if rates is not None and len(rates) not in (1, len(args.sensor)):
        console.print(f"[red]give one --rate for all sensors or one per --sensor, in order: {len(args.sensor)} sensors, "
                      f"{len(rates)} rates[/]")
        return 2
    out = args.out or default_out_dir()
    if out.exists() and any(out.iterdir()):
        console.print(f"[red]{out} exists and is not empty; a recording is never overwritten (choose another --out)[/]")
        return 2
    try:
        session = LiveSession.sensors(list(zip(args.sensor, args.placement)), out=out, client_backend=client_backend,
                                      scanner_backend=scanner_backend, scan_timeout_s=args.scan_timeout,
                                      sampling_rate_hz=rates[0] if rates and len(rates) == 1 else rates)
    except ValueError as exc:
        console.print(f"[red]{exc}[/]")
        return 2
    _run_session(session, console, show_view, title=f"recording → {out}  (Ctrl-C stops)",
                 on_interrupt="stopping: closing the recording …",
                 waiting=f"looking for {', '.join(args.sensor)} (up to {args.scan_timeout:g} s each) …")
    return _summary(session, console, out if out.exists() else None)


def _stop_on_sigterm(*_args) -> None:
    raise KeyboardInterrupt


def _run_session(session, console: Console, show_view: bool, *, title: str, on_interrupt: str,
                 waiting: str = "starting …") -> bool:
    """Run a LiveSession to its end (or Ctrl-C), with the live view or silently; always stopped.

    SIGTERM (``kill``, a service manager, a shell that started the command in
    the background with Ctrl-C ignored) ends it as cleanly as Ctrl-C: the files
    are closed and marked complete instead of cut like a crash.
    """
    from sensing.live_view import run_live_view

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    session.start()
    try:
        if show_view:
            # the live view once there is something to show; a session that fails before (no Bluetooth, an
            # unreadable file) shows its error once, in the summary, instead of in a table of nothing
            with console.status(waiting):
                while not session.has_sources and not session.wait(0.05):
                    pass
            if session.has_sources:
                run_live_view(session, console=console, title=title)
        else:
            session.wait()
    except KeyboardInterrupt:
        console.print(on_interrupt)
        return True
    finally:
        session.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return False


def cmd_replay(args, *, console: Console | None = None, show_view: bool = True) -> int:
    from sensing.session import LiveSession

    console = console or make_console()

    def fail(text: str) -> int:
        return _refused("replay", text)

    try:
        speed = parse_speed(args.speed)
    except argparse.ArgumentTypeError as exc:
        return fail(str(exc))
    if not Path(args.recording).exists():
        return fail(f"{args.recording}: does not exist")
    from sensing import chunked
    from sensing.formats import open_recording
    from sensing.recording import RecordingError

    path = Path(args.recording)
    try:  # an unreadable file is said once, as `analyse` says it, before any live view; so are damaged parts
        if not chunked.is_live(path):
            recs = [open_recording(path, placement=args.placement)]
        elif path.is_dir():  # a recorded folder may hold heart rate alone
            files = chunked.live_files(path)
            recs = [chunked.read_live(f) for f in ([f for f in files if f.stem == args.placement] or files)]
        else:
            recs = [] if chunked.event_kind_of(path) else [chunked.read_live(path)]
    except (RecordingError, ValueError) as exc:
        return fail(str(exc))
    said = [w for rec in recs for w in (rec.extra or {}).get("warnings", [])]
    del recs  # the replay reads the files itself: not held twice through it
    for w in said:
        Console(stderr=True).print(f"warning: {w}", style="yellow", soft_wrap=True, markup=False)
    session = LiveSession.replay(args.recording, speed=speed, placement=args.placement)
    interrupted = _run_session(session, console, show_view, title=f"replay {args.recording} at {args.speed}×",
                               on_interrupt="stopped before the end of the recording",
                               waiting=f"opening {args.recording} …")
    code = _summary(session, console, None, interrupted=interrupted)
    return 130 if interrupted and code == 0 else code  # 128 + SIGINT, as a shell reports Ctrl-C


#: Times above this many seconds are Unix times (after 2001-09-09): a clock of seconds since the recording began
#: does not reach it.
UNIX_TIME_MIN_S = 1e9


def _csv_start(args, read_kwargs: dict):
    """(start in UTC, a note or None): ``--start``, or the first time of a ``--time`` column of Unix times; a clear
    reason otherwise.  When both give a start and they differ by more than a second, ``--start`` is taken (a phone's
    clock can be wrong) and the note says so."""
    from datetime import datetime, timezone

    from sensing.formats import TIME_UNITS_S, read_table
    from sensing.recording import RecordingError, utc

    start = None
    if args.start:
        try:
            start = utc(args.start)
        except ValueError as exc:
            try:  # a wall-clock time without an offset is taken in --timezone, when given (its summer time too)
                local = datetime.fromisoformat(args.start) if args.timezone else None
            except ValueError:
                local = None
            if local is not None and local.tzinfo is None:
                from zoneinfo import ZoneInfo

                start = local.replace(tzinfo=ZoneInfo(args.timezone)).astimezone(timezone.utc)
            else:
                text = str(exc) if "time zone" in str(exc) else f"not a date and time ({exc})"
                raise RecordingError(args.csv, "--start", f"{args.start!r}: {text}",
                                     "an ISO 8601 time with its offset, e.g. 2026-11-20T07:30:00+01:00, or UTC …Z, "
                                     "or a local time with --timezone") from None
    if args.time:
        unit = args.time_unit or "s"
        try:
            raw, _ = read_table(args.csv, {**read_kwargs, "nrows": 1}, header=not args.no_header)
            first = raw[args.time].iloc[0]
            first_s = float(first) * TIME_UNITS_S[unit]
        except (ValueError, TypeError, KeyError, IndexError):  # (RecordingError is a ValueError)
            first_s = float("nan")  # read_csv names the column's problem
        if first_s > UNIX_TIME_MIN_S:
            try:
                unix = datetime.fromtimestamp(first_s, timezone.utc)
            except (OverflowError, OSError, ValueError):
                fits = [u for u in ("ms", "us", "ns") if UNIX_TIME_MIN_S < float(first) * TIME_UNITS_S[u] < 4e9]
                raise RecordingError(args.csv, f"column {args.time}", f"starts at {first_s:.6g} {unit}, "
                                     "beyond any date", f"--time-unit {fits[0]}: as {fits[0]} since 1970 it is "
                                     f"{datetime.fromtimestamp(float(first) * TIME_UNITS_S[fits[0]], timezone.utc):%Y-%m-%d %H:%M} UTC"
                                     if fits else "--time-unit ms, us or ns for Unix times in those units") from None
            if start is None:
                return unix, None
            differ_s = (start - unix).total_seconds()
            note = None if abs(differ_s) <= 1.0 else (
                f"--start {start:%Y-%m-%d %H:%M:%S} UTC used; column {args.time}'s Unix times start at "
                f"{unix:%Y-%m-%d %H:%M:%S} UTC ({duration_text(abs(differ_s))} {'later' if differ_s < 0 else 'earlier'})")
            return start, note
        if start is None and first_s == first_s:
            raise RecordingError(args.csv, "--start", f"not given, and column {args.time} starts at {first_s:g} s, "
                                 "a time since the recording began",
                                 "--start with the first sample's date and time (…+01:00 or …Z)")
        return start, None
    if start is None:
        raise RecordingError(args.csv, "--start", "not given", "the first sample's date and time (…+01:00 or …Z), so "
                             "the journal and the dashboard can put the recording on its day")
    return start, None


def _not_a_file(path: Path) -> str | None:
    """Why ``path`` is no CSV file to read ("PATH: a folder ..." or "PATH: no such file"), or None."""
    if path.is_dir():
        return f"{path}: a folder; give the CSV file in it"
    return None if path.is_file() else f"{path}: no such file"


def cmd_convert(args, *, console: Console | None = None) -> int:
    """``backstride convert``: a mapped CSV (sensing.formats.read_csv) written as a backstride Parquet recording."""
    from sensing.formats import csv_encoding, read_csv, write_parquet
    from sensing.recording import RecordingError

    console = console or make_console()

    def fail(text: str) -> int:
        return _refused("convert", text)

    columns = {}
    for kind, names, unit in (("acc", args.acc, args.acc_unit), ("gyr", args.gyr, args.gyr_unit),
                              ("mag", args.mag, args.mag_unit)):
        if names is None:
            if unit is not None:
                return fail(f"--{kind}-unit {unit} given without --{kind} (the three column names)")
            continue
        cols = [c.strip() for c in names.split(",")]
        if len(cols) != 3 or not all(cols):
            return fail(f"--{kind} {names!r}: expected three column names separated by commas, x,y,z")
        if unit is None:
            return fail(f"--{kind} needs --{kind}-unit (the unit of its columns)")
        columns.update({f"{kind}_{axis}": (col, unit) for axis, col in zip("xyz", cols)})
    channel_files = {}
    for kind, names, path in (("gyr", args.gyr, args.gyr_file), ("mag", args.mag, args.mag_file)):
        if path is None:
            continue
        if names is None:
            return fail(f"--{kind}-file {path} given without --{kind} (the three column names in it)")
        if args.time is None:
            return fail(f"--{kind}-file needs --time: the column of sample times both files have, to put their "
                        "samples side by side")
        if (problem := _not_a_file(path)) is not None:
            return fail(f"--{kind}-file {problem}")
        channel_files[kind] = path
    if args.rate_hz is None and args.time is None:
        return fail("give --rate-hz (the sensor's rate) or --time (a column of sample times)")
    if args.resample_hz is not None and (args.time is None or args.rate_hz is not None):
        return fail("--resample-hz needs --time (the times to resample from) and takes the place of --rate-hz")
    for option, value in (("--time-unit", args.time_unit), ("--time-format", args.time_format)):
        if value is not None and args.time is None:
            return fail(f"{option} {value} given without --time (the column of sample times)")
    if args.no_header:
        named = [c.strip() for n in (args.acc, args.gyr, args.mag) if n for c in n.split(",")] + [args.time or "1"]
        if not all(c.isdigit() and int(c) > 0 for c in named):
            return fail(f"--no-header: columns are named by their number from 1 (e.g. --time 1 --acc 2,3,4); got "
                        + ", ".join(c for c in named if not (c.isdigit() and int(c) > 0)))
    for option, hz in (("--rate-hz", args.rate_hz), ("--resample-hz", args.resample_hz)):
        if hz is not None and not MIN_SAMPLING_RATE_HZ <= hz <= MAX_SAMPLING_RATE_HZ:
            return fail(f"{option} {hz:g}: expected a sampling rate from {MIN_SAMPLING_RATE_HZ:g} to "
                        f"{MAX_SAMPLING_RATE_HZ:g} Hz (what the analysis works with)")
    out = args.out or args.csv.with_suffix(".parquet")
    if out.exists():
        return fail(f"{out} exists; nothing was written (give another --out, or move that file)")
    if not out.parent.is_dir():
        return fail(f"--out {out}: its folder {out.parent} does not exist; nothing was written")
    read_kwargs = {"sep": "\t" if args.sep.lower() in ("tab", "\\t") else args.sep, "decimal": args.decimal,
                   "skipinitialspace": True}  # "t, ax, ay" headers
    if args.timezone is not None:
        from analysis.days import known_zone

        if known_zone(args.timezone) is None:
            from zoneinfo import available_timezones

            like = [z for z in available_timezones() if z.lower() == args.timezone.strip().lower()]
            return fail(f"--timezone {args.timezone!r}: not an IANA time zone "
                        + (f"(did you mean {like[0]}?)" if like else "(such as Europe/Amsterdam or America/New_York; "
                           "a fixed offset is Etc/GMT-1 for UTC+1)"))
    if (problem := _not_a_file(args.csv)) is not None:
        return fail(problem)
    read_kwargs["encoding"] = csv_encoding(args.csv)  # convert's own look at the first time reads it as read_csv does
    try:
        start, start_note = _csv_start(args, read_kwargs)
        rec = read_csv(args.csv, columns, sampling_rate_hz=args.rate_hz,
                       time_column=(args.time, args.time_unit or "s") if args.time else None,
                       placement=args.placement, start_utc=start, resample_hz=args.resample_hz,
                       channel_files=channel_files, header=not args.no_header, time_zone=args.timezone,
                       time_format=args.time_format, **read_kwargs)
    except (RecordingError, ValueError) as exc:
        return fail(str(exc))
    if rec.start_utc is None:
        return fail(f"--start: not given, and column {args.time} holds clock times without a date; give the first "
                    "sample's date and time (…+01:00 or …Z)")
    if args.timezone is not None:
        rec.extra["time_zone"] = args.timezone
    write_parquet(rec, out)
    channels = "accelerometer" + (", gyroscope" if rec.has_gyr else "") + (", magnetometer" if rec.has_mag else "")
    console.print(f"wrote {out}: {len(rec.data)} samples at {rec.sampling_rate_hz:g} Hz ({duration_text(rec.duration_s)}, "
                  f"{channels}), {rec.placement}, starting {rec.start_utc:%Y-%m-%d %H:%M:%S} UTC", soft_wrap=True,
                  markup=False)
    if rec.lost_samples:
        console.print(f"{rec.lost_samples} lost samples in {len(rec.gaps)} gap(s), kept as gaps", markup=False)
    for w in ([start_note] if start_note else []) + rec.extra.get("warnings", []):
        console.print(f"warning: {w}", style="yellow", soft_wrap=True, markup=False)
    console.print(f"next: backstride analyse {out}", markup=False)
    return 0


if __name__ == "__main__":  # pragma: no cover
    from sensing.cli import main

    sys.exit(main())
