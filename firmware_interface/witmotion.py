"""WitMotion WT901BLECL / BWT901BLECL ("BLE 5.0" modules): ``55 61`` packets.

Sources (see ../shared/ble/PROTOCOLS.md §A.1): vendor SDK
``WITMOTION/WitBluetooth_BWT901BLE5_0`` — ``Python/BWT901BLE5.0_python_sdk/device_model.py``
(UUIDs, parser, commands), ``Android_Java/.../Bwt901bleResolver.java`` (0x61/0x71 framing),
``Bwt901bleProcessor.java`` (scaling), ``Bwt901ble.java`` (unlock/save/rate commands);
WT901BLECL datasheet §6.1.  Rate codes: WIT standard register table (third-party drivers).

Streaming starts as soon as notifications on FFE4 are enabled (10 Hz by
default); no command is needed.  Packets carry no counter, no time stamp and no
checksum: use host receive time, and the configured rate.

A notification need not hold exactly one packet, so the decoder keeps a byte
buffer and re-synchronises on ``55 61`` / ``55 71`` (vendor code does the same).
Bytes that do not belong to a packet are skipped and counted as one corrupt run.
Because there is no checksum, a truncated packet followed by a complete one
would swallow the start of the complete one; the decoder detects this when the
20 bytes after a header are not followed by another header while a header
inside them is, and then drops the truncated part instead.
"""

from __future__ import annotations

import numpy as np

from analysis.constants import GRAVITY_M_S2
from firmware_interface.base import DecodedFrame, Decoder, DeviceProfile, GattWrite

SERVICE_UUID = "0000ffe5-0000-1000-8000-00805f9a34fb"  # note the …9a34fb tail: not the SIG base
NOTIFY_UUID = "0000ffe4-0000-1000-8000-00805f9a34fb"
WRITE_UUID = "0000ffe9-0000-1000-8000-00805f9a34fb"

PACKET_BYTES = 20
HEADER = 0x55
FLAG_DATA = 0x61
FLAG_REGISTER = 0x71

# Data packet 0x61, 20 bytes, little-endian, no checksum:
#
#   byte   0    1    2-3  4-5  6-7  8-9  10-11 12-13 14-15 16-17 18-19
#        +----+----+----+----+----+----+-----+-----+-----+-----+-----+
#        | 55 | 61 | ax | ay | az | wx | wy  | wz  | roll|pitch| yaw |   int16 each
#        +----+----+----+----+----+----+-----+-----+-----+-----+-----+
#   acc = raw / 32768 · 16 g;  gyro = raw / 32768 · 2000 deg/s;  angle = raw / 32768 · 180 deg
DATA_PACKET = np.dtype([("header", "u1"), ("flag", "u1"), ("acc", "<i2", (3,)), ("gyr", "<i2", (3,)), ("angle", "<i2", (3,))])

# Register reply 0x71 (answer to FF AA 27 <reg> 00), padded to 20 bytes:
#
#   byte   0    1    2-3        4-5   6-7   8-9   10-11  12-19
#        | 55 | 71 | reg (u16) | r0  | r1  | r2  | r3   | padding |   r_i = register reg+i, int16
REGISTER_PACKET = np.dtype(
    [("header", "u1"), ("flag", "u1"), ("register", "<u2"), ("values", "<i2", (4,)), ("padding", "V8")]
)

ACC_FULL_SCALE_G = 16.0
GYR_FULL_SCALE_DPS = 2000.0
ANGLE_FULL_SCALE_DEG = 180.0

#: Return-rate register (RRATE, 0x03) codes, Hz → code.
RATE_CODES = {0.2: 0x01, 0.5: 0x02, 1.0: 0x03, 2.0: 0x04, 5.0: 0x05, 10.0: 0x06, 20.0: 0x07, 50.0: 0x08, 100.0: 0x09, 200.0: 0x0B}
DEFAULT_RATE_HZ = 10.0
REG_SAVE = 0x00
REG_CALIBRATE = 0x01
REG_RATE = 0x03
REG_READ = 0x27
REG_UNLOCK = 0x69
UNLOCK_KEY = 0xB588
#: The vendor's writeReg waits 100 ms after unlock and after the write.
COMMAND_GAP_S = 0.1


