"""Run SKDH's lumbar gait event detection (scikit-digital-health ``skdh.gait.GaitLumbar``).

Runs in bench/.peers-venv:  ``python run_skdh.py input.npz output.json``

Input (see ``_peer_io.py``): ``acc_m_s2`` (n, 3) from a lower-back sensor, any
orientation with one axis roughly vertical (SKDH picks the axis with the largest
mean |acc| as vertical and estimates the anterior-posterior one); optional
``gyr_rad_s`` (used by SKDH only to flag steps in turns); ``sampling_rate_hz``
(≥ 20 Hz); optional ``sample_index``.  Optional scalar keys ``v_axis`` /
``ap_axis`` (0, 1, 2; -1 = let SKDH estimate): give 2 and 0 for data already in
backstride's body frame (fwd, left, up).  Optional ``options_json``:
``{"init": {...GaitLumbar kwargs...}, "predict": {...predict kwargs...}}``.

What the script does for SKDH's conventions: acc m/s² → g (÷ 9.80665); time
stamps = ``start_unix_s`` (optional key, default 1.6e9) + ``t_s``;
``day_window=None`` so that no midnight split happens.  Where SKDH looks for
steps is chosen by ``options_json["gait_detection"]``:

* ``"none"`` (default): the whole recording is one bout (``GaitLumbar``'s own
  default ``gait_pred=True``), for recordings that are walking only (IPOL,
  mobgap Test5); on a recording with sitting/standing/turning (mobgap Test11)
  it finds almost nothing;
* ``"skdh"``: SKDH's own gait classifier (``skdh.context.PredictGaitLumbarLgbm``,
  3 s windows) gives the gait bouts — the complete SKDH pipeline for
  free-living data; it misses bouts shorter than ``min_bout_time``;
* ``"bouts"``: the caller's bouts, npz key ``gait_bouts_s`` (k, 2) in seconds
  on the caller's clock (e.g. to give every algorithm the same walking bouts).

SKDH's defaults otherwise (AP CWT events, ``min_bout_time`` 8 s: shorter bouts
are skipped).

Output JSON: ``ic_s``/``fc_s`` — SKDH's published events: the ICs of the strides
that pass its QC and the FCs of those strides (same-foot and opposite-foot
FCs merged); ``ic_all_s``/``fc_all_s`` — every event its CWT step found before
the stride QC; no left/right labels (SKDH does not assign sides);
``v_axis``/``ap_axis`` used per bout; ``wall_time_s`` (``GaitLumbar.predict`` only),
``n_filled`` (gap samples interpolated), versions.
"""

from __future__ import annotations

import time

import numpy as np

from _peer_io import main_wrapper

G = 9.80665


def run(inp: dict) -> dict:
    import skdh
    from skdh.gait import GaitLumbar, substeps

    fs = inp["sampling_rate_hz"]
    t_s = inp["t_s"]
    raw = inp["raw"]
    start_unix = float(np.asarray(raw["start_unix_s"]).reshape(())) if "start_unix_s" in raw else 1.6e9
    opts = inp["options"] or {}
    init_kw = {"day_window": None, **opts.get("init", {})}
    predict_kw = dict(opts.get("predict", {}))
    for key in ("v_axis", "ap_axis"):
        if key in raw:
            v = int(np.asarray(raw[key]).reshape(()))
            if v >= 0:
                predict_kw.setdefault(key, v)

    gait = GaitLumbar(**init_kw)
    # Record the events before and after SKDH's stride QC (absolute time stamps).
    recorded = {"ic_all": [], "fc_all": [], "ic_qc": [], "fc_qc": [], "axes": []}
    for step in gait.bout_pipeline._steps:
        if isinstance(step, substeps.CreateStridesAndQc):
            orig = step.predict

            def recording_predict(_orig=orig, **kw):
                tb = kw["time"]
                recorded["ic_all"].append(tb[np.asarray(kw["initial_contacts"], int)])
                recorded["fc_all"].append(tb[np.asarray(kw["final_contacts"], int)])
                recorded["axes"].append(tuple(-1 if kw.get(k) is None else int(kw[k]) for k in ("v_axis", "ap_axis")))
                out = _orig(**kw)
                res = out[1] if isinstance(out, tuple) else out
                recorded["ic_qc"].append(tb[np.asarray(res["qc_initial_contacts"], int)])
                recorded["fc_qc"].append(tb[np.concatenate([np.asarray(res["qc_final_contacts"], int),
                                                            np.asarray(res["qc_final_contacts_oppfoot"], int)])])
                return out

            step.predict = recording_predict

    time_unix = start_unix + t_s
    accel_g = inp["acc_m_s2"] / G
    gait_detection = opts.get("gait_detection", "none")
    t0 = time.perf_counter()
    bouts = None
    if gait_detection == "skdh":
        from skdh.context import PredictGaitLumbarLgbm

        gres = PredictGaitLumbarLgbm().predict(time=time_unix, accel=accel_g, fs=fs)
        gres = gres[1] if isinstance(gres, tuple) else gres
        bouts = np.column_stack([np.asarray(gres["Gait Bout Start Index"], int),
                                 np.asarray(gres["Gait Bout Stop Index"], int)]).reshape(-1, 2)
    elif gait_detection == "bouts":
        b_s = np.asarray(raw["gait_bouts_s"], float).reshape(-1, 2)
        first = inp["sample_index"][0]
        bouts = np.clip(np.round(b_s * fs).astype(int) - first, 0, len(t_s) - 1)
    elif gait_detection != "none":
        raise ValueError(f"gait_detection must be 'skdh', 'none' or 'bouts', not {gait_detection!r}")
    if bouts is not None:
        predict_kw["gait_bouts"] = bouts
        if len(bouts) == 0:
            predict_kw["gait_pred"] = np.zeros(len(t_s), dtype=bool)
    results = gait.predict(time=time_unix, accel=accel_g, gyro=inp["gyr_rad_s"], fs=fs, **predict_kw)
    wall = time.perf_counter() - t0

    def cat(key):
        arrs = recorded[key]
        return np.unique(np.concatenate(arrs) - start_unix) if arrs else np.empty(0)

    ic_pub = np.asarray(results.get("IC Timestamp", []), float) - start_unix if isinstance(results, dict) else None
    return {
        "version": skdh.__version__,
        "method": "skdh.gait.GaitLumbar (AP CWT events, default QC)",
        "ic_s": cat("ic_qc"),
        "fc_s": cat("fc_qc"),
        "ic_all_s": cat("ic_all"),
        "fc_all_s": cat("fc_all"),
        "ic_published_s": np.sort(ic_pub) if ic_pub is not None else None,
        "bout_axes_v_ap": recorded["axes"],
        "wall_time_s": wall,
        "n_samples": int(len(t_s)),
        "n_filled": inp["n_filled"],
        "sampling_rate_hz": fs,
        "gait_detection": gait_detection,
        "gait_bouts_s": (np.asarray(bouts, float) + inp["sample_index"][0]) / fs if bouts is not None else None,
        "options": {"init": init_kw, "predict": {k: v for k, v in predict_kw.items()
                                                 if k not in ("gait_bouts", "gait_pred")}},
    }


if __name__ == "__main__":
    main_wrapper(run, "skdh")
