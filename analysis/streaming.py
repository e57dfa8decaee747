"""Live (streaming) versions of cadence, trunk lean, the heel-strike indicator and a sitting timer.

Design (pitfall 6 of STYLE.md: batch code run naively on chunks gives other
answers): the live detectors run the batch analysis' own rules
(:meth:`analysis.gait.LowerBackGait.detect_filtered`,
:meth:`analysis.gait.ShoeGait.detect_filtered`,
:func:`~analysis.pipeline.strike_angle_deg`, with the same parameters) on the
same zero-phase Butterworth filters, but the filters are evaluated
incrementally, so that one :meth:`LiveMetrics.update` costs a small,
nearly constant time (issue 4: notification → live metric p99 < 20 ms with
four sensors at 200 Hz; bench/speed_ingest.py):

* every zero-phase filter is split into its two passes.  The forward (causal)
  pass of the gravity low-pass runs once per sample, at each hop over the
  samples since the last, with its state carried (``scipy.signal.sosfilt``
  with ``zi``);
  the backward pass, which needs the future, is run at each hop only over the
  newest samples.  The step filters (8 and 25 Hz for the trunk, 5 and 25 Hz
  for the shoe) settle within 0.3 s, so both of their passes are run on the
  short detection span only, started from their steady state (designs and
  ``sosfilt_zi`` computed once per sensor);
* samples live in a small ring buffer (``window_s``; the shoe's also holds its
  ``calibration_s``);
* every ``hop_s`` the detection looks only at the newest samples: from
  ``0.8 s`` before the last accepted event (the look-back the rules need: the
  flight minimum before a stance peak, the swing before a stride) to the
  newest sample, at most ``window_s``.  Events are *accepted* once they lie at
  least ``margin_s`` before the span's newest sample, where the backward
  passes and the detectors' look-ahead no longer change them.  Each event is
  accepted once.  The price is a stated delay: a step appears ``margin_s`` to
  ``margin_s + hop_s`` after it happened.

Timing diagram (span newest sample at the right)::

    |<--------------------- detection span (≈ 2–3 s) --------------------->|
    | 0.8 s look-back | last accepted IC | accepted now |<--- margin_s --->|
                                                        (not yet: may change)

Lost samples: a gap of at most ``analysis.pipeline.MAX_BRIDGED_GAP_S`` (0.5 s) is
bridged by linear interpolation, as the batch analysis bridges it; a longer gap
ends the detection, which starts again after it (the calibrated frame is kept).
Bursts of 0.15–0.45 s give the batch's steps at the default ``hop_s`` (tested on
a shoe run); a review saw two lower-back ICs inside bursts 2.3 ms from the batch's,
and at hops of 0.25 s or less one live shoe IC just after a burst that the batch
misses (the simulator's truth has it, 9 ms away: the burst took most of the swing
before it, and the batch's whole-segment swing search does not count what is left).
A running step whose flight was lost in a burst stays running, live as in the batch
(analysis.gait._flight_hidden_in_gap, given the span's bridged samples).

So the differences from the batch are at the span's edges, which the
look-back and ``margin_s`` keep away from accepted events, and the rules that need
what comes after a step: the batch drops a walk's gait-initiation weight shift and
adds its weak last step, the live detector keeps the one and does not add the other;
the tests state how far apart live and batch are (tests/test_streaming.py).

What is calibrated from the first seconds of gait: the body frame.  Trunk: once
the ring (≈ 6 s) holds a bout of at least ``MIN_REFERENCE_BOUT_STEPS`` steps (a
walk, not a fidget in a chair), up from the last 4 s of the latest still period
of at least 3 s before it, if within 30° of the gait's direction (as
:func:`analysis.alignment.standing_reference`), and forward from
:func:`analysis.alignment.trunk_forward` on those steps; forward is found again
on every later bout of that many steps (a pause over ``BOUT_MAX_PAUSE_S`` or a
change between walking and running starts one), up kept, as the batch does per
bout.  After a gap longer than the bridged ones the frame is made again, as the
batch does per segment, keeping the standing reference from before the gap only
when :func:`analysis.pipeline.sits_as_before` holds (the sensor cannot have been
re-clipped).  The sitting timer stops for ``SITTING_MIN_STEPS`` steps within
``sitting_no_step_s``, not for one.  Shoe (kept across gaps): :func:`analysis.alignment.foot_frame` on
the first ``calibration_s`` of movement and up to 3 s of stillness before it
(with the former live rule, the 10 s ending at the first movement, mostly
standing, none of the live strides of 2 of the 52 ipol_gait left feet matched
a batch stride; now they do); the strides inside those seconds are detected afterwards, one span per
hop.  The batch analysis uses the whole segment for both.

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
  sitting; None until an upright reference is known, and for shoes).

The gait's values (the first three) are shown while the wearer is not sitting
and stepped within ``gait_hold_s`` (30 s: a pause at a crossing keeps them);
after that they are None (a replayed work day showed the morning's cadence
beside an hour of sitting).

Sitting (trunk and thigh sensors; :func:`sitting_mask` is the batch form):
no step for ``sitting_no_step_s`` and, for the mean specific force of the last
second, the posture that the all-day analysis (:mod:`analysis.activity`) gives
a still second from its tilt against upright (:func:`posture_from_tilt_deg`):
lower back / chest: lying from ``TRUNK_LYING_MIN_DEG`` (60°), else sitting when
the tilt cue of :func:`analysis.activity.trunk_posture_log_likelihoods` favours
sitting (tilt above ``TRUNK_SIT_INCL_DEG``, 12°); thigh: sitting from
``THIGH_SIT_MIN_DEG`` (45°, activPAL).  Live there is no transition evidence
(the all-day analysis also weighs the pelvis height change of each sit-down and
stand-up, decided afterwards over the whole day), so a person who sits with an
upright pelvis is timed as standing.  Upright is the still standing reference
(the README asks for 5 s of still standing first), where the all-day analysis
learns it from walking.

Nothing here knows about BLE or Dash: feed :meth:`LiveMetrics.update` with
contiguous blocks of samples in SI units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal
from scipy.ndimage import gaussian_filter1d

from analysis import activity_constants as activity_k
from analysis import alignment
from analysis.activity import trunk_posture_log_likelihoods
from analysis.constants import FOOT_PLACEMENTS, GRAVITY_M_S2, PLACEMENTS, TRUNK_PLACEMENTS
from analysis.gait import SHOE_MAX_STANCE_S, LowerBackGait, ShoeGait, walking_ic_forward
from analysis.pipeline import (BOUT_MAX_PAUSE_S, MAX_BRIDGED_GAP_S, MIN_REFERENCE_BOUT_STEPS, classify_strike, gap_hides_step,
                               hidden_mask, sits_as_before, strike_angle_deg)
from analysis.signals import butter_sos, unit

THIGH_PLACEMENTS = ("thigh-left", "thigh-right")

#: Look-back kept before the last accepted event in each detection span (s):
#: the running-contact search (0.35 s before a stance peak), the swing before a
#: shoe IC (≤ 0.25 s), and the settling of the 5–25 Hz step filters (≤ 0.3 s).
LOOK_BACK_S = 0.8
#: Shoe: seconds before the first movement that join the calibration data (see _hop_foot).
STILL_BEFORE_S = 3.0


def posture_from_tilt_deg(tilt_deg: np.ndarray, *, body_part: str) -> np.ndarray:
    """Posture of still seconds from their tilt against upright, by the all-day analysis' rule.

    Parameters
    ----------
    tilt_deg
        Angle(s) between the mean specific force and upright, degrees.
    body_part
        ``"trunk"`` (lower back, chest) or ``"thigh"``.

    Returns
    -------
    Array of ``"lying"``, ``"sitting"``, ``"standing"`` (object dtype).

    Trunk: the most likely of :func:`analysis.activity.trunk_posture_log_likelihoods`
    (lying from ``TRUNK_LYING_MIN_DEG``; sitting vs standing from the tilt cue
    centred on ``TRUNK_SIT_INCL_DEG``), the all-day analysis' own cue.
    Thigh: sitting from ``THIGH_SIT_MIN_DEG`` (sitting and lying are one class
    for a thigh, as in the all-day analysis).
    """
    tilt = np.atleast_1d(np.asarray(tilt_deg, dtype=np.float64))
    if body_part == "thigh":
        return np.where(tilt >= activity_k.THIGH_SIT_MIN_DEG, "sitting", "standing").astype(object)
    if body_part != "trunk":
        raise ValueError(f"body_part must be 'trunk' or 'thigh', got {body_part!r}")
    emit = trunk_posture_log_likelihoods(tilt)
    return np.array(["lying", "sitting", "standing"], dtype=object)[np.argmax(emit, axis=1)]


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
        ``"trunk"`` or ``"thigh"``: which posture rule (:func:`posture_from_tilt_deg`).
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
    sit = posture_from_tilt_deg(tilt, body_part=body_part) == "sitting"
    sit[: w - 1] = False
    if step_index is not None:
        block = int(round(no_step_s * fs))
        for i in np.asarray(step_index, dtype=np.int64):
            sit[max(0, i): i + block] = False
    return sit


class _ZeroPhase:
    """Zero-phase Butterworth of a short span, from steady state, with everything designed once.

    Equal to :func:`analysis.signals.lowpass` (the same design from
    :func:`analysis.signals.butter_sos`, the same cutoff cap) away from the
    span's two ends; the live detector only accepts events away from them.
    The forward pass can also run causally with carried state (:meth:`forward`),
    so that only the backward pass is left for each hop (:meth:`backward`).

    Why ``lfilter`` on the transfer function of the designed sections rather
    than ``sosfilt``: the same filter in one C call without ``sosfilt``'s
    per-call argument handling (≈ 50 µs instead of ≈ 300 µs per pass on this
    machine; the live path runs a dozen passes per hop).  For these low orders
    (2 and 4) the two agree to 1e-10 of the signal's range up to 1000 Hz
    (tests/test_streaming.py checks it against ``sosfiltfilt``).
    """

    def __init__(self, order: int, cutoff_hz: float, btype: str, sampling_rate_hz: float):
        if btype == "low":
            cutoff_hz = min(cutoff_hz, 0.45 * sampling_rate_hz)  # as analysis.signals.lowpass
        self.sos = butter_sos(order, float(cutoff_hz), btype, float(sampling_rate_hz))
        self.b, self.a = signal.sos2tf(self.sos)
        self.zi = signal.lfilter_zi(self.b, self.a)  # steady state for a unit step
        self.state: np.ndarray | None = None

    def _zi_for(self, x0) -> np.ndarray:
        x0 = np.asarray(x0, dtype=np.float64)
        return self.zi.reshape(self.zi.shape + (1,) * x0.ndim) * x0

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Causal pass along axis 0, state carried between calls (reset with ``state = None``)."""
        if self.state is None:
            self.state = self._zi_for(x[0])
        y, self.state = signal.lfilter(self.b, self.a, x, axis=0, zi=self.state)
        return y

    def backward(self, y: np.ndarray) -> np.ndarray:
        """Anti-causal pass of forward-filtered ``y``, started from steady state at its last sample."""
        z, _ = signal.lfilter(self.b, self.a, y[::-1], axis=0, zi=self._zi_for(y[-1]))
        return z[::-1]

    def filtfilt(self, x: np.ndarray) -> np.ndarray:
        y, _ = signal.lfilter(self.b, self.a, x, axis=0, zi=self._zi_for(x[0]))
        return self.backward(y)