def register_write(register: int, value: int) -> bytes:
    """``FF AA <reg> <lo> <hi>``: write a 16-bit value to a WIT register."""
    if not 0 <= register <= 0xFF or not 0 <= value <= 0xFFFF:
        raise ValueError(f"register must be 0..0xFF and value 0..0xFFFF, got register {register!r}, value {value!r}")
    return bytes([0xFF, 0xAA, register, value & 0xFF, value >> 8])


def register_read(register: int) -> bytes:
    """``FF AA 27 <reg> 00``: ask for registers reg..reg+3 (answered by a 0x71 packet)."""
    if not 0 <= register <= 0xFF:
        raise ValueError(f"register must be 0..0xFF, got {register!r}")
    return bytes([0xFF, 0xAA, REG_READ, register, 0x00])


def write_register_commands(register: int, value: int, description: str = "") -> tuple[GattWrite, ...]:
    """Unlock → write → save, with the vendor's 100 ms pauses."""
    return (
        GattWrite(WRITE_UUID, register_write(REG_UNLOCK, UNLOCK_KEY), delay_after_s=COMMAND_GAP_S, description="unlock"),
        GattWrite(WRITE_UUID, register_write(register, value), delay_after_s=COMMAND_GAP_S, description=description),
        GattWrite(WRITE_UUID, register_write(REG_SAVE, 0x0000), description="save"),
    )


def rate_commands(sampling_rate_hz: float) -> tuple[GattWrite, ...]:
    """Set the return rate (register 0x03)."""
    code = RATE_CODES.get(float(sampling_rate_hz))
    if code is None:
        raise ValueError(
            f"WitMotion cannot stream at {sampling_rate_hz!r} Hz; choose one of {sorted(RATE_CODES)} Hz"
        )
    return write_register_commands(REG_RATE, code, f"return rate {sampling_rate_hz:g} Hz")


def start_commands(*, sampling_rate_hz: float | None = None) -> tuple[GattWrite, ...]:
    """Nothing is needed to start; with a rate, set it first (it is saved in the module)."""
    return () if sampling_rate_hz is None else rate_commands(sampling_rate_hz)


def stop_commands(*, sampling_rate_hz: float | None = None) -> tuple[GattWrite, ...]:
    """Disabling notifications stops the stream; no write needed."""
    return ()


