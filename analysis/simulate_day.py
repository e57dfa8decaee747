"""Simulated all-day recordings with known truth, for tests and the workday sample.

A day is a list of ``(activity, duration_s)`` items.  Activities: ``standing``,
``sitting`` (upright), ``slumped`` (sitting with the pelvis tilted back a
further 15°), ``lying``, ``walking``, ``running``, ``nonwear`` (sensor lying
still on a table), ``gap`` (no samples).  Between sitting and an upright
posture a sit-to-stand or stand-to-sit of ``transition_s`` is inserted (it
belongs to the item it leads into; truth marks it).

Body model (body frame x forward, y left, z up; pitch about +y, forward
positive): lower-back standing 0°, walking +3°, sitting −25° (posterior
pelvic tilt), slumped −40°, lying −90°; thigh standing 0°, walking ±20° swing,
sitting and lying −90° (thigh horizontal).  Gait: one vertical bump per step
(walking 0.35 g, no flight; running: half-sine stance, free fall between).
Still postures carry breathing (0.25 Hz) and a slow posture drift of a few
degrees, as people do; the table (non-wear) carries sensor noise only.
"""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pandas as pd
from scipy.spatial.transform import Rotation

from analysis.constants import GRAVITY_M_S2 as G
from sensing.recording import Recording, SensorInfo, from_arrays

PITCH_DEG = {
    "lower-back": {"standing": 0.0, "walking": 3.0, "running": 8.0, "sitting": -25.0, "slumped": -40.0, "lying": -90.0},
    "thigh": {"standing": 0.0, "walking": 5.0, "running": 10.0, "sitting": -90.0, "slumped": -90.0, "lying": -90.0},
}
SITTING = ("sitting", "slumped")
UPRIGHT = ("standing", "walking", "running")


