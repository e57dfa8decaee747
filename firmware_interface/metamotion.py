"""MbientLab MetaMotion (MetaWear): accelerometer and gyroscope streaming.

Sources (../shared/ble/PROTOCOLS.md §A.5): ``mbientlab/MetaWear-SDK-Cpp``
``test/test_accelerometer_bmi160.py``, ``test/test_accelerometer_bmi270.py`` (command bytes,
decoded responses) and ``test/test_gyro_bmi160.py`` (gyro module 0x13: config, subscribe,
single and packed data with decoded values); UUIDs from the SDK sources.

All traffic is ``[module id][register][payload]``; commands go to 0x9001, data
comes on 0x9006.  The streaming path carries no time stamp (the SDK stamps on
receipt): use host receive time.

Chips: MetaMotion R/C carry a BMI160, MetaMotion S a BMI270.  They share the
data register 0x04 but differ in the packed register (0x1C vs 0x05), the range
codes and the ODR byte.  Gyroscope registers are verified for the BMI160 only.
"""

from __future__ import annotations

import numpy as np

from analysis.constants import GRAVITY_M_S2
from firmware_interface.base import DecodedFrame, Decoder, DeviceProfile, GattWrite

SERVICE_UUID = "326a9000-85cb-9195-d9dd-464cfbbae75a"
COMMAND_UUID = "326a9001-85cb-9195-d9dd-464cfbbae75a"
NOTIFY_UUID = "326a9006-85cb-9195-d9dd-464cfbbae75a"

MODULE_ACC = 0x03
MODULE_GYRO = 0x13
REG_POWER = 0x01  # start/stop the module
REG_INTERRUPT = 0x02  # enable/disable sampling
REG_CONFIG = 0x03
REG_ACC_DATA = 0x04
REG_GYRO_DATA = 0x05
REG_GYRO_PACKED = 0x07
REG_ACC_PACKED = {"bmi160": 0x1C, "bmi270": 0x05}

# Single-sample notification (8 bytes) and packed notification (20 bytes, 3 samples):
#
#   byte    0        1          2-3  4-5  6-7  | 8-13 | 14-19
#        | module | register | x  | y  | z    | x y z | x y z |    int16, LSB per g / per deg/s by range
SINGLE = np.dtype([("module", "u1"), ("register", "u1"), ("xyz", "<i2", (1, 3))])
PACKED = np.dtype([("module", "u1"), ("register", "u1"), ("xyz", "<i2", (3, 3))])

#: LSB per g for the accelerometer ranges (both chips: 16-bit over ±range).
ACC_LSB_PER_G = {2: 16384.0, 4: 8192.0, 8: 4096.0, 16: 2048.0}
#: Range byte of the accelerometer config, per chip.
ACC_RANGE_CODES = {"bmi160": {2: 0x03, 4: 0x05, 8: 0x08, 16: 0x0C}, "bmi270": {2: 0x00, 4: 0x01, 8: 0x02, 16: 0x03}}
#: ODR byte of the accelerometer config (bandwidth bits included), per chip.
ACC_ODR_CODES = {
    "bmi160": {12.5: 0x25, 25: 0x26, 50: 0x27, 100: 0x28, 200: 0x29, 400: 0x2A, 800: 0x2B, 1600: 0x2C},
    "bmi270": {12.5: 0xA5, 25: 0xA6, 50: 0xA7, 100: 0xA8, 200: 0xA9, 400: 0xAA, 800: 0xAB, 1600: 0xAC},
}
#: Gyroscope (BMI160): LSB per deg/s and range byte.
GYR_LSB_PER_DPS = {125: 262.4, 250: 131.2, 500: 65.6, 1000: 32.8, 2000: 16.4}
GYR_RANGE_CODES = {2000: 0x00, 1000: 0x01, 500: 0x02, 250: 0x03, 125: 0x04}
GYR_ODR_CODES = {25: 0x26, 50: 0x27, 100: 0x28, 200: 0x29, 400: 0x2A, 800: 0x2B, 1600: 0x2C, 3200: 0x2D}


