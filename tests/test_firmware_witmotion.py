"""WitMotion WT901BLECL / BWT901BLECL: published vectors, resynchronisation, commands.

Vectors and formulas: ../shared/ble/PROTOCOLS.md §A.1 (vendor SDK
WITMOTION/WitBluetooth_BWT901BLE5_0, device_model.py and Bwt901bleProcessor.java;
the captured frame is from a third-party repository quoted there).  Expected
values are worked out here from the bytes and the vendor formulas
acc = raw/32768·16 g, gyro = raw/32768·2000 deg/s, angle = raw/32768·180 deg.
"""

from __future__ import annotations

import numpy as np
import pytest

from analysis.constants import GRAVITY_M_S2
from firmware_interface import witmotion
from firmware_interface.base import FrameError
from firmware_interface.witmotion import WitMotionDecoder
from test_firmware_conformance import DecoderConformance

# PROTOCOLS.md §A.1 "vendor formula" vector
VENDOR = bytes.fromhex("55 61 00 00 00 00 00 08 00 00 00 00 00 10 00 00 00 00 00 40")
# PROTOCOLS.md §A.1 "real captured frame" (third-party repo)
CAPTURED = bytes.fromhex("55 61 77 02 a8 fe 92 fe 06 02 30 fe cd ff f8 f0 53 fc ab c4")


def _expected(raw):
    """SI values from the nine raw int16 of a 0x61 packet."""
    raw = np.asarray(raw, dtype=np.float64)
    acc = raw[0:3] / 32768 * 16 * GRAVITY_M_S2
    gyr = np.deg2rad(raw[3:6] / 32768 * 2000)
    angle = np.deg2rad(raw[6:9] / 32768 * 180)
    return acc, gyr, angle


class TestWitMotionConformance(DecoderConformance):
    decoder_class = WitMotionDecoder
    good_stream = [VENDOR, CAPTURED[:7], CAPTURED[7:], VENDOR + CAPTURED]
    malformed = [
        ("short packet at end of stream", bytes.fromhex("55 61 01 02")),
        ("truncated packet at end of stream", VENDOR[:19]),
        ("wrong header 55 62", bytes.fromhex("55 62") + bytes(18)),
        ("garbage without header", bytes.fromhex("aa bb cc 00 12")),
        ("bad length register reply", bytes.fromhex("55 71 3a 00 01 00 02 00")),
    ]
    profiles = [(witmotion.PROFILE, {"sampling_rate_hz": 100}, "WT901BLE68", [])]


def test_vendor_formula_vector():
    frame = WitMotionDecoder().decode(VENDOR, strict=True)
    # bytes 6-7 = 00 08 → az = 0x0800 = 2048; bytes 12-13 = 00 10 → wz = 4096; 18-19 = 00 40 → yaw 16384
    acc, gyr, angle = _expected([0, 0, 2048, 0, 0, 4096, 0, 0, 16384])
    np.testing.assert_allclose(frame.acc_m_s2[0], acc)
    np.testing.assert_allclose(frame.acc_m_s2[0], [0, 0, 9.80665])  # (0, 0, 1 g)
    np.testing.assert_allclose(frame.gyr_rad_s[0], gyr)
    np.testing.assert_allclose(frame.gyr_rad_s[0, 2], 4.363, atol=1e-3)  # 250 deg/s
    np.testing.assert_allclose(np.rad2deg(frame.extra["angle_rad"][0]), [0, 0, 90])
    assert frame.sample_counter is None and frame.sensor_time_s is None  # host time only


def test_captured_vector():
    frame = WitMotionDecoder().decode(CAPTURED, strict=True)
    # 77 02 = 631, a8 fe = -344, 92 fe = -366, 06 02 = 518, 30 fe = -464, cd ff = -51,
    # f8 f0 = -3848, 53 fc = -941, ab c4 = -15189
    acc, gyr, angle = _expected([631, -344, -366, 518, -464, -51, -3848, -941, -15189])
    np.testing.assert_allclose(frame.acc_m_s2[0], acc)
    np.testing.assert_allclose(frame.acc_m_s2[0], [3.021, -1.647, -1.753], atol=1e-3)
    np.testing.assert_allclose(np.rad2deg(frame.gyr_rad_s[0]), [31.62, -28.32, -3.11], atol=5e-3)
    np.testing.assert_allclose(np.rad2deg(frame.extra["angle_rad"][0]), [-21.14, -5.17, -83.44], atol=5e-3)


