"""The last step of a walk (gait termination: a weak stance peak) is found (analysis.gait.LowerBackGait)."""

import numpy as np

from analysis.constants import GRAVITY_M_S2 as G
from analysis.gait import LowerBackGait

FS = 100.0


def _walk_then_stand(n_steps: int, last_peak_g: float, stand_s: float, step_s: float = 0.55):
    """Vertical specific force: 1 g standing, walking stance peaks of +0.35 g with troughs of −0.25 g between
    them, the last step's peak only ``last_peak_g`` above 1 g (the body brakes), then standing ``stand_s``."""
    t = np.arange(int((1.0 + n_steps * step_s + stand_s) * FS)) / FS
    peaks_s = 1.0 + np.arange(n_steps) * step_s
    f = np.full_like(t, G)
    for k, p in enumerate(peaks_s):
        amp = last_peak_g if k == n_steps - 1 else 0.35
        f += amp * G * np.exp(-0.5 * ((t - p) / 0.06) ** 2)
        if k < n_steps - 1:
            f -= 0.25 * G * np.exp(-0.5 * ((t - p - step_s / 2) / 0.07) ** 2)
    return f, peaks_s


def test_weak_last_step_is_found():
    f, peaks_s = _walk_then_stand(10, last_peak_g=0.09, stand_s=2.5)
    ic_s = LowerBackGait().detect(f, sampling_rate_hz=FS).ic_ / FS
    assert len(ic_s) == 10  # every stance peak, the weak last one too
    assert np.all(np.abs(ic_s - peaks_s) < 0.2)  # each IC just before its stance peak
    # without the terminal search (prominence as for every step), the last step is lost: the test's trap is real
    plain = LowerBackGait(terminal_prominence_g=0.15).detect(f, sampling_rate_hz=FS).ic_
    assert len(plain) == 9


def test_a_walk_that_may_go_on_adds_nothing_yet():
    """The live detector searches short spans: a weak peak near the span's end is not a terminal step yet."""
    f, _ = _walk_then_stand(10, last_peak_g=0.09, stand_s=0.8)
    assert len(LowerBackGait().detect(f, sampling_rate_hz=FS).ic_) == 9


def test_standing_sway_after_a_walk_is_not_a_step():
    """A bump far beyond 1.5 steps after the last step, or one too small, is not taken."""
    f, _ = _walk_then_stand(10, last_peak_g=0.35, stand_s=3.0)
    t = np.arange(len(f)) / FS
    f_late = f + 0.1 * G * np.exp(-0.5 * ((t - (1.0 + 10 * 0.55 + 1.2)) / 0.06) ** 2)  # 2.2 steps later
    assert len(LowerBackGait().detect(f_late, sampling_rate_hz=FS).ic_) == 10
    f_small, _ = _walk_then_stand(10, last_peak_g=0.03, stand_s=2.5)  # under 1.05 g
    assert len(LowerBackGait().detect(f_small, sampling_rate_hz=FS).ic_) == 9
