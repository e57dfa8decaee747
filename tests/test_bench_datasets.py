"""bench/datasets.py: event matching (always) and the shared-data loaders (skip when absent).

The loader tests pin down the conventions verified on the data (rates, units,
event order, clocks); see the docstrings in bench/datasets.py for the evidence.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # bench/ is not an installed package
    sys.path.insert(0, str(ROOT))

from bench import datasets as D  # noqa: E402
from bench.datasets import in_windows, match_events  # noqa: E402
from conftest import need_dataset  # noqa: E402

from analysis.constants import GRAVITY_M_S2  # noqa: E402

# ---------------------------------------------------------------------------
# match_events / in_windows (no data needed)


def test_match_exact_and_offsets():
    m = match_events([1.0, 2.02, 3.0], [1.0, 2.0, 3.05], tolerance_s=0.1)
    assert (m["tp"], m["fp"], m["fn"]) == (3, 0, 0)
    assert m["precision"] == m["recall"] == m["f1"] == 1.0
    np.testing.assert_allclose(m["errors_s"], [0.0, 0.02, -0.05], atol=1e-12)  # detected - reference


def test_match_tolerance_is_inclusive_and_bounded():
    m = match_events([1.1, 2.1001], [1.0, 2.0], tolerance_s=0.1)
    assert (m["tp"], m["fp"], m["fn"]) == (1, 1, 1)
    assert m["f1"] == pytest.approx(0.5)


def test_match_is_one_to_one():
    m = match_events([0.99, 1.0, 1.01], [1.0], tolerance_s=0.05)
    assert (m["tp"], m["fp"], m["fn"]) == (1, 2, 0)
    assert m["errors_s"][0] == pytest.approx(0.0)
    assert m["precision"] == pytest.approx(1 / 3)
    assert m["recall"] == 1.0


def test_match_maximises_pairs_where_greedy_would_not():
    # Greedy by smallest error pairs 0.10↔0.06 (0.04) first and leaves 0.00 and 0.16
    # unmatched; the optimal assignment keeps both pairs.
    m = match_events([0.0, 0.10], [0.06, 0.16], tolerance_s=0.07)
    assert (m["tp"], m["fp"], m["fn"]) == (2, 0, 0)
    np.testing.assert_allclose(m["errors_s"], [-0.06, -0.06], atol=1e-12)


def test_match_pairs_index_the_inputs_as_given():
    det = [3.0, np.nan, 1.02]
    ref = [2.9, 1.0]
    m = match_events(det, ref, tolerance_s=0.15)
    assert m["tp"] == 2
    pairs = {tuple(p) for p in m["pairs"].tolist()}
    assert pairs == {(2, 1), (0, 0)}
    np.testing.assert_allclose(m["errors_s"], [0.02, 0.1], atol=1e-12)  # reference order: 1.0, then 2.9


def test_match_empty_inputs():
    m = match_events([], [1.0, 2.0], 0.1)
    assert (m["tp"], m["fp"], m["fn"]) == (0, 0, 2)
    assert m["recall"] == 0.0 and np.isnan(m["precision"]) and m["f1"] == 0.0
    m = match_events([1.0], [], 0.1)
    assert (m["tp"], m["fp"], m["fn"]) == (1 - 1, 1, 0)
    assert m["precision"] == 0.0 and np.isnan(m["recall"])
    m = match_events([], [], 0.1)
    assert m["tp"] == m["fp"] == m["fn"] == 0 and np.isnan(m["f1"])
    assert m["errors_s"].shape == (0,) and m["pairs"].shape == (0, 2)


def test_match_long_sequences_agree_with_construction():
    rng = np.random.default_rng(1)
    ref = np.cumsum(rng.uniform(0.45, 0.6, 2000))
    det = ref + rng.normal(0, 0.01, ref.size)
    det = np.delete(det, [10, 500, 1500])  # three misses
    det = np.sort(np.r_[det, ref[100] + 0.25, ref[900] + 0.26])  # two false alarms
    m = match_events(det, ref, 0.05)
    assert (m["tp"], m["fp"], m["fn"]) == (1997, 2, 3)
    assert np.abs(m["errors_s"]).max() < 0.05


def test_in_windows_with_margin():
    t = np.array([0.9, 1.0, 1.5, 2.0, 2.04, 3.0])
    w = [(1.0, 2.0)]
    assert in_windows(t, w).tolist() == [False, True, True, True, False, False]
    assert in_windows(t, w, margin_s=0.05).tolist() == [False, True, True, True, True, False]
    assert in_windows(t, []).tolist() == [False] * 6


def test_loaders_are_empty_without_data(tmp_path, monkeypatch):
    monkeypatch.setenv("BACKSTRIDE_SHARED", str(tmp_path / "nowhere"))
    assert D.datasets_root() is None
    assert D.gaitmap_trials() == []
    assert D.ipol_trials("lower-back") == []
    assert D.mobgap_trials() == []
    assert D.adept_running() is None
    assert D.uci_hapt_experiments() == []
    (tmp_path / "empty" / "datasets").mkdir(parents=True)
    monkeypatch.setenv("BACKSTRIDE_SHARED", str(tmp_path / "empty"))
    assert D.datasets_root() == tmp_path / "empty" / "datasets"
    assert D.gaitmap_trials() == [] and D.mobgap_trials() == [] and D.adept_running() is None


# ---------------------------------------------------------------------------
# helpers for the data tests


def _ics_inside_recording(trial):
    t = trial.recording.t_s
    for side, ic in trial.ic_s.items():
        assert len(ic), f"{trial.name}: no {side} ICs"
        assert ic.min() >= t[0] and ic.max() <= t[-1], trial.name
        assert np.all(np.diff(ic) > 0), trial.name


def _same_foot_intervals(trial):
    out = []
    for ic in trial.ic_s.values():
        for a, b in trial.windows_s:
            w = ic[(ic >= a) & (ic <= b)]
            out.extend(np.diff(w))
    return np.asarray(out)


# ---------------------------------------------------------------------------
# gaitmap example


@pytest.fixture(scope="module")
def gaitmap():
    need_dataset("gaitmap_example")
    return D.gaitmap_trials()


@pytest.mark.shared_data
def test_gaitmap_trials(gaitmap):
    names = [t.name for t in gaitmap]
    assert len(gaitmap) == 4 and len(set(names)) == 4
    for t in gaitmap:
        rec = t.recording
        assert rec.sampling_rate_hz == 204.8
        assert len(rec.data) == rec.n_samples == 7928 and rec.lost_samples == 0
        side = t.extra["foot"]
        assert rec.placement == f"foot-{side}" and list(t.ic_s) == [side]
        assert len(t.ic_s[side]) == (29 if side == "left" else 30)
        assert len(t.fc_s[side]) == (28 if side == "left" else 29)
        _ics_inside_recording(t)
        gyr_max = np.abs(rec.data[["gyr_x", "gyr_y", "gyr_z"]].to_numpy()).max()
        assert 5.0 < gyr_max < 20.0  # deg/s converted: 720 deg/s = 12.6 rad/s
        iv = _same_foot_intervals(t)
        assert len(iv) >= 25 and iv.min() > 0.9 and iv.max() < 1.3  # one healthy walker, steady pace
        assert len(t.extra["contralateral_ic_s"]) in (29, 30)


@pytest.mark.shared_data
def test_gaitmap_rotated_file_is_the_raw_file_in_foot_frame(gaitmap):
    by = {t.name: t.recording.data for t in gaitmap}
    left, left_raw = by["gaitmap_example left shoe"], by["gaitmap_example left shoe raw-frame"]
    right, right_raw = by["gaitmap_example right shoe"], by["gaitmap_example right shoe raw-frame"]
    for k in ("acc", "gyr"):
        np.testing.assert_allclose(left[f"{k}_x"], left_raw[f"{k}_y"], atol=1e-9)
        np.testing.assert_allclose(left[f"{k}_y"], left_raw[f"{k}_z"], atol=1e-9)
        np.testing.assert_allclose(left[f"{k}_z"], left_raw[f"{k}_x"], atol=1e-9)
        np.testing.assert_allclose(right[f"{k}_x"], -right_raw[f"{k}_y"], atol=1e-9)
        np.testing.assert_allclose(right[f"{k}_y"], -right_raw[f"{k}_z"], atol=1e-9)
        np.testing.assert_allclose(right[f"{k}_z"], right_raw[f"{k}_x"], atol=1e-9)
    # foot frame: z up at rest, and the foot rolls toe-down (gyr_y > 0) right after IC
    assert left["acc_z"].iloc[:100].mean() == pytest.approx(GRAVITY_M_S2, abs=0.5)
    t = next(t for t in gaitmap if t.name == "gaitmap_example left shoe")
    idx = np.round(t.ic_s["left"] * 204.8).astype(int)
    after = np.array([left["gyr_y"].iloc[i + 5 : i + 15].mean() for i in idx])
    assert np.mean(after > 0) > 0.9


@pytest.mark.shared_data
def test_gaitmap_windows_and_strike_angles(gaitmap):
    t = next(t for t in gaitmap if t.name == "gaitmap_example left shoe")
    assert len(t.windows_s) == 2  # split at the turn, where the reference misses a step
    (a0, b0), (a1, b1) = t.windows_s
    assert b0 == pytest.approx(3308 / 204.8) and a1 == pytest.approx(3774 / 204.8)
    for t in gaitmap:
        ang = t.extra["strike_angle_deg"]
        assert len(ang) == len(t.ic_s[t.extra["foot"]]) == len(t.extra["ic_for_angle_s"])
        assert np.all(np.abs(t.extra["foot_flat_pitch_deg"]) < 5)
        assert np.median(ang) == pytest.approx(27, abs=4)  # heel strikes, toe up
        assert ang.min() > 5 and ang.max() < 35
        assert np.all(t.extra["foot_flat_s"] > t.extra["ic_for_angle_s"])


# ---------------------------------------------------------------------------
# IPOL


@pytest.fixture(scope="module")
def ipol():
    need_dataset("ipol_gait")
    return {p: D.ipol_trials(p) for p in ("lower-back", "foot-left", "foot-right")}


@pytest.mark.shared_data
def test_ipol_trials(ipol):
    for placement, trials in ipol.items():
        assert len(trials) == 52
        for t in trials:
            rec = t.recording
            assert rec.sampling_rate_hz == 100.0 and rec.placement == placement
            assert rec.data.index[0] in (0, 1, 2)  # raw PacketCounter
            assert not rec.has_mag
            assert len(t.windows_s) == 2 and t.windows_s[0][1] < t.windows_s[1][0]
            _ics_inside_recording(t)
            if placement == "lower-back":
                assert set(t.ic_s) == {"left", "right"}
            else:
                assert list(t.ic_s) == [placement.split("-")[1]] and len(t.extra["contralateral_ic_s"])
            iv = _same_foot_intervals(t)
            assert 0.8 < np.median(iv) < 1.7, t.name
            assert iv.min() > 0.6 and iv.max() < 3.0, t.name  # subject 2 walks slowly (strides to 2.7 s)
    t = next(t for t in ipol["lower-back"] if t.name == "ipol_gait 1-1 lower-back")
    assert len(t.recording.data) == 2913 and t.recording.n_samples == 3037 and t.recording.lost_samples == 124


@pytest.mark.shared_data
def test_ipol_pairs_are_toe_off_then_initial_contact(ipol):
    swing, stance = [], []
    for t in ipol["lower-back"]:
        for side in ("left", "right"):
            ic, fc = t.ic_s[side], t.fc_s[side]
            for k in range(len(ic)):
                prev = fc[fc < ic[k]]
                nxt = fc[fc > ic[k]]
                if len(prev):
                    swing.append(ic[k] - prev[-1])
                if len(nxt):
                    stance.append(nxt[0] - ic[k])
    assert 0.3 < np.median(swing) < 0.5 < 0.55 < np.median(stance) < 0.9


@pytest.mark.shared_data
def test_ipol_events_are_on_the_packet_counter(ipol):
    # 3-3 lost 532 left-foot packets; on the PacketCounter clock the foot impact
    # (|acc| peak) still follows each IC within a few samples.
    t = next(t for t in ipol["foot-left"] if t.name == "ipol_gait 3-3 foot-left")
    assert t.recording.lost_samples > 500
    df = t.recording.data
    an = np.linalg.norm(df[["acc_x", "acc_y", "acc_z"]].to_numpy(), axis=1)
    ts = t.recording.t_s
    offs = []
    for ic in t.ic_s["left"]:
        sel = (ts >= ic - 0.1) & (ts <= ic + 0.1)
        if sel.sum() > 10:
            offs.append(ts[sel][np.argmax(an[sel])] - ic)
    offs = np.asarray(offs)
    assert len(offs) >= 15
    assert np.mean((offs > -0.07) & (offs < 0.08)) > 0.9


# ---------------------------------------------------------------------------
# mobgap


@pytest.fixture(scope="module")
def mobgap():
    need_dataset("mobgap_lab")
    return D.mobgap_trials()


@pytest.mark.shared_data
def test_mobgap_trials(mobgap):
    names = {t.name for t in mobgap}
    for who in ("HA/001", "MS/001"):
        for test in ("Test5 Trial1", "Test5 Trial2", "Test11 Trial1"):
            assert f"mobgap_lab {who} {test} lower-back" in names
    assert "mobgap_lab HA/002 Test11 Trial1 lower-back" in names  # HA/002 Test5 has no reference
    assert len(mobgap) == 7
    for t in mobgap:
        rec = t.recording
        assert rec.sampling_rate_hz == 100.0 and rec.placement == "lower-back" and rec.lost_samples == 0
        assert rec.start_utc is not None and rec.start_utc.tzinfo is not None
        assert rec.start_utc == datetime.fromisoformat(t.extra["start_date_time"]).astimezone(timezone.utc)
        acc_norm = np.linalg.norm(rec.data[["acc_x", "acc_y", "acc_z"]].to_numpy(), axis=1)
        assert np.median(acc_norm) == pytest.approx(GRAVITY_M_S2, abs=0.5)  # g → m/s²
        assert np.abs(rec.data[["gyr_x", "gyr_y", "gyr_z"]].to_numpy()).max() < 10  # deg/s → rad/s
        _ics_inside_recording(t)
        all_ic = t.all_ic_s()
        assert in_windows(all_ic, t.windows_s, 1e-9).all()  # every reference IC lies in a micro-WB
        steps = np.concatenate([np.diff(all_ic[in_windows(all_ic, [w], 1e-9)]) for w in t.windows_s])
        assert 0.4 < np.median(steps) < 0.8, t.name
        if "Test5" in t.name:
            assert len(t.windows_s) == 1
            iv = _same_foot_intervals(t)
            assert iv.min() > 0.8 and iv.max() < 1.5
    t = next(t for t in mobgap if t.name == "mobgap_lab HA/001 Test5 Trial1 lower-back")
    # INDIP gives the first IC (left) at 5.05 s, MATLAB 1-based: 5.04 s from the first sample
    assert t.ic_s["left"][0] == pytest.approx(5.05 - 0.01)
    assert t.windows_s[0][0] == pytest.approx(5.04)


# ---------------------------------------------------------------------------
# adept running and UCI HAPT


@pytest.mark.shared_data
def test_adept_running():
    need_dataset("adept_running")
    hip, shoe = D.adept_running()
    assert hip.placement == "lower-back" and shoe.placement == "foot-left"
    for rec in (hip, shoe):
        assert rec.sampling_rate_hz == 100.0 and len(rec.data) == rec.n_samples == 75000
        assert rec.start_utc == datetime(2018, 10, 25, 17, 57, 30, tzinfo=timezone.utc)
        assert not rec.has_gyr
    hip_norm = np.linalg.norm(hip.data.to_numpy(), axis=1)
    assert np.median(hip_norm) == pytest.approx(GRAVITY_M_S2, rel=0.3)


@pytest.mark.shared_data
def test_uci_hapt():
    need_dataset("uci_hapt")
    exps = D.uci_hapt_experiments()
    assert len(exps) == 31 and {e.user for e in exps} == set(range(1, 16))
    assert sum(len(e.labels) for e in exps) == 613
    e = exps[0]
    assert (e.experiment, e.user, e.sampling_rate_hz) == (1, 1, 50.0)
    assert e.acc_g.shape == (20598, 3) and len(e.recording.data) == 20598
    assert e.labels[0].activity == "STANDING" and e.labels[0].start_sample == 249
    lab = e.label_array()
    assert lab.shape == (20598,) and set(np.unique(lab)) <= set(range(13))
    for x in exps:
        for a, b in zip(x.labels[:-1], x.labels[1:]):
            assert 0 <= a.start_sample < a.end_sample <= b.start_sample <= len(x.acc_g)
        still = [lb for lb in x.labels if lb.activity in ("STANDING", "SITTING", "LAYING")]
        if not still:  # experiment 21 (user 10) holds walking only
            continue
        g = np.concatenate([np.linalg.norm(x.acc_g[lb.start_sample : lb.end_sample], axis=1) for lb in still])
        assert np.median(g) == pytest.approx(1.0, abs=0.1)


# ---------------------------------------------------------------------------
# peer runner (no peer environment needed)


def test_run_peer_without_peer_venv_returns_none(tmp_path, monkeypatch):
    from bench.peers import runner

    monkeypatch.setattr(runner, "PEER_VENV", tmp_path / "no-venv")
    assert runner.peer_python() is None
    with pytest.warns(RuntimeWarning, match="setup.sh"):
        out = runner.run_peer("skdh", {"acc_m_s2": np.zeros((10, 3)), "sampling_rate_hz": 100.0})
    assert out is None
    with pytest.raises(ValueError):
        runner.run_peer("nope", {})


def test_mobgap_has_its_own_peer_venv(tmp_path, monkeypatch):
    """mobgap pins another numpy than SKDH: its venv is looked up on its own, and its absence skips only it."""
    from bench.peers import runner

    monkeypatch.setattr(runner, "MOBGAP_VENV", tmp_path / "no-mobgap-venv")
    assert runner.peer_python("mobgap") is None and not runner.peers_available("mobgap")
    with pytest.warns(RuntimeWarning, match="no-mobgap-venv"):
        assert runner.run_peer("mobgap", {"acc_m_s2": np.zeros((10, 3)), "sampling_rate_hz": 100.0}) is None


def test_window_scoring_neither_rewards_nor_punishes_edge_detections():
    """bench.validate scores hits/misses on reference events inside the windows and false alarms on
    unmatched detections inside them: a detection matching a labelled event just outside a window counts for
    nothing, one matching nothing near the edge is a false alarm."""
    import numpy as np

    from bench.validate import _score_in_windows

    ref = np.array([1.0, 2.0, 3.0, 4.0, 5.0])  # 5.0 is outside the window (a U-turn step)
    windows = [(1.0, 4.0)]
    det = np.array([0.99, 2.02, 3.01, 4.9, 3.5])  # 4.9 matches 5.0; 3.5 matches nothing; 4.0 missed
    r = _score_in_windows(det, ref, windows)
    assert (r["tp"], r["fn"], r["fp"]) == (3, 1, 1)
    np.testing.assert_allclose(np.sort(r["errors_s"]), [-0.01, 0.01, 0.02], atol=1e-9)
