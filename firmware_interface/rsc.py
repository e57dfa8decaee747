"""Bluetooth SIG Running Speed and Cadence service (0x1814), RSC Measurement (0x2A53).

Sources (../shared/ble/PROTOCOLS.md §A.6): Bluetooth SIG RSCS specification;
polar-ble-sdk ``BleRscClientTest.kt`` (vectors).

Enable notifications on 0x2A53 (about 1 Hz); no start command.  Whether
"cadence" counts steps or strides depends on the device — check one.

RSC Measurement::

    byte  0       1-2                 3                  next 2 (opt.)        next 4 (opt.)
        | flags | speed u16, 1/256 m/s | cadence u8, 1/min | stride u16, 1/100 m | total distance u32, 1/10 m |

    flags: bit0 stride length present · bit1 total distance present ·
           bit2 0 = walking, 1 = running · bits3-7 reserved

Decoded values (``DecodedFrame.extra``): ``speed_m_s``, ``cadence_per_min``,
``running`` (bool), and when present ``stride_length_m``, ``total_distance_m``;
each of shape (1,).
"""

from __future__ import annotations

import numpy as np

from firmware_interface.base import DecodedFrame, Decoder, DeviceProfile, sig_uuid, no_commands

SERVICE_UUID = sig_uuid(0x1814)
MEASUREMENT_UUID = sig_uuid(0x2A53)
FEATURE_UUID = sig_uuid(0x2A54)
SENSOR_LOCATION_UUID = sig_uuid(0x2A5D)
CONTROL_POINT_UUID = sig_uuid(0x2A55)

FLAG_STRIDE = 0x01
FLAG_DISTANCE = 0x02
FLAG_RUNNING = 0x04


def measurement_dtype(flags: int) -> np.dtype:
    """Layout of an RSC Measurement with the given flags."""
    fields = [("flags", "u1"), ("speed", "<u2"), ("cadence", "u1")]
    if flags & FLAG_STRIDE:
        fields.append(("stride", "<u2"))
    if flags & FLAG_DISTANCE:
        fields.append(("distance", "<u4"))
    return np.dtype(fields)


class RscDecoder(Decoder):
    """Decoder for RSC Measurement notifications."""

    device = "Running Speed and Cadence (0x1814)"

    def _decode(self, data: bytes) -> DecodedFrame:
        if not data:
            raise self.error("empty notification", "flags, speed, cadence", data)
        flags = data[0]
        layout = measurement_dtype(flags)
        if len(data) != layout.itemsize:
            raise self.error(
                f"{len(data)} bytes with flags {flags:#04x}",
                f"{layout.itemsize} bytes ({', '.join(layout.names)})",
                data,
            )
        record = np.frombuffer(data, dtype=layout, count=1)
        extra = {
            "speed_m_s": record["speed"] / 256.0,
            "cadence_per_min": record["cadence"].astype(np.float64),
            "running": np.array([bool(flags & FLAG_RUNNING)]),
        }
        if flags & FLAG_STRIDE:
            extra["stride_length_m"] = record["stride"] / 100.0
        if flags & FLAG_DISTANCE:
            extra["total_distance_m"] = record["distance"] / 10.0
        return DecodedFrame(self.device, extra=extra, n_samples=1)


PROFILE = DeviceProfile(
    key="running-speed-cadence",
    name="Bluetooth Running Speed and Cadence service",
    service_uuid=SERVICE_UUID,
    notify_uuids=(MEASUREMENT_UUID,),
    write_uuid=None,
    advertised_names=(),
    advertised_uuids=(SERVICE_UUID,),
    timing="host-time",
    time_epoch="",
    build_start=no_commands,  # notifications start on subscription
    build_stop=no_commands,
    build_decoder=RscDecoder,
    generic=True,
    notes="Cadence may count steps or strides depending on the device.",
)
