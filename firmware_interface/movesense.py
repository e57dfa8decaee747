"""Movesense sensors running the GATT SensorData sample firmware (``gatt_sensordata_app``).

Sources (../shared/ble/PROTOCOLS.md §A.4): Movesense sample firmware
``GATTSensorDataClient.cpp`` (UUIDs, command and response codes), its Python bleak client,
Movesense docs "GATT SensorData Protocol" (movesense.com/docs/esw/gatt_sensordata_protocol/);
time stamp meaning from the Movesense MDS model docs ("Local timestamp of first measurement").

Only units flashed with this sample app speak it (it is not the MDS protocol of
the Movesense mobile libraries).

Commands (write 0x0001): ``[command][client reference ≠ 0][data]`` — HELLO 0,
SUBSCRIBE 1 + ASCII resource path, UNSUBSCRIBE 2.  Notifications (0x0002):
``[type][reference][payload]`` — type 1 command result, 2 data, 3 second part of
a data payload too long for one notification.

Data payload of ``/Meas/Acc|Gyro|Magn/<Hz>`` and ``/Meas/IMU6|IMU9/<Hz>``::

    byte   0      1     2-5                6 …
        | 02  | ref | u32 time, ms (first | N × float32 (x, y, z)  [IMU6/9: N acc, then N gyro, then N magn]
        |     |     | sample, sensor clock)|  m/s², deg/s, µT

Per-sample times are ``t + i / fs`` with fs from the resource path.  Command
result status: PROTOCOLS.md gives ``FB 01`` for 507, the firmware source writes
``01 FB``; both byte orders are accepted (the one that gives an HTTP code wins).
"""

from __future__ import annotations

import re
from typing import Mapping

import numpy as np

from firmware_interface.base import DecodedFrame, Decoder, DeviceProfile, GattWrite

SERVICE_UUID = "34802252-7185-4d5d-b431-630e7050e8f0"
COMMAND_UUID = "34800001-7185-4d5d-b431-630e7050e8f0"
DATA_UUID = "34800002-7185-4d5d-b431-630e7050e8f0"

CMD_HELLO = 0
CMD_SUBSCRIBE = 1
CMD_UNSUBSCRIBE = 2
MSG_RESULT = 1
MSG_DATA = 2
MSG_DATA_PART2 = 3

#: u32 millisecond clock wraps after 2**32 ms.
TIME_MODULUS_S = 2**32 / 1000.0
RATES_HZ = (13, 26, 52, 104, 208, 416, 833, 1666)
#: The rates a recording can index: the time stamp is the first sample's, in whole ms, so each frame's place is
#: known to 1 ms; at 833 and 1666 Hz that is about a sample or more, and a frame right after another could not be
#: told from one after a lost sample (:class:`firmware_interface.counters.TimestampIndexer` needs under ~500 Hz).
RECORDABLE_RATES_HZ = tuple(r for r in RATES_HZ if r <= 416)
MAX_PATH_BYTES = 158

# Data notification header: type, reference, time stamp of the first sample.
DATA_HEADER = np.dtype([("type", "u1"), ("ref", "u1"), ("time_ms", "<u4")])
VECTOR = np.dtype([("xyz", "<f4", (3,))])

_PATH_RE = re.compile(r"^/Meas/(Acc|Gyro|Magn|IMU6|IMU9)/(\d+)$")
#: Vector blocks per sample, in payload order.
_BLOCKS = {"Acc": ("acc",), "Gyro": ("gyr",), "Magn": ("mag",), "IMU6": ("acc", "gyr"), "IMU9": ("acc", "gyr", "mag")}


def parse_resource(path: str) -> tuple[str, int]:
    """``"/Meas/IMU6/52"`` → ``("IMU6", 52)``; ValueError for anything else this decoder cannot read."""
    match = _PATH_RE.match(path) if isinstance(path, str) else None
    if not match or int(match.group(2)) not in RATES_HZ:
        raise ValueError(
            f"Movesense resource {path!r} is not one this decoder reads; use /Meas/Acc|Gyro|Magn|IMU6|IMU9/<Hz> "
            f"with Hz in {RATES_HZ}"
        )
    return match.group(1), int(match.group(2))


