"""Live (streaming) versions of cadence, trunk lean, the heel-strike indicator and a sitting timer.

Design (pitfall 6 of STYLE.md: batch code run naively on chunks gives other
answers): the streaming estimators run the *same* detectors as
:func:`analysis.pipeline.analyse` (:class:`~analysis.gait.LowerBackGait`,
:class:`~analysis.gait.ShoeGait`, :func:`~analysis.pipeline.strike_angle_deg`)
on a sliding window of the most recent samples, every ``hop_s`` seconds, and
only *accept* events that lie far enough from the window's newest sample
(``margin_s``) that the zero-phase filters and the look-ahead of the detectors
no longer change them.  Each event is accepted once.  The price is a stated
delay: a step appears ``margin_s`` to ``margin_s + hop_s`` after it happened.

Timing diagram (window ``window_s``, newest sample at the right)::

    |<------------------------ window_s ------------------------>|
    |  already accepted  |  accepted at this hop  |<- margin_s ->|
                                                  (not yet: may change)

What is calibrated once from the first seconds of gait (and then kept, also
across gaps): the body frame.  Trunk: up from the latest still standing period
of at least 3 s before the gait (as :func:`analysis.alignment.standing_reference`),
forward from :func:`analysis.alignment.trunk_forward` on the first
``calibration_steps`` steps.  Shoe: :func:`analysis.alignment.foot_frame` on the
first ``calibration_s`` of movement.  The batch analysis uses the whole segment
for both; the tests state how far apart the two are.

Live values (what a runner sees):

* ``cadence_spm``: 60 / median step time of the last ``n_recent`` steps
  (shoe: 120 / median stride time).
* ``trunk_lean_deg``: median forward lean of the last ``n_recent`` steps,
  degrees, relative to upright standing (None without a standing reference,
  as in the batch report).
* ``heel_strike``: foot-strike class (Altman & Davis 2012 thresholds) of the
  median strike angle of the last ``n_recent`` strides, without the
  indeterminate band, so one of ``rearfoot``/``midfoot``/``forefoot``.
* ``sitting_s``: length of the current sitting bout, seconds (0.0 when not
  sitting; None until a standing reference is known, and for shoes).

Sitting (trunk and thigh sensors; :func:`sitting_mask` is the batch form):
no step for ``sitting_no_step_s`` and the low-passed 'up' direction tilted from
upright standing by 15–75° (trunk: the pelvis rolls back 20–40° on a chair) or
45–120° (thigh: horizontal).  These are stated assumptions, tested on simulated
postures only; no labelled sitting data are available here.

Nothing here knows about BLE or Dash: feed :meth:`LiveMetrics.update` with
contiguous blocks of samples in SI units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis import alignment
from analysis.constants import FOOT_PLACEMENTS, GRAVITY_M_S2, PLACEMENTS, TRUNK_PLACEMENTS
from analysis.gait import LowerBackGait, ShoeGait
from analysis.orientation import gravity_direction_lowpass
from analysis.pipeline import classify_strike, strike_angle_deg
from analysis.signals import unit

THIGH_PLACEMENTS = ("thigh-left", "thigh-right")


#: Tilt from upright standing (degrees) that counts as sitting, per body part.
SITTING_TILT_DEG = {"trunk": (15.0, 75.0), "thigh": (45.0, 120.0)}


@dataclass(frozen=True)
class StepEvent:
    """One accepted step (trunk) or stride (shoe); times in s from the recording start."""

    ic_s: float
    step_time_s: float | None = None  # to the next IC of either foot (trunk) / same foot (shoe)
    trunk_lean_fwd_deg: float | None = None
    strike_angle_deg: float | None = None


def sitting_mask(acc_m_s2: np.ndarray, *, sampling_rate_hz: float, up_standing: np.ndarray, body_part: str,
                 step_index: np.ndarray | None = None, no_step_s: float = 3.0, window_s: float = 1.0) -> np.ndarray:
    """Batch sitting flag per sample (see module docstring).

    Parameters
    ----------
    acc_m_s2
        (n, 3) specific force in the sensor frame.
    up_standing
        'Up' (unit vector, sensor frame) while standing upright.
    body_part
        ``"trunk"`` or ``"thigh"``: which tilt band counts as sitting.
    step_index
        Sample indices of steps (ICs); samples within ``no_step_s`` after a step
        are never sitting.
    window_s
        The tilt is that of the mean specific force over the ``window_s`` that
        ends at each sample (causal, so the streaming form gives the same).
    """
    fs = sampling_rate_hz
    acc = np.asarray(acc_m_s2, dtype=np.float64)
    w = max(1, int(round(window_s * fs)))
    csum = np.cumsum(np.vstack([np.zeros((1, 3)), acc]), axis=0)
    lo = np.clip(np.arange(1, len(acc) + 1) - w, 0, None)
    mean = (csum[1:] - csum[lo]) / (np.arange(1, len(acc) + 1) - lo)[:, None]
    tilt = np.degrees(np.arccos(np.clip(unit(mean) @ unit(up_standing), -1.0, 1.0)))
    a, b = SITTING_TILT_DEG[body_part]
    sit = (tilt >= a) & (tilt <= b)
    sit[: w - 1] = False
    if step_index is not None:
        block = int(round(no_step_s * fs))
        for i in np.asarray(step_index, dtype=np.int64):
            sit[max(0, i): i + block] = False
    return sit


class LiveMetrics:
    """Streaming metrics for one sensor.

    Parameters
    ----------
    placement
        One of :data:`analysis.constants.PLACEMENTS`; decides which metrics exist.
    sampling_rate_hz
        Rate of the sample index (from the recording or the sensor settings).
    window_s, hop_s, margin_s
        Sliding window, how often it is analysed, and the look-ahead kept back.
    n_recent
        Steps (strides) behind each live value.

    Attributes (after :meth:`update`)
    ----------
    steps_ : list of StepEvent
        Every accepted step or stride, in order.
    cadence_spm_, trunk_lean_deg_, heel_strike_, sitting_s_
        The live values (None when not known yet).
    up_standing_ : (3,) or None
        Standing reference (trunk/thigh), sensor frame.
    frame_ : BodyFrame or None
    """

    def __init__(self, *, placement: str, sampling_rate_hz: float, window_s: float = 6.0, hop_s: float = 0.5,
                 margin_s: float = 1.0, n_recent: int = 8, calibration_steps: int = 16, calibration_s: float = 10.0,
                 sitting_no_step_s: float = 3.0):
        if placement not in PLACEMENTS:
            raise ValueError(f"placement must be one of {', '.join(PLACEMENTS)}, got {placement!r}")
        if not (isinstance(sampling_rate_hz, (int, float)) and sampling_rate_hz > 0):
            raise ValueError(f"sampling_rate_hz must be a positive number, got {sampling_rate_hz!r}")
        self.placement = placement
        self.sampling_rate_hz = float(sampling_rate_hz)
        self.window_s = window_s
        self.hop_s = hop_s
        self.margin_s = margin_s
        self.n_recent = n_recent
        self.calibration_steps = calibration_steps
        self.calibration_s = calibration_s
        self.sitting_no_step_s = sitting_no_step_s
        self.kind = ("foot" if placement in FOOT_PLACEMENTS else "trunk" if placement in TRUNK_PLACEMENTS else "thigh")
        fs = self.sampling_rate_hz
        self._n_window = int(round(window_s * fs))
        self._n_hop = max(1, int(round(hop_s * fs)))
        self._n_margin = int(round(margin_s * fs))
        # sample buffer (absolute indices), contiguous
        self._idx = np.zeros(0, np.int64)
        self._acc = np.zeros((0, 3))
        self._gyr: np.ndarray | None = None
        self._since_hop = 0
        self._last_ic: float | None = None  # absolute sample index (float)
        self._ic_abs: list[float] = []
        self._pending_lean: list[float] = []  # ICs waiting for their stride to end
        self.steps_: list[StepEvent] = []
        self.frame_ = None
        self.up_standing_: np.ndarray | None = None
        self._gait_up: np.ndarray | None = None
        self._still_sum = np.zeros(3)
        self._still_n = 0
        self._still_candidate: np.ndarray | None = None
        self._first_still: np.ndarray | None = None
        self._foot_cal: list[np.ndarray] = []
        self._foot_cal_gyr: list[np.ndarray] = []
        self._last_step_index: int | None = None
        self._sit_start_index: int | None = None
        self._newest: int | None = None
        self.sitting_s_: float | None = None
        self.cadence_spm_: float | None = None
        self.trunk_lean_deg_: float | None = None
        self.heel_strike_: str | None = None

    # ------------------------------------------------------------------ public
    def update(self, sample_index: np.ndarray, acc_m_s2: np.ndarray, gyr_rad_s: np.ndarray | None = None) -> "LiveMetrics":
        """Add a block of samples (indices increasing; a jump in index is a gap)."""
        idx = np.asarray(sample_index, dtype=np.int64)
        acc = np.asarray(acc_m_s2, dtype=np.float64)
        if acc.shape != (len(idx), 3):
            raise ValueError(f"acc_m_s2 must have shape ({len(idx)}, 3), got {acc.shape}")
        gyr = None if gyr_rad_s is None else np.asarray(gyr_rad_s, dtype=np.float64)
        if gyr is not None and gyr.shape != acc.shape:
            raise ValueError(f"gyr_rad_s must have the shape of acc_m_s2 {acc.shape}, got {gyr.shape}")
        if len(idx) == 0:
            return self
        # split at gaps inside the block
        breaks = np.flatnonzero(np.diff(idx) != 1) + 1
        for a, b in zip(np.concatenate([[0], breaks]), np.concatenate([breaks, [len(idx)]])):
            self._add(idx[a:b], acc[a:b], None if gyr is None else gyr[a:b])
        return self

    def snapshot(self) -> dict:
        """The live values as a plain dict."""
        return {"cadence_spm": self.cadence_spm_, "trunk_lean_deg": self.trunk_lean_deg_,
                "heel_strike": self.heel_strike_, "sitting_s": self.sitting_s_}

    # ----------------------------------------------------------------- internal
    def _add(self, idx, acc, gyr) -> None:
        if len(self._idx) and idx[0] != self._idx[-1] + 1:
            self._gap()
        if self._gyr is None and len(self._idx) == 0:
            self._gyr = None if gyr is None else np.zeros((0, 3))
        if (gyr is None) != (self._gyr is None):  # channel set changed: start over
            self._gap()
            self._gyr = None if gyr is None else np.zeros((0, 3))
        self._idx = np.concatenate([self._idx, idx])[-self._n_window:]
        self._acc = np.concatenate([self._acc, acc])[-self._n_window:]
        if gyr is not None:
            self._gyr = np.concatenate([self._gyr, gyr])[-self._n_window:]
        self._newest = int(idx[-1])
        self._since_hop += len(idx)
        self._track_still(acc, gyr)
        if self.kind == "foot" and self.frame_ is None:
            self._foot_cal.append(acc)
            if gyr is not None:
                self._foot_cal_gyr.append(gyr)
        if self._since_hop >= self._n_hop:
            self._since_hop = 0
            self._hop()

    def _gap(self) -> None:
        """Steps are not detected across a gap (as in the batch analysis)."""
        self._idx = np.zeros(0, np.int64)
        self._acc = np.zeros((0, 3))
        self._gyr = None if self._gyr is None else np.zeros((0, 3))
        self._since_hop = 0
        self._pending_lean = []
        self._ic_abs = []
        self._still_sum[:] = 0
        self._still_n = 0
        self._sit_start_index = None
        self._foot_cal, self._foot_cal_gyr = [], []

    def _track_still(self, acc, gyr) -> None:
        """Latest still period ≥ 3 s (candidate standing reference), like alignment.still_mask."""
        if self.kind == "foot" or self.up_standing_ is not None or (self.kind == "thigh" and self._first_still is not None):
            return
        norm = np.linalg.norm(acc, axis=1)
        still = norm.std() < 0.3 and abs(norm.mean() - GRAVITY_M_S2) < 1.5 and (
            gyr is None or np.linalg.norm(gyr, axis=1).mean() < 0.2)
        if still:
            self._still_sum += acc.sum(axis=0)
            self._still_n += len(acc)
            if self._still_n >= 3.0 * self.sampling_rate_hz:
                self._still_candidate = unit(self._still_sum)
                if self._first_still is None:
                    self._first_still = self._still_candidate
        else:
            self._still_sum[:] = 0
            self._still_n = 0

    def _hop(self) -> None:
        fs = self.sampling_rate_hz
        if len(self._idx) < int(2.0 * fs):
            self._update_sitting()
            return
        if self.kind == "foot":
            self._hop_foot()
        elif self.kind == "trunk":
            self._hop_trunk()
        self._update_sitting()

    # -- trunk ------------------------------------------------------------------
    def _hop_trunk(self) -> None:
        fs = self.sampling_rate_hz
        acc = self._acc
        up_t = gravity_direction_lowpass(acc, sampling_rate_hz=fs, cutoff_hz=0.5)
        f_v = np.einsum("ij,ij->i", acc, up_t)
        gait = LowerBackGait().detect(f_v, sampling_rate_hz=fs)
        base = int(self._idx[0])
        limit = len(acc) - self._n_margin
        new = [float(ic) for ic in gait.ic_ if ic < limit and (self._last_ic is None or base + ic > self._last_ic + 0.11 * fs)]
        for ic in new:
            abs_ic = base + ic
            if self._ic_abs and abs_ic - self._ic_abs[-1] <= 1.5 * fs:
                prev = self._ic_abs[-1]
                self.steps_.append(StepEvent(ic_s=prev / fs, step_time_s=(abs_ic - prev) / fs))
            self._ic_abs.append(abs_ic)
            self._last_ic = abs_ic
            self._last_step_index = int(abs_ic)
            self._pending_lean.append(abs_ic)
        if new:
            if self._gait_up is None:
                a = max(0, int(new[0]))
                self._gait_up = unit(acc[a:].mean(axis=0))
                cand = self._still_candidate
                if cand is not None and np.degrees(np.arccos(np.clip(cand @ self._gait_up, -1, 1))) <= 30.0:
                    self.up_standing_ = cand
            if self.frame_ is None and len(self._ic_abs) >= self.calibration_steps:
                ic_buf = np.array([i - base for i in self._ic_abs if i - base >= 0], dtype=int)
                if len(ic_buf) >= 4:
                    gait_up = unit(acc[ic_buf[0]:ic_buf[-1] + 1].mean(axis=0))
                    fwd, src = alignment.trunk_forward(acc, gait_up, ic_buf, sampling_rate_hz=fs)
                    up = self.up_standing_ if self.up_standing_ is not None else gait_up
                    self.frame_ = alignment.trunk_frame(up, fwd, up_source="still standing" if self.up_standing_ is not None
                                                        else "mean during gait", forward_source=src, reference_s=None)
        self._lean_for_strides()
        self._refresh_trunk()

    def _lean_for_strides(self) -> None:
        """Lean of step k from the mean specific force over its stride (IC k to IC k+2), as the batch does."""
        if self.frame_ is None or self.up_standing_ is None:
            return
        fs = self.sampling_rate_hz
        base = int(self._idx[0])
        ics = self._ic_abs
        done = []
        for ic in self._pending_lean:
            k = ics.index(ic) if ic in ics else -1
            if k < 0 or k + 2 >= len(ics):
                continue
            done.append(ic)
            if ics[k + 2] - ic >= 2.5 * fs:
                continue
            a, b = int(round(ic)) - base, int(round(ics[k + 2])) - base
            if a < 0:
                continue
            ww = unit(self.frame_.to_body(self._acc[a:b].mean(axis=0)))
            lean = float(np.degrees(np.arctan2(-ww[0], ww[2])))
            for j in range(len(self.steps_) - 1, -1, -1):
                if abs(self.steps_[j].ic_s - ic / fs) < 0.5 / fs:
                    s = self.steps_[j]
                    self.steps_[j] = StepEvent(s.ic_s, s.step_time_s, lean, None)
                    break
        self._pending_lean = [ic for ic in self._pending_lean if ic not in done]

    def _refresh_trunk(self) -> None:
        recent = self.steps_[-self.n_recent:]
        times = [s.step_time_s for s in recent if s.step_time_s]
        self.cadence_spm_ = 60.0 / float(np.median(times)) if len(times) >= 2 else self.cadence_spm_
        leans = [s.trunk_lean_fwd_deg for s in recent if s.trunk_lean_fwd_deg is not None]
        if leans:
            self.trunk_lean_deg_ = float(np.median(leans))

    # -- shoe -------------------------------------------------------------------
    def _hop_foot(self) -> None:
        fs = self.sampling_rate_hz
        if self._gyr is None:
            return  # strike angle and shoe events need the gyroscope
        if self.frame_ is None:
            n_cal = sum(len(a) for a in self._foot_cal)
            if n_cal < self.calibration_s * fs:
                return
            cal_acc = np.concatenate(self._foot_cal)
            cal_gyr = np.concatenate(self._foot_cal_gyr)
            if np.linalg.norm(cal_gyr, axis=1).max() < 2.0:  # not moving yet: keep the latest seconds only
                keep = int(self.calibration_s * fs)
                self._foot_cal, self._foot_cal_gyr = [cal_acc[-keep:]], [cal_gyr[-keep:]]
                return
            self.frame_ = alignment.foot_frame(cal_acc, cal_gyr, sampling_rate_hz=fs)
            self._foot_cal, self._foot_cal_gyr = [], []
            # the strides inside the calibration data are not lost: detect them once on all of it
            self._detect_foot(self._newest - len(cal_acc) + 1, cal_acc, cal_gyr)
        self._detect_foot(int(self._idx[0]), self._acc, self._gyr)

    def _detect_foot(self, base: int, acc: np.ndarray, gyr: np.ndarray) -> None:
        fs = self.sampling_rate_hz
        acc_b = self.frame_.to_body(acc)
        gyr_b = self.frame_.to_body(gyr)
        gait = ShoeGait().detect(acc_b, gyr_b, sampling_rate_hz=fs)
        limit = len(acc) - self._n_margin
        omega = gyr_b[:, 1]
        for ic, fc, ms in zip(gait.ic_, gait.fc_, gait.ms_):
            if not (np.isfinite(ic) and np.isfinite(fc)) or fc >= limit:
                continue  # wait until the push-off that ends this stance is well inside the window
            abs_ic = base + ic
            if self._last_ic is not None and abs_ic <= self._last_ic + 0.45 * fs * 0.5:
                continue
            angle = strike_angle_deg(omega, ic, ms, sampling_rate_hz=fs) if np.isfinite(ms) and ms > ic else float("nan")
            if self._ic_abs and abs_ic - self._ic_abs[-1] <= 2.0 * fs:
                prev = self.steps_[-1]
                self.steps_[-1] = StepEvent(prev.ic_s, (abs_ic - self._ic_abs[-1]) / fs, None, prev.strike_angle_deg)
            self.steps_.append(StepEvent(ic_s=abs_ic / fs, strike_angle_deg=None if not np.isfinite(angle) else float(angle)))
            self._ic_abs.append(abs_ic)
            self._last_ic = abs_ic
        recent = self.steps_[-self.n_recent:]
        strides = [s.step_time_s for s in recent if s.step_time_s]
        if len(strides) >= 2:
            self.cadence_spm_ = 120.0 / float(np.median(strides))
        angles = [s.strike_angle_deg for s in recent if s.strike_angle_deg is not None]
        if angles:
            self.heel_strike_ = classify_strike(float(np.median(angles)), band_deg=0.0)

    # -- sitting ------------------------------------------------------------------
    def _update_sitting(self) -> None:
        if self.kind == "foot" or self._newest is None:
            return
        # upright reference: the standing period before the gait, else the first still period after
        # the sensor was put on (the README asks for 5 s of still standing first)
        ref = self.up_standing_ if self.up_standing_ is not None else self._first_still
        if ref is None:
            self.sitting_s_ = None
            return
        fs = self.sampling_rate_hz
        w = int(round(1.0 * fs))
        if len(self._acc) < w:
            return
        tilt = np.degrees(np.arccos(np.clip(unit(self._acc[-w:].mean(axis=0)) @ ref, -1, 1)))
        lo, hi = SITTING_TILT_DEG["thigh" if self.kind == "thigh" else "trunk"]
        recent_step = self._last_step_index is not None and self._newest - self._last_step_index < (
            self.sitting_no_step_s + self.margin_s) * fs
        if lo <= tilt <= hi and not recent_step:
            if self._sit_start_index is None:
                self._sit_start_index = self._newest
            self.sitting_s_ = (self._newest - self._sit_start_index) / fs
        else:
            self._sit_start_index = None
            self.sitting_s_ = 0.0
