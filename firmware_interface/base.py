"""The interface every sensor protocol shares.

Each device profile (one module per device) provides

* a :class:`DeviceProfile`: GATT service and characteristic UUIDs, which
  characteristics to subscribe to, the command bytes that start and stop
  streaming (:class:`GattWrite`), names and UUIDs seen in advertisements, and a
  factory for its decoder;
* a :class:`Decoder` subclass whose :meth:`Decoder.decode` turns one BLE
  notification into a :class:`DecodedFrame`: samples in SI units (m/s², rad/s,
  µT, see :mod:`analysis.constants`), the device's sample counter and sensor
  time stamps where it has them, and the number of corrupt frames met.

A notification that cannot be decoded never stops the stream: by default it is
counted as corrupt (``DecodedFrame.n_corrupt``, ``Decoder.n_corrupt_``) and
carries a :class:`FrameError` that names the device and what was expected; with
``strict=True`` that error is raised instead.  Decoders never emit samples from a
frame they could not fully decode, and drop a whole frame whose values are
non-finite or beyond anything a body-worn sensor measures.

Decoders that need state (resynchronisation buffers, delta-frame history,
previous time stamps) keep it in the decoder object; :meth:`Decoder.reset`
clears it (call it after a reconnect).
"""

from __future__ import annotations

import abc
import re
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Iterable, Mapping

import numpy as np

from analysis.constants import MAX_ABS_ACC_M_S2, MAX_ABS_GYR_RAD_S

#: Tail of the Bluetooth SIG base UUID ``0000xxxx-0000-1000-8000-00805f9b34fb``.
SIG_BASE_UUID_TAIL = "-0000-1000-8000-00805f9b34fb"
#: Same limit :mod:`sensing.recording` applies to magnetometer columns.
MAX_ABS_MAG_UT = 5000.0

_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def sig_uuid(short_uuid: int) -> str:
    """Full 128-bit UUID string of a 16-bit Bluetooth SIG UUID (``0x180D`` → ``0000180d-…``)."""
    if not isinstance(short_uuid, int) or not 0 <= short_uuid <= 0xFFFF:
        raise ValueError(f"16-bit UUID must be an int in 0..0xFFFF, got {short_uuid!r}")
    return f"{short_uuid:08x}{SIG_BASE_UUID_TAIL}"


def normalise_uuid(uuid: str) -> str:
    """Lower-case 128-bit form of a UUID string; 4-hex-digit SIG short forms are expanded."""
    if not isinstance(uuid, str):
        raise TypeError(f"UUID must be a str, got {type(uuid).__name__}")
    text = uuid.strip().lower()
    if re.fullmatch(r"(0x)?[0-9a-f]{4}", text):
        return sig_uuid(int(text[-4:], 16))
    if not _UUID_RE.match(text):
        raise ValueError(f"not a UUID: {uuid!r} (expected 8-4-4-4-12 hex digits, or a 16-bit SIG UUID such as '180d')")
    return text


class FrameError(ValueError):
    """A notification that is not what the device protocol says it must be.

    The message names the device, what was found, what was expected, and the
    start of the offending bytes in hex.
    """

    def __init__(self, device: str, problem: str, expected: str, payload: bytes = b""):
        self.device = device
        self.problem = problem
        self.expected = expected
        self.payload = bytes(payload)
        shown = self.payload[:32].hex(" ")
        more = " …" if len(self.payload) > 32 else ""
        super().__init__(f"{device}: {problem} (expected {expected}); bytes [{len(self.payload)}]: {shown}{more}")


def as_payload(payload: Any, device: str) -> bytes:
    """The notification as ``bytes``; ``TypeError`` for anything that is not bytes-like."""
    if isinstance(payload, (bytes, bytearray, memoryview)):
        return bytes(payload)
    raise TypeError(
        f"{device}: decode() takes the notification's bytes (bytes, bytearray or memoryview), "
        f"got {type(payload).__name__}; pass the value bleak hands to the notification callback"
    )


def _as_xyz(values: np.ndarray | None, name: str) -> np.ndarray | None:
    if values is None:
        return None
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise ValueError(f"{name} must have shape (n, 3), got {arr.shape}")
    return arr


