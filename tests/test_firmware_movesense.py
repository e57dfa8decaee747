"""Movesense GATT SensorData: synthetic vector, IMU6 layout, split payloads, commands.

Vector and layout: ../shared/ble/PROTOCOLS.md §A.4 (Movesense sample firmware
GATTSensorDataClient.cpp, its Python client, Movesense "GATT SensorData Protocol" docs).
No published hex vector exists; ``02 63 40 E2 01 00`` + 6 float32 is the synthetic one
given there.  Subscribe example ``01 63 2F 4D 65 61 73 2F 41 63 63 2F 35 32`` from the same
section.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest

from firmware_interface import movesense
from firmware_interface.movesense import MovesenseDecoder
from test_firmware_conformance import DecoderConformance

h = bytes.fromhex
RESOURCES = {99: "/Meas/Acc/52", 100: "/Meas/IMU6/104"}
# PROTOCOLS.md §A.4: ref 99 (0x63), time 0x0001E240 = 123456 ms, two vectors
ACC_VALUES = (0.5, -0.25, 9.75, 1.0, 2.0, 9.5)
ACC_FRAME = h("02 63 40 E2 01 00") + struct.pack("<6f", *ACC_VALUES)
# IMU6 at 104 Hz, ref 100 (0x64), time 1000 ms: 2 acc vectors then 2 gyro vectors (deg/s)
IMU6_VALUES = (0.0, 0.0, 9.81, 0.1, 0.2, 9.7, 90.0, 0.0, -45.0, 10.0, 20.0, 30.0)
IMU6_FRAME = h("02 64 E8 03 00 00") + struct.pack("<12f", *IMU6_VALUES)


class TestMovesenseConformance(DecoderConformance):
    decoder_class = MovesenseDecoder
    good_stream = [h("01 63 48 65 6C 6C 6F"), h("01 63 C8 00"), ACC_FRAME, IMU6_FRAME[:20], h("03 64") + IMU6_FRAME[20:]]
    malformed = [
        ("short", h("02")),
        ("short data header", h("02 63 40 E2")),
        ("unknown notification type (wrong header)", h("05 63 40 E2 01 00") + struct.pack("<3f", 0, 0, 9.8)),
        ("data for an unknown client reference", h("02 07 40 E2 01 00") + struct.pack("<3f", 0, 0, 9.8)),
        ("second part without a first", h("03 63") + struct.pack("<3f", 0, 0, 9.8)),
        ("bad length, never completed", h("02 63 40 E2 01 00") + struct.pack("<3f", 0, 0, 9.8)[:7]),
        ("command result of bad length", h("01 63 C8")),
        ("impossible values: NaN", h("02 63 40 E2 01 00") + struct.pack("<3f", float("nan"), 0, 9.8)),
        ("impossible values: 1e6 m/s²", h("02 63 40 E2 01 00") + struct.pack("<3f", 1e6, 0, 9.8)),
    ]
    profiles = [
        (movesense.PROFILE, {"resources": RESOURCES}, "Movesense 204730000081", []),
    ]

    def make_decoder(self):
        return MovesenseDecoder(resources=RESOURCES)


def test_synthetic_acc_vector():
    frame = MovesenseDecoder(resources=RESOURCES).decode(ACC_FRAME, strict=True)
    values = np.array(ACC_VALUES, dtype=np.float32).astype(np.float64).reshape(2, 3)
    np.testing.assert_allclose(frame.acc_m_s2, values)
    # 40 E2 01 00 = 0x0001E240 = 123456 ms: the first sample; the second 1/52 s later
    np.testing.assert_allclose(frame.sensor_time_s, [123.456, 123.456 + 1 / 52])
    assert frame.time_modulus_s == 2**32 / 1000


def test_imu6_acc_block_then_gyro_block():
    frame = MovesenseDecoder(resources=RESOURCES).decode(IMU6_FRAME, strict=True)
    values = np.array(IMU6_VALUES, dtype=np.float32).astype(np.float64)
    np.testing.assert_allclose(frame.acc_m_s2, values[:6].reshape(2, 3))
    np.testing.assert_allclose(frame.gyr_rad_s, np.deg2rad(values[6:].reshape(2, 3)))
    np.testing.assert_allclose(frame.sensor_time_s, [1.0, 1.0 + 1 / 104])


def test_split_payload_is_joined():
    decoder = MovesenseDecoder(resources=RESOURCES)
    assert decoder.decode(IMU6_FRAME[:20], strict=True).n_samples == 0
    frame = decoder.decode(h("03 64") + IMU6_FRAME[20:], strict=True)
    assert frame.n_samples == 2


def test_command_results():
    decoder = MovesenseDecoder(resources=RESOURCES)
    decoder.decode(h("01 63 FB 01"))  # PROTOCOLS.md: 507 as FB 01
    assert decoder.command_results_[99] == 507
    decoder.decode(h("01 64 01 FB"))  # firmware source writes 0x01, 0xFB
    assert decoder.command_results_[100] == 507
    decoder.decode(h("01 63 C8 00"))
    assert decoder.command_results_[99] == 200
    decoder.decode(h("01 63 48 65 6C 6C 6F"))
    assert decoder.hello_


def test_commands():
    assert movesense.subscribe_command(99, "/Meas/Acc/52") == h("01 63 2F 4D 65 61 73 2F 41 63 63 2F 35 32")
    assert movesense.unsubscribe_command(99) == h("02 63")
    assert movesense.hello_command(1) == h("00 01")
    with pytest.raises(ValueError, match="1..255"):
        movesense.subscribe_command(0, "/Meas/Acc/52")
    with pytest.raises(ValueError, match="Hz in"):
        MovesenseDecoder(resources={1: "/Meas/Acc/50"})
    with pytest.raises(ValueError, match="resources"):
        MovesenseDecoder(resources={})


def test_rates_its_millisecond_time_stamps_cannot_index_are_refused():
    """At 833 Hz a 1-ms frame time cannot tell the next frame from one after a lost sample (198 of 4000 samples
    dropped as repeats); the decoder still reads such logs, the recorder does not ask for them."""
    assert movesense.start_commands(resources={99: "/Meas/IMU6/416"})
    for rate in (833, 1666):
        with pytest.raises(ValueError, match="416 Hz or below"):
            movesense.start_commands(resources={99: f"/Meas/IMU6/{rate}"})
        MovesenseDecoder(resources={99: f"/Meas/IMU6/{rate}"})
