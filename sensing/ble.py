"""Bluetooth LE with bleak: scan, connect, subscribe, start, stream, reconnect, stop.

Every bleak object is created with an optional ``backend=`` (bleak 3.x accepts a
:class:`bleak.backends.client.BaseBleakClient` / ``BaseBleakScanner`` subclass),
so tests and the bench inject an emulated radio (:class:`EmulatedRadio`) while
the code path above it, bleak's own ``BleakClient``/``BleakScanner`` included,
is the one used with a real adapter.  Without ``backend=`` bleak picks the
platform's (BlueZ over D-Bus on Linux).

:class:`SensorLink` keeps one sensor streaming: connect → enable notifications
(the data characteristic feeds the ingest queue; a control point's answers go
to the decoder) → write the profile's start commands → wait for a stop or a
link drop.  After a drop it reconnects with exponential back-off
(``backoff_s`` doubling up to ``max_backoff_s``), re-scanning for the device
when connecting by the old handle fails twice; the stream resumes into the same
recording (:mod:`sensing.ingest` marks the gap).  On stop it writes the stop
commands, disables notifications and disconnects.

A device can carry more than one stream: a sensor recognised by a
device-specific IMU profile that also advertises the standard Heart Rate or
Running Speed and Cadence service (a Polar H10 advertises 0x180D) has those as
*companions* (:func:`companion_profiles`), subscribed on the same connection and
recorded as event streams beside the IMU.  A plain heart-rate strap or RSC
footpod is recognised by its standard service alone and records only that.
"""

from __future__ import annotations

import asyncio
import re
import struct
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from bleak import BleakClient, BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakError

from firmware_interface import polar_pmd, reference, registry, thingy52
from firmware_interface import heart_rate, rsc
from firmware_interface.base import DeviceProfile, normalise_uuid

_ADDRESS_RE = re.compile(r"^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f-]{36}$")

# ---------------------------------------------------------------------------------------
# Settings per profile


def default_settings(profile: DeviceProfile, *, sampling_rate_hz: int | None = None) -> dict:
    """Start/decoder settings for streaming IMU data from ``profile`` (``sampling_rate_hz`` overrides the rate).

    The standard services (heart rate, RSC) need none: ``{}``.
    """
    key = profile.key
    if profile.generic:
        return {}
    if key == "backstride-reference":
        return {"sampling_rate_hz": sampling_rate_hz or 200, "acc_range_g": 16, "gyr_range_dps": 2000, "gyr": True, "mag": False}
    if key == "witmotion-wt901ble":
        return {"sampling_rate_hz": sampling_rate_hz or 100}
    if key == "nordic-thingy52":
        return {"sampling_rate_hz": sampling_rate_hz or 100}  # current_config is read on connection
    if key == "mbientlab-metamotion":
        return {"sampling_rate_hz": sampling_rate_hz or 100, "acc_range_g": 16}  # gyroscope comes as its own stream
    if key == "movesense-gatt-sensordata":
        return {"resources": {99: f"/Meas/IMU6/{sampling_rate_hz or 104}"}}
    if key == "polar-h10":
        rate = sampling_rate_hz or 200
        return {"measurements": {polar_pmd.PmdMeasurement.ACC: {**polar_pmd.H10_ACC_SETTINGS, polar_pmd.PmdSetting.SAMPLE_RATE: rate}}}
    if key == "polar-verity-sense":  # ACC only: the gyroscope is a separate PMD stream (not merged live)
        return {"measurements": {polar_pmd.PmdMeasurement.ACC: polar_pmd.VERITY_ACC_SETTINGS}}
    raise ValueError(f"{profile.name} carries no IMU samples; backstride records IMU sensors "
                     "(reference profile, WitMotion, Polar, Thingy:52, MetaMotion, Movesense)")


def nominal_rate_hz(profile: DeviceProfile, settings: dict) -> float:
    """The sampling rate the settings ask for (the recording's nominal rate)."""
    if "sampling_rate_hz" in settings:
        return float(settings["sampling_rate_hz"])
    if "measurements" in settings:
        acc = settings["measurements"][polar_pmd.PmdMeasurement.ACC]
        return float(acc[polar_pmd.PmdSetting.SAMPLE_RATE])
    if "resources" in settings:
        path = next(iter(settings["resources"].values()))
        return float(path.rsplit("/", 1)[-1])
    raise ValueError(f"no sampling rate in the settings of {profile.name}: {settings}")