@dataclass(frozen=True)
class DecodedFrame:
    """What one notification held, in SI units.

    Attributes
    ----------
    device
        Name of the device profile that decoded it.
    acc_m_s2, gyr_rad_s, mag_ut
        Arrays of shape (n, 3) in the sensor frame (m/s², rad/s, µT), or None
        when the notification does not carry that channel.  All present
        channels share the same n rows (the same sampling instants).
    sample_counter
        Device sample counter of each row, shape (n,), int64, as sent (it wraps
        at ``counter_modulus``); None if the device has no counter.
    sensor_time_s
        Time of each row on the sensor's own clock, shape (n,), float64
        seconds since the device's epoch (see the profile's ``time_epoch``);
        wraps at ``time_modulus_s`` if that is set; None without sensor time.
    extra
        Other decoded values (heart rate, RR intervals, angles …); each name ends
        in its unit.  Arrays here may have their own length (RR intervals).
    n_samples
        Rows (time points) in this frame; for profiles without IMU rows (heart
        rate, running speed) the number of measurements.
    n_corrupt
        Corrupt frames (or runs of garbage bytes) met while decoding this
        notification; their errors are in ``errors``.
    """

    device: str
    acc_m_s2: np.ndarray | None = None
    gyr_rad_s: np.ndarray | None = None
    mag_ut: np.ndarray | None = None
    sample_counter: np.ndarray | None = None
    counter_modulus: int | None = None
    sensor_time_s: np.ndarray | None = None
    time_modulus_s: float | None = None
    extra: Mapping[str, np.ndarray] = field(default_factory=dict)
    n_samples: int = -1
    n_corrupt: int = 0
    errors: tuple[FrameError, ...] = ()

    def __post_init__(self) -> None:
        rows = set()
        for name in ("acc_m_s2", "gyr_rad_s", "mag_ut"):
            arr = _as_xyz(getattr(self, name), name)
            object.__setattr__(self, name, arr)
            if arr is not None:
                rows.add(arr.shape[0])
        if len(rows) > 1:
            raise ValueError(f"acc/gyr/mag rows differ: {sorted(rows)}")
        n = rows.pop() if rows else None
        if self.n_samples < 0:
            object.__setattr__(self, "n_samples", n if n is not None else 0)
        elif n is not None and n != self.n_samples:
            raise ValueError(f"n_samples={self.n_samples} but channels have {n} rows")
        if self.sample_counter is not None:
            counter = np.asarray(self.sample_counter, dtype=np.int64)
            if counter.shape != (self.n_samples,):
                raise ValueError(f"sample_counter must have shape ({self.n_samples},), got {counter.shape}")
            object.__setattr__(self, "sample_counter", counter)
        if self.sensor_time_s is not None:
            times = np.asarray(self.sensor_time_s, dtype=np.float64)
            if times.shape != (self.n_samples,):
                raise ValueError(f"sensor_time_s must have shape ({self.n_samples},), got {times.shape}")
            object.__setattr__(self, "sensor_time_s", times)
        object.__setattr__(self, "extra", {k: np.asarray(v) for k, v in self.extra.items()})
        object.__setattr__(self, "errors", tuple(self.errors))

    @property
    def channels(self) -> tuple[str, ...]:
        """Names of the IMU channels present: a subset of ``("acc", "gyr", "mag")``."""
        return tuple(
            kind for kind, arr in (("acc", self.acc_m_s2), ("gyr", self.gyr_rad_s), ("mag", self.mag_ut)) if arr is not None
        )

    @classmethod
    def concat(cls, frames: Iterable["DecodedFrame"]) -> "DecodedFrame":
        """Join frames of one device and one channel set, in order.

        Frames without samples only contribute their corrupt count and errors.
        ``extra`` arrays are concatenated key by key.
        """
        frames = list(frames)
        if not frames:
            raise ValueError("concat() needs at least one frame")
        devices = {f.device for f in frames}
        if len(devices) != 1:
            raise ValueError(f"cannot join frames of different devices {sorted(devices)}")
        with_rows = [f for f in frames if f.n_samples > 0]
        n_corrupt = sum(f.n_corrupt for f in frames)
        errors = tuple(e for f in frames for e in f.errors)
        if not with_rows:
            return cls(frames[0].device, n_corrupt=n_corrupt, errors=errors, n_samples=0)
        first = with_rows[0]
        for f in with_rows[1:]:
            if f.channels != first.channels or (f.sample_counter is None) != (first.sample_counter is None) or (
                f.sensor_time_s is None
            ) != (first.sensor_time_s is None):
                raise ValueError(f"cannot join frames with channels {first.channels} and {f.channels}")

        def cat(name: str):
            parts = [getattr(f, name) for f in with_rows]
            return None if parts[0] is None else np.concatenate(parts)

        keys = {k for f in with_rows for k in f.extra}
        extra = {k: np.concatenate([f.extra[k] for f in with_rows if k in f.extra]) for k in sorted(keys)}
        return cls(
            first.device,
            acc_m_s2=cat("acc_m_s2"),
            gyr_rad_s=cat("gyr_rad_s"),
            mag_ut=cat("mag_ut"),
            sample_counter=cat("sample_counter"),
            counter_modulus=first.counter_modulus,
            sensor_time_s=cat("sensor_time_s"),
            time_modulus_s=first.time_modulus_s,
            extra=extra,
            n_samples=sum(f.n_samples for f in with_rows),
            n_corrupt=n_corrupt,
            errors=errors,
        )


