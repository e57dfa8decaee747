"""Run SKDH's sit-to-stand detection (scikit-digital-health ``skdh.sit2stand.Sit2Stand``).

Runs in bench/.peers-venv:  ``python run_skdh_sit2stand.py input.npz output.json``

Sit2Stand (Adamowicz et al. 2020, Sensors 20:6669) finds sit-to-stand
transfers from a lumbar accelerometer: the acceleration magnitude, low-passed
and turned into a moving standard deviation, is searched for continuous-wavelet
power peaks; each candidate must start from stillness (``stillness_constraint``)
and raise the pelvis (vertical displacement from the integrated gravity-removed
acceleration).  It reports sit-to-stand only, no stand-to-sit.

Input (see ``_peer_io.py``): ``acc_m_s2`` (n, 3), any orientation (SKDH uses
the magnitude and its own gravity estimate); ``sampling_rate_hz``; optional
``sample_index`` (gaps are interpolated for the peer); optional scalar
``start_unix_s`` (default 1.6e9, a naive time stamp; the recording's time zone
does not matter because ``day_window=None``: no split at midnight).  Optional
``options_json``: ``{"init": {...Sit2Stand kwargs...}}``.

What the script does for SKDH's conventions: acc m/s² → g (÷ 9.80665); time
stamps = ``start_unix_s`` + ``t_s``; SKDH's defaults otherwise (stillness
constraint on, 5 Hz low-pass, 0.25 s reconstruction window, gravity 9.81).

Output JSON: ``sts_start_s``, ``sts_end_s``, ``sts_mid_s`` (seconds on the
caller's clock, ``sample_index / sampling_rate_hz``), ``duration_s``,
``vertical_displacement`` (SKDH's column, metres), ``partial`` (None without day windows);
``wall_time_s`` (``Sit2Stand.predict`` only), ``n_filled``, ``version``.
"""

from __future__ import annotations

import time

import numpy as np

from _peer_io import main_wrapper

G = 9.80665


def run(inp: dict) -> dict:
    import skdh
    from skdh.sit2stand import Sit2Stand

    t_s = inp["t_s"]
    raw = inp["raw"]
    start_unix = float(np.asarray(raw["start_unix_s"]).reshape(())) if "start_unix_s" in raw else 1.6e9
    opts = inp["options"] or {}
    init_kw = {"day_window": None, **opts.get("init", {})}
    s2s = Sit2Stand(**init_kw)
    t0 = time.perf_counter()
    res = s2s.predict(time=start_unix + t_s, accel=inp["acc_m_s2"] / G)
    wall = time.perf_counter() - t0
    # predict returns the results dict (or a (results, kwargs) tuple in some versions)
    out = res[0] if isinstance(res, tuple) else res
    start = np.asarray(out.get("STS Start", []), float) - start_unix
    end = np.asarray(out.get("STS End", []), float) - start_unix
    order = np.argsort(start)
    start, end = start[order], end[order]
    return {
        "sts_start_s": start,
        "sts_end_s": end,
        "sts_mid_s": (start + end) / 2,
        "duration_s": np.asarray(out.get("Duration", []), float)[order],
        "vertical_displacement": np.asarray(out.get("Vertical Displacement", []), float)[order],
        # "Partial" (transfer cut by a day boundary) exists only with day windows
        "partial": (np.asarray(out["Partial"], bool)[order] if "Partial" in out and len(out["Partial"]) == len(start)
                    else None),
        "wall_time_s": wall,
        "n_filled": inp["n_filled"],
        "version": skdh.__version__,
        "options": init_kw,
    }


if __name__ == "__main__":
    main_wrapper(run, "skdh_sit2stand")
