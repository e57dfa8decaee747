"""Accuracy of backstride on real labelled data (../shared/datasets), beside its peers.

    make validate            # or: .venv/bin/python bench/validate.py [--no-peers] [--out bench/RESULTS.md]

What is measured (every figure names the data it rests on):

* Shoe IC: gaitmap_example (motion capture) and ipol_gait feet (validated
  detections checked by hand) — precision, recall, F1, median and 95th
  percentile |timing error|.
* Lower-back IC: ipol_gait ``_lb`` and mobgap_lab (INDIP reference) — same.
* Strike angle: gaitmap_example, against the sole pitch from heel/toe
  markers (motion capture) at each reference IC.
* Running: adept_running — the hip sensor's steps against the left shoe's
  impacts, per bout after removing the two devices' clock offset (no
  reference labels exist for running here; see :func:`running_agreement`).

Events are matched one-to-one within ``TOLERANCE_S`` (all detections to all
reference events), then scored only inside the windows where the reference is
complete (:func:`_score_in_windows`).  ``--peer-cache DIR`` keeps the peers'
detections per trial, so reruns skip the slow peers; ``--only TEXT`` runs
the data sets whose name contains TEXT.  Peers (scikit-digital-health and
mobgap's Mobilise-D pipelines P1 and P2 for the lower back, gaitmap for the
shoe; :data:`PEERS`) run on the same inputs in their own environments
(``bash bench/peers/setup.sh``), and their figures are printed beside ours.
Nothing here is tuned: the algorithms' parameters are the documented defaults.
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


def _inside(times, windows, margin_s=0.0):
    times = np.asarray(times, float)
    return times[ds.in_windows(times, windows, margin_s)] if len(times) else times


def _score_in_windows(det: np.ndarray, ref: np.ndarray, windows) -> dict:
    """Match all detections to all reference events, then score inside the windows.

    Hits and misses count for reference events inside the windows (where the
    reference is complete); a false alarm is a detection inside a window
    (widened by the tolerance) that matches no reference event at all.  So a
    detection at a window's edge that matches a labelled event just outside
    it (a step into ipol_gait's U-turn) is neither a hit nor a false alarm.
    """
    det = det[np.isfinite(det)]
    m = ds.match_events(det, ref, TOLERANCE_S)
    pairs = m["pairs"]
    ref_in = ds.in_windows(ref, windows)
    det_in = ds.in_windows(det, windows, TOLERANCE_S)
    matched_det = np.zeros(len(det), bool)
    matched_det[pairs[:, 0]] = True
    keep = ref_in[pairs[:, 1]] if len(pairs) else np.zeros(0, bool)
    tp = int(keep.sum())
    fn = int(ref_in.sum()) - tp
    fp = int((det_in & ~matched_det).sum())
    errors = (det[pairs[keep, 0]] - ref[pairs[keep, 1]]) if len(pairs) else np.zeros(0)
    return {"tp": tp, "fp": fp, "fn": fn, "errors_s": errors}


def _eval_ic(trials, detect, events: str = "ic_s") -> dict:
    """``detect(trial)``'s event times against the trial's reference ``events`` (``ic_s`` or ``fc_s``, both feet)."""
    out = []
    for t in trials:
        det = detect(t)
        if det is None:
            continue
        ref = np.sort(np.concatenate([np.asarray(v, float) for v in getattr(t, events).values()]))
        out.append(_score_in_windows(np.asarray(det, float), ref, t.windows_s))
    return _pool(out)


_REPORTS: dict[str, object] = {}  # one analysis per trial, shared by the IC and side scores


def _ours(t):
    if t.name not in _REPORTS:
        _REPORTS[t.name] = analyse(t.recording)
    return _REPORTS[t.name]


def ours_ic(t):
    return _ours(t).steps["ic_s"].to_numpy(float)


def fc_score(trials) -> dict:
    """Final contacts (toe-offs) of our steps against the reference FCs of both feet, scored as the ICs are."""
    return _eval_ic(trials, lambda t: _ours(t).steps["fc_s"].to_numpy(float), events="fc_s")


def side_accuracy(trials) -> dict:
    """Lower back: share of matched steps (inside the reference windows) whose left/right is the reference foot's."""
    right = total = 0
    for t in trials:
        steps = _ours(t).steps
        det = steps["ic_s"].to_numpy(float)
        ref = np.concatenate([np.asarray(v, float) for v in t.ic_s.values()])
        ref_side = np.concatenate([[k] * len(v) for k, v in t.ic_s.items()])
        ok = np.isfinite(det)
        det, det_side = det[ok], steps["side"].to_numpy()[ok]
        pairs = ds.match_events(det, ref, TOLERANCE_S)["pairs"]
        if not len(pairs):
            continue
        pairs = pairs[ds.in_windows(ref[pairs[:, 1]], t.windows_s)]
        right += int(np.sum(det_side[pairs[:, 0]] == ref_side[pairs[:, 1]]))
        total += len(pairs)
    return {"right": right, "steps": total, "share": right / total if total else float("nan")}


PEER_CACHE: Path | None = None  # --peer-cache: peers' ICs per trial, so reruns skip the slow peers


#: Peers per placement kind: (runner name, options, label).  mobgap runs the Mobilise-D pipelines' gait
#: sequence and IC detectors: P1 (healthy and mildly impaired gait) and P2 (impaired gait).
PEERS = {
    "lower back": [("skdh", None, "scikit-digital-health"),
                   ("mobgap", {"gsd": "iluz"}, "mobgap P1: GsdIluz + IcdIonescu"),
                   ("mobgap", {"gsd": "ionescu"}, "mobgap P2: GsdIonescu + IcdIonescu")],
    "shoe": [("gaitmap", None, "gaitmap")],
}
#: mobgap has no sensor-to-body alignment: it needs to be told which sensor axes point up and forward (each
#: data set's mount, read off our alignment of its trials: x up in both, z backward on ipol_gait's L5 sensor,
#: forward on the Mobilise-D sensor, whose frame mobgap's convention is).
MOBGAP_AXES = {"ipol_gait": {"is": "+x", "pa": "-z"}, "mobgap_lab": {"is": "+x", "pa": "+z"}}


def _peer(name, t, options=None):
    from bench.peers.runner import peers_available, recording_inputs, run_peer

    cache = None
    if PEER_CACHE is not None:
        tag = "" if not options else " " + " ".join(f"{k}={v}" for k, v in sorted(options.items()))
        key = "".join(c if c.isalnum() else "_" for c in f"{name}{tag} {t.name}")
        cache = PEER_CACHE / f"{key}.npy"
        if cache.exists():
            return np.load(cache)
    if not peers_available(name):
        return None
    extra = {"frame": "raw"} if name == "gaitmap" else {}
    if name == "mobgap":
        axes = next((v for k, v in MOBGAP_AXES.items() if t.name.startswith(k)), None)
        if axes is None:
            return None
        extra["options"] = {**(options or {}), "axes": axes}
    inputs = recording_inputs(t.recording, **extra)
    try:
        res = run_peer(name, inputs)
    except Exception as exc:  # a peer failing on one trial must not stop the bench
        print(f"  {name} failed on {t.name}: {exc}", file=sys.stderr)
        return np.array([])
    if res is None:
        return None
    ic = np.asarray(res.get("ic_s", []), float)
    if cache is not None:
        PEER_CACHE.mkdir(parents=True, exist_ok=True)
        np.save(cache, ic)
    return ic


def strike_angles(trials, steps_of=None) -> dict:
    """Strike angle against motion capture; ``steps_of(trial)`` gives the steps table (default: this run's analysis)."""
    steps_of = steps_of or (lambda t: _ours(t).steps)
    errs = []
    for t in trials:
        ref = t.extra.get("strike_angle_deg")
        ref_ic = t.extra.get("ic_for_angle_s")
        if ref is None or ref_ic is None:
            continue
        steps = steps_of(t)
        m = ds.match_events(steps["ic_s"].to_numpy(float), np.asarray(ref_ic, float), TOLERANCE_S)
        ours = steps["strike_angle_deg"].to_numpy(float)
        for d, r in m["pairs"]:
            if np.isfinite(ours[d]) and np.isfinite(ref[r]):
                errs.append(ours[d] - ref[r])
    e = np.asarray(errs)
    return {"n": len(e), "median_abs_deg": float(np.median(np.abs(e))) if len(e) else float("nan"),
            "p95_abs_deg": float(np.percentile(np.abs(e), 95)) if len(e) else float("nan"),
            "median_signed_deg": float(np.median(e)) if len(e) else float("nan")}


def running_agreement() -> dict | None:
    """Hip steps against left-shoe impacts in adept_running (two separate devices, no labels).

    The hip and the shoe are two ActiGraph devices with their own clocks, so a
    constant offset between them is not a detection error.  Per hip running
    bout (≥ 20 steps), hip steps are paired with shoe impacts within ±150 ms
    (less than half a step), the median signed difference is that bout's
    offset (clock plus the definitions of IC at the hip and at the shoe), and
    agreement is the share of shoe impacts with a hip step within ±50 ms of
    the impact shifted by the offset.  The spread (IQR) of the differences
    speaks for the hip's step timing.  Side: the share of paired hip steps
    labelled left, per bout (the shoe is on the left foot).
    """
    pair = ds.adept_running()
    if pair is None:
        return None
    hip, shoe = pair
    rh = analyse(hip.with_placement("lower-back"))
    rs = analyse(shoe)
    steps = rh.steps
    shoe_ic = rs.steps["ic_s"].to_numpy(float)
    bouts, diffs, hits, n_imp = [], [], 0, 0
    for b, g in steps[steps["activity"] == "running"].dropna(subset=["bout"]).groupby("bout"):
        if len(g) < 20:
            continue
        hic = g["ic_s"].to_numpy(float)
        sic = shoe_ic[(shoe_ic >= hic[0] - 0.2) & (shoe_ic <= hic[-1] + 0.2)]
        m0 = ds.match_events(hic, sic, 0.15)
        if not m0["tp"]:
            continue
        off = float(np.median(m0["errors_s"]))
        m = ds.match_events(hic - off, sic, 0.05)
        side = g["side"].to_numpy()
        left = float(np.mean(side[m["pairs"][:, 0]] == "left")) if m["tp"] else float("nan")
        bouts.append({"start_s": float(hic[0]), "end_s": float(hic[-1]), "steps": len(g), "offset_ms": off * 1000,
                      "left_share": left})
        diffs.append(np.asarray(m0["errors_s"]) - off)
        hits += m["tp"]
        n_imp += len(sic)
    d = np.concatenate(diffs) * 1000 if diffs else np.array([np.nan])
    run = steps[steps["activity"] == "running"]
    return {
        "hip_cadence_spm": float(run["cadence_spm"].median()),
        "shoe_cadence_spm": float(rs.steps["cadence_spm"].median()),
        "shoe_impacts": int(len(shoe_ic)), "hip_steps": int(len(steps)),
        "hip_steps_running_share": float(len(run) / max(1, len(steps))),
        "bouts": bouts, "iqr_ms": tuple(np.percentile(d, [25, 75])),
        "agreement_within_50ms": hits / n_imp if n_imp else float("nan"), "impacts_in_bouts": n_imp,
    }


def _row(name, data, r):
    return (f"| {name} | {data} | {r['trials']} | {r['tp'] + r['fn']} | {r['precision']:.3f} | {r['recall']:.3f} | "
            f"**{r['f1']:.3f}** | {r['median_abs_ms']:.1f} | {r['p95_abs_ms']:.1f} | {r['median_signed_ms']:+.1f} |")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--out", default=None, help="write the markdown section here")
    ap.add_argument("--peer-cache", default=None, help="directory caching the peers' detections per trial")
    ap.add_argument("--only", default=None, help="run only the data sets whose name contains this text")
    args = ap.parse_args()
    global PEER_CACHE
    PEER_CACHE = Path(args.peer_cache) if args.peer_cache else None
    if ds.datasets_root() is None:
        print("../shared/datasets not found: nothing to validate (set BACKSTRIDE_SHARED)")
        return 0
    t0 = time.time()
    sets = {
        # 2 feet × 2 frames: the same walk in gaitmap's foot frame and in the raw sensor frame (mount independence),
        # so each of the 59 reference ICs is scored twice
        ("shoe", "gaitmap_example"): ds.gaitmap_trials(),
        ("shoe", "ipol_gait feet"): ds.ipol_trials("foot-left") + ds.ipol_trials("foot-right"),
        ("lower back", "ipol_gait _lb"): ds.ipol_trials("lower-back"),
        ("lower back", "mobgap_lab INDIP"): ds.mobgap_trials(),
    }
    lines = ["| detector | data | trials | reference ICs | precision | recall | F1 | median abs error ms | p95 abs error ms | median signed ms |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    figures = {}
    sides, fcs = {}, {}
    for (kind, data), trials in sets.items():
        if args.only and args.only not in data:
            continue
        r = _eval_ic(trials, ours_ic)
        figures[(kind, data, "backstride")] = r
        lines.append(_row(f"backstride ({kind})", data, r))
        print(lines[-1], flush=True)
        fcs[data] = fc_score(trials)
        print(f"  final contact: F1 {fcs[data]['f1']:.3f}, median |error| {fcs[data]['median_abs_ms']:.0f} ms", flush=True)
        if kind == "lower back":
            sides[data] = side_accuracy(trials)
            print(f"  left/right right on {sides[data]['right']}/{sides[data]['steps']} matched steps", flush=True)
        for peer, options, label in ([] if args.no_peers else PEERS[kind]):
            rp = _eval_ic(trials, lambda t, p=peer, o=options: _peer(p, t, o))
            if rp["trials"]:
                figures[(kind, data, label)] = rp
                lines.append(_row(f"{label} ({kind})", data, rp))
                print(lines[-1], flush=True)
    sa = strike_angles(ds.gaitmap_trials())
    run = running_agreement()
    md = ["## Accuracy (bench/validate.py)", "",
          f"Measured {time.strftime('%Y-%m-%d')} on ../shared/datasets; events matched one-to-one within "
          f"±{TOLERANCE_S * 1000:.0f} ms, inside the reference windows.", "", *lines, "",
          f"**Strike angle** (gaitmap_example, sole pitch from heel/toe markers at the reference IC, n = {sa['n']}): "
          f"median |error| {sa['median_abs_deg']:.1f}°, p95 {sa['p95_abs_deg']:.1f}°, median signed {sa['median_signed_deg']:+.1f}°."]
    if fcs:
        md += ["", "**Final contact** (toe-off; our steps' FCs against the reference FCs of both feet, matched and scored "
               "as the ICs): " + "; ".join(f"{d}: F1 {v['f1']:.3f} (precision {v['precision']:.3f}, recall {v['recall']:.3f}), "
                                          f"median |error| {v['median_abs_ms']:.0f} ms, signed {v['median_signed_ms']:+.0f} ms"
                                          for d, v in fcs.items()) + "."]
    if sides:
        md += ["", "**Left/right, lower back** (matched steps inside the reference windows whose side is the reference "
               "foot's): " + "; ".join(f"{d}: {v['share']:.3f} ({v['right']}/{v['steps']})" for d, v in sides.items()) + "."]
    if run:
        per_bout = "; ".join(f"{b['start_s']:.0f}–{b['end_s']:.0f} s: {b['steps']} steps, offset {b['offset_ms']:+.0f} ms, "
                             f"{b['left_share'] * 100:.0f} % left" for b in run["bouts"])
        md += ["", "**Running** (adept_running, 12.5 min outdoor run, hip and left-shoe accelerometers, two devices with "
               "their own clocks, no labels): "
               f"hip cadence {run['hip_cadence_spm']:.1f} vs shoe {run['shoe_cadence_spm']:.1f} steps/min; "
               f"{run['hip_steps_running_share'] * 100:.0f} % of the hip's steps classed as running. Per running bout, hip "
               "steps are paired with the left shoe's impacts after removing the bout's median offset (clock plus IC "
               f"definitions): {run['agreement_within_50ms'] * 100:.1f} % of {run['impacts_in_bouts']} impacts have a hip "
               f"step within ±50 ms (IQR of the differences {run['iqr_ms'][0]:+.0f} to {run['iqr_ms'][1]:+.0f} ms). "
               f"Per bout ({per_bout})."]
    md += ["", f"(run time {time.time() - t0:.0f} s)"]
    text = "\n".join(md)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
