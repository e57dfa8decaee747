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
   standing.  Lower back: still periods (between movement bursts) with a
   median inclination > 60° are lying; sitting vs standing is decided for all
   still periods at once (Viterbi over the chain), from the bursts between
   them (a stand-to-sit lowers the pelvis ~0.3 m and tilts it back, a
   sit-to-stand raises it: :func:`height_change_m`) and, as a weaker capped
   cue, each period's own tilt.  Each burst's evidence is a robust mixture
   (``EVIDENCE_FAILURE_SHARE``: one badly integrated burst or a lean back in
   the chair cannot outvote everything else), and a still period that
   follows a lying period of at least the minimum posture duration is
   sitting rather than standing at prior odds of 3 to 1
   (``AFTER_LYING_SIT_NATS``: getting up goes through sitting up; transitions
   out of lying carry no usable height change).
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
* **Lower back**: sitting and standing differ by the pelvis tilt (10–35° in
  most people, but a few sit as upright as they stand) and by the height
  change of the transitions between them; a person who sits with an upright
  pelvis and was not seen sitting down is reported standing at the start of
  a recording, and sitting after lying (prior, not measurement); standing
  still straight after lying is reported standing only when the pelvis is
  clearly more upright than in sitting.  Transitions into and out of lying carry
  no usable height change (the 90° turn).  Lying is reliable (trunk near
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



# ---------------------------------------------------------------------------
# 1–2. Features, chunk by chunk, straight to seconds

#: Activity codes (``int8``): the per-second labels are stored as these, not as strings.
CODE = {name: i for i, name in enumerate(K.ACTIVITIES)}
LYING, SITTING, STANDING, WALKING, RUNNING, UNKNOWN = (CODE[a] for a in K.ACTIVITIES)
UPRIGHT_CODES = np.array([CODE[a] for a in K.UPRIGHT], dtype=np.int8)
_NAMES = np.array(K.ACTIVITIES, dtype=object)
#: Per-minute sums kept for the non-wear rule: count of valid seconds, Σ axis mean (3), Σ (axis var + mean²) (3).
_MINUTE_COLS = 7


class FeatureAccumulator:
    """Per-second (and per-half-second) features from samples fed in chunks of any size.

    Samples of the last, possibly incomplete, half-second bin of a chunk are
    carried into the next chunk, and bins of a second not yet complete are
    carried too, so every bin and every second is computed from all of its
    samples at once, in order: the result is bit for bit the same whatever the
    chunking.  Nothing of a chunk is kept but compact per-second arrays
    (``float32``; about 50 bytes per second of recording, ~30 MB for a week,
    whatever the sampling rate) and per-minute sums for the non-wear rule.
    """

    def __init__(self, *, sampling_rate_hz: float, bin_s: float = K.BIN_S):
        self.sampling_rate_hz = float(sampling_rate_hz)
        self.bin_s = bin_s
        self.per = int(round(K.EPOCH_S / bin_s))
        self._carry: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None
        self._pend_bins = np.zeros(0, np.int64)  # complete bins of a second not yet emitted
        self._pend_vals = np.zeros((0, 10), np.float64)
        self._next_bin: int | None = None  # first bin of the next second to emit (second-aligned)
        self._t0_bin: int | None = None
        self._sec: dict[str, list[np.ndarray]] = {k: [] for k in ("valid", "up", "intensity", "flight")}
        self._bin: dict[str, list[np.ndarray]] = {k: [] for k in ("int", "norm", "up")}
        self._minutes: list[np.ndarray] = []
        self._min_carry = np.zeros((0, _MINUTE_COLS))
        self._min_s0 = 0
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
        prev = self._last_index
        if (prev is not None and idx[0] <= prev) or np.any(np.diff(idx) <= 0):
            where = 0 if prev is not None and idx[0] <= prev else int(np.flatnonzero(np.diff(idx) <= 0)[0]) + 1
            raise RecordingError(source, f"sample {idx[where]}",
                                 "time does not increase (a clock jump backwards?)", "strictly increasing sample times")
        bad = ~np.isfinite(acc).all(axis=1)
        if gyr_rad_s is not None:
            bad |= ~np.isfinite(np.asarray(gyr_rad_s, dtype=np.float64)).all(axis=1)
        if bad.any():
            raise RecordingError(source, f"sample {idx[np.flatnonzero(bad)[0]]}", f"{int(bad.sum())} non-finite values",
                                 "finite numbers")
        self._last_index = int(idx[-1])
        self.samples_ += len(idx)
        if self._carry is not None:
            ci, ca = self._carry
            idx = np.concatenate([ci, idx])
            acc = np.concatenate([ca, acc])
        b = self._bin_of(idx)
        cut = int(np.argmax(b == b[-1]))  # first sample of the last (open) bin
        self._carry = (idx[cut:], acc[cut:])
        if cut:
            self._add(b[:cut], acc[:cut])
        self._emit(final_before_bin=int(b[-1]))

    def _add(self, b: np.ndarray, acc: np.ndarray) -> None:
        """Features of the complete bins in ``b`` (bin numbers) appended to the pending bins."""
        first = b[0]
        rel = b - first
        m = int(rel[-1]) + 1
        n = np.bincount(rel, minlength=m).astype(np.float64)
        present = n > 0
        nn = np.where(present, n, 1.0)
        norm = np.sqrt(np.einsum("ij,ij->i", acc, acc))
        out = np.empty((m, 10), dtype=np.float64)
        out[:, 0] = n
        for k in range(3):
            s = np.bincount(rel, weights=acc[:, k], minlength=m) / nn
            out[:, 1 + k] = s
            out[:, 6 + k] = np.bincount(rel, weights=(acc[:, k] - s[rel]) ** 2, minlength=m) / nn
        mean_norm = np.bincount(rel, weights=norm, minlength=m) / nn
        out[:, 4] = mean_norm
        out[:, 5] = np.bincount(rel, weights=(norm - mean_norm[rel]) ** 2, minlength=m) / nn
        out[:, 9] = np.bincount(rel, weights=(norm < K.FLIGHT_G * GRAVITY_M_S2).astype(np.float64), minlength=m) / nn
        self._pend_bins = np.concatenate([self._pend_bins, first + np.flatnonzero(present)])
        self._pend_vals = np.concatenate([self._pend_vals, out[present]])
        if self._t0_bin is None:
            self._t0_bin = int((first // self.per) * self.per)
            self._next_bin = self._t0_bin

    def _emit(self, final_before_bin: int | None) -> None:
        """Turn pending bins of complete seconds (all bins before ``final_before_bin``; all if None) into seconds."""
        if self._next_bin is None or not len(self._pend_bins):
            return
        if final_before_bin is None:
            stop = int((self._pend_bins[-1] // self.per + 1) * self.per)
        else:
            stop = int((final_before_bin // self.per) * self.per)
        if stop <= self._next_bin:
            return
        take = self._pend_bins < stop
        bins, vals = self._pend_bins[take], self._pend_vals[take]
        self._pend_bins, self._pend_vals = self._pend_bins[~take], self._pend_vals[~take]
        start = self._next_bin
        self._next_bin = stop
        nb = stop - start
        full = np.full((nb, 10), np.nan)
        full[:, 0] = 0.0
        full[bins - start] = vals
        self._seconds(full)

    def _seconds(self, full: np.ndarray) -> None:
        """Per-second features from a second-aligned block of bins (row by row: independent of the block)."""
        per = self.per
        n = full[:, 0]
        ne = len(full) // per
        shaped = full.reshape(ne, per, -1)
        cnt = shaped[:, :, 0].sum(axis=1)
        w = np.where(np.isfinite(shaped[:, :, 1]), shaped[:, :, 0], 0.0)
        wsum = np.where(cnt > 0, cnt, 1.0)

        def wmean(col):
            return np.nansum(np.nan_to_num(shaped[:, :, col]) * w, axis=1) / wsum

        mean_acc = np.column_stack([wmean(1 + k) for k in range(3)])
        mnorm = wmean(4)
        ex2 = np.nansum((np.nan_to_num(shaped[:, :, 5]) + np.nan_to_num(shaped[:, :, 4]) ** 2) * w, axis=1) / wsum
        intensity = np.sqrt(np.clip(ex2 - mnorm**2, 0, None)) / GRAVITY_M_S2
        sq = np.column_stack([
            np.nansum((np.nan_to_num(shaped[:, :, 6 + k]) + np.nan_to_num(shaped[:, :, 1 + k]) ** 2) * w, axis=1) / wsum
            for k in range(3)])
        valid = cnt >= K.MIN_EPOCH_COVERAGE * self.sampling_rate_hz * K.EPOCH_S
        nrm = np.linalg.norm(mean_acc, axis=1, keepdims=True)
        up = np.where(valid[:, None] & (nrm > 0), mean_acc / np.where(nrm > 0, nrm, 1), np.nan)
        self._sec["valid"].append(valid)
        self._sec["up"].append(up.astype(np.float32))
        self._sec["intensity"].append(np.where(valid, intensity, np.nan).astype(np.float32))
        self._sec["flight"].append(wmean(9).astype(np.float32))
        bvalid = n >= 0.5 * self.sampling_rate_hz * self.bin_s
        bm = full[:, 1:4]
        bnorm = np.linalg.norm(np.nan_to_num(bm), axis=1, keepdims=True)
        self._bin["up"].append(np.where(bvalid[:, None] & (bnorm > 0), bm / np.where(bnorm > 0, bnorm, 1), np.nan)
                               .astype(np.float32))
        self._bin["int"].append(np.where(bvalid, np.sqrt(np.clip(np.nan_to_num(full[:, 5]), 0, None)) / GRAVITY_M_S2,
                                         np.nan).astype(np.float32))
        self._bin["norm"].append(np.where(bvalid, full[:, 4], np.nan).astype(np.float32))
        # per-minute sums (minutes counted from the first second) for the non-wear windows; the seconds of
        # a minute not yet complete are carried, so each minute is summed at once (same as one pass)
        s0 = (self._next_bin - len(full) - self._t0_bin) // per  # index of this block's first second
        v = valid.astype(np.float64)
        rows = np.column_stack([v, np.nan_to_num(mean_acc) * v[:, None], np.nan_to_num(sq) * v[:, None]])
        if len(self._min_carry):
            s0 -= len(self._min_carry)
            rows = np.concatenate([self._min_carry, rows])
        self._min_carry = rows
        self._min_s0 = s0
        self._flush_minutes(final=False)

    def _flush_minutes(self, final: bool) -> None:
        rows, s0 = self._min_carry, self._min_s0
        if not len(rows):
            return
        end = s0 + len(rows)
        stop = end if final else (end // 60) * 60  # last complete minute boundary
        k = max(0, stop - s0)
        if k == 0:
            return
        minute = (s0 + np.arange(k)) // 60
        rel = minute - minute[0]
        sums = np.column_stack([np.bincount(rel, weights=rows[:k, j], minlength=int(rel[-1]) + 1)
                                for j in range(_MINUTE_COLS)])
        self._minutes.append(sums)
        self._min_carry = rows[k:]
        self._min_s0 = s0 + k

    def finish(self) -> "Epochs":
        if self._carry is not None and len(self._carry[0]):
            ci, ca = self._carry
            self._add(self._bin_of(ci), ca)
            self._carry = None
        self._emit(final_before_bin=None)
        self._flush_minutes(final=True)
        if not self._sec["valid"]:
            raise RecordingError(None, "data", "no samples", "at least one sample")
        cat = {k: np.concatenate(v) for k, v in self._sec.items()}
        bcat = {k: np.concatenate(v) for k, v in self._bin.items()}
        self._sec = {k: [v] for k, v in cat.items()}
        self._bin = {k: [v] for k, v in bcat.items()}
        return Epochs(t0_s=float(self._t0_bin * self.bin_s), valid=cat["valid"], up=cat["up"],
                      intensity_g=cat["intensity"], flight=cat["flight"], bin_up=bcat["up"],
                      bin_intensity_g=bcat["int"], bin_norm_m_s2=bcat["norm"],
                      minute_sums=np.concatenate(self._minutes), sampling_rate_hz=self.sampling_rate_hz,
                      has_gyr=bool(self.has_gyr))


@dataclass
class Epochs:
    """Per-second quantities (length n; second k covers [t0_s + k, t0_s + k + 1)) and per-half-second ones (2n)."""

    t0_s: float
    valid: np.ndarray  # bool
    up: np.ndarray  # (n, 3) float32 unit gravity direction, NaN where invalid
    intensity_g: np.ndarray  # float32 SD of the acceleration magnitude over the second
    flight: np.ndarray  # float32 share of samples near free fall
    bin_up: np.ndarray  # (2n, 3) float32
    bin_intensity_g: np.ndarray  # (2n,) float32
    bin_norm_m_s2: np.ndarray  # (2n,) float32 mean acceleration magnitude
    minute_sums: np.ndarray  # (minutes, 7) float64, see _MINUTE_COLS
    sampling_rate_hz: float
    has_gyr: bool

    def __len__(self) -> int:
        return len(self.valid)


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
    import pyarrow.parquet as pq

    from sensing.formats import parquet_meta, unit_factor

    path = Path(path)
    try:
        pf = pq.ParquetFile(path, pre_buffer=False)  # pre-buffering would read the whole file ahead
    except FileNotFoundError:
        raise RecordingError(path, "file", "does not exist") from None
    except Exception as exc:
        raise RecordingError(path, "file", f"not a readable Parquet file ({exc})", "a backstride recording") from None
    raw = (pf.schema_arrow.metadata or {}).get(b"backstride")
    if raw is None:
        raise RecordingError(path, "metadata", "no backstride metadata", "a Parquet file written by backstride")
    meta = parquet_meta(raw, path)
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
                         progress: bool = False, total_samples: int | None = None) -> Epochs:
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
# helpers


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    d = np.diff(m.astype(np.int8))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


def _label_runs(labels: np.ndarray) -> list[tuple[int, int, int]]:
    """(start, stop, value) of each run of equal values."""
    if len(labels) == 0:
        return []
    change = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    starts = np.concatenate([[0], change])
    stops = np.concatenate([change, [len(labels)]])
    vals = labels[starts]
    return [(int(a), int(b), v) for a, b, v in zip(starts.tolist(), stops.tolist(), vals.tolist())]


def _angle_deg(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.degrees(np.arccos(np.clip(np.einsum("...i,...i->...", u, v), -1.0, 1.0)))


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, float)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _rolling_nanmedian(x: np.ndarray, width: int, block: int = 1 << 16) -> np.ndarray:
    """Centred running median ignoring NaN (all-NaN windows give NaN), in blocks to bound memory."""
    from numpy.lib.stride_tricks import sliding_window_view

    h = width // 2
    xp = np.concatenate([np.full(h, np.nan, np.float32), np.asarray(x, np.float32), np.full(h, np.nan, np.float32)])
    out = np.empty(len(x), np.float32)
    with np.errstate(all="ignore"):
        import warnings as _w

        with _w.catch_warnings():
            _w.simplefilter("ignore", RuntimeWarning)
            for a in range(0, len(x), block):
                b = min(len(x), a + block)
                out[a:b] = np.nanmedian(sliding_window_view(xp[a:b + 2 * h], width), axis=1)
    return out


def _nanmedian(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(np.median(x)) if len(x) else float("nan")


def codes_to_names(codes: np.ndarray) -> np.ndarray:
    """Activity names (object array) of int8 codes."""
    return _NAMES[np.asarray(codes, dtype=np.int64)]


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
    """Everything :class:`ActivityClassifier` finds (times in s from the recording start).

    ``codes`` holds one ``int8`` activity code per second (see :data:`CODE`);
    ``labels`` gives the same as names, built on demand.
    """

    placement: str
    codes: np.ndarray  # int8, one per second from t0_s
    t0_s: float
    activities: pd.DataFrame  # start_s, end_s, activity
    transitions: pd.DataFrame  # t_s, kind, duration_s, [height_change_m, tilt_change_deg]
    sitting_bouts: pd.DataFrame  # start_s, end_s, duration_s, ended_by
    slump: dict | None
    mounts: list[MountEpoch]
    events: list[dict]  # non-wear, gaps, sensor moved
    warnings: list[str]
    min_posture_s: float
    breaks_by_min_posture_s: dict = field(default_factory=dict)

    @property
    def labels(self) -> np.ndarray:
        return codes_to_names(self.codes)

    def set_codes(self, codes: np.ndarray) -> None:
        """Replace the per-second codes and the activity runs made from them."""
        self.codes = np.asarray(codes, dtype=np.int8)
        self.activities = _activities_frame(self.codes, self.t0_s)

    def activities_json(self) -> list[dict]:
        return [{"start_s": round(float(r.start_s), 3), "end_s": round(float(r.end_s), 3), "activity": r.activity}
                for r in self.activities.itertuples()]

    def transitions_json(self) -> list[dict]:
        return [{"t_s": round(float(r.t_s), 3), "kind": r.kind, "duration_s": round(float(r.duration_s), 3)}
                for r in self.transitions.itertuples()]


def _activities_frame(codes: np.ndarray, t0_s: float) -> pd.DataFrame:
    acts = [{"start_s": t0_s + a, "end_s": t0_s + b, "activity": K.ACTIVITIES[c]} for a, b, c in _label_runs(codes)]
    return pd.DataFrame(acts, columns=["start_s", "end_s", "activity"])


def _log_normal(x: float, mu: float, sd: float) -> float:
    return -0.5 * ((x - mu) / sd) ** 2 - math.log(sd)


def height_change_m(bin_norm_m_s2: np.ndarray, bin_up: np.ndarray, a: int, b: int, *, bin_s: float,
                    rest: int = 2) -> float:
    """Vertical displacement of the sensor over bins ``[a, b)`` (still before ``a`` and from ``b`` on).

    The vertical acceleration is approximated by the acceleration magnitude
    minus its rest level (orientation-free; a linear acceleration across
    gravity only adds a second-order term).  The rest level is measured over
    ``rest`` bins before and after; an accelerometer's gain and offset errors
    make it depend on the orientation, so between the two it is interpolated by
    how far the gravity direction has turned from the first towards the second.
    Velocity is integrated and forced to zero at both ends (still before and
    after: any residual is drift), then integrated again (trapezoids on the
    half-second bin means; exact for the velocity at bin edges).
    Returns NaN when the bins are missing.
    """
    if a - rest < 0 or b + rest > len(bin_norm_m_s2) or b <= a:
        return float("nan")
    nb = bin_norm_m_s2.astype(np.float64)
    r0 = nb[a - rest:a].mean()
    r1 = nb[b:b + rest].mean()
    u0 = bin_up[a - rest:a].astype(np.float64).mean(axis=0)
    u1 = bin_up[b:b + rest].astype(np.float64).mean(axis=0)
    seg = nb[a:b]
    if not (np.isfinite(seg).all() and np.isfinite([r0, r1]).all() and np.isfinite(u0).all() and np.isfinite(u1).all()):
        return float("nan")
    u = bin_up[a:b].astype(np.float64)
    d0 = _angle_deg(u, _unit(u0))
    d1 = _angle_deg(u, _unit(u1))
    w = np.where(d0 + d1 > 1e-6, d0 / np.maximum(d0 + d1, 1e-9), 0.5)
    acc_v = seg - (r0 + w * (r1 - r0))
    v = np.concatenate([[0.0], np.cumsum(acc_v) * bin_s])  # velocity at bin edges
    v -= np.linspace(0.0, v[-1], len(v))  # still at both ends
    return float(np.sum((v[1:] + v[:-1]) / 2) * bin_s)


class ActivityClassifier:
    """Per-second activity, transitions and sitting bouts (see the module docstring).

    Parameters
    ----------
    placement
        ``"lower-back"``, ``"thigh-left"`` or ``"thigh-right"``.
    min_posture_s
        A posture lasting less than this joins the bout before it (activPAL's
        10 s by default).
    sit_incl_deg, turn_break_deg
        Centre of the absolute-tilt cue for sitting, and the turn of the
        gravity direction within a second that breaks a still period (lower
        back); parameters only so that the benchmark can choose them on some
        people and test on others (``bench/validate_activity.py``).
    after_lying_sit_nats
        Prior log-odds of sitting over standing for a still period that
        follows lying (``AFTER_LYING_SIT_NATS``); 0 switches the rule off.
    evidence_failure_share
        Share of transitions whose measured height or tilt change is
        meaningless (``EVIDENCE_FAILURE_SHARE``): bounds what one burst can say.

    Attributes (after :meth:`classify`)
    -----------------------------------
    result_ : ActivityResult
    """

    def __init__(self, placement: str, min_posture_s: float = K.MIN_POSTURE_S, *,
                 sit_incl_deg: float = K.TRUNK_SIT_INCL_DEG, use_transitions: bool = True,
                 turn_break_deg: float = K.TURN_BREAK_DEG, after_lying_sit_nats: float = K.AFTER_LYING_SIT_NATS,
                 evidence_failure_share: float = K.EVIDENCE_FAILURE_SHARE):
        self.placement = placement
        self.min_posture_s = min_posture_s
        self.sit_incl_deg = sit_incl_deg
        self.use_transitions = use_transitions
        self.turn_break_deg = turn_break_deg
        self.after_lying_sit_nats = after_lying_sit_nats
        self.evidence_failure_share = evidence_failure_share

    def classify(self, ep: Epochs) -> "ActivityClassifier":
        if self.placement not in ACTIVITY_PLACEMENTS:
            raise ValueError(f"all-day activity needs a placement among {', '.join(ACTIVITY_PLACEMENTS)}, "
                             f"not {self.placement!r}")
        if not (self.min_posture_s >= 0 and math.isfinite(self.min_posture_s)):
            raise ValueError(f"min_posture_s must be a finite number ≥ 0, not {self.min_posture_s!r}")
        if not 0.0 < self.evidence_failure_share < 1.0:
            raise ValueError(f"evidence_failure_share must lie strictly between 0 and 1, not {self.evidence_failure_share!r}")
        if not math.isfinite(self.after_lying_sit_nats):
            raise ValueError(f"after_lying_sit_nats must be a finite number (0 switches the rule off), "
                             f"not {self.after_lying_sit_nats!r}")
        n = len(ep.valid)
        warnings: list[str] = []
        events: list[dict] = []

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
        smooth = _rolling_nanmedian(np.where(unknown, np.nan, inten), 3)
        gait = np.zeros(n, bool)
        for a, b in _runs((smooth >= K.GAIT_MIN_G) & ~unknown):
            if b - a >= K.GAIT_MIN_S:
                gait[a:b] = True
        del smooth
        run_frac = _rolling_nanmedian(np.where(gait, ep.flight, np.nan), 5)
        running = gait & (run_frac >= K.RUN_FLIGHT_FRACTION)
        del run_frac

        # mount epochs: split at long gaps/non-wear and where the walking upright changes
        mounts, moved = self._mounts(ep, gait & ~running, unknown, warnings, events)
        unknown |= moved

        # postures
        still_like = ~gait & ~unknown
        incl = np.full(n, np.nan, np.float32)
        for m, (a, b) in mounts:
            if m.up_sensor is not None:
                incl[a:b] = _angle_deg(ep.up[a:b].astype(np.float64), np.asarray(m.up_sensor))
        no_ref = still_like & ~np.isfinite(incl)
        codes = np.full(n, UNKNOWN, dtype=np.int8)
        trans_evidence: dict[int, tuple[float, float]] = {}
        if self.placement.startswith("thigh"):
            codes[still_like & (incl >= K.THIGH_SIT_MIN_DEG)] = SITTING
            codes[still_like & (incl < K.THIGH_SIT_MIN_DEG)] = STANDING
        else:
            trans_evidence = self._lower_back_postures(ep, still_like, incl, gait, unknown, codes)
        codes[no_ref] = UNKNOWN
        codes[gait & ~running] = WALKING
        codes[running] = RUNNING
        codes[unknown] = UNKNOWN
        del still_like, gait, running, no_ref, nonwear
        raw = codes.copy()
        codes = merge_short_postures(codes, self.min_posture_s)

        transitions = _transitions(codes, ep, trans_evidence)
        bouts = sitting_bouts(codes, ep.t0_s)
        slump = self._slump(ep, codes, incl, mounts) if self.placement == "lower-back" else None
        breaks = {}
        for mp in (0.0, 5.0, 10.0, 30.0, 60.0):
            lb = merge_short_postures(raw, mp)
            breaks[f"{mp:g}"] = int((sitting_bouts(lb, ep.t0_s)["ended_by"].isin(K.UPRIGHT)).sum())
            del lb
        del raw
        if not (codes != UNKNOWN).any():
            warnings.append("no second could be classified (gaps, non-wear or no walking to learn the mount from)")
        self.result_ = ActivityResult(
            placement=self.placement, codes=codes, t0_s=ep.t0_s, activities=_activities_frame(codes, ep.t0_s),
            transitions=transitions, sitting_bouts=bouts, slump=slump, mounts=[m for m, _ in mounts],
            events=sorted(events, key=lambda e: e["start_s"]), warnings=warnings,
            min_posture_s=self.min_posture_s, breaks_by_min_posture_s=breaks)
        return self

    # -- lower back: lying from the tilt, sit/stand from transitions + tilt -------------
    def _lower_back_postures(self, ep: Epochs, still_like: np.ndarray, incl: np.ndarray, gait: np.ndarray,
                             unknown: np.ndarray, codes: np.ndarray) -> dict[int, tuple[float, float]]:
        """Label the still seconds lying / sitting / standing; return the evidence at each change.

        Still segments are the runs of still seconds between movement bursts.
        Each segment is lying when its median inclination from the walking
        upright is ≥ ``TRUNK_LYING_MIN_DEG`` (reliable).  Sitting vs standing is
        decided jointly for all segments by Viterbi over the chain of segments:

        * each segment's own tilt is a weak cue (log-odds capped at ± ``TILT_CAP_NATS``);
        * each short burst between two non-lying segments is evidence on the
          pair of postures: its pelvis height change (≈ −0.3 m for a
          stand-to-sit, +0.3 m for a sit-to-stand, 0 for a fidget) and its
          change of tilt (+20°, −20°, 0), Gaussian likelihoods with the spreads
          of :mod:`analysis.activity_constants`.  So sitting cannot follow
          sitting through a burst that raised the pelvis by 0.3 m, and a
          person who sits as upright as they stand is still seen sitting down.

        Bursts next to gait, gaps or lying carry no pair evidence.  Returns
        ``{second where the burst ends: (height change m, tilt change deg)}``.
        """
        per = int(round(K.EPOCH_S / K.BIN_S))
        # movement bursts: a little movement, or the trunk turning (a slow sit-down moves little)
        brk = ~(np.nan_to_num(ep.intensity_g, nan=1.0) < K.TRANSITION_MIN_G)
        turn = np.zeros(len(brk), bool)
        turn[1:] = _angle_deg(ep.up[1:].astype(np.float64), ep.up[:-1].astype(np.float64)) >= self.turn_break_deg
        brk |= turn | np.roll(turn, -1)
        del turn
        segs = _runs(still_like & ~brk)
        if not segs:
            return {}
        med = np.array([_nanmedian(incl[a:b]) for a, b in segs])
        lying = med >= K.TRUNK_LYING_MIN_DEG
        S = len(segs)
        links = np.zeros((S, 3, 3))  # links[k]: from segment k-1 to k
        evidence: dict[int, tuple[float, float]] = {}
        H, sH = K.TRANSITION_HEIGHT_M, K.TRANSITION_HEIGHT_SD_M
        A, sA, s0 = K.TRANSITION_TILT_DEG, K.TRANSITION_TILT_SD_DEG, K.SAME_TILT_SD_DEG
        eps = self.evidence_failure_share
        lying_from = np.array([a for a, _ in segs])  # start of the lying period each lying segment belongs to
        for k in range(1, S):
            (pa, pb), (qa, qb) = segs[k - 1], segs[k]
            if lying[k] and lying[k - 1] and qa - pb <= K.LINK_MAX_S and still_like[pb:qa].all():
                lying_from[k] = lying_from[k - 1]  # one lying period split by a fidget
            if qa - pb > K.LINK_MAX_S or not still_like[pb:qa].all():
                continue
            if lying[k - 1] and not lying[k] and pb - lying_from[k - 1] >= max(self.min_posture_s, 1.0):
                # getting up from lying (a lying posture that counts: at least the minimum posture
                # duration): sitting (up on the bed's edge) is the usual next still posture
                links[k, 0, 1] = 0.0
                links[k, 0, 2] = -self.after_lying_sit_nats
                continue
            if lying[k - 1] or lying[k]:
                continue
            pad = int(round(K.LINK_PAD_S * per))  # reach into the still periods: slow starts and ends
            pad_a = min(pad, (pb - pa - 1) * per)
            pad_b = min(pad, (qb - qa - 1) * per)
            dh = height_change_m(ep.bin_norm_m_s2, ep.bin_up, int(pb * per - max(pad_a, 0)),
                                 int(qa * per + max(pad_b, 0)), bin_s=K.BIN_S)
            before = _nanmedian(incl[max(pa, pb - 3):pb])
            after = _nanmedian(incl[qa:min(qb, qa + 3)])
            da = after - before
            evidence[qa] = (dh, da)
            if not self.use_transitions:
                continue
            m = np.zeros((3, 3))
            if np.isfinite(dh):
                # each likelihood is a mixture with a broad "measurement failed" part (share eps), so
                # that one badly integrated burst cannot outvote the tilt (stand-to-sit integrates poorly)
                fail = math.log(eps) + _log_normal(dh, 0.0, K.TRANSITION_HEIGHT_FAIL_SD_M)
                m[1, 1] += np.logaddexp(math.log(1 - eps) + _log_normal(dh, 0.0, sH), fail)
                m[2, 2] += np.logaddexp(math.log(1 - eps) + _log_normal(dh, 0.0, sH), fail)
                m[2, 1] += np.logaddexp(math.log(1 - eps) + _log_normal(dh, -H, sH), fail)
                m[1, 2] += np.logaddexp(math.log(1 - eps) + _log_normal(dh, H, sH), fail)
            if np.isfinite(da):
                # within one posture the pelvis mostly stays put, but leaning back in a chair or slouching
                # turns it a lot: the same robust mixture
                same = np.logaddexp(math.log(1 - eps) + _log_normal(da, 0.0, s0),
                                    math.log(eps) + _log_normal(da, 0.0, K.SAME_TILT_FAIL_SD_DEG))
                m[1, 1] += same
                m[2, 2] += same
                # a transition usually tilts the pelvis by ±A, but some people sit as upright as they stand
                q = K.UPRIGHT_SITTER_SHARE
                flat = math.log(q) + _log_normal(da, 0.0, 2 * s0)
                m[2, 1] += np.logaddexp(math.log(1 - q) + _log_normal(da, A, sA), flat)
                m[1, 2] += np.logaddexp(math.log(1 - q) + _log_normal(da, -A, sA), flat)
            sub = m[1:, 1:]
            links[k, 1:, 1:] = sub - sub.max()
        state = _viterbi(trunk_posture_log_likelihoods(med, sit_incl_deg=self.sit_incl_deg), links)
        code_of = np.array([LYING, SITTING, STANDING], np.int8)
        seg_code = code_of[state]
        for (a, b), c in zip(segs, seg_code):
            codes[a:b] = c
        # burst seconds between segments: first half to the posture before, second half to the one after
        still_brk = still_like & brk
        starts = np.array([a for a, _ in segs])
        for a, b in _runs(still_brk):
            k_after = int(np.searchsorted(starts, b))  # first segment starting at or after b
            before = seg_code[k_after - 1] if k_after - 1 >= 0 and segs[k_after - 1][1] == a else None
            after = seg_code[k_after] if k_after < S and segs[k_after][0] == b else None
            if before is not None and after is not None:
                mid = (a + b) // 2
                codes[a:mid], codes[mid:b] = before, after
            elif before is not None or after is not None:
                codes[a:b] = before if before is not None else after
            else:
                codes[a:b] = STANDING  # movement between gait bouts, gaps: upright
        return evidence

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
                    warnings.append(f"no walk of {K.MOUNT_MIN_WALK_S:.0f} s or longer between {m.start_s:.0f} s "
                                    f"and {m.end_s:.0f} s: the upright is "
                                    "taken from the nearest walking period (wrong if the sensor was re-clipped)")
                else:
                    up = self._axis_fallback(ep, r)
                    out[i] = (MountEpoch(m.start_s, m.end_s, up, "assumed: sensor axis nearest the mean gravity"), r)
                    warnings.append(f"no walk of {K.MOUNT_MIN_WALK_S:.0f} s or longer in the recording: the mount "
                                    "cannot be learnt; postures (sitting, standing, lying) assume the sensor axis "
                                    "nearest to the average gravity points "
                                    "up (unreliable); the step and running figures do not depend on it")
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

    # -- slump -----------------------------------------------------------------
    def _slump(self, ep: Epochs, codes: np.ndarray, incl: np.ndarray, mounts) -> dict | None:
        sit = (codes == SITTING) & np.isfinite(incl)
        if sit.sum() < 10:
            return None
        idx = np.flatnonzero(sit)
        s = np.full((len(idx), 3), np.nan)
        for m, (a, b) in mounts:
            if m.up_sensor is not None:
                sel = (idx >= a) & (idx < b)
                s[sel] = m.up_sensor
        ok = np.isfinite(s).all(axis=1)
        idx, s = idx[ok], s[ok]
        if len(idx) < 10:
            return None
        g = ep.up[idx].astype(np.float64)
        # backwards = the mean direction in which sitting tilts the pelvis away from standing
        diff = g - np.einsum("ij,ij->i", g, s)[:, None] * s
        back = _unit(diff.mean(axis=0))
        back_i = _unit(back - np.einsum("j,ij->i", back, s)[:, None] * s)
        tilt = np.degrees(np.arctan2(np.einsum("ij,ij->i", g, back_i), np.einsum("ij,ij->i", g, s)))
        ref = float(np.percentile(tilt, K.SLUMP_REFERENCE_PERCENTILE))
        slumped = tilt - ref > K.SLUMP_TILT_DEG
        return {"sitting_s": float(len(idx)), "slumped_s": float(slumped.sum()),
                "slumped_fraction": float(slumped.mean()), "upright_sitting_tilt_deg": ref,
                "median_sitting_tilt_deg": float(np.median(tilt)), "threshold_deg": K.SLUMP_TILT_DEG}


def trunk_posture_log_likelihoods(tilt_deg: np.ndarray, *, sit_incl_deg: float = K.TRUNK_SIT_INCL_DEG,
                                  tilt_scale_deg: float = K.TILT_SCALE_DEG) -> np.ndarray:
    """Log-likelihoods of (lying, sitting, standing) of still trunk periods from their own tilt alone.

    The all-day analysis' tilt cue (:class:`ActivityClassifier`, lower back and
    chest), also the live sitting timer's rule (:mod:`analysis.streaming`),
    which has no transition evidence to add, so its posture is the largest.

    Parameters
    ----------
    tilt_deg
        (n,) tilt of each still period against the upright reference, degrees
        (NaN: no cue between sitting and standing).
    sit_incl_deg, tilt_scale_deg
        Sitting is favoured above ``sit_incl_deg``, with log-odds
        (tilt − ``sit_incl_deg``) / ``tilt_scale_deg`` capped at ± ``TILT_CAP_NATS``.

    Returns
    -------
    (n, 3) array: lying is certain from ``TRUNK_LYING_MIN_DEG`` (0 there, −inf
    for the others) and impossible below it.
    """
    tilt = np.atleast_1d(np.asarray(tilt_deg, dtype=np.float64))
    lying = tilt >= K.TRUNK_LYING_MIN_DEG
    lo = np.nan_to_num(np.clip((tilt - sit_incl_deg) / tilt_scale_deg, -K.TILT_CAP_NATS, K.TILT_CAP_NATS), nan=0.0)
    emit = np.full((len(tilt), 3), -np.inf)
    emit[lying, 0] = 0.0
    emit[~lying, 1] = lo[~lying] / 2
    emit[~lying, 2] = -lo[~lying] / 2
    return emit


def _viterbi(emit: np.ndarray, links: np.ndarray) -> np.ndarray:
    """Most likely state per segment; ``links[k]`` scores the pair (state of k-1, state of k)."""
    S = len(emit)
    score = emit[0].copy()
    back = np.zeros((S, emit.shape[1]), np.int8)
    cols = np.arange(emit.shape[1])
    for k in range(1, S):
        cand = score[:, None] + links[k]
        back[k] = np.argmax(cand, axis=0)
        score = cand[back[k], cols] + emit[k]
    state = np.empty(S, np.int8)
    state[-1] = int(np.argmax(score))
    for k in range(S - 1, 0, -1):
        state[k - 1] = back[k, state[k]]
    return state


def _transitions(codes: np.ndarray, ep: Epochs, evidence: dict[int, tuple[float, float]]) -> pd.DataFrame:
    """Sit-to-stand / stand-to-sit at each change between sitting and upright, timed by its movement burst.

    ``height_change_m`` and ``tilt_change_deg`` are the evidence measured over
    the burst (NaN where the burst touched gait, so none was measured).
    """
    rows = []
    runs = _label_runs(codes)
    per = int(round(K.EPOCH_S / K.BIN_S))
    bint = np.nan_to_num(ep.bin_intensity_g, nan=0.0)
    ev_at = np.array(sorted(evidence), dtype=np.int64)
    for (a0, b0, l0), (a1, b1, l1) in zip(runs[:-1], runs[1:]):
        if l0 == SITTING and l1 in UPRIGHT_CODES:
            kind = "sit-to-stand"
        elif l0 in UPRIGHT_CODES and l1 == SITTING:
            kind = "stand-to-sit"
        else:
            continue
        t, d = _burst(bint, b0 * per, int(K.TRANSITION_SEARCH_S * per), per)
        dh = da = float("nan")
        if len(ev_at):  # evidence of the burst that ends nearest this change
            j = int(np.argmin(np.abs(ev_at - b0)))
            if abs(int(ev_at[j]) - b0) <= K.LINK_MAX_S:
                dh, da = evidence[int(ev_at[j])]
        rows.append({"t_s": ep.t0_s + t, "kind": kind, "duration_s": d, "height_change_m": dh, "tilt_change_deg": da})
    return pd.DataFrame(rows, columns=["t_s", "kind", "duration_s", "height_change_m", "tilt_change_deg"])


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


_POSTURES = (LYING, SITTING, STANDING)


def merge_short_postures(labels: np.ndarray, min_posture_s: float) -> np.ndarray:
    """Postures (lying, sitting, standing) shorter than ``min_posture_s`` join the bout before.

    activPAL's rule: a new posture counts only once it has lasted the minimum
    duration.  The first bout of a recording joins the one after it; runs next
    to ``unknown`` are left alone (nothing to join).  Takes and returns int8
    codes (or, for convenience, names, returned as names).
    """
    as_names = np.asarray(labels).dtype.kind in "OUS"
    codes = (np.array([CODE[str(x)] for x in labels], dtype=np.int8) if as_names
             else np.asarray(labels, dtype=np.int8).copy())
    if min_posture_s > 0 and len(codes):
        for _ in range(3):  # merging can create new short runs next to each other; a few passes settle it
            runs = _label_runs(codes)
            changed = False
            for i, (a, b, lab) in enumerate(runs):
                if lab not in _POSTURES or b - a >= min_posture_s:
                    continue
                prev = runs[i - 1][2] if i > 0 else None
                nxt = runs[i + 1][2] if i + 1 < len(runs) else None
                # join the posture before (activPAL); a posture between two gait bouts stays upright
                target = prev if prev in _POSTURES else (nxt if nxt in _POSTURES else None)
                if target is None and lab in (SITTING, LYING) and (prev in (WALKING, RUNNING) or nxt in (WALKING, RUNNING)):
                    target = STANDING
                if target is not None and target != lab:
                    codes[a:b] = target
                    changed = True
                    runs[i] = (a, b, target)
            if not changed:
                break
    return codes_to_names(codes) if as_names else codes


def sitting_bouts(codes: np.ndarray, t0_s: float) -> pd.DataFrame:
    """Sitting bouts: start, end, duration and what ended each (a posture, ``unknown`` or end of recording)."""
    codes = np.asarray(codes)
    if codes.dtype.kind in "OUS":
        codes = np.array([CODE[str(x)] for x in codes], dtype=np.int8)
    runs = _label_runs(codes)
    rows = []
    for i, (a, b, lab) in enumerate(runs):
        if lab != SITTING:
            continue
        ended = K.ACTIVITIES[runs[i + 1][2]] if i + 1 < len(runs) else "end of recording"
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
    Computed from per-minute sums (kept while streaming), not per-second arrays.
    """
    n = len(ep.valid)
    win_min = int(K.NONWEAR_WINDOW_S // 60)
    out = np.zeros(n, bool)
    ms = ep.minute_sums[: n // 60]  # complete minutes only
    if len(ms) < win_min:
        return out
    c = np.vstack([np.zeros(_MINUTE_COLS), np.cumsum(ms, axis=0)])
    starts = np.arange(0, len(ms) - win_min + 1, int(K.NONWEAR_STEP_S // 60))
    w = c[starts + win_min] - c[starts]
    cnt = w[:, 0]
    ok = cnt >= K.NONWEAR_WINDOW_S / 2
    cc = np.where(cnt > 0, cnt, 1.0)[:, None]
    m = w[:, 1:4] / cc
    var = w[:, 4:7] / cc - m**2
    std_g = np.sqrt(np.clip(var, 0, None)) / GRAVITY_M_S2
    quiet = ok & ((std_g < K.NONWEAR_AXIS_STD_G).sum(axis=1) >= 2)
    for s0 in starts[quiet]:
        out[s0 * 60:(s0 + win_min) * 60] = True
    for a, b in _runs(out):
        if b - a < K.NONWEAR_MIN_S:
            out[a:b] = False
    return out


# ---------------------------------------------------------------------------
# Entry points


def activity_from_recording(recording: Recording, placement: str | None = None, *, min_posture_s: float = K.MIN_POSTURE_S,
                            chunk_s: float = 3600.0, progress: bool = False, **options) -> ActivityResult:
    """Classify a recording held in memory, processing it in chunks of ``chunk_s``.

    ``options`` go to :class:`ActivityClassifier` (``sit_incl_deg``, ``use_transitions``).
    """
    placement = placement or recording.placement
    _check_placement(placement, recording.source)
    ep = features_from_chunks(iter_recording_chunks(recording, chunk_s), sampling_rate_hz=recording.sampling_rate_hz,
                              source=recording.source, progress=progress, total_samples=len(recording.data))
    return ActivityClassifier(placement, min_posture_s=min_posture_s, **options).classify(ep).result_


def activity_from_parquet(path: str | Path, placement: str | None = None, *, min_posture_s: float = K.MIN_POSTURE_S,
                          chunk_s: float = 3600.0, progress: bool = False, **options) -> tuple[ActivityResult, dict]:
    """Classify a backstride Parquet file without loading it whole (memory bounded by ``chunk_s``)."""
    meta, chunks = iter_parquet_chunks(path, chunk_s)
    placement = placement or meta.get("placement")
    _check_placement(placement, path)
    ep = features_from_chunks(chunks, sampling_rate_hz=float(meta["sampling_rate_hz"]), source=str(path),
                              progress=progress)
    return ActivityClassifier(placement, min_posture_s=min_posture_s, **options).classify(ep).result_, meta


def _check_placement(placement: str | None, source) -> None:
    if placement not in ACTIVITY_PLACEMENTS:
        raise ValueError(f"{source or 'recording'}: all-day activity needs --placement one of "
                         f"{', '.join(ACTIVITY_PLACEMENTS)} (got {placement!r})")


def step_walking_bouts(ic_s: np.ndarray, *, stride_min_s: float = K.WB_STRIDE_MIN_S,
                       stride_max_s: float = K.WB_STRIDE_MAX_S, min_strides: int = K.WB_MIN_STRIDES,
                       max_break_s: float = K.WB_MAX_BREAK_S) -> np.ndarray:
    """Walking bouts assembled from initial contacts by the Mobilise-D rules; (k, 2) array of start, end in s.

    Why: the per-second intensity rule (``GAIT_MIN_G`` sustained for
    ``GAIT_MIN_S``) misses short and slow walking (a few steps to the printer,
    shuffling in a kitchen), which is much of daily-living walking.  Steps
    are a more direct sign of walking than intensity.  The rules are the
    published Mobilise-D ones (Kluge et al. 2021; Micó-Amigo et al. 2023;
    mobgap's ``"mobilised"`` defaults), not fitted here:

    * a stride runs from one IC to the next IC of the same foot, which for
      alternating steps is two ICs on; it is plausible when it lasts
      ``stride_min_s``–``stride_max_s`` (implausible ones break the chain);
    * plausible strides whose break (the start of a stride minus the latest
      end of the strides before it) is at most ``max_break_s`` belong to one
      bout, and the break counts as walking;
    * a bout needs at least ``min_strides`` strides (over both feet).

    mobgap measures the break between consecutive strides of the same foot;
    with alternating steps this is the same gap up to one step time.
    """
    ic = np.unique(np.asarray(ic_s, float))
    ic = ic[np.isfinite(ic)]
    if len(ic) < 3:
        return np.empty((0, 2))
    start, end = ic[:-2], ic[2:]
    dur = end - start
    ok = (dur >= stride_min_s) & (dur <= stride_max_s)
    start, end = start[ok], end[ok]
    if len(start) == 0:
        return np.empty((0, 2))
    reach = np.maximum.accumulate(end)
    new = np.concatenate([[True], start[1:] - reach[:-1] > max_break_s])
    group = np.cumsum(new) - 1
    count = np.bincount(group)
    first = np.flatnonzero(new)
    g_start = start[first]
    g_end = np.maximum.reduceat(end, first)
    keep = count >= min_strides
    return np.column_stack([g_start[keep], g_end[keep]])


def apply_gait_report(result: ActivityResult, bouts: pd.DataFrame, steps: pd.DataFrame | None = None) -> ActivityResult:
    """Let the running analysis (:func:`analysis.pipeline.analyse`) decide walking vs running, and add missed walking.

    Seconds that the activity classifier calls walking or running and that lie
    inside a gait bout of the running analysis take that bout's activity; the
    step detector's flight-phase test is more exact than the per-second one.

    With ``steps`` (the running analysis' per-step table, ``ic_s`` and
    ``activity``), walking bouts are also assembled from the detected steps
    (:func:`step_walking_bouts`, Mobilise-D rules) and their seconds that the
    classifier called standing or sitting become walking (running when most
    of the bout's steps are running): at least four strides of plausible
    duration are not made sitting, and on the lower back the sit/stand
    decision is the weak one (slow walking between two sitting periods is
    read as sitting by the posture chain).  The step detector needs a stance
    peak per step (≥ 0.15 g prominence), so it cannot fire in still periods.
    Lying and unknown (gaps, non-wear) are left as they are, and a bout that
    touches a lying second (any second it overlaps, or the one just after)
    is no walking at all (walking is upright; the
    trunk movements of lying down or sitting up make "strides" of plausible
    duration, as seen on UCI HAPT's sit-to-lie and lie-to-sit).  A second
    belongs to a bout when its centre lies inside it.  Postures made shorter
    than ``min_posture_s`` by the new walking then join their neighbours
    (:func:`merge_short_postures`), and the sitting bouts are recomputed.
    """
    codes = result.codes.copy()
    for b in bouts.itertuples():
        a = int(math.floor(b.start_s - result.t0_s))
        e = int(math.ceil(b.end_s - result.t0_s))
        a, e = max(a, 0), min(e, len(codes))
        seg = codes[a:e]
        gait = (seg == WALKING) | (seg == RUNNING)
        seg[gait] = CODE[b.activity]
    if steps is not None and len(steps):
        ic = steps["ic_s"].to_numpy(float)
        run = (steps["activity"] == "running").to_numpy()
        for s0, s1 in step_walking_bouts(ic):
            a = max(int(math.ceil(s0 - result.t0_s - 0.5)), 0)
            e = min(int(math.floor(s1 - result.t0_s - 0.5)) + 1, len(codes))
            if e <= a:
                continue
            seg = codes[a:e]
            touch = codes[max(int(math.floor(s0 - result.t0_s)), 0):int(math.ceil(s1 - result.t0_s)) + 1]
            if (touch == LYING).any():
                continue  # walking is upright: "strides" running into lying are lying down or sitting up
            inside = (ic >= s0) & (ic <= s1)
            act = RUNNING if run[inside].mean() > 0.5 else WALKING
            seg[(seg == STANDING) | (seg == SITTING)] = act
        # postures left shorter than the minimum by the new walking join their neighbours (activPAL rule)
        codes = merge_short_postures(codes, result.min_posture_s)
        result.sitting_bouts = sitting_bouts(codes, result.t0_s)
    result.set_codes(codes)
    return result
