"""Sensor-to-body alignment without a careful mount.

The user never types an axis.  Up comes from gravity; forward comes from the
direction of travel, read from the gait itself:

* **Trunk (lower back, chest).**  Up: the mean specific force during a still
  standing period (the runner's own upright reference); if the recording has
  none, the mean over the gait (then trunk lean cannot be reported relative to
  standing).  Forward: the horizontal direction of the acceleration component
  that repeats every step (left and right steps alike), i.e. the principal
  axis of ``h(t) + h(t + T_step)`` where the sideways sway, which alternates
  sign from step to step, cancels.  Its sign: the body brakes right after
  each initial contact (the fore-aft acceleration drops across IC), in
  walking and in running alike.
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
                       first_gait_index: int, min_duration_s: float = 3.0, max_tilt_deg: float = 30.0) -> tuple[np.ndarray, tuple[int, int]] | None:
    """Upright standing reference: the still period nearest before the gait.

    A still period counts as standing when its gravity direction is within
    ``max_tilt_deg`` of the mean gait direction (lying is ~90° away; sitting
    tilts the pelvis back by 20–40°, see tests).  Returns (up vector, index
    range) or None.
    """
    fs = sampling_rate_hz
    periods = runs(still_mask(acc, gyr, sampling_rate_hz=fs), int(min_duration_s * fs))
    best = None
    for a, b in periods:
        up = unit(acc[a:b].mean(axis=0))
        tilt = np.degrees(np.arccos(np.clip(np.dot(up, unit(gait_up)), -1, 1)))
        if tilt > max_tilt_deg:
            continue
        # nearest before the gait first, then nearest after it
        key = (0, first_gait_index - b) if b <= first_gait_index + fs else (1, a - first_gait_index)
        if best is None or key < best[0]:
            best = (key, up, (a, b))
    return None if best is None else (best[1], best[2])


def trunk_forward(acc: np.ndarray, up: np.ndarray, ic_index: np.ndarray, *, sampling_rate_hz: float) -> tuple[np.ndarray, str]:
    """Forward direction (sensor frame) of a trunk sensor from its gait.

    ``ic_index``: sample indices of initial contacts inside ``acc``.
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
    win = max(2, int(0.1 * fs))
    i = np.asarray(ic_index, np.int64)
    i = i[(i - win >= 0) & (i + win <= len(a_ap))]
    if len(i) == 0:
        return fwd, "unknown"
    cum = np.concatenate([[0.0], np.cumsum(a_ap)])
    diffs = (cum[i + win] - 2 * cum[i] + cum[i - win]) / win
    if np.median(diffs) > 0:
        fwd = -fwd
    return fwd, "braking after initial contact"


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
