"""Run the Mobilise-D initial-contact detection (mobgap: ``GsdIluz`` or ``GsdIonescu`` gait sequences, then ``IcdIonescu``).

Runs in bench/.mobgap-venv (its own environment: mobgap pins a newer numpy than SKDH):
``python run_mobgap.py input.npz output.json``

Input (see ``_peer_io.py``): ``acc_m_s2`` (n, 3) from a lower-back sensor in the sensor frame; optional
``gyr_rad_s`` (not used by these algorithms); ``sampling_rate_hz``; optional ``sample_index``.
mobgap has no sensor-to-body alignment: it expects the Mobilise-D sensor frame (x up, z forward) and
reads it as its body frame (x → ``acc_is``, y → ``acc_ml``, z → ``acc_pa``).  So ``options_json`` must say
which of the input's axes is up and which is forward: ``{"axes": {"is": "+x", "pa": "-z"}}`` (a data set's
mount, given by the caller; ``ml`` completes the right-handed frame).  ``IcdIonescu`` reads ``acc_is`` only,
``GsdIluz`` ``acc_is`` and ``acc_pa``, ``GsdIonescu`` the norm.

Options: ``"gsd"``: ``"iluz"`` (default; the Mobilise-D pipeline for healthy and mildly impaired gait,
``MobilisedPipelineHealthy``), ``"ionescu"`` (its pipeline for impaired gait) or ``"none"`` (``IcdIonescu``
over the whole recording, as SKDH's ``"none"``).  As in mobgap's pipeline, the IC detector runs on each gait
sequence on its own and its ICs are offset by the sequence's start (``mobgap.pipeline.GsIterator``); the
pipeline's later steps (laterality, stride selection, walking-bout assembly) do not add or move ICs and are
not run.

Output JSON: ``ic_s`` (every IC, seconds on the caller's clock), ``gait_sequences_s``, ``wall_time_s`` (the
algorithms only), versions.
"""

from __future__ import annotations

import time

import numpy as np

from _peer_io import main_wrapper

_AXIS = {"x": 0, "y": 1, "z": 2}


def _unit_axis(spec: str) -> np.ndarray:
    """The input-frame unit vector that ``spec`` (``"+x"`` … ``"-z"``) names."""
    spec = spec.strip().lower()
    if len(spec) != 2 or spec[0] not in "+-" or spec[1] not in _AXIS:
        raise ValueError(f"axis must be one of +x, -x, +y, -y, +z, -z, not {spec!r}")
    return (1.0 if spec[0] == "+" else -1.0) * np.eye(3)[_AXIS[spec[1]]]


def run(inp: dict) -> dict:
    from importlib.metadata import version

    import pandas as pd
    from mobgap.gait_sequences import GsdIluz, GsdIonescu
    from mobgap.initial_contacts import IcdIonescu

    fs = inp["sampling_rate_hz"]
    opts = inp["options"] or {}
    axes = opts.get("axes")
    if not axes or "is" not in axes or "pa" not in axes:
        raise ValueError('options_json needs "axes": {"is": ..., "pa": ...} (the input axes that point up and forward)')
    acc = inp["acc_m_s2"]
    up, fwd = _unit_axis(axes["is"]), _unit_axis(axes["pa"])
    if up @ fwd != 0:
        raise ValueError(f"axes is {axes['is']} and pa {axes['pa']} are the same axis")
    left = np.cross(up, fwd)
    body = pd.DataFrame({"acc_is": acc @ up, "acc_ml": acc @ left, "acc_pa": acc @ fwd})
    gyr = inp["gyr_rad_s"]
    gyr_deg_s = np.zeros_like(acc) if gyr is None else np.degrees(gyr)
    body["gyr_is"], body["gyr_ml"], body["gyr_pa"] = gyr_deg_s @ up, gyr_deg_s @ left, gyr_deg_s @ fwd
    gsd = opts.get("gsd", "iluz")
    t0 = time.perf_counter()
    if gsd == "none":
        sequences = [(0, len(body))]
    elif gsd in ("iluz", "ionescu"):
        detector = GsdIluz() if gsd == "iluz" else GsdIonescu()
        gs = detector.detect(body, sampling_rate_hz=fs).gs_list_
        sequences = [(int(a), int(b)) for a, b in zip(gs["start"], gs["end"])]
    else:
        raise ValueError(f'gsd must be "iluz", "ionescu" or "none", not {gsd!r}')
    ics = []
    for a, b in sequences:
        icd = IcdIonescu().detect(body.iloc[a:b].reset_index(drop=True), sampling_rate_hz=fs)
        ics.append(icd.ic_list_["ic"].to_numpy(np.int64) + a)
    wall = time.perf_counter() - t0
    ic = np.unique(np.concatenate(ics)) if ics else np.empty(0, np.int64)
    first = inp["sample_index"][0]
    return {
        "version": version("mobgap"),
        "method": f"mobgap {'GsdIluz' if gsd == 'iluz' else 'GsdIonescu' if gsd == 'ionescu' else 'no GSD'} + IcdIonescu",
        "ic_s": (ic + first) / fs,
        "gait_sequences_s": (np.asarray(sequences, float).reshape(-1, 2) + first) / fs,
        "wall_time_s": wall,
        "n_samples": int(len(body)),
        "n_filled": inp["n_filled"],
        "sampling_rate_hz": fs,
        "gsd": gsd,
        "axes": axes,
    }


if __name__ == "__main__":
    main_wrapper(run, "mobgap")
