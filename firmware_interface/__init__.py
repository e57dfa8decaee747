"""Byte-level protocols of commodity BLE IMU sensors.

One module per device profile, all sharing :mod:`firmware_interface.base`:

=====================  ==========================================================
module                 device
=====================  ==========================================================
``witmotion``          WitMotion WT901BLECL / BWT901BLECL (``55 61`` packets)
``polar_pmd``          Polar H10 and Verity Sense, PMD service (ACC, GYRO, MAG)
``thingy52``           Nordic Thingy:52 motion raw data
``metamotion``         MbientLab MetaMotion (MetaWear) accelerometer, gyroscope
``movesense``          Movesense with the GATT SensorData firmware
``heart_rate``         Bluetooth Heart Rate service (0x180D), RR intervals
``rsc``                Bluetooth Running Speed and Cadence service (0x1814)
``reference``          backstride's open profile for DIY sensors (REFERENCE_PROFILE.md)
=====================  ==========================================================

:mod:`firmware_interface.registry` recognises a device from its advertisement;
:mod:`firmware_interface.counters` turns sample counters and sensor times into
sample indices and gaps.
"""

from firmware_interface.base import DecodedFrame, Decoder, DeviceProfile, FrameError, GattWrite, sig_uuid
from firmware_interface.counters import CounterIndexer, Gap, TimestampIndexer
from firmware_interface.registry import PROFILES, candidates, identify, profile

__all__ = [
    "CounterIndexer",
    "DecodedFrame",
    "Decoder",
    "DeviceProfile",
    "FrameError",
    "Gap",
    "GattWrite",
    "PROFILES",
    "TimestampIndexer",
    "candidates",
    "identify",
    "profile",
    "sig_uuid",
]
