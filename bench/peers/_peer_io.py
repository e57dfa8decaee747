"""Input/output shared by the peer scripts (runs inside bench/.peers-venv; numpy only).

Input: one ``.npz`` with

=====================  =========  ==============================================
key                    required   meaning
=====================  =========  ==============================================
``acc_m_s2``           yes        (n, 3) specific force in m/s², gravity included
``gyr_rad_s``          peer-dep.  (n, 3) angular rate in rad/s (gaitmap needs it;
                                  SKDH uses it only to flag turns)
``sampling_rate_hz``   yes        scalar
``placement``          gaitmap    "foot-left" / "foot-right" (gaitmap); SKDH:
                                  informational ("lower-back")
``sample_index``       no         (n,) int sensor sample counter, strictly
                                  increasing; gaps (lost samples) are filled by
                                  linear interpolation for the peer only, since
                                  neither peer handles gaps.  Default 0..n-1.
``options_json``       no         JSON string with peer options (see each script)
=====================  =========  ==============================================

Output times are seconds on the caller's clock: ``sample_index / sampling_rate_hz``
(the same scale as ``Recording.t_s`` in backstride).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np


def load_input(path: str | Path) -> dict:
    with np.load(path, allow_pickle=False) as z:
        data = {k: z[k] for k in z.files}
    if "acc_m_s2" not in data or "sampling_rate_hz" not in data:
        raise ValueError("input needs acc_m_s2 and sampling_rate_hz")
    acc = np.asarray(data["acc_m_s2"], dtype=np.float64).reshape(-1, 3)
    gyr = data.get("gyr_rad_s")
    gyr = None if gyr is None or np.asarray(gyr).size == 0 else np.asarray(gyr, np.float64).reshape(-1, 3)
    if gyr is not None and len(gyr) != len(acc):
        raise ValueError("gyr_rad_s and acc_m_s2 differ in length")
    fs = float(np.asarray(data["sampling_rate_hz"]).reshape(()))
    idx = data.get("sample_index")
    idx = np.arange(len(acc), dtype=np.int64) if idx is None else np.asarray(idx, np.int64).reshape(-1)
    if len(idx) != len(acc):
        raise ValueError("sample_index and acc_m_s2 differ in length")
    if len(idx) > 1 and np.any(np.diff(idx) <= 0):
        raise ValueError("sample_index must be strictly increasing")
    full = np.arange(idx[0], idx[-1] + 1, dtype=np.int64)
    n_filled = int(len(full) - len(idx))
    if n_filled:
        acc = np.column_stack([np.interp(full, idx, acc[:, i]) for i in range(3)])
        if gyr is not None:
            gyr = np.column_stack([np.interp(full, idx, gyr[:, i]) for i in range(3)])
    placement = str(data["placement"]) if "placement" in data else None
    options = json.loads(str(data["options_json"])) if "options_json" in data else {}
    return {
        "acc_m_s2": acc,
        "gyr_rad_s": gyr,
        "sampling_rate_hz": fs,
        "sample_index": full,
        "t_s": full / fs,
        "n_filled": n_filled,
        "placement": placement,
        "options": options,
        "raw": data,
    }


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return [_jsonable(v) for v in x.tolist()]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating, float)):
        v = float(x)
        return v if np.isfinite(v) else None
    if isinstance(x, np.bool_):
        return bool(x)
    return x


def write_output(path: str | Path, result: dict) -> None:
    Path(path).write_text(json.dumps(_jsonable(result), indent=1))


def main_wrapper(run, peer: str) -> None:
    """``python run_<peer>.py in.npz out.json``: run, write JSON; on error write ok=false."""
    if len(sys.argv) != 3:
        sys.exit(f"usage: {Path(sys.argv[0]).name} input.npz output.json")
    inp, out = sys.argv[1], sys.argv[2]
    try:
        result = run(load_input(inp))
        result = {"peer": peer, "ok": True, **result}
    except Exception as exc:  # report, do not crash silently
        import traceback

        result = {"peer": peer, "ok": False, "error": f"{type(exc).__name__}: {exc}",
                  "traceback": traceback.format_exc()}
        write_output(out, result)
        sys.exit(1)
    write_output(out, result)
