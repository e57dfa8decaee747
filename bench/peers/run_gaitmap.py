"""Run gaitmap's shoe pipeline: BarthDtw stride segmentation + RamppEventDetection.

Runs in bench/.peers-venv:  ``python run_gaitmap.py input.npz output.json``

Input (see ``_peer_io.py``): one foot sensor per file: ``acc_m_s2`` (n, 3),
``gyr_rad_s`` (n, 3, required), ``sampling_rate_hz`` (gaitmap's template was
made at 204.8 Hz and is resampled to the given rate), ``placement``
``"foot-left"`` or ``"foot-right"``, optional ``sample_index``, and ``frame``:

* ``"fsf"`` (default): the data are already in gaitmap's foot sensor frame —
  x toe-forward, y left, z up (+9.81 m/s² on z at rest), the same for both feet.
  That is backstride's body frame (fwd, left, up), so body-frame data can be
  passed as they are; gaitmap's ``imu_sample.csv`` is in this frame.
* ``"raw"``: any mounting; the script first applies gaitmap's own alignment
  (``align_dataset_to_gravity``, ``PcaAlignment(target_axis="y",
  pca_plane_axis=("gyr_x", "gyr_y"))``, ``ForwardDirectionSignAlignment``), as
  gaitmap's pipeline examples do for unaligned data.

Units for gaitmap: acc m/s² (unchanged), gyr rad/s → deg/s.  Then
``convert_left_foot_to_fbf`` / ``convert_right_foot_to_fbf``, ``BarthDtw()``
and ``RamppEventDetection()`` with default parameters.

Optional ``options_json``: ``{"dtw": {...BarthDtw kwargs...}, "events": {...
RamppEventDetection kwargs...}}``.

Output JSON: ``side``, ``ic_s``/``fc_s`` (ICs = ``pre_ic`` and ``ic`` of the
min_vel strides plus ``ic`` of the segmented strides, unique; FCs = ``tc``),
``ic_s_by_side`` / ``fc_s_by_side`` (same, under the side), ``min_vel_s``,
``n_strides_segmented``, ``n_strides_min_vel``, ``wall_time_s`` (segmentation +
event detection, including numba compilation on the first call in the
process; ``align_time_s`` separately), ``n_filled``, versions.
"""

from __future__ import annotations

import time

import numpy as np

from _peer_io import main_wrapper

SF_COLS = ["acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"]


def run(inp: dict) -> dict:
    import pandas as pd

    import gaitmap
    from gaitmap.event_detection import RamppEventDetection
    from gaitmap.stride_segmentation import BarthDtw
    from gaitmap.utils.coordinate_conversion import convert_left_foot_to_fbf, convert_right_foot_to_fbf

    if inp["gyr_rad_s"] is None:
        raise ValueError("gaitmap needs gyr_rad_s")
    placement = inp["placement"] or ""
    if placement not in ("foot-left", "foot-right"):
        raise ValueError(f"placement must be foot-left or foot-right, not {placement!r}")
    side = placement.split("-")[1]
    fs = inp["sampling_rate_hz"]
    raw = inp["raw"]
    frame = str(raw["frame"]) if "frame" in raw else "fsf"
    opts = inp["options"] or {}

    df = pd.DataFrame(np.column_stack([inp["acc_m_s2"], np.degrees(inp["gyr_rad_s"])]), columns=SF_COLS)

    t_align = 0.0
    if frame == "raw":
        from gaitmap.preprocessing import align_dataset_to_gravity
        from gaitmap.preprocessing.sensor_alignment import ForwardDirectionSignAlignment, PcaAlignment

        t0 = time.perf_counter()
        df = align_dataset_to_gravity(df, sampling_rate_hz=fs)
        df = PcaAlignment(target_axis="y", pca_plane_axis=("gyr_x", "gyr_y")).align(df).aligned_data_
        df = ForwardDirectionSignAlignment(forward_direction="x", rotation_axis="z").align(
            df, sampling_rate_hz=fs).aligned_data_
        t_align = time.perf_counter() - t0
    elif frame != "fsf":
        raise ValueError(f"frame must be 'fsf' or 'raw', not {frame!r}")

    bf = convert_left_foot_to_fbf(df) if side == "left" else convert_right_foot_to_fbf(df)

    t0 = time.perf_counter()
    dtw = BarthDtw(**opts.get("dtw", {})).segment(data=bf, sampling_rate_hz=fs)
    ed = RamppEventDetection(**opts.get("events", {})).detect(data=bf, stride_list=dtw.stride_list_,
                                                                sampling_rate_hz=fs)
    wall = time.perf_counter() - t0

    mv = ed.min_vel_event_list_
    seg = ed.annotated_original_event_list_
    ics, fcs, min_vel = [], [], []
    if mv is not None and len(mv):
        ics += [mv["pre_ic"].to_numpy(float), mv["ic"].to_numpy(float)]
        fcs += [mv["tc"].to_numpy(float)]
        min_vel += [mv["min_vel"].to_numpy(float), mv["end"].to_numpy(float)]
    if seg is not None and len(seg):
        ics += [seg["ic"].to_numpy(float)]
        fcs += [seg["tc"].to_numpy(float)]

    first = float(inp["sample_index"][0])

    def to_s(parts):
        if not parts:
            return np.empty(0)
        v = np.concatenate(parts)
        v = np.unique(v[np.isfinite(v)])
        return (first + v) / fs

    ic_s, fc_s = to_s(ics), to_s(fcs)
    return {
        "version": gaitmap.__version__,
        "method": "gaitmap BarthDtw + RamppEventDetection (defaults)",
        "side": side,
        "frame": frame,
        "ic_s": ic_s,
        "fc_s": fc_s,
        "ic_s_by_side": {side: ic_s},
        "fc_s_by_side": {side: fc_s},
        "min_vel_s": to_s(min_vel),
        "n_strides_segmented": int(len(dtw.stride_list_)),
        "n_strides_min_vel": int(len(mv)) if mv is not None else 0,
        "wall_time_s": wall,
        "align_time_s": t_align,
        "n_samples": int(len(df)),
        "n_filled": inp["n_filled"],
        "sampling_rate_hz": fs,
    }


if __name__ == "__main__":
    main_wrapper(run, "gaitmap")
