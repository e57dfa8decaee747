"""Sensor-to-body alignment without a careful mount.

The user never types an axis.  Up comes from gravity; forward comes from the
direction of travel, read from the gait itself:

* **Trunk (lower back, chest).**  Up: the mean specific force during a still
  standing period (the runner's own upright reference); if the recording has
  none, the mean over the gait (then trunk lean cannot be reported relative to
  standing).  Forward: the horizontal direction of the acceleration component
  that repeats every step (left and right steps alike), i.e. the principal
  axis of ``h(t) + h(t + T_step)`` where the sideways sway, which alternates
  sign from step to step, cancels.  Its sign depends on the gait (see
  :func:`trunk_forward`): walking, the forward acceleration rises slowly
  and falls sharply (it peaks at heel contact, then the body brakes:
  Zijlstra & Hof 2003; the rule of scikit-digital-health); running, the
  body brakes right after each landing impact.
* **Shoe.**  Up: the specific force while the foot is flat and still (low
  angular rate).  Left: the principal axis of the angular rate during gait
  (the foot rotates mainly in the sagittal plane), signed so that, between
  two flat-foot stances, the foot spends its stride pitched toe-down: heel
  rise, push-off and the swing's heel kick take the toe 30–100° down, while
  the toe is at most ~25° up before a heel strike (any strike pattern, in
  walking and running).  See :func:`foot_pitch_sign`.  Forward = left × up.  Accelerometer only: up as above from still periods, forward unknown.

A sensor worn upside down or rotated on the belt gives the same body-frame
signals (tested in tests/test_alignment.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.constants import GRAVITY_M_S2
from analysis.signals import unit


@dataclass(frozen=True)
class BodyFrame:
    """Axes of the body frame expressed in the sensor frame.

    ``axes`` rows are the unit vectors forward, left and up in sensor
    coordinates, so ``sensor_vectors @ axes.T`` gives body-frame vectors.
    """

    axes: np.ndarray
    up_source: str
    forward_source: str
    reference_s: tuple[float, float] | None = None

    def to_body(self, v: np.ndarray) -> np.ndarray:
        return np.asarray(v) @ self.axes.T

    @property
    def up(self) -> np.ndarray:
        return self.axes[2]


def still_mask(acc: np.ndarray, gyr: np.ndarray | None, *, sampling_rate_hz: float, window_s: float = 1.0,
               acc_std_m_s2: float = 0.3, gyr_norm_rad_s: float = 0.2) -> np.ndarray:
    """Per-sample flag: the sensor is still (centred moving window).

    Still means the acceleration norm varies by less than ``acc_std_m_s2``,
    stays within 1.5 m/s² of g, and (with a gyroscope) the mean angular rate is
    below ``gyr_norm_rad_s``.
    """
    w = max(3, int(window_s * sampling_rate_hz))
    norm = np.linalg.norm(acc, axis=1)
    k = np.ones(w) / w
    mean = np.convolve(norm, k, mode="same")
    var = np.convolve(norm**2, k, mode="same") - mean**2
    ok = (np.sqrt(np.clip(var, 0, None)) < acc_std_m_s2) & (np.abs(mean - GRAVITY_M_S2) < 1.5)
    if gyr is not None:
        gn = np.convolve(np.linalg.norm(gyr, axis=1), k, mode="same")
        ok &= gn < gyr_norm_rad_s
    ok[: w // 2] = ok[w // 2] if len(ok) > w else ok[: w // 2]
    ok[-(w // 2):] = ok[-(w // 2) - 1] if len(ok) > w else ok[-(w // 2):]
    return ok


def runs(mask: np.ndarray, min_len: int = 1) -> list[tuple[int, int]]:
    """(start, stop) index pairs of True runs at least ``min_len`` long."""
    m = np.concatenate([[False], mask.astype(bool), [False]])
    d = np.diff(m.astype(np.int8))
    starts = np.flatnonzero(d == 1)
    stops = np.flatnonzero(d == -1)
    return [(int(a), int(b)) for a, b in zip(starts, stops) if b - a >= min_len]


def horizontal_basis(up: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two orthonormal vectors spanning the plane perpendicular to ``up``."""
    up = unit(up)
    helper = np.eye(3)[int(np.argmin(np.abs(up)))]
    e1 = unit(np.cross(up, helper))
    e2 = np.cross(up, e1)
    return e1, e2


