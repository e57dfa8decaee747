"""Device recognition from advertisements, and the shared base types."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_interface import registry
from firmware_interface.base import DecodedFrame, FrameError, GattWrite, normalise_uuid, sig_uuid

ADVERTISEMENTS = [
    # (advertised name, advertised service UUIDs, expected profile key)
    ("Polar H10 1A2B3C4D", ["0000180d-0000-1000-8000-00805f9b34fb"], "polar-h10"),
    ("Polar Sense B5A32F2C", ["180D"], "polar-verity-sense"),
    ("WT901BLE68", [], "witmotion-wt901ble"),
    ("BWT901BLECL5.0", [], "witmotion-wt901ble"),
    ("Thingy", ["ef680100-9b35-4933-9b10-52ffa9740042"], "nordic-thingy52"),
    (None, ["EF680100-9B35-4933-9B10-52FFA9740042"], "nordic-thingy52"),
    ("MetaWear", ["326a9000-85cb-9195-d9dd-464cfbbae75a"], "mbientlab-metamotion"),
    ("Movesense 204730000081", ["fdf3"], "movesense-gatt-sensordata"),
    (None, ["c9460001-de63-42d7-9440-4bdae08e81d2"], "backstride-reference"),
    ("backstride-3F2A", [], "backstride-reference"),
    ("Garmin HRM-Pro", ["180d", "1814"], "heart-rate"),
    ("Stryd", ["1814"], "running-speed-cadence"),
]


@pytest.mark.parametrize("name, uuids, key", ADVERTISEMENTS, ids=[a[2] + ":" + str(a[0]) for a in ADVERTISEMENTS])
def test_identify(name, uuids, key):
    assert registry.identify(name, uuids).key == key


def test_device_specific_profile_beats_standard_services():
    keys = [p.key for p in registry.candidates("Polar H10 1A2B3C4D", ["180d"])]
    assert keys == ["polar-h10", "heart-rate"]


def test_unknown_device():
    assert registry.identify("Some Speaker", ["110b"]) is None
    assert registry.identify() is None


def test_profile_lookup_and_input_checks():
    assert registry.profile("polar-h10").name.startswith("Polar H10")
    with pytest.raises(KeyError, match="known: "):
        registry.profile("fitbit")
    with pytest.raises(TypeError, match="list of UUID"):
        registry.identify("x", "180d")
    with pytest.raises(ValueError, match="not a UUID"):
        registry.identify("x", ["zzzz-not-uuid"])


def test_profile_keys_and_uuids_are_unique_and_normalised():
    keys = [p.key for p in registry.PROFILES]
    assert len(set(keys)) == len(keys)
    for p in registry.PROFILES:
        for uuid in (p.service_uuid, *p.notify_uuids, *p.advertised_uuids):
            assert uuid == normalise_uuid(uuid)


def test_uuid_helpers():
    assert sig_uuid(0x180D) == "0000180d-0000-1000-8000-00805f9b34fb"
    assert normalise_uuid("0x2A37") == "00002a37-0000-1000-8000-00805f9b34fb"
    with pytest.raises(ValueError):
        sig_uuid(0x10000)


def test_decoded_frame_checks_shapes():
    with pytest.raises(ValueError, match=r"\(n, 3\)"):
        DecodedFrame("x", acc_m_s2=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="rows differ"):
        DecodedFrame("x", acc_m_s2=np.zeros((2, 3)), gyr_rad_s=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="sample_counter"):
        DecodedFrame("x", acc_m_s2=np.zeros((2, 3)), sample_counter=np.arange(3))


def test_decoded_frame_concat():
    err = FrameError("x", "bad", "good")
    a = DecodedFrame("x", acc_m_s2=np.ones((2, 3)), sample_counter=[0, 1], counter_modulus=8)
    b = DecodedFrame("x", n_samples=0, n_corrupt=1, errors=(err,))
    c = DecodedFrame("x", acc_m_s2=np.zeros((1, 3)), sample_counter=[2], counter_modulus=8)
    joined = DecodedFrame.concat([a, b, c])
    assert joined.n_samples == 3 and joined.n_corrupt == 1 and joined.sample_counter.tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="channels"):
        DecodedFrame.concat([a, DecodedFrame("x", gyr_rad_s=np.zeros((1, 3)))])


def test_frame_error_message():
    err = FrameError("Dev", "header 00", "55 61", bytes(40))
    assert str(err).startswith("Dev: header 00 (expected 55 61); bytes [40]: 00 00") and str(err).endswith("…")


def test_gatt_write_checks():
    write = GattWrite("FFE9", b"\x01")
    assert write.char_uuid == "0000ffe9-0000-1000-8000-00805f9b34fb"
    with pytest.raises(TypeError, match="bytes"):
        GattWrite("ffe9", "01")
