"""Bluetooth SIG Heart Rate service (0x180D), Heart Rate Measurement (0x2A37).

Sources (../shared/ble/PROTOCOLS.md §A.7): Bluetooth SIG Heart Rate Service
specification; polar-ble-sdk ``BleHrClientTest.kt`` (vectors); bleakheart ``core.py``.

Enable notifications on 0x2A37; there is no start command.  Polar sensors send
about one notification per second carrying the RR intervals since the last one.

Heart Rate Measurement::

    byte  0       1 (…2)              next 2 (opt.)           rest (opt.)
        | flags | HR u8, or u16 if   | energy expended u16 kJ | RR intervals u16 × k, 1/1024 s |
        |       | flags bit0         | if flags bit3           | if flags bit4                  |

    flags: bit0 HR is u16 · bit1 contact detected · bit2 contact supported ·
           bit3 energy present · bit4 RR intervals present · bits5-7 reserved

Decoded values (``DecodedFrame.extra``): ``hr_bpm`` (1,), ``rr_s`` (k,),
``energy_kj`` (1,) if present, ``contact`` (1,) if the sensor supports contact
detection.  ``n_samples`` is 1 (one measurement).
"""

from __future__ import annotations

import numpy as np

from firmware_interface.base import DecodedFrame, Decoder, DeviceProfile, sig_uuid, no_commands

SERVICE_UUID = sig_uuid(0x180D)
MEASUREMENT_UUID = sig_uuid(0x2A37)
BODY_SENSOR_LOCATION_UUID = sig_uuid(0x2A38)
CONTROL_POINT_UUID = sig_uuid(0x2A39)

FLAG_HR_U16 = 0x01
FLAG_CONTACT_DETECTED = 0x02
FLAG_CONTACT_SUPPORTED = 0x04
FLAG_ENERGY = 0x08
FLAG_RR = 0x10
RR_UNITS_PER_S = 1024.0


def measurement_dtype(flags: int) -> np.dtype:
    """Fixed part of the measurement for the given flags (RR intervals follow as ``<u2``)."""
    fields = [("flags", "u1"), ("hr_bpm", "<u2" if flags & FLAG_HR_U16 else "u1")]
    if flags & FLAG_ENERGY:
        fields.append(("energy_kj", "<u2"))
    return np.dtype(fields)


RR_DTYPE = np.dtype("<u2")


class HeartRateDecoder(Decoder):
    """Decoder for Heart Rate Measurement notifications."""

    device = "Heart Rate (0x180D)"

    def _decode(self, data: bytes) -> DecodedFrame:
        if not data:
            raise self.error("empty notification", "flags and a heart rate", data)
        flags = data[0]
        head = measurement_dtype(flags)
        if len(data) < head.itemsize:
            raise self.error(
                f"{len(data)} bytes with flags {flags:#04x}",
                f"at least {head.itemsize} bytes (flags, HR as {'u16' if flags & FLAG_HR_U16 else 'u8'}"
                f"{', energy u16' if flags & FLAG_ENERGY else ''})",
                data,
            )
        rest = len(data) - head.itemsize
        if not flags & FLAG_RR and rest:
            raise self.error(f"{rest} bytes after the fields the flags announce (flags {flags:#04x})", f"{head.itemsize} bytes", data)
        if flags & FLAG_RR and rest % RR_DTYPE.itemsize:
            raise self.error(f"RR interval bytes: {rest}", "an even number (u16 per interval)", data)
        record = np.frombuffer(data, dtype=head, count=1)
        rr = np.frombuffer(data, dtype=RR_DTYPE, offset=head.itemsize) if flags & FLAG_RR else np.zeros(0, RR_DTYPE)
        extra = {"hr_bpm": record["hr_bpm"].astype(np.float64), "rr_s": rr.astype(np.float64) / RR_UNITS_PER_S}
        if flags & FLAG_ENERGY:
            extra["energy_kj"] = record["energy_kj"].astype(np.float64)
        if flags & FLAG_CONTACT_SUPPORTED:
            extra["contact"] = np.array([bool(flags & FLAG_CONTACT_DETECTED)])
        return DecodedFrame(self.device, extra=extra, n_samples=1)


PROFILE = DeviceProfile(
    key="heart-rate",
    name="Bluetooth Heart Rate service",
    service_uuid=SERVICE_UUID,
    notify_uuids=(MEASUREMENT_UUID,),
    write_uuid=None,
    advertised_names=(),
    advertised_uuids=(SERVICE_UUID,),
    timing="host-time",
    time_epoch="",
    build_start=no_commands,  # notifications start on subscription
    build_stop=no_commands,
    build_decoder=HeartRateDecoder,
    generic=True,
)