def standing_reference(acc: np.ndarray, gyr: np.ndarray | None, *, sampling_rate_hz: float, gait_up: np.ndarray,
                       first_gait_index: int, min_duration_s: float = 3.0, max_tilt_deg: float = 30.0,
                       window_s: float = 4.0) -> tuple[np.ndarray, tuple[int, int]] | None:
    """Upright standing reference: the still period nearest before the gait.

    A still period counts as standing when its gravity direction is within
    ``max_tilt_deg`` of the mean gait direction (lying is ~90° away; sitting
    tilts the pelvis back by 20–40°, see tests).  Only its ``window_s`` next
    to the gait is used (the last seconds before it, or the first after it):
    a slow stand-up from a chair can leave no movement the still detector
    sees, so one still period may hold sitting and then standing; 4 s fit in
    the 5 s of standing the report's warning asks for.  A sit that goes
    straight into the gait with no still standing of 3 s is taken as the
    reference (a limit: sitting and standing differ by the pelvis tilt only).  Returns
    (up vector, index range) or None.
    """
    fs = sampling_rate_hz
    periods = runs(still_mask(acc, gyr, sampling_rate_hz=fs), int(min_duration_s * fs))
    w = int(round(window_s * fs))
    best = None
    for a, b in periods:
        a, b = (max(a, b - w), b) if b <= first_gait_index + fs else (a, min(b, a + w))
        up = unit(acc[a:b].mean(axis=0))
        tilt = np.degrees(np.arccos(np.clip(np.dot(up, unit(gait_up)), -1, 1)))
        if tilt > max_tilt_deg:
            continue
        # nearest before the gait first, then nearest after it
        key = (0, first_gait_index - b) if b <= first_gait_index + fs else (1, a - first_gait_index)
        if best is None or key < best[0]:
            best = (key, up, (a, b))
    return None if best is None else (best[1], best[2])


#: Walking sign rule (scikit-digital-health 0.17, ``PreprocessGaitBout.get_ap_axis_sign``):
#: band-pass of the fore-aft acceleration, and the smallest peak prominence counted.
WALK_SIGN_BAND_HZ = (0.25, 7.0)
WALK_SIGN_MIN_PROMINENCE_M_S2 = 0.05 * GRAVITY_M_S2
#: Running sign rule: mean fore-aft acceleration after IC minus before it, over this window.
RUN_BRAKING_WINDOW_S = 0.1


def trunk_forward(acc: np.ndarray, up: np.ndarray, ic_index: np.ndarray, running: np.ndarray, *,
                  sampling_rate_hz: float) -> tuple[np.ndarray, str]:
    """Forward direction (sensor frame) of a trunk sensor from its gait.

    ``ic_index``: sample indices of initial contacts inside ``acc``;
    ``running``: per IC, whether the step detector found a flight phase
    before it (``LowerBackGait.running_``).

    The axis is the principal horizontal axis of the step-periodic
    acceleration (module docstring); its sign comes from a rule that depends
    on the gait, chosen by whether most steps are running steps (the
    detector's own flight-phase test, not repeated here):

    * Walking: :func:`walking_forward_sign`, the rise-time/fall-time
      asymmetry of the forward acceleration.  It needs no IC: the braking
      rule below gave the wrong sign on 31 of 52 ipol_gait lower-back
      trials (forward is the sensor's −z on all of them), because the
      forward acceleration peaks sharply at heel contact and our walking IC
      (steepest rise of the vertical force) lands 20–100 ms before it on
      some walkers, so the ±0.1 s window holds that peak *after* the IC.
      With this rule: 50 of 52 (tests/test_forward_direction.py).
    * Running: :func:`braking_forward_sign`, the body brakes right after
      each landing (the fore-aft ground reaction force is braking in the
      first half of stance and propulsive in the second, Munro, Miller &
      Fuglevand 1987, J Biomech 20:147; Cavagna et al. 1988).  The running
      IC is the landing impact itself, sharp and well timed.  The walking
      rule gives the wrong sign in running: at the hip the fore-aft
      acceleration falls sharply at the landing (braking impact) and rises
      sharply out of it, then falls slowly through push-off and flight
      (adept_running's hip, the simulator), so the asymmetry reverses.

    ``forward_source`` names the rule used ("unknown" when neither could decide).
    """
    fs = sampling_rate_hz
    e1, e2 = horizontal_basis(up)
    h = np.column_stack([acc @ e1, acc @ e2])
    h = h - h.mean(axis=0)
    if len(ic_index) < 4:
        return e1, "unknown"
    step = int(round(np.median(np.diff(ic_index))))
    even = h[:-step] + h[step:]
    cov = even.T @ even
    w, v = np.linalg.eigh(cov)
    ap = v[:, -1]
    fwd = unit(ap[0] * e1 + ap[1] * e2)
    a_ap = acc @ fwd
    i = np.asarray(ic_index, np.int64)
    if np.mean(np.asarray(running, bool)) > 0.5:
        sign = braking_forward_sign(a_ap, i, sampling_rate_hz=fs)
        source = "braking after landing (running)"
    else:
        lo, hi = max(0, int(i[0])), min(len(a_ap), int(i[-1]) + 1)
        sign = walking_forward_sign(a_ap[lo:hi], sampling_rate_hz=fs)
        source = "forward acceleration rises slowly, falls sharply (walking)"
        if sign == 0:  # too few clear peaks: the braking rule is better than nothing
            sign = braking_forward_sign(a_ap, i, sampling_rate_hz=fs)
            source = "braking after initial contact"
    if sign == 0:
        return fwd, "unknown"
    return (fwd if sign > 0 else -fwd), source