async def prepare_settings(profile: DeviceProfile, client: BleakClient, settings: dict) -> dict:
    """Settings that need a read from the device (Thingy:52's motion configuration)."""
    if profile.key == "nordic-thingy52":
        config = await client.read_gatt_char(thingy52.MOTION_CONFIG_UUID)
        return {**settings, "current_config": bytes(config)}
    return settings


# ---------------------------------------------------------------------------------------
# Scanning


@dataclass(frozen=True)
class FoundSensor:
    """A device seen while scanning, and the profile backstride recognises it as (None: unsupported)."""

    name: str | None
    address: str
    rssi: int | None
    profile: DeviceProfile | None
    device: BLEDevice = field(repr=False, compare=False)
    #: Service UUIDs in the advertisement (lower-case 128-bit strings).
    service_uuids: tuple[str, ...] = ()


def companion_profiles(sensor: FoundSensor) -> tuple[DeviceProfile, ...]:
    """Standard services (heart rate, RSC) the device advertises besides its main profile.

    Only for a device whose main profile is device-specific: a Polar H10
    (PMD accelerometer) advertising 0x180D has the Heart Rate service as a
    companion.  A plain strap's own heart rate is its main profile, not a companion.
    """
    if sensor.profile is None or sensor.profile.generic:
        return ()
    return tuple(p for p in registry.candidates(sensor.name, sensor.service_uuids) if p.generic and p is not sensor.profile)


async def scan(timeout_s: float = 5.0, *, backend: type[BaseBleakScanner] | None = None,
               supported_only: bool = True) -> list[FoundSensor]:
    """Devices nearby, strongest first; by default only those a profile recognises."""
    found = await BleakScanner.discover(timeout=timeout_s, return_adv=True, backend=backend)
    out = []
    for device, adv in found.values():
        name = adv.local_name or device.name
        profile = registry.identify(name, adv.service_uuids)
        if profile is None and supported_only:
            continue
        uuids = []
        for u in adv.service_uuids or ():
            try:
                uuids.append(normalise_uuid(u))
            except (TypeError, ValueError):
                pass  # a malformed advertisement entry: ignore it, never fail the scan
        out.append(FoundSensor(name, device.address, adv.rssi, profile, device, tuple(uuids)))
    return sorted(out, key=lambda f: -(f.rssi if f.rssi is not None else -999))


async def find(name_or_address: str, *, timeout_s: float = 10.0, backend: type[BaseBleakScanner] | None = None) -> FoundSensor:
    """The supported sensor with this address (case-insensitive) or advertised name (exact, else prefix).

    Raises
    ------
    LookupError
        Nothing matching was seen; the message lists what was.
    """
    found = await scan(timeout_s, backend=backend, supported_only=False)
    key = name_or_address.strip()
    by_address = [f for f in found if f.address.lower() == key.lower()]
    by_name = [f for f in found if f.name == key] or [f for f in found if f.name and f.name.lower().startswith(key.lower())]
    hits = by_address or by_name
    if not hits:
        seen = ", ".join(f"{f.name or '?'} ({f.address})" for f in found) or "no devices"
        raise LookupError(f"sensor {name_or_address!r} not found in {timeout_s:g} s of scanning; seen: {seen}")
    hit = hits[0]
    if hit.profile is None:
        raise LookupError(f"{hit.name or '?'} ({hit.address}) is not a sensor backstride knows; "
                          f"supported: {', '.join(p.name for p in registry.PROFILES)}")
    return hit


# ---------------------------------------------------------------------------------------
# One sensor's link


