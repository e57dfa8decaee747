"""Emulated BLE IMU sensors (Bumble) that play a recording's samples as each device's real byte stream.

Runs inside the test guest (``tests/vm/harness.py``) and owns every Bumble
piece there:

* a Bumble controller attached to the guest kernel through ``/dev/vhci``, so
  that ``bluetoothd`` sees an ordinary adapter (``hci0``); it gets a public
  address (BlueZ ignores an adapter without one) and loses the LL-privacy and
  extended-advertising LE features (Bumble answers connections with the legacy
  event, and Linux then times out: google/bumble#841);
* one more Bumble controller per emulated sensor on the same ``LocalLink`` (the
  virtual radio), each with its own address, advertisement and GATT server.

Profiles (``--sensors``), each with the GATT layout and byte stream of the real
device (layouts: ``firmware_interface/*.py``, ``/work/shared/ble/PROTOCOLS.md``;
encoders: ``firmware_interface.reference`` and ``tests/vm/emulated_profiles.py``):

==========================  ==================================================================
backstride-reference        control point commands, counter + µs clock frames (reference.encode_frame)
witmotion-wt901ble          streams ``55 61`` packets once FFE4 is subscribed; the byte stream is
                            cut into notifications of 20/7/33/47/13… bytes, so packets (and even
                            the ``55 61`` header) are split across notifications, as a UART bridge does
polar-verity-sense          PMD control point (get settings, start → FACTOR, stop), ACC and GYRO
                            delta-compressed frames (two blocks each), u64 ns clock of the last sample
nordic-thingy52             motion config read/write (rate), one 18-byte raw frame per sample
mbientlab-metamotion        module/register commands (config, subscribe, enable, start, stop) for
                            the accelerometer (0x03) and gyroscope (0x13); packed 3-sample frames
movesense-gatt-sensordata   HELLO / SUBSCRIBE ``/Meas/IMU6/<Hz>`` / UNSUBSCRIBE; float32 IMU6 frames
                            with a u32 ms clock (started near its 2**32 wrap)
polar-h10                   PMD ACC only (25/50/100/200 Hz, ±2/4/8 G), raw int16 mG frames, u64 ns clock;
                            its Heart Rate service notifying on its own subscription
heart-rate                  a strap: Heart Rate Measurement (0x2A37) once a second while subscribed, with
                            RR intervals, contact and energy (emulated_profiles.heart_measurements)
running-speed-cadence       a footpod: RSC Measurement (0x2A53) once a second while subscribed, speed,
                            cadence, stride, distance (emulated_profiles.footpod_measurements)
==========================  ==================================================================

Every sensor plays its samples in real time: sample ``k`` is "measured" ``k / fs``
seconds after its first start (a START command, or the subscription that starts a
subscription-driven device), whether or not a link is up, so a dropped link loses
exactly the samples measured while it was down.  Each drops its link once, on cue
(``drop_after_s``), and advertises again.  Rates are the test's choice (``rate_hz``); one
emulated guest CPU carries about 15 notifications a second per sensor, not the ~100 of a
WitMotion or Thingy:52 at 100 Hz (see README.md).  A device that measures only at set rates
measures only at the rate of its played samples: it refuses (or, without error replies,
ignores and logs) any other rate.

Everything a sensor does and sends goes to its own log ``<log-dir>/<tag>/played.jsonl``,
one JSON object per line, flushed as it goes: the bytes of every notification and the
sample indices they carry are the truth the test compares the central's data with.

    python tests/vm/peripheral.py --recording sample_recordings/sim_lower_back_run.parquet --log-dir /mnt/results \
        --sensors '[{"tag": "wit", "profile": "witmotion-wt901ble", "rate_hz": 100, "drop_after_s": 10}]'
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import signal
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
for _p in (ROOT, HERE):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from bumble import hci  # noqa: E402
from bumble import link as bumble_link  # noqa: E402
from bumble.controller import Controller  # noqa: E402
from bumble.core import AdvertisingData, PhysicalTransport  # noqa: E402
from bumble.device import Device, DeviceConfiguration  # noqa: E402
from bumble.gatt import Characteristic, CharacteristicValue, Service  # noqa: E402
from bumble.transport import open_transport  # noqa: E402

import emulated_profiles as ep  # noqa: E402
from analysis.constants import GRAVITY_M_S2  # noqa: E402
from firmware_interface import heart_rate, metamotion, movesense, polar_pmd, reference, rsc, thingy52, witmotion  # noqa: E402
from sensing.ble import encode_heart_rate, encode_rsc  # noqa: E402
from firmware_interface.base import FrameError  # noqa: E402

#: Public address of the controller bluetoothd drives (the test finds the adapter by it).
HOST_CONTROLLER_ADDRESS = "F0:0D:BA:C0:00:01"
#: ATT MTU the sensors accept: what nRF Connect SDK / ESP-IDF firmware asks for.
SENSOR_MAX_MTU = 247
#: Pause between the sensor's ACL queue running empty and the link drop (see EmulatedSensor._drop_later):
#: time for bluetoothd and the central to take in what is still on its way.
DROP_FLUSH_S = 1.5

log = logging.getLogger("peripheral")


def patch_local_link() -> None:
    """Make Bumble's LocalLink tag LE ACL data with the sending connection's own address.

    Bumble 0.0.236 tags every LE packet with the sender controller's *random*
    address; Linux connects with its *public* one, so the sensor's controller
    finds no connection for BlueZ's ATT requests ("!!! no connection for …") and
    the GATT client never sees services.  The sender's connection to the
    destination knows which address it used; use that.  A runtime patch of our
    test harness only; Bumble's files stay as installed.
    """
    original = bumble_link.LocalLink.send_acl_data
    if getattr(original, "_backstride_patched", False):
        return

    def send_acl_data(self, sender_controller, destination_address, transport, data):
        if transport != PhysicalTransport.LE:
            return original(self, sender_controller, destination_address, transport, data)
        connection = sender_controller.le_connections.get(destination_address)
        source_address = connection.self_address if connection is not None else sender_controller.random_address
        destination = self.find_le_controller(destination_address)
        if destination is not None:
            asyncio.get_running_loop().call_soon(
                destination.on_link_acl_data, source_address, transport, data
            )

    send_acl_data._backstride_patched = True
    bumble_link.LocalLink.send_acl_data = send_acl_data


def patch_scan_responses() -> None:
    """Deliver the advertiser's scan-response data in the SCAN_RSP reports of a LocalLink scanner.

    Bumble 0.0.236's emulated controller answers an active scan with two reports,
    ADV_IND and SCAN_RSP, but puts the *advertising* data in both: a name sent in
    the scan response (where a sensor with a 128-bit service UUID must put it,
    31 bytes being too few for both) never reaches BlueZ, and scanning by name
    fails.  While a scanning controller handles an advertising PDU, swap the
    SCAN_RSP report's data for the advertiser's legacy scan-response data.  A
    runtime patch of our test harness only (the sensor advertises legacy PDUs).
    """
    original = Controller.on_advertising_pdu
    if getattr(original, "_backstride_patched", False):
        return

    def on_advertising_pdu(self, pdu):
        advertiser = next((c for c in self.link.controllers if c is not self
                           and c.le_legacy_advertiser.enabled and c.le_legacy_advertiser.address == pdu.advertiser_address), None)
        if advertiser is None:
            return original(self, pdu)
        scan_response = bytes(advertiser.le_legacy_advertiser.scan_response_data)
        send = self.send_hci_packet

        def send_with_scan_response(packet):
            if isinstance(packet, hci.HCI_LE_Advertising_Report_Event):
                for report in packet.reports:
                    if report.event_type == hci.HCI_LE_Advertising_Report_Event.EventType.SCAN_RSP:
                        report.data = scan_response
                packet = hci.HCI_LE_Advertising_Report_Event(list(packet.reports))
            send(packet)

        self.send_hci_packet = send_with_scan_response
        try:
            return original(self, pdu)
        finally:
            del self.send_hci_packet

    on_advertising_pdu._backstride_patched = True
    Controller.on_advertising_pdu = on_advertising_pdu




class PlayLog:
    """Append-only JSON-lines log of what one sensor did and sent (flushed per line)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(path, "a", buffering=1)
        self._t0 = time.monotonic()

    def write(self, kind: str, **fields) -> None:
        fields = {"kind": kind, "t_s": round(time.monotonic() - self._t0, 4), "utc_s": round(time.time(), 4), **fields}
        self._file.write(json.dumps(fields) + "\n")

    def close(self) -> None:
        self._file.close()


