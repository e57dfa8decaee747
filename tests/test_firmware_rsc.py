"""RSC Measurement (0x2A53): published vectors.

Vectors: ../shared/ble/PROTOCOLS.md §A.6, from polar-ble-sdk ``BleRscClientTest.kt``
(Bluetooth SIG Running Speed and Cadence Service layout).  Expected values worked out
from the little-endian fields by hand.
"""

from __future__ import annotations

import pytest

from firmware_interface import rsc
from firmware_interface.rsc import RscDecoder
from test_firmware_conformance import DecoderConformance

h = bytes.fromhex
FULL = h("07 34 12 56 89 07 04 03 02 01")
MINIMAL = h("00 0A 00 14")


class TestRscConformance(DecoderConformance):
    decoder_class = RscDecoder
    good_stream = [FULL, MINIMAL]
    malformed = [
        ("empty", b""),
        ("short", h("00 0A 00")),
        ("short: stride flagged but missing", h("01 0A 00 14")),
        ("bad length: extra byte", h("00 0A 00 14 FF")),
    ]
    profiles = [(rsc.PROFILE, {}, None, ["1814"])]


def test_all_fields():
    extra = RscDecoder().decode(FULL, strict=True).extra
    # speed 0x1234 = 4660 / 256 m/s; cadence 0x56 = 86; stride 0x0789 = 1929 cm; distance 0x01020304 dm
    assert extra["speed_m_s"][0] == pytest.approx(4660 / 256) == pytest.approx(18.20, abs=5e-3)
    assert extra["cadence_per_min"][0] == 86
    assert extra["stride_length_m"][0] == pytest.approx(19.29)
    assert extra["total_distance_m"][0] == pytest.approx(16_909_060 / 10)
    assert extra["running"][0]


def test_minimal_walking():
    extra = RscDecoder().decode(MINIMAL, strict=True).extra
    assert extra["speed_m_s"][0] == pytest.approx(10 / 256) and extra["cadence_per_min"][0] == 20
    assert not extra["running"][0]
    assert "stride_length_m" not in extra and "total_distance_m" not in extra