class SensorLink:
    """Keeps one sensor streaming into an :class:`sensing.ingest.IngestPipeline`.

    Parameters
    ----------
    pipeline, sensor_id
        Where notifications go (the sensor must be added to the pipeline).
    sensor
        From :func:`find`.
    settings
        From :func:`default_settings`.
    client_backend, scanner_backend
        Injected bleak backends (None: the platform's).
    backoff_s, max_backoff_s
        Reconnect delays: ``backoff_s · 2**attempt``, at most ``max_backoff_s``.
    companions
        ``[(profile, stream_id), ...]``: standard services of the same device
        (:func:`companion_profiles`) whose notifications go to ``stream_id`` of
        the pipeline.  A companion the connected device turns out not to have
        is reported as an error on its stream; the main stream goes on.
    """

    def __init__(self, pipeline, sensor_id: str, sensor: FoundSensor, settings: dict, *,
                 client_backend: type[BaseBleakClient] | None = None, scanner_backend: type[BaseBleakScanner] | None = None,
                 backoff_s: float = 0.5, max_backoff_s: float = 10.0, connect_timeout_s: float = 10.0,
                 companions: tuple[tuple[DeviceProfile, str], ...] | list = ()):
        self.pipeline = pipeline
        self.sensor_id = sensor_id
        self.sensor = sensor
        self.profile = sensor.profile
        self.settings = settings
        self.companions = list(companions)
        self._missing: set[str] = set()  # companion streams the device does not have
        self.client_backend = client_backend
        self.scanner_backend = scanner_backend
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.connect_timeout_s = connect_timeout_s
        self.connections_ = 0
        self.errors_: list[str] = []

    def _data_and_control(self) -> list[tuple[str, str]]:
        p = self.profile
        return [(u, "control" if u == p.write_uuid else "data") for u in p.notify_uuids]

    def _stream_ids(self) -> list[str]:
        return [self.sensor_id] + [sid for _, sid in self.companions if sid not in self._missing]

    def _set_state(self, state: str, error: str | None = None) -> None:
        for sid in self._stream_ids():
            self.pipeline.set_state(sid, state, error)

    async def _start_companions(self, client: BleakClient) -> None:
        for prof, sid in self.companions:
            if sid in self._missing:
                continue
            for uuid in prof.notify_uuids:
                if client.services.get_characteristic(uuid) is None:
                    self._missing.add(sid)
                    self.pipeline.set_state(sid, "error", f"{self.sensor.name or self.sensor.address} has no "
                                                          f"{prof.name} characteristic {uuid} (advertised, not offered)")
                    break
                await client.start_notify(uuid, self.pipeline.callback(sid, "data"))

    async def run(self, stop: asyncio.Event) -> None:
        device = self.sensor.device
        attempt = 0
        failures = 0
        first = True
        while not stop.is_set():
            self._set_state("connecting" if first else "reconnecting")
            first = False
            dropped = asyncio.Event()
            try:
                # ev=dropped: this connection's event, bound now (a late callback of an earlier client never ends this one)
                client = BleakClient(device, disconnected_callback=lambda _c, ev=dropped: ev.set(),
                                     timeout=self.connect_timeout_s, backend=self.client_backend)
                await client.connect()
                try:
                    self.connections_ += 1
                    failures = 0
                    settings = await prepare_settings(self.profile, client, self.settings)
                    for uuid, kind in self._data_and_control():
                        await client.start_notify(uuid, self.pipeline.callback(self.sensor_id, kind))
                    await self._start_companions(client)
                    for w in self.profile.start_commands(**settings):
                        await client.write_gatt_char(w.char_uuid, w.data, response=w.with_response)
                        if w.delay_after_s:
                            await asyncio.sleep(w.delay_after_s)
                    attempt = 0
                    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(dropped.wait())]
                    await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
                    for f in waiters:
                        f.cancel()
                    if stop.is_set() and not dropped.is_set():
                        await self._stop_streaming(client, settings)
                finally:
                    # Unconditionally, also after the sensor dropped the link: only disconnect() closes
                    # this client's own D-Bus connection (BlueZ backend).  While it stays open, BlueZ
                    # keeps its notification sessions and re-enables them on the next connection, and
                    # every notification then arrives twice.  Never let the clean-up end the loop.
                    try:
                        await client.disconnect()
                    except (BleakError, asyncio.TimeoutError, OSError, EOFError) as exc:
                        self.errors_.append(f"while disconnecting: {type(exc).__name__}: {exc}")
            except (BleakError, asyncio.TimeoutError, OSError) as exc:
                failures += 1
                self.errors_.append(f"{type(exc).__name__}: {exc}")
            if stop.is_set():
                break
            self._set_state("reconnecting", self.errors_[-1] if self.errors_ and failures else None)
            delay = min(self.max_backoff_s, self.backoff_s * 2**attempt)
            attempt += 1
            try:
                await asyncio.wait_for(stop.wait(), timeout=delay)
            except asyncio.TimeoutError:
                pass
            if failures >= 2 and not stop.is_set():  # the old handle may be stale: look for the device again
                try:
                    device = (await find(self.sensor.address, timeout_s=5.0, backend=self.scanner_backend)).device
                except LookupError as exc:
                    self.errors_.append(str(exc))
        self._set_state("finished")
        for sid in self._missing:
            self.pipeline.set_state(sid, "finished")

    async def _stop_streaming(self, client: BleakClient, settings: dict) -> None:
        """Best effort: the file is complete whatever the sensor answers."""
        try:
            for w in self.profile.stop_commands(**settings):
                await client.write_gatt_char(w.char_uuid, w.data, response=w.with_response)
            for uuid, _ in self._data_and_control():
                await client.stop_notify(uuid)
            for prof, sid in self.companions:
                if sid not in self._missing:
                    for uuid in prof.notify_uuids:
                        await client.stop_notify(uuid)
        except (BleakError, asyncio.TimeoutError, OSError) as exc:
            self.errors_.append(f"while stopping: {exc}")


