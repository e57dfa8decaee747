"""Heart Rate Measurement (0x2A37): published vectors.

Vectors: ../shared/ble/PROTOCOLS.md §A.7, from polar-ble-sdk ``BleHrClientTest.kt``
(Bluetooth SIG Heart Rate Service layout).  Expected values worked out from the flags
and little-endian fields by hand.
"""

from __future__ import annotations

import numpy as np
import pytest

from firmware_interface import heart_rate
from firmware_interface.heart_rate import HeartRateDecoder
from test_firmware_conformance import DecoderConformance

h = bytes.fromhex
VECTORS = [h("00 FF"), h("01 80 80"), h("09 00 00 FF FF"), h("11 00 00 FF FF 7F 80"), h("10 3C 9A 01")]


class TestHeartRateConformance(DecoderConformance):
    decoder_class = HeartRateDecoder
    good_stream = VECTORS + [h("16 48 00 04 00 04")]
    malformed = [
        ("empty", b""),
        ("short: u16 heart rate flagged, one byte", h("01 80")),
        ("short: energy flagged but cut", h("09 00 00 FF")),
        ("bad length: odd RR bytes", h("10 3C 9A 01 02")),
        ("bad length: bytes the flags do not announce", h("00 3C 01")),
    ]
    profiles = [(heart_rate.PROFILE, {}, None, ["180d"])]


def _decode(hexstr: str):
    return HeartRateDecoder().decode(h(hexstr), strict=True)


def test_u8_heart_rate():
    frame = _decode("00 FF")  # flags 0 → u8 HR 0xFF
    assert frame.extra["hr_bpm"].tolist() == [255] and frame.extra["rr_s"].size == 0
    assert frame.n_samples == 1 and frame.acc_m_s2 is None


def test_u16_heart_rate():
    assert _decode("01 80 80").extra["hr_bpm"].tolist() == [0x8080]  # 32896


def test_energy_expended():
    frame = _decode("09 00 00 FF FF")  # flags bit0 + bit3: u16 HR 0, energy 0xFFFF kJ
    assert frame.extra["hr_bpm"].tolist() == [0] and frame.extra["energy_kj"].tolist() == [65535]


def test_rr_intervals():
    frame = _decode("11 00 00 FF FF 7F 80")  # u16 HR 0, RR 0xFFFF and 0x807F in 1/1024 s
    np.testing.assert_allclose(frame.extra["rr_s"], [65535 / 1024, 32895 / 1024])
    np.testing.assert_allclose(frame.extra["rr_s"] * 1000, [63999, 32124], atol=1)
    frame = _decode("10 3C 9A 01")  # u8 HR 0x3C = 60, RR 0x019A = 410 / 1024 s
    assert frame.extra["hr_bpm"].tolist() == [60]
    assert frame.extra["rr_s"][0] == pytest.approx(0.4004, abs=1e-4)


def test_contact_bits():
    frame = _decode("16 48 00 04 00 04")  # contact supported and detected, HR 72, RR 1.0 s ×2
    assert frame.extra["contact"].tolist() == [True]
    np.testing.assert_allclose(frame.extra["rr_s"], [1.0, 1.0])
    assert "contact" not in _decode("00 48").extra
