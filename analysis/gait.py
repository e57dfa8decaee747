"""Gait events from a lower-back or a shoe sensor.

Timing diagram (one foot; the other is half a stride later)::

        IC            FC                     IC
        |<-- contact -->|<---- flight / swing ---->|
        |<----------------- stride ------------------>|
    step time = time between consecutive ICs of either foot
    cadence   = 60 / step time  (steps per minute)

Lower back (:class:`LowerBackGait`)
    Vertical specific force ``f_v`` (acceleration along gravity, 1 g at rest).
    Each step has one stance peak.  A step is *running* when ``f_v`` falls
    close to free fall (< ``flight_g``) before it (a flight phase); walking
    never leaves the ground.

    * Walking: ``f_v`` smoothed with a Gaussian of ``walk_sigma_s`` (after
      McCamley et al. 2012, Gait Posture 36:316); IC at the steepest rise of
      the smoothed signal before its stance peak, the onset of loading
      (``walk_ic_at="steepest-rise"``; ``"peak"`` takes the peak itself, as
      McCamley's first wavelet step does — 40–60 ms late on both ipol_gait
      and mobgap_lab, see bench/RESULTS.md); FC at the steepest fall that
      follows (the second wavelet step).  In walking the FC after an
      IC is the other foot's toe-off; a foot's own FC follows the next IC.
    * Running: spring-mass half-sine model of stance (Morin et al. 2005).
      Where the stance hump crosses half its height above the flight
      baseline, at ``t_rise`` and ``t_fall`` (``D = t_fall - t_rise``), a
      half-sine gives contact time ``1.5 D`` and IC = ``t_rise - D/4``,
      FC = ``t_fall + D/4``.
    * Left/right: the pelvis rolls toward the swing side just after IC
      (contralateral pelvic drop): positive roll rate about +x after a left
      IC.  Without a gyroscope, the sideways acceleration points toward the
      midline (to the right after a left IC).  Steps alternate, so the side of
      every step in a bout comes from one majority vote over the bout.

Shoe (:class:`ShoeGait`)
    Angular rate about the foot's left axis ``ω`` (toe down positive).  Each
    swing is a large negative ``ω`` peak (toe coming up).  IC: the first
    upward zero crossing of ``ω`` after the swing peak (the foot stops
    rotating toe-up when the heel lands; Sabatini et al. 2005, IEEE TBME
    52:486).  Known limit: a forefoot landing keeps rotating toe-up after
    contact, so its IC comes late (at foot-flat); not validated on real
    forefoot data (none is available here).  FC: the positive ``ω`` peak (fastest plantarflexion,
    push-off) before the swing peak.  Mid-stance: least angular rate between
    IC and the next FC.  Accelerometer only: IC at the impact peak of the
    acceleration norm; no FC.
"""

from __future__ import annotations

import numpy as np
from scipy import signal
from scipy.ndimage import gaussian_filter1d

from analysis.constants import GRAVITY_M_S2 as G
from analysis.signals import crossing_time, lowpass


