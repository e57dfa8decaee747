"""Polar PMD (H10, Verity Sense): published vectors, delta frames, FACTOR, time stamps, control point.

Vectors: ../shared/ble/PROTOCOLS.md §A.2, taken from polar-ble-sdk
``AccDataTest.kt`` ("process acc raw data frame type 1", "process acc compressed data
type 0", "process acc compressed data type 1") and ``GyrDataTest.kt`` ("process gyro
compressed data type 0 / type 1 / type 1 with factor").  The full type-0 payload,
elided with "…" in PROTOCOLS.md, is copied from the hex comment of that SDK test.
Expected values are derived here from the bytes by hand (bit fields written out).
"""

from __future__ import annotations

import struct

import numpy as np
import pytest

from analysis.constants import GRAVITY_M_S2
from firmware_interface import polar_pmd
from firmware_interface.base import FrameError
from firmware_interface.polar_pmd import (
    PmdMeasurement as M,
    PmdSetting as S,
    PolarPmdDecoder,
    decode_delta_frames,
)
from test_firmware_conformance import DecoderConformance

h = bytes.fromhex
MG = GRAVITY_M_S2 / 1000.0
TS_2E9 = "00 94 35 77 00 00 00 00"  # 0x77359400 = 2 000 000 000 ns

# AccDataTest "process acc raw data frame type 1" (first two samples of its frame)
ACC_RAW_1 = h(f"02 {TS_2E9} 01 F7 FF FF FF E7 03 F8 FF FE FF E5 03")
# AccDataTest "process acc compressed data type 1": time 0x65 = 101 ns, previous frame at 100 ns
ACC_DELTA_1 = h("02 65 00 00 00 00 00 00 00 81 F1 FF 14 00 F0 03 06 01 7B 0F 08")
# AccDataTest "process acc compressed data type 0" (Verity), FACTOR 2.44e-4
VERITY_PAYLOAD = h(
    "71 07 F0 6A 9E 8D 0A 38 BE 5C BE BA 2F 96 B3 EE 4B E5 AD FB 42 B9 EB BE 4C FE BA 2F 92 BF EE 4B E4 B1 FB 12 "
    "B9 EC BD 3C 3E BB 2F 8F D3 DE 4B E3 B5 F7 D2 B8 ED BD 30 7E 7B 2F 8B E3 CE 8B E2 BA F7 A2 B8 EE BC 20 BE 7B "
    "2F 88 F3 CE CB E1 BD EF 52 F8 EF BC 18 FE 3B 2F 84 03 BF CB E0 C2 EF 32 B8 F0 BB 04 4E BC 2E 81 13 AF 0B E0 "
    "C6 EF F2 F7 F1 B9 FC 7D BC 2E 7D 27 9F 4B DF CA EB C2 F7 F2 B8 EC CD 7C 2E 7B 37 8F 4B DE CE E3 92 F7 F3 B8 "
    "E0 0D FD 2D 77 4B 7F CB DD D2 DF 62 37 F5 B7 D4 4D BD 2D 74 5B 6F CB DC D7 D7 32 37 F6 B5 C8 8D 7D 2D 71 6B "
    "4F 4B DC DC D3 F2 36 F7 B4 BC DD FD 2C 6F 7B 3F 4B DB E0 CF D2 36 F8 B2 B0 2D BE 2C 6C 8F 1F CB DA E3 C7 A2 "
    "76 F9"
)
ACC_DELTA_0 = h(f"02 {TS_2E9} 80") + VERITY_PAYLOAD
# GyrDataTest type 0: time 0x7FFFFFFFFFFFFFFF; type 1: float bit patterns
GYR_DELTA_0 = h("05 FF FF FF FF FF FF FF 7F 80 EA FF 08 00 0D 00 03 01 DF 00")
GYR_DELTA_1 = h(f"05 {TS_2E9} 81 00 00 80 3F 00 00 20 41 00 00 A0 41 1C 01 00 00 A0 01 00 00 08 CD CC EC 0D")