# ---------------------------------------------------------------------------------------
# Emulated radio: a reference-profile peripheral behind injected bleak backends
#
# Mocks only the radio: BleakClient/BleakScanner, the profile's commands, the
# decoder and everything after it run unchanged.  The peripheral follows the
# reference profile's specification (firmware_interface/REFERENCE_PROFILE.md):
# START restarts the sample counter at 0, the µs clock runs freely, samples are
# taken in real time whether or not they can be sent.


class _EmulatedPeripheral:
    """What every emulated peripheral shares: losing its radio link."""

    streaming = False
    connected_client = None

    def drop_link(self) -> None:
        """The radio link breaks (out of range): streaming stops, the connected client is told."""
        self.streaming = False
        client = self.connected_client
        self.connected_client = None
        if client is not None:
            client._link_lost()


class EmulatedReferenceSensor(_EmulatedPeripheral):
    """A reference-profile sensor playing (acc, gyr) arrays in a loop, in real time.

    Parameters
    ----------
    acc_m_s2, gyr_rad_s
        (n, 3) arrays to play (repeated).
    sampling_rate_hz
        The rate the data were sampled at; the sensor is configured to it.
    clock_error_ppm
        How fast the sensor's crystal runs (its true rate is nominal · (1 + ppm·1e-6)).
    drop_frames
        Frame numbers (counted since power-on) the radio loses: their samples
        are taken and counted, never delivered.
    """

    def __init__(self, address: str, name: str, acc_m_s2: np.ndarray, gyr_rad_s: np.ndarray | None, *,
                 sampling_rate_hz: int, rssi: int = -60, clock_error_ppm: float = 0.0, drop_frames: set[int] = frozenset(),
                 max_payload_bytes: int = reference.DEFAULT_MAX_PAYLOAD_BYTES, heart_rate: list[dict] | None = None,
                 heart_rate_interval_s: float = 1.0):
        self.address = address
        self.name = name
        self.rssi = rssi
        self.acc = np.asarray(acc_m_s2, float)
        self.gyr = None if gyr_rad_s is None else np.asarray(gyr_rad_s, float)
        self.sampling_rate_hz = int(sampling_rate_hz)
        self.true_rate_hz = sampling_rate_hz * (1 + clock_error_ppm * 1e-6)
        self.drop_frames = set(drop_frames)
        self.per_frame = reference.samples_per_frame(gyr=self.gyr is not None, mag=False, max_payload_bytes=max_payload_bytes)
        self.power_on = time.monotonic()
        self.connected_client: "EmulatedClient | None" = None
        self.streaming = False
        self.frames_sent = 0
        self.frame_number = 0
        self.sent_log: list[tuple[int, int]] = []  # (sensor sample position of first sample, n) of delivered frames
        #: Notification sessions of clients that lost the link and never called disconnect():
        #: BlueZ keeps them and re-enables them on the next connection (each adds one copy).
        self.stale_sessions: set[int] = set()
        self._task: asyncio.Task | None = None
        self._rate = self.sampling_rate_hz
        self._acc_code_g = 16
        self._gyr_dps = 2000
        #: With ``heart_rate`` measurements the board also carries the standard Heart Rate service
        #: (as a Polar H10 does beside its accelerometer): advertised, and notifying on subscription.
        self.hr = None if not heart_rate else EmulatedHeartRateStrap(address, name, heart_rate,
                                                                     interval_s=heart_rate_interval_s)

    def position(self) -> int:
        """Samples taken since power-on (the sensor clock)."""
        return int((time.monotonic() - self.power_on) * self.true_rate_hz)

    async def _stream(self, notify: Callable[[bytes], None]) -> None:
        counter = 0
        pos = self.position()
        n = self.per_frame
        while self.streaming:
            target = self.power_on + (pos + n) / self.true_rate_hz
            delay = target - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if not self.streaming:
                break
            rows = (pos + np.arange(n)) % len(self.acc)
            frame = reference.encode_frame(
                self.acc[rows], gyr_rad_s=None if self.gyr is None else self.gyr[rows], first_counter=counter,
                first_time_us=int(round(pos * 1e6 / self.sampling_rate_hz)), sampling_rate_hz=self._rate,
                acc_range_g=self._acc_code_g, gyr_range_dps=self._gyr_dps)
            if self.frame_number not in self.drop_frames:
                notify(frame)
                self.sent_log.append((pos, n))
                self.frames_sent += 1
            self.frame_number += 1
            counter += n
            pos += n

    def on_command(self, data: bytes, notify_data, notify_control) -> None:
        cmd = reference.parse_command(data)
        if cmd.op is reference.Op.START:
            if not self.streaming:
                self.streaming = True
                self._task = asyncio.get_running_loop().create_task(self._stream(notify_data))
        elif cmd.op is reference.Op.STOP:
            self.streaming = False
        elif cmd.op is reference.Op.SET_RATE and cmd.sampling_rate_hz != self.sampling_rate_hz:
            notify_control(reference.encode_response(cmd.op, reference.Status.INVALID_PARAMETER))
            return
        notify_control(reference.encode_response(cmd.op, reference.Status.SUCCESS))

    # -- the GATT server, as the emulated client sees it ----------------------------------------
    @property
    def advertised_uuids(self) -> tuple[str, ...]:
        return (reference.SERVICE_UUID,) + ((heart_rate.SERVICE_UUID,) if self.hr is not None else ())

    def gatt(self) -> list[tuple[str, list[tuple[str, list[str]]]]]:
        own = [(reference.SERVICE_UUID, [(reference.CONTROL_POINT_UUID, ["write", "notify"]),
                                         (reference.DATA_UUID, ["notify"]), (reference.INFO_UUID, ["read"])])]
        return own + (self.hr.gatt() if self.hr is not None else [])

    def link_closed(self) -> None:
        """The connection ended (dropped or closed): the heart-rate notifications stop with it."""
        if self.hr is not None:
            self.hr.streaming = False

    def read_char(self, uuid: str) -> bytes:
        if uuid == reference.INFO_UUID:
            return reference.encode_info(reference.Info(1, (1, 0, 0), True, False, (2, 4, 8, 16),
                                                        (125, 250, 500, 1000, 2000), 1000))
        raise BleakError(f"characteristic {uuid} is not readable")

    def write_char(self, uuid: str, data: bytes, emit: Callable[[str], Callable[[bytes], None]]) -> None:
        if uuid != reference.CONTROL_POINT_UUID:
            raise BleakError(f"characteristic {uuid} is not writable")
        self.on_command(bytes(data), emit(reference.DATA_UUID), emit(reference.CONTROL_POINT_UUID))

    def notify_started(self, uuid: str, emit: Callable[[bytes], None]) -> None:
        """Notifications enabled on ``uuid`` (the reference profile streams only after START; heart rate at once)."""
        if self.hr is not None and uuid == self.hr.char_uuid:
            self.hr.notify_started(uuid, emit)


