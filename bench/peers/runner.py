"""Call a peer algorithm in its own environment (bench/.peers-venv) from the project venv.

Stdlib + numpy only: the project never imports the peers.  Create the peer
environment once with ``bash bench/peers/setup.sh``.

>>> from bench.peers.runner import run_peer
>>> out = run_peer("skdh", {"acc_m_s2": acc, "sampling_rate_hz": 100.0, "placement": "lower-back"})
>>> out["ic_s"]            # seconds, sample_index / sampling_rate_hz scale

Peers and what they need (details in ``run_skdh.py`` / ``run_gaitmap.py``):

* ``"skdh"`` — lower back.  ``acc_m_s2`` (n, 3), any orientation with one axis
  near vertical; optional ``gyr_rad_s``, ``v_axis``/``ap_axis`` (2 and 0 for
  body-frame fwd/left/up data).  Returns ``ic_s``, ``fc_s`` (after SKDH's stride
  QC) and ``ic_all_s``, ``fc_all_s`` (before it); no sides.
* ``"mobgap"`` — lower back, the Mobilise-D pipeline's gait sequences and ICs
  (``run_mobgap.py``, its own venv bench/.mobgap-venv).  ``acc_m_s2`` in the
  sensor frame and ``options["axes"]`` naming the axes that point up and
  forward (mobgap has no alignment).  Returns ``ic_s``; no sides.
* ``"gaitmap"`` — one shoe.  ``acc_m_s2``, ``gyr_rad_s``, ``placement``
  ``"foot-left"``/``"foot-right"``, ``frame`` ``"fsf"`` (x toe-forward, y left,
  z up = backstride body frame) or ``"raw"`` (gaitmap aligns it itself).
  Returns ``ic_s``, ``fc_s`` and the same under ``ic_s_by_side[side]``.

Common keys: ``sampling_rate_hz`` (required), ``sample_index`` (optional; gaps
are interpolated for the peer), ``options_json`` (peer options as JSON text).
Every result also carries ``wall_time_s`` (the peer's algorithm call) and
``process_time_s`` (the whole subprocess, including imports).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Mapping

import numpy as np

PEERS_DIR = Path(__file__).resolve().parent
BENCH_DIR = PEERS_DIR.parent
PEER_VENV = Path(os.environ.get("BACKSTRIDE_PEERS_VENV", BENCH_DIR / ".peers-venv"))
#: mobgap pins a newer numpy than SKDH, so it has an environment of its own
MOBGAP_VENV = Path(os.environ.get("BACKSTRIDE_MOBGAP_VENV", BENCH_DIR / ".mobgap-venv"))
PEER_SCRIPTS = {"skdh": PEERS_DIR / "run_skdh.py", "gaitmap": PEERS_DIR / "run_gaitmap.py",
                "mobgap": PEERS_DIR / "run_mobgap.py"}


def _venv_of(name: str) -> Path:
    return MOBGAP_VENV if name == "mobgap" else PEER_VENV


def peer_python(name: str = "skdh") -> Path | None:
    """The python of peer ``name``'s venv, or None if that venv has not been created."""
    for exe in ("bin/python", "Scripts/python.exe"):
        p = _venv_of(name) / exe
        if p.exists():
            return p
    return None


def peers_available(name: str = "skdh") -> bool:
    return peer_python(name) is not None


def _write_npz(inputs: Mapping, path: Path) -> None:
    arrays = {}
    for k, v in inputs.items():
        if v is None:
            continue
        if k == "options" and isinstance(v, Mapping):
            arrays["options_json"] = np.array(json.dumps(v))
        elif isinstance(v, str):
            arrays[k] = np.array(v)
        else:
            arrays[k] = np.asarray(v)
    np.savez(path, **arrays)


def run_peer(name: str, npz_inputs, *, timeout_s: float = 900.0) -> dict | None:
    """Run peer ``name`` ("skdh", "gaitmap" or "mobgap") on one input; return its JSON result.

    ``npz_inputs`` is a path to an ``.npz`` file or a mapping of the same keys
    (arrays, numbers, strings; ``options`` may be a dict and is sent as
    ``options_json``).  Returns None, with a warning saying why, when the peer
    venv is missing; raises ``RuntimeError`` when the peer fails (its traceback
    is in the message).
    """
    if name not in PEER_SCRIPTS:
        raise ValueError(f"unknown peer {name!r}; one of {sorted(PEER_SCRIPTS)}")
    py = peer_python(name)
    if py is None:
        warnings.warn(
            f"peer environment {_venv_of(name)} is missing: create it with `bash bench/peers/setup.sh`; "
            f"peer {name!r} skipped",
            RuntimeWarning,
            stacklevel=2,
        )
        return None
    with tempfile.TemporaryDirectory(prefix=f"peer-{name}-") as tmp:
        tmp = Path(tmp)
        if isinstance(npz_inputs, (str, Path)):
            npz = Path(npz_inputs)
        else:
            npz = tmp / "input.npz"
            _write_npz(npz_inputs, npz)
        out = tmp / "output.json"
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
        env.setdefault("MPLBACKEND", "Agg")
        t0 = time.perf_counter()
        proc = subprocess.run(
            [str(py), str(PEER_SCRIPTS[name]), str(npz), str(out)],
            capture_output=True, text=True, timeout=timeout_s, env=env, cwd=str(PEERS_DIR),
        )
        elapsed = time.perf_counter() - t0
        result = json.loads(out.read_text()) if out.exists() else None
    if result is None or not result.get("ok", False):
        detail = (result or {}).get("traceback") or proc.stderr[-4000:]
        raise RuntimeError(f"peer {name!r} failed (exit {proc.returncode}):\n{detail}")
    result["process_time_s"] = elapsed
    if proc.stderr.strip():
        result["stderr_tail"] = proc.stderr[-2000:]
    for key in ("ic_s", "fc_s", "ic_all_s", "fc_all_s", "ic_published_s", "min_vel_s"):
        if isinstance(result.get(key), list):
            result[key] = np.asarray([np.nan if v is None else v for v in result[key]], dtype=float)
    for key in ("ic_s_by_side", "fc_s_by_side"):
        if isinstance(result.get(key), dict):
            result[key] = {k: np.asarray(v, dtype=float) for k, v in result[key].items()}
    return result


def recording_inputs(recording, **extra) -> dict:
    """Input mapping for :func:`run_peer` from a backstride ``Recording`` (sensor frame).

    Adds ``sample_index`` (so gaps are handled and times come back on the
    recording's clock) and ``start_unix_s`` when ``start_utc`` is known; ``extra``
    adds or overrides keys (e.g. ``frame="raw"``, ``v_axis=2``).
    """
    df = recording.data
    inputs = {
        "acc_m_s2": df[["acc_x", "acc_y", "acc_z"]].to_numpy(np.float64),
        "sampling_rate_hz": float(recording.sampling_rate_hz),
        "sample_index": df.index.to_numpy(np.int64),
    }
    if all(c in df.columns for c in ("gyr_x", "gyr_y", "gyr_z")):
        inputs["gyr_rad_s"] = df[["gyr_x", "gyr_y", "gyr_z"]].to_numpy(np.float64)
    if recording.placement:
        inputs["placement"] = recording.placement
    if recording.start_utc is not None:
        inputs["start_unix_s"] = recording.start_utc.timestamp()
    inputs.update(extra)
    return inputs


if __name__ == "__main__":  # quick availability check
    print("peer venv:", PEER_VENV, "ok" if peers_available() else "missing (bash bench/peers/setup.sh)")
    sys.exit(0 if peers_available() else 1)