def implausible(frame: DecodedFrame) -> str | None:
    """Why a frame's samples cannot be real (non-finite, or beyond the recording limits), or None."""
    limits = (
        ("acc_m_s2", MAX_ABS_ACC_M_S2, "m/s²"),
        ("gyr_rad_s", MAX_ABS_GYR_RAD_S, "rad/s"),
        ("mag_ut", MAX_ABS_MAG_UT, "µT"),
    )
    for name, limit, unit in limits:
        arr = getattr(frame, name)
        if arr is None or arr.size == 0:
            continue
        if not np.all(np.isfinite(arr)):
            return f"{name[:3]} holds non-finite values"
        peak = float(np.max(np.abs(arr)))
        if peak > limit:
            return f"{name[:3]} value {peak:.4g} {unit} is beyond anything a body-worn sensor measures (limit {limit:g} {unit})"
    if frame.sensor_time_s is not None and not np.all(np.isfinite(frame.sensor_time_s)):
        return "sensor time stamps are not finite"
    return None


class Decoder(abc.ABC):
    """Turns the notifications of one device into :class:`DecodedFrame` objects.

    Subclasses implement :meth:`_decode` (and :meth:`_reset_state` and
    :meth:`_flush` if they keep state).  Running totals, updated by every call:

    Attributes
    ----------
    n_notifications_
        Notifications passed to :meth:`decode`.
    n_samples_
        Rows emitted so far.
    n_corrupt_
        Corrupt frames (or garbage runs) met so far.
    """

    #: Device name used in messages and in ``DecodedFrame.device``.
    device: ClassVar[str] = "?"

    def __init__(self) -> None:
        self.n_notifications_ = 0
        self.n_samples_ = 0
        self.n_corrupt_ = 0

    # -- public ---------------------------------------------------------------
    def decode(self, payload: bytes, *, strict: bool = False) -> DecodedFrame:
        """Decode one notification.

        Parameters
        ----------
        payload
            The characteristic value as received (bytes-like).
        strict
            Raise the first :class:`FrameError` met instead of counting it.

        Returns
        -------
        DecodedFrame
            Samples in SI units; ``n_corrupt`` > 0 if something had to be skipped.
        """
        data = as_payload(payload, self.device)
        self.n_notifications_ += 1
        try:
            frame = self._decode(data)
        except FrameError as err:
            frame = self.empty(errors=(err,))
        return self._finish(frame, data, strict)

    def flush(self, *, strict: bool = False) -> DecodedFrame:
        """End of stream: decode or discard whatever is still buffered."""
        return self._finish(self._flush(), b"", strict)

    def reset(self) -> None:
        """Forget stream state (buffers, previous time stamps); keep settings and totals."""
        self._reset_state()

    def empty(self, errors: Iterable[FrameError] = ()) -> DecodedFrame:
        """A frame without samples, counting ``errors`` as corrupt frames."""
        errors = tuple(errors)
        return DecodedFrame(self.device, n_samples=0, n_corrupt=len(errors), errors=errors)

    def error(self, problem: str, expected: str, payload: bytes = b"") -> FrameError:
        """A :class:`FrameError` for this device."""
        return FrameError(self.device, problem, expected, payload)

    # -- for subclasses ----------------------------------------------------------
    @abc.abstractmethod
    def _decode(self, data: bytes) -> DecodedFrame:
        """Decode ``data``; raise :class:`FrameError` if the whole notification is unusable."""

    def _flush(self) -> DecodedFrame:
        return self.empty()

    def _reset_state(self) -> None:
        pass

    # -- internal ---------------------------------------------------------------
    def _finish(self, frame: DecodedFrame, data: bytes, strict: bool) -> DecodedFrame:
        why = implausible(frame)
        if why is not None:
            err = self.error(f"impossible values: {why}", "values a body-worn IMU can report", data)
            frame = self.empty(errors=frame.errors + (err,))
        self.n_samples_ += frame.n_samples
        self.n_corrupt_ += frame.n_corrupt
        if strict and frame.errors:
            raise frame.errors[0]
        return frame