# ---------------------------------------------------------------------------------------
# Standard services (Bluetooth SIG): frames encoded as the specifications say, for the
# emulated heart-rate strap and footpod.  Checked against the published vectors in
# tests/test_sensing_heart_rate.py (the same ones the decoders are tested with).


def encode_heart_rate(hr_bpm: int, rr_s=(), *, energy_kj: int | None = None, contact: bool | None = None,
                      hr_u16: bool | None = None) -> bytes:
    """A Heart Rate Measurement (0x2A37) notification.

    ``rr_s`` are RR intervals in seconds (sent in 1/1024 s, rounded);
    ``contact`` None means the strap does not support contact detection;
    ``hr_u16`` forces the 16-bit heart-rate field (default: only above 255).
    """
    hr = int(hr_bpm)
    if not 0 <= hr <= 0xFFFF:
        raise ValueError(f"hr_bpm must fit 0..65535, got {hr_bpm}")
    wide = hr > 0xFF if hr_u16 is None else bool(hr_u16)
    if hr > 0xFF and not wide:
        raise ValueError(f"hr_bpm {hr} needs the 16-bit field")
    rr = [int(round(float(x) * heart_rate.RR_UNITS_PER_S)) for x in rr_s]
    if any(not 0 <= x <= 0xFFFF for x in rr):
        raise ValueError(f"RR intervals must be 0..{0xFFFF / heart_rate.RR_UNITS_PER_S:.3f} s, got {list(rr_s)}")
    flags = (heart_rate.FLAG_HR_U16 if wide else 0) | (heart_rate.FLAG_ENERGY if energy_kj is not None else 0) | (
        heart_rate.FLAG_RR if rr else 0)
    if contact is not None:
        flags |= heart_rate.FLAG_CONTACT_SUPPORTED | (heart_rate.FLAG_CONTACT_DETECTED if contact else 0)
    out = struct.pack("<BH" if wide else "<BB", flags, hr)
    if energy_kj is not None:
        out += struct.pack("<H", int(energy_kj))
    return out + struct.pack(f"<{len(rr)}H", *rr)