def _uuid128_le(uuid: str) -> bytes:
    return bytes(reversed(bytes.fromhex(uuid.replace("-", ""))))


class EmulatedSensor:
    """What every emulated sensor shares: link events, the play clock, streams, the one link drop.

    Parameters
    ----------
    device
        The sensor's Bumble device (its own controller on the shared LocalLink).
    play_log
        Where everything it does and sends is logged.
    acc_m_s2, gyr_rad_s
        (n, 3) samples it measures, at ``sampling_rate_hz`` (:func:`emulated_profiles.played_samples`).
    sampling_rate_hz
        The one rate this emulated IMU measures at.
    drop_after_s
        Drop the link once, this long after the play clock started (None: never).
    """

    profile_key = "?"

    def __init__(self, device: Device, play_log: PlayLog, *, acc_m_s2: np.ndarray, gyr_rad_s: np.ndarray,
                 sampling_rate_hz: int, drop_after_s: float | None, sensor_clock_start: int | None = None):
        self.device = device
        self.log = play_log
        self.acc_m_s2 = acc_m_s2
        self.gyr_rad_s = gyr_rad_s
        self.sampling_rate_hz = sampling_rate_hz
        self.drop_after_s = drop_after_s
        self.sensor_clock_start = sensor_clock_start
        self.play_start: float | None = None
        self.session = 0
        self.connection = None
        self.streams: dict[str, asyncio.Task] = {}
        self.dropping = False
        self.dropped = False
        self.drop_task: asyncio.Task | None = None

    # -- to fill in per profile ------------------------------------------------------------------
    def services(self) -> list[Service]:
        raise NotImplementedError

    def advertising_data(self) -> tuple[bytes, bytes]:
        raise NotImplementedError

    def on_link_lost(self) -> None:
        """Profile state a disconnection resets (subscriptions, started measurements)."""

    def on_subscription(self, connection, characteristic, notify: bool) -> None:
        """A CCCD write (subscription-driven devices start or stop streaming here)."""

    # -- advertising helper ------------------------------------------------------------------------
    def _advertise(self, *, uuids128: tuple[str, ...] = (), uuids16: tuple[int, ...] = ()) -> tuple[bytes, bytes]:
        """Flags and service UUIDs; the name too if it fits in 31 bytes, else in the scan response."""
        fields = [(AdvertisingData.FLAGS, bytes([AdvertisingData.LE_GENERAL_DISCOVERABLE_MODE_FLAG
                                                 | AdvertisingData.BR_EDR_NOT_SUPPORTED_FLAG]))]
        if uuids128:
            fields.append((AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS, b"".join(map(_uuid128_le, uuids128))))
        if uuids16:
            fields.append((AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
                           b"".join(u.to_bytes(2, "little") for u in uuids16)))
        name = (AdvertisingData.COMPLETE_LOCAL_NAME, self.device.name.encode())
        if len(bytes(AdvertisingData(fields + [name]))) <= 31:
            return bytes(AdvertisingData(fields + [name])), b""
        return bytes(AdvertisingData(fields)), bytes(AdvertisingData([name]))

    # -- link ----------------------------------------------------------------------------------------
    def on_connection(self, connection) -> None:
        self.connection = connection
        self.session += 1
        self.log.write("connected", session=self.session, peer=str(connection.peer_address))
        connection.on("disconnection", lambda reason: self._on_disconnection(connection, reason))
        connection.on("connection_att_mtu_update", lambda: self.log.write("mtu", att_mtu=connection.att_mtu))

    def _on_disconnection(self, connection, reason) -> None:
        for name in list(self.streams):
            self.stop_stream(name)
        self.on_link_lost()
        self.connection = None
        self.log.write("disconnected", session=self.session, reason=int(reason))

    def _on_cccd(self, connection, characteristic, notify_enabled, indicate_enabled) -> None:
        self.log.write("subscription", session=self.session, char=str(characteristic.uuid).lower(),
                       notify=bool(notify_enabled or indicate_enabled))
        self.on_subscription(connection, characteristic, bool(notify_enabled or indicate_enabled))

    def subscribed(self, connection, characteristic) -> bool:
        cccd = self.device.gatt_server.subscribers.get(connection, {}).get(characteristic.handle)
        return bool(cccd) and len(cccd) == 2 and bool(cccd[0] & 0x03)

    def max_payload(self, connection) -> int:
        return connection.att_mtu - 3

    # -- play clock and streams -------------------------------------------------------------------------
    def _begin_play(self) -> None:
        if self.play_start is None:
            self.play_start = time.monotonic()
            self.log.write("play_start")
            if self.drop_after_s is not None:
                self.drop_task = asyncio.get_running_loop().create_task(self._drop_later())

    def index_now(self, rate_hz: float | None = None) -> int:
        """Index of the sample (of a stream at ``rate_hz``; default the IMU's rate) being measured right now."""
        return int((time.monotonic() - self.play_start) * (rate_hz or self.sampling_rate_hz))

    def start_stream(self, name: str, batch: int, encode, *, rate_hz: float | None = None, n_samples: int | None = None,
                     **info) -> None:
        """Stream ``name``: every ``batch`` samples measured, ``encode(first_index, n, stream_first)``
        gives the notifications ``[(characteristic, bytes), …]`` that carry them.  ``rate_hz`` and
        ``n_samples``: a stream other than the IMU's (a heart-rate strap's one measurement a second)."""
        self.stop_stream(name)
        self._begin_play()
        self.streams[name] = asyncio.get_running_loop().create_task(
            self._stream(name, self.connection, self.session, batch, encode, info,
                         rate_hz or self.sampling_rate_hz, n_samples or len(self.acc_m_s2)))

    def stop_stream(self, name: str) -> None:
        task = self.streams.pop(name, None)
        if task is not None:
            task.cancel()
            self.log.write("stop", session=self.session, stream=name)

    async def _stream(self, name, connection, session, batch, encode, info, rate_hz, n_samples) -> None:
        first = self.index_now(rate_hz)
        next_index = first
        self.log.write("start", session=session, stream=name, index=first, att_mtu=connection.att_mtu, per_frame=batch, **info)
        period_s = batch / rate_hz
        while not self.dropping:
            while (self.index_now(rate_hz) - next_index >= batch and next_index + batch <= n_samples
                   and not self.dropping):
                sent = []
                for characteristic, payload in encode(next_index, batch, first):
                    if not self.subscribed(connection, characteristic):
                        continue  # Bumble would not send it: not played
                    await self.device.notify_subscriber(connection, characteristic, payload)
                    sent.append([str(characteristic.uuid).lower(), payload.hex()])
                self.log.write("frame", session=session, stream=name, index=next_index, n=batch, first=first,
                               notifications=sent, **self.frame_info(name, next_index, first))
                next_index += batch
            await asyncio.sleep(period_s / 2)

    def frame_info(self, stream: str, index: int, first: int) -> dict:
        return {}

    async def _drop_later(self) -> None:
        """Drop the link once, ``drop_after_s`` after the play clock started."""
        await asyncio.sleep(max(0.0, self.play_start + self.drop_after_s - time.monotonic()))
        while self.connection is None:
            await asyncio.sleep(0.1)
        connection = self.connection
        # The sensor stops measuring into this link, then lets the frames already queued in its
        # stack go out before it drops the link.  notify_subscriber() returns when a frame is
        # queued, not when it is sent, and Bumble discards what is still queued at disconnection:
        # without the pause, the last frames logged here as "played" may never have been on air.
        self.dropping = True
        queue = self.device.host.le_acl_packet_queue
        pending = queue.pending if queue is not None else None
        self.log.write("drop", session=self.session, next_index=self.index_now(), acl_pending=pending)
        if queue is not None:  # every queued ACL packet handed to the radio, then time for the central's side
            try:
                await asyncio.wait_for(queue.drain(connection.handle), timeout=10.0)
            except (asyncio.TimeoutError, ValueError):  # ValueError: the link went down meanwhile
                self.log.write("drop_flush_incomplete", acl_pending=queue.pending)
        await asyncio.sleep(DROP_FLUSH_S)
        self.dropped = True
        await connection.disconnect()
        self.dropping = False

    def _notify_later(self, connection, characteristic, payload: bytes) -> None:
        """A control-point answer, notified just after the ATT write response."""

        async def send():
            await asyncio.sleep(0.01)
            if self.subscribed(connection, characteristic):
                await self.device.notify_subscriber(connection, characteristic, payload)
                self.log.write("answer", session=self.session, char=str(characteristic.uuid).lower(), hex=payload.hex())

        asyncio.get_running_loop().create_task(send())