def _f32(bits: int) -> float:
    return struct.unpack("<f", struct.pack("<I", bits & 0xFFFFFFFF))[0]


def _decoder(**kw) -> PolarPmdDecoder:
    return PolarPmdDecoder(sampling_rates_hz={M.ACC: 52, M.GYRO: 52}, **kw)


def _start_response_with_factor(measurement: int, factor: float) -> bytes:
    return bytes([0xF0, 0x02, measurement, 0x00, 0x00, 0x05, 0x01]) + struct.pack("<f", factor)


class TestPolarPmdConformance(DecoderConformance):
    decoder_class = PolarPmdDecoder
    good_stream = [ACC_RAW_1, GYR_DELTA_0, GYR_DELTA_1, ACC_DELTA_0]
    malformed = [
        ("short", h("02 00 94")),
        ("header without payload", h(f"02 {TS_2E9} 01")),
        ("unknown measurement type", h(f"07 {TS_2E9} 01 00 00 00 00 00 00")),
        ("MAG frame without a sampling rate", h(f"06 {TS_2E9} 80 01 00 02 00 03 00")),
        ("bad length raw ACC", h(f"02 {TS_2E9} 01 F7 FF FF FF E7 03 F8")),
        ("unsupported raw sub-type", h(f"02 {TS_2E9} 05 01 02 03")),
        ("raw GYRO frame", h(f"05 {TS_2E9} 00 01 00 02 00 03 00")),
        ("delta bit width 0 (impossible)", h(f"02 {TS_2E9} 80 01 00 02 00 03 00 00 01")),
        ("delta bit width 40 (impossible)", h(f"02 {TS_2E9} 80 01 00 02 00 03 00 28 01") + bytes(15)),
        ("delta block longer than the frame", h(f"02 {TS_2E9} 80 01 00 02 00 03 00 06 05 7B")),
        ("reference sample cut short", h(f"02 {TS_2E9} 80 01 00 02 00")),
        ("impossible values: NaN gyro", h(f"05 {TS_2E9} 81") + bytes.fromhex("00 00 C0 7F") * 3),
        ("impossible values: 1e6 deg/s", h(f"05 {TS_2E9} 81") + struct.pack("<3f", 1e6, 0, 0)),
        ("time stamp before the samples it ends", h("02 00 00 00 00 00 00 00 00 01 F7 FF FF FF E7 03 F8 FF FE FF E5 03")),
        ("time stamp beyond 2**63 ns", h("02 00 00 00 00 00 00 00 80 01 F7 FF FF FF E7 03")),
    ]
    profiles = [
        (polar_pmd.H10_PROFILE, {}, "Polar H10 1A2B3C4D", ["180d"]),
        (polar_pmd.VERITY_PROFILE, {"gap_ratio": None}, "Polar Sense 1A2B3C4D", ["0000180d-0000-1000-8000-00805f9b34fb"]),
    ]

    def make_decoder(self):
        decoder = _decoder()
        decoder.handle_control_point(_start_response_with_factor(2, 2.44e-4))  # FACTOR for the Verity frame
        return decoder


def test_missing_factor_is_named_in_the_error():
    with pytest.raises(FrameError, match="no FACTOR for ACC"):
        _decoder().decode(ACC_DELTA_0, strict=True)


# -- published vectors ---------------------------------------------------------------------------


def test_acc_raw_type1():
    frame = _decoder().decode(ACC_RAW_1, strict=True)
    # F7 FF = -9, FF FF = -1, E7 03 = 999 | F8 FF = -8, FE FF = -2, E5 03 = 997   (mG)
    np.testing.assert_allclose(frame.acc_m_s2, np.array([[-9, -1, 999], [-8, -2, 997]]) * MG)
    # first frame: last sample at the frame time, earlier ones 1/fs apart
    np.testing.assert_allclose(frame.sensor_time_s, [2.0 - 1 / 52, 2.0], rtol=0, atol=1e-9)
    assert frame.gyr_rad_s is None