def walking_forward_sign(a: np.ndarray, *, sampling_rate_hz: float) -> int:
    """+1 if ``a`` (a horizontal acceleration, m/s², during walking) is forward-positive, -1 if backward, 0 if unknown.

    The trunk's forward acceleration peaks at heel contact and then drops
    sharply as the body brakes in the loading response; from mid-stance it
    rises slowly to the next heel contact (Zijlstra & Hof 2003, Gait Posture
    18:1, Fig. 2: "peak forward acceleration at heel contact").  So its
    peaks rise slowly and fall sharply.  This is the rule and the parameters
    of scikit-digital-health (Adamowicz et al.; ``skdh.gait``,
    ``PreprocessGaitBout.get_ap_axis_sign``, v0.17): 4th-order Butterworth
    band-pass 0.25–7 Hz (zero phase); maxima with a prominence of at least
    0.05 g, kept when their prominence exceeds 0.75 × the median; minima
    with at least that prominence; for each kept maximum, the rise time from
    the minimum before it and the fall time to the minimum after it.  Forward
    when the median rise time is not shorter than the median fall time (on
    a tie, the means over the intervals shorter than 1.25 peak spacings).
    """
    from scipy.signal import find_peaks, sosfiltfilt

    from analysis.signals import butter_sos

    fs = sampling_rate_hz
    lo_hz, hi_hz = WALK_SIGN_BAND_HZ
    if len(a) < 2 * fs or hi_hz >= 0.5 * fs:
        return 0
    sos = butter_sos(4, (lo_hz, hi_hz), "bandpass", float(fs))
    x = sosfiltfilt(sos, np.asarray(a, float))
    mx, meta = find_peaks(x, prominence=WALK_SIGN_MIN_PROMINENCE_M_S2)
    if len(mx) < 2:
        return 0
    prom = meta["prominences"]
    keep = mx[prom > 0.75 * np.median(prom)]
    mn, _ = find_peaks(-x, prominence=0.75 * np.median(prom))
    if len(keep) == 0 or len(mn) < 2:
        return 0
    k = np.searchsorted(mn, keep)
    ok = (k > 0) & (k < len(mn))  # a minimum on each side
    if not ok.any():
        return 0
    rise = (keep[ok] - mn[k[ok] - 1]).astype(float)
    fall = (mn[k[ok]] - keep[ok]).astype(float)
    r_med, f_med = np.median(rise), np.median(fall)
    if r_med == f_med and len(keep) > 1:
        spacing = np.median(np.diff(keep))
        r_med = np.mean(rise[rise < 1.25 * spacing]) if (rise < 1.25 * spacing).any() else r_med
        f_med = np.mean(fall[fall < 1.25 * spacing]) if (fall < 1.25 * spacing).any() else f_med
    return -1 if r_med < f_med else 1


def braking_forward_sign(a: np.ndarray, ic_index: np.ndarray, *, sampling_rate_hz: float) -> int:
    """+1 if ``a`` is forward-positive, judged by braking right after each IC; -1 if not; 0 if no IC fits.

    The median over ICs of (mean of ``a`` over the ``RUN_BRAKING_WINDOW_S``
    after the IC) minus (mean over the same time before it) is negative on the
    forward axis.  Sound only when the IC is well timed (running's landing impact).
    """
    fs = sampling_rate_hz
    win = max(2, int(RUN_BRAKING_WINDOW_S * fs))
    i = np.asarray(ic_index, np.int64)
    i = i[(i - win >= 0) & (i + win <= len(a))]
    if len(i) == 0:
        return 0
    cum = np.concatenate([[0.0], np.cumsum(a)])
    diffs = (cum[i + win] - 2 * cum[i] + cum[i - win]) / win
    return -1 if np.median(diffs) > 0 else 1


def trunk_frame(up: np.ndarray, fwd: np.ndarray, *, up_source: str, forward_source: str,
                reference_s: tuple[float, float] | None) -> BodyFrame:
    up = unit(up)
    fwd = unit(fwd - np.dot(fwd, up) * up)
    left = np.cross(up, fwd)
    return BodyFrame(np.vstack([fwd, left, up]), up_source, forward_source, reference_s)