# -------------------------------------------------------------------------------------------------
# backstride reference profile


class ReferenceSensor(EmulatedSensor):
    """backstride's open reference profile (firmware_interface/REFERENCE_PROFILE.md), sensor side.

    ``sensor_clock_start`` is the µs clock at sample 0: close to 2**32 makes it wrap mid-test.
    START restarts the sample counter at 0; the µs clock runs freely.
    """

    profile_key = "backstride-reference"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.acc_code = reference.ACC_RANGE_CODES[8]
        self.gyr_code = reference.GYR_RANGE_CODES[2000]
        self.flags = reference.FLAG_GYR
        self.control = Characteristic(
            reference.CONTROL_POINT_UUID, Characteristic.Properties.WRITE | Characteristic.Properties.NOTIFY,
            Characteristic.WRITEABLE, CharacteristicValue(write=self._on_command))
        self.data = Characteristic(reference.DATA_UUID, Characteristic.Properties.NOTIFY, Characteristic.READABLE, b"")
        info = reference.encode_info(reference.Info(
            protocol_version=reference.PROTOCOL_VERSION, firmware=(0, 3, 1), has_gyr=True, has_mag=False,
            acc_ranges_g=(2, 4, 8, 16), gyr_ranges_dps=(125, 250, 500, 1000, 2000),
            max_sampling_rate_hz=self.sampling_rate_hz))
        self.info = Characteristic(reference.INFO_UUID, Characteristic.Properties.READ, Characteristic.READABLE, info)

    def services(self):
        return [Service(reference.SERVICE_UUID, [self.control, self.data, self.info])]

    def advertising_data(self):
        return self._advertise(uuids128=(reference.SERVICE_UUID,))

    def _on_command(self, connection, value: bytes) -> None:
        try:
            command = reference.parse_command(bytes(value))
        except FrameError as err:
            op = value[0] if value else 0
            status = reference.Status.UNKNOWN_OP if "unknown op" in err.problem else reference.Status.INVALID_PARAMETER
            self._notify_later(connection, self.control, reference.encode_response(op, status))
            return
        status, params = self._execute(command)
        self.log.write("command", session=self.session, op=command.op.name, status=int(status), bytes=bytes(value).hex())
        self._notify_later(connection, self.control, reference.encode_response(command.op, status, params))

    def _execute(self, command: reference.Command) -> tuple[reference.Status, bytes]:
        S, Op = reference.Status, reference.Op
        streaming = "data" in self.streams
        if command.op is Op.START:
            per_frame = reference.samples_per_frame(gyr=bool(self.flags & reference.FLAG_GYR), mag=False,
                                                    max_payload_bytes=self.max_payload(self.connection))
            self.start_stream("data", per_frame, self._encode)
            return S.SUCCESS, b""
        if command.op is Op.STOP:
            self.stop_stream("data")
            return S.SUCCESS, b""
        if command.op is Op.GET_CONFIG:
            return S.SUCCESS, reference.encode_config(
                sampling_rate_hz=self.sampling_rate_hz, acc_range_g=2**self.acc_code,
                gyr_range_dps=125 * 2**self.gyr_code, gyr=bool(self.flags & reference.FLAG_GYR),
                mag=bool(self.flags & reference.FLAG_MAG), streaming=streaming)
        if streaming:
            return S.INVALID_STATE, b""
        if command.op is Op.SET_RATE:
            return (S.SUCCESS if command.sampling_rate_hz == self.sampling_rate_hz else S.INVALID_PARAMETER), b""
        if command.op is Op.SET_RANGE:
            if command.acc_range_code not in reference.ACC_RANGE_CODES.values() or \
                    command.gyr_range_code not in reference.GYR_RANGE_CODES.values():
                return S.INVALID_PARAMETER, b""
            self.acc_code, self.gyr_code = command.acc_range_code, command.gyr_range_code
            return S.SUCCESS, b""
        if command.op is Op.SET_CHANNELS:
            if command.flags & ~reference.FLAGS_KNOWN:
                return S.INVALID_PARAMETER, b""
            if command.flags & reference.FLAG_MAG:
                return S.NOT_SUPPORTED, b""
            self.flags = command.flags
            return S.SUCCESS, b""
        return S.UNKNOWN_OP, b""

    def _encode(self, k: int, n: int, first: int):
        sl = slice(k, k + n)
        frame = reference.encode_frame(
            self.acc_m_s2[sl], gyr_rad_s=self.gyr_rad_s[sl] if self.flags & reference.FLAG_GYR else None,
            first_counter=k - first,
            first_time_us=self.sensor_clock_start + round(k * 1e6 / self.sampling_rate_hz),
            sampling_rate_hz=self.sampling_rate_hz, acc_range_g=2**self.acc_code, gyr_range_dps=125 * 2**self.gyr_code)
        return [(self.data, frame)]

    def frame_info(self, stream, index, first):
        return {"counter": index - first, "acc_range_g": 2**self.acc_code, "gyr_range_dps": 125 * 2**self.gyr_code}


