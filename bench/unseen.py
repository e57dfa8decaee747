"""Unseen-data readiness: the labelled trials through BIDS-Motion and the ``backstride analyse`` command.

    .venv/bin/python bench/unseen.py [--only ipol|mobgap|gaitmap] [--conditions TEXT] [--no-subprocess]
                                     [--out /work/scratch/unseen_section.md]

bench/validate.py measures accuracy by calling :func:`analysis.pipeline.analyse`
on recordings built by bench/datasets.py.  Unseen data come another way: a
``*_motion.tsv`` with its ``*_channels.tsv`` and ``*_motion.json``, analysed by
``backstride analyse FILE --placement P --json OUT``, scored on the JSON's
``steps[].ic_s``.  This script takes every labelled trial of bench/datasets.py
(ipol_gait lower back and feet, mobgap_lab, gaitmap_example both shoes in
gaitmap's frame and in the raw sensor frame — the trials validate.py scores), writes it as BIDS-Motion with
:func:`sensing.bids.write_bids`, runs the command on it and scores the JSON
with validate.py's own matching and pooling (``_score_in_windows``, ``_pool``,
``strike_angles``), under conditions that unseen data plausibly have:

* ``baseline``: the trial as published.  Run twice: through a subprocess with
  exactly the command above (a file the command rejects scores as all steps
  missed), and in-process through :func:`sensing.cli.main` with
  ``--nan-as-gap`` (lost packets are written as ``n/a`` rows).  Every other
  condition runs in-process with ``--nan-as-gap`` (a subprocess costs ~3.5 s of
  imports per file, the analysis ~0.1 s).
* ``units``: channels.tsv in g and deg/s, values scaled accordingly.
* ``units wrong``: values in g and deg/s under channels.tsv's m/s² and rad/s, and
  the other way round (an export whose units column was filled in wrong; the
  reader reads them in the units they evidently are in, and says so).
* ``mount``: the sensor turned 90° about its vertical axis (an axis
  permutation with a flip), upside down (180° about a horizontal axis), tilted
  by 20°.  The vertical is the sensor axis nearest to the mean specific force.
* ``rate``: resampled to 25, 50, 64, 128, 200, 1000 Hz (:func:`scipy.signal.resample_poly`,
  on the trial's grid with lost samples linearly interpolated; samples that fall
  inside a gap longer than the pipeline's bridging limit are dropped again).
  Reference times are unchanged (seconds).
* ``acc only``: gyroscope channels dropped.
* ``range``: every axis clipped to ±8 g / ±1000 °/s, or ±4 g / ±500 °/s (a sensor
  set to a smaller range saturates there).
* ``lost bursts``: bursts of 0.15–0.5 s lost every ~3 s (exponential gaps, seeded per
  trial; a BLE link that drops runs of packets), written as ``n/a`` rows.  The
  reference ICs inside the bursts still count.
* ``cut``: the recording starts 0.5 s before the first reference IC (no quiet
  standing), or 2 s after it (the recording starts mid-walk), or is only 8 s
  or 3 s long from 0.5 s before the first IC.  References and windows are shifted
  and clipped to what is kept.

Times: BIDS has no sample counter, so times in the JSON count from the first
row.  Every trial is first re-based so that its first sample is sample 0 (and
its references shifted by the same amount); ipol_gait files whose
``PacketCounter`` starts at 1 or 2 otherwise score 10–20 ms early.

The table is printed and written as a markdown section (``--out``).  Nothing
here tunes anything.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.constants import ACC_COLS, GYR_COLS  # noqa: E402
from analysis.pipeline import MAX_BRIDGED_GAP_S  # noqa: E402
from bench import datasets as ds  # noqa: E402
from bench import validate  # noqa: E402
from sensing.bids import write_bids  # noqa: E402
from sensing.recording import Recording  # noqa: E402

BACKSTRIDE = ROOT / ".venv" / "bin" / "backstride"
DEFAULT_OUT = Path("/work/scratch/unseen_section.md")

#: what the unseen data will be analysed with (the judged command)
JUDGED_COMMAND = "backstride analyse FILE_motion.tsv --placement P --json OUT"


# ---------------------------------------------------------------------------
# Data sets


def data_sets(only: str | None) -> dict[str, list[ds.Trial]]:
    """The trials validate.py scores, by data set name (re-based to sample 0)."""
    loaders = {
        "ipol_gait _lb": lambda: ds.ipol_trials("lower-back"),
        "ipol_gait feet": lambda: ds.ipol_trials("foot-left") + ds.ipol_trials("foot-right"),
        "mobgap_lab INDIP": ds.mobgap_trials,
        # as validate.py: all four trials (both shoes, each in gaitmap's frame and in the raw sensor frame)
        "gaitmap_example": ds.gaitmap_trials,
    }
    return {name: [rebase(t) for t in load()] for name, load in loaders.items() if not only or only in name}


def _retime(t: ds.Trial, rec: Recording, offset_s: float, keep_s: tuple[float, float] | None = None) -> ds.Trial:
    """``t`` with ``rec`` as its recording and every reference time minus ``offset_s``.

    ``keep_s`` (in the new times) clips the scoring windows to what the recording still holds.
    """
    def sh(v):
        return None if v is None else np.asarray(v, float) - offset_s

    windows = [(a - offset_s, b - offset_s) for a, b in t.windows_s]
    if keep_s is not None:
        lo, hi = keep_s
        windows = [(max(a, lo), min(b, hi)) for a, b in windows if min(b, hi) > max(a, lo)]
    extra = dict(t.extra)
    for k in ("ic_for_angle_s", "contralateral_ic_s", "contralateral_fc_s"):
        if extra.get(k) is not None:
            extra[k] = sh(extra[k])
    return dataclasses.replace(t, recording=rec, ic_s={k: sh(v) for k, v in t.ic_s.items()},
                               fc_s={k: sh(v) for k, v in t.fc_s.items()}, windows_s=windows, extra=extra)


def rebase(t: ds.Trial) -> ds.Trial:
    """First sample at index 0, references shifted alike (BIDS times count from the first row)."""
    rec = t.recording
    first = int(rec.data.index[0])
    if first == 0:
        return t
    data = rec.data.copy()
    data.index = pd.Index(data.index.to_numpy() - first, name="sample_index")
    return _retime(t, dataclasses.replace(rec, data=data), first / rec.sampling_rate_hz)


# ---------------------------------------------------------------------------
# Conditions: each maps a trial to (trial as the file will hold it, write_bids units)


def _with_arrays(rec: Recording, acc: np.ndarray, gyr: np.ndarray | None, *, index=None,
                 sampling_rate_hz: float | None = None) -> Recording:
    cols = {c: acc[:, i] for i, c in enumerate(ACC_COLS)}
    if gyr is not None:
        cols.update({c: gyr[:, i] for i, c in enumerate(GYR_COLS)})
    idx = rec.data.index if index is None else pd.Index(np.asarray(index, np.int64), name="sample_index")
    return dataclasses.replace(rec, data=pd.DataFrame(cols, index=idx),
                               sampling_rate_hz=sampling_rate_hz or rec.sampling_rate_hz)


def _arrays(rec: Recording) -> tuple[np.ndarray, np.ndarray | None]:
    acc = np.array(rec.data[list(ACC_COLS)], dtype=float)  # a writable copy
    gyr = np.array(rec.data[list(GYR_COLS)], dtype=float) if rec.has_gyr else None
    return acc, gyr


def rotated(angle_deg: float, about: str) -> Callable:
    """Sensor turned by ``angle_deg`` about its vertical axis (``about="vertical"``) or a horizontal one."""
    from scipy.spatial.transform import Rotation

    def apply(t: ds.Trial):
        acc, gyr = _arrays(t.recording)
        d = int(np.argmax(np.abs(acc.mean(axis=0))))  # the sensor axis nearest to up
        axis = np.eye(3)[d if about == "vertical" else (d + 1) % 3]
        r = Rotation.from_rotvec(np.radians(angle_deg) * axis)
        rec = _with_arrays(t.recording, r.apply(acc), None if gyr is None else r.apply(gyr))
        return dataclasses.replace(t, recording=rec), None
    return apply


def resampled(rate_hz: float) -> Callable:
    """Resample to ``rate_hz`` (polyphase); reference times stay in seconds."""
    from scipy.signal import resample_poly

    def apply(t: ds.Trial):
        rec = t.recording
        fs = rec.sampling_rate_hz
        ratio = Fraction(rate_hz / fs).limit_denominator(1000)
        idx = rec.data.index.to_numpy()
        grid = np.arange(idx[0], idx[-1] + 1)
        acc, gyr = _arrays(rec)
        fill = [np.column_stack([np.interp(grid, idx, x[:, c]) for c in range(3)]) for x in (acc, gyr) if x is not None]
        out = [resample_poly(x, ratio.numerator, ratio.denominator, axis=0, padtype="line") for x in fill]
        new_idx = np.arange(len(out[0]))
        t_new = new_idx / rate_hz
        keep = np.ones(len(new_idx), bool)
        step = np.diff(idx)
        for k in np.flatnonzero(step - 1 > MAX_BRIDGED_GAP_S * fs):  # gaps the pipeline would not bridge
            keep &= ~((t_new > idx[k] / fs) & (t_new < idx[k + 1] / fs))
        new = _with_arrays(rec, out[0][keep], out[1][keep] if len(out) > 1 else None, index=new_idx[keep],
                           sampling_rate_hz=float(rate_hz))
        return dataclasses.replace(t, recording=new), None
    return apply


def acc_only(t: ds.Trial):
    rec = t.recording
    return dataclasses.replace(t, recording=dataclasses.replace(rec, data=rec.data[list(ACC_COLS)].copy())), None


def cut(start_after_first_ic_s: float, length_s: float | None = None) -> Callable:
    """Keep the recording from (first reference IC + ``start_after_first_ic_s``), ``length_s`` long."""

    def apply(t: ds.Trial):
        rec = t.recording
        fs = rec.sampling_rate_hz
        t0 = max(0.0, float(t.all_ic_s()[0]) + start_after_first_ic_s)
        i0 = int(np.ceil(t0 * fs))
        i1 = None if length_s is None else i0 + int(round(length_s * fs))
        idx = rec.data.index.to_numpy()
        sel = (idx >= i0) & (idx < (i1 if i1 is not None else idx[-1] + 1))
        data = rec.data[sel].copy()
        data.index = pd.Index(data.index.to_numpy() - i0, name="sample_index")
        new = dataclasses.replace(rec, data=data)
        return _retime(t, new, i0 / fs, keep_s=(0.0, new.duration_s)), None
    return apply


def lost_bursts(every_s: float, shortest_s: float, longest_s: float) -> Callable:
    """Bursts of ``shortest_s``–``longest_s`` lost, a mean of ``every_s`` apart (seeded by the trial's name)."""
    import zlib

    def apply(t: ds.Trial):
        rec = t.recording
        tt = rec.data.index.to_numpy() / rec.sampling_rate_hz
        rng = np.random.default_rng(zlib.crc32(t.name.encode()))
        keep = np.ones(len(tt), bool)
        s = tt[0] + 1.0 + rng.uniform(0, every_s)  # the first row stays: BIDS times count from it
        while s < tt[-1]:
            length_s = rng.uniform(shortest_s, longest_s)
            keep &= ~((tt >= s) & (tt < s + length_s))
            s += length_s + rng.exponential(every_s)
        return dataclasses.replace(t, recording=dataclasses.replace(rec, data=rec.data[keep])), None
    return apply


def clipped(acc_g: float, gyr_dps: float) -> Callable:
    """A sensor set to a smaller range: |values| held at ±``acc_g`` g and ±``gyr_dps`` °/s per axis (what a
    commodity sensor's saturated samples read)."""
    from analysis.constants import GRAVITY_M_S2

    def apply(t: ds.Trial):
        acc, gyr = _arrays(t.recording)
        acc = np.clip(acc, -acc_g * GRAVITY_M_S2, acc_g * GRAVITY_M_S2)
        gyr = None if gyr is None else np.clip(gyr, -np.radians(gyr_dps), np.radians(gyr_dps))
        return dataclasses.replace(t, recording=_with_arrays(t.recording, acc, gyr)), None
    return apply


def units_g_deg(t: ds.Trial):
    return t, {"acc": "g", "gyr": "deg/s"}


def mislabelled(true: dict[str, str], declared: dict[str, str]) -> Callable:
    """Values written in the units ``true``, channels.tsv saying ``declared`` (an export whose units column was
    filled in wrong): :func:`run_condition` rewrites the units column after writing."""
    def apply(t: ds.Trial):
        return t, {**true, "declared": declared}
    return apply


def _declare_units(motion: Path, declared: dict[str, str]) -> None:
    """Rewrite the units column of ``motion``'s channels.tsv: ``declared`` per kind (acc, gyr)."""
    path = motion.with_name(motion.name.replace("_motion.tsv", "_channels.tsv"))
    ch = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    for kind, unit in declared.items():
        ch.loc[ch["type"] == {"acc": "ACCEL", "gyr": "GYRO"}[kind], "units"] = unit
    ch.to_csv(path, sep="\t", index=False)


def as_is(t: ds.Trial):
    return t, None


CONDITIONS: dict[str, Callable] = {
    "baseline": as_is,
    "units g, deg/s": units_g_deg,
    "units wrong: g, deg/s declared m/s², rad/s": mislabelled({"acc": "g", "gyr": "deg/s"},
                                                              {"acc": "m/s^2", "gyr": "rad/s"}),
    "units wrong: m/s², rad/s declared g, deg/s": mislabelled({"acc": "m/s^2", "gyr": "rad/s"},
                                                              {"acc": "g", "gyr": "deg/s"}),
    "mount: 90° about vertical": rotated(90.0, "vertical"),
    "mount: upside down": rotated(180.0, "horizontal"),
    "mount: 20° tilt": rotated(20.0, "horizontal"),
    "rate 25 Hz": resampled(25.0),
    "rate 50 Hz": resampled(50.0),
    "rate 64 Hz": resampled(64.0),
    "rate 128 Hz": resampled(128.0),
    "rate 200 Hz": resampled(200.0),
    "rate 1000 Hz": resampled(1000.0),
    "accelerometer only": acc_only,
    "range ±8 g, ±1000 °/s": clipped(8.0, 1000.0),
    "range ±4 g, ±500 °/s": clipped(4.0, 500.0),
    "lost bursts: 0.15–0.5 s every ~3 s": lost_bursts(3.0, 0.15, 0.5),
    "no standing: from 1st IC − 0.5 s": cut(-0.5),
    "mid-walk start: 1st IC + 2 s": cut(2.0),
    "short: 8 s from 1st IC − 0.5 s": cut(-0.5, 8.0),
    "short: 3 s from 1st IC − 0.5 s": cut(-0.5, 3.0),
}


# ---------------------------------------------------------------------------
# Running the command


def _args(path: Path, placement: str, out: Path, *, nan_as_gap: bool) -> list[str]:
    return ["analyse", str(path), "--placement", placement, "--json", str(out)] + (["--nan-as-gap"] if nan_as_gap else [])


def run_subprocess(path: Path, placement: str, out: Path) -> tuple[dict | None, str]:
    """The judged command, exactly, in its own process: (JSON document or None, error text)."""
    proc = subprocess.run([str(BACKSTRIDE), *_args(path, placement, out, nan_as_gap=False)],
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        return None, proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"
    return json.loads(out.read_text()), ""


def run_in_process(path: Path, placement: str, out: Path) -> tuple[dict | None, str]:
    """The same command through :func:`sensing.cli.main` (``--nan-as-gap``, ``--quiet``)."""
    from contextlib import redirect_stderr
    from io import StringIO

    from sensing.cli import main

    err = StringIO()
    with redirect_stderr(err):
        rc = main(_args(path, placement, out, nan_as_gap=True) + ["--quiet"])
    if rc != 0:
        return None, err.getvalue().strip()
    return json.loads(out.read_text()), ""


def steps_frame(doc: dict | None) -> pd.DataFrame:
    cols = ["ic_s", "strike_angle_deg"]
    if doc is None or not doc.get("steps"):
        return pd.DataFrame(columns=cols, dtype=float)
    return pd.DataFrame([{c: (np.nan if s.get(c) is None else s[c]) for c in cols} for s in doc["steps"]], dtype=float)


# ---------------------------------------------------------------------------
# Scoring (validate.py's functions)


def score(trials: list[ds.Trial], steps: dict[str, pd.DataFrame]) -> dict:
    """Pooled IC figures (validate._eval_ic) and, where labelled, the strike angle (validate.strike_angles)."""
    r = validate._eval_ic(trials, lambda t: steps[t.name]["ic_s"].to_numpy(float))
    with_angles = [t for t in trials if t.extra.get("strike_angle_deg") is not None]
    if with_angles:
        r["strike"] = validate.strike_angles(with_angles, steps_of=lambda t: steps[t.name])
    return r


# ---------------------------------------------------------------------------


def run_condition(name: str, sets: dict[str, list[ds.Trial]], tmp: Path, *, subprocess_too: bool) -> list[dict]:
    from rich.progress import track

    rows = []
    for data, trials in sets.items():
        derived, paths = [], []
        for i, t in enumerate(trials):
            t2, units = CONDITIONS[name](t)
            declared = (units or {}).get("declared")
            folder = tmp / f"sub-{i:03d}" / "motion"
            path = write_bids(t2.recording, folder, subject=f"{i:03d}", task="walk",
                              units={k: v for k, v in units.items() if k != "declared"} if units else None)
            if declared:
                _declare_units(path, declared)
            derived.append(t2)
            paths.append(path)
        runners = [("in-process, --nan-as-gap", run_in_process)]
        if subprocess_too:
            runners.insert(0, ("subprocess, judged command", run_subprocess))
        for how, runner in runners:
            steps, failed = {}, []
            for t, path in track(list(zip(derived, paths)), description=f"{name[:28]:28s} {data[:16]:16s} {how[:10]}",
                                 transient=True):
                doc, err = runner(path, t.placement, path.parent.parent / f"analysis-{how[:3]}.json")
                if doc is None:
                    failed.append((t.name, err))
                steps[t.name] = steps_frame(doc)
            r = score(derived, steps)
            r.update({"condition": name, "data": data, "how": how, "failed": failed, "files": len(derived)})
            rows.append(r)
            print(_row_text(r), flush=True)
        for p in tmp.iterdir():  # the next condition writes afresh
            _rmtree(p)
    return rows


def _rmtree(p: Path) -> None:
    import shutil

    shutil.rmtree(p) if p.is_dir() else p.unlink()


def _row_text(r: dict) -> str:
    s = r.get("strike")
    strike = f"{s['median_abs_deg']:.1f}°" if s and s["n"] else "–"
    return (f"{r['condition']:34s} {r['data']:17s} {r['how']:27s} files {r['files'] - len(r['failed'])}/{r['files']}  "
            f"P {r['precision']:.3f} R {r['recall']:.3f} F1 {r['f1']:.3f}  median {r['median_abs_ms']:.1f} ms  "
            f"p95 {r['p95_abs_ms']:.1f} ms  strike {strike}")


def markdown(rows: list[dict], direct: dict[str, dict]) -> str:
    base = {r["data"]: r for r in rows if r["condition"] == "baseline" and r["how"].startswith("in-process")}
    lines = [
        "## Unseen data: BIDS-Motion through `backstride analyse` (bench/unseen.py)", "",
        f"Measured {time.strftime('%Y-%m-%d')}. Each labelled trial of bench/datasets.py is written as BIDS-Motion "
        "(`sensing.bids.write_bids`), analysed by the command, and the JSON's `steps[].ic_s` scored with "
        "bench/validate.py's matching (±150 ms, inside the reference windows). The baseline runs once through a "
        f"subprocess with exactly `{JUDGED_COMMAND}` (a file it rejects counts as all its steps missed) and once "
        "in-process (`sensing.cli.main`) with `--nan-as-gap`; every other condition in-process with `--nan-as-gap`. "
        "ΔF1 and Δmedian are against the in-process baseline of the same data set. Strike: median |error| of the "
        "strike angle against motion capture (gaitmap only).", "",
        "| condition | data | run | files read | precision | recall | F1 | ΔF1 | median abs ms | Δ median ms | p95 abs ms | strike |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for data, r in direct.items():
        lines.append(f"| validate.py (`analyse()` in-process, no files) | {data} | – | – | {r['precision']:.3f} | "
                     f"{r['recall']:.3f} | {r['f1']:.3f} | – | {r['median_abs_ms']:.1f} | – | {r['p95_abs_ms']:.1f} | – |")
    for r in rows:
        b = base.get(r["data"])
        df1 = r["f1"] - b["f1"] if b else float("nan")
        dmed = r["median_abs_ms"] - b["median_abs_ms"] if b else float("nan")
        s = r.get("strike")
        strike = f"{s['median_abs_deg']:.1f}°" if s and s["n"] else "–"
        flag = "**" if (df1 < -0.01 or dmed > 10) else ""
        lines.append(
            f"| {r['condition']} | {r['data']} | {r['how']} | {r['files'] - len(r['failed'])}/{r['files']} | "
            f"{r['precision']:.3f} | {r['recall']:.3f} | {flag}{r['f1']:.3f}{flag} | {df1:+.3f} | "
            f"{r['median_abs_ms']:.1f} | {dmed:+.1f} | {r['p95_abs_ms']:.1f} | {strike} |")
    fails = [(r["condition"], r["data"], r["how"], r["failed"]) for r in rows if r["failed"]]
    if fails:
        lines += ["", "Files the command rejected:"]
        for c, d, h, f in fails:
            first = f[0][1]
            lines.append(f"* {c}, {d}, {h}: {len(f)} of them; first: `{first[:300]}`")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default=None, help="data sets whose name contains this text (ipol, mobgap, gaitmap)")
    ap.add_argument("--conditions", default=None, help="conditions whose name contains this text (comma-separated)")
    ap.add_argument("--no-subprocess", action="store_true", help="skip the subprocess run of the baseline")
    ap.add_argument("--out", default=str(DEFAULT_OUT), help="markdown section written here ('' for none)")
    args = ap.parse_args()
    if ds.datasets_root() is None:
        print("../shared/datasets not found: nothing to measure (set BACKSTRIDE_SHARED)")
        return 0
    t_start = time.time()
    sets = data_sets(args.only)
    direct = {data: validate._eval_ic(trials, validate.ours_ic) for data, trials in sets.items()}
    for data, r in direct.items():
        print(f"validate.py directly: {data:17s} F1 {r['f1']:.3f} median {r['median_abs_ms']:.1f} ms "
              f"p95 {r['p95_abs_ms']:.1f} ms", flush=True)
    wanted = [c for c in CONDITIONS if not args.conditions
              or any(w.strip() and w.strip() in c for w in args.conditions.split(","))]
    if "baseline" not in wanted:
        wanted.insert(0, "baseline")
    rows = []
    with tempfile.TemporaryDirectory(prefix="backstride-unseen-") as tmp:
        for name in wanted:
            rows += run_condition(name, sets, Path(tmp), subprocess_too=(name == "baseline" and not args.no_subprocess))
    text = markdown(rows, direct) + f"\n\n(run time {time.time() - t_start:.0f} s)\n"
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