def no_commands(**_settings) -> tuple:
    """For standard services whose notifications start on subscription: nothing to write."""
    return ()


@dataclass(frozen=True)
class GattWrite:
    """One write to a characteristic, part of a start or stop sequence.

    Attributes
    ----------
    char_uuid
        Characteristic to write to (lower-case 128-bit UUID string).
    data
        The bytes to write.
    with_response
        Write request (True) or write command (False).
    delay_after_s
        Pause before the next write (some firmware needs it).
    description
        What the write does, for logs.
    """

    char_uuid: str
    data: bytes
    with_response: bool = True
    delay_after_s: float = 0.0
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "char_uuid", normalise_uuid(self.char_uuid))
        if not isinstance(self.data, (bytes, bytearray)):
            raise TypeError(f"GattWrite.data must be bytes, got {type(self.data).__name__}")
        object.__setattr__(self, "data", bytes(self.data))
        if self.delay_after_s < 0:
            raise ValueError(f"delay_after_s must be ≥ 0, got {self.delay_after_s}")


@dataclass(frozen=True)
class DeviceProfile:
    """Everything the streaming layer needs to know about one kind of device.

    Attributes
    ----------
    key
        Short identifier (``"witmotion-wt901ble"``).
    name
        Human-readable name.
    service_uuid
        Primary GATT service that carries the data.
    notify_uuids
        Characteristics to enable notifications on, in order, before the start
        writes.
    write_uuid
        Characteristic commands are written to, or None.
    advertised_names
        Regular expressions (case-insensitive, matched at the start) for the
        advertised local name.
    advertised_uuids
        Service UUIDs that identify the device in advertisements.
    timing
        ``"sample-counter"``, ``"sensor-time"`` or ``"host-time"``: what gives
        sample indices and tells lost samples.
    time_epoch
        Meaning of ``DecodedFrame.sensor_time_s`` zero, or "" without sensor time.
    build_start, build_stop, build_decoder
        ``f(**settings)``: the writes that start / stop streaming
        (``tuple[GattWrite, ...]``) and a fresh :class:`Decoder`.  All three take
        the same keyword settings (rate, ranges …, see each module), so one
        settings dict configures the device and its decoder consistently.
    generic
        True for standard SIG services many devices expose (heart rate, RSC):
        the registry prefers a device-specific profile when one matches too.
    notes
        Caveats (unverified scaling, firmware needed …).
    """

    key: str
    name: str
    service_uuid: str
    notify_uuids: tuple[str, ...]
    write_uuid: str | None
    advertised_names: tuple[str, ...]
    advertised_uuids: tuple[str, ...]
    timing: str
    time_epoch: str
    build_start: Callable[..., tuple[GattWrite, ...]]
    build_stop: Callable[..., tuple[GattWrite, ...]]
    build_decoder: Callable[..., Decoder]
    generic: bool = False
    notes: str = ""

    def __post_init__(self) -> None:
        if self.timing not in ("sample-counter", "sensor-time", "host-time"):
            raise ValueError(f"timing must be 'sample-counter', 'sensor-time' or 'host-time', got {self.timing!r}")
        object.__setattr__(self, "service_uuid", normalise_uuid(self.service_uuid))
        object.__setattr__(self, "notify_uuids", tuple(normalise_uuid(u) for u in self.notify_uuids))
        if self.write_uuid is not None:
            object.__setattr__(self, "write_uuid", normalise_uuid(self.write_uuid))
        object.__setattr__(self, "advertised_uuids", tuple(normalise_uuid(u) for u in self.advertised_uuids))
        for pattern in self.advertised_names:
            re.compile(pattern)

    def start_commands(self, **settings: Any) -> tuple[GattWrite, ...]:
        """Writes that start streaming (after notifications are enabled)."""
        return tuple(self.build_start(**settings))

    def stop_commands(self, **settings: Any) -> tuple[GattWrite, ...]:
        """Writes that stop streaming (before notifications are disabled)."""
        return tuple(self.build_stop(**settings))

    def decoder(self, **settings: Any) -> Decoder:
        """A fresh decoder for one connection."""
        return self.build_decoder(**settings)

    def matches_name(self, name: str | None) -> bool:
        """Whether an advertised local name fits this profile."""
        if not name:
            return False
        return any(re.match(p, name, flags=re.IGNORECASE) for p in self.advertised_names)