class WitMotionDecoder(Decoder):
    """Decoder for ``55 61`` data packets (and ``55 71`` register replies).

    Attributes
    ----------
    registers_ : dict of int to int
        Last raw (int16) value of every register seen in a 0x71 reply.
    pending_bytes_ : int
        Bytes waiting in the resynchronisation buffer.

    Notes
    -----
    ``DecodedFrame.extra["angle_rad"]`` holds the module's own roll, pitch, yaw.
    """

    device = "WitMotion WT901BLE"

    def __init__(self) -> None:
        super().__init__()
        self._reset_state()

    def _reset_state(self) -> None:
        self._buffer = b""
        self.registers_: dict[int, int] = {}

    @property
    def pending_bytes_(self) -> int:
        return len(self._buffer)

    # -- framing --------------------------------------------------------------------
    @staticmethod
    def _find_header(buf: bytes, start: int, end: int | None = None) -> int:
        """First index ≥ start (< end) of ``55 61`` or ``55 71``; -1 if none."""
        end = len(buf) - 1 if end is None else min(end, len(buf) - 1)
        i = buf.find(HEADER, start, end)
        while i >= 0:
            if buf[i + 1] in (FLAG_DATA, FLAG_REGISTER):
                return i
            i = buf.find(HEADER, i + 1, end)
        return -1

    def _split(self, buf: bytes, final: bool) -> tuple[list[int], list[int], list[tuple[int, int]], int]:
        """Packet starts (data, register), garbage runs and the index where the leftover starts."""
        data_starts: list[int] = []
        reg_starts: list[int] = []
        garbage: list[tuple[int, int]] = []
        n = len(buf)
        pos = 0
        while pos < n:
            i = self._find_header(buf, pos)
            if i < 0:
                keep = n - 1 if (not final and buf[-1] == HEADER) else n
                if keep > pos:
                    garbage.append((pos, keep))
                pos = keep
                break
            if i > pos:
                garbage.append((pos, i))
            if i + PACKET_BYTES > n:
                if final:
                    garbage.append((i, n))
                    pos = n
                else:
                    pos = i
                break
            inner = self._find_header(buf, i + 1, i + PACKET_BYTES)
            if inner >= 0:
                after = i + PACKET_BYTES
                if after < n and buf[after] != HEADER:
                    inner_end = inner + PACKET_BYTES
                    if inner_end > n and not final:
                        pos = i  # the inner packet ends in a later notification: wait to tell which one is real
                        break
                    if inner_end <= n and (inner_end == n or buf[inner_end] == HEADER):
                        garbage.append((i, inner))  # truncated packet before a complete one
                        pos = inner
                        continue
                elif after == n and not final:
                    pos = i  # cannot tell yet whether the inner header is real: wait for more
                    break
            (data_starts if buf[i + 1] == FLAG_DATA else reg_starts).append(i)
            pos = i + PACKET_BYTES
        return data_starts, reg_starts, garbage, pos

    def _take(self, buf: bytes, starts: list[int], dtype: np.dtype) -> np.ndarray:
        raw = np.frombuffer(buf, dtype=np.uint8)
        rows = raw[np.asarray(starts)[:, None] + np.arange(PACKET_BYTES)]
        return np.ascontiguousarray(rows).view(dtype).ravel()

    def _frame(self, buf: bytes, final: bool) -> DecodedFrame:
        data_starts, reg_starts, garbage, pos = self._split(buf, final)
        self._buffer = buf[pos:]
        errors = tuple(
            self.error(
                f"skipped {b - a} bytes that are not part of a packet",
                "20-byte packets starting 55 61 (data) or 55 71 (register reply)",
                buf[a:b],
            )
            for a, b in garbage
        )
        if reg_starts:
            for rec in self._take(buf, reg_starts, REGISTER_PACKET):
                for k, value in enumerate(rec["values"]):
                    self.registers_[int(rec["register"]) + k] = int(value)
        if not data_starts:
            return DecodedFrame(self.device, n_samples=0, n_corrupt=len(errors), errors=errors)
        packets = self._take(buf, data_starts, DATA_PACKET)
        acc_g = packets["acc"].astype(np.float64) / 32768.0 * ACC_FULL_SCALE_G
        gyr_dps = packets["gyr"].astype(np.float64) / 32768.0 * GYR_FULL_SCALE_DPS
        angle_deg = packets["angle"].astype(np.float64) / 32768.0 * ANGLE_FULL_SCALE_DEG
        return DecodedFrame(
            self.device,
            acc_m_s2=acc_g * GRAVITY_M_S2,
            gyr_rad_s=np.deg2rad(gyr_dps),
            extra={"angle_rad": np.deg2rad(angle_deg)},
            n_corrupt=len(errors),
            errors=errors,
        )

    def _decode(self, data: bytes) -> DecodedFrame:
        return self._frame(self._buffer + data, final=False)

    def _flush(self) -> DecodedFrame:
        buf, self._buffer = self._buffer, b""
        return self._frame(buf, final=True) if buf else self.empty()


def _profile_decoder(*, sampling_rate_hz: float | None = None) -> "WitMotionDecoder":
    return WitMotionDecoder()


PROFILE = DeviceProfile(
    key="witmotion-wt901ble",
    name="WitMotion WT901BLECL / BWT901BLECL (BLE 5.0)",
    service_uuid=SERVICE_UUID,
    notify_uuids=(NOTIFY_UUID,),
    write_uuid=WRITE_UUID,
    advertised_names=(r"B?WT901", r"WT\d{3,4}BLE"),
    advertised_uuids=(SERVICE_UUID,),
    timing="host-time",
    time_epoch="",
    build_start=start_commands,
    build_stop=stop_commands,
    build_decoder=_profile_decoder,
    notes="No sample counter or time stamp: gaps cannot be seen. Rate codes from the WIT register table, "
    "not the vendor BLE SDK; the rate is saved in the module.",
)