# -------------------------------------------------------------------------------------------------
# WitMotion WT901BLE


class WitMotionSensor(EmulatedSensor):
    """WT901BLECL: ``55 61`` packets on FFE4 from the moment it is subscribed; commands on FFE9.

    The module is a UART-to-BLE bridge: its byte stream is cut into notifications
    of :data:`CHUNK_BYTES` (cyclic, capped at ATT MTU − 3), so packets, and now and
    then the ``55 61`` header itself, straddle two notifications.  Register writes
    (``FF AA reg lo hi``) are logged; a return rate other than the played one is
    ignored (the module has no error reply) and logged as such.
    """

    profile_key = "witmotion-wt901ble"
    CHUNK_BYTES = [20, 20, 7, 33, 47, 13, 41, 60]
    BATCH_S = 0.2

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.notify = Characteristic(witmotion.NOTIFY_UUID, Characteristic.Properties.NOTIFY, Characteristic.READABLE, b"")
        self.write = Characteristic(
            witmotion.WRITE_UUID, Characteristic.Properties.WRITE | Characteristic.Properties.WRITE_WITHOUT_RESPONSE,
            Characteristic.WRITEABLE, CharacteristicValue(write=self._on_write))
        self.phase = 0
        self.unlocked = False
        self.rate_code = witmotion.RATE_CODES[float(self.sampling_rate_hz)]  # saved in the module's flash

    def services(self):
        return [Service(witmotion.SERVICE_UUID, [self.notify, self.write])]

    def advertising_data(self):
        return self._advertise(uuids128=(witmotion.SERVICE_UUID,))

    def on_subscription(self, connection, characteristic, notify):
        if characteristic is self.notify:
            if notify:
                self.phase = 0
                self.start_stream("data", max(1, round(self.BATCH_S * self.sampling_rate_hz)), self._encode,
                                  rate_code=self.rate_code)
            else:
                self.stop_stream("data")

    def _on_write(self, connection, value: bytes) -> None:
        value = bytes(value)
        note = ""
        if len(value) == 5 and value[:2] == b"\xff\xaa":
            register, word = value[2], int.from_bytes(value[3:5], "little")
            if register == witmotion.REG_UNLOCK:
                self.unlocked = word == witmotion.UNLOCK_KEY
            elif register == witmotion.REG_RATE:
                if not self.unlocked:
                    note = "ignored: locked"
                elif word != witmotion.RATE_CODES[float(self.sampling_rate_hz)]:
                    note = f"ignored: this emulation measures at {self.sampling_rate_hz} Hz only"
                else:
                    self.rate_code = word
            elif register == witmotion.REG_SAVE:
                self.unlocked = False
        else:
            note = "not a register command"
        self.log.write("command", session=self.session, bytes=value.hex(), note=note)

    def _encode(self, k: int, n: int, first: int):
        data = ep.witmotion_packets(self.acc_m_s2[k:k + n], self.gyr_rad_s[k:k + n])
        cap = self.max_payload(self.connection) if self.connection is not None else 20
        chunks, self.phase = ep.split_stream(data, [min(s, cap) for s in self.CHUNK_BYTES], self.phase)
        return [(self.notify, c) for c in chunks]


# -------------------------------------------------------------------------------------------------
# Polar Verity Sense (PMD)


