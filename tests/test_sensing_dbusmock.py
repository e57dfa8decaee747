"""Unmodified bleak (its BlueZ D-Bus backend) against a fake BlueZ: python-dbusmock's bluez5 template on a private bus.

No Bluetooth hardware and no bluetoothd: a private ``dbus-daemon`` plays the
system bus (``DBUS_SYSTEM_BUS_ADDRESS``), dbusmock serves ``org.bluez`` with
an adapter, a reference-profile device and its GATT objects, and this test
plays the sensor: it answers the control point and sends data notifications as
``Value`` property changes, drops the link, and checks the recording against
what it sent.  Everything from ``BleakScanner``/``BleakClient`` on is the
product code path.

Needs ``dbus-daemon`` (Debian: dbus) and the python-dbusmock package (which builds
dbus-python: Debian libdbus-1-dev, libglib2.0-dev, pkg-config); skips without them.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time

import numpy as np
import pytest

dbusmock = pytest.importorskip("dbusmock")
dbus = pytest.importorskip("dbus")
if shutil.which("dbus-daemon") is None:
    pytest.skip("dbus-daemon not installed (Debian package dbus)", allow_module_level=True)

from firmware_interface import reference  # noqa: E402
from sensing.formats import open_recording  # noqa: E402
from sensing.session import LiveSession, wait_until  # noqa: E402

ADDRESS = "AA:BB:CC:DD:EE:31"
NAME = "backstride-31"
DEV = "/org/bluez/hci0/dev_" + ADDRESS.replace(":", "_")
SVC = DEV + "/service0010"
CP = SVC + "/char0011"
DATA = SVC + "/char0014"
INFO = SVC + "/char0017"
MOCK = "org.freedesktop.DBus.Mock"
GATT_SVC = "org.bluez.GattService1"
GATT_CHR = "org.bluez.GattCharacteristic1"
DEVICE = "org.bluez.Device1"
FS = 100


@pytest.fixture()
def fake_bluez(monkeypatch):
    from dbusmock import DBusTestCase

    DBusTestCase.start_system_bus()
    bus_address = DBusTestCase.get_dbus(system_bus=True)
    proc, obj = DBusTestCase.spawn_server_template("bluez5", {}, stdout=subprocess.DEVNULL)
    import os

    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", os.environ["DBUS_SYSTEM_BUS_ADDRESS"])
    bluez = dbus.Interface(obj, "org.bluez.Mock")
    bluez.AddAdapter("hci0", "backstride-test")
    bluez.AddDevice("hci0", ADDRESS, NAME)
    bus = bus_address
    dev = dbus.Interface(bus.get_object("org.bluez", DEV), MOCK)
    dev.UpdateProperties(DEVICE, {
        "UUIDs": dbus.Array([reference.SERVICE_UUID], signature="s"),
        "ManufacturerData": dbus.Dictionary({}, signature="qv"),
        "ServiceData": dbus.Dictionary({}, signature="sv"),
    })
    # the template's Connect sets only Connected; bleak also waits for ServicesResolved
    dev.AddMethod(DEVICE, "Connect", "", "",
                  "self.UpdateProperties('org.bluez.Device1', {'Connected': dbus.Boolean(True), "
                  "'ServicesResolved': dbus.Boolean(True)})")
    dev.AddMethod(DEVICE, "Disconnect", "", "",
                  "self.UpdateProperties('org.bluez.Device1', {'Connected': dbus.Boolean(False), "
                  "'ServicesResolved': dbus.Boolean(False)})")
    root = dbus.Interface(bus.get_object("org.bluez", "/"), MOCK)
    root.AddObject(SVC, GATT_SVC, {"UUID": reference.SERVICE_UUID, "Device": dbus.ObjectPath(DEV),
                                   "Primary": dbus.Boolean(True)}, [])
    notify_methods = [("StartNotify", "", "", "self.UpdateProperties('org.bluez.GattCharacteristic1', "
                                              "{'Notifying': dbus.Boolean(True)})"),
                      ("StopNotify", "", "", "self.UpdateProperties('org.bluez.GattCharacteristic1', "
                                             "{'Notifying': dbus.Boolean(False)})")]
    for path, uuid, flags, methods in (
        (CP, reference.CONTROL_POINT_UUID, ["write", "notify"], notify_methods + [("WriteValue", "aya{sv}", "", "")]),
        (DATA, reference.DATA_UUID, ["notify"], notify_methods),
        (INFO, reference.INFO_UUID, ["read"], [("ReadValue", "a{sv}", "ay", "ret = dbus.Array([1], signature='y')")]),
    ):
        root.AddObject(path, GATT_CHR, {"UUID": uuid, "Service": dbus.ObjectPath(SVC), "Flags": dbus.Array(flags, signature="s"),
                                        "Value": dbus.Array([], signature="y"), "Notifying": dbus.Boolean(False),
                                        "MTU": dbus.UInt16(247)}, methods)
    yield bus, dev
    proc.terminate()
    proc.wait(10)
    DBusTestCase.tearDownClass()  # stops the private bus


class Peripheral:
    """The sensor side, driven over D-Bus: answers START, sends frames, advertises."""

    def __init__(self, bus, dev):
        self.bus = bus
        self.dev = dev
        self.cp = dbus.Interface(bus.get_object("org.bluez", CP), MOCK)
        self.data = dbus.Interface(bus.get_object("org.bluez", DATA), MOCK)
        self.sensor_pos = 0  # samples taken since power-on (free-running clock)
        self.sent: list[tuple[int, int]] = []  # (sensor position of first sample, n)
        self.advertising = True
        self._adv = threading.Thread(target=self._advertise, daemon=True)
        self._adv.start()

    def _advertise(self):
        rssi = -50
        while self.advertising:  # a device is reported after a property change during discovery
            rssi = -50 if rssi != -50 else -51
            try:
                self.dev.UpdateProperties(DEVICE, {"RSSI": dbus.Int16(rssi)})
            except dbus.DBusException:
                return
            time.sleep(0.1)

    def starts(self) -> int:
        return sum(1 for _, method, args in self.cp.GetCalls() if method == "WriteValue" and bytes(args[0]) == b"\x01")

    def stream(self, n_frames: int, per: int = 10, counter0: int = 0):
        counter = counter0
        for _ in range(n_frames):
            pos = self.sensor_pos + np.arange(per)
            acc = np.column_stack([(pos % 1000) / 100.0, np.zeros(per), np.full(per, 9.81)])
            frame = reference.encode_frame(acc, gyr_rad_s=np.zeros((per, 3)), first_counter=counter,
                                           first_time_us=int(self.sensor_pos * 1e6 / FS), sampling_rate_hz=FS, acc_range_g=16)
            self.data.UpdateProperties(GATT_CHR, {"Value": dbus.Array(frame, signature="y")})
            self.sent.append((self.sensor_pos, per))
            self.sensor_pos += per
            counter += per
            time.sleep(per / FS)

    def drop_link(self):
        self.dev.UpdateProperties(DEVICE, {"Connected": dbus.Boolean(False), "ServicesResolved": dbus.Boolean(False)})


@pytest.mark.slow
def test_unmodified_bleak_over_fake_bluez_records_with_reconnect(fake_bluez, tmp_path):
    bus, dev = fake_bluez
    peripheral = Peripheral(bus, dev)
    out = tmp_path / "rec"
    session = LiveSession.sensors([(NAME, "lower-back")], out=out, scan_timeout_s=2.0, sampling_rate_hz=FS)
    session.start()
    try:
        assert wait_until(lambda: peripheral.starts() >= 1, 90), session.snapshot()
        peripheral.stream(30)  # 3 s
        assert wait_until(lambda: session.snapshot()["samples_received"] == 300, 20), session.snapshot()
        peripheral.drop_link()
        peripheral.sensor_pos += 2 * FS  # the sensor keeps sampling for 2 s while the link is down
        assert wait_until(lambda: peripheral.starts() >= 2, 60), session.snapshot()
        peripheral.stream(20, counter0=0)  # START restarts the counter at 0; the µs clock ran on
        assert wait_until(lambda: session.snapshot()["samples_received"] == 500, 20), session.snapshot()
        snap = session.snapshot()
        assert snap["link_drops"] == 1 and snap["lost_samples"] == 2 * FS
    finally:
        peripheral.advertising = False
        session.stop()
    rec = open_recording(out)
    assert rec.extra["complete"] and rec.link_drops == 1
    assert list(rec.gaps["lost_samples"]) == [2 * FS]
    assert rec.gaps["start_s"].iloc[0] == pytest.approx(300 / FS)
    pos = rec.data.index.to_numpy()  # index 0 = the first sample sent
    np.testing.assert_allclose(rec.data["acc_x"].to_numpy(), (pos % 1000) / 100.0, atol=16 * 9.80665 / 65536 + 1e-12)
    assert rec.extra["events"][0]["type"] == "link_drop"