def encode_rsc(speed_m_s: float, cadence_per_min: int, *, stride_length_m: float | None = None,
               total_distance_m: float | None = None, running: bool = True) -> bytes:
    """An RSC Measurement (0x2A53) notification (speed in 1/256 m/s, stride in cm, distance in dm, rounded)."""
    flags = (rsc.FLAG_STRIDE if stride_length_m is not None else 0) | (
        rsc.FLAG_DISTANCE if total_distance_m is not None else 0) | (rsc.FLAG_RUNNING if running else 0)
    out = struct.pack("<BHB", flags, int(round(speed_m_s * 256)), int(cadence_per_min))
    if stride_length_m is not None:
        out += struct.pack("<H", int(round(stride_length_m * 100)))
    if total_distance_m is not None:
        out += struct.pack("<I", int(round(total_distance_m * 10)))
    return out


class EmulatedSigSensor(_EmulatedPeripheral):
    """A standard-service peripheral (heart-rate strap, RSC footpod) notifying once per ``interval_s``.

    It measures whether or not anyone listens: measurement *k* is due at
    ``power_on + k · interval_s``; while notifications are enabled each due
    measurement is sent (``sent_log``: ``(k, payload, measurement)``), while
    the link is down they pass unsent.  ``payloads`` (k → bytes) replaces the
    encoded notification of measurement k (to send malformed ones).
    """

    service_uuid: str = ""
    char_uuid: str = ""

    def __init__(self, address: str, name: str, measurements: list[dict], *, interval_s: float = 1.0, rssi: int = -60,
                 payloads: dict[int, bytes] | None = None):
        if not measurements:
            raise ValueError("give at least one measurement to play")
        self.address = address
        self.name = name
        self.rssi = rssi
        self.measurements = list(measurements)
        self.interval_s = float(interval_s)
        self.payloads = dict(payloads or {})
        self.power_on = time.monotonic()
        self.connected_client: "EmulatedClient | None" = None
        self.streaming = False
        self.stale_sessions: set[int] = set()
        self.sent_log: list[tuple[int, bytes, dict]] = []
        self._task: asyncio.Task | None = None
        self._generation = 0

    @property
    def advertised_uuids(self) -> tuple[str, ...]:
        return (self.service_uuid,)

    def encode(self, measurement: dict) -> bytes:
        raise NotImplementedError

    def gatt(self) -> list[tuple[str, list[tuple[str, list[str]]]]]:
        return [(self.service_uuid, [(self.char_uuid, ["notify"])])]

    def read_char(self, uuid: str) -> bytes:
        raise BleakError(f"characteristic {uuid} is not readable")

    def write_char(self, uuid: str, data: bytes, emit) -> None:
        raise BleakError(f"characteristic {uuid} is not writable")

    def notify_started(self, uuid: str, emit: Callable[[bytes], None]) -> None:
        """Standard services start notifying on subscription."""
        if uuid == self.char_uuid and not self.streaming:
            self.streaming = True
            self._generation += 1  # a task of an earlier connection, still asleep, must not send for this one
            self._task = asyncio.get_running_loop().create_task(self._stream(emit, self._generation))

    async def _stream(self, notify: Callable[[bytes], None], generation: int) -> None:
        k = int((time.monotonic() - self.power_on) / self.interval_s) + 1
        while self.streaming and generation == self._generation:
            delay = self.power_on + k * self.interval_s - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if not self.streaming or generation != self._generation:
                break
            m = self.measurements[k % len(self.measurements)]
            payload = self.payloads.get(k, self.encode(m))
            notify(payload)
            self.sent_log.append((k, payload, m))
            k += 1


