"""Loaders that turn the shared public data sets into Recordings plus independent references.

The data sets live outside the project (``$BACKSTRIDE_SHARED/datasets`` or
``../shared/datasets`` beside the project) and are read in place, never copied.
Every loader returns an empty list (or ``None``) when its data are absent; none
raises because a data set is missing.  See ``../shared/datasets/README.md`` for
the sources and licences; cite them wherever a figure derived from them is shown.

Conventions of everything returned here
---------------------------------------
* Recordings are in SI units (:mod:`analysis.constants`) in the sensor frame as
  published, with ``placement`` set.  Magnetometer channels are left out: the
  Xsens files give them in arbitrary (normalised) units and the McRoberts files
  in an undocumented unit, so neither is µT.
* Reference event times are seconds on the recording's own clock, i.e. the
  same scale as :attr:`Recording.t_s` (``sample_index / sampling_rate_hz``).
* ``Trial.windows_s`` are closed intervals where the reference is complete.
  Score only inside them: keep reference events inside a window, and detections
  inside a window widened by the matching tolerance (:func:`in_windows` with
  ``margin_s=tolerance_s``), so that a detection a few ms before the first
  reference event of a window still counts.
* For a foot sensor, ``ic_s``/``fc_s`` hold only that foot (key ``"left"`` or
  ``"right"``); the other foot's events (same clock) are in
  ``extra["contralateral_ic_s"]`` / ``extra["contralateral_fc_s"]``.  For a
  lower-back sensor both keys are filled.

Facts verified on the data (see the loaders' docstrings for the evidence)
-------------------------------------------------------------------------
* gaitmap_example: 204.8 Hz, acc m/s², gyr deg/s; ``imu_sample.csv`` is in
  gaitmap's foot sensor frame (x toe-forward, y left, z up, both feet: the same
  axes as backstride's body frame); ``imu_sample_not_rotated.csv`` is the very
  same recording in the raw sensor frame (an exact axis permutation, residual
  1e-13).  Mocap at 100 Hz, sample 0 of both systems at t = 0.
* ipol_gait: 100 Hz, ``PacketCounter`` is a clock shared by the three sensors
  and the JSON event indices are ``PacketCounter`` values (not row numbers);
  event pairs are ``[toe_off, initial_contact]``.
* mobgap_lab: 100 Hz, event times are MATLAB 1-based (``t = sample_1based / fs``):
  0-based seconds are ``t - 1/fs`` (as mobgap itself converts them).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.constants import GRAVITY_M_S2
from sensing.recording import Recording, SensorInfo, from_arrays

_DEG = np.pi / 180.0

__all__ = [
    "Trial",
    "HaptLabel",
    "HaptExperiment",
    "datasets_root",
    "shared_root",
    "gaitmap_trials",
    "ipol_trials",
    "mobgap_trials",
    "adept_running",
    "uci_hapt_experiments",
    "match_events",
    "in_windows",
    "GAITMAP_FS_HZ",
    "GAITMAP_MOCAP_FS_HZ",
]

GAITMAP_FS_HZ = 204.8
GAITMAP_MOCAP_FS_HZ = 100.0
#: A gap between consecutive same-foot reference ICs longer than this multiple
#: of the median stride marks a hole in the reference (e.g. the gaitmap example's
#: left foot turning step, which motion capture did not label); windows split there.
REFERENCE_HOLE_FACTOR = 1.5


# ---------------------------------------------------------------------------
# Data classes


@dataclass
class Trial:
    """One recording with its independent reference events.

    ``ic_s``/``fc_s`` map ``"left"``/``"right"`` to sorted event times in
    seconds from the recording start (``Recording.t_s`` scale).  ``windows_s``
    lists closed intervals where the reference is complete; evaluate only there.
    """

    name: str
    dataset: str
    recording: Recording
    ic_s: dict[str, np.ndarray]
    fc_s: dict[str, np.ndarray]
    windows_s: list[tuple[float, float]]
    extra: dict = field(default_factory=dict)

    @property
    def placement(self) -> str | None:
        return self.recording.placement

    def all_ic_s(self) -> np.ndarray:
        """Reference ICs of every foot in this trial, merged and sorted."""
        return np.sort(np.concatenate([np.asarray(v, float) for v in self.ic_s.values()] or [np.empty(0)]))

    def all_fc_s(self) -> np.ndarray:
        return np.sort(np.concatenate([np.asarray(v, float) for v in self.fc_s.values()] or [np.empty(0)]))


@dataclass(frozen=True)
class HaptLabel:
    """One labelled segment of a UCI HAPT experiment.

    ``start_sample`` is 0-based inclusive, ``end_sample`` exclusive (converted
    from the 1-based inclusive numbers in ``labels.txt``).
    """

    activity_id: int
    activity: str
    start_sample: int
    end_sample: int
    sampling_rate_hz: float = 50.0

    @property
    def start_s(self) -> float:
        return self.start_sample / self.sampling_rate_hz

    @property
    def end_s(self) -> float:
        return self.end_sample / self.sampling_rate_hz


@dataclass
class HaptExperiment:
    """One UCI HAPT experiment: smartphone on the waist, accelerometer only.

    ``acc_g`` is the file's content as published (n, 3) in g, gravity
    included; ``recording`` is the same in m/s² (placement ``None``: the phone
    was on the belt at the front of the waist, not a backstride placement).
    """

    experiment: int
    user: int
    sampling_rate_hz: float
    acc_g: np.ndarray
    recording: Recording
    labels: list[HaptLabel]

    def label_array(self, fill: int = 0) -> np.ndarray:
        """Activity id per sample (``fill`` where unlabelled)."""
        out = np.full(len(self.acc_g), fill, dtype=int)
        for lab in self.labels:
            out[lab.start_sample : lab.end_sample] = lab.activity_id
        return out


# ---------------------------------------------------------------------------
# Where the data are


def shared_root() -> Path | None:
    """``$BACKSTRIDE_SHARED`` or ``<project>/../shared``, if it exists."""
    env = os.environ.get("BACKSTRIDE_SHARED")
    root = Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared"
    return root if root.is_dir() else None


def datasets_root() -> Path | None:
    """``<shared>/datasets`` if present, else None."""
    root = shared_root()
    if root is None:
        return None
    d = root / "datasets"
    return d if d.is_dir() else None


def _dataset_dir(name: str) -> Path | None:
    root = datasets_root()
    if root is None:
        return None
    d = root / name
    return d if d.exists() else None


# ---------------------------------------------------------------------------
# Helpers


def in_windows(times_s, windows_s, margin_s: float = 0.0) -> np.ndarray:
    """Boolean mask: which of ``times_s`` lie in any window widened by ``margin_s``."""
    t = np.asarray(times_s, dtype=float).reshape(-1)
    mask = np.zeros(t.shape, dtype=bool)
    for a, b in windows_s:
        mask |= (t >= a - margin_s) & (t <= b + margin_s)
    return mask


def _windows_from_events(ic_s: np.ndarray, factor: float = REFERENCE_HOLE_FACTOR) -> list[tuple[float, float]]:
    """[first IC, last IC] split wherever consecutive ICs are > factor × median stride apart."""
    ic = np.sort(np.asarray(ic_s, float))
    if len(ic) < 2:
        return []
    d = np.diff(ic)
    holes = np.flatnonzero(d > factor * np.median(d))
    starts = np.r_[0, holes + 1]
    ends = np.r_[holes, len(ic) - 1]
    return [(float(ic[a]), float(ic[b])) for a, b in zip(starts, ends) if b > a]


def match_events(detected_s, reference_s, tolerance_s: float) -> dict:
    """One-to-one matching of detected to reference events within ``tolerance_s``.

    Optimal assignment (Hungarian, :func:`scipy.optimize.linear_sum_assignment`):
    first the largest number of pairs with ``|detected - reference| <= tolerance_s``,
    then, among those, the smallest total absolute error.  Independent blocks
    (events chained within the tolerance) are solved separately, so long
    recordings stay cheap.  NaNs are ignored.

    Returns a dict with ``tp``, ``fp``, ``fn``, ``precision``, ``recall``, ``f1``
    (NaN when undefined, i.e. 0/0), ``errors_s`` (detected − reference for the
    matched pairs, in reference order), ``pairs`` ((k, 2) int array of indices
    into the *inputs* as given: detected index, reference index) and
    ``tolerance_s``.
    """
    from scipy.optimize import linear_sum_assignment

    det = np.asarray(detected_s, dtype=float).reshape(-1)
    ref = np.asarray(reference_s, dtype=float).reshape(-1)
    det_idx = np.flatnonzero(np.isfinite(det))
    ref_idx = np.flatnonzero(np.isfinite(ref))
    det_idx = det_idx[np.argsort(det[det_idx], kind="stable")]
    ref_idx = ref_idx[np.argsort(ref[ref_idx], kind="stable")]
    d, r = det[det_idx], ref[ref_idx]
    tol = float(tolerance_s)
    eps = 1e-9  # so that a pair exactly at the tolerance survives floating-point rounding

    pairs: list[tuple[int, int]] = []
    if len(d) and len(r):
        # Blocks: sweep the merged, sorted events; a new block starts when the
        # next event is more than the tolerance after everything before it.
        times = np.concatenate([d, r])
        kind = np.concatenate([np.zeros(len(d), int), np.ones(len(r), int)])
        pos = np.concatenate([np.arange(len(d)), np.arange(len(r))])
        order = np.argsort(times, kind="stable")
        times, kind, pos = times[order], kind[order], pos[order]
        block_start = np.r_[True, np.diff(times) > tol + eps]
        block_id = np.cumsum(block_start) - 1
        for b in range(block_id[-1] + 1):
            sel = block_id == b
            di = pos[sel & (kind == 0)]
            ri = pos[sel & (kind == 1)]
            if len(di) == 0 or len(ri) == 0:
                continue
            err = np.abs(d[di][:, None] - r[ri][None, :])
            feasible = err <= tol + eps
            if not feasible.any():
                continue
            big = (tol + 1.0) * (len(di) + len(ri) + 1) * 10.0
            cost = np.where(feasible, err, big)
            rows, cols = linear_sum_assignment(cost)
            for i, j in zip(rows, cols):
                if feasible[i, j]:
                    pairs.append((int(di[i]), int(ri[j])))

    pairs.sort(key=lambda p: r[p[1]])
    tp = len(pairs)
    fp = len(d) - tp
    fn = len(r) - tp
    errors = np.array([d[i] - r[j] for i, j in pairs], dtype=float)
    precision = tp / (tp + fp) if (tp + fp) else float("nan")
    recall = tp / (tp + fn) if (tp + fn) else float("nan")
    f1 = 2 * tp / (2 * tp + fp + fn) if (2 * tp + fp + fn) else float("nan")
    pair_arr = np.array([(det_idx[i], ref_idx[j]) for i, j in pairs], dtype=int).reshape(-1, 2)
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "errors_s": errors,
        "pairs": pair_arr,
        "tolerance_s": tol,
    }


# ---------------------------------------------------------------------------
# gaitmap example (MaD-Lab), shoe sensors + motion capture


def _gaitmap_side_arrays(df: pd.DataFrame, side: str) -> tuple[np.ndarray, np.ndarray]:
    s = df[f"{side}_sensor"]
    acc = s[["acc_x", "acc_y", "acc_z"]].to_numpy(dtype=np.float64)
    gyr = s[["gyr_x", "gyr_y", "gyr_z"]].to_numpy(dtype=np.float64) * _DEG
    return acc, gyr


def _foot_pitch_deg(heel: np.ndarray, front: np.ndarray) -> np.ndarray:
    """Pitch of the heel→front marker line against the horizontal plane (toe up > 0)."""
    v = front - heel
    return np.degrees(np.arctan2(v[:, 2], np.hypot(v[:, 0], v[:, 1])))


def gaitmap_trials() -> list[Trial]:
    """Left and right shoe trials of gaitmap's example (2×20 m walk, one healthy person).

    Four trials: left/right from ``imu_sample.csv`` (gaitmap's foot sensor frame,
    x toe-forward, y left, z up for both feet) and left/right from
    ``imu_sample_not_rotated.csv`` (the same recording in the raw sensor frame;
    ``imu_sample`` = raw axes ``(y, z, x)`` for the left shoe and ``(-y, -z, x)``
    for the right one, verified to 1e-13).  204.8 Hz; acc m/s², gyr deg/s →
    rad/s.  ``extra["frame"]`` says which frame.

    Reference (``stride_events_sample.csv``, from optical motion capture, in IMU
    samples): ICs = every stride's ``ic`` plus the first stride's ``pre_ic``;
    FCs = ``tc``.  Windows: first to last reference IC of the foot, split where
    two consecutive ICs are more than 1.5× the median stride apart — the left
    foot's turn (t ≈ 16.2–18.4 s), where motion capture shows a turning step that
    the stride list does not contain.  Steps before the first and after the last
    labelled IC (starting and stopping) exist in the signal but are unlabelled.

    Strike angle (``extra``): from ``mocap_sample.csv`` (mm, 100 Hz, sample 0 at
    t = 0 like the IMU: gaitmap's ``get_healthy_example_mocap_data`` documents it
    as synchronised; verified: equal durations 38.70/38.71 s, the heel marker
    lands ≈ 25 ms and the IMU impact peak ≈ 20 ms after the reference IC, and
    the maximum toe-up pitch falls within ±10 ms of it).  Foot pitch
    p(t) = atan2(z_TOE − z_FCC, horizontal |TOE − FCC|), degrees, toe up
    positive.  ``strike_angle_deg[k]`` = p at the k-th reference IC (linear
    interpolation of the 100 Hz series) − ``foot_flat_pitch_deg[k]``, the median
    of p over ±50 ms around the next ``min_vel`` (mid-stance, foot flat) of the
    same foot.  ``strike_angle_fm5_deg`` is the same with FM5 instead of TOE.
    ``foot_pitch_t_s``/``foot_pitch_deg`` give the whole raw pitch series (not
    offset-corrected) to evaluate the angle at any other instant.
    """
    d = _dataset_dir("gaitmap_example")
    if d is None:
        return []
    try:
        rotated = pd.read_csv(d / "imu_sample.csv", header=[0, 1], index_col=0)
        events = pd.read_csv(d / "stride_events_sample.csv")
    except FileNotFoundError:
        return []
    raw_path = d / "imu_sample_not_rotated.csv"
    raw = pd.read_csv(raw_path, header=[0, 1], index_col=0) if raw_path.exists() else None
    mocap_path = d / "mocap_sample.csv"
    mocap = pd.read_csv(mocap_path, header=[0, 1], index_col=0) if mocap_path.exists() else None

    fs = GAITMAP_FS_HZ
    ref: dict[str, dict] = {}
    for side in ("left", "right"):
        ev = events[events["foot"] == side].sort_values("start")
        # (IC, following min_vel) pairs: each stride's ic is followed by its end
        # (the next min_vel); a stride that starts a new sequence also brings its
        # pre_ic, followed by its start.
        starts_seq = np.r_[True, ev["start"].to_numpy()[1:] != ev["end"].to_numpy()[:-1]]
        ic_ff = list(zip(ev["ic"].to_numpy(float), ev["end"].to_numpy(float)))
        ic_ff += list(zip(ev["pre_ic"].to_numpy(float)[starts_seq], ev["start"].to_numpy(float)[starts_seq]))
        ic_ff = sorted(dict(ic_ff).items())  # unique ICs, sorted
        ic_order = np.array([a for a, _ in ic_ff], dtype=float)
        ff_samples = np.array([b for _, b in ic_ff], dtype=float)
        ic_s = ic_order / fs
        fc_s = np.sort(ev["tc"].to_numpy(float)) / fs
        info = {"ic_s": ic_s, "fc_s": fc_s, "windows_s": _windows_from_events(ic_s)}
        if mocap is not None:
            L = side[0].upper()
            t_m = np.arange(len(mocap)) / GAITMAP_MOCAP_FS_HZ
            heel = mocap[f"{L}_FCC"].to_numpy(float)
            p_toe = _foot_pitch_deg(heel, mocap[f"{L}_TOE"].to_numpy(float))
            p_fm5 = _foot_pitch_deg(heel, mocap[f"{L}_FM5"].to_numpy(float))
            angle, angle5, flat = [], [], []
            for ic, ff in zip(ic_order / fs, ff_samples / fs):
                w = (t_m >= ff - 0.05) & (t_m <= ff + 0.05)
                f_toe, f_fm5 = float(np.median(p_toe[w])), float(np.median(p_fm5[w]))
                flat.append(f_toe)
                angle.append(float(np.interp(ic, t_m, p_toe)) - f_toe)
                angle5.append(float(np.interp(ic, t_m, p_fm5)) - f_fm5)
            info["strike"] = {
                "strike_angle_deg": np.asarray(angle),
                "strike_angle_fm5_deg": np.asarray(angle5),
                "foot_flat_pitch_deg": np.asarray(flat),
                "ic_for_angle_s": ic_s.copy(),
                "foot_flat_s": ff_samples / fs,
                "foot_pitch_t_s": t_m,
                "foot_pitch_deg": p_toe,
                "strike_angle_method": (
                    "pitch of heel(FCC)->toe(TOE) line vs horizontal at the reference IC minus "
                    "median pitch within +-50 ms of the next min_vel (foot flat); toe up positive"
                ),
            }
        ref[side] = info

    trials: list[Trial] = []
    variants = [("imu_sample.csv", rotated, "gaitmap foot sensor frame (x toe-forward, y left, z up)", "")]
    if raw is not None:
        variants.append(("imu_sample_not_rotated.csv", raw, "raw sensor frame (as recorded)", " raw-frame"))
    for fname, df, frame, tag in variants:
        idx = df.index.to_numpy().astype(np.int64)
        for side in ("left", "right"):
            acc, gyr = _gaitmap_side_arrays(df, side)
            rec = from_arrays(
                acc, gyr_rad_s=gyr, sampling_rate_hz=fs, sample_index=idx,
                placement=f"foot-{side}", source=str(d / fname),
            )
            rec.extra.update({"frame": frame, "dataset": "gaitmap_example"})
            other = "right" if side == "left" else "left"
            info = ref[side]
            extra = {
                "foot": side,
                "frame": frame,
                "file": fname,
                "contralateral_ic_s": ref[other]["ic_s"],
                "contralateral_fc_s": ref[other]["fc_s"],
                "reference": "optical motion capture (gaitmap example_data, stride_events_sample.csv)",
            }
            extra.update(info.get("strike", {}))
            trials.append(
                Trial(
                    name=f"gaitmap_example {side} shoe{tag}",
                    dataset="gaitmap_example",
                    recording=rec,
                    ic_s={side: info["ic_s"].copy()},
                    fc_s={side: info["fc_s"].copy()},
                    windows_s=list(info["windows_s"]),
                    extra=extra,
                )
            )
    return trials


# ---------------------------------------------------------------------------
# IPOL gait data set (Voisard et al. 2023), Xsens MTw at L5 and both feet

_IPOL_SUFFIX = {"lower-back": "lb", "foot-left": "lf", "foot-right": "rf"}


def _read_ipol_txt(path: Path) -> tuple[pd.DataFrame, float]:
    with open(path) as fh:
        first = fh.readline()
    fs = 100.0
    if first.lower().startswith("acquisition frequency"):
        try:
            fs = float(first.split(":", 1)[1].strip().split()[0])
        except (IndexError, ValueError):
            pass
        skip = 1
    else:
        skip = 0
    df = pd.read_csv(path, sep="\t", skiprows=skip)
    return df, fs


def ipol_trials(placement: str) -> list[Trial]:
    """IPOL healthy-gait trials (10 m walk, U-turn, 10 m back) for one sensor.

    ``placement`` is ``"lower-back"`` (``_lb``), ``"foot-left"`` (``_lf``) or
    ``"foot-right"`` (``_rf``).  Files: one line ``Acquisition frequency: 100 Hz``,
    then a tab-separated table (``PacketCounter``, Acc m/s², Gyr rad/s, Mag in
    Xsens normalised units — dropped).

    Clock: ``sample_index`` is the raw ``PacketCounter`` (lost packets are absent
    rows).  It is *not* re-based to the file's first counter, because the
    counter is shared by the three sensors (they often end on the same value
    while having lost different packets) and the JSON event indices are on it:
    with row numbers the foot impacts drift by up to 25 samples from the ICs
    in trials with losses, with ``PacketCounter`` they stay within a few
    samples; files whose first counter is 1 or 2 (sample 0 lost) align with the
    events on the raw counter (mean IC→impact offset 1.2 vs 1.4 samples for
    files starting at 0; re-basing would make it 2.2).

    Events: ``LeftFootEvents``/``RightFootEvents`` are ``[toe_off,
    initial_contact]`` pairs (verified: the foot gyro is never quiet between the
    first and the second element — swing, min |gyr| ≈ 1 rad/s — while it goes
    quiet, ≈ 0.09 rad/s, between an IC and the next toe-off; the acc impact peak
    falls 1–5 samples after the second element).  Windows: ``TrialBoundaries``
    minus ``UTurnBoundaries``, i.e. the two straight 10 m walks.  Events inside the
    U-turn are kept in ``ic_s`` but lie outside the windows.
    """
    if placement not in _IPOL_SUFFIX:
        raise ValueError(f"placement must be one of {sorted(_IPOL_SUFFIX)}, not {placement!r}")
    d = _dataset_dir("ipol_gait")
    if d is None:
        return []
    gd = d / "GaitData"
    if not gd.is_dir():
        return []
    suffix = _IPOL_SUFFIX[placement]

    def sort_key(p: Path):
        s, t = p.stem.split("-")
        return (int(s), int(t))

    trials: list[Trial] = []
    for js in sorted(gd.glob("*-*.json"), key=sort_key):
        code = js.stem
        txt = gd / f"{code}_{suffix}.txt"
        if not txt.exists():
            continue
        meta = json.loads(js.read_text())
        df, fs = _read_ipol_txt(txt)
        pc = df["PacketCounter"].to_numpy()
        idx = np.round(pc).astype(np.int64)
        acc = df[["Acc_X", "Acc_Y", "Acc_Z"]].to_numpy(np.float64)
        gyr = df[["Gyr_X", "Gyr_Y", "Gyr_Z"]].to_numpy(np.float64)
        rec = from_arrays(
            acc, gyr_rad_s=gyr, sampling_rate_hz=fs, sample_index=idx, placement=placement,
            sensor=SensorInfo(make="Xsens", model="MTw Awinda"), source=str(txt),
        )
        ev = {}
        for side, key in (("left", "LeftFootEvents"), ("right", "RightFootEvents")):
            pairs = np.asarray(meta.get(key, []), dtype=float).reshape(-1, 2)
            ev[side] = (np.sort(pairs[:, 1]) / fs, np.sort(pairs[:, 0]) / fs)
        tb = meta.get("TrialBoundaries")
        ut = meta.get("UTurnBoundaries")
        windows: list[tuple[float, float]] = []
        if tb:
            if ut:
                windows = [(tb[0] / fs, ut[0] / fs), (ut[1] / fs, tb[1] / fs)]
            else:
                windows = [(tb[0] / fs, tb[1] / fs)]
        extra = {
            "subject": meta.get("Subject"),
            "trial": meta.get("Trial"),
            "age": meta.get("Age"),
            "gender": meta.get("Gender"),
            "height_cm": meta.get("Height"),
            "weight_kg": meta.get("Weight"),
            "trial_boundaries_s": (tb[0] / fs, tb[1] / fs) if tb else None,
            "uturn_s": (ut[0] / fs, ut[1] / fs) if ut else None,
            "reference": "two validated algorithms, checked by hand (Voisard et al., IPOL 2023)",
        }
        if placement == "lower-back":
            ic_s = {s: ev[s][0] for s in ("left", "right")}
            fc_s = {s: ev[s][1] for s in ("left", "right")}
        else:
            side = placement.split("-")[1]
            other = "right" if side == "left" else "left"
            ic_s, fc_s = {side: ev[side][0]}, {side: ev[side][1]}
            extra.update({"foot": side, "contralateral_ic_s": ev[other][0], "contralateral_fc_s": ev[other][1]})
        trials.append(
            Trial(
                name=f"ipol_gait {code} {placement}",
                dataset="ipol_gait",
                recording=rec,
                ic_s=ic_s,
                fc_s=fc_s,
                windows_s=windows,
                extra=extra,
            )
        )
    return trials


# ---------------------------------------------------------------------------
# Mobilise-D lab example data (mobgap), lower back


def _as_list(x) -> list:
    if x is None:
        return []
    if isinstance(x, dict):
        return [x]
    if isinstance(x, np.ndarray):
        return list(x.ravel()) if x.dtype == object else ([] if x.size == 0 else [x])
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def _as_1d(x, dtype=float) -> np.ndarray:
    if x is None:
        return np.empty(0, dtype=dtype)
    a = np.atleast_1d(np.asarray(x))
    if a.size == 0:
        return np.empty(0, dtype=dtype)
    return a.astype(dtype).ravel()


def _events_by_side(times, labels, fs: float) -> dict[str, np.ndarray]:
    t = _as_1d(times)
    lab = [str(v) for v in np.atleast_1d(np.asarray(labels, dtype=object)).ravel()] if labels is not None else []
    out = {"left": [], "right": []}
    for ti, li in zip(t, lab):
        if not np.isfinite(ti):
            continue
        key = li.strip().lower()
        if key in out:
            out[key].append(ti - 1.0 / fs)
    return {k: np.unique(np.asarray(v, float)) for k, v in out.items()}


def _parse_walking_bouts(bouts, fs: float) -> tuple[dict, dict, list, list]:
    ic = {"left": [], "right": []}
    fc = {"left": [], "right": []}
    windows, info = [], []
    for wb in bouts:
        if not isinstance(wb, dict):
            continue
        e_ic = _events_by_side(wb.get("InitialContact_Event"), wb.get("InitialContact_LeftRight"), fs)
        e_fc = _events_by_side(wb.get("FinalContact_Event"), wb.get("FinalContact_LeftRight"), fs)
        for s in ("left", "right"):
            ic[s].append(e_ic[s])
            fc[s].append(e_fc[s])
        start, end = float(wb.get("Start", np.nan)), float(wb.get("End", np.nan))
        if np.isfinite(start) and np.isfinite(end):
            windows.append((start - 1.0 / fs, end - 1.0 / fs))
        info.append({
            "start_s": start - 1.0 / fs,
            "end_s": end - 1.0 / fs,
            "n_strides": int(wb.get("NumberStrides", 0) or 0),
            "termination_reason": str(wb.get("TerminationReason", "")),
            "walking_speed_m_s": float(wb.get("WalkingSpeed", np.nan)),
        })
    ic = {s: np.unique(np.concatenate(v)) if v else np.empty(0) for s, v in ic.items()}
    fc = {s: np.unique(np.concatenate(v)) if v else np.empty(0) for s, v in fc.items()}
    return ic, fc, sorted(windows), info


def mobgap_trials() -> list[Trial]:
    """Mobilise-D lab example trials (lower back, McRoberts MM+), INDIP reference.

    ``data/lab/<cohort>/<participant>/data.mat`` (MATLAB 5 format: read with
    :func:`scipy.io.loadmat`, no h5py needed).  Every ``TimeMeasure*/Test*/Trial*``
    with at least one INDIP micro walking bout becomes a trial (HA/002 Test5
    Trials 1–2 have an empty reference in both systems and are left out).
    Acc g → m/s² (× 9.80665), Gyr deg/s → rad/s, 100 Hz, no gaps (the
    ``Timestamp`` steps are all 0.01 s).  ``start_utc`` is the first
    ``Timestamp`` (Unix seconds).

    Reference: ``Standards.INDIP.MicroWB[*]``; ``InitialContact_Event`` /
    ``FinalContact_Event`` with ``*_LeftRight`` labels; NaNs and duplicates are
    dropped; times are MATLAB 1-based, so seconds from the first sample are
    ``t − 1/fs``.  Windows: each micro walking bout ``[Start, End] − 1/fs``.
    ``extra["stereophoto"]`` holds the optical-motion-capture reference of the
    same trial (same structure) where present.
    """
    from scipy.io import loadmat

    d = _dataset_dir("mobgap_lab")
    if d is None:
        return []
    trials: list[Trial] = []
    for mat in sorted(d.glob("data/lab/*/*/data.mat")):
        cohort, participant = mat.parent.parent.name, mat.parent.name
        try:
            data = loadmat(str(mat), simplify_cells=True)["data"]
        except Exception:  # unreadable file: skip it, the bench reports what it got
            continue
        for tm_name, tm in sorted(data.items()):
            if not isinstance(tm, dict):
                continue
            tests = sorted(tm.items(), key=lambda kv: (len(kv[0]), kv[0]))
            for test_name, test in tests:
                if not isinstance(test, dict):
                    continue
                for trial_name, tr in sorted(test.items()):
                    if not isinstance(tr, dict) or "SU" not in tr:
                        continue
                    lb = tr["SU"].get("LowerBack")
                    if not isinstance(lb, dict):
                        continue
                    fs_info = lb.get("Fs", {})
                    fs = float(fs_info.get("Acc", 100) if isinstance(fs_info, dict) else fs_info)
                    standards = tr.get("Standards", {}) or {}
                    indip = standards.get("INDIP", {}) if isinstance(standards, dict) else {}
                    bouts = _as_list(indip.get("MicroWB") if isinstance(indip, dict) else None)
                    if not bouts:
                        continue
                    ic, fc, windows, wb_info = _parse_walking_bouts(bouts, fs)
                    acc = np.asarray(lb["Acc"], float) * GRAVITY_M_S2
                    gyr = np.asarray(lb["Gyr"], float) * _DEG
                    ts = np.asarray(lb.get("Timestamp", []), float)
                    start = datetime.fromtimestamp(float(ts[0]), tz=timezone.utc) if ts.size else None
                    name = f"mobgap_lab {cohort}/{participant} {test_name} {trial_name} lower-back"
                    rec = from_arrays(
                        acc, gyr_rad_s=gyr, sampling_rate_hz=fs, start_utc=start, placement="lower-back",
                        sensor=SensorInfo(make="McRoberts", model="MoveMonitor+"), source=str(mat),
                    )
                    rec.extra.update({"dataset": "mobgap_lab", "test": test_name, "trial": trial_name})
                    extra = {
                        "cohort": cohort,
                        "participant": participant,
                        "time_measure": tm_name,
                        "test": test_name,
                        "trial": trial_name,
                        "start_date_time": tr.get("StartDateTime"),
                        "time_zone": tr.get("TimeZone"),
                        "reference": "INDIP multi-sensor system, MicroWB level",
                        "walking_bouts": wb_info,
                    }
                    stereo = standards.get("Stereophoto") if isinstance(standards, dict) else None
                    s_bouts = _as_list(stereo.get("MicroWB")) if isinstance(stereo, dict) else []
                    if s_bouts:
                        s_ic, s_fc, s_win, _ = _parse_walking_bouts(s_bouts, fs)
                        extra["stereophoto"] = {"ic_s": s_ic, "fc_s": s_fc, "windows_s": s_win}
                    trials.append(
                        Trial(name=name, dataset="mobgap_lab", recording=rec, ic_s=ic, fc_s=fc,
                              windows_s=windows, extra=extra)
                    )
    return trials


# ---------------------------------------------------------------------------
# adept running (no reference)


def adept_running() -> tuple[Recording, Recording] | None:
    """(hip, shoe) recordings of the first 12.5 min of an outdoor run, or None.

    ActiGraph GT9X Link, 100 Hz, acceleration only, g → m/s².  ``loc_id``
    ``left_hip`` (elastic belt at the left side of the hip; returned with
    placement ``"lower-back"``, the nearest backstride placement) and
    ``left_ankle`` (clipped to the left shoe below the ankle: ``"foot-left"``).
    ``start_utc`` from the first ``date_time``, which carries no zone and is
    taken as UTC (an assumption: the R data set stores POSIXct).  Sample
    indices come from the time stamps (all steps are 10 ms ± 0.3 µs).
    """
    d = _dataset_dir("adept_running")
    if d is None or not (d / "part1.csv.gz").exists():
        return None
    path = d / "part1.csv.gz"
    df = pd.read_csv(path)
    out = {}
    fs = 100.0
    for loc, placement in (("left_hip", "lower-back"), ("left_ankle", "foot-left")):
        g = df[df["loc_id"] == loc]
        if g.empty:
            return None
        t = pd.to_datetime(g["date_time"], utc=True)
        t_ns = t.astype("int64").to_numpy()
        idx = np.round((t_ns - t_ns[0]) / 1e9 * fs).astype(np.int64)
        acc = g[["x", "y", "z"]].to_numpy(np.float64) * GRAVITY_M_S2
        rec = from_arrays(
            acc, sampling_rate_hz=fs, sample_index=idx, start_utc=t.iloc[0].to_pydatetime(),
            placement=placement, sensor=SensorInfo(make="ActiGraph", model="GT9X Link"), source=str(path),
        )
        rec.extra.update({"dataset": "adept_running", "loc_id": loc,
                          "site": "left hip, elastic belt" if loc == "left_hip" else "left shoe, below the ankle",
                          "start_utc_assumed": True})
        out[loc] = rec
    return out["left_hip"], out["left_ankle"]


# ---------------------------------------------------------------------------
# UCI HAPT (activity labels)


def uci_hapt_experiments() -> list[HaptExperiment]:
    """UCI HAPT raw accelerometer experiments with their video-based labels.

    Smartphone on the waist (belt), 50 Hz, acc in g with gravity.  Labels from
    ``RawData/labels.txt`` (experiment, user, activity id, start, end); the file
    numbers samples from 1 with both ends inclusive (consecutive segments are
    ``end + 1`` apart), taken as MATLAB-style 1-based: ``HaptLabel.start_sample
    = start − 1`` (0-based), ``end_sample = end`` (exclusive).  Activity names
    from ``activity_labels.txt``.  Gyroscope files are not in the shared subset.
    """
    d = _dataset_dir("uci_hapt")
    if d is None:
        return []
    raw = d / "RawData"
    labels_path = raw / "labels.txt"
    if not labels_path.exists():
        return []
    names = {}
    act_path = d / "activity_labels.txt"
    if act_path.exists():
        for line in act_path.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 2:
                names[int(parts[0])] = parts[1]
    lab = pd.read_csv(labels_path, sep=r"\s+", header=None, names=["exp", "user", "act", "start", "end"])
    fs = 50.0
    out: list[HaptExperiment] = []
    for f in sorted(raw.glob("acc_exp*_user*.txt")):
        stem = f.stem  # acc_exp01_user01
        exp = int(stem.split("exp")[1].split("_")[0])
        user = int(stem.split("user")[1])
        acc_g = np.loadtxt(f, dtype=np.float64).reshape(-1, 3)
        rec = from_arrays(acc_g * GRAVITY_M_S2, sampling_rate_hz=fs, placement=None, source=str(f))
        rec.extra.update({"dataset": "uci_hapt", "site": "smartphone on the waist (belt)"})
        rows = lab[lab["exp"] == exp].sort_values("start")
        labels = [
            HaptLabel(int(r.act), names.get(int(r.act), str(r.act)), int(r.start) - 1, min(int(r.end), len(acc_g)), fs)
            for r in rows.itertuples()
        ]
        out.append(HaptExperiment(exp, user, fs, acc_g, rec, labels))
    return out
