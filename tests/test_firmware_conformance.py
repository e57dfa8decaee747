"""One conformance suite every firmware_interface decoder goes through (STYLE item 7).

Each decoder's test module defines ``class Test…Conformance(DecoderConformance)``
with

* ``decoder_class`` and ``make_decoder()``;
* ``good_stream``: notifications (from the published vectors) that must decode
  without any error;
* ``malformed``: ``(label, payload)`` pairs — short, wrong header, bad length,
  impossible values — each of which must be counted as corrupt (or raise
  :class:`FrameError` with ``strict=True``) and never yield a sample;
* ``profiles``: ``(profile, settings, advertised name, advertised UUIDs)`` — one
  settings dict must configure start, stop and decoder alike, and
  :func:`firmware_interface.registry.identify` must map the advertisement to the profile.

Hand-computed expected values live in the decoder's own test module; this suite
checks what all decoders promise: SI units, consistent shapes, errors that name
the device and what was expected, a stream that survives garbage, and state that
``reset()`` clears.
"""

from __future__ import annotations

import importlib
import re
import zlib
from pathlib import Path

import numpy as np
import pytest

import firmware_interface
from analysis.constants import MAX_ABS_ACC_M_S2, MAX_ABS_GYR_RAD_S
from firmware_interface import registry
from firmware_interface.base import MAX_ABS_MAG_UT, DecodedFrame, Decoder, DeviceProfile, FrameError, GattWrite

#: Names in ``DecodedFrame.extra`` must end in a unit, or be one of these unitless names.
UNIT_SUFFIXES = ("_m_s2", "_rad_s", "_rad", "_ut", "_s", "_bpm", "_kj", "_m", "_per_min", "_hz")
UNITLESS_EXTRAS = {"running", "contact", "mag_calibration_status"}


def _frames(decoder: Decoder, payloads, *, strict: bool) -> list[DecodedFrame]:
    frames = [decoder.decode(p, strict=strict) for p in payloads]
    frames.append(decoder.flush(strict=strict))
    return frames


def _samples(frames: list[DecodedFrame]) -> dict[str, np.ndarray]:
    """Everything a stream emitted, channel by channel."""
    out = {}
    for name in ("acc_m_s2", "gyr_rad_s", "mag_ut", "sample_counter", "sensor_time_s"):
        parts = [getattr(f, name) for f in frames if getattr(f, name) is not None]
        if parts:
            out[name] = np.concatenate(parts)
    for f in frames:
        for key, value in f.extra.items():
            out.setdefault(f"extra:{key}", []).append(np.asarray(value))
    return {k: (np.concatenate(v) if isinstance(v, list) else v) for k, v in out.items()}