def foot_frame(acc: np.ndarray, gyr: np.ndarray | None, *, sampling_rate_hz: float) -> BodyFrame:
    """Body frame of a shoe sensor (see module docstring)."""
    fs = sampling_rate_hz
    norm = np.linalg.norm(acc, axis=1)
    if gyr is not None:
        gn = np.linalg.norm(gyr, axis=1)
        quiet = (gn < np.quantile(gn, 0.2)) & (np.abs(norm - GRAVITY_M_S2) < 1.0)
    else:
        quiet = still_mask(acc, None, sampling_rate_hz=fs, window_s=0.2)
    if quiet.sum() < 5:
        quiet = np.abs(norm - GRAVITY_M_S2) < 1.0
    up = unit(acc[quiet].mean(axis=0))
    if gyr is None:
        e1, _ = horizontal_basis(up)
        return BodyFrame(np.vstack([e1, np.cross(up, e1), up]), "foot flat", "unknown (no gyroscope)")
    moving = np.linalg.norm(gyr, axis=1) > 1.0
    g = gyr[moving] if moving.sum() > 10 else gyr
    w, v = np.linalg.eigh(g.T @ g)
    left = v[:, -1]
    left = unit(left - np.dot(left, up) * up)
    if foot_pitch_sign(gyr @ left, np.linalg.norm(gyr, axis=1), sampling_rate_hz=fs) < 0:
        left = -left
    fwd = np.cross(left, up)
    return BodyFrame(np.vstack([fwd, left, up]), "foot flat", "foot pitches toe-down between stances")


def foot_pitch_sign(omega_rad_s: np.ndarray, gyr_norm_rad_s: np.ndarray, *, sampling_rate_hz: float,
                    min_swing_rad_s: float = 2.0) -> float:
    """+1 if ``omega_rad_s`` is toe-down positive, -1 if it is the other way round.

    Stance points: the quietest instant (smoothed angular-rate norm) of each
    stride-long window that holds gait, the windows sliding by a quarter of
    the stride (period from the autocorrelation of the norm), points closer
    than half a stride merged (the quieter kept).  A stride-long window
    always holds a whole stance, so its quietest instant is a flat foot (or
    standing), never the dip of the norm where the sagittal rate changes sign
    in push-off or swing.  Between two consecutive stance points about a
    stride apart, with a swing between them, the pitch, integrated from
    ``omega`` with the drift removed (flat foot at both ends), is mostly
    toe-down: the sign of its mean, summed over all strides, is the answer.
    A rule read from the stance right after still standing fails when the
    quietest fifth of the recording is all standing (ipol_gait, see
    bench/RESULTS.md), so it looks at every stride instead.  The windows
    used to be laid end to end from the first sample: a recording of two or
    three strides (ipol_gait cut to 3 s, bench/unseen.py) then held one
    stance point, nothing was decided and the sign was a coin toss (15 of
    104 feet wrong).  Returns +1 when nothing can be decided.
    """
    from analysis.signals import dominant_frequency_hz

    fs = sampling_rate_hz
    w = max(1, int(round(0.06 * fs)))
    smooth = np.convolve(gyr_norm_rad_s, np.ones(w) / w, mode="same")
    moving = smooth > min_swing_rad_s
    if moving.sum() < 0.5 * fs:  # less than about one swing
        return 1.0
    stride_hz = dominant_frequency_hz(smooth, sampling_rate_hz=fs, fmin_hz=0.35, fmax_hz=2.5)
    if not np.isfinite(stride_hz):
        return 1.0
    period = int(round(fs / stride_hz))
    n = len(smooth)
    starts = np.unique(np.r_[np.arange(0, max(n - period, 0) + 1, max(1, period // 4)), max(n - period, 0)])
    stance: list[int] = []
    for a in starts:
        seg = smooth[a:a + period]
        if seg.max() <= 2 * min_swing_rad_s:  # no gait in this window
            continue
        m = int(a + np.argmin(seg))
        if stance and m - stance[-1] < 0.5 * period:
            if smooth[m] < smooth[stance[-1]]:
                stance[-1] = m
        elif not stance or m > stance[-1]:
            stance.append(m)
    total = 0.0
    for a, b in zip(stance[:-1], stance[1:]):
        if not 0.5 * period <= b - a <= 1.6 * period or smooth[a:b].max() <= 2 * min_swing_rad_s:
            continue  # not one stride, or no swing in it
        theta = np.cumsum(omega_rad_s[a:b + 1]) / fs
        theta -= np.linspace(0.0, theta[-1], len(theta))
        total += theta.mean()
    return -1.0 if total < 0 else 1.0