def _check_chip(chip: str) -> None:
    if chip not in REG_ACC_PACKED:
        raise ValueError(f"chip must be 'bmi160' (MetaMotion R/C) or 'bmi270' (MetaMotion S), got {chip!r}")


def _code(table: dict, key, what: str) -> int:
    code = table.get(key)
    if code is None:
        raise ValueError(f"MetaMotion {what} {key!r} is not available; choose one of {sorted(table)}")
    return code


def start_commands(
    *,
    sampling_rate_hz: float,
    acc_range_g: int,
    gyr_range_dps: int | None = None,
    chip: str = "bmi160",
    packed: bool = True,
) -> tuple[GattWrite, ...]:
    """Configure, subscribe, enable and start the accelerometer (and gyroscope).

    The gyroscope runs at the same rate; its codes are those of the BMI160.
    """
    _check_chip(chip)
    acc_config = bytes([MODULE_ACC, REG_CONFIG, _code(ACC_ODR_CODES[chip], sampling_rate_hz, "accelerometer rate (Hz)"),
                        _code(ACC_RANGE_CODES[chip], acc_range_g, "accelerometer range (g)")])
    acc_data = REG_ACC_PACKED[chip] if packed else REG_ACC_DATA
    writes = [
        GattWrite(COMMAND_UUID, acc_config, description="acc config"),
        GattWrite(COMMAND_UUID, bytes([MODULE_ACC, acc_data, 0x01]), description="acc subscribe"),
        GattWrite(COMMAND_UUID, bytes([MODULE_ACC, REG_INTERRUPT, 0x01, 0x00]), description="acc enable sampling"),
    ]
    if gyr_range_dps is not None:
        gyr_config = bytes([MODULE_GYRO, REG_CONFIG, _code(GYR_ODR_CODES, sampling_rate_hz, "gyroscope rate (Hz)"),
                            _code(GYR_RANGE_CODES, gyr_range_dps, "gyroscope range (deg/s)")])
        writes += [
            GattWrite(COMMAND_UUID, gyr_config, description="gyro config"),
            GattWrite(COMMAND_UUID, bytes([MODULE_GYRO, REG_GYRO_PACKED if packed else REG_GYRO_DATA, 0x01]), description="gyro subscribe"),
            GattWrite(COMMAND_UUID, bytes([MODULE_GYRO, REG_INTERRUPT, 0x01, 0x00]), description="gyro enable sampling"),
            GattWrite(COMMAND_UUID, bytes([MODULE_GYRO, REG_POWER, 0x01]), description="gyro start"),
        ]
    writes.append(GattWrite(COMMAND_UUID, bytes([MODULE_ACC, REG_POWER, 0x01]), description="acc start"))
    return tuple(writes)


def stop_commands(
    *,
    sampling_rate_hz: float | None = None,
    acc_range_g: int | None = None,
    gyr_range_dps: int | None = None,
    chip: str = "bmi160",
    packed: bool = True,
) -> tuple[GattWrite, ...]:
    """Stop, disable sampling and unsubscribe (the gyroscope too if ``gyr_range_dps`` is set)."""
    _check_chip(chip)
    gyr = gyr_range_dps is not None
    writes = [
        GattWrite(COMMAND_UUID, bytes([MODULE_ACC, REG_POWER, 0x00]), description="acc stop"),
        GattWrite(COMMAND_UUID, bytes([MODULE_ACC, REG_INTERRUPT, 0x00, 0x01]), description="acc disable sampling"),
        GattWrite(COMMAND_UUID, bytes([MODULE_ACC, REG_ACC_PACKED[chip] if packed else REG_ACC_DATA, 0x00]), description="acc unsubscribe"),
    ]
    if gyr:
        writes += [
            GattWrite(COMMAND_UUID, bytes([MODULE_GYRO, REG_POWER, 0x00]), description="gyro stop"),
            GattWrite(COMMAND_UUID, bytes([MODULE_GYRO, REG_INTERRUPT, 0x00, 0x01]), description="gyro disable sampling"),
            GattWrite(COMMAND_UUID, bytes([MODULE_GYRO, REG_GYRO_PACKED if packed else REG_GYRO_DATA, 0x00]), description="gyro unsubscribe"),
        ]
    return tuple(writes)


