"""Gait events from a lower-back or a shoe sensor.

Timing diagram (one foot; the other is half a stride later)::

        IC            FC                     IC
        |<-- contact -->|<---- flight / swing ---->|
        |<----------------- stride ------------------>|
    step time = time between consecutive ICs of either foot
    cadence   = 120 / stride time (steps per minute; two steps, so that
                left/right timing biases cancel; 60 / step time for a lone step)

Lower back (:class:`LowerBackGait`)
    Vertical specific force ``f_v`` (acceleration along gravity, 1 g at rest).
    Each step has one stance peak.  A step is *running* when ``f_v`` falls
    close to free fall (< ``flight_g``) before it (a flight phase); walking
    never leaves the ground.

    * Walking: ``f_v`` smoothed with a Gaussian of ``walk_sigma_s`` (after
      McCamley et al. 2012, Gait Posture 36:316); IC at the steepest rise of
      the smoothed signal before its stance peak, the onset of loading, or
      before the heel-contact hump that comes first on walkers whose loading
      peak is late (:func:`_first_hump_rise`) (``walk_ic_at="steepest-rise"``;
      ``"peak"`` takes the peak itself, as McCamley's first wavelet step
      does — 40–60 ms late on both ipol_gait and mobgap_lab, see
      bench/RESULTS.md; ``"cwt"`` is McCamley's rule as
      published: integrate, differentiate by a ``gaus1`` CWT at the 1.25 Hz
      scale, IC at its extremum near each detected step — a 113 ms Gaussian
      smoothing, 65–70 ms late on both data sets, kept for comparison only).
      Once the forward axis is known, the analysis moves each walking IC
      halfway to the forward-acceleration peak at heel contact (Zijlstra &
      Hof 2003; :func:`walking_ic_forward`): the loading onset is up to
      80 ms early on some walkers, the forward peak unreliable on others.
      FC (this class, from ``f_v`` alone) at the steepest fall that
      follows (the second wavelet step).  In walking the FC after an
      IC is the other foot's toe-off; a foot's own FC follows the next IC.
      The analysis replaces the walking FC by :func:`walking_fc_forward`
      once the forward axis is known: the steepest fall lands on two
      different events depending on the walker (ipol_gait +60 ms, mobgap_lab
      −60 ms median signed error; the forward-acceleration rule 20 / 40 ms).
      A walk from standing does not begin with the stance peak of its
      gait-initiation weight shift, which comes about a swing time before the
      first heel contact (:func:`_gait_initiation_shifts`).
    * Running: contact begins where the loading edge of ``f_v`` leaves the
      flight level and ends where the unloading edge returns to it, each
      edge extended along its steepest tangent (onset by tangent, the usual
      reading of a force onset).  On the spring-mass half-sine (Morin et al.
      2005) this is exact; unlike a half-height rule it does not assume the
      pulse's shape (a hip sensor's pulse rises much faster than a half-sine:
      adept_running, bench/RESULTS.md).  Cadence is taken over the stride
      (two steps, see analysis.pipeline), which cancels the opposite timing
      biases of left and right steps seen by a sensor at one side of the pelvis.
    * Left/right: with a gyroscope, from the value at each IC of the yaw
      rate minus the roll rate, band-passed 0.5–2 Hz (McCamley et al. 2012
      as improved by Ullrich et al. 2021; mobgap ``LrcMcCamley``), read
      together with the alternation of steps: the most probable sequence of
      sides given every step's reading, where consecutive steps usually
      alternate (:func:`_alternating_sides`), so a weak contrary reading does
      not flip one step and a missed or extra IC does not flip the steps
      after it.  Without the
      yaw rate or a gyroscope, steps alternate within each bout, its parity
      voted by the roll rate (the pelvis rolls toward the swing side after
      IC) or by the sideways acceleration, which points toward the midline
      (to the right after a left IC).

Shoe (:class:`ShoeGait`)
    Angular rate about the foot's left axis ``ω`` (toe down positive).  Each
    swing is a large negative ``ω`` peak (toe coming up).  IC: the first
    upward zero crossing of ``ω`` after the swing peak (the foot stops
    rotating toe-up when the heel lands; Sabatini et al. 2005, IEEE TBME
    52:486).  Swings are found on a 5 Hz low-pass of ``ω`` (a foot slap's
    rebound is as tall as a swing on dorsal sensors, but lasts 30 ms); the
    first and last swings of a bout are weak and count when their toe-up
    lobe turns the foot by ``min_swing_deg``.  Running strides (duty factor
    < 0.5): the leg retracts before landing, so the zero crossing comes in
    the air (29 ms before force-plate contact, Falbriard et al. 2018, Front.
    Physiol. 9:610); a heel or flat landing's IC is the fastest rise of the
    toe-down rate after it, where the foot begins to slap down (their
    ``k5``: 4 ms from contact, :meth:`ShoeGait._slap_onset`).  A forefoot
    landing keeps rotating toe-up after contact, so the
    zero crossing is foot-flat; when the landing impact (a spike of jerk)
    comes before the zero crossing, IC is at the impact.  A foot that stops
    turning in the air has its zero crossing before the landing: with no
    impact near the crossing, the first within ``hover_search_s`` after it is
    the IC if the foot barely turned until then.  Validated on simulated
    running only (no real running data with a gyroscope here).  FC: the
    positive ``ω`` peak (fastest plantarflexion,
    push-off) before the swing peak.  Mid-stance: least angular rate between
    IC and the next FC.  A segment that starts inside a swing (the recording
    began mid-walk) keeps that swing's IC: the first upward zero crossing of
    ``ω``, when the toe-up rotation before it is a swing's (batch only, see
    :meth:`ShoeGait.detect_filtered`).

    Accelerometer only (no ``ω``: no FC, no strike angle): strides are
    segmented by their foot-flat periods, found as in zero-velocity detection
    for foot-mounted inertial navigation (Skog et al. 2010, IEEE TBME 57:2657,
    the moving-variance detector): while the foot is flat the sensor is still,
    so the specific force stays at gravity with little spread over
    ``flat_window_s``.  Each stride has one foot-flat period; its quietest
    instant is the mid-stance.  Between two mid-stances lie the push-off
    (just after the first) and the swing's end with the landing impact (just
    before the second), both large peaks of ``|a|``; IC is the impact: the
    largest ``|a|`` in the later half of the interval, timed at the onset of
    its jerk (largest ``|da/dt|`` within ``impact_search_s`` before the peak).
    Picking every ``|a|`` peak instead also takes the push-offs (ipol_gait:
    F1 0.66).  A walk's stride whose stance never got as quiet as a
    foot-flat (a restless sensor) gets its quietest instant about one
    stride after the last foot-flat instead (:meth:`ShoeGait._missed_flats`).
    Validated on walking (ipol_gait feet F1 0.967 / 25 ms, gaitmap_example
    1.000 / 22 ms, gyroscope dropped).  Running has no
    foot-flat: where no foot-flat lies within ``no_flat_s`` of a landing-sized
    ``|a|`` peak (≥ 2.5 g), that peak is the IC (adept_running's shoe against
    the hip: 99.8 % of its impacts paired with a hip step within ±50 ms).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import signal
from scipy.ndimage import gaussian_filter1d, uniform_filter1d

from analysis.constants import GRAVITY_M_S2 as G
from analysis.signals import butter_sos, crossing_time, lowpass

#: Shoe: a push-off more than this after an IC ends no stance of that IC (the
#: last stride of a bout has none).
SHOE_MAX_STANCE_S = 1.2


#: Terminal-step search (LowerBackGait.terminal_prominence_g): runs of at least this many walking steps, and
#: where after the run's last stance peak, in units of its median step.
TERMINAL_MIN_RUN_STEPS = 4
TERMINAL_STEP_RANGE = (0.6, 1.5)

#: Walking IC when heel contact has its own hump (:func:`_first_hump_rise`): on some walkers the trunk's
#: loading peak comes 150–200 ms after heel contact, which shows as a small hump of ``f_v`` at contact and a
#: dip before the loading peak (ipol_gait subjects 2 and 6, on one foot).  A local maximum of the smoothed
#: ``f_v`` in the search span before the stance peak is such a hump when it stands at least
#: ``WALK_IC_HUMP_RISE_G`` above the least value before it and at least ``WALK_IC_HUMP_DIP_G`` above the least
#: value after it, up to the peak (a shoulder with no dip is not).  A prototype that measured the rise from the
#: span's trough was checked at (0.03, 0.02), (0.05, 0.03), (0.08, 0.03), (0.1, 0.05) g: none worse than without
#: on odd or even ipol_gait subjects or on mobgap_lab (bench/RESULTS.md).
WALK_IC_HUMP_RISE_G = 0.05
WALK_IC_HUMP_DIP_G = 0.03

#: Gait initiation (:func:`_gait_initiation_shifts`): from quiet standing the trunk is first loaded by the
#: weight shift onto the stance foot as the swing foot pushes off, about one swing time before the first heel
#: contact.  A swing is ~40 % of the gait cycle and a step 50 % (Perry & Burnfield, *Gait Analysis*), so that
#: stance peak comes ~0.8 of a step before the first IC, where a true first IC is a whole step before the
#: next.  The first detection of a walk (``max_step_s`` or more after anything before it, and after at least
#: ``max_step_s`` of recording) is dropped when the next ``GAIT_INITIATION_STEPS`` step times are steady
#: (standard deviation below ``GAIT_INITIATION_STEADY_CV`` of their median) and it comes less than
#: ``GAIT_INITIATION_STEP_RATIO`` of that median before the next detection.  Steady: healthy step-time
#: variability is a few per cent; irregular daily-living steps (mobgap_lab) give no step time to compare with.
GAIT_INITIATION_STEP_RATIO = 0.85
GAIT_INITIATION_STEADY_CV = 0.10
GAIT_INITIATION_STEPS = 5


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
    walk_ic_at
        Walking IC rule: ``"steepest-rise"`` (default), ``"peak"`` or ``"cwt"``
        (see the module docstring).
    walk_cwt_freq_hz
        ``"cwt"`` only: pseudo-frequency of the ``gaus1`` scale (McCamley: 1.25 Hz).
    terminal_prominence_g
        The last step of a walk (a run of at least :data:`TERMINAL_MIN_RUN_STEPS`
        walking steps) is looked for again with this smaller prominence: the body
        brakes on it and loads the trunk less (gait termination), and its stance
        peak fell under ``min_peak_prominence_g`` on 29 of the 36 walks whose
        last step ipol_gait's detector missed.  Chosen on odd ipol subjects
        (0.966 → 0.973 F1), held out: even subjects 0.942 → 0.948, mobgap_lab
        unchanged, running unchanged (bench/RESULTS.md).

    Attributes (after :meth:`detect`, sample indices as floats)
    ----------
    ic_, fc_ : initial and final contact of each step (fc_ of the same foot)
    running_ : bool per step
    """

    def __init__(self, walk_sigma_s: float = 0.04, flight_g: float = 0.45, min_step_s: float = 0.22,
                 max_step_s: float = 1.5, min_peak_prominence_g: float = 0.15, walk_ic_at: str = "steepest-rise",
                 walk_cwt_freq_hz: float = 1.25, terminal_prominence_g: float = 0.05):
        if walk_ic_at not in ("steepest-rise", "peak", "cwt"):
            raise ValueError(f"LowerBackGait walk_ic_at={walk_ic_at!r}: expected 'steepest-rise', 'peak' or 'cwt'")
        self.walk_ic_at = walk_ic_at
        self.walk_cwt_freq_hz = walk_cwt_freq_hz
        self.walk_sigma_s = walk_sigma_s
        self.flight_g = flight_g
        self.min_step_s = min_step_s
        self.max_step_s = max_step_s
        self.min_peak_prominence_g = min_peak_prominence_g
        self.terminal_prominence_g = terminal_prominence_g

    def _with_terminal_steps(self, s8: np.ndarray, peaks: np.ndarray, fs: float) -> np.ndarray:
        """``peaks`` plus the weak last stance peak of each walking run, where there is one.

        After a run of at least :data:`TERMINAL_MIN_RUN_STEPS` stance peaks with no flight
        between them (walking), the first peak of the 8 Hz ``f_v`` at least 1.05 g high and
        ``terminal_prominence_g`` prominent, 0.6–1.5 of the run's median step after its last
        peak, with no flight before it.  Only once the signal goes on ``max_step_s`` past it:
        a live search span whose end looks like the end of a walk adds nothing it may have
        to take back.  In practice the live detector never adds one: its search spans
        (about 2.3 s) are shorter than four steps, the candidate and 1.5 s after it, so a
        live walk ends one (weak) step earlier than the batch analysis of it.
        """
        if len(peaks) < TERMINAL_MIN_RUN_STEPS or self.terminal_prominence_g >= self.min_peak_prominence_g:
            return peaks
        cand, _ = signal.find_peaks(s8, height=1.05 * G, prominence=self.terminal_prominence_g * G)
        ends = np.r_[np.flatnonzero(np.diff(peaks) > self.max_step_s * fs), len(peaks) - 1]
        starts = np.r_[0, ends[:-1] + 1]
        add = []
        for a, b in zip(starts, ends):
            run = peaks[a:b + 1]
            if len(run) < TERMINAL_MIN_RUN_STEPS or np.any(np.minimum.reduceat(s8, run)[:-1] < self.flight_g * G):
                continue  # a short run, or running: unchanged
            step = np.median(np.diff(run[-5:]))
            nxt = peaks[b + 1] if b + 1 < len(peaks) else len(s8)
            lo, hi = run[-1] + TERMINAL_STEP_RANGE[0] * step, run[-1] + TERMINAL_STEP_RANGE[1] * step
            c = cand[(cand >= lo) & (cand <= hi) & (cand < nxt - self.min_step_s * fs)]
            if len(c) and c[0] + self.max_step_s * fs <= len(s8) and s8[run[-1]:c[0]].min() >= self.flight_g * G:
                add.append(c[0])
        return np.unique(np.r_[peaks, np.asarray(add, peaks.dtype)]) if add else peaks

    def detect(self, f_v_m_s2: np.ndarray, *, sampling_rate_hz: float,
               hidden: np.ndarray | None = None) -> "LowerBackGait":
        """Filter ``f_v`` (zero-phase, whole signal) and apply :meth:`detect_filtered`."""
        fs = sampling_rate_hz
        fv = np.asarray(f_v_m_s2, float)
        n = len(fv)
        s8 = lowpass(fv, 8.0, sampling_rate_hz=fs) if n > 30 else fv
        s25 = lowpass(fv, 25.0, sampling_rate_hz=fs) if n > 30 else fv
        smooth = gaussian_filter1d(fv, self.walk_sigma_s * fs)
        return self.detect_filtered(fv, s8, s25, smooth, sampling_rate_hz=fs, hidden=hidden)

    def detect_filtered(self, f_v_m_s2: np.ndarray, f_v_8hz_m_s2: np.ndarray,
                        f_v_25hz_m_s2: np.ndarray | Callable[[], np.ndarray],
                        f_v_smooth_m_s2: np.ndarray | Callable[[], np.ndarray], *,
                        sampling_rate_hz: float, drop_initiation_shifts: bool = True,
                        hidden: np.ndarray | None = None) -> "LowerBackGait":
        """The step rules on ``f_v`` and its filtered forms, which the caller made.

        The rules exist only here: :meth:`detect` calls this after filtering
        the whole signal, and the live detector
        (:class:`analysis.streaming.LiveMetrics`) after filtering its short
        search span incrementally.  The results depend on the filters only
        through the arrays given.

        Parameters
        ----------
        f_v_m_s2
            (n,) vertical specific force (``"cwt"`` walking IC rule only).
        f_v_8hz_m_s2
            (n,) its 8 Hz low-pass (stance peaks, flight minima).
        f_v_25hz_m_s2
            (n,) its 25 Hz low-pass (running IC); or a callable returning it,
            called only when a running step needs it.
        f_v_smooth_m_s2
            (n,) its Gaussian smoothing of ``walk_sigma_s`` (walking IC and
            FC); or a callable returning it, called only when a walking step
            needs it.
        drop_initiation_shifts
            Drop a walk's gait-initiation weight shift (:func:`_gait_initiation_shifts`), which needs the
            steady steps after it.  The live detector passes False: it accepts steps as they come and
            cannot take one back, so a live walk keeps its first detection.
        hidden
            (n,) bool, True on samples interpolated over a gap that can hide a gait event
            (:attr:`sensing.recording.Segment.hidden`).  A step with no flight seen before it, whose span
            since the previous stance peak holds such samples, may have had its flight there: it runs
            when the nearest steps whose flight was seen (or is known absent) before and after it run.
        """
        fs = sampling_rate_hz
        s8 = f_v_8hz_m_s2
        n = len(s8)
        peaks, _ = signal.find_peaks(
            s8, height=1.05 * G, prominence=self.min_peak_prominence_g * G, distance=max(1, int(self.min_step_s * fs)))
        peaks = self._with_terminal_steps(s8, peaks, fs)
        m = len(peaks)
        ic = np.full(m, np.nan)
        fc = np.full(m, np.nan)
        # running: the least f_v since the previous stance peak is near free fall
        before_min = np.empty(m)
        if m:
            first_lo = int(max(0, peaks[0] - self.max_step_s * fs))
            before_min[0] = s8[first_lo:peaks[0]].min() if peaks[0] > first_lo else s8[peaks[0]]
            if m > 1:
                before_min[1:] = np.minimum.reduceat(s8, peaks)[:-1]
        running = before_min < self.flight_g * G
        seen_running = running
        if hidden is not None and m and not running.all():
            lo = np.maximum(np.concatenate([[first_lo], peaks[:-1]]), peaks - int(self.max_step_s * fs))
            running = _flight_hidden_in_gap(running, peaks, lo, np.asarray(hidden, bool))
        r = np.flatnonzero(running)
        if len(r):
            s25 = f_v_25hz_m_s2() if callable(f_v_25hz_m_s2) else f_v_25hz_m_s2
            ic[r], fc[r] = self._running_contacts(s25, np.gradient(s25), s8, peaks[r], fs)
        # a step taken for running only because its flight may be in a gap, whose contacts the running rule
        # cannot find (the flight after it lost too), is timed by the walking rule rather than lost; it stays
        # labelled running, as its neighbours are
        timed_walking = ~running | (~seen_running & ~np.isfinite(ic))
        wk = np.flatnonzero(timed_walking)
        if len(wk):
            smooth = f_v_smooth_m_s2() if callable(f_v_smooth_m_s2) else f_v_smooth_m_s2
            slope = np.gradient(smooth)
            p = peaks[wk]
            w = int(0.25 * fs)
            k = _arg_in_ranges(smooth, np.maximum(0, p - w), np.minimum(n, p + int(0.1 * fs)), np.argmax)
            if self.walk_ic_at == "cwt":
                d = _mccamley_ic_signal(np.asarray(f_v_m_s2, float), fs, self.walk_cwt_freq_hz)
                k = _arg_in_ranges(d, np.maximum(0, p - w), np.minimum(n, p + int(0.1 * fs)), np.argmax)
            elif self.walk_ic_at == "steepest-rise":
                k = _first_hump_rise(smooth, slope, k, w)
            # FC: steepest fall after the peak (other foot's toe-off)
            c = np.minimum(n, k + int(0.35 * fs))
            f = _arg_in_ranges(slope, k, np.maximum(c, k + 1), np.argmin).astype(float)
            f[c <= k + 1] = np.nan
            ic[wk] = k
            fc[wk] = f
        ok = np.isfinite(ic)
        ic, fc, running = ic[ok], fc[ok], running[ok]
        # drop duplicates (two peaks resolving to one IC)
        if len(ic) > 1:
            keep = np.concatenate([[True], np.diff(ic) > 0.5 * self.min_step_s * fs])
            ic, fc, running = ic[keep], fc[keep], running[keep]
        if drop_initiation_shifts:
            shift = _gait_initiation_shifts(ic, running, self.max_step_s * fs)
            ic, fc, running = ic[~shift], fc[~shift], running[~shift]
        # walking: a foot's own FC is the toe-off detected after the next IC
        own_fc = fc.copy()
        nxt_ok = _next_step_in_walk(ic, running, self.max_step_s * fs)
        own_fc[~running] = np.nan
        own_fc[nxt_ok] = fc[np.flatnonzero(nxt_ok) + 1]
        self.ic_ = ic
        self.fc_ = own_fc
        self.running_ = running
        return self


    def _running_contacts(self, s25, slope25, s8, p, fs):
        """(IC, FC) of the running steps whose stance peaks are at ``p`` (NaN where none).

        Contact begins where the loading edge leaves the flight baseline: the
        tangent at the steepest rise of ``f_v`` (25 Hz low-pass), extended back
        to the flight level (the minimum of the 8 Hz signal in the flight
        before, or 0 — free fall — if that minimum is below 0); contact ends
        where the tangent at the steepest fall (8 Hz) reaches the flight level
        after the stance.  Onset by tangent is the usual
        reading of a force or acceleration onset; on a spring-mass half-sine
        it gives IC and FC exactly, and unlike a half-height rule it does not
        depend on the stance pulse's shape (real hip signals rise much faster
        than a half-sine, see bench/RESULTS.md, adept_running).
        """
        n = len(s8)
        p = np.asarray(p, np.int64)
        a = np.maximum(0, p - int(0.35 * fs))
        b = np.minimum(n, p + int(0.4 * fs))
        good = (p - a >= 3) & (b - p >= 3)
        m0 = _arg_in_ranges(s8, a, np.maximum(p, a + 1), np.argmin)  # flight minimum before the stance
        m1 = _arg_in_ranges(s8, p, np.maximum(b, p + 1), np.argmin)  # flight minimum after it
        good &= (s8[m1] <= self.flight_g * G) & (m1 - m0 >= 3)
        kr = _arg_in_ranges(slope25, m0, p + 1, np.argmax)
        # the unloading edge on the 8 Hz signal, after its last stance maximum:
        # the impact transient's fast fall right after IC is not the end of contact
        local_max = np.zeros(n, bool)
        local_max[1:-1] = (s8[1:-1] >= s8[:-2]) & (s8[1:-1] >= s8[2:])
        last = _last_true_in_ranges(local_max, p + 1, m1, default=p)
        slope8 = np.gradient(s8)
        kf = _arg_in_ranges(slope8, last, m1 + 1, np.argmin)
        good &= (slope25[kr] > 0) & (slope8[kf] < 0) & (m1 > last)
        # flight level: free fall reads 0; a strap bouncing in flight can read
        # below it (adept_running's hip: -0.5 g), which is no contact level
        lvl0, lvl1 = np.maximum(s8[m0], 0.0), np.maximum(s8[m1], 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            t_ic = np.clip(kr - (s25[kr] - lvl0) / slope25[kr], m0, kr)
            t_fc = np.clip(kf + (s8[kf] - lvl1) / (-slope8[kf]), kf, m1)
        return np.where(good, t_ic, np.nan), np.where(good, t_fc, np.nan)


def _flight_hidden_in_gap(running: np.ndarray, peaks: np.ndarray, lo: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """``running`` with each step whose flight could not be seen (no flight in the samples from ``lo`` to its
    stance peak, some of them interpolated) set from its nearest seen neighbours: running when those before and
    after it both run (or the one there is, at an end)."""
    cum = np.concatenate([[0], np.cumsum(hidden)])
    unseen = ~running & (cum[peaks] - cum[np.asarray(lo)] > 0)
    if not unseen.any():
        return running
    seen = np.flatnonzero(~unseen)
    if not len(seen):
        return running
    out = running.copy()
    j = np.flatnonzero(unseen)
    k = np.searchsorted(seen, j)  # first seen step after each unseen one
    prev_run = running[seen[np.maximum(k - 1, 0)]]
    next_run = running[seen[np.minimum(k, len(seen) - 1)]]
    out[j] = np.where(k == 0, next_run, np.where(k == len(seen), prev_run, prev_run & next_run))
    return out


def _gait_initiation_shifts(ic: np.ndarray, running: np.ndarray, max_step: float) -> np.ndarray:
    """True for each walk's first detection that is its gait-initiation weight shift, not a heel contact.

    ``ic`` (sample indices, increasing) and ``running`` per detection; ``max_step`` in samples.  See
    :data:`GAIT_INITIATION_STEP_RATIO`.  A walk whose first detection is less than ``max_step`` into the
    signal is left alone (no standing was seen before it), and so is a detection less than ``max_step``
    after the one before it (inside a walk).
    """
    shift = np.zeros(len(ic), bool)
    n = GAIT_INITIATION_STEPS + 2  # the candidate, the step it precedes and that step's followers
    gap = np.diff(ic, prepend=-np.inf) > max_step
    for i in np.flatnonzero(gap & (ic >= max_step) & ~running):
        d = np.diff(ic[i:i + n])
        if len(d) < n - 1 or running[i:i + n].any() or d.max() > max_step:
            continue
        step = np.median(d[1:])
        shift[i] = d[0] < GAIT_INITIATION_STEP_RATIO * step and np.std(d[1:]) < GAIT_INITIATION_STEADY_CV * step
    return shift


def _first_hump_rise(smooth: np.ndarray, slope: np.ndarray, peak: np.ndarray, w: int) -> np.ndarray:
    """Walking IC per stance ``peak`` of ``smooth`` (its slope given): the steepest rise of loading before it.

    Searched in the ``w`` samples before the peak.  Where a heel-contact hump comes first (a local maximum
    :data:`WALK_IC_HUMP_RISE_G` above the least value before it in the span and :data:`WALK_IC_HUMP_DIP_G` above
    the least value after it up to the peak), the steepest rise from that least value to the hump; otherwise the
    steepest rise before the peak.
    """
    peak = np.asarray(peak, np.int64)
    lo = np.maximum(0, peak - w)
    out = _arg_in_ranges(slope, lo, peak + 1, np.argmax)
    for i, (a, b) in enumerate(zip(lo, peak)):
        seg = smooth[a:b + 1]
        if len(seg) < 4:
            continue
        before_min = np.minimum.accumulate(seg)
        after_min = np.minimum.accumulate(seg[::-1])[::-1]
        j = np.arange(1, len(seg) - 1)
        hump = ((seg[j] >= seg[j - 1]) & (seg[j] > seg[j + 1]) & (seg[j] - before_min[j] >= WALK_IC_HUMP_RISE_G * G)
                & (seg[j] - after_min[j] >= WALK_IC_HUMP_DIP_G * G))
        if hump.any():
            first = int(j[np.argmax(hump)])
            t0 = int(np.argmin(seg[:first + 1]))
            out[i] = a + t0 + int(np.argmax(slope[a + t0:a + first + 1]))
    return out


def _mccamley_ic_signal(fv: np.ndarray, fs: float, freq_hz: float) -> np.ndarray:
    """McCamley et al. 2012 (Gait Posture 36:316) / Pham et al. 2017 IC signal, sign-flipped.

    The vertical acceleration (mean removed) is integrated to velocity and
    differentiated by a continuous wavelet transform with the ``gaus1``
    wavelet (first derivative of a Gaussian) at the scale whose pseudo-frequency
    is ``freq_hz`` (McCamley: 1.25 Hz; ``gaus1``'s centre frequency is 0.2, so
    scale = 0.2 fs / freq_hz samples, as scikit-digital-health computes it).
    ``gaus1`` at scale s is the derivative of a Gaussian of sigma s/sqrt(2)
    samples, so the transform is a Gaussian derivative filter.  The published
    ICs are the local minima of the transform (MATLAB/PyWavelets sign); this
    returns its negative, so ICs are local maxima here.
    """
    a = np.asarray(fv, float) - np.mean(fv)
    vel = np.concatenate([[0.0], np.cumsum(0.5 * (a[1:] + a[:-1]))]) / fs
    vel = signal.detrend(vel)
    scale = max(0.2 * fs / freq_hz, 1.0)
    return gaussian_filter1d(vel, scale / np.sqrt(2.0), order=1) * fs


def _next_step_in_walk(ic: np.ndarray, running: np.ndarray, max_step_samples: float) -> np.ndarray:
    """Per step: the next step is a walking step of the same walk (both walking, less than a
    ``max_step_samples`` apart), so the toe-off after the next IC is this foot's own FC."""
    walk = ~np.asarray(running, bool)
    out = np.zeros(len(ic), bool)
    if len(ic) > 1:
        out[:-1] = walk[:-1] & walk[1:] & (np.diff(ic) < max_step_samples)
    return out


#: Walking IC refinement (:func:`walking_ic_forward`): the forward-acceleration peak is searched this far
#: either side of the vertical-force IC.  Chosen on odd ipol_gait subjects (±0.05–0.2 s: F1 0.969–0.972,
#: median |error| 15 ms for all), held out on even subjects and mobgap_lab (bench/RESULTS.md).
WALK_IC_FORWARD_SEARCH_S = 0.1


def walking_ic_forward(a_fwd_m_s2: np.ndarray, ic: np.ndarray, running: np.ndarray, *,
                       sampling_rate_hz: float) -> np.ndarray:
    """Walking ICs (sample indices) moved halfway to the trunk's forward-acceleration peak at heel contact.

    Two trunk signals mark heel contact, each with its own bias.  The vertical-force IC of
    :class:`LowerBackGait` (the steepest rise of loading) comes up to 80 ms *before* heel
    contact on walkers whose push-off loads the trunk early (ipol_gait subjects 4, 8, 9: median
    −60 to −80 ms); the forward acceleration peaks at heel contact (Zijlstra & Hof 2003, Gait
    Posture 18:1 — validated against force plates), but on an irregular or impaired gait the
    largest forward peak near a step is not always that one (mobgap_lab's MS walker: 70 ms).
    Each walking IC becomes the mean of the two: the raw forward acceleration's largest value
    within ±:data:`WALK_IC_FORWARD_SEARCH_S` of the vertical IC, if it lies inside that window
    (a maximum at the window's edge is a slope, not a peak: that IC stays).  Measured (vertical /
    forward / mean, median |error|): ipol_gait 30 / 10 / 20 ms, mobgap_lab 30 / 40 / 25 ms
    (bench/RESULTS.md).  ``a_fwd_m_s2`` is body-frame x (forward, known sign).  Running ICs are
    returned unchanged (the flight-phase rule of :meth:`LowerBackGait._running_contacts`).
    """
    fs = sampling_rate_hz
    a_fwd = np.asarray(a_fwd_m_s2, float)
    out = np.asarray(ic, float).copy()
    w = ~np.asarray(running, bool) & np.isfinite(out)
    if not w.any() or len(a_fwd) < 3:
        return out
    k = out[w].astype(np.int64)
    half = int(round(WALK_IC_FORWARD_SEARCH_S * fs))
    lo, hi = np.maximum(0, k - half), np.minimum(len(a_fwd), k + half + 1)
    j = _arg_in_ranges(a_fwd, lo, np.maximum(hi, lo + 1), np.argmax)
    inside = (j > lo) & (j < hi - 1)
    out[np.flatnonzero(w)[inside]] = 0.5 * (out[w][inside] + j[inside])
    return out


#: Walking FC search after each IC, as a fraction of that step's duration: the other foot's toe-off ends
#: double support at about 10 % of the gait cycle (20 % of a step; Perry & Burnfield, Gait Analysis, 2010);
#: the window stops at 40 % of the step (20 % of the cycle), well before mid-stance.  0.6 let later
#: minima in (mobgap_lab F1 0.735 → 0.691).
WALK_FC_WINDOW_STEPS = 0.4


def walking_fc_forward(a_fwd_m_s2: np.ndarray, ic: np.ndarray, running: np.ndarray, *, sampling_rate_hz: float,
                       max_step_s: float) -> np.ndarray:
    """Each walking step's own FC (toe-off, sample index; NaN where none) from the trunk's forward acceleration.

    The signal is scikit-digital-health's FC signal (``ApCwtGaitEvents``, after McCamley et al. 2012
    and Zijlstra & Hof 2003): a ``gaus1`` CWT of the forward velocity at f = 1.17 · step frequency
    − 0.3 Hz (scale 0.2 fs / f), whose maxima are toe-offs.  ``gaus1`` at scale s is minus the
    derivative of a Gaussian of σ = s/√2, and the velocity's derivative is the acceleration, so those
    maxima are the minima of the forward acceleration smoothed with that Gaussian: the body's
    deceleration as the trailing foot leaves the ground.  SKDH picks peaks by prominence (0.6 std),
    which finds only half the toe-offs of short, irregular bouts (mobgap_lab F1 0.613); here the
    minimum is taken per step, in [IC, IC + :data:`WALK_FC_WINDOW_STEPS` · step), which is the
    other foot's toe-off.  A foot's own FC is the one after its next IC (as :class:`LowerBackGait`).
    Step frequency per walking run (consecutive walking steps less than ``max_step_s`` apart), from
    the median step time.  A window whose minimum is at its edge holds no toe-off: NaN there (the
    caller keeps the vertical-force FC).  Measured in bench/RESULTS.md ("Final contact").  Running
    entries are NaN (running contacts come from :meth:`LowerBackGait._running_contacts`).
    """
    fs = sampling_rate_hz
    a_fwd = np.asarray(a_fwd_m_s2, float)
    ic = np.asarray(ic, float)
    walk = ~np.asarray(running, bool)
    n = len(a_fwd)
    after = np.full(len(ic), np.nan)  # the toe-off after each IC (the other foot's)
    close = _next_step_in_walk(ic, running, max_step_s * fs)  # step i and i + 1 are one walking run
    start = 0
    while start < len(ic):
        if not walk[start]:
            start += 1
            continue
        end = start
        while close[end]:
            end += 1
        run = np.arange(start, end + 1)
        d = np.diff(ic[run])
        step_freq_hz = float(np.clip(fs / np.median(d), 0.4, 5.0)) if len(d) else 1.8
        a = max(0, int(ic[run[0]] - 0.5 * fs))
        b = min(n, int(ic[run[-1]] + 1.0 * fs))
        sigma = 0.2 * fs / (1.17 * step_freq_hz - 0.3) / np.sqrt(2.0)
        x = gaussian_filter1d(a_fwd[a:b], sigma)
        steps = np.r_[d, np.median(d) if len(d) else fs / step_freq_hz]
        for j, i in enumerate(run):
            lo = max(int(ic[i]) - a, 0)
            hi = min(int(ic[i] + WALK_FC_WINDOW_STEPS * steps[j]) - a, len(x))
            if hi > lo + 2:
                k = int(np.argmin(x[lo:hi]))
                if 0 < k < hi - lo - 1:  # a minimum inside the window, not its edge (a signal only falling
                    after[i] = a + lo + k  # or rising there has no toe-off in it: NaN, the caller keeps its FC)
        start = end + 1
    own = np.full(len(ic), np.nan)
    own[np.flatnonzero(close)] = after[np.flatnonzero(close) + 1]
    return own


def _arg_in_ranges(x: np.ndarray, start: np.ndarray, stop: np.ndarray, arg) -> np.ndarray:
    """Index of ``arg`` (np.argmax or np.argmin) of x[start:stop] for many ranges at once.

    Ranges must be non-empty; a padded matrix of the ranges, masked past each
    stop, replaces a Python loop over steps.
    """
    start = np.asarray(start, np.int64)
    stop = np.asarray(stop, np.int64)
    if len(start) == 0:
        return start.copy()
    width = max(1, int((stop - start).max()))
    col = np.arange(width)
    idx = start[:, None] + col[None, :]
    inside = idx < stop[:, None]
    fill = -np.inf if arg is np.argmax else np.inf
    vals = np.where(inside, x[np.minimum(idx, len(x) - 1)], fill)
    return start + arg(vals, axis=1)


def _last_true_in_ranges(mask: np.ndarray, start: np.ndarray, stop: np.ndarray, *, default: np.ndarray) -> np.ndarray:
    """Last index i in [start, stop) with mask[i], else ``default``, for many ranges at once."""
    start = np.asarray(start, np.int64)
    stop = np.asarray(stop, np.int64)
    out = np.asarray(default, np.int64).copy()
    if len(start) == 0:
        return out
    width = max(1, int((stop - start).max()))
    idx = start[:, None] + np.arange(width)[None, :]
    hit = (idx < stop[:, None]) & mask[np.minimum(idx, len(mask) - 1)]
    any_hit = hit.any(axis=1)
    last = width - 1 - np.argmax(hit[:, ::-1], axis=1)
    out[any_hit] = start[any_hit] + last[any_hit]
    return out


# Left/right from a lower-back gyroscope: McCamley et al. (2012, Gait Posture 36:316) with the
# improvements of Ullrich et al. (2021, IEEE EMBC, doi:10.1109/EMBC46164.2021.9630653) as implemented
# by mobgap's LrcMcCamley (axis="combined"): yaw rate minus roll rate, 4th-order Butterworth band-pass
# 0.5-2 Hz (zero phase), the side of each IC from the sign of that signal at the IC.
SIDES_BAND_HZ = (0.5, 2.0)
SIDES_FILTER_ORDER = 4


#: Steps alternate, except where an IC was missed or a false one found.  Within a bout (``bout_id``), the
#: sides are the most probable sequence (Viterbi, two states) given each step's McCamley reading ``x``:
#: a reading ``z`` = x / (the bout's median |x|) says left with probability 1 / (1 + exp(GAIN · z)) (a
#: reading of median strength: 0.88), and consecutive steps alternate with probability
#: SIDES_ALTERNATION_P (not 1: one missed or extra detection puts two steps of one side in a row, and
#: the steps after it keep their own readings).  Overruling a reading z costs GAIN·|z| in
#: log-probability, two breaks of the rhythm 2·ln(P/(1 − P)) = 4.39: a lone contrary reading is
#: overruled up to 2.2 times the bout's median strength, a stretch of three contrary readings is kept.
#: Measured on matched steps inside the reference windows (bench/validate.py): McCamley's per-step sign
#: alone 0.918 on ipol_gait (1469/1600) and 0.845 on mobgap_lab (164/194); with alternation 0.941 and
#: 0.887.  Odd ipol subjects 931 → 951 of 957, even 538 → 555 of 643 (57 of the even subjects' remaining
#: errors are trials 4-1 and 4-2, where the yaw and the roll rate each disagree with the reference on
#: nearly every step: bench/RESULTS.md).  GAIN 1–4 and SIDES_ALTERNATION_P 0.8–0.95 all gave odd 950–952,
#: even 553–559, mobgap 169–174; the middle is kept.
SIDES_EVIDENCE_GAIN = 2.0
SIDES_ALTERNATION_P = 0.9


def _alternating_sides(x: np.ndarray, bout_id: np.ndarray) -> np.ndarray:
    """'left'/'right' per step from readings ``x`` (≤ 0 leans left) and the alternation of steps in each bout.

    Two-state Viterbi per bout (:data:`SIDES_ALTERNATION_P`, :data:`SIDES_EVIDENCE_GAIN`); a bout of one
    step takes its reading's sign.  A non-finite reading is no evidence (the rhythm decides that step).
    """
    x = np.asarray(x, float)
    finite = np.isfinite(x)
    x = np.where(finite, x, 0.0)
    bout_id = np.asarray(bout_id)
    left = np.zeros(len(x), bool)
    log_alt, log_same = float(np.log(SIDES_ALTERNATION_P)), float(np.log1p(-SIDES_ALTERNATION_P))
    for b in np.unique(bout_id):
        idx = np.flatnonzero(bout_id == b)
        scale = np.median(np.abs(x[idx][finite[idx]])) if finite[idx].any() else 0.0
        z = x[idx] / scale if scale > 0 else np.sign(x[idx])
        # log P(reading | left), log P(reading | right); plain floats: the loop runs once per step
        e_left = (-np.logaddexp(0.0, SIDES_EVIDENCE_GAIN * z)).tolist()
        e_right = (-np.logaddexp(0.0, -SIDES_EVIDENCE_GAIN * z)).tolist()
        best_left, best_right = e_left[0], e_right[0]  # best log-probability of a path ending left / right
        left_from_left = [True] * len(idx)
        right_from_right = [True] * len(idx)
        for i in range(1, len(idx)):
            stay_l, swap_l = best_left + log_same, best_right + log_alt
            stay_r, swap_r = best_right + log_same, best_left + log_alt
            left_from_left[i] = stay_l >= swap_l
            right_from_right[i] = stay_r >= swap_r
            best_left = max(stay_l, swap_l) + e_left[i]
            best_right = max(stay_r, swap_r) + e_right[i]
        state = np.empty(len(idx), bool)  # True: left
        state[-1] = best_left >= best_right
        for i in range(len(idx) - 1, 0, -1):
            state[i - 1] = state[i] if (left_from_left[i] if state[i] else right_from_right[i]) else not state[i]
        left[idx] = state
    return np.where(left, "left", "right").astype(object)


def _sides_by_bout_vote(ic: np.ndarray, bout_id: np.ndarray, x: np.ndarray, w: int) -> np.ndarray:
    """Strict alternation per bout, its parity from a vote of ``x`` averaged over ``w`` samples after each IC."""
    i = ic.astype(np.int64)
    ok = (i >= 0) & (i + w <= len(x))
    cum = np.concatenate([[0.0], np.cumsum(x)])
    score = np.zeros(len(ic))
    score[ok] = (cum[i[ok] + w] - cum[i[ok]]) / w
    sides = np.empty(len(ic), dtype=object)
    for b in np.unique(bout_id):
        idx = np.flatnonzero(bout_id == b)
        alt = np.where(np.arange(len(idx)) % 2 == 0, 1.0, -1.0)
        first_left = np.sum(alt * score[idx]) > 0
        sides[idx] = np.where((alt > 0) == first_left, "left", "right")
    return sides


def _mccamley_readings(ic: np.ndarray, gyr_fwd: np.ndarray, gyr_up: np.ndarray, fs: float) -> np.ndarray | None:
    """Band-passed (yaw rate − roll rate) at each IC; on its own, ≤ 0 → left (McCamley's per-step rule).

    In mobgap's body frame (is up, pa forward) the published rule is ``gyr_is − gyr_pa ≤ 0`` at IC →
    left; here that is ``gyr_up − gyr_fwd``.  None when the segment is too short to filter.
    """
    sos = butter_sos(SIDES_FILTER_ORDER, SIDES_BAND_HZ, "bandpass", float(fs))
    x = np.asarray(gyr_up, float) - np.asarray(gyr_fwd, float)
    padlen = 3 * (2 * len(sos) + 1)
    if len(x) <= padlen or not np.all(np.isfinite(x)):
        return None
    smooth = signal.sosfiltfilt(sos, x)
    i = np.clip(ic.astype(np.int64), 0, len(x) - 1)
    return smooth[i]


def assign_sides_trunk(ic: np.ndarray, bout_id: np.ndarray, *, gyr_fwd: np.ndarray | None, acc_left: np.ndarray,
                       sampling_rate_hz: float, window_s: float = 0.15,
                       gyr_up: np.ndarray | None = None) -> np.ndarray:
    """'left'/'right' per step (IC sample indices ``ic``) from a lower-back sensor in the body frame.

    With the roll (``gyr_fwd``) and yaw (``gyr_up``) rates: McCamley's reading as improved by
    Ullrich et al. 2021 (mobgap ``LrcMcCamley``, axis "combined": see ``SIDES_BAND_HZ``) at each
    step, read with the alternation of steps in each bout (:func:`_alternating_sides`).  Why not one
    parity per bout: one missed or extra IC inside a bout flipped every later step of the bout under
    the former one-vote-per-bout rule; per-step signs raised the share of correct sides from 0.696
    to 0.910 on ipol_gait (1704 steps) and from 0.531 to 0.827 on mobgap_lab (196 steps), simulated
    running stays all right (bench/RESULTS.md); reading them with the alternation raised it further
    (see :data:`SIDES_ALTERNATION_P`).

    Without ``gyr_up`` (callers that pass only the roll rate) or without any gyroscope, or on a
    segment too short to band-pass, the former rule: steps alternate within each bout, its parity
    voted by the roll rate about +x averaged over ``window_s`` after each IC (positive after a
    left IC: the pelvis drops toward the swing side), or without gyroscope by −``acc_left`` (the
    sideways acceleration points toward the midline, to the right after a left IC).  The per-step
    sign of the sideways acceleration was worse than this vote on both data sets (0.639 ipol,
    0.648 mobgap vs 0.659, 0.862).
    """
    fs = sampling_rate_hz
    ic = np.asarray(ic)
    if len(np.asarray(bout_id)) != len(ic):
        raise ValueError(f"assign_sides_trunk: {len(ic)} ICs but {len(np.asarray(bout_id))} bout ids")
    if gyr_fwd is not None and gyr_up is not None:
        if len(gyr_up) != len(gyr_fwd):
            raise ValueError(f"assign_sides_trunk: gyr_up has {len(gyr_up)} samples, gyr_fwd {len(gyr_fwd)}")
        readings = _mccamley_readings(ic, gyr_fwd, gyr_up, fs) if len(ic) else None
        if readings is not None:
            return _alternating_sides(readings, np.asarray(bout_id))
    w = max(2, int(window_s * fs))
    x = np.asarray(gyr_fwd, float) if gyr_fwd is not None else -np.asarray(acc_left, float)
    return _sides_by_bout_vote(ic, np.asarray(bout_id), x, w)


class ShoeGait:
    """Detect strides of one foot from a shoe sensor (body frame).

    Parameters
    ----------
    min_swing_rad_s
        Smallest swing peak of the sagittal angular rate counted as a stride.
    min_stride_s
        Strides shorter than this are not strides.
    swing_cutoff_hz
        Low-pass applied before looking for swing peaks.
    min_swing_deg
        Toe-up rotation of a whole swing lobe that makes a weak peak a swing.
    impact_search_s, impact_jerk_ratio
        Running only: how long before the zero crossing a landing impact is
        looked for, and how far its jerk must stand above the stride's median.
        Accelerometer only: how long before the ``|a|`` peak the jerk onset is looked for.
    hover_search_s, hover_max_deg
        Running only: when no impact comes near the zero crossing, how long
        after it a landing impact is looked for, and how little the foot may
        turn before it for the foot to have been in the air (a foot whose heel
        is down turns by its strike angle to flat, a rearfoot strike ≥ 8°).
    flat_window_s, flat_spread_g
        Accelerometer only: a foot-flat (mid-stance) instant has the spread of
        the specific force vector over a centred ``flat_window_s`` window
        (root of the summed per-axis variances) below ``flat_spread_g`` × g.
    min_impact_g
        Accelerometer only: a landing impact's ``|a|`` reaches at least this × g.
    no_flat_s
        Accelerometer only: an ``|a|`` peak of a landing (≥ 2.5 g, 1 g
        prominent) with no foot-flat within this is a running stride's IC:
        the foot never rested.  Longer than walking's mid-stance to push-off
        (≤ 0.5 s), so a walking push-off is never taken for it.
    missed_flat_spread_g
        Accelerometer only: where a walk's stride has no foot-flat as quiet as
        ``flat_spread_g`` (foot-flats 1.5 typical strides apart or more), its
        quietest instant counts when its spread is below this × g
        (:meth:`_missed_flats`).

    Attributes (after :meth:`detect`, sample indices as floats)
    ----------
    ic_, fc_, ms_ : initial contact, final contact (same stride), mid-stance
    """

    def __init__(self, min_swing_rad_s: float = 2.0, min_stride_s: float = 0.45, swing_cutoff_hz: float = 5.0,
                 min_swing_deg: float = 15.0, impact_search_s: float = 0.08, impact_jerk_ratio: float = 4.0,
                 flat_window_s: float = 0.1, flat_spread_g: float = 0.1, min_impact_g: float = 1.5,
                 no_flat_s: float = 1.0, missed_flat_spread_g: float = 0.2, hover_search_s: float = 0.15,
                 hover_max_deg: float = 2.0):
        self.hover_search_s = hover_search_s
        self.hover_max_deg = hover_max_deg
        self.no_flat_s = no_flat_s
        self.missed_flat_spread_g = missed_flat_spread_g
        self.flat_window_s = flat_window_s
        self.flat_spread_g = flat_spread_g
        self.min_impact_g = min_impact_g
        self.impact_search_s = impact_search_s
        self.impact_jerk_ratio = impact_jerk_ratio
        self.min_swing_deg = min_swing_deg
        self.swing_cutoff_hz = swing_cutoff_hz
        self.min_swing_rad_s = min_swing_rad_s
        self.min_stride_s = min_stride_s

    def detect(self, acc_body_m_s2: np.ndarray, gyr_body_rad_s: np.ndarray | None, *,
               sampling_rate_hz: float) -> "ShoeGait":
        fs = sampling_rate_hz
        if gyr_body_rad_s is None:
            return self._detect_acc_only(acc_body_m_s2, fs)
        omega = gyr_body_rad_s[:, 1]
        om = lowpass(omega, 25.0, sampling_rate_hz=fs) if fs > 60 else omega
        # Swings on a 5 Hz low-pass: the swing's toe-up rotation lasts 0.3-0.5 s
        # and survives it; the 20-40 ms rebound after a foot slap (as large as
        # the swing peak on ipol_gait's dorsal sensors) does not.
        om_swing = lowpass(omega, self.swing_cutoff_hz, sampling_rate_hz=fs) if len(omega) > 30 else omega
        return self.detect_filtered(acc_body_m_s2, gyr_body_rad_s, om, om_swing, sampling_rate_hz=fs,
                                    at_data_start=True)

    def detect_filtered(self, acc_m_s2: np.ndarray, gyr_rad_s: np.ndarray, omega_25hz_rad_s: np.ndarray,
                        omega_swing_rad_s: np.ndarray, *, sampling_rate_hz: float,
                        at_data_start: bool = False) -> "ShoeGait":
        """The stride rules on the sagittal angular rate's filtered forms, which the caller made.

        The rules exist only here: :meth:`detect` calls this after filtering
        the whole segment, and the live detector
        (:class:`analysis.streaming.LiveMetrics`) after filtering its short
        search span.  The swing height threshold is a quantile of
        ``omega_swing_rad_s``: of the whole segment in :meth:`detect`, of the
        search span live.

        Parameters
        ----------
        acc_m_s2, gyr_rad_s
            (n, 3) specific force and angular rate in any one frame: only their
            norms are used (the landing impact's jerk, the mid-stance's least rotation).
        omega_25hz_rad_s
            (n,) angular rate about the foot's left axis (toe down positive),
            25 Hz low-pass (unfiltered at or below 60 Hz): IC and FC.
        omega_swing_rad_s
            (n,) the same at ``swing_cutoff_hz``: swings.
        at_data_start
            The arrays begin where the data begin (a recording's or a
            segment's first sample), so a swing in progress there is real and
            its IC is kept (:meth:`_ic_of_swing_at_start`).  :meth:`detect`
            sets it; the live detector does not: its search span starts at an
            arbitrary point of the stream, after strides it has already
            reported, and its zero-phase filters start there too.
        """
        fs = sampling_rate_hz
        om, om_swing = omega_25hz_rad_s, omega_swing_rad_s
        height = max(self.min_swing_rad_s, 0.3 * np.quantile(-om_swing, 0.995))
        swings, _ = signal.find_peaks(-om_swing, height=0.5 * height, distance=int(self.min_stride_s * fs),
                                      prominence=0.25 * height)
        # A swing turns the toe up by a large angle (≈ 90° in walking); the
        # first and last strides of a bout (gait initiation, stopping) have
        # weaker peaks, so a peak between half and the full height counts
        # when its whole toe-up lobe turns the foot by min_swing_deg.
        neg = om_swing < 0
        keep = []
        for p in swings:
            if -om_swing[p] >= height:
                keep.append(p)
                continue
            a = p
            while a > 0 and neg[a - 1]:
                a -= 1
            b = p
            while b + 1 < len(neg) and neg[b + 1]:
                b += 1
            rot_deg = np.degrees(-om_swing[a:b + 1].sum() / fs)
            if rot_deg >= self.min_swing_deg:
                keep.append(p)
        swings = np.asarray(keep, int)
        gnorm = np.linalg.norm(gyr_rad_s, axis=1)
        ic, fc = [], []
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
        ic = self._running_ic_at_impact(ic, fc, om, acc_m_s2, fs)
        # stride k: IC after swing k, FC = push-off before swing k+1
        ic_out, fc_out, ms_out = [], [], []
        for k in range(len(ic)):
            if not np.isfinite(ic[k]):
                continue
            f = fc[k + 1] if k + 1 < len(fc) else np.nan
            if np.isfinite(f) and (f - ic[k]) > SHOE_MAX_STANCE_S * fs:
                f = np.nan
            i0 = int(ic[k])
            i1 = int(f) if np.isfinite(f) else min(len(gnorm), i0 + int(0.3 * fs))
            m = i0 + int(np.argmin(gnorm[i0:i1])) if i1 > i0 + 1 else np.nan
            ic_out.append(ic[k])
            fc_out.append(f)
            ms_out.append(float(m))
        if at_data_start:
            first = ic_out[0] if ic_out else float(len(om))
            c = self._ic_of_swing_at_start(om, om_swing, height, first, fs)
            if c is not None:
                i0 = int(c)
                i1 = min(len(gnorm), i0 + int(0.3 * fs))
                ic_out.insert(0, c)
                fc_out.insert(0, np.nan)  # its push-off came before the data
                ms_out.insert(0, float(i0 + int(np.argmin(gnorm[i0:i1]))) if i1 > i0 + 1 else np.nan)
        self.ic_ = np.asarray(ic_out)
        self.fc_ = np.asarray(fc_out)
        self.ms_ = np.asarray(ms_out)
        return self

    def _running_ic_at_impact(self, ic, fc, om, acc, fs):
        """Running strides: IC at the landing impact where the toe-up rotation does not stop at landing.

        The zero crossing of ω is where the foot stops rotating toe-up.  In
        running it comes in the air: a heel strike lands where the foot then
        begins to slap down (:meth:`_slap_onset`, the IC of every running
        stride that none of the rules below times otherwise).  A
        forefoot landing lands toe-down and keeps rotating toe-up until the
        heel is down, so the zero crossing is foot-flat, 30-40 ms late, and
        the strike angle comes out near 0°.  The landing impact (largest jerk
        of the acceleration, ``|d a / dt|``, from ``impact_search_s`` before to
        0.06 s after the zero crossing) marks contact in either case; when it
        comes first, it is the IC.  A foot can also stop turning in the air
        and land a moment later at the angle it holds (a flat landing after a
        still terminal swing): then no impact comes near the zero crossing,
        and the first one within ``hover_search_s`` after it is the IC if the
        foot turned by less than ``hover_max_deg`` until then (after a heel
        strike without an impact, the foot turns down to flat by its strike
        angle before the forefoot lands).  Only running strides (duty factor
        below 0.5: a flight phase exists) are refined: in walking, terminal
        swing brakes the foot hard enough to fake an impact (ipol_gait), and
        the zero crossing is within 5 ms of motion capture there (gaitmap).
        Both impact rules need the shock to stand ``impact_jerk_ratio`` above
        the stride's jerk: on the simulator's shock (40 Hz ringing) they work
        at 100 Hz and above, not at 64 Hz or 50 Hz (tests at 100 and 200 Hz).
        """
        if len(ic) < 2:
            return ic
        jerk = np.linalg.norm(np.diff(acc, axis=0), axis=1) * fs  # jerk[i]: between samples i and i+1
        out = ic.copy()
        before = int(round(self.impact_search_s * fs))
        after = int(round(0.06 * fs))
        hover = int(round(self.hover_search_s * fs))
        for k in range(len(ic)):
            if not np.isfinite(ic[k]) or k + 1 >= len(ic) or not np.isfinite(ic[k + 1]):
                continue
            f = fc[k + 1]
            stride = ic[k + 1] - ic[k]
            if not np.isfinite(f) or not (0 < f - ic[k] < 0.5 * stride):
                continue
            z = int(np.floor(ic[k]))
            a, b = max(0, z - before), min(len(jerk), z + after)
            if b - a < 3:
                continue
            peak = jerk[a:b].max()
            # an impact is a spike of jerk, far above the stride's typical jerk
            # (terminal-swing braking is smooth); its onset is the first jerk
            # above half the spike (the spike's far side can be larger)
            j = a + int(np.argmax(jerk[a:b] > 0.5 * peak))
            typical = np.median(jerk[int(ic[k - 1]) if k > 0 and np.isfinite(ic[k - 1]) else a:b])
            # a heel strike: the landing is where the foot begins to slap down, after the zero crossing
            slap = self._slap_onset(om, ic[k], f, fs)
            if peak > self.impact_jerk_ratio * typical:
                out[k] = j + 0.5 if j + 1 <= ic[k] else slap  # an impact first: between samples j and j+1
                continue
            out[k] = slap
            # the landing comes a contact's worth before the push-off (0.1 s, the shortest running contacts)
            c = min(len(jerk), z + hover, int(f) - int(round(0.1 * fs)))
            if c <= b:
                continue
            p = b + int(np.argmax(jerk[b:c]))
            late = jerk[p]
            if late <= self.impact_jerk_ratio * typical:
                continue
            # onset: the spike's steepest rise in the 30 ms before its peak (terminal-swing braking runs straight
            # into the landing, and at 100 Hz it is above half the blurred spike: "first above half" was 30-50 ms early)
            lo = max(b, p - int(round(0.03 * fs)))
            j = lo + 1 + int(np.argmax(np.diff(jerk[lo:p + 1]))) if p > lo else p
            turned_deg = np.degrees(np.abs(om[z:j + 1]).sum() / fs)
            if turned_deg < self.hover_max_deg:
                out[k] = j + 0.5
        return out

    def _slap_onset(self, om: np.ndarray, zero: float, push_off: float, fs: float) -> float:
        """A running heel strike's IC: the fastest rise of the toe-down rate between the zero crossing and the
        toe-down peak that follows it (the foot slapping down once the heel is on the ground).

        Falbriard et al. 2018 (Front. Physiol. 9:610; 41 runners, 10-20 km/h, instrumented treadmill, 12092
        validation steps, force threshold 7 % body weight) find the zero crossing of the pitch rate
        (``k2``) 29 ms before contact (precision 6 ms): in running the leg retracts before landing and turns
        the foot toe-down in the air.  The minimum of the pitch angular acceleration before its maximum
        (``k5``; in our sign, toe down positive, the maximum of ``dω/dt`` before the toe-down peak) is 4 ms
        early (precision 4 ms, the smallest spread of bias between runners); their signals were low-passed
        at 30 Hz, ours at 25 Hz.  The toe-down peak is sought up to half-way to the (known) push-off, at most
        0.15 s.
        """
        z = int(np.ceil(zero))
        end = min(len(om) - 1, z + int(round(0.15 * fs)), int(zero + 0.5 * (push_off - zero)))
        if end - z < 2:
            return zero
        peak = z + int(np.argmax(om[z:end + 1]))
        if peak - z < 1 or om[peak] <= 0:
            return zero
        rise = np.diff(om[max(z - 1, 0):peak + 1])
        j = max(z - 1, 0) + int(np.argmax(rise))
        return max(float(zero), j + 0.5)  # the rise is between samples j and j+1

    def _ic_of_swing_at_start(self, om, om_swing, height, first_ic, fs):
        """IC (sub-sample index) of a swing already under way at the first sample, or None.

        The swing peaks are local maxima of ``-ω``; a recording that begins
        during a swing has its toe-up lobe cut, so the lobe's peak is the
        first sample (or lies within its first 0.1 s) and is no local maximum
        to :func:`scipy.signal.find_peaks`; that stride's IC is lost.  The
        physics of the IC does not need the peak: the heel lands where the
        toe-up rotation stops, the first upward zero crossing of ``ω``.  So
        when ``-ω_swing`` reaches half the swing height in the first 0.1 s
        (the weak-swing level of :meth:`detect_filtered`), the crossing ``c``
        is that swing's IC if it is a stride before the first detected IC
        (``min_stride_s``; nearer, it would be the same contact) and the
        toe-up rotation seen before it, ``∫ -ω dt`` over [0, c], is at least
        ``min_swing_deg`` (the weak-swing rule, on the part of the lobe recorded).
        """
        head = om_swing[:max(1, int(0.1 * fs))]
        if (-head).max() < 0.5 * height:
            return None
        c = crossing_time(om, 0.0, 0, int(min(first_ic, len(om))), rising=True)
        if c is None or c > first_ic - self.min_stride_s * fs:
            return None
        rot_deg = np.degrees(np.clip(-om_swing[:int(c) + 1], 0.0, None).sum() / fs)
        return float(c) if rot_deg >= self.min_swing_deg else None

    def _detect_acc_only(self, acc, fs):
        """ICs from the specific force alone (see the module docstring): impact before each foot-flat.

        Sets ``ic_`` (sample indices), ``fc_`` and ``ms_`` (NaN: the push-off
        cannot be told from the swing's accelerations without the rotation,
        and mid-stance is used only for the strike angle, which needs ``ω``).
        """
        acc = np.asarray(acc, float)
        n = len(acc)
        self.fc_ = self.ms_ = self.ic_ = np.empty(0)
        w = max(3, int(round(self.flat_window_s * fs)))
        if n < 2 * w:
            return self
        norm = np.linalg.norm(acc, axis=1)
        # running: the foot is never still long enough for a foot-flat, and the landing impact
        # is the largest peak of |a| (adept_running's shoe, bench/RESULTS.md)
        runs, _ = signal.find_peaks(norm, height=2.5 * G, distance=int(self.min_stride_s * fs), prominence=1.0 * G)
        mean = uniform_filter1d(acc, w, axis=0, mode="nearest")
        var = (uniform_filter1d(acc * acc, w, axis=0, mode="nearest") - mean * mean).sum(axis=1)
        spread = np.sqrt(np.clip(var, 0.0, None))
        # one foot-flat per stride: the quietest instant, strides at least min_stride_s apart
        flat, _ = signal.find_peaks(-spread, height=-self.flat_spread_g * G, distance=max(1, int(self.min_stride_s * fs)))
        if len(flat) < 2:
            return self._set_acc_only_ics(np.asarray(runs, float))
        gap = np.diff(flat)
        # the typical stride: between foot-flats with a landing between them (standing still
        # also has quiet instants every min_stride_s, with nothing between them)
        landed = np.maximum.reduceat(norm, flat)[:-1] >= self.min_impact_g * G
        typical = float(np.median(gap[landed] if landed.any() else gap))
        flat = self._missed_flats(flat, spread, norm, typical, running=runs[~self._near(runs, flat, fs)])
        gap = np.diff(flat)
        # the impact is in the later half of the interval since the last foot-flat (the push-off in
        # the earlier half); after a pause, or for the first foot-flat, in the typical stride's later half
        half = np.minimum(np.r_[typical, gap], typical) / 2.0
        jerk = np.linalg.norm(np.diff(acc, axis=0), axis=1)  # jerk[i]: between samples i and i+1
        back = max(2, int(round(self.impact_search_s * fs)))
        ic = []
        for m, h in zip(flat, half):
            lo = int(max(0, m - h))
            if m - lo < 3:
                continue
            p = lo + int(np.argmax(norm[lo:m]))
            if norm[p] < self.min_impact_g * G:
                continue  # no landing before this still period (standing)
            j0 = max(0, p - back)
            ic.append(j0 + int(np.argmax(jerk[j0:p])) + 0.5 if p - j0 >= 2 else float(p))
        # where no foot-flat lies within no_flat_s of an impact peak, the foot did not rest: running
        return self._set_acc_only_ics(np.sort(np.r_[np.asarray(ic, float), runs[~self._near(runs, flat, fs)].astype(float)]))

    def _near(self, peaks: np.ndarray, flat: np.ndarray, fs: float) -> np.ndarray:
        """Which ``|a|`` peaks have a foot-flat within ``no_flat_s`` (the others are running ICs)."""
        if not len(peaks):
            return np.zeros(0, bool)
        return np.abs(peaks[:, None] - flat[None, :]).min(axis=1) <= self.no_flat_s * fs

    def _missed_flats(self, flat: np.ndarray, spread: np.ndarray, norm: np.ndarray, typical: float, *,
                      running: np.ndarray) -> np.ndarray:
        """Foot-flats with the ones a walk's strides missed put back (accelerometer only).

        Every stride has a foot-flat, but on some walkers (a loose or dorsal
        sensor, a heavy landing) the stance never gets as quiet as
        ``flat_spread_g``, and a stride without a foot-flat loses its IC.  Where
        consecutive foot-flats lie more than 1.5 typical strides apart (nearer
        two strides than one) with a landing-sized ``|a|`` between them, the
        quietest instant 0.75–1.25 typical strides after the first (and half
        a stride before the second) is the missing stride's foot-flat, if its
        spread is below ``missed_flat_spread_g``; repeated from there until no
        stride is missing.  A gap holding a ``running`` impact (no foot-flat
        within ``no_flat_s``) is running, where the foot never rests
        (adept_running's shoe has quiet instants below 0.2 g in its running
        strides), and is left alone.
        """
        out = [int(f) for f in flat]
        k = 0
        while k + 1 < len(out):
            a, b = out[k], out[k + 1]
            if (b - a > 1.5 * typical and norm[a:b].max() >= self.min_impact_g * G
                    and not np.any((running > a) & (running < b))):
                lo, hi = int(a + 0.75 * typical), int(min(a + 1.25 * typical, b - 0.5 * typical))
                if hi > lo:
                    m = lo + int(np.argmin(spread[lo:hi]))
                    if spread[m] < self.missed_flat_spread_g * G:
                        out.insert(k + 1, m)
                        continue  # the part after m may miss another
            k += 1
        return np.asarray(out, int)

    def _set_acc_only_ics(self, ic: np.ndarray) -> "ShoeGait":
        self.ic_ = ic
        self.fc_ = np.full(len(ic), np.nan)
        self.ms_ = np.full(len(ic), np.nan)
        return self


def vertical_oscillation_m(f_v_m_s2: np.ndarray, ic: np.ndarray, *, sampling_rate_hz: float) -> np.ndarray:
    """Peak-to-peak vertical displacement of the sensor in each step (IC to next IC).

    Double integration over one step, assuming equal height and vertical
    velocity at both ICs (steady gait): the mean is removed before each
    integration and the linear trend after.
    """
    fs = sampling_rate_hz
    out = np.full(len(ic), np.nan)
    if len(ic) < 2:
        return out
    a = np.round(ic[:-1]).astype(np.int64)
    b = np.round(ic[1:]).astype(np.int64)
    ok = (b - a >= 5) & (b - a <= 1.5 * fs) & (b < len(f_v_m_s2))  # longer is a pause, not a step
    k = np.flatnonzero(ok)
    if len(k) == 0:
        return out
    # all steps at once: rows of a padded matrix, masked beyond each step's end
    length = b[k] - a[k] + 1
    width = int(length.max())
    col = np.arange(width)
    mask = col[None, :] < length[:, None]
    idx = np.minimum(a[k][:, None] + col[None, :], len(f_v_m_s2) - 1)
    acc = np.where(mask, f_v_m_s2[idx] - G, 0.0)
    acc = np.where(mask, acc - acc.sum(axis=1, keepdims=True) / length[:, None], 0.0)
    v = np.where(mask, np.cumsum(acc, axis=1) / fs, 0.0)
    v = np.where(mask, v - v.sum(axis=1, keepdims=True) / length[:, None], 0.0)
    p = np.cumsum(v, axis=1) / fs
    last = p[np.arange(len(k)), length - 1]
    p = p - p[:, :1] - (last - p[:, 0])[:, None] * col[None, :] / np.maximum(length - 1, 1)[:, None]
    out[k] = np.where(mask, p, -np.inf).max(axis=1) - np.where(mask, p, np.inf).min(axis=1)
    return out
