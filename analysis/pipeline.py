"""From a recording to a running-form report: :func:`analyse`.

Per contiguous segment of the recording, depending on the placement (gaps of
at most ``MAX_BRIDGED_GAP_S`` (0.5 s) — lost radio packets — are bridged by linear
interpolation for the analysis and reported in the warnings; longer gaps split
the recording):

lower-back / chest
    body frame (alignment) → steps, IC/FC, walking or running, sides
    (gait) → step and contact times, vertical oscillation, impact index,
    trunk lean over stance and sway per stride.
foot-left / foot-right
    body frame → strides, IC/FC/mid-stance → contact time, strike angle and
    class.

Then bouts of walking and running, form under fatigue (first vs last fifth of
each running bout) and a summary.  Outputs that need a gyroscope are ``None``
(``null`` in JSON) without one, and the report's warnings say so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import alignment
from analysis.constants import (
    ACC_FULL_SCALES_G,
    FATIGUE_FLAG_THRESHOLDS,
    FATIGUE_FRACTION,
    FATIGUE_MIN_FLAG_BOUT_S,
    FOOT_PLACEMENTS,
    FOREFOOT_THRESHOLD_DEG,
    GRAVITY_M_S2 as G,
    GYR_FULL_SCALES_DPS,
    IMPACT_CUTOFF_HZ,
    IMPACT_MIN_RATE_HZ,
    IMPACT_SLOPE_RATE_HZ,
    MAX_VERTICAL_OSCILLATION_M,
    REARFOOT_THRESHOLD_DEG,
    REPORT_SCHEMA,
    RUNNING_CADENCE_RANGE_SPM,
    RUNNING_TIMES_MIN_RATE_HZ,
    SATURATION_ABOVE,
    SATURATION_BAND,
    SATURATION_BELOW,
    SATURATION_MIN_PEAKS,
    SATURATION_PEAK_GAP_S,
    STRIKE_INDETERMINATE_BAND_DEG,
    STRIKE_MIN_RATE_HZ,
    TRUNK_PLACEMENTS,
)
from analysis.gait import (LowerBackGait, ShoeGait, assign_sides_trunk, vertical_oscillation_m, walking_fc_forward,
                           walking_ic_forward)
from analysis.jsonable import jsonable
from analysis.orientation import complementary_tilt_deg, gravity_direction_lowpass
from analysis.signals import lowpass, saturated_axes, unit
from sensing.recording import Recording, Segment

VERSION = "0.1.0"

STEP_COLUMNS = [
    "ic_s", "fc_s", "side", "activity", "bout", "step_time_s", "stride_time_s", "cadence_spm", "contact_time_s",
    "flight_time_s", "vertical_oscillation_m", "impact_index", "strike_angle_deg", "strike",
    "trunk_lean_fwd_deg", "trunk_lean_side_deg", "trunk_sway_side_deg", "trunk_sway_fwd_deg",
]

#: What needs a gyroscope, and what is reported without one.
GYROSCOPE_NEEDS = {
    "strike_angle_deg": "foot-strike angle and class need the shoe's gyroscope",
    "fc_s (shoe)": "final contact and contact time from a shoe need its gyroscope",
    "trunk_sway": "trunk sway within a stride needs the gyroscope",
    "trunk_lean": "without a gyroscope, trunk lean is averaged over the whole step, not over stance",
}


@dataclass
class Report:
    """The result of :func:`analyse`.

    ``steps`` and ``bouts`` are DataFrames with unit-suffixed columns; times
    in seconds from the recording's start.
    """

    placement: str
    sampling_rate_hz: float
    steps: pd.DataFrame
    bouts: pd.DataFrame
    summary: dict
    warnings: list[str] = field(default_factory=list)
    recording: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "schema": REPORT_SCHEMA,
            "generator": {"name": "backstride", "version": VERSION},
            "placement": self.placement,
            "sampling_rate_hz": self.sampling_rate_hz,
            "recording": self.recording,
            "steps": jsonable(self.steps.to_dict(orient="records"), digits=6),
            "bouts": jsonable(self.bouts.to_dict(orient="records"), digits=6),
            "summary": jsonable(self.summary, digits=6),
            "warnings": list(self.warnings),
        }

    def to_json(self, path: str | Path | None = None) -> str:
        text = json.dumps(self.to_dict(), indent=1, allow_nan=False)
        if path is not None:
            Path(path).write_text(text)
        return text


# ---------------------------------------------------------------------------


def analyse(recording: Recording, placement: str | None = None) -> Report:
    """Analyse a recording of running or walking.

    Parameters
    ----------
    recording
        The recording; its ``placement`` is used unless ``placement`` is given.
    placement
        Overrides the recording's placement.
    """
    placement = placement or recording.placement
    if placement is None:
        raise ValueError(
            f"{recording.source or 'recording'}: placement unknown; give one of lower-back, foot-left, foot-right "
            "(--placement)")
    fs = recording.sampling_rate_hz
    warnings: list[str] = []
    if placement not in TRUNK_PLACEMENTS + FOOT_PLACEMENTS:
        raise ValueError(f"running-form analysis needs a lower-back, chest or foot sensor, not {placement!r}")
    if not recording.has_gyr:
        warnings.append("no gyroscope: " + "; ".join(
            v for k, v in GYROSCOPE_NEEDS.items() if placement in FOOT_PLACEMENTS or not k.startswith(("strike", "fc_s"))))
    if placement in TRUNK_PLACEMENTS and fs < IMPACT_MIN_RATE_HZ:
        warnings.append(f"impact index not given: it needs at least {IMPACT_MIN_RATE_HZ:g} Hz (its band reaches "
                        f"{IMPACT_CUTOFF_HZ:g} Hz), this recording has {fs:g} Hz")
    warnings += saturation_warnings(recording, placement)
    gaps = recording.gaps
    segments = bridged_segments(recording, max_gap_s=MAX_BRIDGED_GAP_S, min_duration_s=MIN_SEGMENT_S)
    lost = gaps["lost_samples"].to_numpy()
    splits = lost > MAX_BRIDGED_GAP_S * fs  # as bridged_segments splits
    hiding = gaps[~splits & gap_hides_step(lost, fs)]
    if len(gaps):
        n_long = int(splits.sum())
        n_unanalysed = n_long + 1 - len(segments)  # pieces between the splitting gaps, under MIN_SEGMENT_S
        warnings.append(
            f"{int(lost.sum())} lost samples in {len(gaps)} gap{'s' if len(gaps) > 1 else ''} (first at "
            f"{gaps['start_s'].iloc[0]:.2f} s); "
            + (f"{len(gaps) - n_long} gap{'s' if len(gaps) - n_long > 1 else ''} of at most "
               f"{MAX_BRIDGED_GAP_S * 1000:.0f} ms {'were' if len(gaps) - n_long > 1 else 'was'} bridged by linear "
               f"interpolation for the analysis (the recording keeps them as gaps)" if len(gaps) > n_long else
               "none short enough to bridge")
            + (f"; {len(hiding)} of them {'are' if len(hiding) > 1 else 'is'} longer than "
               f"{STEP_HIDING_GAP_S * 1000:.0f} ms (first at {hiding['start_s'].iloc[0]:.2f} s), where a step may be missed or timed from interpolated data, "
               "and no step, stride or flight time is given across them"
               if len(hiding) else "")
            + (f"; steps are not detected across the {n_long} longer gap{'s' if n_long > 1 else ''}"
               if n_long else "")
            + (f"; {n_unanalysed} piece{'s' if n_unanalysed > 1 else ''} between them shorter than "
               f"{MIN_SEGMENT_S:g} s {'were' if n_unanalysed > 1 else 'was'} not analysed" if n_unanalysed > 0 else ""))
    frames = []
    standing = None  # the last segment's standing reference: (up in the sensor frame, its span in s, segment end s)
    for seg in segments:
        if placement in TRUNK_PLACEMENTS:
            df, standing = _trunk_segment(seg, warnings, standing)
        else:
            df = _foot_segment(seg, placement, warnings)
        if df is not None and len(df):
            frames.append(df)
    steps = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=STEP_COLUMNS)
    steps = _bouts_and_derived(steps, placement,
                               hidden_s=hiding[["start_s", "end_s"]].to_numpy(float) if len(hiding) else None)
    for c in STEP_COLUMNS:
        if c not in steps.columns:
            steps[c] = np.nan
    steps = steps[STEP_COLUMNS]
    if placement in FOOT_PLACEMENTS and fs < STRIKE_MIN_RATE_HZ and steps["strike_angle_deg"].notna().any():
        steps["strike_angle_deg"] = np.nan
        warnings.append(f"strike angle not given: it needs at least {STRIKE_MIN_RATE_HZ:g} Hz (the landing's turn "
                        f"lasts a sample or two below), this recording has {fs:g} Hz")
    if placement in FOOT_PLACEMENTS:
        steps["strike"] = [classify_strike(a) for a in steps["strike_angle_deg"]]
    else:
        steps["strike"] = None
    if fs < RUNNING_TIMES_MIN_RATE_HZ and (steps["activity"] == "running").any():
        warnings.append(f"at {fs:g} Hz a sample lasts {1000 / fs:.0f} ms: the contact and flight times of running "
                        f"steps (about 250 and 90 ms) are coarse; {RUNNING_TIMES_MIN_RATE_HZ:g} Hz or more measures them")
    bouts = _bout_table(steps)
    summary = _summary(steps, bouts, placement)
    warnings += implausible_gait(summary, fs)
    if len(steps) == 0:
        warnings.append("no steps found: is this a recording of walking or running, and is the placement right?")
    rec_meta = recording.metadata()
    rec_meta.pop("extra", None)
    rec_meta["source"] = recording.source
    rec_meta["duration_s"] = recording.duration_s
    return Report(placement=placement, sampling_rate_hz=fs, steps=steps, bouts=bouts, summary=summary,
                  warnings=warnings, recording=rec_meta)


def implausible_gait(summary: dict, sampling_rate_hz: float) -> list[str]:
    """A warning when the gait's medians are outside what people show (:data:`analysis.constants.
    RUNNING_CADENCE_RANGE_SPM`, :data:`MAX_VERTICAL_OSCILLATION_M`): most often a wrong sampling rate, which
    stretches every time by one factor."""
    found = []
    lo, hi = RUNNING_CADENCE_RANGE_SPM
    cadence = (summary.get("running") or {}).get("median_cadence_spm")
    if cadence is not None and not lo <= cadence <= hi:
        found.append(f"running at a median {cadence:.0f} steps/min (runners: {lo:.0f}-{hi:.0f})")
    for act in ("running", "walking"):
        vo = (summary.get(act) or {}).get("median_vertical_oscillation_m")
        if vo is not None and vo > MAX_VERTICAL_OSCILLATION_M:
            found.append(f"{act} with a median vertical oscillation of {vo * 100:.0f} cm (at most "
                         f"{MAX_VERTICAL_OSCILLATION_M * 100:.0f} cm)")
    if not found:
        return []
    return ["; ".join(found) + f": outside what people show. Is the sampling rate right ({sampling_rate_hz:g} Hz "
            "declared)? A wrong rate stretches every time by one factor (and rows written twice halve the rate)"]


def saturation_warnings(recording: Recording, placement: str) -> list[str]:
    """What the recording says where the movement went beyond the sensor's range (:func:`analysis.signals.
    saturated_axes` at the usual full scales): the range, the axis, how many peaks, the first, and which figures it
    touches."""
    out = []
    t_s = recording.t_s
    foot = placement in FOOT_PLACEMENTS
    acc_effect = ("the impact index of those steps reads low" if not foot else
                  "the landing shocks there are cut short (the steps are timed and the strike angle read mainly from "
                  "the gyroscope, which this does not touch)" if recording.has_gyr else
                  "the landing shocks there are cut short, which can move the contacts found from them")
    gyr_effect = ("the foot's orientation, hence the strike angle, is off after them" if foot else
                  "the trunk's orientation, hence the trunk lean, is off after them")
    for kind, cols, scales, unit_name, to_si, what in (
            ("accelerometer", ["acc_x", "acc_y", "acc_z"], ACC_FULL_SCALES_G, "g", G, acc_effect),
            ("gyroscope", ["gyr_x", "gyr_y", "gyr_z"], GYR_FULL_SCALES_DPS, "°/s", np.pi / 180.0, gyr_effect)):
        if not all(c in recording.data for c in cols):
            continue
        x = recording.data[cols].to_numpy(dtype=float)
        for k, fs, n_peaks, first in saturated_axes(
                x, tuple(f * to_si for f in scales), below=SATURATION_BELOW, above=SATURATION_ABOVE,
                band=SATURATION_BAND, min_peaks=SATURATION_MIN_PEAKS,
                gap_samples=max(1, int(round(SATURATION_PEAK_GAP_S * recording.sampling_rate_hz)))):
            out.append(f"{kind} at the end of its range: {n_peaks} peaks (first at {t_s[first]:.2f} s) reached the "
                       f"sensor's {fs / to_si:g} {unit_name} limit (its {'xyz'[k]} axis), where the movement was "
                       f"larger than the sensor measures; {what}. A larger range, if the sensor offers one, avoids "
                       "this")
    return out


def analyse_path(path: str | Path, placement: str | None = None, *, nan_as_gap: bool = True) -> Report:
    from sensing.formats import open_recording

    return analyse(open_recording(path, placement=placement, nan_as_gap=nan_as_gap), placement=placement)


#: Gaps up to this long (lost radio packets, and the bursts of them a BLE link
#: drops) are bridged by linear interpolation for the analysis, so that a lost
#: packet does not end a walking bout; longer gaps split the recording.  The
#: recording itself keeps every gap (never interpolated).  0.5 s is about one
#: walking step (0.5–0.6 s at 100–120 steps/min), so a bridged gap hides about
#: one walking IC (one or two running ones); an IC inside it is timed from the
#: interpolated signal or missed, and the report's warnings count such gaps.
#: Splitting instead loses more: a split drops the pieces under
#: ``MIN_SEGMENT_S`` and the steps at every piece's edges.  With bursts of
#: 0.15–0.5 s lost every ~3 s (bench/RESULTS.md, session 10), IC F1 at 0.1 s /
#: 0.5 s: ipol_gait lower back 0.834 / 0.939, mobgap_lab 0.592 / 0.798, ipol_gait
#: feet 0.825 / 0.939, gaitmap_example 0.808 / 0.909; on the data as recorded
#: only ipol trial 7-3 (gaps of 0.1–0.64 s) changes (ipol lower back 0.970 →
#: 0.972).  It was 0.1 s (under half the shortest step: no step could hide).
MAX_BRIDGED_GAP_S = 0.5

#: Bridged gaps longer than this are named in the report's warnings: an IC can hide in them.
STEP_HIDING_GAP_S = 0.1


def gap_hides_step(lost_samples, sampling_rate_hz: float):
    """Whether a gap of ``lost_samples`` (a count or an array of counts) is long enough to hide a gait event
    (longer than :data:`STEP_HIDING_GAP_S`): no step time spans it, and the batch and live detectors mark it."""
    return np.asarray(lost_samples) > STEP_HIDING_GAP_S * sampling_rate_hz


def hidden_mask(gaps, start: int, n: int) -> np.ndarray:
    """(n,) bool over the samples ``start`` … ``start + n − 1``: True inside ``gaps``, each (first lost sample,
    next received sample) in sample indices (the interpolated samples of :attr:`Segment.hidden`)."""
    mask = np.zeros(n, bool)
    for lo, hi in gaps:
        mask[max(lo - start, 0):max(min(hi - start, n), 0)] = True
    return mask


#: Segments (after bridging) shorter than this are not analysed: under 2 s
#: there are fewer than two strides of slow walking, too few for the frame
#: (forward from the step rhythm, a shoe's pitch sign from whole strides) and
#: for four steps at the lower back.  It was 3 s, which dropped a whole
#: recording of 2.998 s (gaitmap_example cut to 3 s at 204.8 Hz, bench/unseen.py);
#: ipol_gait, mobgap_lab and gaitmap_example give the same figures at 2 s.
MIN_SEGMENT_S = 2.0


def bridged_segments(recording: Recording, *, max_gap_s: float, min_duration_s: float) -> list[Segment]:
    """Contiguous segments, with gaps of at most ``max_gap_s`` filled by linear interpolation.

    Returns the segments at least ``min_duration_s`` long, each with its ``hidden`` mask: the
    interpolated samples of the gaps that can hide a step (:func:`gap_hides_step`).
    """
    fs = recording.sampling_rate_hz
    data = recording.data
    idx = data.index.to_numpy().astype(np.int64)
    if len(idx) == 0:
        return []
    acc_all = data[["acc_x", "acc_y", "acc_z"]].to_numpy(np.float64)
    gyr_all = data[["gyr_x", "gyr_y", "gyr_z"]].to_numpy(np.float64) if recording.has_gyr else None
    step = np.diff(idx)
    long_break = np.flatnonzero(step - 1 > max_gap_s * fs) + 1
    bounds = np.concatenate([[0], long_break, [len(idx)]])
    out = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        i = idx[a:b]
        grid = np.arange(i[0], i[-1] + 1)
        if len(grid) / fs < min_duration_s:
            continue
        hidden = None  # interpolated samples of the gaps a gait event can hide in
        if len(grid) == len(i):
            acc, gyr = acc_all[a:b], None if gyr_all is None else gyr_all[a:b]
        else:
            acc = np.column_stack([np.interp(grid, i, acc_all[a:b, c]) for c in range(3)])
            gyr = None if gyr_all is None else np.column_stack([np.interp(grid, i, gyr_all[a:b, c]) for c in range(3)])
            long_ = np.flatnonzero(gap_hides_step(np.diff(i) - 1, fs))
            if len(long_):
                hidden = hidden_mask([(i[k] + 1, i[k + 1]) for k in long_], int(i[0]), len(grid))
        out.append(Segment(start_index=int(i[0]), sampling_rate_hz=fs, acc=acc, gyr=gyr, hidden=hidden))
    return out


# ---------------------------------------------------------------------------
# Trunk


#: A provisional bout with fewer steps is no walk to take the trunk's gait direction and standing reference from
#: (fidgets while sitting can pass for a step or two).
MIN_REFERENCE_BOUT_STEPS = 8


def _gait_samples(ic: np.ndarray, bout_id: np.ndarray, n: int) -> tuple[np.ndarray, int]:
    """Samples of the gait itself (from each IC to the next within bouts of at least
    ``MIN_REFERENCE_BOUT_STEPS`` steps) and the first IC of the first such bout; all bouts when none is that long.

    The span from the first to the last IC of an all-day recording is mostly sitting, whose tilted pelvis pulls
    the mean gravity direction 20° off the walking trunk, and its first IC can be a fidget in a chair: the
    standing reference (a still period within 30° of the gait's direction, the nearest before the gait) was then
    a sitting one (the workday sample's afternoon read running lean 33° for 8°)."""
    ids, counts = np.unique(bout_id, return_counts=True)
    long_ = ids[counts >= MIN_REFERENCE_BOUT_STEPS]
    use = np.isin(bout_id, long_) if len(long_) else np.ones(len(ic), bool)
    m = np.zeros(n, bool)
    for k in range(len(ic) - 1):
        if use[k] and bout_id[k + 1] == bout_id[k]:
            m[int(ic[k]):int(ic[k + 1]) + 1] = True
    if not m.any():
        m[int(ic[0]):int(ic[-1]) + 1] = True
    return m, int(ic[np.flatnonzero(use)[0]])


#: A segment without a still stand of its own (it began mid-run, after a link dropout longer than the bridged
#: gaps) takes the previous segment's standing reference when it began at most this long after that one ended
#: and its sensor sits as it did there (the mean specific force over the gait within REFERENCE_CARRY_MAX_TURN_DEG):
#: the sensor was not taken off in between.
REFERENCE_CARRY_S = 120.0
REFERENCE_CARRY_MAX_TURN_DEG = 10.0


def sits_as_before(previous: tuple, start_s: float, gait_up: np.ndarray) -> bool:
    """Whether a segment starting at ``start_s`` whose gait's mean specific force points along ``gait_up`` (sensor
    frame) may take the standing reference ``previous`` = (up, its span in s, that segment's end s, its gait's up)
    of the segment before (see REFERENCE_CARRY_S).  The live path (analysis.streaming) applies the same rule."""
    _, _, end_s, previous_gait_up = previous
    turn_deg = np.degrees(np.arccos(np.clip(np.dot(previous_gait_up, gait_up), -1.0, 1.0)))
    return start_s - end_s <= REFERENCE_CARRY_S and turn_deg <= REFERENCE_CARRY_MAX_TURN_DEG


def _trunk_segment(seg: Segment, warnings: list[str], previous=None) -> tuple[pd.DataFrame | None, tuple | None]:
    """Steps of one segment from a trunk sensor, and the standing reference for the next segment (``previous``:
    that of the segment before, or None)."""
    fs = seg.sampling_rate_hz
    acc, gyr = seg.acc, seg.gyr
    up_t = gravity_direction_lowpass(acc, sampling_rate_hz=fs, cutoff_hz=0.5)
    f_v = np.einsum("ij,ij->i", acc, up_t)
    gait = LowerBackGait().detect(f_v, sampling_rate_hz=fs, hidden=seg.hidden)
    ic, fc, running = gait.ic_, gait.fc_, gait.running_
    if len(ic) < 4:
        return None, previous
    # the forward direction is found in the frame of the mean specific force from the first to the last IC, as
    # validated (taking it over the steps alone moved mobgap_lab to F1 0.839 / 27.5 ms from 0.831 / 25 ms:
    # bench/RESULTS.md); the standing reference is looked for next to the walks themselves (_gait_samples)
    gait_up = unit(acc[int(ic[0]):int(ic[-1]) + 1].mean(axis=0))
    bout_id = _provisional_bouts(ic, running, fs)
    in_gait, first_gait = _gait_samples(ic, bout_id, len(acc))
    ref = alignment.standing_reference(acc, gyr, sampling_rate_hz=fs, gait_up=unit(acc[in_gait].mean(axis=0)),
                                       first_gait_index=first_gait)
    if ref is not None:
        up, (a, b) = ref
        up_source, ref_s = "still standing", (seg.start_s + a / fs, seg.start_s + b / fs)
    elif previous is not None and sits_as_before(previous, seg.start_s, gait_up):
        up, ref_s, _, _ = previous
        up_source = "still standing"
        warnings.append(f"segment at {seg.start_s:.1f} s (after a gap): trunk lean relative to the standing at "
                        f"{ref_s[0]:.1f}-{ref_s[1]:.1f} s before it (the sensor sits as it did)")
    else:
        up, up_source, ref_s = gait_up, "mean during gait", None
        warnings.append(f"segment at {seg.start_s:.1f} s: no still standing period found, so trunk lean cannot be "
                        "given relative to upright standing (stand still for 5 s before running)")
    standing = (up, ref_s, seg.start_s + len(acc) / fs, gait_up) if ref_s is not None else None
    fwd, fwd_source = alignment.trunk_forward(acc, gait_up, ic.astype(int), running, sampling_rate_hz=fs)
    frame = alignment.trunk_frame(up, fwd, up_source=up_source, forward_source=fwd_source, reference_s=ref_s)
    acc_b = frame.to_body(acc)
    gyr_b = frame.to_body(gyr) if gyr is not None else None

    # Forward again per bout: a belt sensor can turn between bouts (a runner
    # who stops and re-adjusts the belt: adept_running's hip after 5 min), and
    # the sides and sideways lean follow the forward direction.
    for b in np.unique(bout_id):
        k = np.flatnonzero(bout_id == b)
        if len(k) < 8:
            continue
        lo = max(0, int(ic[k[0]] - 0.3 * fs))
        hi = min(len(acc), int(ic[k[-1]] + 0.5 * fs))
        f_b, src_b = alignment.trunk_forward(acc[lo:hi], gait_up, (ic[k] - lo).astype(int), running[k],
                                             sampling_rate_hz=fs)
        if src_b == "unknown":
            continue
        fr_b = alignment.trunk_frame(up, f_b, up_source=up_source, forward_source=src_b, reference_s=ref_s)
        acc_b[lo:hi] = fr_b.to_body(acc[lo:hi])
        if gyr_b is not None:
            gyr_b[lo:hi] = fr_b.to_body(gyr[lo:hi])
    # walking FC from the forward acceleration, now that forward is known (gait.walking_fc_forward); where the
    # forward sign is unknown, or a step's window holds no minimum, the vertical-force FC stays
    if fwd_source != "unknown":
        walk_fc = walking_fc_forward(acc_b[:, 0], ic, running, sampling_rate_hz=fs, max_step_s=gait.max_step_s)
        fc = np.where(running | np.isnan(walk_fc), fc, walk_fc)
    side = assign_sides_trunk(ic, bout_id, gyr_fwd=None if gyr_b is None else gyr_b[:, 0],
                              gyr_up=None if gyr_b is None else gyr_b[:, 2],
                              acc_left=acc_b[:, 1], sampling_rate_hz=fs)
    if fwd_source != "unknown":
        # walking IC halfway to the forward-acceleration peak at heel contact (gait.walking_ic_forward); the
        # FC search and the sides above read the signals at the vertical-force IC, as they were validated
        ic = walking_ic_forward(acc_b[:, 0], ic, running, sampling_rate_hz=fs)
    # trunk tilt per sample (fwd, side), degrees: zero-phase complementary
    # filter of the body-frame signals (orientation.complementary_tilt_deg)
    tilt = None
    if gyr_b is not None:
        tilt = complementary_tilt_deg(acc_b, gyr_b, sampling_rate_hz=fs)
    lean_fwd, lean_side, sway_fwd, sway_side = _trunk_per_step(acc_b, tilt, ic, fc, fs)
    impact = impact_index(f_v, ic, sampling_rate_hz=fs)
    if ref_s is None:
        lean_fwd[:] = np.nan
        lean_side[:] = np.nan
    vo = vertical_oscillation_m(f_v, ic, sampling_rate_hz=fs)
    t0 = seg.start_s
    return pd.DataFrame({
        "ic_s": t0 + ic / fs,
        "fc_s": t0 + fc / fs,
        "side": side,
        "activity": np.where(running, "running", "walking"),
        "vertical_oscillation_m": vo,
        "impact_index": impact,
        "trunk_lean_fwd_deg": lean_fwd,
        "trunk_lean_side_deg": lean_side,
        "trunk_sway_side_deg": sway_side,
        "trunk_sway_fwd_deg": sway_fwd,
        "_segment": seg.start_index,
    }), standing if standing is not None else previous


def _range_means(cum: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Means of x[a:b] for many ranges at once, from ``cum`` = prefix sums of x (with a leading 0 row)."""
    length = np.maximum(b - a, 1)
    return (cum[b] - cum[a]) / length[:, None]


def _trunk_per_step(acc_b: np.ndarray, tilt: np.ndarray | None, ic: np.ndarray, fc: np.ndarray,
                    fs: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Trunk lean (stance) and sway (stride) per step, all steps at once.

    Mean specific force over a whole stride points up (steady gait): exact
    without a gyroscope; the stride (two steps) makes the sideways push that
    alternates from step to step cancel.  With a gyroscope, the tilt series
    adds how the stance part of the step differs from the stride mean (a
    relative, drift-free change).  Sway: peak-to-peak tilt over the stride.
    """
    n = len(ic)
    nan = np.full(n, np.nan)
    if n < 2:
        return nan.copy(), nan.copy(), nan.copy(), nan.copy()
    icr = np.round(ic).astype(np.int64)
    nxt = np.concatenate([icr[1:], [-1]])
    valid = (np.arange(n) + 1 < n) & (nxt - icr <= 1.5 * fs)
    # stride window: steps k and k+1, else k-1 and k, else step k alone
    s0, s1 = icr.copy(), icr.copy()
    k2 = np.concatenate([icr[2:], [-1, -1]])
    km1 = np.concatenate([[-1], icr[:-1]])
    kp1 = np.concatenate([icr[1:], [-1]])
    fwd2 = (k2 >= 0) & (k2 - icr < 2.5 * fs)
    back = ~fwd2 & (km1 >= 0) & (kp1 >= 0) & (kp1 - km1 < 2.5 * fs)
    s1 = np.where(fwd2, k2, s1)
    s0 = np.where(back, km1, s0)
    s1 = np.where(back, kp1, s1)
    rest = ~fwd2 & ~back
    s1 = np.where(rest, np.where(kp1 >= 0, kp1, icr) + 1, s1)
    s1 = np.minimum(s1, len(acc_b))
    cum_acc = np.vstack([np.zeros((1, 3)), np.cumsum(acc_b, axis=0)])
    ww = _range_means(cum_acc, s0, s1)
    ww /= np.linalg.norm(ww, axis=1, keepdims=True)
    lean_fwd = np.degrees(np.arctan2(-ww[:, 0], ww[:, 2]))
    lean_side = np.degrees(np.arctan2(-ww[:, 1], ww[:, 2]))
    sway_fwd, sway_side = nan.copy(), nan.copy()
    if tilt is not None:
        fcr = np.where(np.isfinite(fc), np.round(np.nan_to_num(fc)), -1).astype(np.int64)
        e = np.where((fc > ic) & (fcr < nxt) & (fcr >= 0), fcr, nxt)
        e = np.maximum(e, icr + 1)
        cum_t = np.vstack([np.zeros((1, 2)), np.cumsum(tilt, axis=0)])
        stance = _range_means(cum_t, icr, np.where(valid, e, icr + 1))
        stride = _range_means(cum_t, s0, s1)
        lean_fwd = lean_fwd + stance[:, 0] - stride[:, 0]
        lean_side = lean_side + stance[:, 1] - stride[:, 1]
        # sway over [ic_k, ic_k+2): max/min of the two steps' maxima/minima
        bounds = np.concatenate([icr, [len(tilt)]])
        mx = np.full((n, 2), np.nan)
        mn = np.full((n, 2), np.nan)
        nonempty = np.diff(bounds) > 0
        idx = icr[nonempty]
        if len(idx):
            mx[nonempty] = np.maximum.reduceat(tilt, idx, axis=0)
            mn[nonempty] = np.minimum.reduceat(tilt, idx, axis=0)
        k = np.flatnonzero(fwd2 & valid)
        if len(k):
            hi = np.maximum(mx[k], mx[k + 1])
            lo = np.minimum(mn[k], mn[k + 1])
            sway_fwd[k] = hi[:, 0] - lo[:, 0]
            sway_side[k] = hi[:, 1] - lo[:, 1]
    lean_fwd[~valid] = np.nan
    lean_side[~valid] = np.nan
    return lean_fwd, lean_side, sway_fwd, sway_side


def impact_index(f_v_m_s2: np.ndarray, ic: np.ndarray, *, sampling_rate_hz: float, window_s: float = 0.06) -> np.ndarray:
    """Impact-transient *indicator* per step: peak vertical loading rate at the sensor, in g/s.

    The steepest rise of vertical specific force within ``window_s`` after IC,
    read in one band whatever the sampling rate: low-passed at
    ``IMPACT_CUTOFF_HZ``, interpolated band-limited (polyphase) to
    ``IMPACT_SLOPE_RATE_HZ`` and differentiated there, so that a 50-Hz and a
    200-Hz recording of the same running give the same index (a two-sample
    slope at the recording's own rate halves it at 50 Hz).  NaN below
    ``IMPACT_MIN_RATE_HZ``.  A sharp, early rise goes with a hard (typically
    heel-first) landing, but this is an indicator, not a foot-strike class:
    it has not been validated against foot-strike labels.
    """
    from fractions import Fraction

    from scipy.signal import resample_poly

    fs = sampling_rate_hz
    out = np.full(len(ic), np.nan)
    if fs < IMPACT_MIN_RATE_HZ or len(f_v_m_s2) <= 30 or len(ic) == 0:
        return out
    s = lowpass(f_v_m_s2, IMPACT_CUTOFF_HZ, sampling_rate_hz=fs)
    up = Fraction(IMPACT_SLOPE_RATE_HZ / fs).limit_denominator(64)
    fu = fs * up.numerator / up.denominator
    s = resample_poly(s, up.numerator, up.denominator) if up != 1 else s
    rate = np.gradient(s) * fu / G
    w = max(2, int(window_s * fu))
    if len(rate) < w:
        return out
    a = np.maximum(0, np.floor(np.asarray(ic, float) * (fu / fs)) - 1).astype(np.int64)
    ok = a + w <= len(rate)
    windows = np.lib.stride_tricks.sliding_window_view(rate, w)
    out[ok] = windows[a[ok]].max(axis=1)
    return out


# ---------------------------------------------------------------------------
# Shoe


def _foot_segment(seg: Segment, placement: str, warnings: list[str]) -> pd.DataFrame | None:
    fs = seg.sampling_rate_hz
    frame = alignment.foot_frame(seg.acc, seg.gyr, sampling_rate_hz=fs)
    acc_b = frame.to_body(seg.acc)
    gyr_b = frame.to_body(seg.gyr) if seg.gyr is not None else None
    gait = ShoeGait().detect(acc_b, gyr_b, sampling_rate_hz=fs)
    ic, fc, ms = gait.ic_, gait.fc_, gait.ms_
    if len(ic) < 2:
        return None
    angle = np.full(len(ic), np.nan)
    if gyr_b is not None:
        omega = gyr_b[:, 1]
        for k in range(len(ic)):
            if np.isfinite(ms[k]) and ms[k] > ic[k]:
                angle[k] = strike_angle_deg(omega, ic[k], ms[k], sampling_rate_hz=fs)
    t0 = seg.start_s
    return pd.DataFrame({
        "ic_s": t0 + ic / fs,
        "fc_s": t0 + fc / fs,
        "side": placement.split("-")[1],
        "strike_angle_deg": angle,
        "_segment": seg.start_index,
    })


def strike_angle_deg(omega_left_rad_s: np.ndarray, ic: float, ms: float, *, sampling_rate_hz: float) -> float:
    """Sole pitch at IC relative to the flat foot at mid-stance, degrees (toe up > 0).

    Integrates the sagittal angular rate (toe down positive) from IC to
    mid-stance: pitch(IC) − pitch(MS) = ∫ ω dt.  Sub-sample IC by linear
    interpolation of the first sample.
    """
    fs = sampling_rate_hz
    i0 = int(np.floor(ic))
    i1 = int(round(ms))
    frac = ic - i0
    w = omega_left_rad_s[i0:i1 + 1]
    if len(w) < 2:
        return float("nan")
    total = np.trapezoid(w, dx=1.0 / fs)
    # remove the part between sample i0 and the sub-sample IC
    w_ic = w[0] + frac * (w[1] - w[0])
    total -= 0.5 * (w[0] + w_ic) * frac / fs
    return float(np.degrees(total))


def classify_strike(angle_deg: float, *, rearfoot_threshold_deg: float = REARFOOT_THRESHOLD_DEG,
                    forefoot_threshold_deg: float = FOREFOOT_THRESHOLD_DEG,
                    band_deg: float = STRIKE_INDETERMINATE_BAND_DEG) -> str | None:
    """rearfoot / midfoot / forefoot, or indeterminate within ``band_deg`` of a threshold.

    Defaults: Altman & Davis 2012 (rearfoot > 8°, forefoot < −1.6°).
    """
    if angle_deg is None or not np.isfinite(angle_deg):
        return None
    if abs(angle_deg - rearfoot_threshold_deg) <= band_deg or abs(angle_deg - forefoot_threshold_deg) <= band_deg:
        return "indeterminate"
    if angle_deg > rearfoot_threshold_deg:
        return "rearfoot"
    if angle_deg < forefoot_threshold_deg:
        return "forefoot"
    return "midfoot"


# ---------------------------------------------------------------------------
# Bouts, per-step timing, fatigue, summary


#: A pause between steps longer than this, or a change between walking and running, starts a new bout (for the
#: forward direction and the standing reference; the live path follows the same rule).
BOUT_MAX_PAUSE_S = 1.5


def _provisional_bouts(ic: np.ndarray, running: np.ndarray, fs: float, max_gap_s: float = BOUT_MAX_PAUSE_S
                       ) -> np.ndarray:
    new = np.ones(len(ic), bool)
    if len(ic) > 1:
        new[1:] = (np.diff(ic) > max_gap_s * fs) | (running[1:] != running[:-1])
    return np.cumsum(new)


def _bouts_and_derived(steps: pd.DataFrame, placement: str, hidden_s: np.ndarray | None = None) -> pd.DataFrame:
    """Step and stride timing, activity per shoe stride, and bouts.

    ``hidden_s``: (start, end) times of bridged gaps a step may hide in (longer than
    ``STEP_HIDING_GAP_S``); no step, stride or flight time spans one (a hidden step would double it).
    """
    if len(steps) == 0:
        return steps
    steps = steps.sort_values("ic_s").reset_index(drop=True)
    foot = placement in FOOT_PLACEMENTS
    ic = steps["ic_s"].to_numpy()
    fc = steps["fc_s"].to_numpy(dtype=float)
    seg = steps["_segment"].to_numpy()
    same_seg_next = np.concatenate([seg[1:] == seg[:-1], [False]])
    nxt_any = np.concatenate([np.diff(ic), [np.nan]])
    nxt_any[~same_seg_next] = np.nan
    if hidden_s is not None and len(hidden_s):
        starts, ends = np.sort(hidden_s[:, 0]), np.sort(hidden_s[:, 1])
        nxt_ic = np.concatenate([ic[1:], [np.inf]])
        # a gap overlaps (ic, next ic) when it starts before the next IC and has not ended by this one
        crosses = np.searchsorted(starts, nxt_ic, "left") > np.searchsorted(ends, ic, "right")
        same_seg_next = same_seg_next & ~crosses
    nxt = nxt_any.copy()
    nxt[~same_seg_next] = np.nan
    contact = fc - ic
    contact[(contact <= 0) | (contact > 1.2)] = np.nan
    steps["contact_time_s"] = contact
    if foot:
        stride = nxt.copy()
        stride[stride > 2.0] = np.nan
        steps["stride_time_s"] = stride
        steps["step_time_s"] = np.nan
        steps["cadence_spm"] = 120.0 / stride
        # running or walking from the duty factor, else from the stride time; a stride with neither (the last of a
        # segment, or one across a gap a stride may hide in, whose doubled time would halve its duty factor)
        # takes the previous stride's in the segment (the next one's at a segment's start)
        duty = contact / stride
        own = np.where(np.isfinite(duty), duty < 0.5, stride < 0.85)
        known = pd.Series(np.where(np.isfinite(duty) | np.isfinite(stride), own.astype(float), np.nan))
        filled = known.groupby(seg).ffill().groupby(seg).bfill().to_numpy()
        run = filled > 0.5  # NaN (nothing known in the segment): walking
        stride_any = np.where(nxt_any > 2.0, np.nan, nxt_any)
        steps["activity"] = np.where(np.isfinite(stride_any) | np.isfinite(contact), np.where(run, "running", "walking"),
                                     None)
        # one shoe: flight per step assuming the other foot mirrors this one
        flight = stride / 2 - contact
        steps["flight_time_s"] = np.where(run & (flight > 0), flight, np.nan)
    else:
        step = nxt.copy()
        step[step > 1.5] = np.nan
        steps["step_time_s"] = step
        # cadence over the stride (two steps): a sensor at one side of the
        # pelvis times left and right steps with opposite biases (adept_running's
        # hip: steps alternate 0.33/0.43 s at 158 steps/min), which the
        # two-step span cancels; a lone step falls back to 60 / step time
        nxt2 = np.concatenate([ic[2:] - ic[:-2], [np.nan, np.nan]])[:len(ic)]
        same2 = np.concatenate([same_seg_next[:-1] & same_seg_next[1:], [False]])[:len(ic)]
        nxt2[~same2 | ~np.isfinite(step)] = np.nan
        nxt2[nxt2 > 3.0] = np.nan
        steps["cadence_spm"] = np.where(np.isfinite(nxt2), 120.0 / nxt2, 60.0 / step)
        steps["stride_time_s"] = np.nan
        flight = np.concatenate([ic[1:], [np.nan]]) - fc
        flight[~same_seg_next] = np.nan
        running = (steps["activity"] == "running").to_numpy()
        steps["flight_time_s"] = np.where(running & (flight > -0.02), np.clip(flight, 0, None), np.nan)
        steps.loc[~running, "contact_time_s"] = np.where(
            np.isfinite(contact[~running]) & (contact[~running] < 1.5), contact[~running], np.nan)
    # bouts: same activity, no long pause, same segment; at least 4 steps
    act = steps["activity"].fillna("").to_numpy()
    gap = np.concatenate([[np.inf], np.diff(ic)])
    limit = 2.2 if foot else 1.5
    new = (gap > limit) | np.concatenate([[True], act[1:] != act[:-1]]) | np.concatenate([[True], seg[1:] != seg[:-1]])
    bout = np.cumsum(new)
    sizes = pd.Series(bout).map(pd.Series(bout).value_counts())
    bout = np.where((sizes.to_numpy() >= 4) & (act != ""), bout, -1)
    # renumber 0..k-1
    uniq = [b for b in dict.fromkeys(bout) if b >= 0]
    remap = {b: i for i, b in enumerate(uniq)}
    steps["bout"] = [remap.get(b, np.nan) for b in bout]
    return steps.drop(columns=["_segment"])


def _bout_table(steps: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for b, g in steps.dropna(subset=["bout"]).groupby("bout"):
        last = g.iloc[-1]
        tail = last["step_time_s"] if np.isfinite(last["step_time_s"]) else (
            last["stride_time_s"] if np.isfinite(last["stride_time_s"]) else 0.0)
        rows.append({"start_s": float(g["ic_s"].iloc[0]), "end_s": float(last["ic_s"] + (tail if np.isfinite(tail) else 0.0)),
                     "activity": g["activity"].iloc[0], "steps": int(len(g))})
    return pd.DataFrame(rows, columns=["start_s", "end_s", "activity", "steps"])


PER_STEP_METRICS = [
    "cadence_spm", "step_time_s", "contact_time_s", "flight_time_s", "vertical_oscillation_m", "impact_index",
    "strike_angle_deg", "trunk_lean_fwd_deg", "trunk_lean_side_deg",
]


def fatigue(steps: pd.DataFrame, bouts: pd.DataFrame, *, fraction: float = FATIGUE_FRACTION,
            thresholds: dict[str, float] = FATIGUE_FLAG_THRESHOLDS,
            min_flag_bout_s: float = FATIGUE_MIN_FLAG_BOUT_S) -> list[dict]:
    """Form under fatigue: change of each per-step metric from the first to the last fifth of each running bout.

    Each fifth's value is its median, balanced between the feet where sides are
    known (:func:`_side_balanced_median`).  A change beyond ``thresholds[metric]`` (absolute; for ``impact_index`` a
    relative change) is flagged, in bouts that last ``min_flag_bout_s`` or longer (a shorter one is marked
    ``too_short_to_flag``).  Bouts with fewer than 20 steps are skipped.
    """
    out = []
    for b, g in steps[steps["activity"] == "running"].dropna(subset=["bout"]).groupby("bout"):
        if len(g) < 20:
            continue
        short = bool(g["ic_s"].iloc[-1] - g["ic_s"].iloc[0] < min_flag_bout_s)
        k = max(1, int(round(fraction * len(g))))
        early, late = g.iloc[:k], g.iloc[-k:]
        metrics = {}
        for m in PER_STEP_METRICS:
            e, l = _side_balanced_median(early, m), _side_balanced_median(late, m)
            if not (np.isfinite(e) and np.isfinite(l)):
                continue
            change = l - e
            limit = thresholds.get(m)
            if m == "impact_index":
                rel = change / abs(e) if e else np.nan
                flagged = bool(np.isfinite(rel) and abs(rel) > limit)
            else:
                flagged = bool(limit is not None and abs(change) > limit)
            flagged = flagged and not short
            metrics[m] = {"early": float(e), "late": float(l), "change": float(change), "flagged": flagged,
                          "threshold": limit}
        out.append({"bout": int(b), "start_s": float(g["ic_s"].iloc[0]), "end_s": float(g["ic_s"].iloc[-1]),
                    "steps_per_fifth": k, "too_short_to_flag": short, "metrics": metrics,
                    "flags": [m for m, v in metrics.items() if v["flagged"]]})
    return out


def _side_balanced_median(g: pd.DataFrame, m: str) -> float:
    """Median of ``g[m]`` balanced between the feet: the mean of the left steps' and the right steps' medians
    where both feet have values, else the plain median.  A metric that alternates by side (the sideways lean,
    +left, swings to the stance side) has a plain median that is one side's value whenever a fifth holds one
    step more of that side: a change of ~2x the swing that did not happen."""
    if "side" in g:
        left = g.loc[g["side"] == "left", m].median()
        right = g.loc[g["side"] == "right", m].median()
        if np.isfinite(left) and np.isfinite(right):
            return float(0.5 * (left + right))
    return float(g[m].median())


def _asymmetry(steps: pd.DataFrame) -> dict:
    """Left/right symmetry index per metric: 100·(L − R) / mean(L, R), running steps."""
    run = steps[steps["activity"] == "running"]
    out = {}
    for m in ["step_time_s", "contact_time_s", "flight_time_s", "impact_index", "vertical_oscillation_m"]:
        l = run.loc[run["side"] == "left", m].median()
        r = run.loc[run["side"] == "right", m].median()
        if np.isfinite(l) and np.isfinite(r) and (l + r) != 0:
            out[m] = {"left": float(l), "right": float(r), "symmetry_index_pct": float(100 * (l - r) / (0.5 * (l + r)))}
    return out


def _summary(steps: pd.DataFrame, bouts: pd.DataFrame, placement: str) -> dict:
    summary: dict = {"steps": int(len(steps))}
    for act in ("running", "walking"):
        g = steps[(steps["activity"] == act) & steps["bout"].notna()]
        if len(g) == 0:
            continue
        s = {"steps": int(len(g)), "duration_s": float(bouts.loc[bouts["activity"] == act].eval("end_s - start_s").sum())}
        for m in PER_STEP_METRICS + ["stride_time_s", "trunk_sway_side_deg", "trunk_sway_fwd_deg"]:
            # the sideways lean swings to the stance side: a plain median is one side's value (its sign set by
            # whichever side has one step more), so the feet are balanced there as in the fatigue fifths
            v = _side_balanced_median(g, m) if m == "trunk_lean_side_deg" else g[m].median()
            if np.isfinite(v):
                s[f"median_{m}"] = float(v)
        summary[act] = s
    if placement in FOOT_PLACEMENTS:
        strikes = steps["strike"].dropna()
        if len(strikes):
            summary["strike_share"] = {k: float((strikes == k).mean()) for k in ("rearfoot", "midfoot", "forefoot", "indeterminate")}
    else:
        summary["asymmetry"] = _asymmetry(steps)
        summary["impact_index_note"] = "impact_index is an indicator (peak vertical loading rate at the sensor, g/s), not a foot-strike class"
    summary["fatigue"] = fatigue(steps, bouts)
    return summary
