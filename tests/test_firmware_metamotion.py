"""MbientLab MetaMotion: published vectors and command bytes.

Vectors: ../shared/ble/PROTOCOLS.md §A.5, from mbientlab/MetaWear-SDK-Cpp
``test/test_accelerometer_bmi160.py`` (``03 04 …`` at ±4 G, packed ``03 1c …`` at ±8 G, config
bytes); gyroscope vectors from the same SDK's ``test/test_gyro_bmi160.py`` (``13 05 …`` at
500 deg/s, packed ``13 07 …`` at 1000 deg/s); BMI270 config bytes from
``test/test_accelerometer_bmi270.py``.  Expected values are raw / (LSB per unit), worked
out here from the bytes.
"""

from __future__ import annotations

import numpy as np
import pytest

from analysis.constants import GRAVITY_M_S2
from firmware_interface import metamotion
from firmware_interface.metamotion import MetaMotionDecoder
from test_firmware_conformance import DecoderConformance

h = bytes.fromhex
ACC_SINGLE_4G = h("03 04 16 c4 94 a2 2a d0")
ACC_PACKED_8G = h("03 1c 62 b7 53 0d e9 fd 16 d0 4d 0e 57 02 8a ff a1 05 0a 01")
GYR_SINGLE_500 = h("13 05 3e 43 ff 7f 00 80")
GYR_PACKED_1000 = h("13 07 09 15 ad 26 08 de 8a 1a 0d 26 65 e4 8d 20 ac 27 73 ec")


class TestMetaMotionConformance(DecoderConformance):
    decoder_class = MetaMotionDecoder
    good_stream = [ACC_PACKED_8G, GYR_SINGLE_500, h("03 04 00 00 00 00 00 10")]
    malformed = [
        ("short", h("03")),
        ("short data", ACC_SINGLE_4G[:5]),
        ("bad length packed", ACC_PACKED_8G[:19]),
        ("wrong header: not a data register", h("03 02 01 00")),
        ("wrong header: unknown module", h("19 07 00 00 00 00 00 00")),
        ("BMI270 packed register on a BMI160", h("03 05") + ACC_PACKED_8G[2:]),
    ]
    profiles = [
        (metamotion.PROFILE, {"sampling_rate_hz": 100, "acc_range_g": 8, "gyr_range_dps": 500}, "MetaWear", []),
    ]

    def make_decoder(self):
        return MetaMotionDecoder(acc_range_g=8, gyr_range_dps=500)


def test_acc_single_at_4g():
    frame = MetaMotionDecoder(acc_range_g=4).decode(ACC_SINGLE_4G, strict=True)
    # 16 c4 = -15338, 94 a2 = -23916, 2a d0 = -12246; ±4 G → 8192 LSB/g
    expected_g = np.array([-15338, -23916, -12246]) / 8192
    np.testing.assert_allclose(frame.acc_m_s2, [expected_g * GRAVITY_M_S2])
    np.testing.assert_allclose(expected_g, [-1.872, -2.919, -1.495], atol=5e-4)  # SDK's asserted values


def test_acc_packed_at_8g():
    frame = MetaMotionDecoder(acc_range_g=8).decode(ACC_PACKED_8G, strict=True)
    raw = np.array([[-18590, 3411, -535], [-12266, 3661, 599], [-118, 1441, 266]])  # 62 b7 = -18590 …
    np.testing.assert_allclose(frame.acc_m_s2, raw / 4096 * GRAVITY_M_S2)
    np.testing.assert_allclose(raw / 4096, [[-4.539, 0.833, -0.131], [-2.995, 0.894, 0.146], [-0.029, 0.352, 0.065]], atol=5e-4)


def test_gyro_single_and_packed():
    frame = MetaMotionDecoder(acc_range_g=8, gyr_range_dps=500).decode(GYR_SINGLE_500, strict=True)
    # 3e 43 = 17214, ff 7f = 32767, 00 80 = -32768; 500 deg/s → 65.6 LSB per deg/s
    np.testing.assert_allclose(np.rad2deg(frame.gyr_rad_s), [np.array([17214, 32767, -32768]) / 65.6])
    np.testing.assert_allclose(np.rad2deg(frame.gyr_rad_s[0]), [262.409, 499.497, -499.512], atol=1e-3)
    frame = MetaMotionDecoder(acc_range_g=8, gyr_range_dps=1000).decode(GYR_PACKED_1000, strict=True)
    np.testing.assert_allclose(np.rad2deg(frame.gyr_rad_s[0]), [164.177, 301.860, -265.122], atol=1e-3)  # 0x1509 / 32.8 …
    assert frame.gyr_rad_s.shape == (3, 3) and frame.acc_m_s2 is None


def test_gyro_without_range_is_refused():
    frame = MetaMotionDecoder(acc_range_g=8).decode(GYR_SINGLE_500)
    assert frame.n_corrupt == 1 and "gyr_range_dps" in str(frame.errors[0])


def test_bmi270_packed_register():
    frame = MetaMotionDecoder(acc_range_g=8, chip="bmi270").decode(h("03 05") + ACC_PACKED_8G[2:], strict=True)
    assert frame.n_samples == 3


def test_commands():
    writes = metamotion.start_commands(sampling_rate_hz=200, acc_range_g=8, packed=False)
    assert [w.data.hex(" ") for w in writes] == ["03 03 29 08", "03 04 01", "03 02 01 00", "03 01 01"]
    assert metamotion.start_commands(sampling_rate_hz=100, acc_range_g=16)[0].data == h("03 03 28 0C")
    assert metamotion.start_commands(sampling_rate_hz=100, acc_range_g=8)[1].data == h("03 1C 01")
    assert metamotion.start_commands(sampling_rate_hz=200, acc_range_g=8, chip="bmi270")[0].data == h("03 03 A9 02")
    gyro = metamotion.start_commands(sampling_rate_hz=50, acc_range_g=8, gyr_range_dps=125, packed=False)
    assert h("13 03 27 04") in [w.data for w in gyro] and h("13 05 01") in [w.data for w in gyro]
    stop = metamotion.stop_commands(packed=False)  # no gyr_range_dps: accelerometer only
    assert [w.data.hex(" ") for w in stop] == ["03 01 00", "03 02 00 01", "03 04 00"]
    with pytest.raises(ValueError, match="choose one of"):
        metamotion.start_commands(sampling_rate_hz=150, acc_range_g=8)
    with pytest.raises(ValueError, match="bmi160"):
        MetaMotionDecoder(acc_range_g=8, chip="bmi999")


def test_one_settings_dict_configures_start_stop_and_decoder():
    settings = {"sampling_rate_hz": 100, "acc_range_g": 4, "gyr_range_dps": 1000, "chip": "bmi160", "packed": False}
    decoder = metamotion.PROFILE.decoder(**settings)
    assert (decoder.acc_range_g, decoder.gyr_range_dps) == (4, 1000)
    stops = [w.data for w in metamotion.PROFILE.stop_commands(**settings)]
    assert h("13 05 00") in stops and h("03 04 00") in stops