def _assert_same_samples(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def _check_frame(frame: DecodedFrame, device: str) -> None:
    assert frame.device == device
    assert frame.n_corrupt == len(frame.errors)
    for name, limit in (("acc_m_s2", MAX_ABS_ACC_M_S2), ("gyr_rad_s", MAX_ABS_GYR_RAD_S), ("mag_ut", MAX_ABS_MAG_UT)):
        arr = getattr(frame, name)
        if arr is None:
            continue
        assert arr.dtype == np.float64 and arr.shape == (frame.n_samples, 3), name
        assert np.all(np.isfinite(arr)) and np.all(np.abs(arr) <= limit), name
    if frame.sample_counter is not None:
        assert frame.sample_counter.dtype == np.int64 and frame.sample_counter.shape == (frame.n_samples,)
        assert frame.counter_modulus and np.all((frame.sample_counter >= 0) & (frame.sample_counter < frame.counter_modulus))
    if frame.sensor_time_s is not None:
        assert frame.sensor_time_s.dtype == np.float64 and frame.sensor_time_s.shape == (frame.n_samples,)
        assert np.all(np.isfinite(frame.sensor_time_s))
    for key in frame.extra:
        assert key.endswith(UNIT_SUFFIXES) or key in UNITLESS_EXTRAS, f"extra {key!r} has no unit suffix"
    if frame.n_samples == 0:
        assert frame.channels == ()


class DecoderConformance:
    """Mixin with the tests every decoder must pass; see the module docstring."""

    decoder_class: type[Decoder]
    good_stream: list[bytes] = []
    malformed: list[tuple[str, bytes]] = []
    #: (profile, settings, advertised name, advertised UUIDs)
    profiles: list[tuple[DeviceProfile, dict, str | None, list[str]]] = []

    def make_decoder(self) -> Decoder:
        return self.decoder_class()

    def pytest_generate_tests(self, metafunc):
        if "malformed_case" in metafunc.fixturenames:
            metafunc.parametrize("malformed_case", self.malformed, ids=[label for label, _ in self.malformed])
        if "profile_case" in metafunc.fixturenames:
            metafunc.parametrize("profile_case", self.profiles, ids=[p[0].key for p in self.profiles])

    # -- the published vectors decode cleanly ----------------------------------------------------
    def test_good_stream_decodes_without_errors(self):
        decoder = self.make_decoder()
        frames = _frames(decoder, self.good_stream, strict=True)
        assert sum(f.n_samples for f in frames) > 0
        assert decoder.n_corrupt_ == 0
        assert decoder.n_notifications_ == len(self.good_stream)
        assert decoder.n_samples_ == sum(f.n_samples for f in frames)

    def test_frames_are_si_and_consistent(self):
        decoder = self.make_decoder()
        for frame in _frames(decoder, self.good_stream, strict=True):
            _check_frame(frame, self.decoder_class.device)

    # -- malformed input --------------------------------------------------------------------------
    def test_malformed_is_counted_as_corrupt(self, malformed_case):
        label, payload = malformed_case
        decoder = self.make_decoder()
        frames = _frames(decoder, [payload], strict=False)
        assert sum(f.n_samples for f in frames) == 0, f"{label}: emitted samples"
        assert sum(f.n_corrupt for f in frames) >= 1, f"{label}: not counted as corrupt"
        assert decoder.n_corrupt_ >= 1
        for err in (e for f in frames for e in f.errors):
            assert isinstance(err, FrameError)
            assert str(err).startswith(self.decoder_class.device) and "expected" in str(err)

    def test_malformed_raises_when_strict(self, malformed_case):
        label, payload = malformed_case
        decoder = self.make_decoder()
        with pytest.raises(FrameError, match=re.escape(self.decoder_class.device)):
            decoder.decode(payload, strict=True)
            decoder.flush(strict=True)

    def test_stream_survives_malformed(self, malformed_case):
        """A corrupt notification neither stops the stream nor changes what follows."""
        _, payload = malformed_case
        reference = _samples(_frames(self.make_decoder(), self.good_stream, strict=False))
        decoder = self.make_decoder()
        decoder.decode(payload)
        _assert_same_samples(_samples(_frames(decoder, self.good_stream, strict=False)), reference)

    def test_random_bytes_never_crash_the_stream(self):
        rng = np.random.default_rng(zlib.crc32(self.decoder_class.__name__.encode()))
        decoder, strict_decoder = self.make_decoder(), self.make_decoder()
        for k in range(300):
            if k % 3 == 0 and self.good_stream:
                base = bytearray(self.good_stream[rng.integers(len(self.good_stream))])
                if base and rng.random() < 0.5:
                    base[rng.integers(len(base))] ^= 1 << int(rng.integers(8))
                payload = bytes(base[: rng.integers(len(base) + 1)]) if rng.random() < 0.5 else bytes(base)
            else:
                payload = rng.integers(0, 256, rng.integers(0, 64), dtype=np.uint8).tobytes()
            frame = decoder.decode(payload)
            _check_frame(frame, self.decoder_class.device)
            try:
                strict_decoder.decode(payload, strict=True)
            except FrameError:
                pass
        _check_frame(decoder.flush(), self.decoder_class.device)

    # -- state and input checks ---------------------------------------------------------------------
    def test_reset_restores_a_fresh_stream(self):
        decoder = self.make_decoder()
        first = _samples(_frames(decoder, self.good_stream, strict=True))
        decoder.decode(self.malformed[0][1] if self.malformed else b"")
        decoder.reset()
        _assert_same_samples(_samples(_frames(decoder, self.good_stream, strict=True)), first)

    def test_rejects_text_instead_of_bytes(self):
        with pytest.raises(TypeError, match="bytes"):
            self.make_decoder().decode(self.good_stream[0].hex())

    # -- profile -----------------------------------------------------------------------------------
    def test_profile_is_complete(self, profile_case):
        profile, settings, name, uuids = profile_case
        assert profile in registry.PROFILES
        assert isinstance(profile.decoder(**settings), self.decoder_class)
        for write in profile.start_commands(**settings) + profile.stop_commands(**settings):
            assert isinstance(write, GattWrite) and write.data
            assert write.char_uuid == profile.write_uuid
        assert profile.service_uuid == profile.service_uuid.lower()
        assert profile.notify_uuids, "no characteristic to subscribe to"
        assert registry.identify(name, uuids) is profile


def test_every_decoder_and_profile_goes_through_the_suite():
    """Every Decoder subclass in firmware_interface has a conformance class, every profile is checked."""
    for path in sorted(Path(__file__).parent.glob("test_firmware_*.py")):
        importlib.import_module(path.stem)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    suites = [c for c in subclasses(DecoderConformance) if c.__name__.startswith("Test")]
    decoders = {c for c in subclasses(Decoder) if c.__module__.startswith(firmware_interface.__name__ + ".")}
    assert decoders == {s.decoder_class for s in suites}
    assert set(registry.PROFILES) == {p[0] for s in suites for p in s.profiles}
    for suite in suites:
        labels = " ".join(label for label, _ in suite.malformed)
        assert suite.good_stream and suite.malformed, suite.__name__
        assert "short" in labels, f"{suite.__name__}: no short frame in the malformed table"