def test_acc_delta_type1_with_previous_frame():
    decoder = _decoder()
    decoder.decode(h("02 64 00 00 00 00 00 00 00 81 F1 FF 14 00 F0 03"), strict=True)  # a frame at 100 ns
    frame = decoder.decode(ACC_DELTA_1, strict=True)
    # reference F1 FF = -15, 14 00 = 20, F0 03 = 1008; block width 6, 1 sample: bits of 7B 0F 08, LSB first:
    # 111011 = -5, 111101 = -3, 000000 = 0
    np.testing.assert_allclose(frame.acc_m_s2, np.array([[-15, 20, 1008], [-20, 17, 1008]]) * MG)
    # Δ = (101 − 100)/2 = 0.5 ns → first sample at round(100.5) = 100 (half to even), last at 101
    np.testing.assert_allclose(frame.sensor_time_s * 1e9, [100, 101], atol=1e-6)


def test_acc_delta_type0_verity_with_factor_from_start_response():
    decoder = _decoder(gap_ratio=None)
    response = decoder.handle_control_point(_start_response_with_factor(2, 2.44e-4))
    assert response.ok and decoder.factors_[M.ACC] == pytest.approx(2.44e-4)
    decoder.decode(h("02 64 00 00 00 00 00 00 00 80 71 07 F0 6A 9E 8D"), strict=True)  # previous frame at 100 ns
    frame = decoder.decode(ACC_DELTA_0, strict=True)
    assert frame.n_samples == 1 + 0x38  # reference + 56 deltas
    factor = float(np.float32(2.44e-4))
    # reference: 71 07 = 1905, F0 6A = 27376, 9E 8D = -29282
    # 0A 38: width 10, 56 samples; BE 5C BE BA → 00 1011 1110 = 190, 11 1001 0111 = -105, 11 1010 1011 = -85
    ref = np.array([1905, 27376, -29282])
    second = ref + [190, -105, -85]
    np.testing.assert_allclose(frame.acc_m_s2[:2], np.array([ref, second]) * factor * GRAVITY_M_S2)
    assert np.all(np.abs(frame.acc_m_s2) <= 8 * GRAVITY_M_S2)  # the SDK test checks the ±8 G range
    # SDK time stamps: Δ = (2e9 − 100)/57, first = round(100 + Δ), last = frame time
    delta = (2_000_000_000 - 100) / 57
    assert frame.sensor_time_s[0] * 1e9 == pytest.approx(round(100 + delta), abs=1e-3)
    assert frame.sensor_time_s[-1] == 2.0


def test_lost_frames_show_as_one_gap():
    """Default gap_ratio: a frame spanning far more than n/fs is timed back from its stamp at 1/fs."""
    decoder = _decoder()
    decoder.set_factor(M.ACC, 2.44e-4)
    decoder.decode(h("02 64 00 00 00 00 00 00 00 80 71 07 F0 6A 9E 8D"), strict=True)
    frame = decoder.decode(ACC_DELTA_0, strict=True)
    # 57 samples at 52 Hz span 1.08 s but the frame follows the previous one by 2 s → frames were lost
    expected_ns = 2_000_000_000 - np.rint(np.arange(56, -1, -1) * 1e9 / 52)
    np.testing.assert_allclose(frame.sensor_time_s * 1e9, expected_ns, atol=1e-3)


def test_gyro_delta_type0():
    frame = _decoder().decode(GYR_DELTA_0, strict=True)
    # EA FF = -22, 08 00 = 8, 0D 00 = 13; width 3, 1 sample: DF 00 → 111 = -1, 011 = 3, 011 = 3
    np.testing.assert_allclose(np.rad2deg(frame.gyr_rad_s), [[-22, 8, 13], [-23, 11, 16]])
    assert frame.sensor_time_s[-1] == pytest.approx(0x7FFFFFFFFFFFFFFF / 1e9)