class PolarVeritySensor(EmulatedSensor):
    """Polar Verity Sense PMD: control point (features, get settings, start → FACTOR, stop), ACC + GYRO.

    ACC ±8 G and GYRO ±250…2000 deg/s at 52 Hz, delta-compressed frames
    (sub-type 0: value · FACTOR = G, deg/s), :data:`FRAME_SAMPLES` samples per frame
    in two delta blocks; the u64 header time is the sensor clock (ns since
    2000-01-01) of the frame's last sample.  Start with a setting it does not offer
    → status 5 (invalid parameter); a second start → 6 (already in state).
    """

    profile_key = "polar-verity-sense"
    FRAME_SAMPLES = 18
    OFFERED = {
        polar_pmd.PmdMeasurement.ACC: {0: [52], 1: [16], 2: [8], 4: [3]},
        polar_pmd.PmdMeasurement.GYRO: {0: [52], 1: [16], 2: [250, 500, 1000, 2000], 4: [3]},
    }
    #: PMD feature read: PPG, ACC, PPI, GYRO, MAG (+ SDK mode).
    FEATURES = bytes([polar_pmd.FEATURE_READ_CODE, 0x6E, 0x02])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cp = Characteristic(
            polar_pmd.CONTROL_POINT_UUID,
            Characteristic.Properties.READ | Characteristic.Properties.WRITE | Characteristic.Properties.NOTIFY,
            Characteristic.READABLE | Characteristic.WRITEABLE,
            CharacteristicValue(read=lambda _c: self.FEATURES, write=self._on_write))
        self.data = Characteristic(polar_pmd.DATA_UUID, Characteristic.Properties.NOTIFY, Characteristic.READABLE, b"")
        self.factors: dict[int, float] = {}

    def services(self):
        hr = Service("180D", [Characteristic("2A37", Characteristic.Properties.NOTIFY, Characteristic.READABLE, b"\x00\x00")])
        return [Service(polar_pmd.SERVICE_UUID, [self.cp, self.data]), hr]

    def advertising_data(self):
        return self._advertise(uuids16=(0x180D,))

    def _on_write(self, connection, value: bytes) -> None:
        value = bytes(value)
        op = value[0] if value else 0
        meas = value[1] if len(value) > 1 else 0
        status, params = 0, b""
        name = {2: "acc", 5: "gyr"}.get(meas) if meas in self.OFFERED else None
        if op not in (1, 2, 3) or len(value) < 2:
            status = 1
        elif name is None:
            status = 3  # not supported
        elif op == 1:
            params = ep.pmd_settings(self.OFFERED[meas])
        elif op == 2:
            try:
                asked = {int(k): int(v[0]) for k, v in polar_pmd.decode_settings(value[2:]).items()}
            except FrameError:
                asked = None
            offered = self.OFFERED[meas]
            if asked is None or set(asked) != set(offered) or any(asked[k] not in offered[k] for k in offered):
                status = 5
            elif name in self.streams:
                status = 6
            else:
                status, params = self._start(meas, name, asked)
        elif op == 3:
            if name in self.streams:
                self.stop_stream(name)
            else:
                status = 6
        self.log.write("command", session=self.session, op={1: "GET_SETTINGS", 2: "START", 3: "STOP"}.get(op, str(op)),
                       measurement=meas, status=status, bytes=value.hex())
        self._notify_later(connection, self.cp, ep.pmd_response(op, meas, status, params))

    def _start(self, meas: int, name: str, asked: dict[int, int]) -> tuple[int, bytes]:
        """Start an accepted measurement: (status, start-response parameters, here the FACTOR)."""
        full_scale = 8.0 if meas == 2 else float(asked[2])
        factor = float(np.float32(full_scale / 32768.0))
        self.factors[meas] = factor
        self.start_stream(name, self.FRAME_SAMPLES, self._encoder(meas), factor=factor)
        return 0, ep.pmd_settings({5: [factor]})

    def on_link_lost(self):
        self.factors.clear()

    def _encoder(self, meas: int):
        def encode(k: int, n: int, first: int):
            factor = self.factors[meas]
            if meas == 2:
                raw = np.rint(self.acc_m_s2[k:k + n] / (factor * GRAVITY_M_S2))
            else:
                raw = np.rint(np.degrees(self.gyr_rad_s[k:k + n]) / factor)
            raw = np.clip(raw, -32768, 32767).astype(np.int64)
            half = (n - 1) // 2
            payload = ep.pmd_delta_payload(raw, resolution_bits=16, block_sizes=[half, n - 1 - half])
            time_ns = self.sensor_clock_start + round((k + n - 1) * 1e9 / self.sampling_rate_hz)
            return [(self.data, ep.pmd_frame(meas, time_ns, 0x80, payload))]
        return encode

    def frame_info(self, stream, index, first):
        return {"factor": self.factors.get(2 if stream == "acc" else 5)}


# -------------------------------------------------------------------------------------------------
# Standard services: heart-rate strap, RSC footpod, and the Polar H10 (PMD accelerometer + heart rate)

#: Seconds of measurements a strap or footpod holds (one a second): longer than any test streams.
STANDARD_PLAY_S = 600


class HeartRateService:
    """The Heart Rate service (0x180D) of a strap: measurement 0x2A37 notifying while subscribed, one
    notification a second (``emulated_profiles.heart_measurements``: heart rate, RR intervals, contact,
    energy), body sensor location 0x2A38 = chest.  Mixed into an :class:`EmulatedSensor`."""

    HR_STREAM = "hr"

    def _init_heart_rate(self) -> None:
        self.hr_char = Characteristic(heart_rate.MEASUREMENT_UUID, Characteristic.Properties.NOTIFY,
                                      Characteristic.READABLE, b"")
        self.hr_measurements = ep.heart_measurements(STANDARD_PLAY_S)

    def heart_rate_service(self) -> Service:
        location = Characteristic("2A38", Characteristic.Properties.READ, Characteristic.READABLE, b"\x01")
        return Service(heart_rate.SERVICE_UUID, [self.hr_char, location])

    def heart_rate_subscription(self, characteristic, notify: bool) -> None:
        if characteristic is self.hr_char:
            if notify:
                self.start_stream(self.HR_STREAM, 1, self._encode_hr, rate_hz=1.0, n_samples=len(self.hr_measurements))
            else:
                self.stop_stream(self.HR_STREAM)

    def _encode_hr(self, k: int, n: int, first: int):
        return [(self.hr_char, encode_heart_rate(**self.hr_measurements[k]))]


class HeartRateStrap(HeartRateService, EmulatedSensor):
    """A plain heart-rate strap (a Garmin HRM-Pro, Polar H9 …): the Heart Rate service and nothing else."""

    profile_key = "heart-rate"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_heart_rate()

    def services(self):
        return [self.heart_rate_service()]

    def advertising_data(self):
        return self._advertise(uuids16=(0x180D,))

    def on_subscription(self, connection, characteristic, notify):
        self.heart_rate_subscription(characteristic, notify)

    def frame_info(self, stream, index, first):
        return {"measurement": self.hr_measurements[index]}


