"""Accuracy of the all-day activity analysis on real labelled data (../shared/datasets).

    .venv/bin/python bench/validate_activity.py [--no-peers] [--no-held-out] [--only hapt|mobgap|peer] [--min-posture-s 10] [--verbose]

* UCI HAPT (waist smartphone, accelerometer only, 50 Hz, video labels; users
  1–15; Reyes-Ortiz, Oneto, Samà, Parra, Anguita): each experiment analysed as a
  ``lower-back`` recording as ``backstride analyse --placement lower-back``
  does (running analysis, activity, walking bouts from steps): the running
  analysis is cached per experiment and only the activity part reruns per
  parameter set; with the defaults every experiment's labels and transitions
  are checked to equal :func:`analysis.cli.analyse_document`'s JSON.  Per-second truth: the label of
  most samples in that second; transition seconds (labels 7–12) and
  unlabelled seconds are not scored for postures.  Walking upstairs and
  downstairs count as walking (no placement here tells stairs apart).
  Reported: recall and precision of sitting, standing, lying and walking,
  balanced accuracy (mean recall of the four), the confusion table; and
  sit-to-stand / stand-to-sit detection against the labelled STAND_TO_SIT (7)
  and SIT_TO_STAND (8) segments: a detection of the same kind matches the
  reference segment's centre within ``TRANSITION_TOLERANCE_S`` (one-to-one),
  with the timing error and the labelled vs detected duration; detections
  outside the labelled protocol (± the tolerance) are not scored, and a
  stricter count asks the detection to lie inside the labelled segment
  (see :func:`_score_experiment`).  ``--verbose`` lists, per experiment, the
  missed and the false transitions.
* Held out: every parameter that was chosen with HAPT in view
  (:data:`HELD_OUT_GRID`) is chosen again on some people and scored on the
  others: leave one subject out (15 folds) and split halves (odd vs even
  user numbers, both ways); the held-out experiments' counts are pooled.
  ``--no-held-out`` skips it (it runs the grid, a few minutes).
* mobgap_lab (lower back, INDIP reference): walking seconds against the
  reference micro walking bouts, per trial, in particular Test11 (a simulated
  daily-living circuit).
* Peer (scikit-digital-health ``skdh.sit2stand.Sit2Stand``), when its venv
  exists: its sit-to-stand detections on the same HAPT recordings, matched
  the same way (SKDH only reports sit-to-stand).

The default figures use the thresholds of :mod:`analysis.activity_constants`
as they stand; those marked there as looked at on HAPT are in
:data:`HELD_OUT_GRID`, and the held-out figures are the honest estimate for them.
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


PRED_LABELS = CLASSES + ("unknown",)


def _score_experiment(e, lab: np.ndarray, transitions: pd.DataFrame) -> dict:
    """Counts of one HAPT experiment: confusion (truth × predicted) and transition matches per kind.

    Matching rule (stated, not tuned): HAPT labels each transition as a video
    segment (start and end sample).  A detection of the same kind matches a
    labelled transition when its time lies within ``TRANSITION_TOLERANCE_S``
    of the segment's centre (one-to-one, optimal assignment:
    :func:`bench.datasets.match_events`).  The labelled segments last 1.5–6 s
    (median 2.8 s), so ±2 s is about the segment widened by 0.6 s on each side.
    A stricter second count asks the detection to lie inside the segment itself
    (``strict``).  HAPT's labels cover the protocol only (in a few experiments
    the recording runs on with the phone off the body): as for the mobgap
    windows (:mod:`bench.datasets`), detections outside the labelled span
    (first label start to last label end, widened by the tolerance) are not
    scored; their number is kept (``unscored``).
    """
    truth = _second_truth(e)
    pred = np.full(len(truth), "unknown", dtype=object)
    m = min(len(truth), len(lab))
    pred[:m] = lab[:m]
    pred = np.where(pred == "running", "walking", pred)
    pred = np.where(np.isin(pred, PRED_LABELS), pred, "unknown")
    keep = np.isin(truth, CLASSES)
    conf = np.zeros((len(CLASSES), len(PRED_LABELS)), np.int64)
    ti = np.searchsorted(np.array(CLASSES), truth[keep], sorter=np.argsort(CLASSES))
    ci = {c: i for i, c in enumerate(CLASSES)}
    pi = {c: i for i, c in enumerate(PRED_LABELS)}
    for t, p in zip(truth[keep], pred[keep]):
        conf[ci[t], pi[p]] += 1
    del ti
    out = {"experiment": e.experiment, "user": e.user, "confusion": conf, "trans": {}, "strict": {}, "durations": [],
           "missed": [], "false": []}
    for kind, lid in (("stand-to-sit", 7), ("sit-to-stand", 8)):
        segs = [(l.start_s, l.end_s) for l in e.labels if l.activity_id == lid]
        ref = np.array([(a + b) / 2 for a, b in segs])
        span0 = min(l.start_s for l in e.labels) - TRANSITION_TOLERANCE_S
        span1 = max(l.end_s for l in e.labels) + TRANSITION_TOLERANCE_S
        det = transitions[transitions["kind"] == kind]
        inspan = det["t_s"].between(span0, span1).to_numpy()
        out["unscored"] = out.get("unscored", 0) + int((~inspan).sum())
        det = det[inspan]
        dt = det["t_s"].to_numpy(float)
        mt = ds.match_events(dt, ref, TRANSITION_TOLERANCE_S)
        out["trans"][kind] = mt
        for i, j in mt["pairs"]:
            out["durations"].append((segs[j][1] - segs[j][0], float(det["duration_s"].iloc[i]),
                                     dt[i] - segs[j][0], segs[j][1] - dt[i]))
        matched_ref = {int(j) for _, j in mt["pairs"]}
        matched_det = {int(i) for i, _ in mt["pairs"]}
        out["missed"] += [(kind, round(float(ref[j]), 1)) for j in range(len(ref)) if j not in matched_ref]
        out["false"] += [(kind, round(float(dt[i]), 1)) for i in range(len(dt)) if i not in matched_det]
        # strict: inside the labelled segment
        inside = [(i, j) for i in range(len(dt)) for j in range(len(segs)) if segs[j][0] <= dt[i] <= segs[j][1]]
        used_i, used_j, tp = set(), set(), 0
        for i, j in inside:
            if i not in used_i and j not in used_j:
                used_i.add(i), used_j.add(j)
                tp += 1
        out["strict"][kind] = {"tp": tp, "fp": len(dt) - tp, "fn": len(segs) - tp, "errors_s": []}
    return out


def _summary(scores: list[dict]) -> dict:
    """Pooled figures of per-experiment scores (all seconds and transitions together)."""
    conf = sum(s["confusion"] for s in scores)
    out = {"experiments": len(scores), "seconds": int(conf.sum()), "classes": {}}
    for i, c in enumerate(CLASSES):
        tp = int(conf[i, i])
        out["classes"][c] = {"n": int(conf[i].sum()), "recall": tp / max(1, conf[i].sum()),
                             "precision": tp / max(1, conf[:, i].sum())}
    out["balanced_accuracy"] = float(np.mean([out["classes"][c]["recall"] for c in CLASSES]))
    out["confusion"] = {c: {d: int(conf[i, j]) for j, d in enumerate(PRED_LABELS) if conf[i, j]}
                        for i, c in enumerate(CLASSES)}
    out["transitions"] = {}
    allm, alls = [], []
    for kind in ("sit-to-stand", "stand-to-sit"):
        ms = [s["trans"][kind] for s in scores]
        out["transitions"][kind] = _pool(ms)
        allm += ms
        alls += [s["strict"][kind] for s in scores]
    out["transitions"]["both"] = _pool(allm)
    out["transitions"]["both_inside_segment"] = _pool(alls)
    out["transitions"]["unscored_outside_labelled_span"] = int(sum(s.get("unscored", 0) for s in scores))
    d = np.asarray([x for s in scores for x in s["durations"]], float)
    if len(d):
        out["transition_duration"] = {"median_labelled_s": float(np.median(d[:, 0])),
                                      "median_detected_s": float(np.median(d[:, 1])),
                                      "median_abs_error_s": float(np.median(np.abs(d[:, 1] - d[:, 0]))),
                                      "median_after_label_start_s": float(np.median(d[:, 2])),
                                      "median_before_label_end_s": float(np.median(d[:, 3]))}
    return out


def _criterion(summary: dict) -> float:
    """What a held-out fold maximises: balanced accuracy plus transition F1 (the two targets)."""
    f1 = summary["transitions"]["both"]["f1"]
    return summary["balanced_accuracy"] + (0.0 if not np.isfinite(f1) else f1)


class _HaptCache:
    """Per experiment: recording, truth, the running analysis (for the gait report) and the features.

    Only :class:`analysis.activity.ActivityClassifier` and
    :func:`analysis.activity.apply_gait_report` run again per parameter set,
    which is exactly what ``analyse_document`` does after the running analysis
    (checked against it for the defaults in :func:`hapt`).
    """

    def __init__(self, exps):
        from analysis.activity import features_from_chunks, iter_recording_chunks
        from analysis.pipeline import analyse

        self.items = []
        for e in exps:
            rec = e.recording
            rep = analyse(rec, placement="lower-back")
            ep = features_from_chunks(iter_recording_chunks(rec, 3600.0), sampling_rate_hz=rec.sampling_rate_hz)
            self.items.append((e, rep, ep))

    def scores(self, min_posture_s: float, **options) -> list[dict]:
        from analysis.activity import ActivityClassifier, apply_gait_report

        out = []
        for e, rep, ep in self.items:
            res = ActivityClassifier("lower-back", min_posture_s=min_posture_s, **options).classify(ep).result_
            res = apply_gait_report(res, rep.bouts, rep.steps)
            n = int(np.ceil(e.recording.duration_s))
            t = np.arange(n) + 0.5
            lab = np.full(n, "unknown", dtype=object)
            for a in res.activities_json():
                lab[(t >= a["start_s"]) & (t < a["end_s"])] = a["activity"]
            tr = pd.DataFrame(res.transitions_json(), columns=["t_s", "kind", "duration_s"])
            out.append(_score_experiment(e, lab, tr))
        return out


#: Values tried for each parameter that was chosen with HAPT in view (the
#: defaults of :mod:`analysis.activity_constants` are among them).
HELD_OUT_GRID = {
    "sit_incl_deg": (8.0, 12.0, 16.0, 20.0),
    "turn_break_deg": (4.0, 8.0, 12.0),
    "after_lying_sit_nats": (0.0, 0.5, 1.1, 2.0),
    "evidence_failure_share": (0.05, 0.2, 0.4),
}


def held_out(cache: _HaptCache, min_posture_s: float, grid: dict = HELD_OUT_GRID) -> dict:
    """Parameters chosen on some people, figures on the others (leave one subject out, and split halves).

    Every combination of ``grid`` is run once; per fold the combination with
    the best :func:`_criterion` on the training users is applied to the held-out
    user(s), and the held-out experiments' counts are pooled into one summary.
    """
    import itertools

    from tqdm import tqdm

    keys = list(grid)
    combos = [dict(zip(keys, v)) for v in itertools.product(*grid.values())]
    runs = [cache.scores(min_posture_s, **c) for c in tqdm(combos, desc="held-out grid", leave=False)]
    users = sorted({s["user"] for s in runs[0]})

    def best_on(train_users):
        crit = [_criterion(_summary([s for s in r if s["user"] in train_users])) for r in runs]
        return int(np.argmax(crit))

    loso, chosen = [], []
    for u in users:
        k = best_on(set(users) - {u})
        chosen.append(combos[k])
        loso += [s for s in runs[k] if s["user"] == u]
    odd = {u for u in users if u % 2}
    even = set(users) - odd
    halves, chosen_h = [], []
    for train, test in ((odd, even), (even, odd)):
        k = best_on(train)
        chosen_h.append(combos[k])
        halves += [s for s in runs[k] if s["user"] in test]
    k_all = best_on(set(users))
    return {"grid": {k: list(v) for k, v in grid.items()}, "combinations": len(combos),
            "leave_one_subject_out": _brief(_summary(loso)),
            "loso_choices": _count_choices(chosen),
            "split_half": _brief(_summary(halves)), "split_half_choices": chosen_h,
            "best_on_all_users": {"params": combos[k_all], **_brief(_summary(runs[k_all]))}}


def _brief(s: dict) -> dict:
    return {"balanced_accuracy": s["balanced_accuracy"], "transition_f1": s["transitions"]["both"]["f1"],
            "transition_precision": s["transitions"]["both"]["precision"],
            "transition_recall": s["transitions"]["both"]["recall"],
            "recall": {c: round(float(v["recall"]), 3) for c, v in s["classes"].items()},
            "precision": {c: round(float(v["precision"]), 3) for c, v in s["classes"].items()}}


def _count_choices(chosen: list[dict]) -> dict:
    out: dict = {}
    for c in chosen:
        for k, v in c.items():
            out.setdefault(k, {}).setdefault(str(v), 0)
            out[k][str(v)] += 1
    return out


def hapt(min_posture_s: float, verbose: bool = False, held_out_grid: dict | None = None, **options) -> dict:
    """UCI HAPT figures with the defaults (or ``options``), and, with ``held_out_grid``, the held-out figures.

    The cached path (:class:`_HaptCache`) is checked, for the defaults, to give
    on every experiment the same counts as the CLI's ``analyse_document``.
    """
    exps = ds.uci_hapt_experiments()
    if not exps:
        return {}
    cache = _HaptCache(exps)
    scores = cache.scores(min_posture_s, **options)
    if not options:  # the bench measures what the CLI reports: check the cached path is the CLI's
        for e, sc in zip(exps, scores):
            lab, tr, _ = cli_result(e.recording, min_posture_s)
            ref = _score_experiment(e, lab, tr)
            if not (np.array_equal(ref["confusion"], sc["confusion"]) and ref["missed"] == sc["missed"]
                    and ref["false"] == sc["false"]):
                raise RuntimeError("bench path and analyse_document disagree on HAPT experiment "
                                   f"{e.experiment}: fix the bench")
    out = _summary(scores)
    out["per_experiment"] = [
        {"experiment": s["experiment"], "user": s["user"],
         "accuracy": float(np.trace(s["confusion"][:, :len(CLASSES)]) / max(1, s["confusion"].sum())),
         "missed": s["missed"], "false": s["false"]} for s in scores]
    if verbose:
        for r in out["per_experiment"]:
            print(f"exp {r['experiment']:2d} user {r['user']:2d} acc {r['accuracy']:.3f}"
                  + (f" missed {r['missed']}" if r["missed"] else "") + (f" false {r['false']}" if r["false"] else ""))
    if held_out_grid:
        out["held_out"] = held_out(cache, min_posture_s, held_out_grid)
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
            det = np.asarray(r["sts_mid_s"], float)
            # the same scoring span as ours (_score_experiment): the labelled protocol ± the tolerance
            span0 = min(l.start_s for l in e.labels) - TRANSITION_TOLERANCE_S
            span1 = max(l.end_s for l in e.labels) + TRANSITION_TOLERANCE_S
            det = det[(det >= span0) & (det <= span1)]
            ms.append(ds.match_events(det, np.asarray(ref), TRANSITION_TOLERANCE_S))
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
    ap.add_argument("--no-held-out", action="store_true", help="skip the leave-subjects-out runs (a grid of "
                    f"{int(np.prod([len(v) for v in HELD_OUT_GRID.values()]))} parameter sets on HAPT, a few minutes)")
    ap.add_argument("--json", help="write all figures here")
    args = ap.parse_args()
    t0 = time.perf_counter()
    grid = None if args.no_held_out else HELD_OUT_GRID
    out = {"uci_hapt": hapt(args.min_posture_s, args.verbose, held_out_grid=grid) if args.only in (None, "hapt") else {},
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
            if not isinstance(v, dict) or k == "both_inside_segment":
                continue
            print(f"  {k:13s} P {v['precision']:.3f} R {v['recall']:.3f} F1 {v['f1']:.3f} "
                  f"median |Δt| {v['median_abs_error_s']:.2f} s (signed {v['median_signed_error_s']:+.2f} s)")
        v = h["transitions"]["both_inside_segment"]
        print(f"  both, detection inside the labelled segment: P {v['precision']:.3f} R {v['recall']:.3f} F1 {v['f1']:.3f}"
              f"; detections outside the labelled span, not scored: {h['transitions']['unscored_outside_labelled_span']}")
        if "transition_duration" in h:
            print("  transition duration:", json.dumps({k: round(v, 2) for k, v in h["transition_duration"].items()}))
        if "held_out" in h:
            ho = h["held_out"]
            print(f"  held out ({ho['combinations']} parameter sets, grid {json.dumps(ho['grid'])}):")
            for k in ("leave_one_subject_out", "split_half"):
                print(f"    {k:22s} balanced accuracy {ho[k]['balanced_accuracy']:.3f} "
                      f"transition F1 {ho[k]['transition_f1']:.3f} (P {ho[k]['transition_precision']:.3f} "
                      f"R {ho[k]['transition_recall']:.3f})  recall {ho[k]['recall']} precision {ho[k]['precision']}")
            print("    LOSO choices:", json.dumps(ho["loso_choices"]), " split-half choices:",
                  json.dumps(ho["split_half_choices"]))
            b = ho["best_on_all_users"]
            print(f"    best on all users (in-sample, optimistic): {json.dumps(b['params'])} "
                  f"BA {b['balanced_accuracy']:.3f} F1 {b['transition_f1']:.3f}")
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