class EmulatedHeartRateStrap(EmulatedSigSensor):
    """A heart-rate strap (service 0x180D): ``measurements`` are ``encode_heart_rate`` keyword dicts

    (``hr_bpm``, ``rr_s``, ``energy_kj``, ``contact``), played in a loop.
    """

    service_uuid = heart_rate.SERVICE_UUID
    char_uuid = heart_rate.MEASUREMENT_UUID

    def encode(self, measurement: dict) -> bytes:
        return encode_heart_rate(**measurement)


class EmulatedRscFootpod(EmulatedSigSensor):
    """A footpod (service 0x1814): ``measurements`` are ``encode_rsc`` keyword dicts, played in a loop."""

    service_uuid = rsc.SERVICE_UUID
    char_uuid = rsc.MEASUREMENT_UUID

    def encode(self, measurement: dict) -> bytes:
        return encode_rsc(**measurement)


class EmulatedRadio:
    """Peripherals in range, and the bleak backends that reach them (pass ``client_backend``/``scanner_backend``).

    A peripheral provides ``address``, ``name``, ``rssi``, ``advertised_uuids``,
    ``gatt()``, ``read_char``, ``write_char``, ``notify_started``,
    ``connected_client``, ``streaming`` and ``stale_sessions``
    (:class:`EmulatedReferenceSensor`, :class:`EmulatedHeartRateStrap`,
    :class:`EmulatedRscFootpod`).
    """

    def __init__(self, sensors: list = ()):
        self.sensors = {s.address.upper(): s for s in sensors}
        radio = self

        class Client(EmulatedClient):
            _radio = radio

        class Scanner(EmulatedScanner):
            _radio = radio

        self.client_backend = Client
        self.scanner_backend = Scanner


class EmulatedScanner(BaseBleakScanner):
    _radio: EmulatedRadio

    def __init__(self, detection_callback=None, service_uuids=None, scanning_mode="active", **kwargs: Any):
        super().__init__(detection_callback, service_uuids)

    async def start(self) -> None:
        self.seen_devices = {}
        for s in self._radio.sensors.values():
            adv = AdvertisementData(local_name=s.name, manufacturer_data={}, service_data={},
                                    service_uuids=list(s.advertised_uuids), tx_power=None, rssi=s.rssi, platform_data=())
            device = self.create_or_update_device(s.address, s.address, s.name, None, adv)
            self.call_detection_callbacks(device, adv)

    async def stop(self) -> None:
        pass