class RscFootpod(EmulatedSensor):
    """A running footpod (Stryd, Polar stride sensor …): Running Speed and Cadence service (0x1814),
    measurement 0x2A53 notifying once a second while subscribed (``emulated_profiles.footpod_measurements``),
    RSC feature 0x2A54 (stride length, total distance, walking/running status)."""

    profile_key = "running-speed-cadence"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rsc_char = Characteristic(rsc.MEASUREMENT_UUID, Characteristic.Properties.NOTIFY, Characteristic.READABLE, b"")
        self.feature = Characteristic(rsc.FEATURE_UUID, Characteristic.Properties.READ, Characteristic.READABLE,
                                      (0b111).to_bytes(2, "little"))
        self.rsc_measurements = ep.footpod_measurements(STANDARD_PLAY_S)

    def services(self):
        return [Service(rsc.SERVICE_UUID, [self.rsc_char, self.feature])]

    def advertising_data(self):
        return self._advertise(uuids16=(0x1814,))

    def on_subscription(self, connection, characteristic, notify):
        if characteristic is self.rsc_char:
            if notify:
                self.start_stream("rsc", 1, self._encode, rate_hz=1.0, n_samples=len(self.rsc_measurements))
            else:
                self.stop_stream("rsc")

    def _encode(self, k: int, n: int, first: int):
        return [(self.rsc_char, encode_rsc(**self.rsc_measurements[k]))]

    def frame_info(self, stream, index, first):
        return {"measurement": self.rsc_measurements[index]}


class PolarH10Sensor(HeartRateService, PolarVeritySensor):
    """Polar H10: PMD accelerometer only (25/50/100/200 Hz, 16 bit, ±2/4/8 G; raw frames, sub-type 1,
    int16 mG, no FACTOR in the start response) beside its Heart Rate service, which notifies on its own
    subscription.  A start at a rate other than the played one is refused (status 5, logged)."""

    profile_key = "polar-h10"
    #: Samples per ACC frame: 36 × 6 bytes + the 10-byte header fit the 244-byte payload of a 247 MTU.
    FRAME_SAMPLES = 36
    OFFERED = {polar_pmd.PmdMeasurement.ACC: {0: [25, 50, 100, 200], 1: [16], 2: [2, 4, 8]}}
    #: PMD feature read: ECG, ACC.
    FEATURES = bytes([polar_pmd.FEATURE_READ_CODE, 0x05, 0x00])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_heart_rate()
        self.range_g = 8

    def services(self):
        return [Service(polar_pmd.SERVICE_UUID, [self.cp, self.data]), self.heart_rate_service()]

    def on_subscription(self, connection, characteristic, notify):
        self.heart_rate_subscription(characteristic, notify)

    def _start(self, meas, name, asked):
        if asked[0] != self.sampling_rate_hz:
            self.log.write("refused", session=self.session, note=f"ACC at {asked[0]} Hz: this emulation measures "
                                                                  f"at {self.sampling_rate_hz} Hz only")
            return 5, b""
        self.range_g = asked[2]
        self.start_stream(name, self.FRAME_SAMPLES, self._encode_acc, range_g=self.range_g)
        return 0, b""

    def _encode_acc(self, k: int, n: int, first: int):
        full_scale = self.range_g * GRAVITY_M_S2 * 32767 / 32768  # the ±range the sensor saturates at
        acc = np.clip(self.acc_m_s2[k:k + n], -full_scale, full_scale)
        time_ns = self.sensor_clock_start + round((k + n - 1) * 1e9 / self.sampling_rate_hz)
        return [(self.data, ep.pmd_frame(2, time_ns, 0x01, ep.pmd_acc_raw_int16(acc)))]

    def frame_info(self, stream, index, first):
        if stream == self.HR_STREAM:
            return {"measurement": self.hr_measurements[index]}
        return {"range_g": self.range_g}


# -------------------------------------------------------------------------------------------------
# Nordic Thingy:52


class Thingy52Sensor(EmulatedSensor):
    """Thingy:52 motion service: config 0x0401 (read/write), raw data 0x0406 (notify, one sample each).

    Streams while 0x0406 is subscribed and the configured motion rate is the
    played one; its power-up configuration asks for 10 Hz, so nothing streams
    until the central writes the rate (a real Thingy would stream at 10 Hz: this
    emulation measures at one rate only, and logs the refused configuration).
    The compass reads a constant 40 µT field.
    """

    profile_key = "nordic-thingy52"
    MAG_UT = np.array([22.0, -5.0, -33.0])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.config = ep.thingy_config(pedo_interval_ms=1000, temp_interval_ms=1000, compass_interval_ms=1000,
                                       motion_freq_hz=10, wake_on_motion=1)
        self.config_char = Characteristic(
            thingy52.MOTION_CONFIG_UUID, Characteristic.Properties.READ | Characteristic.Properties.WRITE,
            Characteristic.READABLE | Characteristic.WRITEABLE,
            CharacteristicValue(read=lambda _c: self.config, write=self._on_config))
        self.raw = Characteristic(thingy52.RAW_DATA_UUID, Characteristic.Properties.NOTIFY, Characteristic.READABLE, b"")
        self.raw_subscribed = False

    def services(self):
        config_service = Service(thingy52.CONFIGURATION_SERVICE_UUID, [Characteristic(
            thingy52.thingy_uuid(0x0101), Characteristic.Properties.READ, Characteristic.READABLE, self.device.name.encode())])
        return [config_service, Service(thingy52.MOTION_SERVICE_UUID, [self.config_char, self.raw])]

    def advertising_data(self):
        return self._advertise(uuids128=(thingy52.CONFIGURATION_SERVICE_UUID,))

    def _rate(self) -> int:
        return int.from_bytes(self.config[6:8], "little")

    def _update(self) -> None:
        want = self.raw_subscribed and self._rate() == self.sampling_rate_hz
        if want and "raw" not in self.streams:
            self.start_stream("raw", 1, self._encode)
        elif not want and "raw" in self.streams:
            self.stop_stream("raw")

    def _on_config(self, connection, value: bytes) -> None:
        value = bytes(value)
        note = ""
        if len(value) != 9:
            note = "ignored: not 9 bytes"
        else:
            rate = int.from_bytes(value[6:8], "little")
            if rate != self.sampling_rate_hz:
                note = f"motion rate {rate} Hz: this emulation measures at {self.sampling_rate_hz} Hz only, nothing streams"
            self.config = value
        self.log.write("command", session=self.session, bytes=value.hex(), note=note)
        self._update()

    def on_subscription(self, connection, characteristic, notify):
        if characteristic is self.raw:
            self.raw_subscribed = notify
            self._update()

    def on_link_lost(self):
        self.raw_subscribed = False

    def _encode(self, k: int, n: int, first: int):
        frames = ep.thingy_raw_frames(self.acc_m_s2[k:k + n], self.gyr_rad_s[k:k + n], np.tile(self.MAG_UT, (n, 1)))
        return [(self.raw, f) for f in frames]


