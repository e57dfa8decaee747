"""An emulated BLE IMU sensor (Bumble) that plays a recording's samples as the real byte stream.

Runs inside the test guest (``tests/vm/harness.py``) and owns every Bumble
piece there:

* a Bumble controller attached to the guest kernel through ``/dev/vhci``, so
  that ``bluetoothd`` sees an ordinary adapter (``hci0``); it gets a public
  address (BlueZ ignores an adapter without one) and loses the LL-privacy and
  extended-advertising LE features (Bumble answers connections with the legacy
  event, and Linux then times out: google/bumble#841);
* a second Bumble controller on the same ``LocalLink`` (the virtual radio),
  carrying the sensor's GATT server.

The sensor speaks one of backstride's supported profiles, byte for byte, as the
real device would (encoders from ``firmware_interface``), and plays the samples
of a recording in real time: sample ``k`` is "measured" ``k / fs`` seconds after
the first START, whether or not a link is up, so a dropped link loses exactly
the samples measured while it was down.  It can drop the link on cue
(``--drop-after-s``) and advertises again afterwards.

Everything it sends is logged, one JSON object per line (``--log``), flushed as
it goes: what was played is the truth the test compares the recording with.

    python tests/vm/peripheral.py --profile backstride-reference \
        --recording sample_recordings/sim_lower_back_run.parquet --drop-after-s 30 --log played.jsonl
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bumble import hci  # noqa: E402
from bumble import link as bumble_link  # noqa: E402
from bumble.controller import Controller  # noqa: E402
from bumble.core import AdvertisingData, PhysicalTransport  # noqa: E402
from bumble.device import Device, DeviceConfiguration  # noqa: E402
from bumble.gatt import Characteristic, CharacteristicValue, Service  # noqa: E402
from bumble.transport import open_transport  # noqa: E402

from firmware_interface import reference  # noqa: E402
from firmware_interface.base import FrameError  # noqa: E402
from sensing.formats import open_recording  # noqa: E402

#: Public address of the controller bluetoothd drives (the test finds the adapter by it).
HOST_CONTROLLER_ADDRESS = "F0:0D:BA:C0:00:01"
#: Static random address of the emulated sensor.
SENSOR_ADDRESS = "D4:5B:AC:3F:2A:01"
#: ATT MTU the sensor accepts: what nRF Connect SDK / ESP-IDF firmware asks for.
SENSOR_MAX_MTU = 247

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
    """Append-only JSON-lines log of what the sensor did and sent (flushed per line)."""

    def __init__(self, path: Path):
        self._file = open(path, "a", buffering=1)
        self._t0 = time.monotonic()

    def write(self, kind: str, **fields) -> None:
        fields = {"kind": kind, "t_s": round(time.monotonic() - self._t0, 4), **fields}
        self._file.write(json.dumps(fields) + "\n")

    def close(self) -> None:
        self._file.close()


class ReferenceSensor:
    """backstride's open reference profile (firmware_interface/REFERENCE_PROFILE.md), sensor side.

    Parameters
    ----------
    acc_m_s2, gyr_rad_s
        (n, 3) samples to play, sensor frame, SI units.
    sampling_rate_hz
        Rate of those samples: the only rate this emulated IMU can do (others are refused, status 2).
    sensor_clock_start_us
        Sensor clock reading when the first sample is measured; choose it close to 2**32
        to make the µs clock wrap during the test.
    """

    def __init__(self, device: Device, play_log: PlayLog, *, acc_m_s2: np.ndarray, gyr_rad_s: np.ndarray,
                 sampling_rate_hz: int, sensor_clock_start_us: int, drop_after_s: float | None):
        self.device = device
        self.log = play_log
        self.acc_m_s2 = acc_m_s2
        self.gyr_rad_s = gyr_rad_s
        self.sampling_rate_hz = sampling_rate_hz
        self.sensor_clock_start_us = sensor_clock_start_us
        self.drop_after_s = drop_after_s
        # Configuration (power-up defaults of the spec): 100 Hz is replaced by the recording's rate.
        self.acc_code = reference.ACC_RANGE_CODES[8]
        self.gyr_code = reference.GYR_RANGE_CODES[2000]
        self.flags = reference.FLAG_GYR
        self.play_start = None  # monotonic time of sample 0 (first START)
        self.session = 0
        self.stream_task: asyncio.Task | None = None
        self.dropped = False
        self.connection = None

        self.control = Characteristic(
            reference.CONTROL_POINT_UUID,
            Characteristic.Properties.WRITE | Characteristic.Properties.NOTIFY,
            Characteristic.WRITEABLE,
            CharacteristicValue(write=self._on_command),
        )
        self.data = Characteristic(
            reference.DATA_UUID, Characteristic.Properties.NOTIFY, Characteristic.READABLE, b""
        )
        info = reference.encode_info(reference.Info(
            protocol_version=reference.PROTOCOL_VERSION, firmware=(0, 3, 1), has_gyr=True, has_mag=False,
            acc_ranges_g=(2, 4, 8, 16), gyr_ranges_dps=(125, 250, 500, 1000, 2000),
            max_sampling_rate_hz=sampling_rate_hz,
        ))
        self.info = Characteristic(reference.INFO_UUID, Characteristic.Properties.READ, Characteristic.READABLE, info)
        self.service = Service(reference.SERVICE_UUID, [self.control, self.data, self.info])

    # -- advertising ----------------------------------------------------------------------------
    def advertising_data(self) -> tuple[bytes, bytes]:
        """Flags and the 128-bit service UUID; the name goes in the scan response (31-byte limit)."""
        adv = AdvertisingData([
            (AdvertisingData.FLAGS, bytes([AdvertisingData.LE_GENERAL_DISCOVERABLE_MODE_FLAG
                                           | AdvertisingData.BR_EDR_NOT_SUPPORTED_FLAG])),
            (AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
             bytes(reversed(bytes.fromhex(reference.SERVICE_UUID.replace("-", ""))))),
        ])
        scan = AdvertisingData([(AdvertisingData.COMPLETE_LOCAL_NAME, self.device.name.encode())])
        return bytes(adv), bytes(scan)

    # -- link ----------------------------------------------------------------------------------
    def on_connection(self, connection) -> None:
        self.connection = connection
        self.log.write("connected", peer=str(connection.peer_address))
        connection.on("disconnection", lambda reason: self._on_disconnection(connection, reason))
        connection.on("connection_att_mtu_update", lambda: self.log.write("mtu", att_mtu=connection.att_mtu))

    def _on_disconnection(self, connection, reason) -> None:
        # On disconnection the sensor stops streaming (spec §3).
        self._stop_stream()
        self.connection = None
        self.log.write("disconnected", reason=int(reason))

    # -- control point ---------------------------------------------------------------------------
    def _on_command(self, connection, value: bytes) -> None:
        """Handle a control-point write; the answer is notified just after the write response."""
        try:
            command = reference.parse_command(bytes(value))
        except FrameError as err:
            op = value[0] if value else 0
            status = reference.Status.UNKNOWN_OP if "unknown op" in err.problem else reference.Status.INVALID_PARAMETER
            self._answer(connection, op, status)
            return
        status, params = self._execute(command)
        self.log.write("command", op=command.op.name, status=int(status), bytes=bytes(value).hex())
        self._answer(connection, command.op, status, params)

    def _execute(self, command: reference.Command) -> tuple[reference.Status, bytes]:
        S, Op = reference.Status, reference.Op
        streaming = self.stream_task is not None
        if command.op is Op.START:
            self._start_stream()
            return S.SUCCESS, b""
        if command.op is Op.STOP:
            self._stop_stream()
            return S.SUCCESS, b""
        if command.op is Op.GET_CONFIG:
            params = reference.encode_config(
                sampling_rate_hz=self.sampling_rate_hz, acc_range_g=2**self.acc_code,
                gyr_range_dps=125 * 2**self.gyr_code, gyr=bool(self.flags & reference.FLAG_GYR),
                mag=bool(self.flags & reference.FLAG_MAG), streaming=streaming,
            )
            return S.SUCCESS, params
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

    def _answer(self, connection, op, status, params: bytes = b"") -> None:
        payload = reference.encode_response(op, status, params)

        async def send():
            await asyncio.sleep(0.01)  # after the ATT write response
            await self.device.notify_subscriber(connection, self.control, payload)

        asyncio.get_running_loop().create_task(send())

    # -- streaming ---------------------------------------------------------------------------------
    def _start_stream(self) -> None:
        self._stop_stream()
        if self.play_start is None:
            self.play_start = time.monotonic()
        self.session += 1
        self.stream_task = asyncio.get_running_loop().create_task(self._stream(self.connection, self.session))

    def _stop_stream(self) -> None:
        if self.stream_task is not None:
            self.stream_task.cancel()
            self.stream_task = None

    def _index_now(self) -> int:
        """Recording index of the sample being measured right now."""
        return int((time.monotonic() - self.play_start) * self.sampling_rate_hz)

    async def _stream(self, connection, session: int) -> None:
        """Send every sample measured since START, in full frames, in real time; counter from 0."""
        per_frame = reference.samples_per_frame(gyr=bool(self.flags & reference.FLAG_GYR), mag=False,
                                                max_payload_bytes=connection.att_mtu - 3)
        period_s = per_frame / self.sampling_rate_hz
        first_index = self._index_now()  # the first sample measured after START
        next_index = first_index
        self.log.write("start", session=session, index=first_index, att_mtu=connection.att_mtu, per_frame=per_frame)
        while True:
            while self._index_now() - next_index >= per_frame and next_index + per_frame <= len(self.acc_m_s2):
                k = next_index
                sl = slice(k, k + per_frame)
                frame = reference.encode_frame(
                    self.acc_m_s2[sl],
                    gyr_rad_s=self.gyr_rad_s[sl] if self.flags & reference.FLAG_GYR else None,
                    first_counter=k - first_index,
                    first_time_us=self.sensor_clock_start_us + round(k * 1e6 / self.sampling_rate_hz),
                    sampling_rate_hz=self.sampling_rate_hz,
                    acc_range_g=2**self.acc_code, gyr_range_dps=125 * 2**self.gyr_code,
                )
                await self.device.notify_subscriber(connection, self.data, frame)
                self.log.write("frame", session=session, index=k, counter=k - first_index, n=per_frame,
                               acc_range_g=2**self.acc_code, gyr_range_dps=125 * 2**self.gyr_code)
                next_index += per_frame
            if (self.drop_after_s is not None and not self.dropped
                    and time.monotonic() - self.play_start >= self.drop_after_s):
                self.dropped = True
                self.log.write("drop", session=session, next_index=next_index)
                self.stream_task = None
                # The sensor stops measuring into this link, then lets the frames already queued in
                # its stack go out before it drops the link.  notify_subscriber() returns when a
                # frame is queued, not when it is sent, and Bumble discards what is still queued at
                # disconnection: without the pause, the last frames logged here as "played" may
                # never have been on air (seen: 4 frames within 0.33 s of the drop).
                await asyncio.sleep(DROP_FLUSH_S)
                await connection.disconnect()
                return
            await asyncio.sleep(period_s / 2)


#: Pause between the last frame queued and the link drop (see ReferenceSensor._stream).
DROP_FLUSH_S = 1.0

PROFILES = {"backstride-reference": ReferenceSensor}


async def serve(args) -> None:
    patch_local_link()
    patch_scan_responses()
    rec = open_recording(args.recording)
    if not rec.has_gyr:
        raise SystemExit(f"{args.recording}: the reference sensor emulator needs gyroscope columns")
    frame = rec.data
    expected = np.arange(frame.index[0], frame.index[0] + len(frame))
    if not np.array_equal(frame.index.to_numpy(), expected):
        raise SystemExit(f"{args.recording}: has gaps; play a recording without lost samples")
    rate = int(round(rec.sampling_rate_hz))
    if rate != rec.sampling_rate_hz:
        raise SystemExit(f"{args.recording}: rate {rec.sampling_rate_hz} Hz is not a whole number of Hz")
    acc = frame[["acc_x", "acc_y", "acc_z"]].to_numpy()
    gyr = frame[["gyr_x", "gyr_y", "gyr_z"]].to_numpy()

    play_log = PlayLog(Path(args.log))
    async with await open_transport("vhci") as hci_transport:
        radio = bumble_link.LocalLink()
        host_controller = Controller(
            "backstride-vm-adapter", host_source=hci_transport.source, host_sink=hci_transport.sink,
            link=radio, public_address=HOST_CONTROLLER_ADDRESS,
        )
        host_controller.le_features &= ~(hci.LeFeatureMask.LL_PRIVACY | hci.LeFeatureMask.LE_EXTENDED_ADVERTISING)
        sensor_controller = Controller("backstride-vm-sensor", link=radio)
        # Legacy advertising (like most sensor firmware), so that patch_scan_responses finds the data.
        sensor_controller.le_features &= ~hci.LeFeatureMask.LE_EXTENDED_ADVERTISING
        name = f"backstride-{SENSOR_ADDRESS.replace(':', '')[-4:]}"
        config = DeviceConfiguration(name=name, address=hci.Address(SENSOR_ADDRESS),
                                     advertising_interval_min=100, advertising_interval_max=100)
        device = Device.from_config_with_hci(config, sensor_controller, sensor_controller)
        device.gatt_server.max_mtu = SENSOR_MAX_MTU
        sensor = PROFILES[args.profile](
            device, play_log, acc_m_s2=acc, gyr_rad_s=gyr, sampling_rate_hz=rate,
            sensor_clock_start_us=args.sensor_clock_start_us, drop_after_s=args.drop_after_s,
        )
        device.add_services([sensor.service])
        device.on("connection", sensor.on_connection)
        adv, scan = sensor.advertising_data()
        await device.power_on()
        await device.start_advertising(auto_restart=True, advertising_data=adv, scan_response_data=scan,
                                       own_address_type=hci.OwnAddressType.RANDOM)
        play_log.write("ready", name=name, address=SENSOR_ADDRESS, profile=args.profile,
                       recording=str(args.recording), sampling_rate_hz=rate,
                       sensor_clock_start_us=args.sensor_clock_start_us)
        print(f"READY {name} {SENSOR_ADDRESS}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        play_log.write("exit")
        play_log.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="backstride-reference")
    parser.add_argument("--recording", type=Path, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--drop-after-s", type=float, default=None,
                        help="drop the link this long after the first START (once)")
    parser.add_argument("--sensor-clock-start-us", type=int, default=0,
                        help="sensor µs clock at the first sample (near 2**32 makes it wrap)")
    parser.add_argument("--debug", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