def _gaussian_kernel(sigma_samples: float, truncate: float = 4.0) -> np.ndarray:
    """The kernel of ``scipy.ndimage.gaussian_filter1d`` (same radius and normalisation): convolving
    with it equals that filter away from the ends, in one ``np.convolve`` call."""
    radius = int(truncate * float(sigma_samples) + 0.5)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-0.5 * (x / sigma_samples) ** 2)
    return k / k.sum()


#: Steps within ``sitting_no_step_s`` that stop the live sitting timer (walking, not a fidget in the chair).
SITTING_MIN_STEPS = 3


class _Ring:
    """The newest ``capacity`` rows of a contiguous stream; ``start``/``end`` are absolute sample indices.

    Stored in a buffer of twice the capacity, so that appending is a copy of
    the new rows (and, once per ``capacity`` rows, of the kept ones).
    """

    def __init__(self, capacity: int, width: int):
        self.capacity = int(capacity)
        self._buf = np.zeros((2 * self.capacity, width))
        self._n = 0
        self.end = 0

    def reset(self, start: int) -> None:
        self._n = 0
        self.end = int(start)

    @property
    def start(self) -> int:
        return self.end - len(self)

    def __len__(self) -> int:
        return min(self._n, self.capacity)

    def append(self, rows: np.ndarray) -> None:
        m = len(rows)
        if m >= self.capacity:
            self._buf[: self.capacity] = rows[-self.capacity:]
            self._n = self.capacity
        else:
            if self._n + m > len(self._buf):
                keep = self.capacity - m
                self._buf[:keep] = self._buf[self._n - keep: self._n]
                self._n = keep
            self._buf[self._n: self._n + m] = rows
            self._n = min(self._n + m, len(self._buf))
        self.end += m

    def span(self, a: int, b: int) -> np.ndarray:
        """Rows of absolute indices [a, b) (a view; a ≥ start, b ≤ end)."""
        off = self.end - self._n
        return self._buf[a - off: b - off]