def test_gyro_delta_type1_float_bits():
    frame = _decoder().decode(GYR_DELTA_1, strict=True)
    # reference 0x3F800000 = 1.0, 0x41200000 = 10.0, 0x41A00000 = 20.0; width 0x1C = 28, 1 sample:
    # deltas 0x01A00000, 0x00800000, 0xFDECCCCD (sign bit 27 set) added as 32-bit integers
    second = [_f32(0x3F800000 + 0x01A00000), _f32(0x41200000 + 0x00800000), _f32(0x41A00000 + 0xFDECCCCD)]
    np.testing.assert_allclose(np.rad2deg(frame.gyr_rad_s), [[1.0, 10.0, 20.0], second], rtol=1e-7)
    np.testing.assert_allclose(second, [10.0, 20.0, 1.1], rtol=1e-6)


def test_gyro_delta_type1_with_factor():
    decoder = _decoder()
    decoder.handle_control_point(_start_response_with_factor(5, 0.5))
    frame = decoder.decode(GYR_DELTA_1, strict=True)
    np.testing.assert_allclose(np.rad2deg(frame.gyr_rad_s[0]), [0.5, 5.0, 10.0], rtol=1e-7)


def test_acc_raw_int8_and_int24():
    decoder = _decoder()
    # sub-type 0: int8 (5, -5, 100) mG
    frame = decoder.decode(h(f"02 {TS_2E9} 00 05 FB 64"), strict=True)
    np.testing.assert_allclose(frame.acc_m_s2, [np.array([5, -5, 100]) * MG])
    # sub-type 2: int24 E8 03 00 = 1000, 30 F8 FF = -2000, F4 01 00 = 500 mG
    frame = decoder.decode(h(f"02 {TS_2E9} 02 E8 03 00 30 F8 FF F4 01 00"), strict=True)
    np.testing.assert_allclose(frame.acc_m_s2, [np.array([1000, -2000, 500]) * MG])


def test_mag_delta_type0_in_gauss():
    decoder = PolarPmdDecoder(sampling_rates_hz={M.MAG: 20})
    decoder.set_factor(M.MAG, 0.001)
    # reference 0x0190 = 400, 0xFE70 = -400, 0x0064 = 100 → ×0.001 gauss = 40, -40, 10 µT
    frame = decoder.decode(h(f"06 {TS_2E9} 80 90 01 70 FE 64 00"), strict=True)
    np.testing.assert_allclose(frame.mag_ut, [[40.0, -40.0, 10.0]])


def test_delta_decoder_by_hand():
    # three channels, 16-bit reference (1, -1, 2), then a block of width 2, 2 samples with deltas
    # (1, -1, 0), (-1, 1, 1); 2-bit two's complement 1 = 01, -1 = 11, 0 = 00, each written LSB first:
    # bit stream 1 0 | 1 1 | 0 0 | 1 1 | 1 0 | 1 0 → byte 0 = 0b11001101 = 0xCD, byte 1 = 0b0101 = 0x05
    samples = decode_delta_frames(h("01 00 FF FF 02 00 02 02 CD 05"), channels=3, resolution_bits=16)
    np.testing.assert_array_equal(samples, [[1, -1, 2], [2, -2, 2], [1, -1, 3]])


# -- control point -----------------------------------------------------------------------------


def test_h10_start_command_vector():
    assert polar_pmd.start_command(M.ACC, polar_pmd.H10_ACC_SETTINGS) == h("02 02 00 01 C8 00 01 01 10 00 02 01 08 00")
    assert polar_pmd.stop_command(M.ACC) == h("03 02")
    assert polar_pmd.get_settings_command(M.GYRO) == h("01 05")
    writes = polar_pmd.H10_PROFILE.start_commands()
    assert [w.data for w in writes] == [h("02 02 00 01 C8 00 01 01 10 00 02 01 08 00")]


