"""Sensor-side byte encoders of the commodity profiles, and the samples each emulated sensor plays.

``firmware_interface`` holds the *central's* side of every protocol (decoders,
command builders); only the backstride reference profile also has a sensor-side
encoder there (``reference.encode_frame``), and ``sensing.ble.EmulatedRadio``
emulates that profile only.  The emulated sensors of the full-stack test
(``tests/vm/peripheral.py``) need the bytes a WitMotion, Polar, Thingy:52,
MetaMotion or Movesense sends, so the encoders live here, written from the
layouts in ``/work/shared/ble/PROTOCOLS.md`` and the packet drawings in
``firmware_interface/*.py``, not from the decoders' code.  Round trips through
the project's decoders are checked on the host in
``tests/test_sensing_fullstack.py`` (fast tests, no guest).

No Bumble, no bleak here: the host-side test imports this module to rebuild
what was played (:func:`played_samples`).

Units: arrays in SI (m/s², rad/s, µT) in, bytes out; every quantiser rounds to
the nearest step (``np.rint``) and saturates at the int16 limits.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np

from analysis.constants import GRAVITY_M_S2

# -- what the central asks for ------------------------------------------------------------------------


def central_settings(profile_key: str, sampling_rate_hz: int) -> dict:
    """Settings of the plain-bleak central for each profile (the keyword settings of the profile's
    ``start_commands`` and ``decoder``; Thingy:52's ``current_config`` is read on every connection)."""
    if profile_key == "backstride-reference":
        return {"sampling_rate_hz": sampling_rate_hz, "acc_range_g": 16, "gyr_range_dps": 2000}
    if profile_key in ("witmotion-wt901ble", "nordic-thingy52"):
        return {"sampling_rate_hz": sampling_rate_hz}
    if profile_key == "mbientlab-metamotion":
        return {"sampling_rate_hz": sampling_rate_hz, "acc_range_g": 16, "gyr_range_dps": 2000}
    if profile_key == "movesense-gatt-sensordata":
        return {"resources": {99: f"/Meas/IMU6/{sampling_rate_hz}"}}
    if profile_key == "polar-verity-sense":
        return {}  # the profile's defaults: ACC and GYRO at 52 Hz
    raise ValueError(f"no emulated sensor for profile {profile_key!r}")


# -- what is played ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=2)
def _recording_arrays(recording: str) -> tuple[np.ndarray, np.ndarray, float]:
    from sensing.formats import open_recording

    rec = open_recording(recording)
    if not rec.has_gyr:
        raise ValueError(f"{recording}: an emulated IMU needs gyroscope columns")
    frame = rec.data
    if not np.array_equal(frame.index.to_numpy(), np.arange(frame.index[0], frame.index[0] + len(frame))):
        raise ValueError(f"{recording}: has gaps; play a recording without lost samples")
    if rec.sampling_rate_hz != round(rec.sampling_rate_hz):
        raise ValueError(f"{recording}: rate {rec.sampling_rate_hz} Hz is not a whole number of Hz")
    return frame[["acc_x", "acc_y", "acc_z"]].to_numpy(), frame[["gyr_x", "gyr_y", "gyr_z"]].to_numpy(), rec.sampling_rate_hz


def played_samples(recording: str | Path, *, sampling_rate_hz: int, offset_s: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(acc_m_s2, gyr_rad_s), shape (n, 3), that an emulated sensor at ``sampling_rate_hz`` measures.

    The recording (gap-free, with gyroscope) is cut ``offset_s`` seconds after its
    start (so that a short test stream plays running, not standing) and, when the
    sensor's rate differs from the recording's (Polar 52 Hz, Movesense 104 Hz),
    interpolated linearly onto the sensor's sampling grid (NumPy only: SciPy's
    import costs seconds in the emulated guest).  Sample ``k`` of the result is
    what the sensor measures ``k / sampling_rate_hz`` seconds after its play clock
    starts.  Deterministic: the host test calls it again to know the truth.
    """
    acc, gyr, source_hz = _recording_arrays(str(recording))
    t_source = np.arange(len(acc)) / source_hz
    if not 0 <= offset_s < t_source[-1]:
        raise ValueError(f"offset_s={offset_s} is outside the {t_source[-1]:.0f}-s recording {recording}")
    if sampling_rate_hz == source_hz:
        first = int(round(offset_s * source_hz))
        return acc[first:].copy(), gyr[first:].copy()
    t = np.arange(offset_s, t_source[-1], 1.0 / sampling_rate_hz)
    columns = [np.interp(t, t_source, x[:, i]) for x in (acc, gyr) for i in range(3)]
    return np.stack(columns[:3], axis=1), np.stack(columns[3:], axis=1)


def _q16(values: np.ndarray, lsb: float) -> np.ndarray:
    """Nearest int16 step of ``values / lsb`` (saturating)."""
    return np.clip(np.rint(np.asarray(values, dtype=np.float64) / lsb), -32768, 32767).astype("<i2")


# -- WitMotion WT901BLE: 55 61 packets (PROTOCOLS.md §A.1) --------------------------------------------

WIT_ACC_LSB_M_S2 = 16.0 * GRAVITY_M_S2 / 32768.0
WIT_GYR_LSB_RAD_S = math.radians(2000.0 / 32768.0)
WIT_ANGLE_LSB_DEG = 180.0 / 32768.0


def witmotion_packets(acc_m_s2: np.ndarray, gyr_rad_s: np.ndarray) -> bytes:
    """Consecutive 20-byte ``55 61`` packets: acc (±16 g), gyro (±2000 deg/s), angles.

    The module's own roll and pitch are the tilt of the acceleration (yaw 0): a
    plausible stand-in for its fusion output, which backstride does not use.
    """
    acc = np.asarray(acc_m_s2, dtype=np.float64)
    n = len(acc)
    roll = np.degrees(np.arctan2(acc[:, 1], acc[:, 2]))
    pitch = np.degrees(np.arctan2(-acc[:, 0], np.hypot(acc[:, 1], acc[:, 2])))
    angles = np.stack([roll, pitch, np.zeros(n)], axis=1)
    words = np.concatenate(
        [np.full((n, 1), 0x6155, dtype="<i2"),  # bytes 55 61
         _q16(acc, WIT_ACC_LSB_M_S2), _q16(gyr_rad_s, WIT_GYR_LSB_RAD_S), _q16(angles, WIT_ANGLE_LSB_DEG)], axis=1)
    return words.astype("<i2").tobytes()


def split_stream(data: bytes, sizes: list[int], phase: int) -> tuple[list[bytes], int]:
    """Cut a byte stream into notifications of the cyclic ``sizes`` (a UART-to-BLE bridge does not
    respect packet boundaries); returns the chunks and the next phase in ``sizes``."""
    chunks, pos = [], 0
    while pos < len(data):
        size = sizes[phase % len(sizes)]
        chunks.append(data[pos:pos + size])
        pos += size
        phase += 1
    return chunks, phase


# -- Nordic Thingy:52 raw motion (PROTOCOLS.md §A.3) ----------------------------------------------------

THINGY_ACC_LSB_M_S2 = GRAVITY_M_S2 / 1024.0  # Q6.10 g
THINGY_GYR_LSB_RAD_S = math.radians(1.0 / 32.0)  # Q11.5 deg/s
THINGY_MAG_LSB_UT = 1.0 / 16.0  # Q12.4 µT


def thingy_raw_frames(acc_m_s2: np.ndarray, gyr_rad_s: np.ndarray, mag_ut: np.ndarray) -> list[bytes]:
    """One 18-byte raw-motion notification per sample: int16 acc, gyro, compass."""
    words = np.concatenate([_q16(acc_m_s2, THINGY_ACC_LSB_M_S2), _q16(gyr_rad_s, THINGY_GYR_LSB_RAD_S),
                            _q16(mag_ut, THINGY_MAG_LSB_UT)], axis=1)
    return [row.tobytes() for row in words]


def thingy_config(*, pedo_interval_ms: int, temp_interval_ms: int, compass_interval_ms: int, motion_freq_hz: int,
                  wake_on_motion: int) -> bytes:
    """The 9-byte motion configuration (u16 × 4, u8)."""
    return (pedo_interval_ms.to_bytes(2, "little") + temp_interval_ms.to_bytes(2, "little")
            + compass_interval_ms.to_bytes(2, "little") + motion_freq_hz.to_bytes(2, "little") + bytes([wake_on_motion]))


# -- MbientLab MetaMotion (BMI160) (PROTOCOLS.md §A.5) -----------------------------------------------------


def metamotion_notifications(module: int, register: int, values: np.ndarray, lsb: float, per_notification: int) -> list[bytes]:
    """``[module][register]`` + int16 x, y, z per sample; ``per_notification`` samples each (1 or 3 packed)."""
    raw = _q16(values, lsb)
    if len(raw) % per_notification:
        raise ValueError(f"{len(raw)} samples do not fill notifications of {per_notification}")
    head = bytes([module, register])
    return [head + raw[i:i + per_notification].tobytes() for i in range(0, len(raw), per_notification)]


# -- Movesense GATT SensorData (PROTOCOLS.md §A.4) -------------------------------------------------------------


def movesense_imu6(ref: int, time_ms: int, acc_m_s2: np.ndarray, gyr_rad_s: np.ndarray) -> bytes:
    """``02 ref u32 time_ms`` + N acc vectors (m/s²) then N gyro vectors (deg/s), float32."""
    body = np.concatenate([np.asarray(acc_m_s2, dtype="<f4"), np.degrees(gyr_rad_s).astype("<f4")])
    return bytes([2, ref]) + (int(time_ms) % 2**32).to_bytes(4, "little") + body.astype("<f4").tobytes()


# -- Polar PMD (PROTOCOLS.md §A.2) -------------------------------------------------------------------------------


def _bits_needed(deltas: np.ndarray) -> int:
    """Smallest two's-complement width (1..32 bits, what the SDK reads) that holds every delta."""
    lo, hi = int(deltas.min(initial=0)), int(deltas.max(initial=0))
    width = 1
    while not (-(1 << (width - 1)) <= lo and hi <= (1 << (width - 1)) - 1):
        width += 1
    return width


def pmd_delta_payload(samples: np.ndarray, *, resolution_bits: int, block_sizes: list[int]) -> bytes:
    """Delta-compressed payload: reference sample, then one block per entry of ``block_sizes``.

    Each block is ``[bit width][sample count]`` + count × channels deltas of that
    width, packed LSB first into a little-endian bit stream (``parseDeltaFramesAll``).
    """
    samples = np.asarray(samples, dtype=np.int64)
    if sum(block_sizes) != len(samples) - 1:
        raise ValueError(f"blocks of {block_sizes} do not cover the {len(samples) - 1} samples after the reference")
    ref_bytes = math.ceil(resolution_bits / 8)
    out = bytearray()
    for value in samples[0]:
        out += int(value).to_bytes(ref_bytes, "little", signed=True)
    deltas = np.diff(samples, axis=0)
    pos = 0
    for count in block_sizes:
        block = deltas[pos:pos + count]
        pos += count
        width = _bits_needed(block)
        words = (block.ravel() & ((1 << width) - 1)).astype(np.uint64)
        bits = ((words[:, None] >> np.arange(width, dtype=np.uint64)) & 1).astype(np.uint8).ravel()
        out += bytes([width, count]) + np.packbits(bits, bitorder="little").tobytes()
    return bytes(out)


def pmd_frame(measurement: int, time_ns: int, frame_type: int, payload: bytes) -> bytes:
    """``[type][u64 time of the last sample, ns since 2000-01-01][frame type]`` + payload."""
    return bytes([measurement]) + int(time_ns).to_bytes(8, "little") + bytes([frame_type]) + payload


def pmd_response(op: int, measurement: int, status: int, params: bytes = b"") -> bytes:
    """Control-point response ``F0 op type status more=0 [params]``."""
    return bytes([0xF0, op, measurement, status, 0]) + params


def pmd_settings(settings: dict[int, list[int]]) -> bytes:
    """Settings TLV as a get-settings response carries it: ``<id> <count> <values…>`` (FACTOR as float32)."""
    sizes = {0: 2, 1: 2, 2: 2, 3: 4, 4: 1}
    out = bytearray()
    for sid, values in settings.items():
        out += bytes([sid, len(values)])
        for v in values:
            out += np.float32(v).tobytes() if sid == 5 else int(v).to_bytes(sizes[sid], "little")
    return bytes(out)


# -- standard services: heart-rate strap (0x180D) and RSC footpod (0x1814) ------------------------------------
# Measurement k is what the device measures k seconds after its play clock starts (one notification a
# second, as straps and footpods send).  Values lie on the wire's grid (RR 1/1024 s, speed 1/256 m/s,
# stride 1 cm, distance 1 dm), so what a decoder reads back must equal them exactly.  The bytes are the
# product's own encoders' (sensing.ble.encode_heart_rate / encode_rsc, checked against published vectors).


def heart_measurements(n: int) -> list[dict]:
    """``n`` Heart Rate Measurement notifications of a runner's strap (``encode_heart_rate`` keywords).

    A beat train whose rate drifts between about 135 and 165 bpm (two sines: a 41-s
    and a 9.7-s period); each notification carries the RR intervals of the beats that
    ended in the second before it (two or three at these rates), the heart rate of
    the last of them, skin contact, and every tenth the energy expended so far
    (0.9 kJ/s, about 13 kcal/min of running).
    """
    beats, t = [], 0.0
    while t < n + 1:
        hr_bpm = 150.0 + 12.0 * math.sin(2 * math.pi * t / 41.0) + 4.0 * math.sin(2 * math.pi * t / 9.7)
        rr_s = round(60.0 / hr_bpm * 1024) / 1024
        t += rr_s
        beats.append((t, rr_s))
    out, b = [], 0
    for k in range(n):
        rr = []
        while b < len(beats) and beats[b][0] <= k:
            rr.append(beats[b][1])
            b += 1
        last_rr = rr[-1] if rr else beats[b][1]
        out.append({"hr_bpm": int(round(60.0 / last_rr)), "rr_s": rr, "contact": True,
                    "energy_kj": int(0.9 * k) if k % 10 == 0 else None})
    return out


def footpod_measurements(n: int) -> list[dict]:
    """``n`` RSC Measurement notifications of a running footpod (``encode_rsc`` keywords).

    Speed 3.3 ± 0.5 m/s (37-s period), cadence 172 ± 5 steps/min (23-s period), the
    stride (two steps) those give, the distance run so far, the running flag set.
    """
    out, distance_m = [], 0.0
    for k in range(n):
        speed_m_s = round((3.3 + 0.5 * math.sin(2 * math.pi * k / 37.0)) * 256) / 256
        cadence_per_min = int(round(172 + 5 * math.sin(2 * math.pi * k / 23.0)))
        out.append({"speed_m_s": speed_m_s, "cadence_per_min": cadence_per_min,
                    "stride_length_m": round(2 * 60.0 * speed_m_s / cadence_per_min * 100) / 100,
                    "total_distance_m": round(distance_m * 10) / 10, "running": True})
        distance_m += speed_m_s
    return out


# -- Polar H10 ACC raw frames (PROTOCOLS.md §A.2: ACC raw type 1, int16 mG per axis) ---------------------------


def pmd_acc_raw_int16(acc_m_s2: np.ndarray) -> bytes:
    """Payload of an H10 ACC raw frame (sub-type 1): x, y, z int16 in mG per sample."""
    return _q16(acc_m_s2, GRAVITY_M_S2 / 1000.0).tobytes()
