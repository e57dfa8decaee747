"""Nordic Thingy:52 raw motion data: synthetic vector, scaling choice, configuration.

Vector and formulas: ../shared/ble/PROTOCOLS.md §A.3 (Nordic-Thingy52-FW ble_tms.h and
m_motion.c: acc Q6.10 → raw/1024 g, gyro Q11.5 → raw/32 deg/s, compass Q12.4 → raw/16 µT).
No published hex vector exists; the one here is synthetic, per the firmware formula.
"""

from __future__ import annotations

import numpy as np
import pytest

from analysis.constants import GRAVITY_M_S2
from firmware_interface import thingy52
from firmware_interface.thingy52 import Thingy52Decoder
from test_firmware_conformance import DecoderConformance

# PROTOCOLS.md §A.3 synthetic vector
SYNTHETIC = bytes.fromhex("00 00 00 00 00 04 00 00 00 00 40 1F 80 02 00 00 C0 FE")
CONFIG = bytes.fromhex("E8 03 F4 01 F4 01 0A 00 01")  # pedo 1000 ms, temp 500, compass 500, 10 Hz, wake on motion


class TestThingy52Conformance(DecoderConformance):
    decoder_class = Thingy52Decoder
    good_stream = [SYNTHETIC, bytes(18)]
    malformed = [
        ("short (17 bytes)", SYNTHETIC[:17]),
        ("bad length (19 bytes)", SYNTHETIC + b"\x00"),
        ("two frames in one notification", SYNTHETIC * 2),
        ("empty", b""),
    ]
    profiles = [(thingy52.PROFILE, {"sampling_rate_hz": 100, "current_config": CONFIG}, "Thingy", [])]


def test_synthetic_vector():
    frame = Thingy52Decoder().decode(SYNTHETIC, strict=True)
    # acc z: 00 04 = 1024 → 1024/1024 = 1 g; gyro z: 40 1F = 8000 → 8000/32 = 250 deg/s;
    # compass x: 80 02 = 640 → 40 µT, z: C0 FE = -320 → -20 µT
    np.testing.assert_allclose(frame.acc_m_s2, [[0, 0, GRAVITY_M_S2]])
    np.testing.assert_allclose(frame.gyr_rad_s, [[0, 0, np.deg2rad(250)]])
    np.testing.assert_allclose(frame.mag_ut, [[40, 0, -20]])


def test_thingyjs_scaling_can_be_chosen():
    """Thingy.js divides by 64 / 2048 / 4096; the divisors are constructor parameters."""
    frame = Thingy52Decoder(acc_lsb_per_g=64, gyr_lsb_per_dps=2048, mag_lsb_per_ut=4096).decode(SYNTHETIC)
    np.testing.assert_allclose(frame.acc_m_s2[0, 2], 16 * GRAVITY_M_S2)
    np.testing.assert_allclose(np.rad2deg(frame.gyr_rad_s[0, 2]), 8000 / 2048)
    with pytest.raises(ValueError, match="acc_lsb_per_g"):
        Thingy52Decoder(acc_lsb_per_g=0)


def test_motion_rate_is_read_modify_write():
    new = thingy52.with_motion_rate(CONFIG, 100)
    assert new[:6] == CONFIG[:6] and new[6:8] == bytes.fromhex("64 00") and new[8:] == CONFIG[8:]
    writes = thingy52.start_commands(sampling_rate_hz=100, current_config=CONFIG)
    assert writes[0].char_uuid == "ef680401-9b35-4933-9b10-52ffa9740042" and writes[0].data == new
    with pytest.raises(ValueError, match="1..200"):
        thingy52.with_motion_rate(CONFIG, 400)
    with pytest.raises(ValueError, match="9 bytes"):
        thingy52.with_motion_rate(CONFIG[:8], 100)


def test_uuids():
    assert thingy52.RAW_DATA_UUID == "ef680406-9b35-4933-9b10-52ffa9740042"
    assert thingy52.MOTION_SERVICE_UUID == "ef680400-9b35-4933-9b10-52ffa9740042"