def test_settings_response_and_choice():
    decoder = _decoder()
    # get settings ACC: rates 25/50/100/200, resolution 16, ranges 2/4/8
    response = decoder.handle_control_point(h("F0 01 02 00 00 00 04 19 00 32 00 64 00 C8 00 01 01 10 00 02 03 02 00 04 00 08 00"))
    assert response.ok and response.op == 1 and response.measurement == 2
    assert response.settings == {S.SAMPLE_RATE: (25, 50, 100, 200), S.RESOLUTION: (16,), S.RANGE: (2, 4, 8)}
    chosen = polar_pmd.choose_settings(response.settings, {S.SAMPLE_RATE: 200, S.RANGE: 8})
    assert polar_pmd.start_command(M.ACC, chosen) == h("02 02 00 01 C8 00 01 01 10 00 02 01 08 00")
    with pytest.raises(ValueError, match="offers"):
        polar_pmd.choose_settings(response.settings, {S.SAMPLE_RATE: 52})


def test_multi_part_response_is_joined():
    decoder = _decoder()
    assert decoder.handle_control_point(h("F0 01 05 00 01 00 01 34 00")) is None
    response = decoder.handle_control_point(h("F0 01 05 00 00 01 01 10 00"))
    assert response.settings == {S.SAMPLE_RATE: (52,), S.RESOLUTION: (16,)}


def test_error_response():
    response = _decoder().handle_control_point(h("F0 02 02 06"))
    assert not response.ok and response.status_text == "already in state"
    with pytest.raises(FrameError, match="F0"):
        _decoder().handle_control_point(h("0F 05"))


def test_stop_response_forgets_time_history():
    decoder = _decoder()
    decoder.decode(ACC_RAW_1, strict=True)
    decoder.handle_control_point(h("F0 03 02 00 00"))
    assert decoder.last_frame_time_ns_ == {}


def test_features():
    assert polar_pmd.parse_features(h("0F 05 00")) == {M.ECG, M.ACC}  # H10
    assert polar_pmd.parse_features(h("0F 6E 00")) == {M.PPG, M.ACC, M.PPI, M.GYRO, M.MAG}


def test_clock_reset_is_counted_not_corrupt():
    decoder = _decoder()
    decoder.decode(ACC_RAW_1, strict=True)
    frame = decoder.decode(ACC_RAW_1, strict=True)  # same time stamp again
    assert frame.n_samples == 2 and decoder.clock_resets_ == 1


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="sampling_rates_hz"):
        PolarPmdDecoder(sampling_rates_hz={})
    with pytest.raises(ValueError, match="ECG"):
        PolarPmdDecoder(sampling_rates_hz={M.ECG: 130})
    with pytest.raises(ValueError, match="FACTOR"):
        polar_pmd.encode_settings({S.FACTOR: 1})


def test_profile_decoder_takes_its_rates_from_the_start_settings():
    measurements = {M.ACC: {S.SAMPLE_RATE: 100, S.RESOLUTION: 16, S.RANGE: 4}}
    decoder = polar_pmd.H10_PROFILE.decoder(measurements=measurements)
    assert decoder.sampling_rates_hz == {M.ACC: 100}
    assert polar_pmd.H10_PROFILE.start_commands(measurements=measurements)[0].data == h("02 02 00 01 64 00 01 01 10 00 02 01 04 00")
    assert [w.data for w in polar_pmd.VERITY_PROFILE.stop_commands()] == [h("03 02"), h("03 05")]
    with pytest.raises(ValueError, match="SAMPLE_RATE"):
        polar_pmd.decoder_for({M.ACC: {S.RANGE: 8}})


@pytest.mark.parametrize("factor", [0.0, -2.44e-4, float("nan")])
def test_a_start_response_with_a_factor_no_sensor_scales_by_is_refused(factor):
    """FACTOR 0 read every compressed sample as 0 m/s², a negative one flipped its sign, both plausible-looking."""
    decoder = _decoder(gap_ratio=None)
    with pytest.raises(FrameError, match="FACTOR"):
        decoder.handle_control_point(_start_response_with_factor(2, factor))
    assert M.ACC not in decoder.factors_
