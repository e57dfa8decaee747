"""Polar Measurement Data (PMD) service: Polar H10 and Verity Sense, ACC / GYRO / MAG.

Sources (../shared/ble/PROTOCOLS.md §A.2): ``polarofficial/polar-ble-sdk``, Android
``.../api/ble/model/gatt/client/pmd/``: ``BlePMDClient.kt`` (UUIDs, control point,
``parseDeltaFramesAll``), ``PmdDataFrame.kt`` (frame header), ``PmdSetting.kt`` (settings
TLV), ``PmdControlPointResponse.kt`` (response and status codes), ``model/AccData.kt``,
``model/GyrData.kt``, ``model/MagData.kt``, ``model/PmdTimeStampUtils.kt``; tests
``AccDataTest.kt``, ``GyrDataTest.kt``; ``technical_documentation/TimeSystemExplained.md``.

Sequence: enable notifications on the control point *and* the data
characteristic, optionally read the control point (features) and query settings
(``01 <type>``), then start each measurement (``02 <type> <settings TLV>``).
Pass every control-point notification to :meth:`PolarPmdDecoder.handle_control_point`:
the start response can carry the FACTOR setting that scales compressed frames.

Data frame (notification on ``fb005c82``)::

    byte  0        1 … 8                       9                10 …
        +------+---------------------------+-----------+------------------+
        | type | u64 sensor time, ns since | frame type| payload          |
        |      | 2000-01-01T00:00:00Z,     | bit7 delta|                  |
        |      | time of the LAST sample   | bits0-6 st|                  |
        +------+---------------------------+-----------+------------------+

Payloads decoded here:

* ACC raw sub-type 0/1/2: int8/int16/int24 × (x, y, z) per sample, mG (factor not applied,
  as in the SDK).
* ACC delta sub-type 0 (Verity): 16-bit reference, value·FACTOR = G; sub-type 1: mG (·FACTOR).
* GYRO delta sub-type 0: 16-bit, value·FACTOR = deg/s; sub-type 1: float32 bit patterns
  delta-coded as 32-bit integers (·FACTOR) deg/s.
* MAG delta sub-type 0: 16-bit, value·FACTOR = gauss; sub-type 1: 4 channels (x, y, z in
  mG ·FACTOR, calibration status), as ``MagData.kt``.

Delta-compressed payload::

    | reference sample: channels × ceil(resolution/8) bytes, signed LE |
    | block: [bit width u8][sample count u8][count·channels·width bits, LSB first] | block …

Per-sample times follow ``PmdTimeStampUtils``: Δ = (t − t_previous_frame)/n and the
samples sit at t_previous + Δ·(i+1); for the first frame Δ = 1/fs, counted back
from t.  Deviation from the SDK, on purpose: when a frame spans more than
``gap_ratio`` × n/fs since the previous one (frames were lost), its samples are
placed at 1/fs steps back from its time stamp, so the loss shows as one gap
instead of being spread over the frame (``gap_ratio=None`` reproduces the SDK).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from analysis.constants import GRAVITY_M_S2
from firmware_interface.base import DecodedFrame, Decoder, DeviceProfile, FrameError, GattWrite, implausible

SERVICE_UUID = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
CONTROL_POINT_UUID = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
DATA_UUID = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"
HEART_RATE_SERVICE_UUID = "0000180d-0000-1000-8000-00805f9b34fb"

#: Sensor epoch 2000-01-01T00:00:00Z as Unix seconds (add to ``sensor_time_s`` for Unix time).
POLAR_EPOCH_UNIX_S = 946_684_800


class PmdMeasurement(enum.IntEnum):
    """Measurement types (bit n of the feature bitmask = type n supported)."""

    ECG = 0
    PPG = 1
    ACC = 2
    PPI = 3
    GYRO = 5
    MAG = 6
    SDK_MODE = 9


class PmdSetting(enum.IntEnum):
    """Setting ids of the settings TLV, with their value sizes in :data:`SETTING_BYTES`."""

    SAMPLE_RATE = 0
    RESOLUTION = 1
    RANGE = 2
    RANGE_MILLIUNIT = 3
    CHANNELS = 4
    FACTOR = 5


SETTING_BYTES = {
    PmdSetting.SAMPLE_RATE: 2,
    PmdSetting.RESOLUTION: 2,
    PmdSetting.RANGE: 2,
    PmdSetting.RANGE_MILLIUNIT: 4,
    PmdSetting.CHANNELS: 1,
    PmdSetting.FACTOR: 4,
}


class PmdOp(enum.IntEnum):
    GET_SETTINGS = 0x01
    START = 0x02
    STOP = 0x03


#: Response status codes (``PmdControlPointResponse.kt``).
PMD_STATUS = (
    "success",
    "invalid op code",
    "invalid measurement type",
    "not supported",
    "invalid length",
    "invalid parameter",
    "already in state",
    "invalid resolution",
    "invalid sample rate",
    "invalid range",
    "invalid MTU",
    "invalid number of channels",
    "invalid state",
    "device in charger",
    "disk full",
)
FEATURE_READ_CODE = 0x0F
RESPONSE_CODE = 0xF0

# Frame header, 10 bytes (see module docstring).
FRAME_HEADER = np.dtype([("measurement", "u1"), ("time_ns", "<u8"), ("frame_type", "u1")])
HEADER_BYTES = FRAME_HEADER.itemsize
# Raw ACC samples: x, y, z per sample.
ACC_RAW_INT8 = np.dtype([("xyz", "i1", (3,))])
ACC_RAW_INT16 = np.dtype([("xyz", "<i2", (3,))])
ACC_RAW_INT24 = np.dtype([("xyz", "u1", (3, 3))])  # 3 bytes LE per value, sign-extended in code


def _decode_int24(raw: np.ndarray) -> np.ndarray:
    b = raw.astype(np.int32)
    value = b[..., 0] | (b[..., 1] << 8) | (b[..., 2] << 16)
    return np.where(value >= 1 << 23, value - (1 << 24), value)


# -- settings TLV and commands ----------------------------------------------------------------


def encode_settings(settings: Mapping[PmdSetting | int, int]) -> bytes:
    """Settings TLV ``<id> 01 <value LE>`` for each setting, in id order (FACTOR is never sent)."""
    out = bytearray()
    for key in sorted(settings, key=int):
        setting = PmdSetting(int(key))
        if setting is PmdSetting.FACTOR:
            raise ValueError("FACTOR is returned by the sensor, it cannot be requested")
        value = settings[key]
        size = SETTING_BYTES[setting]
        if not isinstance(value, (int, np.integer)) or not 0 <= value < 1 << (8 * size):
            raise ValueError(f"PMD setting {setting.name} must be an int in 0..{(1 << 8 * size) - 1}, got {value!r}")
        out += bytes([setting, 1]) + int(value).to_bytes(size, "little")
    return bytes(out)


def decode_settings(params: bytes, device: str = "Polar PMD") -> dict[PmdSetting, tuple[float, ...]]:
    """Parse a settings TLV (as in a get-settings or start response).

    FACTOR comes back as the float32 it encodes; the others as ints.
    """
    out: dict[PmdSetting, tuple[float, ...]] = {}
    pos = 0
    while pos < len(params):
        if pos + 2 > len(params):
            raise FrameError(device, f"settings TLV cut after {pos} bytes", "<id> <count> <values…>", params)
        sid, count = params[pos], params[pos + 1]
        try:
            setting = PmdSetting(sid)
        except ValueError:
            raise FrameError(device, f"unknown setting id {sid}", f"a setting id in 0..{len(PmdSetting) - 1}", params) from None
        size = SETTING_BYTES[setting]
        end = pos + 2 + count * size
        if end > len(params):
            raise FrameError(device, f"setting {setting.name} announces {count} values but the TLV ends", f"{count * size} value bytes", params)
        chunk = params[pos + 2 : end]
        if setting is PmdSetting.FACTOR:
            values = tuple(float(v) for v in np.frombuffer(chunk, dtype="<f4"))
        else:
            values = tuple(int.from_bytes(chunk[k * size : (k + 1) * size], "little") for k in range(count))
        out[setting] = values
        pos = end
    return out


def start_command(measurement: PmdMeasurement | int, settings: Mapping[PmdSetting | int, int]) -> bytes:
    """``02 <type> <settings TLV>``.

    Example: H10 ACC 200 Hz, 16 bit, 8 G →
    ``start_command(ACC, {SAMPLE_RATE: 200, RESOLUTION: 16, RANGE: 8})`` =
    ``02 02 00 01 C8 00 01 01 10 00 02 01 08 00``.
    """
    return bytes([PmdOp.START, PmdMeasurement(measurement)]) + encode_settings(settings)


def stop_command(measurement: PmdMeasurement | int) -> bytes:
    """``03 <type>``."""
    return bytes([PmdOp.STOP, PmdMeasurement(measurement)])


def get_settings_command(measurement: PmdMeasurement | int) -> bytes:
    """``01 <type>``: ask which settings the sensor offers."""
    return bytes([PmdOp.GET_SETTINGS, PmdMeasurement(measurement)])


def parse_features(payload: bytes) -> frozenset[PmdMeasurement]:
    """Measurement types in a control-point read (``0F <bitmask…>``)."""
    data = bytes(payload)
    if len(data) < 2 or data[0] != FEATURE_READ_CODE:
        raise FrameError("Polar PMD", f"control point read starts {data[:1].hex() or 'empty'}", "0F followed by the feature bitmask", data)
    bits = int.from_bytes(data[1:], "little")
    return frozenset(m for m in PmdMeasurement if bits >> int(m) & 1)


def choose_settings(available: Mapping[PmdSetting, tuple[float, ...]], wanted: Mapping[PmdSetting, int]) -> dict[PmdSetting, int]:
    """One value per offered setting: the wanted one, else the only one offered.

    Verity Sense wants every setting it lists (CHANNELS too) echoed back.
    """
    chosen: dict[PmdSetting, int] = {}
    for setting, values in available.items():
        if setting is PmdSetting.FACTOR:
            continue
        if setting in wanted:
            if wanted[setting] not in values:
                raise ValueError(f"{setting.name} {wanted[setting]} is not offered; the sensor offers {sorted(values)}")
            chosen[setting] = int(wanted[setting])
        elif len(values) == 1:
            chosen[setting] = int(values[0])
        else:
            raise ValueError(f"choose a {setting.name}: the sensor offers {sorted(values)}")
    return chosen


@dataclass(frozen=True)
class PmdResponse:
    """A control-point response ``F0 <op> <type> <status> <more> [params]``."""

    op: int
    measurement: int
    status: int
    more: bool
    params: bytes
    settings: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 0

    @property
    def status_text(self) -> str:
        return PMD_STATUS[self.status] if self.status < len(PMD_STATUS) else f"unknown status {self.status}"


# -- delta frames -----------------------------------------------------------------------------


def decode_delta_frames(payload: bytes, *, channels: int, resolution_bits: int, device: str = "Polar PMD") -> np.ndarray:
    """Samples of a delta-compressed payload, shape (n, channels), int64.

    Sums are kept modulo 2**32 as signed 32-bit numbers (as the SDK's ``Int``
    arithmetic does), so float bit patterns survive.  Raises :class:`FrameError`
    for a bit width outside 1..32 or a block longer than the payload.
    """
    ref_bytes = math.ceil(resolution_bits / 8)
    head = channels * ref_bytes
    if len(payload) < head:
        raise FrameError(device, f"delta frame of {len(payload)} bytes has no complete reference sample", f"at least {head} bytes", payload)
    raw = np.frombuffer(payload, dtype=np.uint8, count=head).reshape(channels, ref_bytes).astype(np.int64)
    ref = (raw << (8 * np.arange(ref_bytes))).sum(axis=1)
    ref = np.where(ref >= 1 << (8 * ref_bytes - 1), ref - (1 << (8 * ref_bytes)), ref)
    blocks = [ref[None, :]]
    pos = head
    while pos < len(payload):
        if pos + 2 > len(payload):
            raise FrameError(device, f"delta block header cut at byte {pos}", "[bit width][sample count] before each block", payload)
        width, count = payload[pos], payload[pos + 1]
        pos += 2
        if not 1 <= width <= 32:
            raise FrameError(device, f"delta bit width {width}", "a bit width of 1..32", payload)
        n_bits = width * count * channels
        n_bytes = (n_bits + 7) // 8
        if pos + n_bytes > len(payload):
            raise FrameError(
                device, f"delta block of {count} samples × {channels} × {width} bits needs {n_bytes} bytes, {len(payload) - pos} left",
                "a block that fits in the frame", payload,
            )
        bits = np.unpackbits(np.frombuffer(payload, dtype=np.uint8, count=n_bytes, offset=pos), bitorder="little")[:n_bits]
        words = bits.reshape(count * channels, width).astype(np.int64) @ (np.int64(1) << np.arange(width, dtype=np.int64))
        deltas = np.where(words >= 1 << (width - 1), words - (1 << width), words).reshape(count, channels)
        blocks.append(deltas)
        pos += n_bytes
    samples = np.cumsum(np.concatenate(blocks), axis=0)
    return ((samples + (1 << 31)) % (1 << 32)) - (1 << 31)


# -- decoder ----------------------------------------------------------------------------------


class PolarPmdDecoder(Decoder):
    """Decoder for the PMD data characteristic (ACC, GYRO, MAG frames).

    Parameters
    ----------
    sampling_rates_hz
        Sampling rate of each measurement that will be started, e.g.
        ``{PmdMeasurement.ACC: 200}``; frames of other types are refused.
    gap_ratio
        A frame spanning more than ``gap_ratio`` · n / fs since the previous
        frame of its kind is taken to follow lost frames (see module notes);
        None follows the SDK exactly.

    Attributes
    ----------
    factors_ : dict
        FACTOR per measurement, from start responses (1.0 until one arrives).
    last_frame_time_ns_ : dict
        Sensor time of the last frame per (measurement, frame sub-type), ns.
    clock_resets_ : int
        Frames whose time stamp did not advance (sensor clock reset).
    """

    device = "Polar PMD"

    def __init__(self, *, sampling_rates_hz: Mapping[PmdMeasurement | int, float], gap_ratio: float | None = 1.5):
        super().__init__()
        if not isinstance(sampling_rates_hz, Mapping) or not sampling_rates_hz:
            raise ValueError(
                "sampling_rates_hz must map each measurement to its rate, e.g. {PmdMeasurement.ACC: 200}; "
                f"got {sampling_rates_hz!r}"
            )
        rates = {}
        for key, rate in sampling_rates_hz.items():
            measurement = PmdMeasurement(int(key))
            if measurement not in (PmdMeasurement.ACC, PmdMeasurement.GYRO, PmdMeasurement.MAG):
                raise ValueError(f"this decoder handles ACC, GYRO and MAG frames, not {measurement.name}")
            if not isinstance(rate, (int, float)) or not rate > 0:
                raise ValueError(f"sampling rate of {measurement.name} must be a positive number of Hz, got {rate!r}")
            rates[measurement] = float(rate)
        if gap_ratio is not None and not gap_ratio > 1:
            raise ValueError(f"gap_ratio must be > 1 or None, got {gap_ratio!r}")
        self.sampling_rates_hz = rates
        self.gap_ratio = gap_ratio
        self.factors_: dict[PmdMeasurement, float] = {}
        self._reset_state()

    def _reset_state(self) -> None:
        self.last_frame_time_ns_: dict[tuple[int, int], int] = {}
        self.clock_resets_ = 0
        self._cp_pending: bytes | None = None
        self._cp_head: tuple[int, int, int] | None = None

    # -- control point ------------------------------------------------------------------------
    def handle_control_point(self, payload: bytes) -> PmdResponse | None:
        """Parse a control-point notification; remember FACTOR from a start response.

        Returns None while a multi-part response (``more`` = 1) is incomplete.
        Raises :class:`FrameError` for bytes that are not a PMD response.
        """
        data = bytes(payload)
        if len(data) < 4 or data[0] != RESPONSE_CODE:
            raise self.error(f"control point notification starts {data[:1].hex() or 'empty'} ({len(data)} bytes)", "F0 <op> <type> <status> …", data)
        op, meas, status = data[1], data[2], data[3]
        more = status == 0 and len(data) > 4 and data[4] != 0
        params = data[5:] if status == 0 else b""
        if self._cp_pending is not None and self._cp_head == (op, meas, 0):
            params = self._cp_pending + params
        if more:
            self._cp_pending, self._cp_head = params, (op, meas, status)
            return None
        self._cp_pending = self._cp_head = None
        settings = decode_settings(params, self.device) if status == 0 and op in (PmdOp.GET_SETTINGS, PmdOp.START) else {}
        response = PmdResponse(op, meas, status, False, params, settings)
        if response.ok and op == PmdOp.START and meas in PmdMeasurement._value2member_map_:
            factor = float(settings[PmdSetting.FACTOR][0]) if settings.get(PmdSetting.FACTOR) else 1.0
            if not (math.isfinite(factor) and factor > 0):  # 0 would read every sample as 0, a negative one flipped
                raise self.error(f"start response with FACTOR {factor!r}", "a positive scale factor", data)
            self.factors_[PmdMeasurement(meas)] = factor
        if response.ok and op == PmdOp.STOP:
            self.last_frame_time_ns_ = {k: v for k, v in self.last_frame_time_ns_.items() if k[0] != meas}
        return response

    def set_factor(self, measurement: PmdMeasurement | int, factor: float) -> None:
        """Set FACTOR by hand (e.g. replaying a stream whose start response was logged)."""
        if not (isinstance(factor, (int, float)) and math.isfinite(factor) and factor > 0):
            raise ValueError(f"factor must be a positive finite number, got {factor!r}")
        self.factors_[PmdMeasurement(int(measurement))] = float(factor)

    # -- data ------------------------------------------------------------------------------------
    def _decode(self, data: bytes) -> DecodedFrame:
        if len(data) < HEADER_BYTES + 1:
            raise self.error(f"data frame of {len(data)} bytes", f"a {HEADER_BYTES}-byte header and a payload", data)
        header = np.frombuffer(data, dtype=FRAME_HEADER, count=1)[0]
        try:
            measurement = PmdMeasurement(int(header["measurement"]))
        except ValueError:
            raise self.error(f"unknown measurement type {int(header['measurement'])}", "ACC (2), GYRO (5) or MAG (6)", data) from None
        if measurement not in self.sampling_rates_hz:
            raise self.error(
                f"{measurement.name} frame, but no sampling rate was given for {measurement.name}",
                f"frames of {', '.join(m.name for m in self.sampling_rates_hz)} (pass sampling_rates_hz for every started measurement)",
                data,
            )
        frame_type = int(header["frame_type"])
        compressed, subtype = bool(frame_type & 0x80), frame_type & 0x7F
        payload = data[HEADER_BYTES:]
        factor = self.factors_.get(measurement, 1.0)
        values, extra = self._values(measurement, compressed, subtype, payload, factor, data)
        n = len(values)
        if n == 0:
            raise self.error("frame holds no samples", "at least one sample", data)
        time_ns = int(header["time_ns"])
        if time_ns >= 1 << 63:
            raise self.error(f"sensor time {time_ns} ns (year 2292 or later)", "a time stamp below 2**63 ns", data)
        key = (int(measurement), subtype)
        times_ns, clock_reset = self._sample_times_ns(key, time_ns, n, self.sampling_rates_hz[measurement], data)
        channel = {PmdMeasurement.ACC: "acc_m_s2", PmdMeasurement.GYRO: "gyr_rad_s", PmdMeasurement.MAG: "mag_ut"}[measurement]
        frame = DecodedFrame(self.device, **{channel: values}, sensor_time_s=times_ns / 1e9, extra=extra)
        why = implausible(frame)
        if why is not None:  # checked here so that a rejected frame leaves the time history alone
            if compressed and measurement not in self.factors_:
                why += f"; no FACTOR for {measurement.name} yet: pass the start response to handle_control_point()"
            raise self.error(f"impossible values: {why}", "values a body-worn IMU can report", data)
        self.last_frame_time_ns_[key] = time_ns
        self.clock_resets_ += clock_reset
        return frame

    def _values(self, measurement, compressed, subtype, payload, factor, data) -> tuple[np.ndarray, dict]:
        kind = f"{measurement.name} {'delta' if compressed else 'raw'} frame sub-type {subtype}"
        if measurement is PmdMeasurement.ACC and not compressed:
            dtype = {0: ACC_RAW_INT8, 1: ACC_RAW_INT16, 2: ACC_RAW_INT24}.get(subtype)
            if dtype is None:
                raise self.error(f"unsupported {kind}", "ACC raw sub-type 0, 1 or 2", data)
            if len(payload) % dtype.itemsize:
                raise self.error(f"{kind}: payload of {len(payload)} bytes", f"a multiple of {dtype.itemsize} bytes (x, y, z per sample)", data)
            rows = np.frombuffer(payload, dtype=dtype)["xyz"]
            mg = _decode_int24(rows) if subtype == 2 else rows
            return mg.astype(np.float64) * (GRAVITY_M_S2 / 1000.0), {}
        if not compressed:
            raise self.error(f"unsupported {kind}", f"{measurement.name} delta frames (frame type 0x80 or 0x81)", data)
        if subtype not in (0, 1):
            raise self.error(f"unsupported {kind}", "delta sub-type 0 or 1", data)
        if measurement is PmdMeasurement.ACC:
            samples = decode_delta_frames(payload, channels=3, resolution_bits=16, device=self.device).astype(np.float64)
            g_per_unit = factor if subtype == 0 else factor / 1000.0  # sub-type 0 in G, 1 in mG
            return samples * g_per_unit * GRAVITY_M_S2, {}
        if measurement is PmdMeasurement.GYRO:
            if subtype == 0:
                dps = decode_delta_frames(payload, channels=3, resolution_bits=16, device=self.device).astype(np.float64)
            else:
                bits = decode_delta_frames(payload, channels=3, resolution_bits=32, device=self.device)
                dps = bits.astype(np.int32).view(np.float32).astype(np.float64)
            return np.deg2rad(dps * factor), {}
        # MAG
        if subtype == 0:
            gauss = decode_delta_frames(payload, channels=3, resolution_bits=16, device=self.device).astype(np.float64) * factor
            return gauss * 100.0, {}
        samples = decode_delta_frames(payload, channels=4, resolution_bits=16, device=self.device)
        gauss = samples[:, :3].astype(np.float64) * factor / 1000.0
        return gauss * 100.0, {"mag_calibration_status": samples[:, 3].astype(np.int8)}

    def _sample_times_ns(self, key, time_ns: int, n: int, sampling_rate_hz: float, data: bytes) -> tuple[np.ndarray, bool]:
        """Sensor time of each sample (ns) and whether the clock went back since the previous frame."""
        prev = self.last_frame_time_ns_.get(key)
        period_ns = 1e9 / sampling_rate_hz
        span_ns = None if prev is None else time_ns - prev
        clock_reset = span_ns is not None and span_ns <= 0
        if clock_reset:
            span_ns = None
        if span_ns is not None and self.gap_ratio is not None and span_ns > self.gap_ratio * n * period_ns:
            span_ns = None  # frames were lost: time this frame from the nominal rate
        if span_ns is None:
            back = np.rint(np.arange(n - 1, -1, -1) * period_ns).astype(np.int64)
            if back[0] > time_ns:
                raise self.error(
                    f"time stamp {time_ns} ns is earlier than the {n} samples it ends",
                    f"a sensor time of at least {int(back[0])} ns", data,
                )
            return np.int64(time_ns) - back, clock_reset
        delta_ns = span_ns / n
        times = prev + np.rint(delta_ns * np.arange(1, n + 1)).astype(np.int64)
        times[-1] = time_ns
        return times, clock_reset


# -- profiles ---------------------------------------------------------------------------------

H10_ACC_SETTINGS = {PmdSetting.SAMPLE_RATE: 200, PmdSetting.RESOLUTION: 16, PmdSetting.RANGE: 8}
VERITY_ACC_SETTINGS = {PmdSetting.SAMPLE_RATE: 52, PmdSetting.RESOLUTION: 16, PmdSetting.RANGE: 8, PmdSetting.CHANNELS: 3}
VERITY_GYRO_SETTINGS = {PmdSetting.SAMPLE_RATE: 52, PmdSetting.RESOLUTION: 16, PmdSetting.RANGE: 2000, PmdSetting.CHANNELS: 3}


def start_commands(*, measurements: Mapping[PmdMeasurement | int, Mapping[PmdSetting | int, int]]) -> tuple[GattWrite, ...]:
    """Start writes for each measurement with its settings (see :func:`choose_settings`)."""
    if not measurements:
        raise ValueError("give at least one measurement to start, e.g. {PmdMeasurement.ACC: H10_ACC_SETTINGS}")
    return tuple(
        GattWrite(CONTROL_POINT_UUID, start_command(m, s), description=f"start {PmdMeasurement(int(m)).name}")
        for m, s in measurements.items()
    )


def stop_commands(*, measurements: Mapping[PmdMeasurement | int, object]) -> tuple[GattWrite, ...]:
    """Stop writes for each measurement."""
    return tuple(
        GattWrite(CONTROL_POINT_UUID, stop_command(m), description=f"stop {PmdMeasurement(int(m)).name}") for m in measurements
    )


def decoder_for(measurements: Mapping[PmdMeasurement | int, Mapping[PmdSetting | int, int]], *, gap_ratio: float | None = 1.5) -> PolarPmdDecoder:
    """A decoder whose sampling rates are the SAMPLE_RATE settings the measurements were started with."""
    rates = {}
    for m, settings in measurements.items():
        rate = {PmdSetting(int(k)): v for k, v in settings.items()}.get(PmdSetting.SAMPLE_RATE)
        if rate is None:
            raise ValueError(f"settings of {PmdMeasurement(int(m)).name} have no SAMPLE_RATE; the decoder needs it for sample times")
        rates[PmdMeasurement(int(m))] = rate
    return PolarPmdDecoder(sampling_rates_hz=rates, gap_ratio=gap_ratio)


def _profile_functions(default_measurements: Mapping[PmdMeasurement, Mapping[PmdSetting, int]]):
    """start, stop and decoder factories sharing the settings ``measurements`` (default: the profile's)."""

    def start(*, measurements=None, gap_ratio: float | None = 1.5):
        return start_commands(measurements=measurements or default_measurements)

    def stop(*, measurements=None, gap_ratio: float | None = 1.5):
        return stop_commands(measurements=measurements or default_measurements)

    def decoder(*, measurements=None, gap_ratio: float | None = 1.5):
        return decoder_for(measurements or default_measurements, gap_ratio=gap_ratio)

    return start, stop, decoder


_H10_START, _H10_STOP, _H10_DECODER = _profile_functions({PmdMeasurement.ACC: H10_ACC_SETTINGS})
_VERITY_START, _VERITY_STOP, _VERITY_DECODER = _profile_functions(
    {PmdMeasurement.ACC: VERITY_ACC_SETTINGS, PmdMeasurement.GYRO: VERITY_GYRO_SETTINGS}
)

_COMMON = dict(
    service_uuid=SERVICE_UUID,
    notify_uuids=(CONTROL_POINT_UUID, DATA_UUID),
    write_uuid=CONTROL_POINT_UUID,
    timing="sensor-time",
    time_epoch="2000-01-01T00:00:00Z on the sensor clock (resets unless set with the SDK's setLocalTime)",
)

H10_PROFILE = DeviceProfile(
    key="polar-h10",
    name="Polar H10 (PMD: ACC 25/50/100/200 Hz, ±2/4/8 G)",
    advertised_names=(r"Polar H10\b",),
    advertised_uuids=(),
    build_start=_H10_START,
    build_stop=_H10_STOP,
    build_decoder=_H10_DECODER,
    notes="ACC raw frames in mG. No gyroscope. Default start: ACC 200 Hz, 16 bit, 8 G.",
    **_COMMON,
)

VERITY_PROFILE = DeviceProfile(
    key="polar-verity-sense",
    name="Polar Verity Sense (PMD: ACC 52 Hz, GYRO 52 Hz, MAG)",
    advertised_names=(r"Polar Sense\b", r"Polar Verity"),
    advertised_uuids=(),
    build_start=_VERITY_START,
    build_stop=_VERITY_STOP,
    build_decoder=_VERITY_DECODER,
    notes="Query settings (01 02, 01 05) first and echo one value per offered setting (choose_settings); "
    "the start response's FACTOR must reach PolarPmdDecoder.handle_control_point.",
    **_COMMON,
)
