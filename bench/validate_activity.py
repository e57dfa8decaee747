"""Accuracy of the all-day activity analysis on real labelled data (../shared/datasets).

    .venv/bin/python bench/validate_activity.py [--no-peers] [--only hapt|mobgap|peer] [--min-posture-s 10]

* UCI HAPT (waist smartphone, accelerometer only, 50 Hz, video labels; users
  1–15; Reyes-Ortiz, Oneto, Samà, Parra, Anguita): each experiment analysed as a
  ``lower-back`` recording through :func:`analysis.cli.analyse_document`, i.e.
  exactly what ``backstride analyse --placement lower-back`` reports (running
  analysis, activity, walking bouts from steps), read back from its JSON.  Per-second truth: the label of
  most samples in that second; transition seconds (labels 7–12) and
  unlabelled seconds are not scored for postures.  Walking upstairs and
  downstairs count as walking (no placement here tells stairs apart).
  Reported: recall and precision of sitting, standing, lying and walking,
  balanced accuracy (mean recall of the four), the confusion table; and
  sit-to-stand / stand-to-sit detection against the labelled STAND_TO_SIT (7)
  and SIT_TO_STAND (8) segments: a detection of the same kind matches the
  reference segment's centre within ``TRANSITION_TOLERANCE_S`` (one-to-one),
  with the timing error and the labelled vs detected duration.
* mobgap_lab (lower back, INDIP reference): walking seconds against the
  reference micro walking bouts, per trial, in particular Test11 (a simulated
  daily-living circuit).
* Peer (scikit-digital-health ``skdh.sit2stand.Sit2Stand``), when its venv
  exists: its sit-to-stand detections on the same HAPT recordings, matched
  the same way (SKDH only reports sit-to-stand).

Nothing here is fitted: the thresholds are those of
:mod:`analysis.activity_constants`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from analysis.cli import analyse_document  # noqa: E402
from bench import datasets as ds  # noqa: E402

TRANSITION_TOLERANCE_S = 2.0
HAPT_CLASS = {1: "walking", 2: "walking", 3: "walking", 4: "sitting", 5: "standing", 6: "lying"}
CLASSES = ("sitting", "standing", "lying", "walking")


def cli_result(recording, min_posture_s: float) -> tuple[np.ndarray, pd.DataFrame, list]:
    """What ``backstride analyse --placement lower-back`` reports: per-second labels and transitions.

    Runs :func:`analysis.cli.analyse_document` (running analysis, activity,
    walking bouts from steps) and reads its JSON ``activities`` and
    ``transitions`` back; label ``k`` is the activity at ``k + 0.5`` s from the
    recording start (``unknown`` where no activity covers it).
    """
    doc, _ = analyse_document(recording, "lower-back", min_posture_s=min_posture_s)
    n = int(np.ceil(recording.duration_s))
    t = np.arange(n) + 0.5
    lab = np.full(n, "unknown", dtype=object)
    for a in doc["activities"]:
        lab[(t >= a["start_s"]) & (t < a["end_s"])] = a["activity"]
    tr = pd.DataFrame(doc["transitions"], columns=["t_s", "kind", "duration_s"])
    return lab, tr, doc.get("warnings", [])


def _second_truth(exp) -> np.ndarray:
    lab = exp.label_array()
    fs = int(exp.sampling_rate_hz)
    n = len(lab) // fs
    out = np.full(n, "", dtype=object)
    for k in range(n):
        c = np.bincount(lab[k * fs:(k + 1) * fs], minlength=13)
        a = int(c.argmax())
        if c[a] > fs // 2:
            out[k] = HAPT_CLASS.get(a, "transition" if a >= 7 else "")
    return out


def hapt(min_posture_s: float, verbose: bool = False) -> dict:
    exps = ds.uci_hapt_experiments()
    if not exps:
        return {}
    truth_all, pred_all = [], []
    trans = {"sit-to-stand": [], "stand-to-sit": []}
    durations = []
    per_exp = []
    for e in exps:
        lab, transitions, warnings = cli_result(e.recording, min_posture_s)
        truth = _second_truth(e)
        pred = np.full(len(truth), "unknown", dtype=object)
        m = min(len(truth), len(lab))
        pred[:m] = lab[:m]
        pred = np.where(pred == "running", "walking", pred)
        keep = np.isin(truth, CLASSES)
        truth_all.append(truth[keep])
        pred_all.append(pred[keep])
        acc = float((truth[keep] == pred[keep]).mean())
        for kind, lid in (("stand-to-sit", 7), ("sit-to-stand", 8)):
            ref = [(l.start_s + l.end_s) / 2 for l in e.labels if l.activity_id == lid]
            ref_d = {((l.start_s + l.end_s) / 2): l.end_s - l.start_s for l in e.labels if l.activity_id == lid}
            det = transitions[transitions["kind"] == kind]
            mt = ds.match_events(det["t_s"].to_numpy(), np.asarray(ref), TRANSITION_TOLERANCE_S)
            trans[kind].append(mt)
            for i, j in mt["pairs"]:
                durations.append((ref_d[ref[j]], float(det["duration_s"].iloc[i])))
        per_exp.append({"experiment": e.experiment, "user": e.user, "accuracy": acc})
        if verbose:
            print(f"exp {e.experiment:2d} user {e.user:2d} acc {acc:.3f} warnings {warnings[:1]}")
    t = np.concatenate(truth_all)
    p = np.concatenate(pred_all)
    out = {"experiments": len(exps), "seconds": int(len(t)), "classes": {}}
    for c in CLASSES:
        tp = int(((t == c) & (p == c)).sum())
        out["classes"][c] = {"n": int((t == c).sum()), "recall": tp / max(1, (t == c).sum()),
                             "precision": tp / max(1, (p == c).sum())}
    out["balanced_accuracy"] = float(np.mean([out["classes"][c]["recall"] for c in CLASSES]))
    labels = list(CLASSES) + ["running", "unknown"]
    out["confusion"] = {c: {d: int(((t == c) & (p == d)).sum()) for d in labels if ((t == c) & (p == d)).any()}
                        for c in CLASSES}
    out["transitions"] = {}
    allm = []
    for kind, ms in trans.items():
        pooled = _pool(ms)
        out["transitions"][kind] = pooled
        allm += ms
    out["transitions"]["both"] = _pool(allm)
    if durations:
        d = np.asarray(durations)
        out["transition_duration"] = {"median_labelled_s": float(np.median(d[:, 0])),
                                      "median_detected_s": float(np.median(d[:, 1])),
                                      "median_abs_error_s": float(np.median(np.abs(d[:, 1] - d[:, 0])))}
    out["per_experiment"] = per_exp
    return out


def _pool(ms: list[dict]) -> dict:
    tp = sum(m["tp"] for m in ms)
    fp = sum(m["fp"] for m in ms)
    fn = sum(m["fn"] for m in ms)
    err = np.concatenate([np.asarray(m["errors_s"], float) for m in ms]) if ms else np.array([])
    p = tp / (tp + fp) if tp + fp else float("nan")
    r = tp / (tp + fn) if tp + fn else float("nan")
    return {"tp": tp, "fp": fp, "fn": fn, "precision": p, "recall": r,
            "f1": 2 * tp / (2 * tp + fp + fn) if (2 * tp + fp + fn) else float("nan"),
            "median_abs_error_s": float(np.median(np.abs(err))) if len(err) else float("nan"),
            "median_signed_error_s": float(np.median(err)) if len(err) else float("nan")}


def mobgap(min_posture_s: float) -> dict:
    trials = ds.mobgap_trials()
    if not trials:
        return {}
    rows = []
    for tr in trials:
        labels, _, _ = cli_result(tr.recording, min_posture_s)
        n = len(labels)
        t = np.arange(n) + 0.5
        ref = ds.in_windows(t, tr.windows_s)
        gait = np.isin(labels, ("walking", "running"))
        tp = int((ref & gait).sum())
        runs = np.diff(np.concatenate([[0], gait.astype(int), [0]]))
        rows.append({"trial": tr.name, "test": tr.extra.get("test"), "seconds": n, "ref_walking_s": int(ref.sum()),
                     "det_walking_s": int(gait.sum()), "tp_s": tp,
                     "ref_bouts": len(tr.windows_s),
                     "det_bouts": int((runs == 1).sum())})
    out = {"trials": rows}
    for name, sel in (("all", rows), ("Test11", [r for r in rows if r["test"] == "Test11"])):
        tp = sum(r["tp_s"] for r in sel)
        ref = sum(r["ref_walking_s"] for r in sel)
        det = sum(r["det_walking_s"] for r in sel)
        out[name] = {"trials": len(sel), "sensitivity": tp / ref if ref else float("nan"),
                     "precision": tp / det if det else float("nan"), "ref_walking_s": ref, "det_walking_s": det,
                     "ref_bouts": sum(r["ref_bouts"] for r in sel), "det_bouts": sum(r["det_bouts"] for r in sel)}
    return out


def skdh_sit2stand() -> dict | None:
    """SKDH Sit2Stand on the HAPT recordings (its own venv), matched like ours."""
    from bench.peers.runner import peers_available, peer_python

    if not peers_available():
        return None
    import subprocess
    import tempfile

    exps = ds.uci_hapt_experiments()
    script = ROOT / "bench" / "peers" / "run_skdh_sit2stand.py"
    if not script.exists():
        return None
    ms = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for e in exps:
            npz = Path(tmp) / "in.npz"
            out = Path(tmp) / "out.json"
            np.savez(npz, acc_m_s2=e.recording.data[["acc_x", "acc_y", "acc_z"]].to_numpy(),
                     sampling_rate_hz=e.sampling_rate_hz)
            proc = subprocess.run([str(peer_python()), str(script), str(npz), str(out)], capture_output=True, text=True,
                                  timeout=600)
            if not out.exists():
                return {"error": proc.stderr[-1500:]}
            r = json.loads(out.read_text())
            if not r.get("ok"):
                return {"error": r.get("error")}
            ref = [(l.start_s + l.end_s) / 2 for l in e.labels if l.activity_id == 8]
            ms.append(ds.match_events(np.asarray(r["sts_mid_s"], float), np.asarray(ref), TRANSITION_TOLERANCE_S))
    res = _pool(ms)
    res["wall_s"] = time.perf_counter() - t0
    res["version"] = r.get("version")
    return res


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--only", choices=("hapt", "mobgap", "peer"), help="run one part only (UCI HAPT, mobgap_lab, or the SKDH peer)")
    ap.add_argument("--min-posture-s", type=float, default=10.0)
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--json", help="write all figures here")
    args = ap.parse_args()
    t0 = time.perf_counter()
    out = {"uci_hapt": hapt(args.min_posture_s, args.verbose) if args.only in (None, "hapt") else {},
           "mobgap_lab": mobgap(args.min_posture_s) if args.only in (None, "mobgap") else {}}
    if not args.no_peers and args.only in (None, "peer"):
        try:
            out["skdh_sit2stand"] = skdh_sit2stand()
        except Exception as exc:  # the peer is optional; say why it is missing
            out["skdh_sit2stand"] = {"error": f"{type(exc).__name__}: {exc}"}
    out["run_time_s"] = time.perf_counter() - t0
    h = out["uci_hapt"]
    if h:
        print(f"UCI HAPT ({h['experiments']} experiments, {h['seconds']} scored seconds)")
        for c, v in h["classes"].items():
            print(f"  {c:9s} recall {v['recall']:.3f} precision {v['precision']:.3f} (n={v['n']})")
        print(f"  balanced accuracy {h['balanced_accuracy']:.3f}")
        print("  confusion (truth → predicted):", json.dumps(h["confusion"]))
        for k, v in h["transitions"].items():
            print(f"  {k:13s} P {v['precision']:.3f} R {v['recall']:.3f} F1 {v['f1']:.3f} "
                  f"median |Δt| {v['median_abs_error_s']:.2f} s (signed {v['median_signed_error_s']:+.2f} s)")
        if "transition_duration" in h:
            print("  transition duration:", json.dumps({k: round(v, 2) for k, v in h["transition_duration"].items()}))
    m = out["mobgap_lab"]
    if m:
        for k in ("all", "Test11"):
            v = m[k]
            print(f"mobgap_lab {k}: walking seconds sensitivity {v['sensitivity']:.3f} precision {v['precision']:.3f} "
                  f"(ref {v['ref_walking_s']} s, {v['ref_bouts']} bouts; ours {v['det_walking_s']} s, {v['det_bouts']} bouts)")
    if out.get("skdh_sit2stand"):
        print("SKDH Sit2Stand (sit-to-stand only):", json.dumps({k: (round(v, 3) if isinstance(v, float) else v)
                                                                 for k, v in out["skdh_sit2stand"].items()}))
    print(f"(run time {out['run_time_s']:.0f} s)")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
