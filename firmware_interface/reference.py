"""backstride's open reference profile for do-it-yourself sensors (nRF52840, ESP32).

The specification is ``REFERENCE_PROFILE.md`` beside this module; this module
is its executable form: UUIDs, frame layouts as NumPy dtypes, the decoder the
host uses, and an encoder (data frames, info, command parsing and responses) for
emulated peripherals and firmware tests.

Data frame (notification on the data characteristic), little-endian::

    byte  0      1        2       3          4-7              8-11              12-13      14         15
        | B5  | version | flags | n_samples | counter of the  | sensor time of  | rate, Hz | acc range | gyr range |
        |     | (1)     |       | (≥ 1)     | first sample u32| first sample,   | u16      | code u8   | code u8   |
        |     |         |       |           |                 | µs, u32         |          |           |           |
    then n_samples × [acc x y z int16] [gyr x y z int16 if flags bit0] [mag x y z int16 if flags bit1]

    flags: bit0 gyroscope present · bit1 magnetometer present · bits 2-7 reserved (0)
    acc  = raw / 32768 · 2**acc_code g            (codes 1..4 → ±2, 4, 8, 16 g)
    gyr  = raw / 32768 · 125 · 2**gyr_code deg/s  (codes 0..4 → ±125 … 2000 deg/s)
    mag  = raw · 0.1 µT
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from analysis.constants import GRAVITY_M_S2, MAX_SAMPLING_RATE_HZ, MIN_SAMPLING_RATE_HZ
from firmware_interface.base import DecodedFrame, Decoder, DeviceProfile, FrameError, GattWrite


def reference_uuid(short: int) -> str:
    """UUID in the backstride base ``c946xxxx-de63-42d7-9440-4bdae08e81d2``."""
    return f"c946{short:04x}-de63-42d7-9440-4bdae08e81d2"


SERVICE_UUID = reference_uuid(0x0001)
CONTROL_POINT_UUID = reference_uuid(0x0002)
DATA_UUID = reference_uuid(0x0003)
INFO_UUID = reference_uuid(0x0004)

MAGIC = 0xB5
PROTOCOL_VERSION = 1
FLAG_GYR = 0x01
FLAG_MAG = 0x02
FLAGS_KNOWN = FLAG_GYR | FLAG_MAG
COUNTER_MODULUS = 2**32
TIME_MODULUS_US = 2**32
TIME_MODULUS_S = TIME_MODULUS_US / 1e6
MAG_UT_PER_LSB = 0.1
#: Range codes: acc full scale 2**code g, gyr full scale 125 · 2**code deg/s.
ACC_RANGE_CODES = {2: 1, 4: 2, 8: 3, 16: 4}
GYR_RANGE_CODES = {125: 0, 250: 1, 500: 2, 1000: 3, 2000: 4}
#: ATT payload of a 247-byte MTU (the value nRF Connect SDK and ESP-IDF negotiate).
DEFAULT_MAX_PAYLOAD_BYTES = 244

DATA_HEADER = np.dtype(
    [
        ("magic", "u1"),
        ("version", "u1"),
        ("flags", "u1"),
        ("n_samples", "u1"),
        ("first_counter", "<u4"),
        ("first_time_us", "<u4"),
        ("sampling_rate_hz", "<u2"),
        ("acc_range_code", "u1"),
        ("gyr_range_code", "u1"),
    ]
)


def sample_dtype(flags: int) -> np.dtype:
    """Layout of one sample for the given flags."""
    fields = [("acc", "<i2", (3,))]
    if flags & FLAG_GYR:
        fields.append(("gyr", "<i2", (3,)))
    if flags & FLAG_MAG:
        fields.append(("mag", "<i2", (3,)))
    return np.dtype(fields)


# Info characteristic (read), 10 bytes:
#
#   byte  0          1-3                    4              5                 6                 7         8-9
#       | protocol | firmware major,     | capabilities | acc range codes | gyr range codes | reserved | max rate, Hz |
#       | version  | minor, patch (u8)   | bit0 gyr     | bitmask         | bitmask         | 0        | u16          |
#       |          |                     | bit1 mag     | (bit k = code k)|                 |          |              |
INFO = np.dtype(
    [
        ("protocol_version", "u1"),
        ("firmware", "u1", (3,)),
        ("capabilities", "u1"),
        ("acc_range_mask", "u1"),
        ("gyr_range_mask", "u1"),
        ("reserved", "u1"),
        ("max_sampling_rate_hz", "<u2"),
    ]
)


class Op(enum.IntEnum):
    """Control-point op codes (write with response; answers are notified on the control point)."""

    START = 0x01
    STOP = 0x02
    SET_RATE = 0x03  # u16 rate, Hz
    SET_RANGE = 0x04  # u8 acc code, u8 gyr code
    SET_CHANNELS = 0x05  # u8 flags (bit0 gyr, bit1 mag)
    GET_CONFIG = 0x06  # answer params: u16 rate, u8 acc code, u8 gyr code, u8 flags, u8 streaming


class Status(enum.IntEnum):
    SUCCESS = 0
    UNKNOWN_OP = 1
    INVALID_PARAMETER = 2
    INVALID_STATE = 3
    NOT_SUPPORTED = 4


RESPONSE_CODE = 0xF0
#: Parameter bytes of each op (the command is ``<op> <params>``).
OP_PARAM_BYTES = {Op.START: 0, Op.STOP: 0, Op.SET_RATE: 2, Op.SET_RANGE: 2, Op.SET_CHANNELS: 1, Op.GET_CONFIG: 0}
CONFIG = np.dtype(
    [("sampling_rate_hz", "<u2"), ("acc_range_code", "u1"), ("gyr_range_code", "u1"), ("flags", "u1"), ("streaming", "u1")]
)


# -- commands (host → sensor) ---------------------------------------------------------------------


def _rate(sampling_rate_hz: int) -> int:
    if not isinstance(sampling_rate_hz, (int, np.integer)) or not MIN_SAMPLING_RATE_HZ <= sampling_rate_hz <= MAX_SAMPLING_RATE_HZ:
        raise ValueError(
            f"reference-profile rate must be a whole number of Hz in {MIN_SAMPLING_RATE_HZ:g}..{MAX_SAMPLING_RATE_HZ:g}, "
            f"got {sampling_rate_hz!r}"
        )
    return int(sampling_rate_hz)


def _acc_code(acc_range_g: int) -> int:
    if acc_range_g not in ACC_RANGE_CODES:
        raise ValueError(f"acc_range_g must be one of {sorted(ACC_RANGE_CODES)}, got {acc_range_g!r}")
    return ACC_RANGE_CODES[acc_range_g]


def _gyr_code(gyr_range_dps: int) -> int:
    if gyr_range_dps not in GYR_RANGE_CODES:
        raise ValueError(f"gyr_range_dps must be one of {sorted(GYR_RANGE_CODES)}, got {gyr_range_dps!r}")
    return GYR_RANGE_CODES[gyr_range_dps]


def start_command() -> bytes:
    """``01``: start streaming; the sample counter restarts at 0."""
    return bytes([Op.START])


def stop_command() -> bytes:
    """``02``: stop streaming."""
    return bytes([Op.STOP])


def set_rate_command(sampling_rate_hz: int) -> bytes:
    """``03 <u16 Hz>``."""
    return bytes([Op.SET_RATE]) + _rate(sampling_rate_hz).to_bytes(2, "little")


def set_range_command(*, acc_range_g: int, gyr_range_dps: int) -> bytes:
    """``04 <acc code> <gyr code>``."""
    return bytes([Op.SET_RANGE, _acc_code(acc_range_g), _gyr_code(gyr_range_dps)])


def set_channels_command(*, gyr: bool, mag: bool) -> bytes:
    """``05 <flags>``."""
    return bytes([Op.SET_CHANNELS, (FLAG_GYR if gyr else 0) | (FLAG_MAG if mag else 0)])


def get_config_command() -> bytes:
    """``06``: the answer carries rate, ranges, channels and streaming state."""
    return bytes([Op.GET_CONFIG])


def start_commands(
    *, sampling_rate_hz: int, acc_range_g: int, gyr_range_dps: int = 2000, gyr: bool = True, mag: bool = False
) -> tuple[GattWrite, ...]:
    """Configure (stopped), then start."""
    return (
        GattWrite(CONTROL_POINT_UUID, stop_command(), description="stop (configuration needs a stopped sensor)"),
        GattWrite(CONTROL_POINT_UUID, set_rate_command(sampling_rate_hz), description=f"rate {sampling_rate_hz} Hz"),
        GattWrite(CONTROL_POINT_UUID, set_range_command(acc_range_g=acc_range_g, gyr_range_dps=gyr_range_dps), description="ranges"),
        GattWrite(CONTROL_POINT_UUID, set_channels_command(gyr=gyr, mag=mag), description="channels"),
        GattWrite(CONTROL_POINT_UUID, start_command(), description="start"),
    )


def stop_commands(
    *, sampling_rate_hz: int | None = None, acc_range_g: int | None = None, gyr_range_dps: int = 2000, gyr: bool = True, mag: bool = False
) -> tuple[GattWrite, ...]:
    """``02`` (the settings are accepted so that one settings dict fits start, stop and decoder)."""
    return (GattWrite(CONTROL_POINT_UUID, stop_command(), description="stop"),)


@dataclass(frozen=True)
class Command:
    """A parsed control-point command (what an emulated peripheral receives)."""

    op: Op
    sampling_rate_hz: int | None = None
    acc_range_code: int | None = None
    gyr_range_code: int | None = None
    flags: int | None = None


def parse_command(payload: bytes) -> Command:
    """Parse a control-point write; :class:`FrameError` names what is wrong (answer with its status)."""
    data = bytes(payload)
    device = "backstride reference (sensor side)"
    if not data:
        raise FrameError(device, "empty command", "<op> <params>", data)
    try:
        op = Op(data[0])
    except ValueError:
        raise FrameError(device, f"unknown op {data[0]:#04x}", f"one of {', '.join(f'{o:#04x}' for o in Op)}", data) from None
    if len(data) != 1 + OP_PARAM_BYTES[op]:
        raise FrameError(device, f"{op.name} with {len(data) - 1} parameter bytes", f"{OP_PARAM_BYTES[op]} parameter bytes", data)
    if op is Op.SET_RATE:
        return Command(op, sampling_rate_hz=int.from_bytes(data[1:3], "little"))
    if op is Op.SET_RANGE:
        return Command(op, acc_range_code=data[1], gyr_range_code=data[2])
    if op is Op.SET_CHANNELS:
        return Command(op, flags=data[1])
    return Command(op)


def encode_response(op: int, status: Status | int, params: bytes = b"") -> bytes:
    """``F0 <op> <status> [params]``."""
    return bytes([RESPONSE_CODE, int(op), int(Status(status))]) + bytes(params)


@dataclass(frozen=True)
class Response:
    op: int
    status: Status
    params: bytes

    @property
    def ok(self) -> bool:
        return self.status is Status.SUCCESS


def parse_response(payload: bytes) -> Response:
    """Parse a control-point notification ``F0 <op> <status> [params]``."""
    data = bytes(payload)
    device = "backstride reference"
    if len(data) < 3 or data[0] != RESPONSE_CODE:
        raise FrameError(device, f"control-point notification of {len(data)} bytes starting {data[:1].hex() or '–'}", "F0 <op> <status> [params]", data)
    try:
        status = Status(data[2])
    except ValueError:
        raise FrameError(device, f"unknown status {data[2]}", f"a status in 0..{len(Status) - 1}", data) from None
    return Response(data[1], status, data[3:])


def encode_config(*, sampling_rate_hz: int, acc_range_g: int, gyr_range_dps: int, gyr: bool, mag: bool, streaming: bool) -> bytes:
    """Parameters of a GET_CONFIG answer."""
    record = np.zeros(1, dtype=CONFIG)
    record["sampling_rate_hz"] = _rate(sampling_rate_hz)
    record["acc_range_code"] = _acc_code(acc_range_g)
    record["gyr_range_code"] = _gyr_code(gyr_range_dps)
    record["flags"] = (FLAG_GYR if gyr else 0) | (FLAG_MAG if mag else 0)
    record["streaming"] = int(streaming)
    return record.tobytes()


# -- info ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Info:
    """Contents of the info characteristic."""

    protocol_version: int
    firmware: tuple[int, int, int]
    has_gyr: bool
    has_mag: bool
    acc_ranges_g: tuple[int, ...]
    gyr_ranges_dps: tuple[int, ...]
    max_sampling_rate_hz: int


def encode_info(info: Info) -> bytes:
    """Bytes of the info characteristic."""
    record = np.zeros(1, dtype=INFO)
    record["protocol_version"] = info.protocol_version
    record["firmware"] = info.firmware
    record["capabilities"] = (FLAG_GYR if info.has_gyr else 0) | (FLAG_MAG if info.has_mag else 0)
    record["acc_range_mask"] = sum(1 << _acc_code(r) for r in info.acc_ranges_g)
    record["gyr_range_mask"] = sum(1 << _gyr_code(r) for r in info.gyr_ranges_dps)
    record["max_sampling_rate_hz"] = info.max_sampling_rate_hz
    return record.tobytes()


def decode_info(payload: bytes) -> Info:
    """Parse the info characteristic."""
    data = bytes(payload)
    if len(data) < INFO.itemsize:
        raise FrameError("backstride reference", f"info of {len(data)} bytes", f"at least {INFO.itemsize} bytes", data)
    rec = np.frombuffer(data, dtype=INFO, count=1)[0]
    acc = tuple(g for g, code in sorted(ACC_RANGE_CODES.items()) if int(rec["acc_range_mask"]) >> code & 1)
    gyr = tuple(d for d, code in sorted(GYR_RANGE_CODES.items()) if int(rec["gyr_range_mask"]) >> code & 1)
    return Info(
        int(rec["protocol_version"]),
        tuple(int(v) for v in rec["firmware"]),
        bool(rec["capabilities"] & FLAG_GYR),
        bool(rec["capabilities"] & FLAG_MAG),
        acc,
        gyr,
        int(rec["max_sampling_rate_hz"]),
    )


# -- data frames -----------------------------------------------------------------------------------


def _quantise(values: np.ndarray, lsb: float) -> np.ndarray:
    return np.clip(np.rint(values / lsb), -32768, 32767).astype("<i2")


def encode_frame(
    acc_m_s2: np.ndarray,
    *,
    gyr_rad_s: np.ndarray | None = None,
    mag_ut: np.ndarray | None = None,
    first_counter: int,
    first_time_us: int,
    sampling_rate_hz: int,
    acc_range_g: int,
    gyr_range_dps: int = 2000,
) -> bytes:
    """One data frame from (n, 3) arrays in SI units (values beyond the range saturate).

    ``first_counter`` and ``first_time_us`` are taken modulo 2**32.
    """
    acc = np.asarray(acc_m_s2, dtype=np.float64)
    n = acc.shape[0] if acc.ndim == 2 else -1
    if acc.ndim != 2 or acc.shape[1] != 3 or not 1 <= n <= 255:
        raise ValueError(f"acc_m_s2 must have shape (n, 3) with 1 ≤ n ≤ 255, got {acc.shape}")
    flags = 0
    for arr, flag, name in ((gyr_rad_s, FLAG_GYR, "gyr_rad_s"), (mag_ut, FLAG_MAG, "mag_ut")):
        if arr is not None:
            if np.shape(arr) != acc.shape:
                raise ValueError(f"{name} must have the shape of acc_m_s2 {acc.shape}, got {np.shape(arr)}")
            flags |= flag
    acc_code, gyr_code = _acc_code(acc_range_g), _gyr_code(gyr_range_dps)
    header = np.zeros(1, dtype=DATA_HEADER)
    header[0] = (MAGIC, PROTOCOL_VERSION, flags, n, int(first_counter) % COUNTER_MODULUS, int(first_time_us) % TIME_MODULUS_US,
                 _rate(sampling_rate_hz), acc_code, gyr_code)
    samples = np.zeros(n, dtype=sample_dtype(flags))
    samples["acc"] = _quantise(acc, 2.0**acc_code * GRAVITY_M_S2 / 32768.0)
    if gyr_rad_s is not None:
        samples["gyr"] = _quantise(np.rad2deg(np.asarray(gyr_rad_s, dtype=np.float64)), 125.0 * 2.0**gyr_code / 32768.0)
    if mag_ut is not None:
        samples["mag"] = _quantise(np.asarray(mag_ut, dtype=np.float64), MAG_UT_PER_LSB)
    return header.tobytes() + samples.tobytes()


def samples_per_frame(*, gyr: bool, mag: bool, max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES) -> int:
    """How many samples fit in one notification of ``max_payload_bytes`` (ATT MTU − 3)."""
    stride = sample_dtype((FLAG_GYR if gyr else 0) | (FLAG_MAG if mag else 0)).itemsize
    n = min(255, (max_payload_bytes - DATA_HEADER.itemsize) // stride)
    if n < 1:
        raise ValueError(
            f"a {max_payload_bytes}-byte notification cannot hold one sample ({DATA_HEADER.itemsize} + {stride} bytes); "
            "negotiate a larger ATT MTU (247 is usual)"
        )
    return n


def encode_stream(
    acc_m_s2: np.ndarray,
    *,
    gyr_rad_s: np.ndarray | None = None,
    mag_ut: np.ndarray | None = None,
    first_counter: int = 0,
    first_time_us: int = 0,
    sampling_rate_hz: int,
    acc_range_g: int,
    gyr_range_dps: int = 2000,
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
) -> list[bytes]:
    """Consecutive samples as the list of notifications a sensor would send."""
    acc = np.asarray(acc_m_s2, dtype=np.float64)
    per = samples_per_frame(gyr=gyr_rad_s is not None, mag=mag_ut is not None, max_payload_bytes=max_payload_bytes)
    frames = []
    for start in range(0, len(acc), per):
        stop = min(start + per, len(acc))
        frames.append(
            encode_frame(
                acc[start:stop],
                gyr_rad_s=None if gyr_rad_s is None else np.asarray(gyr_rad_s)[start:stop],
                mag_ut=None if mag_ut is None else np.asarray(mag_ut)[start:stop],
                first_counter=first_counter + start,
                first_time_us=first_time_us + int(round(start * 1e6 / sampling_rate_hz)),
                sampling_rate_hz=sampling_rate_hz,
                acc_range_g=acc_range_g,
                gyr_range_dps=gyr_range_dps,
            )
        )
    return frames


class ReferenceDecoder(Decoder):
    """Decoder for reference-profile data frames (self-describing: no settings needed).

    Rows carry ``sample_counter`` (wraps at 2**32) and ``sensor_time_s``
    (µs clock, wraps after 2**32 µs ≈ 71.6 min).
    """

    device = "backstride reference profile"

    def _decode(self, data: bytes) -> DecodedFrame:
        if len(data) < DATA_HEADER.itemsize:
            raise self.error(f"frame of {len(data)} bytes", f"a {DATA_HEADER.itemsize}-byte header and samples", data)
        head = np.frombuffer(data, dtype=DATA_HEADER, count=1)[0]
        if head["magic"] != MAGIC:
            raise self.error(f"first byte {int(head['magic']):#04x}", f"the frame marker {MAGIC:#04x}", data)
        if head["version"] != PROTOCOL_VERSION:
            raise self.error(
                f"protocol version {int(head['version'])}",
                f"version {PROTOCOL_VERSION} (update backstride, or flash matching firmware)", data,
            )
        flags = int(head["flags"])
        if flags & ~FLAGS_KNOWN:
            raise self.error(f"reserved flag bits set ({flags:#04x})", "flags with bits 2-7 clear", data)
        n = int(head["n_samples"])
        layout = sample_dtype(flags)
        if n < 1 or len(data) != DATA_HEADER.itemsize + n * layout.itemsize:
            raise self.error(
                f"{len(data)} bytes for n_samples={n}",
                f"{DATA_HEADER.itemsize} + n_samples × {layout.itemsize} bytes with n_samples ≥ 1", data,
            )
        rate = int(head["sampling_rate_hz"])
        if not MIN_SAMPLING_RATE_HZ <= rate <= MAX_SAMPLING_RATE_HZ:
            raise self.error(f"sampling rate {rate} Hz", f"{MIN_SAMPLING_RATE_HZ:g}..{MAX_SAMPLING_RATE_HZ:g} Hz", data)
        acc_code, gyr_code = int(head["acc_range_code"]), int(head["gyr_range_code"])
        if acc_code not in ACC_RANGE_CODES.values() or gyr_code not in GYR_RANGE_CODES.values():
            raise self.error(f"range codes acc {acc_code}, gyr {gyr_code}", "acc code 1..4 and gyr code 0..4", data)
        samples = np.frombuffer(data, dtype=layout, offset=DATA_HEADER.itemsize)
        acc = samples["acc"] * (2.0**acc_code * GRAVITY_M_S2 / 32768.0)
        gyr = np.deg2rad(samples["gyr"] * (125.0 * 2.0**gyr_code / 32768.0)) if flags & FLAG_GYR else None
        mag = samples["mag"] * MAG_UT_PER_LSB if flags & FLAG_MAG else None
        offsets_us = np.rint(np.arange(n) * (1e6 / rate)).astype(np.int64)
        time_us = (int(head["first_time_us"]) + offsets_us) % TIME_MODULUS_US
        return DecodedFrame(
            self.device,
            acc_m_s2=acc,
            gyr_rad_s=gyr,
            mag_ut=mag,
            sample_counter=(int(head["first_counter"]) + np.arange(n, dtype=np.int64)) % COUNTER_MODULUS,
            counter_modulus=COUNTER_MODULUS,
            sensor_time_s=time_us / 1e6,
            time_modulus_s=TIME_MODULUS_S,
            extra={"sampling_rate_hz": np.array([float(rate)])},
        )


def _profile_decoder(
    *, sampling_rate_hz: int, acc_range_g: int, gyr_range_dps: int = 2000, gyr: bool = True, mag: bool = False
) -> "ReferenceDecoder":
    """Frames describe themselves: the settings are not needed to decode."""
    return ReferenceDecoder()


PROFILE = DeviceProfile(
    key="backstride-reference",
    name="backstride open reference profile (DIY nRF52840 / ESP32)",
    service_uuid=SERVICE_UUID,
    notify_uuids=(CONTROL_POINT_UUID, DATA_UUID),
    write_uuid=CONTROL_POINT_UUID,
    advertised_names=(r"backstride",),
    advertised_uuids=(SERVICE_UUID,),
    timing="sample-counter",
    time_epoch="sensor boot, microseconds (wraps after 2**32 µs)",
    build_start=start_commands,
    build_stop=stop_commands,
    build_decoder=_profile_decoder,
    notes="Specification: firmware_interface/REFERENCE_PROFILE.md. Needs an ATT MTU ≥ 37 (247 is usual).",
)