# -------------------------------------------------------------------------------------------------
# MbientLab MetaMotion


class MetaMotionSensor(EmulatedSensor):
    """MetaMotion R (BMI160): ``[module][register][payload]`` commands on 0x9001, data on 0x9006.

    Per module (accelerometer 0x03, gyroscope 0x13): config (ODR, range), data
    subscription (single or packed register), sampling enable, power.  A module
    streams while subscribed, enabled and powered; packed frames carry 3 samples.
    An ODR other than the played rate is logged and nothing streams.  A
    disconnection clears subscriptions and stops the modules (the SDK sets them
    up again on every connection).
    """

    profile_key = "mbientlab-metamotion"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.command = Characteristic(
            metamotion.COMMAND_UUID, Characteristic.Properties.WRITE | Characteristic.Properties.WRITE_WITHOUT_RESPONSE,
            Characteristic.WRITEABLE, CharacteristicValue(write=self._on_write))
        self.notify = Characteristic(metamotion.NOTIFY_UUID, Characteristic.Properties.NOTIFY, Characteristic.READABLE, b"")
        self.modules = {m: {"odr": None, "range": None, "register": None, "enabled": False, "power": False}
                        for m in (metamotion.MODULE_ACC, metamotion.MODULE_GYRO)}

    def services(self):
        return [Service(metamotion.SERVICE_UUID, [self.command, self.notify])]

    def advertising_data(self):
        return self._advertise(uuids128=(metamotion.SERVICE_UUID,))

    def on_link_lost(self):
        for state in self.modules.values():
            state.update(register=None, enabled=False, power=False)

    def _on_write(self, connection, value: bytes) -> None:
        value = bytes(value)
        note = ""
        module, register = (value[0], value[1]) if len(value) >= 2 else (None, None)
        state = self.modules.get(module)
        acc = module == metamotion.MODULE_ACC
        data_regs = ((metamotion.REG_ACC_DATA, metamotion.REG_ACC_PACKED["bmi160"]) if acc
                     else (metamotion.REG_GYRO_DATA, metamotion.REG_GYRO_PACKED))
        if state is None:
            note = "unknown module"
        elif register == metamotion.REG_CONFIG and len(value) == 4:
            state["odr"], state["range"] = value[2], value[3]
        elif register in data_regs and len(value) == 3:
            state["register"] = register if value[2] else None
        elif register == metamotion.REG_INTERRUPT and len(value) == 4:
            state["enabled"] = bool(value[2]) and not value[3]
        elif register == metamotion.REG_POWER and len(value) == 3:
            state["power"] = bool(value[2])
        else:
            note = "not understood"
        if state is not None:
            note = note or self._update(module)
        self.log.write("command", session=self.session, bytes=value.hex(), note=note)

    def _update(self, module: int) -> str:
        state = self.modules[module]
        name = "acc" if module == metamotion.MODULE_ACC else "gyr"
        want = state["register"] is not None and state["enabled"] and state["power"]
        if not want:
            if name in self.streams:
                self.stop_stream(name)
            return ""
        if name in self.streams:
            return ""
        if module == metamotion.MODULE_ACC:
            odr_ok = state["odr"] == metamotion.ACC_ODR_CODES["bmi160"].get(self.sampling_rate_hz)
            ranges = {v: k for k, v in metamotion.ACC_RANGE_CODES["bmi160"].items()}
            lsb = GRAVITY_M_S2 / metamotion.ACC_LSB_PER_G[ranges[state["range"]]] if state["range"] in ranges else None
        else:
            odr_ok = state["odr"] == metamotion.GYR_ODR_CODES.get(self.sampling_rate_hz)
            ranges = {v: k for k, v in metamotion.GYR_RANGE_CODES.items()}
            lsb = math.radians(1.0 / metamotion.GYR_LSB_PER_DPS[ranges[state["range"]]]) if state["range"] in ranges else None
        if not odr_ok or lsb is None:
            return f"not streaming: ODR {state['odr']} / range {state['range']} not this emulation's {self.sampling_rate_hz} Hz"
        packed = state["register"] not in (metamotion.REG_ACC_DATA, metamotion.REG_GYRO_DATA)
        per = 3 if packed else 1
        values = self.acc_m_s2 if module == metamotion.MODULE_ACC else self.gyr_rad_s
        register = state["register"]

        def encode(k, n, first):
            return [(self.notify, b) for b in ep.metamotion_notifications(module, register, values[k:k + n], lsb, per)]

        self.start_stream(name, per, encode, lsb=lsb)
        return ""


# -------------------------------------------------------------------------------------------------
# Movesense (GATT SensorData sample firmware)


class MovesenseSensor(EmulatedSensor):
    """Movesense with ``gatt_sensordata_app``: commands on 0x0001, results and data on 0x0002.

    SUBSCRIBE ``/Meas/IMU6/<played rate>`` → ``01 ref C8 00`` (200) and IMU6
    frames of :data:`FRAME_SAMPLES` samples (float32 m/s² and deg/s) with the u32
    ms time of the first sample; other resources → 404.  ``sensor_clock_start``
    is the ms clock at sample 0 (near 2**32 makes it wrap mid-test).
    """

    profile_key = "movesense-gatt-sensordata"
    FRAME_SAMPLES = 8

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.command = Characteristic(
            movesense.COMMAND_UUID, Characteristic.Properties.WRITE | Characteristic.Properties.WRITE_WITHOUT_RESPONSE,
            Characteristic.WRITEABLE, CharacteristicValue(write=self._on_write))
        self.data = Characteristic(movesense.DATA_UUID, Characteristic.Properties.NOTIFY, Characteristic.READABLE, b"")

    def services(self):
        return [Service(movesense.SERVICE_UUID, [self.command, self.data])]

    def advertising_data(self):
        return self._advertise(uuids128=(movesense.SERVICE_UUID,))

    def _on_write(self, connection, value: bytes) -> None:
        value = bytes(value)
        answer, note = None, ""
        if len(value) < 2 or value[1] == 0:
            note = "ignored: no client reference"
        else:
            cmd, ref = value[0], value[1]
            if cmd == movesense.CMD_HELLO:
                answer = bytes([1, ref]) + b"Hello"
            elif cmd == movesense.CMD_SUBSCRIBE:
                path = value[2:].decode("ascii", "replace")
                if path == f"/Meas/IMU6/{self.sampling_rate_hz}" and f"ref{ref}" not in self.streams:
                    self.start_stream(f"ref{ref}", self.FRAME_SAMPLES, self._encoder(ref), path=path)
                    status = 200
                else:
                    status = 404
                    note = f"{path}: not served by this emulation (IMU6 at {self.sampling_rate_hz} Hz, once)"
                answer = bytes([1, ref]) + status.to_bytes(2, "little")
            elif cmd == movesense.CMD_UNSUBSCRIBE:
                status = 200 if f"ref{ref}" in self.streams else 404
                self.stop_stream(f"ref{ref}")
                answer = bytes([1, ref]) + status.to_bytes(2, "little")
            else:
                note = "unknown command"
        self.log.write("command", session=self.session, bytes=value.hex(), note=note)
        if answer is not None:
            self._notify_later(connection, self.data, answer)

    def _encoder(self, ref: int):
        def encode(k, n, first):
            time_ms = self.sensor_clock_start + round(k * 1000 / self.sampling_rate_hz)
            return [(self.data, ep.movesense_imu6(ref, time_ms, self.acc_m_s2[k:k + n], self.gyr_rad_s[k:k + n]))]
        return encode

    def frame_info(self, stream, index, first):
        return {"time_ms": (self.sensor_clock_start + round(index * 1000 / self.sampling_rate_hz)) % 2**32}