class LowerBackGait:
    """Detect steps, IC, FC and gait type from vertical specific force.

    Parameters
    ----------
    walk_sigma_s
        Gaussian smoothing for walking IC/FC (McCamley's wavelet scale).
    flight_g
        A step whose preceding minimum of ``f_v`` (8 Hz low-pass) is below this
        fraction of g had a flight phase: running.
    min_step_s, max_step_s
        Plausible step times; peaks closer than ``min_step_s`` are one step.

    Attributes (after :meth:`detect`, sample indices as floats)
    ----------
    ic_, fc_ : initial and final contact of each step (fc_ of the same foot)
    running_ : bool per step
    """

    def __init__(self, walk_sigma_s: float = 0.04, flight_g: float = 0.45, min_step_s: float = 0.22,
                 max_step_s: float = 1.5, min_peak_prominence_g: float = 0.15, walk_ic_at: str = "steepest-rise"):
        self.walk_ic_at = walk_ic_at
        self.walk_sigma_s = walk_sigma_s
        self.flight_g = flight_g
        self.min_step_s = min_step_s
        self.max_step_s = max_step_s
        self.min_peak_prominence_g = min_peak_prominence_g

    def detect(self, f_v_m_s2: np.ndarray, *, sampling_rate_hz: float) -> "LowerBackGait":
        fs = sampling_rate_hz
        fv = np.asarray(f_v_m_s2, float)
        n = len(fv)
        s8 = lowpass(fv, 8.0, sampling_rate_hz=fs) if n > 30 else fv
        peaks, _ = signal.find_peaks(
            s8, height=1.05 * G, prominence=self.min_peak_prominence_g * G, distance=max(1, int(self.min_step_s * fs)))
        sig = self.walk_sigma_s * fs
        smooth = gaussian_filter1d(fv, sig)
        slope = np.gradient(smooth)
        ic, fc, running = [], [], []
        prev = None
        for p in peaks:
            lo = int(max(0, p - self.max_step_s * fs if prev is None else prev))
            before_min = s8[lo:p].min() if p > lo else s8[p]
            is_run = before_min < self.flight_g * G
            if is_run:
                base = np.median(s8[lo:p][s8[lo:p] < (self.flight_g * G)]) if p > lo else 0.0
                half = base + 0.5 * (s8[p] - base)
                w = int(0.4 * fs)
                # last rising crossing before the peak, first falling after it
                seg = s8[max(0, p - w):p + 1] - half
                up = np.flatnonzero((seg[:-1] < 0) & (seg[1:] >= 0))
                t_rise = None
                if len(up):
                    k = up[-1]
                    t_rise = max(0, p - w) + k + seg[k] / (seg[k] - seg[k + 1])
                t_fall = crossing_time(s8, half, p, p + w, rising=False)
                if t_rise is None or t_fall is None:
                    prev = p
                    continue
                d = t_fall - t_rise
                ic.append(t_rise - d / 4)
                fc.append(t_fall + d / 4)
            else:
                w = int(0.25 * fs)
                a = max(0, p - w)
                b = min(n, p + int(0.1 * fs))
                k = a + int(np.argmax(smooth[a:b]))
                if self.walk_ic_at == "steepest-rise":
                    k0 = max(0, k - w)
                    k = k0 + int(np.argmax(slope[k0:k + 1]))
                # FC: steepest fall after the peak (other foot's toe-off)
                c = min(n, k + int(0.35 * fs))
                f = k + int(np.argmin(slope[k:c])) if c > k + 1 else np.nan
                ic.append(float(k))
                fc.append(float(f))
            running.append(is_run)
            prev = p
        ic = np.asarray(ic, float)
        fc = np.asarray(fc, float)
        running = np.asarray(running, bool)
        # drop duplicates (two peaks resolving to one IC)
        if len(ic) > 1:
            keep = np.concatenate([[True], np.diff(ic) > 0.5 * self.min_step_s * fs])
            ic, fc, running = ic[keep], fc[keep], running[keep]
        # walking: a foot's own FC is the toe-off detected after the next IC
        own_fc = fc.copy()
        for i in range(len(ic)):
            if not running[i]:
                nxt = i + 1
                ok = nxt < len(ic) and not running[nxt] and (ic[nxt] - ic[i]) < self.max_step_s * fs
                own_fc[i] = fc[nxt] if ok else np.nan
        self.ic_ = ic
        self.fc_ = own_fc
        self.running_ = running
        return self


def assign_sides_trunk(ic: np.ndarray, bout_id: np.ndarray, *, gyr_fwd: np.ndarray | None, acc_left: np.ndarray,
                       sampling_rate_hz: float, window_s: float = 0.15) -> np.ndarray:
    """'left'/'right' per step from the trunk's roll (or sideways acceleration)."""
    fs = sampling_rate_hz
    w = max(2, int(window_s * fs))
    score = np.zeros(len(ic))
    for k, i in enumerate(ic.astype(int)):
        if gyr_fwd is not None:
            score[k] = gyr_fwd[i:i + w].mean() if i + w <= len(gyr_fwd) else 0.0
        else:
            score[k] = -acc_left[i:i + w].mean() if i + w <= len(acc_left) else 0.0
    sides = np.empty(len(ic), dtype=object)
    for b in np.unique(bout_id):
        idx = np.flatnonzero(bout_id == b)
        alt = np.where(np.arange(len(idx)) % 2 == 0, 1.0, -1.0)
        vote = np.sum(alt * score[idx])
        first_left = vote > 0
        sides[idx] = np.where((alt > 0) == first_left, "left", "right")
    return sides