class EmulatedClient(BaseBleakClient):
    """A bleak client backend connected to an emulated peripheral over the emulated radio."""

    _radio: EmulatedRadio

    def __init__(self, address_or_ble_device, **kwargs: Any):
        super().__init__(address_or_ble_device, disconnected_callback=kwargs.get("disconnected_callback"),
                         timeout=kwargs.get("timeout", 10.0))
        self._sensor = None
        self._callbacks: dict[str, Callable[[bytearray], None]] = {}
        self._stale_on = None  # sensor holding this client's stale sessions

    @property
    def name(self) -> str:
        return self._sensor.name if self._sensor else ""

    @property
    def mtu_size(self) -> int:
        return 247

    async def connect(self, pair: bool = False, **kwargs: Any) -> None:
        sensor = self._radio.sensors.get(self.address.upper())
        if sensor is None or sensor.connected_client is not None or getattr(sensor, "out_of_range", False):
            raise BleakError(f"Device with address {self.address} was not found")
        await asyncio.sleep(0.01)
        services = BleakGATTServiceCollection()
        handle = 1
        for svc_uuid, chars in sensor.gatt():
            svc = BleakGATTService(None, handle, svc_uuid)
            services.add_service(svc)
            handle += 1
            for uuid, props in chars:
                services.add_characteristic(BleakGATTCharacteristic(None, handle, uuid, props, lambda: 244, svc))
                handle += 1
        self.services = services
        sensor.connected_client = self
        self._sensor = sensor

    def _link_lost(self) -> None:
        # As BlueZ does: this client's notification sessions live on (in its D-Bus connection)
        # until it calls disconnect(); the next connection to the sensor re-enables them.
        if self._callbacks:
            self._stale_on = self._sensor
            self._sensor.stale_sessions.add(id(self))
        getattr(self._sensor, "link_closed", lambda: None)()
        self._sensor = None
        self._callbacks.clear()
        if self._disconnected_callback is not None:
            self._disconnected_callback()

    async def disconnect(self) -> None:
        stale_on = self._stale_on
        if stale_on is not None:  # closes this client's D-Bus connection: its stale sessions end
            stale_on.stale_sessions.discard(id(self))
            self._stale_on = None
        if self._sensor is not None:
            self._sensor.streaming = False
            getattr(self._sensor, "link_closed", lambda: None)()
            self._sensor.connected_client = None
            self._sensor = None
            self._callbacks.clear()
            if self._disconnected_callback is not None:
                self._disconnected_callback()

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        pass

    async def unpair(self) -> None:
        pass

    @property
    def is_connected(self) -> bool:
        return self._sensor is not None

    def _require(self):
        if self._sensor is None:
            raise BleakError("Not connected")
        return self._sensor

    async def read_gatt_char(self, characteristic, **kwargs: Any) -> bytearray:
        return bytearray(self._require().read_char(characteristic.uuid))

    async def read_gatt_descriptor(self, descriptor, **kwargs: Any) -> bytearray:
        raise BleakError("no descriptors")

    async def write_gatt_char(self, characteristic, data, response: bool) -> None:
        self._require().write_char(characteristic.uuid, bytes(data), self._emit)

    def _emit(self, uuid: str) -> Callable[[bytes], None]:
        def emit(payload: bytes) -> None:
            cb = self._callbacks.get(uuid)
            if cb is not None:
                copies = 1 + (len(self._sensor.stale_sessions) if self._sensor is not None else 0)
                for _ in range(copies):  # BlueZ with stale sessions: one signal per session
                    cb(bytearray(payload))
        return emit

    async def write_gatt_descriptor(self, descriptor, data) -> None:
        raise BleakError("no descriptors")

    async def start_notify(self, characteristic, callback, **kwargs: Any) -> None:
        sensor = self._require()
        self._callbacks[characteristic.uuid] = callback
        sensor.notify_started(characteristic.uuid, self._emit(characteristic.uuid))

    async def stop_notify(self, characteristic) -> None:
        self._callbacks.pop(characteristic.uuid, None)