def _check_ref(ref: int) -> None:
    if not isinstance(ref, int) or not 1 <= ref <= 255:
        raise ValueError(f"Movesense client reference must be an int in 1..255, got {ref!r}")


def hello_command(ref: int) -> bytes:
    """``00 ref``: the sensor answers ``01 ref 'Hello'``."""
    _check_ref(ref)
    return bytes([CMD_HELLO, ref])


def subscribe_command(ref: int, path: str) -> bytes:
    """``01 ref <ASCII path>``, e.g. ``subscribe_command(99, "/Meas/Acc/52")``."""
    _check_ref(ref)
    encoded = path.encode("ascii")
    if not encoded.startswith(b"/") or len(encoded) > MAX_PATH_BYTES:
        raise ValueError(f"resource path must start with '/' and be at most {MAX_PATH_BYTES} bytes, got {path!r}")
    return bytes([CMD_SUBSCRIBE, ref]) + encoded


def unsubscribe_command(ref: int) -> bytes:
    """``02 ref``."""
    _check_ref(ref)
    return bytes([CMD_UNSUBSCRIBE, ref])


def start_commands(*, resources: Mapping[int, str]) -> tuple[GattWrite, ...]:
    """One SUBSCRIBE per client reference → resource path."""
    if not resources:
        raise ValueError("give at least one subscription, e.g. resources={99: '/Meas/IMU6/52'}")
    for path in resources.values():
        _, rate = parse_resource(path)
        if rate not in RECORDABLE_RATES_HZ:
            raise ValueError(f"Movesense {path}: at {rate} Hz its 1-ms time stamps cannot tell a frame that follows "
                             f"the last from one after a lost sample; record at {max(RECORDABLE_RATES_HZ)} Hz or below "
                             f"({', '.join(map(str, RECORDABLE_RATES_HZ))})")
    return tuple(GattWrite(COMMAND_UUID, subscribe_command(ref, path), description=f"subscribe {path}") for ref, path in resources.items())


def stop_commands(*, resources: Mapping[int, str]) -> tuple[GattWrite, ...]:
    """One UNSUBSCRIBE per client reference."""
    return tuple(GattWrite(COMMAND_UUID, unsubscribe_command(ref), description=f"unsubscribe {path}") for ref, path in resources.items())


def parse_status(two_bytes: bytes) -> int:
    """HTTP-like status of a command result; either byte order (see module notes)."""
    little, big = int.from_bytes(two_bytes, "little"), int.from_bytes(two_bytes, "big")
    return little if 100 <= little <= 599 else big