class ShoeGait:
    """Detect strides of one foot from a shoe sensor (body frame).

    Parameters
    ----------
    min_swing_rad_s
        Smallest swing peak of the sagittal angular rate counted as a stride.
    min_stride_s
        Strides shorter than this are not strides.

    Attributes (after :meth:`detect`, sample indices as floats)
    ----------
    ic_, fc_, ms_ : initial contact, final contact (same stride), mid-stance
    """

    def __init__(self, min_swing_rad_s: float = 2.0, min_stride_s: float = 0.45):
        self.min_swing_rad_s = min_swing_rad_s
        self.min_stride_s = min_stride_s

    def detect(self, acc_body_m_s2: np.ndarray, gyr_body_rad_s: np.ndarray | None, *,
               sampling_rate_hz: float) -> "ShoeGait":
        fs = sampling_rate_hz
        if gyr_body_rad_s is None:
            return self._detect_acc_only(acc_body_m_s2, fs)
        omega = gyr_body_rad_s[:, 1]
        om = lowpass(omega, 25.0, sampling_rate_hz=fs) if fs > 60 else omega
        height = max(self.min_swing_rad_s, 0.3 * np.quantile(-om, 0.995))
        swings, _ = signal.find_peaks(-om, height=height, distance=int(self.min_stride_s * fs))
        gnorm = np.linalg.norm(gyr_body_rad_s, axis=1)
        ic, fc, ms = [], [], []
        for k, sp in enumerate(swings):
            nxt = swings[k + 1] if k + 1 < len(swings) else len(om)
            prv = swings[k - 1] if k > 0 else max(0, sp - int(1.5 * fs))
            t_ic = crossing_time(om, 0.0, sp, nxt, rising=True)
            # push-off: largest positive rate in the stance before this swing
            a = int(prv + 0.5 * (sp - prv))
            f = a + int(np.argmax(om[a:sp])) if sp > a + 1 else np.nan
            fc.append(float(f) if k > 0 else np.nan)
            ic.append(np.nan if t_ic is None else t_ic)
        ic = np.asarray(ic)
        fc = np.asarray(fc)
        # stride k: IC after swing k, FC = push-off before swing k+1
        ic_out, fc_out, ms_out = [], [], []
        for k in range(len(ic)):
            if not np.isfinite(ic[k]):
                continue
            f = fc[k + 1] if k + 1 < len(fc) else np.nan
            if np.isfinite(f) and (f - ic[k]) > 1.2 * fs:
                f = np.nan
            i0 = int(ic[k])
            i1 = int(f) if np.isfinite(f) else min(len(gnorm), i0 + int(0.3 * fs))
            m = i0 + int(np.argmin(gnorm[i0:i1])) if i1 > i0 + 1 else np.nan
            ic_out.append(ic[k])
            fc_out.append(f)
            ms_out.append(float(m))
        self.ic_ = np.asarray(ic_out)
        self.fc_ = np.asarray(fc_out)
        self.ms_ = np.asarray(ms_out)
        return self

    def _detect_acc_only(self, acc, fs):
        norm = np.linalg.norm(acc, axis=1)
        pk, _ = signal.find_peaks(norm, height=2.5 * G, distance=int(self.min_stride_s * fs), prominence=1.0 * G)
        self.ic_ = pk.astype(float)
        self.fc_ = np.full(len(pk), np.nan)
        self.ms_ = np.full(len(pk), np.nan)
        return self


def vertical_oscillation_m(f_v_m_s2: np.ndarray, ic: np.ndarray, *, sampling_rate_hz: float) -> np.ndarray:
    """Peak-to-peak vertical displacement of the sensor in each step (IC to next IC).

    Double integration over one step, assuming equal height and vertical
    velocity at both ICs (steady gait): the mean is removed before each
    integration and the linear trend after.
    """
    fs = sampling_rate_hz
    out = np.full(len(ic), np.nan)
    for k in range(len(ic) - 1):
        a, b = int(round(ic[k])), int(round(ic[k + 1]))
        if b - a < 5:
            continue
        acc = f_v_m_s2[a:b + 1] - G
        acc = acc - acc.mean()
        v = np.cumsum(acc) / fs
        v -= v.mean()
        p = np.cumsum(v) / fs
        p -= np.linspace(p[0], p[-1], len(p))
        out[k] = p.max() - p.min()
    return out
