"""Accuracy of backstride on real labelled data (../shared/datasets), beside its peers.

    make validate            # or: .venv/bin/python bench/validate.py [--no-peers] [--out bench/RESULTS.md]

What is measured (every figure names the data it rests on):

* Shoe IC: gaitmap_example (motion capture) and ipol_gait feet (validated
  detections checked by hand) — precision, recall, F1, median and 95th
  percentile |timing error|.
* Lower-back IC: ipol_gait ``_lb`` and mobgap_lab (INDIP reference) — same.
* Strike angle: gaitmap_example, against the sole pitch from heel/toe
  markers (motion capture) at each reference IC.
* Running: adept_running — the hip sensor's left steps against the left
  shoe's impacts (no reference labels exist for running here).

Events are matched one-to-one within ``TOLERANCE_S`` and only inside the
windows where the reference is complete.  Peers (scikit-digital-health for
the lower back, gaitmap for the shoe) run on the same inputs in their own
environment (``bash bench/peers/setup.sh``), and their figures are printed
beside ours.  Nothing here is tuned: the algorithms' parameters are the
documented defaults.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.pipeline import analyse  # noqa: E402
from bench import datasets as ds  # noqa: E402

TOLERANCE_S = 0.15


def _pool(results: list[dict]) -> dict:
    tp = sum(r["tp"] for r in results)
    fp = sum(r["fp"] for r in results)
    fn = sum(r["fn"] for r in results)
    errs = np.concatenate([np.asarray(r["errors_s"], float) for r in results]) if results else np.array([])
    p = tp / (tp + fp) if tp + fp else float("nan")
    r = tp / (tp + fn) if tp + fn else float("nan")
    f1 = 2 * p * r / (p + r) if p + r else float("nan")
    a = np.abs(errs)
    return {"tp": tp, "fp": fp, "fn": fn, "precision": p, "recall": r, "f1": f1,
            "median_abs_ms": float(np.median(a) * 1000) if len(a) else float("nan"),
            "p95_abs_ms": float(np.percentile(a, 95) * 1000) if len(a) else float("nan"),
            "median_signed_ms": float(np.median(errs) * 1000) if len(errs) else float("nan"),
            "trials": len(results)}


def _inside(times, windows):
    times = np.asarray(times, float)
    return times[ds.in_windows(times, windows)] if len(times) else times


def _eval_ic(trials, detect) -> dict:
    out = []
    for t in trials:
        det = detect(t)
        if det is None:
            continue
        ref = np.sort(np.concatenate([np.asarray(v, float) for v in t.ic_s.values()]))
        out.append(ds.match_events(_inside(det, t.windows_s), _inside(ref, t.windows_s), TOLERANCE_S))
    return _pool(out)


def ours_ic(t):
    rep = analyse(t.recording)
    return rep.steps["ic_s"].to_numpy(float)


def _peer(name, t):
    from bench.peers.runner import peers_available, recording_inputs, run_peer

    if not peers_available():
        return None
    inputs = recording_inputs(t.recording, **({"frame": "raw"} if name == "gaitmap" else {}))
    try:
        res = run_peer(name, inputs)
    except Exception as exc:  # a peer failing on one trial must not stop the bench
        print(f"  {name} failed on {t.name}: {exc}", file=sys.stderr)
        return np.array([])
    return None if res is None else np.asarray(res.get("ic_s", []), float)


def strike_angles(trials) -> dict:
    errs = []
    for t in trials:
        ref = t.extra.get("strike_angle_deg")
        ref_ic = t.extra.get("ic_for_angle_s")
        if ref is None or ref_ic is None:
            continue
        rep = analyse(t.recording)
        m = ds.match_events(rep.steps["ic_s"].to_numpy(float), np.asarray(ref_ic, float), TOLERANCE_S)
        ours = rep.steps["strike_angle_deg"].to_numpy(float)
        for d, r in m["pairs"]:
            if np.isfinite(ours[d]) and np.isfinite(ref[r]):
                errs.append(ours[d] - ref[r])
    e = np.asarray(errs)
    return {"n": len(e), "median_abs_deg": float(np.median(np.abs(e))) if len(e) else float("nan"),
            "p95_abs_deg": float(np.percentile(np.abs(e), 95)) if len(e) else float("nan"),
            "median_signed_deg": float(np.median(e)) if len(e) else float("nan")}


def running_agreement() -> dict | None:
    pair = ds.adept_running()
    if pair is None:
        return None
    hip, shoe = pair
    rh = analyse(hip.with_placement("lower-back"))
    rs = analyse(shoe)
    hip_steps = rh.steps[rh.steps["activity"] == "running"]
    shoe_ic = rs.steps["ic_s"].to_numpy(float)
    m_all = ds.match_events(hip_steps["ic_s"].to_numpy(float), shoe_ic, 0.1)
    left = hip_steps["side"].to_numpy()
    matched_hip = [d for d, _ in m_all["pairs"]]
    side_ok = float(np.mean(left[matched_hip] == "left")) if matched_hip else float("nan")
    return {
        "hip_cadence_spm": float(hip_steps["cadence_spm"].median()),
        "shoe_cadence_spm": float(rs.steps["cadence_spm"].median()),
        "shoe_impacts": int(len(shoe_ic)), "hip_steps": int(len(hip_steps)),
        "shoe_impacts_with_a_hip_step_within_100ms": float(m_all["recall"]),
        "median_abs_ms": float(np.median(np.abs(m_all["errors_s"])) * 1000) if len(m_all["errors_s"]) else float("nan"),
        "matched_hip_steps_labelled_left": side_ok,
    }


def _row(name, data, r):
    return (f"| {name} | {data} | {r['trials']} | {r['tp'] + r['fn']} | {r['precision']:.3f} | {r['recall']:.3f} | "
            f"**{r['f1']:.3f}** | {r['median_abs_ms']:.1f} | {r['p95_abs_ms']:.1f} | {r['median_signed_ms']:+.1f} |")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--out", default=None, help="write the markdown section here")
    args = ap.parse_args()
    if ds.datasets_root() is None:
        print("../shared/datasets not found: nothing to validate (set BACKSTRIDE_SHARED)")
        return 0
    t0 = time.time()
    sets = {
        ("shoe", "gaitmap_example"): [t for t in ds.gaitmap_trials() if t.extra.get("frame", "") != "raw"] or ds.gaitmap_trials(),
        ("shoe", "ipol_gait feet"): ds.ipol_trials("foot-left") + ds.ipol_trials("foot-right"),
        ("lower back", "ipol_gait _lb"): ds.ipol_trials("lower-back"),
        ("lower back", "mobgap_lab INDIP"): ds.mobgap_trials(),
    }
    lines = ["| detector | data | trials | reference ICs | precision | recall | F1 | median abs error ms | p95 abs error ms | median signed ms |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    figures = {}
    for (kind, data), trials in sets.items():
        r = _eval_ic(trials, ours_ic)
        figures[(kind, data, "backstride")] = r
        lines.append(_row(f"backstride ({kind})", data, r))
        print(lines[-1], flush=True)
        if not args.no_peers:
            peer = "skdh" if kind == "lower back" else "gaitmap"
            rp = _eval_ic(trials, lambda t, p=peer: _peer(p, t))
            if rp["trials"]:
                figures[(kind, data, peer)] = rp
                lines.append(_row(f"{'scikit-digital-health' if peer == 'skdh' else 'gaitmap'} ({kind})", data, rp))
                print(lines[-1], flush=True)
    sa = strike_angles(ds.gaitmap_trials())
    run = running_agreement()
    md = ["## Accuracy (bench/validate.py)", "",
          f"Measured {time.strftime('%Y-%m-%d')} on ../shared/datasets; events matched one-to-one within "
          f"±{TOLERANCE_S * 1000:.0f} ms, inside the reference windows.", "", *lines, "",
          f"**Strike angle** (gaitmap_example, sole pitch from heel/toe markers at the reference IC, n = {sa['n']}): "
          f"median |error| {sa['median_abs_deg']:.1f}°, p95 {sa['p95_abs_deg']:.1f}°, median signed {sa['median_signed_deg']:+.1f}°."]
    if run:
        md += ["", "**Running** (adept_running, 12.5 min outdoor run, hip and left-shoe accelerometers, no labels): "
               f"hip cadence {run['hip_cadence_spm']:.1f} vs shoe {run['shoe_cadence_spm']:.1f} steps/min; "
               f"{run['shoe_impacts_with_a_hip_step_within_100ms'] * 100:.1f} % of {run['shoe_impacts']} shoe impacts have a hip step within 100 ms "
               f"(median |Δt| {run['median_abs_ms']:.0f} ms); {run['matched_hip_steps_labelled_left'] * 100:.1f} % of those hip steps are labelled left "
               "(the shoe is on the left foot)."]
    md += ["", f"(run time {time.time() - t0:.0f} s)"]
    text = "\n".join(md)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
