"""backstride reference profile: the examples of REFERENCE_PROFILE.md, encoder round trips, commands.

The byte examples below are those written in firmware_interface/REFERENCE_PROFILE.md
(§2.3 data frame, §3 commands, §4 info); the test checks the document still contains
them, so the specification and the code cannot drift apart silently.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.constants import GRAVITY_M_S2
from firmware_interface import reference as ref
from firmware_interface.base import FrameError
from firmware_interface.counters import CounterIndexer
from firmware_interface.reference import ReferenceDecoder
from test_firmware_conformance import DecoderConformance

h = bytes.fromhex
SPEC = Path(ref.__file__).with_name("REFERENCE_PROFILE.md")
# §2.3: 100 Hz, ±8 g, ±2000 deg/s, counter 1000, time 5 000 000 µs, acc (0, 0, 1 g), gyro (0, 0, 250 deg/s)
SPEC_FRAME_HEX = "B5 01 01 01  E8 03 00 00  40 4B 4C 00  64 00  03 04\n    00 00 00 00 00 10  00 00 00 00 00 10"
SPEC_FRAME = h(" ".join(SPEC_FRAME_HEX.split()))
SPEC_INFO = h("01 00 03 01 01 1E 1F 00 40 06")


def _stream(n=60, *, gyr=True, mag=False, first_counter=0, first_time_us=0, rate=100):
    t = np.arange(n) / rate
    acc = np.column_stack([np.sin(2 * np.pi * 2.9 * t), np.cos(t), GRAVITY_M_S2 + 3 * np.sin(t)])
    g = np.column_stack([np.sin(t), -np.sin(t), 0.5 * np.cos(3 * t)]) if gyr else None
    m = np.column_stack([20 + t, -30 + t, 40 - t]) if mag else None
    return acc, g, m, ref.encode_stream(acc, gyr_rad_s=g, mag_ut=m, first_counter=first_counter, first_time_us=first_time_us,
                                        sampling_rate_hz=rate, acc_range_g=8, gyr_range_dps=2000)


class TestReferenceConformance(DecoderConformance):
    decoder_class = ReferenceDecoder
    good_stream = [SPEC_FRAME] + _stream(40, mag=True)[3]
    malformed = [
        ("short", SPEC_FRAME[:10]),
        ("header without samples (bad length)", SPEC_FRAME[:16]),
        ("wrong marker byte (wrong header)", b"\xb4" + SPEC_FRAME[1:]),
        ("unknown protocol version", SPEC_FRAME[:1] + b"\x02" + SPEC_FRAME[2:]),
        ("reserved flag bits set", SPEC_FRAME[:2] + b"\x81" + SPEC_FRAME[3:]),
        ("n_samples 0", SPEC_FRAME[:3] + b"\x00" + SPEC_FRAME[4:16]),
        ("n_samples does not match the length", SPEC_FRAME[:3] + b"\x02" + SPEC_FRAME[4:]),
        ("impossible rate 0 Hz", SPEC_FRAME[:12] + b"\x00\x00" + SPEC_FRAME[14:]),
        ("impossible range code", SPEC_FRAME[:14] + b"\x09" + SPEC_FRAME[15:]),
    ]
    profiles = [
        (ref.PROFILE, {"sampling_rate_hz": 100, "acc_range_g": 8, "mag": True}, "backstride-3F2A", [ref.SERVICE_UUID]),
    ]


def test_spec_contains_the_examples_tested_here():
    text = SPEC.read_text(encoding="utf-8")
    assert SPEC_FRAME_HEX in text
    for example in ("`03 64 00`", "`04 03 04`", "`05 01`", "`F0 03 02`", "`01 00 03 01 01 1E 1F 00 40 06`"):
        assert example in text
    for uuid in (ref.SERVICE_UUID, ref.CONTROL_POINT_UUID, ref.DATA_UUID, ref.INFO_UUID):
        assert uuid in text


def test_spec_frame_example():
    frame = ReferenceDecoder().decode(SPEC_FRAME, strict=True)
    # acc z raw 0x1000 = 4096 at ±8 g → 4096/32768·8 = 1 g; gyro z 4096 at ±2000 → 250 deg/s
    np.testing.assert_allclose(frame.acc_m_s2, [[0, 0, GRAVITY_M_S2]])
    np.testing.assert_allclose(frame.gyr_rad_s, [[0, 0, np.deg2rad(250)]])
    assert frame.sample_counter.tolist() == [1000] and frame.counter_modulus == 2**32
    assert frame.sensor_time_s.tolist() == [5.0]
    assert frame.mag_ut is None
    encoded = ref.encode_frame([[0, 0, GRAVITY_M_S2]], gyr_rad_s=[[0, 0, np.deg2rad(250)]], first_counter=1000,
                               first_time_us=5_000_000, sampling_rate_hz=100, acc_range_g=8, gyr_range_dps=2000)
    assert encoded == SPEC_FRAME


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 19),
    acc_range_g=st.sampled_from(sorted(ref.ACC_RANGE_CODES)),
    gyr_range_dps=st.sampled_from(sorted(ref.GYR_RANGE_CODES)),
    seed=st.integers(0, 2**16),
)
def test_round_trip_within_one_lsb(n, acc_range_g, gyr_range_dps, seed):
    rng = np.random.default_rng(seed)
    acc = rng.uniform(-1, 1, (n, 3)) * acc_range_g * GRAVITY_M_S2
    gyr = np.deg2rad(rng.uniform(-1, 1, (n, 3)) * gyr_range_dps)
    mag = rng.uniform(-100, 100, (n, 3))
    payload = ref.encode_frame(acc, gyr_rad_s=gyr, mag_ut=mag, first_counter=seed, first_time_us=seed * 7,
                               sampling_rate_hz=200, acc_range_g=acc_range_g, gyr_range_dps=gyr_range_dps)
    frame = ReferenceDecoder().decode(payload, strict=True)
    acc_lsb = acc_range_g * GRAVITY_M_S2 / 32768
    gyr_lsb = np.deg2rad(gyr_range_dps / 32768)
    np.testing.assert_allclose(frame.acc_m_s2, np.clip(acc, -32768 * acc_lsb, 32767 * acc_lsb), atol=acc_lsb / 2 + 1e-12)
    np.testing.assert_allclose(frame.gyr_rad_s, np.clip(gyr, -32768 * gyr_lsb, 32767 * gyr_lsb), atol=gyr_lsb / 2 + 1e-12)
    np.testing.assert_allclose(frame.mag_ut, mag, atol=0.05 + 1e-9)
    assert frame.sample_counter.tolist() == list(range(seed, seed + n))


def test_saturation():
    frame = ReferenceDecoder().decode(ref.encode_frame([[100.0, -100.0, 0]], first_counter=0, first_time_us=0,
                                                        sampling_rate_hz=100, acc_range_g=2), strict=True)
    np.testing.assert_allclose(frame.acc_m_s2[0, :2], [32767 / 16384 * GRAVITY_M_S2, -2 * GRAVITY_M_S2])


def test_stream_counter_and_time_wrap_and_gap_detection():
    acc, gyr, _, frames = _stream(60, first_counter=2**32 - 25, first_time_us=2**32 - 100_000)
    assert len(frames) == 4  # 19 acc+gyro samples per 244-byte notification
    decoder, indexer = ReferenceDecoder(), CounterIndexer(counter_modulus=2**32)
    received = [decoder.decode(f, strict=True) for i, f in enumerate(frames) if i != 1]  # the 2nd notification is lost
    indices = np.concatenate([indexer.update(f.sample_counter) for f in received])
    assert indices.tolist() == list(range(19)) + list(range(38, 60))
    assert indexer.lost_samples_ == 19 and indexer.gaps_[0].start_index == 19
    times = np.concatenate([f.sensor_time_s for f in received])
    assert times.max() < ref.TIME_MODULUS_S and times[-1] < 1.0  # wrapped
    np.testing.assert_allclose(np.concatenate([f.acc_m_s2 for f in received]), np.delete(acc, range(19, 38), axis=0),
                               atol=8 * GRAVITY_M_S2 / 32768)


def test_commands_and_responses():
    assert ref.set_rate_command(100) == h("03 64 00")
    assert ref.set_range_command(acc_range_g=8, gyr_range_dps=2000) == h("04 03 04")
    assert ref.set_channels_command(gyr=True, mag=False) == h("05 01")
    assert ref.start_command() == h("01") and ref.stop_command() == h("02") and ref.get_config_command() == h("06")
    assert ref.parse_command(h("03 64 00")) == ref.Command(ref.Op.SET_RATE, sampling_rate_hz=100)
    assert ref.parse_command(h("04 03 04")) == ref.Command(ref.Op.SET_RANGE, acc_range_code=3, gyr_range_code=4)
    with pytest.raises(FrameError, match="unknown op"):
        ref.parse_command(h("7F"))
    with pytest.raises(FrameError, match="2 parameter bytes"):
        ref.parse_command(h("03 64"))
    response = ref.parse_response(ref.encode_response(ref.Op.SET_RATE, ref.Status.INVALID_PARAMETER))
    assert response == ref.Response(0x03, ref.Status.INVALID_PARAMETER, b"") and not response.ok
    assert ref.encode_response(3, 2) == h("F0 03 02")
    config = ref.encode_config(sampling_rate_hz=100, acc_range_g=8, gyr_range_dps=2000, gyr=True, mag=False, streaming=True)
    assert ref.parse_response(ref.encode_response(ref.Op.GET_CONFIG, 0, config)).params == h("64 00 03 04 01 01")
    with pytest.raises(ValueError, match="10..2000"):
        ref.set_rate_command(5)
    with pytest.raises(ValueError, match="acc_range_g"):
        ref.set_range_command(acc_range_g=3, gyr_range_dps=2000)


def test_info():
    info = ref.decode_info(SPEC_INFO)
    assert info == ref.Info(1, (0, 3, 1), True, False, (2, 4, 8, 16), (125, 250, 500, 1000, 2000), 1600)
    assert ref.encode_info(info) == SPEC_INFO


def test_samples_per_frame():
    assert ref.samples_per_frame(gyr=True, mag=False) == 19
    assert ref.samples_per_frame(gyr=True, mag=True, max_payload_bytes=37) == 1
    with pytest.raises(ValueError, match="MTU"):
        ref.samples_per_frame(gyr=True, mag=True, max_payload_bytes=20)
