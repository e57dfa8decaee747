"""All-day activity and posture from one clip-on sensor (lower back or thigh).

Every second of a recording becomes one of ``lying``, ``sitting``,
``standing``, ``walking``, ``running`` or ``unknown`` (gaps, non-wear, a
sensor being moved); from these come sit-to-stand / stand-to-sit transitions,
sitting bouts and, for a lower-back sensor, slumped sitting.

Method (thresholds and their sources in :mod:`analysis.activity_constants`)
---------------------------------------------------------------------------
1. **Features per half second**, accumulated chunk by chunk (bounded memory;
   a chunk always ends on a bin boundary, so chunks give exactly the one-pass
   result): mean specific force (gravity direction: a boxcar low-pass),
   mean and variance of its magnitude, per-axis variance, the share of samples
   near free fall, and the mean angular rate when there is a gyroscope.
2. **Movement intensity** per second: the standard deviation of the
   acceleration magnitude.  Sustained intensity ≥ ``GAIT_MIN_G`` for ≥
   ``GAIT_MIN_S`` is gait; gait with a flight phase (samples near free fall)
   is running, otherwise walking.
3. **Mount learnt from walking**: the upright direction (sensor frame) is the
   mean gravity direction over walking seconds (the trunk and the thigh are
   upright on average over a stride).  A clip rotated or upside down changes
   the sensor-frame vector, not the angles measured from it.  Walking bouts
   whose upright differs by more than ``MOUNT_CHANGE_DEG`` mean the sensor was
   moved: the mount is learnt again, and the time between is ``unknown``.
4. **Postures** of the remaining seconds from the inclination against that
   upright.  Thigh: > 45° sitting (the activPAL inclinometer rule), else
   standing.  Lower back: > 60° lying; otherwise sitting when the median
   inclination of the still period (between movement bursts) exceeds
   ``TRUNK_SIT_INCL_DEG`` (the pelvis tilts back when one sits), else standing.
5. **Minimum posture duration** (activPAL, default 10 s): a posture that lasts
   less joins the bout before it.  Then transitions are the changes between
   sitting and upright; each is timed by its burst of movement (start to end
   of the burst, at most ``TRANSITION_MAX_S``).
6. **Non-wear** (van Hees 2011 per-minute rule over ≥ 90 min, Choi 2011
   allowance) and gaps are ``unknown``, never sitting.

What a placement cannot separate
--------------------------------
* **Thigh**: sitting and lying both put the thigh horizontal; they are
  reported together as ``sitting`` (as activPAL does).  Standing still and
  standing while shifting weight are both ``standing``.
* **Lower back**: sitting and standing differ only by the pelvis tilt (10–35°
  in most people, but a few sit as upright as they stand); a person who sits
  with an upright pelvis is reported standing.  Lying is reliable (trunk near
  horizontal).  No placement here tells walking on stairs from level walking.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import pandas as pd

from analysis import activity_constants as K
from analysis.constants import ACC_COLS, GRAVITY_M_S2, GYR_COLS
from sensing.recording import Recording, RecordingError

#: Placements the all-day analysis supports.
ACTIVITY_PLACEMENTS = ("lower-back", "thigh-left", "thigh-right")

_FEATURES = ("n", "acc_x", "acc_y", "acc_z", "norm_mean", "norm_var", "var_x", "var_y", "var_z", "flight", "gyr")


# ---------------------------------------------------------------------------
# 1. Features, chunk by chunk


class FeatureAccumulator:
    """Half-second features from samples fed in chunks of any size.

    Samples of the last, possibly incomplete, bin of a chunk are kept and
    prepended to the next chunk, so every bin is computed from all of its
    samples at once, in order: the result does not depend on the chunking.
    Memory: the carried samples plus 11 float32 values per bin (~90 bytes per
    second of recording), whatever the sampling rate.
    """

    def __init__(self, *, sampling_rate_hz: float, bin_s: float = K.BIN_S):
        self.sampling_rate_hz = float(sampling_rate_hz)
        self.bin_s = bin_s
        self._carry: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None
        self._bins: list[np.ndarray] = []
        self._values: list[np.ndarray] = []
        self._last_index: int | None = None
        self.has_gyr: bool | None = None
        self.samples_ = 0

    def _bin_of(self, idx: np.ndarray) -> np.ndarray:
        return np.floor(idx / (self.sampling_rate_hz * self.bin_s)).astype(np.int64)

    def feed(self, sample_index: np.ndarray, acc_m_s2: np.ndarray, gyr_rad_s: np.ndarray | None = None, *,
             source: str | None = None) -> None:
        idx = np.asarray(sample_index, dtype=np.int64)
        acc = np.asarray(acc_m_s2, dtype=np.float64)
        if len(idx) == 0:
            return
        if acc.shape != (len(idx), 3):
            raise RecordingError(source, "chunk", f"accelerometer block of shape {acc.shape}", f"({len(idx)}, 3)")
        if self.has_gyr is None:
            self.has_gyr = gyr_rad_s is not None
        elif self.has_gyr != (gyr_rad_s is not None):
            raise RecordingError(source, f"sample {idx[0]}", "gyroscope channels appear or vanish midway",
                                 "the same channels throughout")
        gyr = None if gyr_rad_s is None else np.asarray(gyr_rad_s, dtype=np.float64)
        prev = self._last_index
        if (prev is not None and idx[0] <= prev) or np.any(np.diff(idx) <= 0):
            where = 0 if prev is not None and idx[0] <= prev else int(np.flatnonzero(np.diff(idx) <= 0)[0]) + 1
            raise RecordingError(source, f"sample {idx[where]}",
                                 "time does not increase (a clock jump backwards?)", "strictly increasing sample times")
        bad = ~np.isfinite(acc).all(axis=1)
        if gyr is not None:
            bad |= ~np.isfinite(gyr).all(axis=1)
        if bad.any():
            raise RecordingError(source, f"sample {idx[np.flatnonzero(bad)[0]]}", f"{int(bad.sum())} non-finite values",
                                 "finite numbers")
        self._last_index = int(idx[-1])
        self.samples_ += len(idx)
        if self._carry is not None:
            ci, ca, cg = self._carry
            idx = np.concatenate([ci, idx])
            acc = np.concatenate([ca, acc])
            gyr = None if gyr is None else np.concatenate([cg, gyr])
        b = self._bin_of(idx)
        keep = b == b[-1]
        cut = int(np.argmax(keep))  # first sample of the last (open) bin
        self._carry = (idx[cut:], acc[cut:], None if gyr is None else gyr[cut:])
        if cut:
            self._add(b[:cut], acc[:cut], None if gyr is None else gyr[:cut])

    def _add(self, b: np.ndarray, acc: np.ndarray, gyr: np.ndarray | None) -> None:
        first = b[0]
        rel = b - first
        m = int(rel[-1]) + 1
        n = np.bincount(rel, minlength=m).astype(np.float64)
        present = n > 0
        nn = np.where(present, n, 1.0)
        norm = np.sqrt(np.einsum("ij,ij->i", acc, acc))
        out = np.empty((m, len(_FEATURES)), dtype=np.float64)
        out[:, 0] = n
        for k in range(3):
            s = np.bincount(rel, weights=acc[:, k], minlength=m) / nn
            out[:, 1 + k] = s
            out[:, 6 + k] = np.bincount(rel, weights=(acc[:, k] - s[rel]) ** 2, minlength=m) / nn
        mean_norm = np.bincount(rel, weights=norm, minlength=m) / nn
        out[:, 4] = mean_norm
        out[:, 5] = np.bincount(rel, weights=(norm - mean_norm[rel]) ** 2, minlength=m) / nn
        out[:, 9] = np.bincount(rel, weights=(norm < K.FLIGHT_G * GRAVITY_M_S2).astype(np.float64), minlength=m) / nn
        if gyr is not None:
            out[:, 10] = np.bincount(rel, weights=np.sqrt(np.einsum("ij,ij->i", gyr, gyr)), minlength=m) / nn
        else:
            out[:, 10] = np.nan
        self._bins.append(first + np.flatnonzero(present))
        self._values.append(out[present].astype(np.float32))

    def finish(self) -> "BinFeatures":
        if self._carry is not None and len(self._carry[0]):
            ci, ca, cg = self._carry
            self._add(self._bin_of(ci), ca, cg)
            self._carry = None
        if not self._bins:
            raise RecordingError(None, "data", "no samples", "at least one sample")
        bins = np.concatenate(self._bins)
        vals = np.concatenate(self._values)
        self._bins, self._values = [bins], [vals]
        return BinFeatures(bins=bins, values=vals, sampling_rate_hz=self.sampling_rate_hz, bin_s=self.bin_s,
                           has_gyr=bool(self.has_gyr))


@dataclass
class BinFeatures:
    """Half-second features: ``bins`` (bin numbers on the recording clock) and ``values`` (k, 11)."""

    bins: np.ndarray
    values: np.ndarray
    sampling_rate_hz: float
    bin_s: float
    has_gyr: bool

    def column(self, name: str) -> np.ndarray:
        return self.values[:, _FEATURES.index(name)].astype(np.float64)


def iter_recording_chunks(recording: Recording, chunk_s: float) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray | None]]:
    """(sample_index, acc, gyr) blocks of about ``chunk_s`` seconds from an in-memory recording."""
    df = recording.data
    step = max(1, int(chunk_s * recording.sampling_rate_hz))
    idx = df.index.to_numpy(np.int64)
    acc = df[list(ACC_COLS)].to_numpy(np.float64)
    gyr = df[list(GYR_COLS)].to_numpy(np.float64) if recording.has_gyr else None
    for a in range(0, len(idx), step):
        yield idx[a:a + step], acc[a:a + step], None if gyr is None else gyr[a:a + step]


def iter_parquet_chunks(path: str | Path, chunk_s: float) -> tuple[dict, Iterator]:
    """Metadata and a chunk iterator over a backstride Parquet file, never loading it whole."""
    import json

    import pyarrow.parquet as pq

    from sensing.formats import unit_factor

    path = Path(path)
    try:
        pf = pq.ParquetFile(path)
    except FileNotFoundError:
        raise RecordingError(path, "file", "does not exist") from None
    except Exception as exc:
        raise RecordingError(path, "file", f"not a readable Parquet file ({exc})", "a backstride recording") from None
    raw = (pf.schema_arrow.metadata or {}).get(b"backstride")
    if raw is None:
        raise RecordingError(path, "metadata", "no backstride metadata", "a Parquet file written by backstride")
    meta = json.loads(raw)
    fs = float(meta["sampling_rate_hz"])
    units = meta.get("units", {})
    names = pf.schema_arrow.names
    has_gyr = all(c in names for c in GYR_COLS)
    cols = ["sample_index", *ACC_COLS, *(GYR_COLS if has_gyr else ())]
    factors = {c: unit_factor(c[:3], units[c], source=path, where=f"metadata.units.{c}") if c in units else 1.0
               for c in cols[1:]}

    def gen():
        for batch in pf.iter_batches(batch_size=max(1000, int(chunk_s * fs)), columns=cols):
            d = {c: batch.column(c).to_numpy(zero_copy_only=False) for c in cols}
            acc = np.column_stack([d[c] * factors[c] for c in ACC_COLS])
            gyr = np.column_stack([d[c] * factors[c] for c in GYR_COLS]) if has_gyr else None
            yield d["sample_index"].astype(np.int64), acc, gyr

    return meta, gen()


def features_from_chunks(chunks: Iterable, *, sampling_rate_hz: float, source: str | None = None,
                         progress: bool = False, total_samples: int | None = None) -> BinFeatures:
    """Feed chunks to a :class:`FeatureAccumulator`, with a progress bar on the terminal if asked."""
    acc = FeatureAccumulator(sampling_rate_hz=sampling_rate_hz)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total_samples, unit=" samples", unit_scale=True, desc="activity", leave=False)
    for idx, a, g in chunks:
        acc.feed(idx, a, g, source=source)
        if bar is not None:
            bar.update(len(idx))
    if bar is not None:
        bar.close()
    return acc.finish()


# ---------------------------------------------------------------------------
# 2. Seconds


@dataclass
class Epochs:
    """Per-second quantities (arrays of length n; second k covers [t0_s + k, t0_s + k + 1))."""

    t0_s: float
    valid: np.ndarray
    up: np.ndarray  # (n, 3) unit gravity direction, NaN where invalid
    intensity_g: np.ndarray
    flight: np.ndarray
    bin_up: np.ndarray  # (2n, 3) per half second, for transition timing
    bin_intensity_g: np.ndarray
    axis_var: np.ndarray  # (n, 3) per-second axis variance (m/s²)² around the second's mean
    axis_mean: np.ndarray  # (n, 3)


def epochs_from_features(f: BinFeatures) -> Epochs:
    per = int(round(K.EPOCH_S / f.bin_s))
    first = (f.bins[0] // per) * per
    last = (f.bins[-1] // per + 1) * per
    nb = int(last - first)
    full = np.full((nb, f.values.shape[1]), np.nan)
    full[:, 0] = 0.0
    full[f.bins - first] = f.values
    n = full[:, 0]
    expected_bin = f.sampling_rate_hz * f.bin_s
    ne = nb // per
    shaped = full.reshape(ne, per, -1)
    cnt = shaped[:, :, 0].sum(axis=1)
    w = np.where(np.isfinite(shaped[:, :, 1]), shaped[:, :, 0], 0.0)
    wsum = np.where(cnt > 0, cnt, 1.0)

    def wmean(col):
        return np.nansum(np.nan_to_num(shaped[:, :, col]) * w, axis=1) / wsum

    mean_acc = np.column_stack([wmean(1 + k) for k in range(3)])
    mnorm = wmean(4)
    # combine bin mean/variance of the magnitude into the second's variance
    ex2 = np.nansum((np.nan_to_num(shaped[:, :, 5]) + np.nan_to_num(shaped[:, :, 4]) ** 2) * w, axis=1) / wsum
    intensity = np.sqrt(np.clip(ex2 - mnorm**2, 0, None)) / GRAVITY_M_S2
    axis_var = np.column_stack([
        np.nansum((np.nan_to_num(shaped[:, :, 6 + k]) + np.nan_to_num(shaped[:, :, 1 + k]) ** 2) * w, axis=1) / wsum
        - mean_acc[:, k] ** 2 for k in range(3)])
    flight = wmean(9)
    valid = cnt >= K.MIN_EPOCH_COVERAGE * f.sampling_rate_hz * K.EPOCH_S
    nrm = np.linalg.norm(mean_acc, axis=1, keepdims=True)
    up = np.where(valid[:, None] & (nrm > 0), mean_acc / np.where(nrm > 0, nrm, 1), np.nan)
    bnorm = np.linalg.norm(np.nan_to_num(full[:, 1:4]), axis=1, keepdims=True)
    bvalid = n >= 0.5 * expected_bin
    bin_up = np.where(bvalid[:, None] & (bnorm > 0), full[:, 1:4] / np.where(bnorm > 0, bnorm, 1), np.nan)
    bin_int = np.where(bvalid, np.sqrt(np.clip(np.nan_to_num(full[:, 5]), 0, None)) / GRAVITY_M_S2, np.nan)
    return Epochs(t0_s=float(first * f.bin_s), valid=valid, up=up, intensity_g=np.where(valid, intensity, np.nan),
                  flight=flight, bin_up=bin_up, bin_intensity_g=bin_int, axis_var=np.clip(axis_var, 0, None),
                  axis_mean=mean_acc)


# ---------------------------------------------------------------------------
# helpers


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    d = np.diff(m.astype(np.int8))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


def _label_runs(labels: np.ndarray) -> list[tuple[int, int, str]]:
    if len(labels) == 0:
        return []
    change = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    starts = np.concatenate([[0], change])
    stops = np.concatenate([change, [len(labels)]])
    return [(int(a), int(b), str(labels[a])) for a, b in zip(starts, stops)]


def _angle_deg(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.degrees(np.arccos(np.clip(np.einsum("...i,...i->...", u, v), -1.0, 1.0)))


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, float)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _segment_median(x: np.ndarray, inside: np.ndarray, breaks: np.ndarray) -> np.ndarray:
    """Each run of ``inside & ~breaks`` gets the median of ``x`` over it; ``breaks`` seconds inside keep their own
    value only if they are not next to a segment (they join the nearer segment otherwise)."""
    out = np.where(inside, x, np.nan)
    for a, b in _runs(inside & ~breaks):
        out[a:b] = np.nanmedian(x[a:b]) if np.isfinite(x[a:b]).any() else np.nan
    return out


def _median_filter_nan(x: np.ndarray, width: int) -> np.ndarray:
    s = pd.Series(x)
    return s.rolling(width, center=True, min_periods=1).median().to_numpy()


# ---------------------------------------------------------------------------
# 3–6. Classification


@dataclass
class MountEpoch:
    start_s: float
    end_s: float
    up_sensor: tuple[float, float, float] | None
    source: str


@dataclass
class ActivityResult:
    """Everything :class:`ActivityClassifier` finds (times in s from the recording start)."""

    placement: str
    labels: np.ndarray  # one per second from t0_s
    t0_s: float
    activities: pd.DataFrame  # start_s, end_s, activity
    transitions: pd.DataFrame  # t_s, kind, duration_s
    sitting_bouts: pd.DataFrame  # start_s, end_s, duration_s, ended_by
    slump: dict | None
    mounts: list[MountEpoch]
    events: list[dict]  # non-wear, gaps, sensor moved
    warnings: list[str]
    min_posture_s: float
    breaks_by_min_posture_s: dict = field(default_factory=dict)

    def activities_json(self) -> list[dict]:
        return [{"start_s": round(float(r.start_s), 3), "end_s": round(float(r.end_s), 3), "activity": r.activity}
                for r in self.activities.itertuples()]

    def transitions_json(self) -> list[dict]:
        return [{"t_s": round(float(r.t_s), 3), "kind": r.kind, "duration_s": round(float(r.duration_s), 3)}
                for r in self.transitions.itertuples()]


class ActivityClassifier:
    """Per-second activity, transitions and sitting bouts (see the module docstring).

    Parameters
    ----------
    placement
        ``"lower-back"``, ``"thigh-left"`` or ``"thigh-right"``.
    min_posture_s
        A posture lasting less than this joins the bout before it (activPAL's
        10 s by default).

    Attributes (after :meth:`classify`)
    -----------------------------------
    result_ : ActivityResult
    """

    def __init__(self, placement: str, min_posture_s: float = K.MIN_POSTURE_S):
        self.placement = placement
        self.min_posture_s = min_posture_s

    def classify(self, features: BinFeatures, gaps: pd.DataFrame | None = None) -> "ActivityClassifier":
        if self.placement not in ACTIVITY_PLACEMENTS:
            raise ValueError(f"all-day activity needs a placement among {', '.join(ACTIVITY_PLACEMENTS)}, "
                             f"not {self.placement!r}")
        if not (self.min_posture_s >= 0 and math.isfinite(self.min_posture_s)):
            raise ValueError(f"min_posture_s must be a finite number ≥ 0, not {self.min_posture_s!r}")
        ep = epochs_from_features(features)
        n = len(ep.valid)
        warnings: list[str] = []
        events: list[dict] = []
        labels = np.full(n, "", dtype=object)

        # gaps
        unknown = ~ep.valid
        for a, b in _runs(~ep.valid):
            events.append({"kind": "gap", "start_s": ep.t0_s + a, "end_s": ep.t0_s + b})
        # non-wear
        nonwear = _nonwear(ep)
        for a, b in _runs(nonwear & ep.valid):
            events.append({"kind": "non-wear", "start_s": ep.t0_s + a, "end_s": ep.t0_s + b})
        unknown |= nonwear

        # gait
        inten = np.nan_to_num(ep.intensity_g, nan=0.0)
        smooth = _median_filter_nan(np.where(unknown, np.nan, inten), 3)
        gait = np.zeros(n, bool)
        for a, b in _runs((smooth >= K.GAIT_MIN_G) & ~unknown):
            if b - a >= K.GAIT_MIN_S:
                gait[a:b] = True
        run_frac = _median_filter_nan(np.where(gait, ep.flight, np.nan), 5)
        running = gait & (run_frac >= K.RUN_FLIGHT_FRACTION)

        # mount epochs: split at long gaps/non-wear and where the walking upright changes
        mounts, moved = self._mounts(ep, gait & ~running, unknown, warnings, events)
        unknown |= moved

        # postures
        still_like = ~gait & ~unknown
        incl = np.full(n, np.nan)
        up_ref = np.full((n, 3), np.nan)
        for m, (a, b) in mounts:
            if m.up_sensor is not None:
                up_ref[a:b] = m.up_sensor
        incl = _angle_deg(ep.up, up_ref)
        no_ref = still_like & ~np.isfinite(incl)
        posture = np.full(n, "unknown", dtype=object)
        if self.placement.startswith("thigh"):
            posture[still_like & (incl >= K.THIGH_SIT_MIN_DEG)] = "sitting"
            posture[still_like & (incl < K.THIGH_SIT_MIN_DEG)] = "standing"
        else:
            # one decision per still segment (between movement bursts): its median inclination
            seg_incl = _segment_median(incl, still_like, np.nan_to_num(ep.intensity_g, nan=1.0) >= K.STILL_MAX_G)
            lying = still_like & (seg_incl >= K.TRUNK_LYING_MIN_DEG)
            sitting = still_like & ~lying & (seg_incl >= K.TRUNK_SIT_INCL_DEG)
            posture[lying] = "lying"
            posture[sitting] = "sitting"
            posture[still_like & ~lying & ~sitting & np.isfinite(seg_incl)] = "standing"
        posture[no_ref] = "unknown"
        labels = posture
        labels[gait & ~running] = "walking"
        labels[running] = "running"
        labels[unknown] = "unknown"
        raw_labels = labels.copy()
        labels = merge_short_postures(labels, self.min_posture_s)

        transitions = self._transitions(labels, ep)
        bouts = sitting_bouts(labels, ep.t0_s)
        slump = self._slump(ep, labels, up_ref) if self.placement == "lower-back" else None
        breaks = {}
        for mp in (0.0, 5.0, 10.0, 30.0, 60.0):
            lb = merge_short_postures(raw_labels.copy(), mp)
            breaks[f"{mp:g}"] = int((sitting_bouts(lb, ep.t0_s)["ended_by"].isin(K.UPRIGHT)).sum())
        if not (labels != "unknown").any():
            warnings.append("no second could be classified (gaps, non-wear or no walking to learn the mount from)")
        acts = [{"start_s": ep.t0_s + a, "end_s": ep.t0_s + b, "activity": lab} for a, b, lab in _label_runs(labels)]
        self.result_ = ActivityResult(
            placement=self.placement, labels=labels, t0_s=ep.t0_s,
            activities=pd.DataFrame(acts, columns=["start_s", "end_s", "activity"]),
            transitions=transitions, sitting_bouts=bouts, slump=slump, mounts=[m for m, _ in mounts],
            events=sorted(events, key=lambda e: e["start_s"]), warnings=warnings,
            min_posture_s=self.min_posture_s, breaks_by_min_posture_s=breaks)
        return self

    # -- mount ----------------------------------------------------------------
    def _mounts(self, ep: Epochs, walking: np.ndarray, unknown: np.ndarray, warnings: list[str],
                events: list[dict]) -> tuple[list[tuple[MountEpoch, tuple[int, int]]], np.ndarray]:
        n = len(ep.valid)
        moved = np.zeros(n, bool)
        # wear periods: split at unknown stretches long enough to re-clip the sensor
        cuts = [0]
        for a, b in _runs(unknown):
            if b - a >= K.REMOUNT_GAP_S:
                cuts += [a, b]
        cuts.append(n)
        periods = [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts) - 1, 2) if cuts[i + 1] > cuts[i]]
        out: list[tuple[MountEpoch, tuple[int, int]]] = []
        for pa, pb in periods:
            bouts = [(a, b) for a, b in _runs(walking[pa:pb]) if b - a >= K.MOUNT_MIN_WALK_S]
            dirs = [(pa + a, pa + b, _unit(np.nanmean(ep.up[pa + a:pa + b], axis=0))) for a, b in bouts]
            # group consecutive walking bouts with the same upright
            groups: list[list] = []
            for a, b, d in dirs:
                if groups and _angle_deg(groups[-1][-1][2], d) <= K.MOUNT_CHANGE_DEG:
                    groups[-1].append((a, b, d))
                else:
                    groups.append([(a, b, d)])
            if not groups:
                out.append((MountEpoch(ep.t0_s + pa, ep.t0_s + pb, None, "no walking"), (pa, pb)))
                continue
            for gi, g in enumerate(groups):
                w = np.concatenate([ep.up[a:b] for a, b, _ in g])
                up = _unit(np.nanmean(w, axis=0))
                a0 = pa if gi == 0 else g[0][0]
                b0 = pb if gi == len(groups) - 1 else groups[gi][-1][1]
                out.append((MountEpoch(ep.t0_s + a0, ep.t0_s + b0, tuple(float(x) for x in up),
                                       f"walking ({sum(b - a for a, b, _ in g)} s)"), (a0, b0)))
                if gi + 1 < len(groups):
                    ma, mb = groups[gi][-1][1], groups[gi + 1][0][0]
                    moved[ma:mb] = True
                    events.append({"kind": "sensor moved", "start_s": ep.t0_s + ma, "end_s": ep.t0_s + mb,
                                   "change_deg": float(_angle_deg(groups[gi][-1][2], groups[gi + 1][0][2]))})
                    warnings.append(
                        f"the sensor was moved or re-clipped between {ep.t0_s + ma:.0f} s and {ep.t0_s + mb:.0f} s "
                        f"(upright while walking changed by {events[-1]['change_deg']:.0f}°): that time is unknown, "
                        "and the mount is learnt again from the walking after it")
        # epochs without walking borrow the nearest learnt mount (same clip) with a warning
        learnt = [(m, r) for m, r in out if m.up_sensor is not None]
        for i, (m, r) in enumerate(out):
            if m.up_sensor is None:
                if learnt:
                    near = min(learnt, key=lambda mr: min(abs(mr[1][0] - r[1]), abs(r[0] - mr[1][1])))
                    out[i] = (MountEpoch(m.start_s, m.end_s, near[0].up_sensor, "nearest walking period"), r)
                    warnings.append(f"no walking between {m.start_s:.0f} s and {m.end_s:.0f} s: the upright is "
                                    "taken from the nearest walking period (wrong if the sensor was re-clipped)")
                else:
                    up = self._axis_fallback(ep, r)
                    out[i] = (MountEpoch(m.start_s, m.end_s, up, "assumed: sensor axis nearest the mean gravity"), r)
                    warnings.append("no walking in the recording: the mount cannot be learnt; postures assume "
                                    "the sensor axis nearest to the average gravity points up (unreliable)")
        return out, moved

    @staticmethod
    def _axis_fallback(ep: Epochs, r: tuple[int, int]) -> tuple[float, float, float] | None:
        up = ep.up[r[0]:r[1]]
        up = up[np.isfinite(up).all(axis=1)]
        if not len(up):
            return None
        m = up.mean(axis=0)
        k = int(np.argmax(np.abs(m)))
        v = np.zeros(3)
        v[k] = np.sign(m[k])
        return tuple(float(x) for x in v)

    # -- transitions -------------------------------------------------------------
    def _transitions(self, labels: np.ndarray, ep: Epochs) -> pd.DataFrame:
        rows = []
        runs = _label_runs(labels)
        per = int(round(K.EPOCH_S / K.BIN_S))
        bint = np.nan_to_num(ep.bin_intensity_g, nan=0.0)
        for (a0, b0, l0), (a1, b1, l1) in zip(runs[:-1], runs[1:]):
            if l0 == "sitting" and l1 in K.UPRIGHT:
                kind = "sit-to-stand"
            elif l0 in K.UPRIGHT and l1 == "sitting":
                kind = "stand-to-sit"
            else:
                continue
            t, d = _burst(bint, b0 * per, int(K.TRANSITION_SEARCH_S * per), per)
            rows.append({"t_s": ep.t0_s + t, "kind": kind, "duration_s": d})
        return pd.DataFrame(rows, columns=["t_s", "kind", "duration_s"])

    # -- slump -----------------------------------------------------------------
    def _slump(self, ep: Epochs, labels: np.ndarray, stand_ref: np.ndarray) -> dict | None:
        sit = (labels == "sitting") & np.isfinite(ep.up).all(axis=1) & np.isfinite(stand_ref).all(axis=1)
        if sit.sum() < 10:
            return None
        s = stand_ref[sit]
        g = ep.up[sit]
        # backwards = the mean direction in which sitting tilts the pelvis away from standing
        diff = g - np.einsum("ij,ij->i", g, s)[:, None] * s
        back = _unit(diff.mean(axis=0))
        back_i = _unit(back - np.einsum("j,ij->i", back, s)[:, None] * s)
        tilt = np.degrees(np.arctan2(np.einsum("ij,ij->i", g, back_i), np.einsum("ij,ij->i", g, s)))
        ref = float(np.percentile(tilt, K.SLUMP_REFERENCE_PERCENTILE))
        slumped = tilt - ref > K.SLUMP_TILT_DEG
        return {"sitting_s": float(sit.sum()), "slumped_s": float(slumped.sum()),
                "slumped_fraction": float(slumped.mean()), "upright_sitting_tilt_deg": ref,
                "median_sitting_tilt_deg": float(np.median(tilt)), "threshold_deg": K.SLUMP_TILT_DEG}


def _burst(bint: np.ndarray, centre: int, half: int, per: int) -> tuple[float, float]:
    """Time (s) and duration (s) of the movement burst nearest ``centre`` (bin units)."""
    a, b = max(0, centre - half), min(len(bint), centre + half)
    active = bint[a:b] >= K.TRANSITION_MIN_G
    runs = _runs(active)
    if not runs:
        return centre / per, 0.0
    rel = centre - a
    best = min(runs, key=lambda r: 0 if r[0] <= rel < r[1] else min(abs(r[0] - rel), abs(r[1] - rel)))
    s, e = best
    dur = (e - s) / per
    if dur > K.TRANSITION_MAX_S:  # merged with walking: the part next to the boundary
        if abs(s - rel) < abs(e - rel):
            e = s + int(K.TRANSITION_MAX_S * per / 2)
        else:
            s = e - int(K.TRANSITION_MAX_S * per / 2)
        dur = (e - s) / per
    return (a + (s + e) / 2) / per, dur


def merge_short_postures(labels: np.ndarray, min_posture_s: float) -> np.ndarray:
    """Postures (lying, sitting, standing) shorter than ``min_posture_s`` join the bout before.

    activPAL's rule: a new posture counts only once it has lasted the minimum
    duration.  The first bout of a recording joins the one after it; runs next
    to ``unknown`` are left alone (nothing to join).
    """
    labels = np.asarray(labels, dtype=object).copy()
    if min_posture_s <= 0 or len(labels) == 0:
        return labels
    postures = ("lying", "sitting", "standing")
    for _ in range(3):  # merging can create new short runs next to each other; a few passes settle it
        runs = _label_runs(labels)
        changed = False
        for i, (a, b, lab) in enumerate(runs):
            if lab not in postures or b - a >= min_posture_s:
                continue
            prev = runs[i - 1][2] if i > 0 else None
            nxt = runs[i + 1][2] if i + 1 < len(runs) else None
            # join the posture before (activPAL); a posture between two gait bouts stays upright
            target = prev if prev in postures else (nxt if nxt in postures else None)
            if target is None and lab in ("sitting", "lying") and (prev in K.UPRIGHT or nxt in K.UPRIGHT):
                target = "standing"
            if target is not None and target != lab:
                labels[a:b] = target
                changed = True
                runs[i] = (a, b, target)
        if not changed:
            break
    return labels


def sitting_bouts(labels: np.ndarray, t0_s: float) -> pd.DataFrame:
    """Sitting bouts: start, end, duration and what ended each (a posture, ``unknown`` or end of recording)."""
    runs = _label_runs(np.asarray(labels, dtype=object))
    rows = []
    for i, (a, b, lab) in enumerate(runs):
        if lab != "sitting":
            continue
        ended = runs[i + 1][2] if i + 1 < len(runs) else "end of recording"
        rows.append({"start_s": t0_s + a, "end_s": t0_s + b, "duration_s": float(b - a), "ended_by": ended})
    return pd.DataFrame(rows, columns=["start_s", "end_s", "duration_s", "ended_by"])


# ---------------------------------------------------------------------------
# nonwear


def _nonwear(ep: Epochs) -> np.ndarray:
    """Seconds of non-wear (van Hees et al. 2011 windows, Choi et al. 2011 minimum length).

    A 60-min window (stepped by 1 min) is quiet when at least 2 of the 3 axes
    have a standard deviation below 13 mg over the whole window; the union of
    quiet windows is non-wear where it lasts at least 90 min.  A person
    sitting still still shifts posture by a few degrees within an hour, which
    moves the axis means by more than 13 mg; a sensor on a table does not.
    """
    n = len(ep.valid)
    win = int(K.NONWEAR_WINDOW_S)
    step = int(K.NONWEAR_STEP_S)
    out = np.zeros(n, bool)
    if n < win:
        return out
    v = ep.valid.astype(np.float64)
    mean = np.nan_to_num(ep.axis_mean) * v[:, None]
    sq = (np.nan_to_num(ep.axis_var) + np.nan_to_num(ep.axis_mean) ** 2) * v[:, None]
    c_n = np.concatenate([[0.0], np.cumsum(v)])
    c_m = np.vstack([np.zeros(3), np.cumsum(mean, axis=0)])
    c_s = np.vstack([np.zeros(3), np.cumsum(sq, axis=0)])
    starts = np.arange(0, n - win + 1, step)
    cnt = c_n[starts + win] - c_n[starts]
    ok = cnt >= win / 2
    cc = np.where(cnt > 0, cnt, 1.0)[:, None]
    m = (c_m[starts + win] - c_m[starts]) / cc
    var = (c_s[starts + win] - c_s[starts]) / cc - m**2
    std_g = np.sqrt(np.clip(var, 0, None)) / GRAVITY_M_S2
    quiet = ok & ((std_g < K.NONWEAR_AXIS_STD_G).sum(axis=1) >= 2)
    for s0 in starts[quiet]:
        out[s0:s0 + win] = True
    for a, b in _runs(out):
        if b - a < K.NONWEAR_MIN_S:
            out[a:b] = False
    return out & ep.valid | (out & ~ep.valid)


# ---------------------------------------------------------------------------
# Entry points


def activity_from_recording(recording: Recording, placement: str | None = None, *, min_posture_s: float = K.MIN_POSTURE_S,
                            chunk_s: float = 3600.0, progress: bool = False) -> ActivityResult:
    """Classify a recording held in memory, processing it in chunks of ``chunk_s``."""
    placement = placement or recording.placement
    _check_placement(placement, recording.source)
    feats = features_from_chunks(iter_recording_chunks(recording, chunk_s), sampling_rate_hz=recording.sampling_rate_hz,
                                 source=recording.source, progress=progress, total_samples=len(recording.data))
    return ActivityClassifier(placement, min_posture_s=min_posture_s).classify(feats).result_


def activity_from_parquet(path: str | Path, placement: str | None = None, *, min_posture_s: float = K.MIN_POSTURE_S,
                          chunk_s: float = 3600.0, progress: bool = False) -> tuple[ActivityResult, dict]:
    """Classify a backstride Parquet file without loading it whole (memory bounded by ``chunk_s``)."""
    meta, chunks = iter_parquet_chunks(path, chunk_s)
    placement = placement or meta.get("placement")
    _check_placement(placement, path)
    feats = features_from_chunks(chunks, sampling_rate_hz=float(meta["sampling_rate_hz"]), source=str(path),
                                 progress=progress)
    return ActivityClassifier(placement, min_posture_s=min_posture_s).classify(feats).result_, meta


def _check_placement(placement: str | None, source) -> None:
    if placement not in ACTIVITY_PLACEMENTS:
        raise ValueError(f"{source or 'recording'}: all-day activity needs --placement one of "
                         f"{', '.join(ACTIVITY_PLACEMENTS)} (got {placement!r})")


def apply_gait_report(result: ActivityResult, bouts: pd.DataFrame) -> ActivityResult:
    """Let the running analysis (:func:`analysis.pipeline.analyse`) decide walking vs running.

    Seconds that the activity classifier calls walking or running and that lie
    inside a gait bout of the running analysis take that bout's activity; the
    step detector's flight-phase test is more exact than the per-second one.
    """
    labels = result.labels.copy()
    for b in bouts.itertuples():
        a = int(math.floor(b.start_s - result.t0_s))
        e = int(math.ceil(b.end_s - result.t0_s))
        a, e = max(a, 0), min(e, len(labels))
        seg = labels[a:e]
        gait = (seg == "walking") | (seg == "running")
        seg[gait] = b.activity
        labels[a:e] = seg
    acts = [{"start_s": result.t0_s + a, "end_s": result.t0_s + b, "activity": lab} for a, b, lab in _label_runs(labels)]
    result.labels = labels
    result.activities = pd.DataFrame(acts, columns=["start_s", "end_s", "activity"])
    return result