class MovesenseDecoder(Decoder):
    """Decoder for the GATT SensorData data characteristic.

    Parameters
    ----------
    resources
        Client reference → subscribed resource path (``{99: "/Meas/IMU6/52"}``);
        the path tells the payload layout and the sampling rate.

    Attributes
    ----------
    command_results_ : dict of int to int
        Last status per client reference (200 OK; 507 no free subscription slot …).
    hello_ : bool
        Whether the HELLO reply was seen.
    """

    device = "Movesense (GATT SensorData)"

    def __init__(self, *, resources: Mapping[int, str]):
        super().__init__()
        if not isinstance(resources, Mapping) or not resources:
            raise ValueError(f"resources must map client references to resource paths, e.g. {{99: '/Meas/Acc/52'}}; got {resources!r}")
        for ref, path in resources.items():
            _check_ref(ref)
            parse_resource(path)
        self.resources = dict(resources)
        self._reset_state()

    def _reset_state(self) -> None:
        self.command_results_: dict[int, int] = {}
        self.hello_ = False
        self._pending: dict[int, bytes] = {}

    def _decode(self, data: bytes) -> DecodedFrame:
        if len(data) < 2:
            raise self.error(f"notification of {len(data)} bytes", "[type][reference] + payload", data)
        kind, ref = data[0], data[1]
        if kind == MSG_RESULT:
            if data[2:] == b"Hello":
                self.hello_ = True
            elif len(data) == 4:
                self.command_results_[ref] = parse_status(data[2:4])
            else:
                raise self.error(f"command result of {len(data)} bytes", "01 ref + 2-byte status, or 01 ref 'Hello'", data)
            return self.empty()
        if kind not in (MSG_DATA, MSG_DATA_PART2):
            raise self.error(f"notification type {kind}", "1 (command result), 2 (data) or 3 (data, second part)", data)
        if ref not in self.resources:
            raise self.error(f"data for client reference {ref}, which no subscription uses", f"one of {sorted(self.resources)}", data)
        errors = []
        if kind == MSG_DATA:
            stale = self._pending.pop(ref, None)
            if stale is not None:
                errors.append(self.error("first part of a split payload was never completed", "a type-3 notification after it", stale))
            if len(data) < DATA_HEADER.itemsize:
                raise self.error(f"data notification of {len(data)} bytes", f"at least {DATA_HEADER.itemsize} (type, ref, u32 time)", data)
            payload = data
        else:
            first = self._pending.pop(ref, None)
            if first is None:
                raise self.error("second part of a data payload without a first part", "a type-2 notification before it", data)
            payload = first + data[2:]
        kind_name, rate_hz = parse_resource(self.resources[ref])
        blocks = _BLOCKS[kind_name]
        stride = VECTOR.itemsize * len(blocks)
        body = len(payload) - DATA_HEADER.itemsize
        if body <= 0 or body % stride:
            if kind == MSG_DATA:
                self._pending[ref] = payload  # may be completed by a type-3 notification
                return DecodedFrame(self.device, n_samples=0, n_corrupt=len(errors), errors=tuple(errors))
            raise self.error(
                f"{kind_name} payload of {body} bytes after the time stamp",
                f"a positive multiple of {stride} bytes ({len(blocks)} × 3 float32 per sample)", payload,
            )
        header = np.frombuffer(payload, dtype=DATA_HEADER, count=1)[0]
        n = body // stride
        vectors = np.frombuffer(payload, dtype=VECTOR, offset=DATA_HEADER.itemsize)["xyz"].astype(np.float64)
        channels = {name: vectors[k * n : (k + 1) * n] for k, name in enumerate(blocks)}
        times = np.mod(int(header["time_ms"]) / 1000.0 + np.arange(n) / rate_hz, TIME_MODULUS_S)
        return DecodedFrame(
            self.device,
            acc_m_s2=channels.get("acc"),
            gyr_rad_s=np.deg2rad(channels["gyr"]) if "gyr" in channels else None,
            mag_ut=channels.get("mag"),
            sensor_time_s=times,
            time_modulus_s=TIME_MODULUS_S,
            n_corrupt=len(errors),
            errors=tuple(errors),
        )

    def _flush(self) -> DecodedFrame:
        stale = [self.error("first part of a split payload was never completed", "a type-3 notification after it", p) for p in self._pending.values()]
        self._pending.clear()
        return self.empty(errors=stale)


def _decoder(*, resources: Mapping[int, str]) -> MovesenseDecoder:
    return MovesenseDecoder(resources=resources)


PROFILE = DeviceProfile(
    key="movesense-gatt-sensordata",
    name="Movesense with the GATT SensorData firmware",
    service_uuid=SERVICE_UUID,
    notify_uuids=(DATA_UUID,),
    write_uuid=COMMAND_UUID,
    advertised_names=(r"Movesense",),
    advertised_uuids=(SERVICE_UUID,),
    timing="sensor-time",
    time_epoch="sensor-relative milliseconds (wraps after 2**32 ms)",
    build_start=start_commands,
    build_stop=stop_commands,
    build_decoder=_decoder,
    notes="Needs the gatt_sensordata_app firmware. The split-payload (type 3) handling and the status byte "
    "order are from third-party docs, not verified on a device.",
)