class MetaMotionDecoder(Decoder):
    """Decoder for accelerometer (module 0x03) and gyroscope (module 0x13) data notifications.

    Each notification carries one channel: ``acc_m_s2`` or ``gyr_rad_s``.

    Parameters
    ----------
    acc_range_g
        Accelerometer range the device was configured with (2, 4, 8, 16).
    gyr_range_dps
        Gyroscope range (125 … 2000), or None if the gyroscope is not used.
    chip
        ``"bmi160"`` (MetaMotion R/C) or ``"bmi270"`` (MetaMotion S).
    """

    device = "MbientLab MetaMotion"

    def __init__(self, *, acc_range_g: int, gyr_range_dps: int | None = None, chip: str = "bmi160"):
        super().__init__()
        _check_chip(chip)
        _code(ACC_LSB_PER_G, acc_range_g, "accelerometer range (g)")
        if gyr_range_dps is not None:
            _code(GYR_LSB_PER_DPS, gyr_range_dps, "gyroscope range (deg/s)")
        self.acc_range_g = acc_range_g
        self.gyr_range_dps = gyr_range_dps
        self.chip = chip

    def _decode(self, data: bytes) -> DecodedFrame:
        if len(data) < 2:
            raise self.error(f"notification of {len(data)} bytes", "[module][register] + data", data)
        module, register = data[0], data[1]
        acc_regs = {REG_ACC_DATA: SINGLE, REG_ACC_PACKED[self.chip]: PACKED}
        gyr_regs = {REG_GYRO_DATA: SINGLE, REG_GYRO_PACKED: PACKED}
        expected = f"03 {REG_ACC_DATA:02X} / 03 {REG_ACC_PACKED[self.chip]:02X} (acc) or 13 05 / 13 07 (gyro)"
        if module == MODULE_ACC and register in acc_regs:
            dtype = acc_regs[register]
        elif module == MODULE_GYRO and register in gyr_regs:
            if self.gyr_range_dps is None:
                raise self.error("gyroscope data, but no gyr_range_dps was given", "pass gyr_range_dps when the gyroscope is on", data)
            dtype = gyr_regs[register]
        else:
            raise self.error(f"module {module:02X} register {register:02X} is not sensor data", expected, data)
        if len(data) != dtype.itemsize:
            raise self.error(
                f"{module:02X} {register:02X} notification of {len(data)} bytes",
                f"{dtype.itemsize} bytes ({'3 samples' if dtype is PACKED else '1 sample'} of 3 × int16)", data,
            )
        xyz = np.frombuffer(data, dtype=dtype)["xyz"].reshape(-1, 3).astype(np.float64)
        if module == MODULE_ACC:
            return DecodedFrame(self.device, acc_m_s2=xyz / ACC_LSB_PER_G[self.acc_range_g] * GRAVITY_M_S2)
        return DecodedFrame(self.device, gyr_rad_s=np.deg2rad(xyz / GYR_LSB_PER_DPS[self.gyr_range_dps]))


def _profile_decoder(
    *, sampling_rate_hz: float, acc_range_g: int, gyr_range_dps: int | None = None, chip: str = "bmi160", packed: bool = True
) -> "MetaMotionDecoder":
    return MetaMotionDecoder(acc_range_g=acc_range_g, gyr_range_dps=gyr_range_dps, chip=chip)


PROFILE = DeviceProfile(
    key="mbientlab-metamotion",
    name="MbientLab MetaMotion R/C/S (MetaWear)",
    service_uuid=SERVICE_UUID,
    notify_uuids=(NOTIFY_UUID,),
    write_uuid=COMMAND_UUID,
    advertised_names=(r"MetaWear", r"MetaMotion"),
    advertised_uuids=(SERVICE_UUID,),
    timing="host-time",
    time_epoch="",
    build_start=start_commands,
    build_stop=stop_commands,
    build_decoder=_profile_decoder,
    notes="Accelerometer and gyroscope arrive in separate notifications. Gyroscope codes verified for BMI160 only; "
    "acc start (03 01 01) from the SDK's mbl_mw_acc_start, not from its tests.",
)
