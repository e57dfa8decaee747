"""Simulated recordings whose truth is known by construction.

Used by the tests (closed-form truth for every detector) and to make the
sample recordings in ``sample_recordings/`` (their truth is stored beside
them).  The models are deliberately simple and documented:

Lower back, running (spring-mass; Morin et al. 2005, J Appl Biomech 21:167)
    Vertical specific force is a half-sine during contact with the peak that
    makes its mean over a step equal to g, plus an optional impact transient
    (a 15 ms Gaussian bump 20 ms after IC, for heel strikers); zero (free fall)
    in flight.  Fore-aft: braking then propulsion, ``-A sin(2π τ/tc)``.
    Sideways: a half-sine toward the midline during each stance (toward the
    right during a left stance).  Trunk: constant forward lean plus a step-
    frequency pitch oscillation and a stride-frequency roll (sway).

Lower back, walking
    Used in tests only through the real data sets; not simulated here.

Shoe, running
    Sole pitch (toe up positive) at IC equals the strike angle (optionally
    reached after a leg retraction in the air, ``retraction_s``), the foot
    rotates flat within 15 % of contact, stays flat to 55 %, then plantarflexes
    to toe-off; in swing it returns smoothly to the next strike angle.  The
    foot's linear acceleration: an impact transient at IC and a swing
    forward/backward acceleration.

All signals are specific force (gravity included) and angular rate in the
*sensor* frame, after an arbitrary mounting rotation ``mount`` applied to the
body frame (x forward, y left, z up).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np
import pandas as pd
from scipy.interpolate import PchipInterpolator
from scipy.spatial.transform import Rotation

from analysis.constants import GRAVITY_M_S2 as G
from sensing.recording import Recording, SensorInfo, from_arrays


@dataclass
class SimTruth:
    """Per-step truth of a simulated recording (times in s from its start)."""

    steps: pd.DataFrame  # ic_s, fc_s, side, contact_time_s, flight_time_s, step_time_s, strike_angle_deg, trunk_lean_fwd_deg, trunk_lean_side_deg
    bouts: list[dict] = field(default_factory=list)
    standing_s: tuple[float, float] | None = None


def _angular_velocity_body(rot: Rotation, fs: float) -> np.ndarray:
    """Angular velocity in the body (moving) frame from a sampled rotation sequence."""
    rel = rot[:-1].inv() * rot[1:]
    w = rel.as_rotvec() * fs
    return np.vstack([w, w[-1:]])


def _step_schedule(
    n_steps: int, cadence_spm, contact_time_s, t0: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    step_time = 60.0 / np.broadcast_to(np.asarray(cadence_spm, float), (n_steps,))
    tc = np.broadcast_to(np.asarray(contact_time_s, float), (n_steps,))
    ic = t0 + np.concatenate([[0.0], np.cumsum(step_time[:-1])])
    return ic, ic + tc, step_time


def lower_back_run(
    *,
    sampling_rate_hz: float,
    run_s: float = 120.0,
    standing_s: float = 10.0,
    cadence_spm: float = 170.0,
    contact_time_s: float = 0.26,
    lean_fwd_deg: float = 8.0,
    lean_side_deg: float = 0.0,
    late_lean_increase_deg: float = 0.0,
    sway_deg: float = 3.0,
    impact: bool = True,
    mount: Rotation | None = None,
    noise: float = 1.0,
    with_gyr: bool = True,
    seed: int = 0,
) -> tuple[Recording, SimTruth]:
    """A standing period then a steady run, from a lower-back sensor.

    ``late_lean_increase_deg`` makes the forward lean grow linearly over the
    run (form under fatigue).
    """
    fs = sampling_rate_hz
    rng = np.random.default_rng(seed)
    total_s = standing_s + run_s + 3.0
    n = int(round(total_s * fs))
    t = np.arange(n) / fs
    n_steps = int(run_s * cadence_spm / 60.0)
    ic, fc, step_time = _step_schedule(n_steps, cadence_spm, contact_time_s, standing_s + 1.0)
    side = np.where(np.arange(n_steps) % 2 == 0, 1, -1)  # +1 left foot, -1 right foot

    f_fwd = np.zeros(n)
    f_left = np.zeros(n)
    f_up = np.full(n, G)
    running = (t >= ic[0]) & (t < ic[-1] + step_time[-1])
    f_up[running] = 0.0
    for k in range(n_steps):
        tc = fc[k] - ic[k]
        a = int(np.ceil(ic[k] * fs))
        b = int(np.ceil(fc[k] * fs))
        tau = t[a:b] - ic[k]
        peak = (np.pi / 2) * G * step_time[k] / tc
        f_up[a:b] = peak * np.sin(np.pi * tau / tc)
        if impact:
            f_up[a:b] += 1.2 * G * np.exp(-0.5 * ((tau - 0.02) / 0.006) ** 2)
        f_fwd[a:b] = -0.6 * G * np.sin(2 * np.pi * tau / tc)
        f_left[a:b] = -side[k] * 0.25 * G * np.sin(np.pi * tau / tc)

    # trunk orientation: pitch forward (about +y), roll to the left = negative rotation about +x
    frac = np.clip((t - ic[0]) / max(run_s, 1e-9), 0, 1)
    lean = np.where(running, lean_fwd_deg + late_lean_increase_deg * frac, 0.0)
    lean_side = np.where(running, lean_side_deg, 0.0)
    phase = np.interp(t, np.concatenate([ic, [ic[-1] + step_time[-1]]]), np.arange(n_steps + 1), left=0, right=n_steps)
    pitch_osc = np.where(running, 1.5 * np.sin(2 * np.pi * phase), 0.0)
    # contralateral pelvic drop: the trunk rolls toward the swing side during each stance
    roll_osc = np.where(running, -sway_deg / 2 * np.sin(np.pi * phase), 0.0)
    pitch_deg = lean + pitch_osc
    left_deg = lean_side + roll_osc
    body = Rotation.from_euler("YX", np.column_stack([pitch_deg, -left_deg]), degrees=True)
    mount = mount or Rotation.identity()
    sensor_rot = body * mount  # sensor → world
    f_world = np.column_stack([f_fwd, f_left, f_up])
    acc = sensor_rot.inv().apply(f_world) + rng.normal(0, 0.05 * noise, (n, 3))
    gyr = _angular_velocity_body(sensor_rot, fs) + rng.normal(0, 0.005 * noise, (n, 3)) if with_gyr else None
    rec = from_arrays(
        acc, gyr_rad_s=gyr, sampling_rate_hz=fs, placement="lower-back",
        start_utc=datetime(2026, 5, 4, 17, 30, tzinfo=timezone.utc),
        sensor=SensorInfo("backstride", "simulator", "1", f"sim-lb-{seed}"), source="simulated lower-back run",
    )
    # truth: lean averaged over stance
    lean_stance = np.array([pitch_deg[(t >= a) & (t < b)].mean() for a, b in zip(ic, fc)])
    side_stance = np.array([left_deg[(t >= a) & (t < b)].mean() for a, b in zip(ic, fc)])
    steps = pd.DataFrame({
        "ic_s": ic, "fc_s": fc, "side": np.where(side > 0, "left", "right"),
        "step_time_s": step_time, "contact_time_s": fc - ic, "flight_time_s": step_time - (fc - ic),
        "trunk_lean_fwd_deg": lean_stance, "trunk_lean_side_deg": side_stance,
    })
    truth = SimTruth(steps=steps, bouts=[{"start_s": ic[0], "end_s": ic[-1] + step_time[-1], "activity": "running"}],
                     standing_s=(0.0, standing_s))
    return rec, truth


def shoe_run(
    *,
    sampling_rate_hz: float,
    run_s: float = 60.0,
    standing_s: float = 5.0,
    cadence_spm: float = 170.0,
    contact_time_s: float = 0.25,
    strike_angle_deg=12.0,
    foot: str = "left",
    mount: Rotation | None = None,
    noise: float = 1.0,
    seed: int = 0,
    impact_delay_s: float = 0.0,
    retraction_s: float = 0.0,
    retraction_deg: float = 1.5,
) -> tuple[Recording, SimTruth]:
    """A standing period then a run, from a sensor on one shoe.

    ``strike_angle_deg`` may be an array (one per stride) to mix patterns.  The
    late-swing pitch follows the stride's own angle and the landing the next
    one's, so a 12° stride followed by a 3° landing holds the foot still at
    about 3° for the last ~0.1 s of swing (it stops turning in the air).
    ``impact_delay_s``: the landing impact comes this long after IC (a soft
    heel landing whose shock comes with the forefoot); IC stays where the heel lands.
    ``retraction_s``: the leg retracts before landing, so a heel or flat landing's toe-up rotation stops this
    long before IC and the foot turns ``retraction_deg`` toe-down in the air (Falbriard et al. 2018 find the
    pitch rate's zero crossing 29 ms before force-plate contact on 41 runners); 0 (the samples): it stops at IC.
    """
    fs = sampling_rate_hz
    rng = np.random.default_rng(seed)
    stride_s = 120.0 / cadence_spm
    n_strides = int(run_s / stride_s)
    total_s = standing_s + run_s + 3.0
    n = int(round(total_s * fs))
    t = np.arange(n) / fs
    ic = standing_s + 1.0 + np.arange(n_strides) * stride_s
    tc = contact_time_s
    angles = np.broadcast_to(np.asarray(strike_angle_deg, float), (n_strides,)).copy()

    # pitch knots per stride (toe up positive), times relative to IC
    knot_t, knot_v = [0.0], [0.0]
    if retraction_s > 0 and angles[0] > -0.5:
        knot_t.append(ic[0] - retraction_s)
        knot_v.append(angles[0] + retraction_deg)
    knot_t.append(ic[0])
    knot_v.append(angles[0])
    for k in range(n_strides):
        base = ic[k]
        a = angles[k]
        flat = 0.0
        knots = [
            (0.15 * tc if a > 2 else 0.10 * tc, flat),
            (0.55 * tc, flat),
            (tc, -45.0),  # toe-off: plantarflexed
            (tc + 0.25 * (stride_s - tc), -60.0),
            (tc + 0.75 * (stride_s - tc), 0.7 * a - 5.0 if a > 0 else a - 12.0),
        ]
        if a < -0.5:  # forefoot: toe down at contact, heel drops to flat
            knots[0] = (0.12 * tc, flat)
        for dt_, v in knots:
            knot_t.append(base + dt_)
            knot_v.append(v)
        if retraction_s > 0 and k + 1 < n_strides and angles[k + 1] > -0.5:  # the next landing's retraction
            knot_t.append(base + stride_s - retraction_s)
            knot_v.append(angles[k + 1] + retraction_deg)
        knot_t.append(base + stride_s)
        knot_v.append(angles[k + 1] if k + 1 < n_strides else 0.0)
    knot_t.append(total_s + 1)
    knot_v.append(0.0)
    knot_t = np.asarray(knot_t)
    keep = np.concatenate([[True], np.diff(knot_t) > 1e-9])
    pitch_deg = PchipInterpolator(knot_t[keep], np.asarray(knot_v)[keep])(t)
    end = ic[-1] + stride_s
    pitch_deg[t >= end] = 0.0

    foot_rot = Rotation.from_euler("Y", -pitch_deg[:, None], degrees=True)  # toe up = negative rotation about +y
    mount = mount or Rotation.identity()
    sensor_rot = foot_rot * mount
    # linear acceleration of the foot (world): swing forward then brake, lift, impact at IC
    a_lin = np.zeros((n, 3))
    for k in range(n_strides):
        sw0, sw1 = ic[k] + tc, ic[k] + stride_s
        m = (t >= sw0) & (t < sw1)
        u = (t[m] - sw0) / (sw1 - sw0)
        a_lin[m, 0] = 60.0 * np.sin(2 * np.pi * u)
        a_lin[m, 2] = 20.0 * np.sin(2 * np.pi * u) * (u < 0.5)
        t_hit = ic[k] + impact_delay_s
        mi = (t >= t_hit) & (t < t_hit + 0.06)
        tau = t[mi] - t_hit
        a_lin[mi, 2] += 8.0 * G * np.exp(-tau / 0.008) * np.sin(2 * np.pi * 40 * tau + np.pi / 2) * (tau > 0.003)
        a_lin[mi, 0] += -3.0 * G * np.exp(-tau / 0.01) * (tau > 0.003)
    f_world = a_lin + [0.0, 0.0, G]
    acc = sensor_rot.inv().apply(f_world) + rng.normal(0, 0.1 * noise, (n, 3))
    gyr = _angular_velocity_body(sensor_rot, fs) + rng.normal(0, 0.01 * noise, (n, 3))
    rec = from_arrays(
        acc, gyr_rad_s=gyr, sampling_rate_hz=fs, placement=f"foot-{foot}",
        start_utc=datetime(2026, 5, 4, 17, 30, tzinfo=timezone.utc),
        sensor=SensorInfo("backstride", "simulator", "1", f"sim-shoe-{seed}"), source="simulated shoe run",
    )
    steps = pd.DataFrame({
        "ic_s": ic, "fc_s": ic + tc, "side": foot, "stride_time_s": stride_s,
        "contact_time_s": tc, "strike_angle_deg": angles,
    })
    return rec, SimTruth(steps=steps, bouts=[{"start_s": ic[0], "end_s": end, "activity": "running"}],
                         standing_s=(0.0, standing_s))