PROFILES = {cls.profile_key: cls for cls in (ReferenceSensor, WitMotionSensor, PolarVeritySensor, Thingy52Sensor,
                                             MetaMotionSensor, MovesenseSensor, HeartRateStrap, RscFootpod, PolarH10Sensor)}
#: Advertised name of each profile's emulated sensor (what the real device calls itself).
NAMES = {
    "backstride-reference": "backstride-{a}",
    "witmotion-wt901ble": "WT901BLE{a}",
    "polar-verity-sense": "Polar Sense B36F{a}",
    "nordic-thingy52": "Thingy",
    "mbientlab-metamotion": "MetaWear",
    "movesense-gatt-sensordata": "Movesense 2047300{a}",
    "heart-rate": "HRM-Pro:{a}",
    "running-speed-cadence": "Stryd {a}",
    "polar-h10": "Polar H10 B36F{a}",
}
#: Sensor clock at sample 0 per profile: µs, ns since 2000, ms; the reference's and Movesense's wrap mid-test.
CLOCK_STARTS = {
    "backstride-reference": 2**32 - 20_000_000,
    "polar-verity-sense": 849_000_000 * 10**9,
    "movesense-gatt-sensordata": 2**32 - 15_000,
    "polar-h10": 851_000_000 * 10**9,
}


async def add_sensor(radio, spec: dict, recording: Path, log_dir: Path, samples=None) -> EmulatedSensor:
    """One emulated sensor on ``radio``: its own controller, device, GATT server and advertising.

    ``samples``: its (acc, gyr) from :func:`emulated_profiles.played_samples`, computed by the
    caller *before* the vhci controller exists (the kernel gives up on a controller that does
    not answer its set-up commands within 2 s).
    """
    cls = PROFILES[spec["profile"]]
    address = spec["address"]
    name = spec.get("name") or NAMES[spec["profile"]].format(a=address.replace(":", "")[-4:])
    rate = int(spec["rate_hz"])
    offset_s = float(spec.get("offset_s", 0.0))
    acc, gyr = samples or ep.played_samples(recording, sampling_rate_hz=rate, offset_s=offset_s)
    play_log = PlayLog(log_dir / spec["tag"] / "played.jsonl")
    controller = Controller(f"backstride-vm-{spec['tag']}", link=radio)
    # Legacy advertising (like most sensor firmware), so that patch_scan_responses finds the data.
    controller.le_features &= ~hci.LeFeatureMask.LE_EXTENDED_ADVERTISING
    config = DeviceConfiguration(name=name, address=hci.Address(address),
                                 advertising_interval_min=100, advertising_interval_max=100)
    device = Device.from_config_with_hci(config, controller, controller)
    device.gatt_server.max_mtu = SENSOR_MAX_MTU
    sensor = cls(device, play_log, acc_m_s2=acc, gyr_rad_s=gyr, sampling_rate_hz=rate,
                 drop_after_s=spec.get("drop_after_s"),
                 sensor_clock_start=int(spec.get("clock_start", CLOCK_STARTS.get(spec["profile"], 0))))
    device.add_services(sensor.services())
    device.on("connection", sensor.on_connection)
    device.gatt_server.on("characteristic_subscription", sensor._on_cccd)
    adv, scan = sensor.advertising_data()
    await device.power_on()
    await device.start_advertising(auto_restart=True, advertising_data=adv, scan_response_data=scan,
                                   own_address_type=hci.OwnAddressType.RANDOM)
    play_log.write("ready", tag=spec["tag"], name=name, address=address, profile=spec["profile"],
                   recording=str(recording), sampling_rate_hz=rate, offset_s=offset_s, n_samples=len(acc),
                   sensor_clock_start=sensor.sensor_clock_start, drop_after_s=spec.get("drop_after_s"))
    return sensor


async def serve(args) -> None:
    patch_local_link()
    patch_scan_responses()
    specs = json.loads(args.sensors)
    samples = [ep.played_samples(args.recording, sampling_rate_hz=int(s["rate_hz"]), offset_s=float(s.get("offset_s", 0.0)))
               for s in specs]
    play_logs = []
    async with await open_transport("vhci") as hci_transport:
        radio = bumble_link.LocalLink()
        host_controller = Controller(
            "backstride-vm-adapter", host_source=hci_transport.source, host_sink=hci_transport.sink,
            link=radio, public_address=HOST_CONTROLLER_ADDRESS,
        )
        host_controller.le_features &= ~(hci.LeFeatureMask.LL_PRIVACY | hci.LeFeatureMask.LE_EXTENDED_ADVERTISING)
        ready = []
        for spec, played in zip(specs, samples):
            sensor = await add_sensor(radio, spec, args.recording, Path(args.log_dir), played)
            play_logs.append(sensor.log)
            ready.append({"tag": spec["tag"], "name": sensor.device.name, "address": spec["address"]})
        print("READY " + json.dumps(ready), flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        for play_log in play_logs:
            play_log.write("exit")
            play_log.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recording", type=Path, required=True)
    parser.add_argument("--log-dir", type=Path, required=True, help="each sensor logs to <log-dir>/<tag>/played.jsonl")
    parser.add_argument("--sensors", required=True,
                        help='JSON list of {"tag", "profile", "address", "rate_hz", "drop_after_s", "offset_s", '
                             f'"name", "clock_start"}}; profiles: {", ".join(sorted(PROFILES))}')
    parser.add_argument("--debug", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