def simulate_day(schedule: list[tuple[str, float]], *, sampling_rate_hz: float, placement: str = "lower-back",
                 mount: Rotation | None = None, start_utc: datetime | None = None, transition_s: float = 2.5,
                 seed: int = 0, with_gyr: bool = False, quantum_m_s2: float = 0.0,
                 pelvis_height_change_m: float | None = None,
                 pitch_deg: dict[str, float] | None = None) -> tuple[Recording, pd.DataFrame, pd.DataFrame]:
    """Build the recording; return it with its truth segments and transitions.

    ``pelvis_height_change_m``: when given, a sit-to-stand raises the sensor
    by exactly this height (and a stand-to-sit lowers it) along a minimum-jerk
    path over the transition, so the vertical acceleration is the closed-form
    second derivative of that path; by default the older profile (one sine
    period of 0.25 g, direction right but height unrealistic) is kept.
    ``pitch_deg`` overrides the posture pitches of the body model (e.g. a
    person who sits as upright as they stand).

    Truth ``segments``: ``start_s``, ``end_s``, ``activity`` (``slumped`` is
    reported as ``sitting`` with ``slumped`` True; transitions are their own
    rows ``transition``).  Truth ``transitions``: ``t_s`` (middle),
    ``kind``, ``duration_s``.
    """
    fs = float(sampling_rate_hz)
    rng = np.random.default_rng(seed)
    kind = "thigh" if placement.startswith("thigh") else "lower-back"
    pitch_tab = {**PITCH_DEG[kind], **(pitch_deg or {})}
    segs, trans = [], []
    t = 0.0
    prev = None
    items = []
    for act, dur in schedule:
        if prev is not None and ((prev in SITTING and act in UPRIGHT) or (prev in UPRIGHT and act in SITTING)):
            k = "sit-to-stand" if prev in SITTING else "stand-to-sit"
            items.append(("transition", transition_s, prev, act))
            trans.append({"t_s": t + transition_s / 2, "kind": k, "duration_s": transition_s})
            segs.append({"start_s": t, "end_s": t + transition_s, "activity": "transition", "slumped": False})
            t += transition_s
        items.append((act, dur, None, None))
        segs.append({"start_s": t, "end_s": t + dur, "activity": "sitting" if act == "slumped" else act,
                     "slumped": act == "slumped"})
        t += dur
        if act != "gap":
            prev = act if act not in ("nonwear",) else None
    n_total = int(round(t * fs))
    pitch = np.zeros(n_total)
    roll = np.zeros(n_total)
    a_lin = np.zeros((n_total, 3))
    keep = np.ones(n_total, bool)
    table = np.zeros(n_total, bool)
    t0 = 0.0
    for act, dur, frm, to in items:
        a, b = int(round(t0 * fs)), int(round((t0 + dur) * fs))
        tt = (np.arange(a, b) / fs) - t0
        m = b - a
        if act == "transition":
            p0, p1 = pitch_tab[frm], pitch_tab[to]
            u = tt / dur
            flex = 30.0 * np.sin(np.pi * u) if kind == "lower-back" else 0.0
            pitch[a:b] = p0 + (p1 - p0) * (0.5 - 0.5 * np.cos(np.pi * u)) + flex
            sign = 1.0 if to in UPRIGHT else -1.0
            if pelvis_height_change_m is None:
                a_lin[a:b, 2] = sign * 0.25 * G * np.sin(2 * np.pi * u)
            else:  # minimum-jerk height h(u) = D (10u³ − 15u⁴ + 6u⁵): h'' = D/T² (60u − 180u² + 120u³)
                a_lin[a:b, 2] = sign * pelvis_height_change_m / dur**2 * (60 * u - 180 * u**2 + 120 * u**3)
            a_lin[a:b, 0] = 0.1 * G * np.sin(2 * np.pi * u)
        elif act in ("walking", "running"):
            cad = 110.0 if act == "walking" else 165.0
            step = 60.0 / cad
            ph = (tt / step) % 1.0
            stride_ph = 2 * np.pi * tt / (2 * step)
            if act == "walking":
                bump = 0.35 * G * np.sin(2 * np.pi * ph - np.pi / 2)
                a_lin[a:b, 2] = bump
                a_lin[a:b, 0] = 0.15 * G * np.sin(2 * np.pi * ph)
                a_lin[a:b, 1] = 0.08 * G * np.sin(stride_ph)
            else:
                tc = 0.26
                f_up = np.where(ph * step < tc, (np.pi / 2) * G * step / tc * np.sin(np.pi * ph * step / tc), 0.0)
                a_lin[a:b, 2] = f_up - G
                a_lin[a:b, 0] = np.where(ph * step < tc, -0.5 * G * np.sin(2 * np.pi * ph * step / tc), 0.0)
            scale = 1.3 if kind == "thigh" else 1.0
            a_lin[a:b] *= scale if act == "walking" else 1.0
            swing = (20.0 if act == "walking" else 35.0) * np.sin(stride_ph) if kind == "thigh" else 1.5 * np.sin(2 * np.pi * ph)
            pitch[a:b] = pitch_tab[act] + swing
        elif act == "gap":
            keep[a:b] = False
        elif act == "nonwear":
            table[a:b] = True
        else:
            drift = np.cumsum(rng.normal(0, 1.0, m)) / np.sqrt(max(fs, 1) * 60.0)  # ~1° per minute random walk
            drift = np.clip(drift - drift.mean(), -5, 5)
            pitch[a:b] = pitch_tab[act] + drift
            rdrift = np.cumsum(rng.normal(0, 1.0, m)) / np.sqrt(max(fs, 1) * 60.0)
            roll[a:b] = np.clip(rdrift - rdrift.mean(), -5, 5)
            a_lin[a:b, 2] = 0.004 * G * np.sin(2 * np.pi * 0.25 * tt)
            # fidget: a small shift every ~4 min that returns where it started (displacement X sin²(πt/T),
            # acceleration X 2π²/T² cos(2πt/T): the pelvis moves a few cm and back, as in a real fidget)
            for c in np.arange(rng.uniform(30, 240), dur - 3, 240.0):
                i0 = a + int(c * fs)
                k = np.arange(int(1.5 * fs))
                a_lin[i0:i0 + len(k)] += 0.05 * G * np.cos(2 * np.pi * k / len(k))[:, None] * rng.normal(0, 1, 3)
        t0 += dur
    body = Rotation.from_euler("yx", np.column_stack([pitch, roll]), degrees=True)
    sensor_rot = body * (mount or Rotation.identity())
    f_world = a_lin + np.array([0.0, 0.0, G])
    acc = sensor_rot.inv().apply(f_world)
    if table.any():  # sensor lying flat on a table, whatever the mount
        acc[table] = [0.0, 0.0, G]
    acc += rng.normal(0, 0.003 * G, acc.shape)
    if quantum_m_s2 > 0:
        acc = np.round(acc / quantum_m_s2) * quantum_m_s2
    gyr = None
    if with_gyr:
        rv = (sensor_rot[1:] * sensor_rot[:-1].inv()).as_rotvec() * fs
        gyr = sensor_rot[:-1].inv().apply(rv)
        gyr = np.vstack([gyr, gyr[-1:]]) + rng.normal(0, 0.005, acc.shape)
        gyr[table] = rng.normal(0, 0.005, (int(table.sum()), 3))
    idx = np.flatnonzero(keep)
    rec = from_arrays(acc[keep], gyr_rad_s=None if gyr is None else gyr[keep], sampling_rate_hz=fs, sample_index=idx,
                      start_utc=start_utc or datetime(2026, 5, 4, 6, 0, tzinfo=timezone.utc), placement=placement,
                      sensor=SensorInfo("backstride", "day simulator", "1", f"sim-day-{seed}"), source="simulated day")
    return rec, pd.DataFrame(segs), pd.DataFrame(trans, columns=["t_s", "kind", "duration_s"])