class LiveMetrics:
    """Streaming metrics for one sensor.

    Parameters
    ----------
    placement
        One of :data:`analysis.constants.PLACEMENTS`; decides which metrics exist.
    sampling_rate_hz
        Rate of the sample index (from the recording or the sensor settings).
    window_s
        Ring buffer of raw samples (trunk) and the longest detection span.
    hop_s
        How often the newest samples are searched for events.
    margin_s
        Look-ahead kept back: events are accepted this long before the newest sample.
    n_recent
        Steps (strides) behind each live value.
    gait_hold_s
        How long after the last step :meth:`snapshot` still shows the gait's values.

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
                 sitting_no_step_s: float = 3.0, gait_hold_s: float = 30.0):
        if placement not in PLACEMENTS:
            raise ValueError(f"placement must be one of {', '.join(PLACEMENTS)}, got {placement!r}")
        if not (isinstance(sampling_rate_hz, (int, float)) and sampling_rate_hz > 0):
            raise ValueError(f"sampling_rate_hz must be a positive number, got {sampling_rate_hz!r}")
        if not (window_s >= 2.0 * LOOK_BACK_S + margin_s + hop_s):
            raise ValueError(f"window_s must be at least 2 × {LOOK_BACK_S} s + margin_s + hop_s "
                             f"({2 * LOOK_BACK_S + margin_s + hop_s:g} s), got {window_s!r}")
        self.placement = placement
        self.sampling_rate_hz = float(sampling_rate_hz)
        self.window_s = window_s
        self.hop_s = hop_s
        self.margin_s = margin_s
        self.n_recent = n_recent
        self.calibration_steps = calibration_steps
        self.calibration_s = calibration_s
        self.sitting_no_step_s = sitting_no_step_s
        self.gait_hold_s = gait_hold_s
        self.kind = ("foot" if placement in FOOT_PLACEMENTS else "trunk" if placement in TRUNK_PLACEMENTS else "thigh")
        fs = self.sampling_rate_hz
        self._n_window = int(round(window_s * fs))
        self._n_hop = max(1, int(round(hop_s * fs)))
        self._n_margin = int(round(margin_s * fs))
        self._n_back = int(round(LOOK_BACK_S * fs))
        self._n_bridge = int(np.floor(MAX_BRIDGED_GAP_S * fs + 1e-9))
        self._hidden: list[tuple[int, int]] = []  # bridged gaps a step may hide in: (first lost, next received)
        # ring columns: acc (0:3), gyr (3:6, zeros without), forward-filtered gravity low-pass (6:9, trunk)
        ring_s = window_s + (calibration_s + STILL_BEFORE_S if self.kind == "foot" else 0.0)
        self._ring = _Ring(int(round(ring_s * fs)), 9)
        self._has_gyr: bool | None = None
        # filters (designs as in analysis.orientation.gravity_direction_lowpass and analysis.gait)
        self._gravity = _ZeroPhase(2, 0.5, "low", fs)
        self._lbg = LowerBackGait()
        self._sg = ShoeGait()
        self._f8 = _ZeroPhase(4, 8.0, "low", fs)
        self._f25 = _ZeroPhase(4, 25.0, "low", fs)
        self._f_swing = _ZeroPhase(4, self._sg.swing_cutoff_hz, "low", fs)
        self._walk_kernel = _gaussian_kernel(self._lbg.walk_sigma_s * fs)
        self._since_hop = 0
        self._gravity_done = 0  # absolute: the gravity forward pass has run up to here
        self._scan_from = 0  # absolute: events before it (minus the look-back) are settled
        self._last_ic: float | None = None  # absolute sample index (float)
        self._ic_abs: list[float] = []
        self._ic_running: dict[float, bool] = {}  # trunk: the detector's flight-phase flag of each IC in _ic_abs
        self._pending_lean: list[float] = []  # ICs waiting for their stride to end
        self.steps_: list[StepEvent] = []
        self.frame_ = None
        self.up_standing_: np.ndarray | None = None
        self._calibrated_gait_up: np.ndarray | None = None  # trunk: the gait's up the body frame was made with
        self._carried: tuple | None = None  # trunk: the standing reference before a gap (pipeline.sits_as_before)
        self._bout_start: float | None = None  # trunk: the first IC of the current bout
        self._bout_n = 0  # trunk: steps in the current bout (also those no longer in the ring)
        self._walk_n = 0  # trunk: steps since the last pause (a bout as far as the standing reference goes)
        self._walk_start: float | None = None
        self._bout_forward = False  # trunk: whether the body frame's forward was found on the current bout
        self._gap_end: int | None = None  # absolute index of the first sample after the last gap
        self._still_sum = np.zeros(3)
        self._still_n = 0
        self._still_candidate: np.ndarray | None = None
        self._first_still: np.ndarray | None = None
        self._moving_from: int | None = None  # shoe: absolute index where calibration data begin
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
        if np.any(np.diff(idx) <= 0):
            raise ValueError("sample_index must be strictly increasing within a block")
        # split at gaps inside the block (bridged or not: see _add), and into pieces of at most one hop
        # (a long block is many hops)
        breaks = np.flatnonzero(np.diff(idx) != 1) + 1
        for a, b in zip(np.concatenate([[0], breaks]), np.concatenate([breaks, [len(idx)]])):
            for c in range(a, b, self._n_hop):
                d = min(b, c + self._n_hop)
                self._add(idx[c:d], acc[c:d], None if gyr is None else gyr[c:d])
        return self

    def snapshot(self) -> dict:
        """The live values as a plain dict: the gait's (cadence, trunk lean, heel strike) while they still describe
        what the wearer does (:meth:`gait_current`), else None; the attributes keep the last ones."""
        now = self.gait_current()
        return {"cadence_spm": self.cadence_spm_ if now else None,
                "trunk_lean_deg": self.trunk_lean_deg_ if now else None,
                "heel_strike": self.heel_strike_ if now else None, "sitting_s": self.sitting_s_}

    def gait_current(self) -> bool:
        """Whether the last steps still describe what the wearer does: not sitting, and a step within
        ``gait_hold_s`` of the newest sample (a pause at a crossing keeps them; an hour at a desk does not)."""
        if self.sitting_s_:
            return False
        if self._last_ic is None or self._newest is None:
            return True  # no step yet: the values are None anyway
        return (self._newest - self._last_ic) / self.sampling_rate_hz <= self.gait_hold_s

    # ----------------------------------------------------------------- internal
    def _add(self, idx, acc, gyr) -> None:
        ring = self._ring
        if self._has_gyr is None:
            self._has_gyr = gyr is not None
        if len(ring) and idx[0] != ring.end:
            missing = int(idx[0]) - ring.end
            if 0 < missing <= self._n_bridge and (gyr is not None) == self._has_gyr:
                # lost samples (up to 0.5 s): bridged by linear interpolation, as the batch analysis does
                # (analysis.pipeline.MAX_BRIDGED_GAP_S); longer gaps end the detection
                if gap_hides_step(missing, self.sampling_rate_hz):  # no step time across it, as in the batch
                    self._hidden = self._hidden[-16:] + [(ring.end, int(idx[0]))]
                last = ring.span(ring.end - 1, ring.end)[0]
                w = (np.arange(1, missing + 1) / (missing + 1))[:, None]
                fill_acc = last[0:3] + w * (acc[0] - last[0:3])
                fill_gyr = None if gyr is None else last[3:6] + w * (gyr[0] - last[3:6])
                self._add(np.arange(ring.end, int(idx[0])), fill_acc, fill_gyr)
            else:
                self._gap(int(idx[0]))
        if (gyr is not None) != self._has_gyr:  # channel set changed: start over
            self._gap(int(idx[0]))
            self._has_gyr = gyr is not None
        if len(ring) == 0:
            ring.reset(int(idx[0]))
            self._scan_from = self._gravity_done = int(idx[0])
        rows = np.zeros((len(idx), 9))
        rows[:, 0:3] = acc
        if gyr is not None:
            rows[:, 3:6] = gyr
        ring.append(rows)  # the gravity low-pass (columns 6:9) is brought up to date at the next hop
        self._newest = int(idx[-1])
        self._since_hop += len(idx)
        self._track_still(acc, gyr)
        if self.kind == "foot" and self.frame_ is None and self._moving_from is None:
            moving = np.flatnonzero(np.linalg.norm(gyr, axis=1) >= self._sg.min_swing_rad_s) if gyr is not None else []
            if len(moving):  # the first calibration_s of movement
                self._moving_from = int(idx[moving[0]])
        if self._since_hop >= self._n_hop:
            self._since_hop = 0
            self._hop()

    def _across_hidden_gap(self, a: float, b: float) -> bool:
        """Whether a bridged gap that can hide a step (``gap_hides_step``) overlaps (a, b) (absolute sample indices)."""
        return any(lo < b and hi > a for lo, hi in self._hidden)

    def _gap(self, start: int) -> None:
        """Steps are not detected across a gap longer than the batch analysis bridges (as in it).  A trunk sensor's
        body frame and standing reference end there too, as the batch's segment does: the steps after the gap
        take a still stand of their own, else the one before the gap if the sensor sits as it did
        (:func:`analysis.pipeline.sits_as_before`: within 120 s, turned by at most 10°), else no lean."""
        if self.kind == "trunk" and len(self._ring):
            if self.up_standing_ is not None:  # else a reference carried over an earlier gap stays carried
                self._carried = (self.up_standing_, None, self._ring.end / self.sampling_rate_hz,
                                 self._calibrated_gait_up)
            self.frame_ = None
            self.up_standing_ = None
            self._calibrated_gait_up = None
            self._still_candidate = None
            self.trunk_lean_deg_ = None  # until steps after the gap have a lean (_refresh_trunk)
        self._ring.reset(start)
        self._gravity.state = None
        self._gravity_done = start
        self._scan_from = start
        self._since_hop = 0
        self._pending_lean = []
        self._ic_abs = []
        self._ic_running = {}
        self._bout_start, self._bout_forward, self._bout_n = None, False, 0
        self._walk_start, self._walk_n = None, 0
        self._gap_end = start
        self._still_sum[:] = 0
        self._still_n = 0
        self._sit_start_index = None
        if self.frame_ is None:
            self._moving_from = None

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
                # as alignment.standing_reference: only its last 4 s (a slow stand-up can leave one still period
                # holding the sitting before the standing)
                n = min(self._still_n, int(round(4.0 * self.sampling_rate_hz)), len(self._ring))
                self._still_candidate = unit(self._ring.span(self._ring.end - n, self._ring.end)[:, 0:3].mean(axis=0))
                if self._first_still is None:
                    self._first_still = unit(self._still_sum)
        else:
            self._still_sum[:] = 0
            self._still_n = 0

    def _span(self) -> tuple[int, int] | None:
        """Absolute [a, e) to search now: from the look-back before the last accepted event (or the
        first unsettled sample) to the newest sample, at most ``window_s``."""
        ring = self._ring
        fs = self.sampling_rate_hz
        lo = self._scan_from - self._n_back
        # the previous event anchors the rules (least f_v since the last stance peak; the swing before a stride)
        max_gap_s = self._lbg.max_step_s if self.kind == "trunk" else 2.0
        if self._last_ic is not None and self._last_ic >= self._scan_from - max_gap_s * fs:
            lo = min(lo, int(self._last_ic) - self._n_back)
        a = max(ring.start, lo)
        e = min(ring.end, a + self._n_window)
        if e - a < int(2.0 * self.sampling_rate_hz):
            return None
        return a, e

    def _hop(self) -> None:
        if self.kind == "foot":
            self._hop_foot()
        elif self.kind == "trunk":
            self._hop_trunk()
        self._update_sitting()

    # -- trunk ------------------------------------------------------------------
    def _hop_trunk(self) -> None:
        fs = self.sampling_rate_hz
        ring = self._ring
        # forward (causal) pass of the gravity low-pass over the samples since the last hop, state carried
        a = max(ring.start, self._gravity_done)
        if ring.end > a:
            rows = ring.span(a, ring.end)
            rows[:, 6:9] = self._gravity.forward(rows[:, 0:3])
            self._gravity_done = ring.end
        span = self._span()
        if span is None:
            return
        a, e = span
        rows = self._ring.span(a, e)
        acc = rows[:, 0:3]
        low = self._gravity.backward(rows[:, 6:9])  # zero-phase gravity low-pass (forward pass carried)
        up_t = low / np.linalg.norm(low, axis=1, keepdims=True)
        f_v = np.einsum("ij,ij->i", acc, up_t)
        # samples bridged over a gap that can hide a flight, as the batch's Segment.hidden
        ic_rel, running_rel = self._lower_back_ic(f_v, hidden_mask(self._hidden, a, e - a))
        limit = (e - a) - self._n_margin
        dup = 0.5 * self._lbg.min_step_s * fs
        keep = [(float(ic), bool(r)) for ic, r in zip(ic_rel, running_rel)
                if ic < limit and (self._last_ic is None or a + ic > self._last_ic + dup)]
        if keep and self.frame_ is not None and self.frame_.forward_source != "unknown":
            # once the body frame is known, walking ICs move halfway to the forward-acceleration peak, as the
            # batch analysis does (gait.walking_ic_forward: at most WALK_IC_FORWARD_SEARCH_S / 2, which the
            # 1 s margin holds); the steps before the calibration keep the vertical-force IC
            rel = walking_ic_forward(acc @ self.frame_.axes[0], np.array([ic for ic, _ in keep]),
                                     np.array([r for _, r in keep]), sampling_rate_hz=fs)
            keep = [(float(ic), r) for ic, (_, r) in zip(rel, keep)]
        found = [(a + ic, r) for ic, r in keep]
        new = [ic for ic, _ in found]
        self._ic_running.update(found)
        self._scan_from = max(self._scan_from, e - self._n_margin)
        for abs_ic in new:
            paused = not self._ic_abs or abs_ic - self._ic_abs[-1] > BOUT_MAX_PAUSE_S * fs
            if paused:
                self._walk_start, self._walk_n = abs_ic, 0
            self._walk_n += 1
            if paused or self._ic_running.get(abs_ic) != self._ic_running.get(self._ic_abs[-1]):
                # a new bout (as pipeline._provisional_bouts)
                self._bout_start, self._bout_forward, self._bout_n = abs_ic, False, 0
            self._bout_n += 1
            if self._ic_abs and abs_ic - self._ic_abs[-1] <= self._lbg.max_step_s * fs:
                prev = self._ic_abs[-1]
                step_s = None if self._across_hidden_gap(prev, abs_ic) else (abs_ic - prev) / fs
                self.steps_.append(StepEvent(ic_s=prev / fs, step_time_s=step_s))
            self._ic_abs.append(abs_ic)
            self._last_ic = abs_ic
            self._pending_lean.append(abs_ic)
        if len(self._ic_abs) > 4 * self.calibration_steps:
            self._ic_abs = self._ic_abs[-2 * self.calibration_steps:]
            self._ic_running = {i: self._ic_running[i] for i in self._ic_abs}
        if new and self.frame_ is None:
            self._calibrate_trunk()
        elif new and not self._bout_forward:
            self._bout_forward_again()
        self._lean_for_strides()
        self._refresh_trunk()

    def _lower_back_ic(self, fv: np.ndarray, hidden: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """ICs (span-relative, float) and their running flags by :meth:`analysis.gait.LowerBackGait.detect_filtered`, on the span.

        The filters are this object's (designed once, zero-phase on the span;
        the 25 Hz low-pass and the Gaussian smoothing only when a running or a
        walking step needs them); the rules and parameters are LowerBackGait's
        (default walking IC rule: the steepest rise).  :meth:`_hop_trunk` then
        moves walking ICs halfway to the forward-acceleration peak
        (:func:`analysis.gait.walking_ic_forward`), as the batch analysis does,
        once the body frame is calibrated; the steps before it keep the
        vertical-force IC (at most
        ``WALK_IC_FORWARD_SEARCH_S / 2`` from the batch's).
        """
        fs = self.sampling_rate_hz

        def smooth() -> np.ndarray:
            if len(fv) >= len(self._walk_kernel):
                return np.convolve(fv, self._walk_kernel, mode="same")
            return gaussian_filter1d(fv, self._lbg.walk_sigma_s * fs)

        g = self._lbg.detect_filtered(fv, self._f8.filtfilt(fv), lambda: self._f25.filtfilt(fv), smooth,
                                      sampling_rate_hz=fs, drop_initiation_shifts=False, hidden=hidden)
        return g.ic_, g.running_

    def _calibrate_trunk(self) -> None:
        """Body frame once, from the steps in the ring (as the batch: alignment.trunk_forward), when the ring holds
        a walk or run of at least MIN_REFERENCE_BOUT_STEPS steps (not a fidget in a chair).  Upright: the latest
        still period before it if within 30° of the gait's direction (as alignment.standing_reference), else the
        reference from before a gap when the sensor sits as it did there (pipeline.sits_as_before), else none."""
        bout = self._bout_steps(self._walk_start, self._walk_n)
        if bout is None:
            return
        acc, ic_buf, running = bout
        fs = self.sampling_rate_hz
        gait_up = unit(acc[ic_buf[0]:ic_buf[-1] + 1].mean(axis=0))
        cand = self._still_candidate
        if cand is not None and np.degrees(np.arccos(np.clip(cand @ gait_up, -1, 1))) <= 30.0:
            self.up_standing_ = cand
        elif self._carried is not None and sits_as_before(self._carried, self._gap_end / fs, gait_up):
            # timed from the gap's end, as the batch times it from its segment's start
            self.up_standing_ = self._carried[0]
        self._carried = None
        self._calibrated_gait_up = gait_up
        fwd, src = alignment.trunk_forward(acc, gait_up, ic_buf, running, sampling_rate_hz=fs)
        up = self.up_standing_ if self.up_standing_ is not None else gait_up
        self.frame_ = alignment.trunk_frame(up, fwd, up_source="still standing" if self.up_standing_ is not None
                                            else "mean during gait", forward_source=src, reference_s=None)
        self._bout_forward = True

    def _bout_steps(self, start: float | None, n_steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The ring's acceleration, the ICs in it of the bout that began at IC ``start`` (ring-relative) and their
        running flags, once that bout has ``n_steps`` >= MIN_REFERENCE_BOUT_STEPS steps (a slow walk's eighth step
        can come after its first left the ring) and the ring holds at least 4 of them; else None."""
        ring = self._ring
        held = [i for i in self._ic_abs if i >= ring.start and i >= (start or 0)]
        if n_steps < MIN_REFERENCE_BOUT_STEPS or len(held) < 4:
            return None
        return (ring.span(ring.start, ring.end)[:, 0:3], np.array([i - ring.start for i in held], dtype=int),
                np.array([self._ic_running.get(i, False) for i in held], bool))

    def _bout_forward_again(self) -> None:
        """Forward found again on each bout of MIN_REFERENCE_BOUT_STEPS steps, up kept, as the batch does per bout
        (a belt can turn between bouts; a run's braking sign is surer than a walk's)."""
        bout = self._bout_steps(self._bout_start, self._bout_n)
        if bout is None:
            return
        acc, ic_buf, running = bout
        fwd, src = alignment.trunk_forward(acc, self._calibrated_gait_up, ic_buf, running,
                                           sampling_rate_hz=self.sampling_rate_hz)
        self._bout_forward = True
        if src != "unknown":
            f = self.frame_
            self.frame_ = alignment.trunk_frame(f.up, fwd, up_source=f.up_source, forward_source=src,
                                                reference_s=None)

    def _lean_for_strides(self) -> None:
        """Lean of step k from the mean specific force over its stride (IC k to IC k+2), as the batch does."""
        if self.frame_ is None or self.up_standing_ is None:
            self._pending_lean = self._pending_lean[-2 * self.calibration_steps:]
            return
        fs = self.sampling_rate_hz
        ring = self._ring
        ics = self._ic_abs
        done = []
        for ic in self._pending_lean:
            k = ics.index(ic) if ic in ics else -1
            if k < 0:
                done.append(ic)  # its stride is no longer held
                continue
            if k + 2 >= len(ics):
                continue
            done.append(ic)
            if ics[k + 2] - ic >= 2.5 * fs:
                continue
            a, b = int(round(ic)), int(round(ics[k + 2]))
            if a < ring.start:
                continue
            ww = unit(self.frame_.to_body(ring.span(a, b)[:, 0:3].mean(axis=0)))
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
        since_s = (self._gap_end or 0) / self.sampling_rate_hz  # a lean from before a gap is not shown after it
        leans = [s.trunk_lean_fwd_deg for s in recent if s.trunk_lean_fwd_deg is not None and s.ic_s >= since_s]
        if leans:
            self.trunk_lean_deg_ = float(np.median(leans))
        elif self.frame_ is None or self.up_standing_ is None:
            self.trunk_lean_deg_ = None  # after a gap: none until the frame is made again (not the old value)

    # -- shoe -------------------------------------------------------------------
    def _hop_foot(self) -> None:
        fs = self.sampling_rate_hz
        if not self._has_gyr:
            return  # strike angle and shoe events need the gyroscope
        ring = self._ring
        if self.frame_ is None:
            if self._moving_from is None or ring.end - self._moving_from < self.calibration_s * fs:
                return
            # calibration data: the first calibration_s of movement and up to STILL_BEFORE_S before it
            # (standing still gives 'up' its best estimate, as it does in the batch's whole segment)
            a = max(ring.start, self._moving_from - int(STILL_BEFORE_S * fs))
            cal = ring.span(a, ring.end)
            self.frame_ = alignment.foot_frame(cal[:, 0:3], cal[:, 3:6], sampling_rate_hz=fs)
            # the strides inside the calibration data are not lost: the next spans start at their beginning
            self._scan_from = a + self._n_back
            return
        span = self._span()
        if span is None:
            return
        a, e = span
        rows = self._ring.span(a, e)
        self._detect_foot(a, e, rows[:, 0:3], rows[:, 3:6])
        # a stride waits for the push-off that ends its stance (at most SHOE_MAX_STANCE_S after its IC, ShoeGait)
        self._scan_from = max(self._scan_from, e - self._n_margin - int(SHOE_MAX_STANCE_S * self.sampling_rate_hz))

    def _detect_foot(self, base: int, end: int, acc: np.ndarray, gyr: np.ndarray) -> None:
        fs = self.sampling_rate_hz
        omega = gyr @ self.frame_.axes[1]  # body-frame 'left' component (toe down positive)
        limit = (end - base) - self._n_margin
        no_push_off = int(SHOE_MAX_STANCE_S * fs)  # ShoeGait: no push-off so long after the IC is none
        # ShoeGait's rules on this object's filters (designed once, zero-phase on the span); the impact's
        # jerk and the mid-stance use norms only, so the sensor frame serves as well as the body frame
        om = self._f25.filtfilt(omega) if fs > 60 else omega
        om_swing = self._f_swing.filtfilt(omega) if len(omega) > 30 else omega
        sg = self._sg.detect_filtered(acc, gyr, om, om_swing, sampling_rate_hz=fs)
        for ic, fc, ms in zip(sg.ic_, sg.fc_, sg.ms_):
            if (np.isfinite(fc) and fc >= limit) or (not np.isfinite(fc) and ic >= limit - no_push_off):
                continue  # wait until the push-off that ends this stance (or its absence) is well inside the span
            abs_ic = base + ic
            if self._last_ic is not None and abs_ic <= self._last_ic + 0.5 * self._sg.min_stride_s * fs:
                continue
            angle = strike_angle_deg(omega, ic, ms, sampling_rate_hz=fs) if np.isfinite(ms) and ms > ic else float("nan")
            if self._ic_abs and abs_ic - self._ic_abs[-1] <= 2.0 * fs:
                prev = self.steps_[-1]
                stride_s = None if self._across_hidden_gap(self._ic_abs[-1], abs_ic) else (abs_ic - self._ic_abs[-1]) / fs
                self.steps_[-1] = StepEvent(prev.ic_s, stride_s, None, prev.strike_angle_deg)
            self.steps_.append(StepEvent(ic_s=abs_ic / fs, strike_angle_deg=None if not np.isfinite(angle) else float(angle)))
            self._ic_abs = self._ic_abs[-8:] + [abs_ic]
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
        # upright reference: the standing period before the gait, else (after a gap, until a walk makes the frame
        # again) the one from before the gap, else the first still period after the sensor was put on (the README
        # asks for 5 s of still standing first)
        ref = (self.up_standing_ if self.up_standing_ is not None
               else self._carried[0] if self._carried is not None else self._first_still)
        if ref is None:
            self.sitting_s_ = None
            return
        fs = self.sampling_rate_hz
        w = int(round(1.0 * fs))
        ring = self._ring
        if len(ring) < w:
            return
        mean = ring.span(ring.end - w, ring.end)[:, 0:3].mean(axis=0)
        tilt = np.degrees(np.arccos(np.clip(unit(mean) @ ref, -1, 1)))
        posture = posture_from_tilt_deg(tilt, body_part="thigh" if self.kind == "thigh" else "trunk")[0]
        # walking: steps in the last sitting_no_step_s (+ the look-ahead); one or two are a fidget in the chair
        # (the simulated workday's restarted the timer three times in a 135-min sit)
        since = self._newest - (self.sitting_no_step_s + self.margin_s) * fs
        recent_step = sum(i > since for i in self._ic_abs[-SITTING_MIN_STEPS:]) >= SITTING_MIN_STEPS
        if posture == "sitting" and not recent_step:
            if self._sit_start_index is None:
                self._sit_start_index = self._newest
            self.sitting_s_ = (self._newest - self._sit_start_index) / fs
        else:
            self._sit_start_index = None
            self.sitting_s_ = 0.0
