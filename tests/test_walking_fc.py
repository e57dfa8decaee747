"""Lower-back walking final contact from the forward acceleration (analysis.gait.walking_fc_forward)."""

import numpy as np
import pytest

from analysis.gait import WALK_FC_WINDOW_STEPS, walking_fc_forward

FS = 100.0


def _walk(n_steps: int, step_s: float, toe_off_frac: float):
    """Forward acceleration with a sharp dip (the body decelerating as the trailing foot leaves) ``toe_off_frac``
    of a step after each IC, and a forward peak at each IC (Zijlstra & Hof 2003); returns (signal, ICs, dip
    sample indices).  Symmetric pulses: the rule's Gaussian smoothing cannot move their extrema."""
    t = np.arange(int((n_steps + 2) * step_s * FS)) / FS
    ic = np.round((0.5 + np.arange(n_steps) * step_s) * FS)
    dips = np.round(ic + toe_off_frac * step_s * FS)
    a = 0.3 + np.zeros_like(t)
    for i in ic:
        a += 1.5 * np.exp(-0.5 * ((t - i / FS) / 0.02) ** 2)
    for d in dips:
        a -= 2.5 * np.exp(-0.5 * ((t - d / FS) / 0.02) ** 2)
    return a, ic, dips


@pytest.mark.parametrize("step_s, frac", [(0.55, 0.2), (0.5, 0.12), (0.65, 0.3)])
def test_own_fc_is_the_toe_off_after_the_next_ic(step_s, frac):
    a, ic, dips = _walk(12, step_s, frac)
    fc = walking_fc_forward(a, ic, np.zeros(len(ic), bool), sampling_rate_hz=FS, max_step_s=1.5)
    # a foot's own toe-off is the dip after the *next* IC (the one after its own IC is the other foot's);
    # within 30 ms: the rule's smoothing (σ ≈ 75 ms here) lets the IC's forward peak pull a dip only 60 ms
    # after it (frac 0.12 of a 0.5-s step) 30 ms late
    np.testing.assert_allclose(fc[:-1], dips[1:], atol=3)
    assert np.isnan(fc[-1])  # the last step's own toe-off would follow an IC that is not there


def test_running_steps_and_breaks_get_no_walking_fc():
    a, ic, dips = _walk(12, 0.55, 0.2)
    running = np.zeros(len(ic), bool)
    running[6:] = True
    fc = walking_fc_forward(a, ic, running, sampling_rate_hz=FS, max_step_s=1.5)
    assert np.all(np.isnan(fc[5:]))  # running steps, and the walking step whose next step runs
    np.testing.assert_allclose(fc[:5], dips[1:6], atol=2)
    # a pause longer than max_step_s ends a walking run: the step before it has no own FC
    ic2 = ic.copy()
    ic2[6:] += 2.0 * FS
    fc2 = walking_fc_forward(np.r_[a, np.zeros(int(2 * FS))], ic2, np.zeros(len(ic), bool), sampling_rate_hz=FS,
                             max_step_s=1.5)
    assert np.isnan(fc2[5]) and np.isfinite(fc2[4])


def test_a_dip_beyond_the_window_is_not_taken_for_the_toe_off():
    """The window ends at WALK_FC_WINDOW_STEPS of the step: a dip at 0.6 of a step is mid-stance, not a toe-off."""
    a, ic, dips = _walk(10, 0.55, 0.6)
    assert 0.6 > WALK_FC_WINDOW_STEPS
    fc = walking_fc_forward(a, ic, np.zeros(len(ic), bool), sampling_rate_hz=FS, max_step_s=1.5)
    assert not np.any(np.abs(fc[:-1] - dips[1:]) <= 10)  # never the mid-stance dip (NaN or elsewhere)


def test_a_window_with_no_minimum_inside_gives_no_fc():
    """A forward acceleration that only falls across a step's window has no toe-off in it: its edge (the next IC)
    is not an FC (a review found such FCs 260 ms off; the analysis keeps the vertical-force FC there)."""
    ic = np.round((0.5 + np.arange(8) * 0.55) * FS)
    a = -np.arange(int(6 * FS)) / FS  # falls steadily: every window's minimum is at its end
    fc = walking_fc_forward(a, ic, np.zeros(len(ic), bool), sampling_rate_hz=FS, max_step_s=1.5)
    assert np.all(np.isnan(fc))
