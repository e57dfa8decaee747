"""Our imufusion wrapper against scipy's Rotation on known rotations (oracle test)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from analysis.constants import GRAVITY_M_S2
from analysis.orientation import AhrsOrientation, gravity_direction_lowpass, tilt_rotation


def _constant_rate(rotvec_rad_s, seconds, fs, start=Rotation.identity()):
    n = int(seconds * fs)
    t = np.arange(n) / fs
    rot = start * Rotation.from_rotvec(np.outer(t, rotvec_rad_s))  # body-frame constant rate
    gyr = np.tile(rotvec_rad_s, (n, 1))
    acc = rot.inv().apply([0, 0, GRAVITY_M_S2])
    return rot, acc, gyr


@pytest.mark.parametrize("rate", [[0.5, 0, 0], [0, -0.8, 0], [0.3, 0.4, 0.0], [0.0, 0.0, 1.0]])
def test_ahrs_tracks_known_rotation(rate):
    fs = 100.0
    start = Rotation.from_euler("xyz", [10, -20, 0], degrees=True)
    truth, acc, gyr = _constant_rate(np.array(rate), 4.0, fs, start)
    est = AhrsOrientation(gain=0.5).estimate(acc, gyr, sampling_rate_hz=fs)
    # compare tilt (heading is unobservable without a magnetometer)
    up_true = truth.inv().apply([0, 0, 1.0])
    ang = np.degrees(np.arccos(np.clip(np.sum(est.gravity_sensor_ * up_true, axis=1), -1, 1)))
    assert np.max(ang[50:]) < 1.5  # a complementary filter lags a little during continuous rotation


def test_tilt_rotation_maps_measured_up_to_world_up():
    for v in ([0, 0, 1.0], [0, 0, -1.0], [1.0, 2.0, 3.0], [0, -1.0, 0]):
        r = tilt_rotation(np.array(v))
        np.testing.assert_allclose(r.apply(np.array(v) / np.linalg.norm(v)), [0, 0, 1], atol=1e-9)


def test_gravity_lowpass_removes_gait_oscillation():
    fs = 100.0
    t = np.arange(0, 20, 1 / fs)
    up = Rotation.from_euler("x", 30, degrees=True).inv().apply([0, 0, 1.0])
    acc = np.outer(np.ones_like(t), up) * GRAVITY_M_S2 + np.outer(np.sin(2 * np.pi * 2.8 * t), [3.0, 0, 0])
    g = gravity_direction_lowpass(acc, sampling_rate_hz=fs)
    ang = np.degrees(np.arccos(np.clip(g[200:-200] @ up, -1, 1)))
    assert ang.max() < 1.0


def test_complementary_tilt_tracks_known_trunk_motion():
    """Zero-phase complementary tilt against a known pitch/roll history with gait accelerations on top."""
    from analysis.orientation import complementary_tilt_deg

    fs = 100.0
    t = np.arange(0, 60, 1 / fs)
    pitch = 8.0 + 1.5 * np.sin(2 * np.pi * 2.8 * t)  # lean plus step-frequency oscillation
    roll = 1.5 * np.sin(2 * np.pi * 1.4 * t)  # sideways sway at stride frequency
    rot = Rotation.from_euler("YX", np.column_stack([pitch, -roll]), degrees=True)  # body → world
    gait = np.column_stack([3.0 * np.sin(2 * np.pi * 2.8 * t), 1.0 * np.sin(2 * np.pi * 1.4 * t),
                            6.0 * np.sin(2 * np.pi * 2.8 * t)])  # world-frame accelerations of running
    acc = rot.inv().apply(gait + [0, 0, GRAVITY_M_S2])
    rel = rot[:-1].inv() * rot[1:]
    gyr = np.vstack([rel.as_rotvec() * fs, (rel[-1:].as_rotvec() * fs)])
    tilt = complementary_tilt_deg(acc, gyr, sampling_rate_hz=fs)
    inner = slice(500, -500)
    # The pipeline uses the tilt's changes within a stride (its level comes
    # from the stride-mean specific force), so those must be exact ...
    for k, truth in ((0, pitch), (1, roll)):
        est = tilt[inner, k] - tilt[inner, k].mean()
        assert np.abs(est - (truth[inner] - truth[inner].mean())).max() < 0.3
    # ... while the level carries the accelerometer's bias: pitching forward
    # as the vertical force peaks leaves a mean forward component (here 0.7°)
    assert abs(tilt[inner, 0].mean() - pitch[inner].mean()) < 1.0
    assert abs(tilt[inner, 1].mean() - roll[inner].mean()) < 0.3
