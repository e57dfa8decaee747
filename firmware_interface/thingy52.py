"""Nordic Thingy:52, Motion service, raw data characteristic.

Sources (../shared/ble/PROTOCOLS.md §A.3): ``NordicSemiconductor/Nordic-Thingy52-FW``
``include/ble_services/ble_tms.h`` (UUIDs, structs, config), ``source/modules/m_motion.c``
(Q-format conversion: each value is a 16Q16 number shifted right by 6, 11 and 12 bits);
Nordic's JS library ``Nordic-Thingy52-Thingyjs`` (``_motionRawNotifyHandler``).

Scaling: the firmware shift gives acc Q6.10 (g = raw/1024), gyro Q11.5
(deg/s = raw/32) and compass Q12.4 (µT = raw/16).  Thingy.js divides by 64, 2048
and 4096 instead; the firmware derivation is the one used here, but check one
device lying still (|acc| ≈ 1 g) — the constructor takes the three divisors.

Streaming starts when notifications on 0x0406 are enabled; its rate is
``motion_freq_hz`` in the configuration characteristic 0x0401 (read, change
bytes 6–7, write back).  No counter or time stamp: use host receive time.
"""

from __future__ import annotations

import numpy as np

from analysis.constants import GRAVITY_M_S2
from firmware_interface.base import DecodedFrame, Decoder, DeviceProfile, GattWrite


def thingy_uuid(short: int) -> str:
    """UUID in the Thingy base ``EF68xxxx-9B35-4933-9B10-52FFA9740042``."""
    return f"ef68{short:04x}-9b35-4933-9b10-52ffa9740042"


CONFIGURATION_SERVICE_UUID = thingy_uuid(0x0100)  # advertised by the Thingy firmware
MOTION_SERVICE_UUID = thingy_uuid(0x0400)
MOTION_CONFIG_UUID = thingy_uuid(0x0401)
RAW_DATA_UUID = thingy_uuid(0x0406)

# Raw data notification, 18 bytes, little-endian:
#
#   byte   0-1  2-3  4-5 | 6-7  8-9  10-11 | 12-13 14-15 16-17
#        | ax | ay | az  | gx | gy  | gz   | mx  | my  | mz  |     int16 each
#   acc Q6.10 g (raw/1024) | gyro Q11.5 deg/s (raw/32) | compass Q12.4 µT (raw/16)
RAW_FRAME = np.dtype([("acc", "<i2", (3,)), ("gyr", "<i2", (3,)), ("mag", "<i2", (3,))])

# Motion configuration characteristic 0x0401, 9 bytes, little-endian:
#
#   byte   0-1               2-3               4-5                  6-7             8
#        | pedo_interval_ms | temp_interval_ms | compass_interval_ms | motion_freq_hz | wake_on_motion |
MOTION_CONFIG = np.dtype(
    [
        ("pedo_interval_ms", "<u2"),
        ("temp_interval_ms", "<u2"),
        ("compass_interval_ms", "<u2"),
        ("motion_freq_hz", "<u2"),
        ("wake_on_motion", "u1"),
    ]
)
MIN_MOTION_FREQ_HZ = 1
MAX_MOTION_FREQ_HZ = 200


def with_motion_rate(config: bytes, sampling_rate_hz: int) -> bytes:
    """The 9-byte configuration read from 0x0401 with ``motion_freq_hz`` replaced."""
    config = bytes(config)
    if len(config) != MOTION_CONFIG.itemsize:
        raise ValueError(
            f"Thingy:52 motion configuration must be the {MOTION_CONFIG.itemsize} bytes read from {MOTION_CONFIG_UUID}, "
            f"got {len(config)} bytes"
        )
    if not isinstance(sampling_rate_hz, (int, np.integer)) or not MIN_MOTION_FREQ_HZ <= sampling_rate_hz <= MAX_MOTION_FREQ_HZ:
        raise ValueError(
            f"Thingy:52 motion rate must be a whole number of Hz in {MIN_MOTION_FREQ_HZ}..{MAX_MOTION_FREQ_HZ}, got {sampling_rate_hz!r}"
        )
    record = np.frombuffer(config, dtype=MOTION_CONFIG).copy()
    record["motion_freq_hz"] = sampling_rate_hz
    return record.tobytes()


def start_commands(*, sampling_rate_hz: int, current_config: bytes) -> tuple[GattWrite, ...]:
    """Write the motion rate (read-modify-write of 0x0401); notifications on 0x0406 start the stream."""
    return (
        GattWrite(MOTION_CONFIG_UUID, with_motion_rate(current_config, sampling_rate_hz), description=f"motion rate {sampling_rate_hz} Hz"),
    )


def stop_commands(*, sampling_rate_hz: int | None = None, current_config: bytes | None = None) -> tuple[GattWrite, ...]:
    """Disabling notifications stops the stream."""
    return ()


class Thingy52Decoder(Decoder):
    """Decoder for the 18-byte raw motion notification.

    Parameters
    ----------
    acc_lsb_per_g, gyr_lsb_per_dps, mag_lsb_per_ut
        Divisors of the raw values; the defaults follow the firmware shifts
        (see module notes).
    """

    device = "Nordic Thingy:52"

    def __init__(self, *, acc_lsb_per_g: float = 1024.0, gyr_lsb_per_dps: float = 32.0, mag_lsb_per_ut: float = 16.0):
        super().__init__()
        for name, value in (("acc_lsb_per_g", acc_lsb_per_g), ("gyr_lsb_per_dps", gyr_lsb_per_dps), ("mag_lsb_per_ut", mag_lsb_per_ut)):
            if not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        self.acc_lsb_per_g = acc_lsb_per_g
        self.gyr_lsb_per_dps = gyr_lsb_per_dps
        self.mag_lsb_per_ut = mag_lsb_per_ut

    def _decode(self, data: bytes) -> DecodedFrame:
        if len(data) != RAW_FRAME.itemsize:
            raise self.error(f"raw motion notification of {len(data)} bytes", f"{RAW_FRAME.itemsize} bytes (9 × int16)", data)
        frame = np.frombuffer(data, dtype=RAW_FRAME)
        return DecodedFrame(
            self.device,
            acc_m_s2=frame["acc"] / self.acc_lsb_per_g * GRAVITY_M_S2,
            gyr_rad_s=np.deg2rad(frame["gyr"] / self.gyr_lsb_per_dps),
            mag_ut=frame["mag"] / self.mag_lsb_per_ut,
        )


def _profile_decoder(*, sampling_rate_hz: int, current_config: bytes) -> "Thingy52Decoder":
    """Decoder with the firmware scaling (construct Thingy52Decoder directly for another)."""
    return Thingy52Decoder()


PROFILE = DeviceProfile(
    key="nordic-thingy52",
    name="Nordic Thingy:52 (Motion service, raw data)",
    service_uuid=MOTION_SERVICE_UUID,
    notify_uuids=(RAW_DATA_UUID,),
    write_uuid=MOTION_CONFIG_UUID,
    advertised_names=(r"Thingy",),
    advertised_uuids=(CONFIGURATION_SERVICE_UUID, MOTION_SERVICE_UUID),
    timing="host-time",
    time_epoch="",
    build_start=start_commands,
    build_stop=stop_commands,
    build_decoder=_profile_decoder,
    notes="Scaling from the firmware's Q-format shifts; Thingy.js disagrees by 2^4/2^6/2^8 — check one device at rest.",
)