def test_packet_split_across_notifications():
    decoder = WitMotionDecoder()
    parts = [CAPTURED[:1], CAPTURED[1:2], CAPTURED[2:13], CAPTURED[13:]]
    frames = [decoder.decode(p, strict=True) for p in parts]
    assert [f.n_samples for f in frames] == [0, 0, 0, 1]
    assert decoder.pending_bytes_ == 0
    np.testing.assert_allclose(frames[-1].acc_m_s2[0], _expected([631, -344, -366, 0, 0, 0, 0, 0, 0])[0])


def test_garbage_between_packets_is_skipped_and_counted():
    decoder = WitMotionDecoder()
    frame = decoder.decode(b"\x01\x02" + VENDOR + b"\xff\x55\x00" + CAPTURED)
    assert frame.n_samples == 2
    assert frame.n_corrupt == 2 and decoder.n_corrupt_ == 2
    np.testing.assert_allclose(frame.acc_m_s2[1], _expected([631, -344, -366, 0, 0, 0, 0, 0, 0])[0])
    with pytest.raises(FrameError, match="skipped 2 bytes"):
        WitMotionDecoder().decode(b"\x01\x02" + VENDOR, strict=True)


def test_truncated_packet_before_a_complete_one_is_dropped():
    """No checksum: the 20 bytes after a cut header would swallow the next packet's start."""
    decoder = WitMotionDecoder()
    frame = decoder.decode(VENDOR[:9] + CAPTURED + VENDOR)
    assert frame.n_samples == 2 and frame.n_corrupt == 1
    np.testing.assert_allclose(frame.acc_m_s2[0], _expected([631, -344, -366, 0, 0, 0, 0, 0, 0])[0])


def test_register_reply_updates_registers():
    # FF AA 27 40 00 reads 0x40 (temperature = raw/100 °C): 55 71 40 00 | 2B 0A ... → 0x0A2B = 2603 = 26.03 °C
    reply = bytes.fromhex("55 71 40 00 2b 0a 01 00 02 00 03 00") + bytes(8)
    decoder = WitMotionDecoder()
    frame = decoder.decode(reply + VENDOR, strict=True)
    assert frame.n_samples == 1
    assert decoder.registers_[0x40] == 2603 and decoder.registers_[0x43] == 3


def test_many_packets_in_one_notification_are_vectorised():
    frame = WitMotionDecoder().decode(VENDOR * 50, strict=True)
    assert frame.acc_m_s2.shape == (50, 3)
    np.testing.assert_allclose(frame.acc_m_s2[:, 2], GRAVITY_M_S2)


def test_commands():
    # vendor Bwt901ble.java / device_model.py: unlock FF AA 69 88 B5, save FF AA 00 00 00, read FF AA 27 <reg> 00
    writes = witmotion.rate_commands(100)
    assert [w.data.hex(" ") for w in writes] == ["ff aa 69 88 b5", "ff aa 03 09 00", "ff aa 00 00 00"]
    assert [w.delay_after_s for w in writes] == [0.1, 0.1, 0.0]
    assert all(w.char_uuid == witmotion.WRITE_UUID for w in writes)
    assert witmotion.register_read(0x3A) == bytes.fromhex("ff aa 27 3a 00")
    assert witmotion.start_commands() == ()
    assert witmotion.start_commands(sampling_rate_hz=200)[1].data == bytes.fromhex("ff aa 03 0b 00")
    with pytest.raises(ValueError, match="choose one of"):
        witmotion.rate_commands(150)


def test_uuids_keep_the_vendor_tail():
    assert witmotion.SERVICE_UUID.endswith("-0000-1000-8000-00805f9a34fb")
    assert witmotion.PROFILE.notify_uuids == ("0000ffe4-0000-1000-8000-00805f9a34fb",)


@pytest.mark.parametrize("split", [15, 16, 19])
def test_a_truncated_packet_whose_successor_ends_in_the_next_notification_is_dropped(split):
    """A cut packet, then the first `split` bytes of a whole one; its end comes in the next notification.  The cut
    header's 20 bytes were taken as a packet (a made-up sample of 10.6 and 12.5 g) and the real one lost; now the
    decoder waits for the next notification to tell them apart."""
    decoder = WitMotionDecoder()
    first = decoder.decode(VENDOR[:5] + CAPTURED[:split])
    second = decoder.decode(CAPTURED[split:] + VENDOR)
    assert first.n_samples == 0 and second.n_samples == 2 and first.n_corrupt + second.n_corrupt == 1
    np.testing.assert_allclose(second.acc_m_s2[0], _expected([631, -344, -366, 0, 0, 0, 0, 0, 0])[0])
