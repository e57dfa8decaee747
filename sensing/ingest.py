"""The live path: notifications → queue → decode and index → record and live metrics.

One long-lived asyncio event loop runs everything (pitfall 5 of STYLE.md: never
block it, never start a second one):

* the notification callback (:meth:`IngestPipeline.callback`) only does
  ``queue.put_nowait((sensor, kind, host_time_s, bytes))``;
* one consumer task (:meth:`IngestPipeline.consume`) takes everything that is
  queued, decodes it with the device's decoder, gives every sample an index
  (:class:`StreamAssembler`), hands the samples to the crash-safe writer (whose
  disk writes run on its own worker thread, :mod:`sensing.chunked`) and to the
  streaming analysis (:mod:`analysis.streaming`), updated right there in the
  consumer: one update costs ~0.1 ms and a detector hop ≤ ~2 ms (bench/speed_ingest.py),
  so a hand-over to worker threads cost more latency (GIL hand-overs of up
  to the 5-ms switch interval) than it saved;
* sources put notifications in: BLE sensors (:mod:`sensing.ble`) or a recording
  replayed through the backstride reference profile's byte frames
  (:func:`replay_source`), so replay goes through exactly the live path.

Sample indices and lost data (never hidden):

* a sample counter (reference profile) or sensor time stamps (Polar, Movesense)
  give each sample its index (:mod:`firmware_interface.counters`); missing
  indices are lost samples;
* a counter or sensor clock that leaps further ahead than the host saw time pass (a
  corrupt frame, a clock set forward mid-stream) is not trusted: the frame is placed
  by the clocks as after a link drop, and a ``clock_jump`` event says so
  (:meth:`StreamAssembler._implausible_jump`);
* devices with neither (WitMotion, Thingy:52, MetaMotion) are indexed in arrival
  order: losses within a connection cannot be seen (the recording says so in
  ``extra["timing"]``), and samples arriving at another rate than the recording's
  (a sensor that kept its own rate) are an error the live view and the file show;
* host receive times come from the session's monotonic clock, anchored once to the
  wall clock (:meth:`IngestPipeline.host_clock`): a wall-clock step mid-recording
  moves nothing;
* a repeated counter or time stamp (a notification delivered twice: BlueZ does
  that with a stale notification session) is dropped and counted in
  ``duplicate_samples``, never recorded under new indices;
* after a link drop the sensor is reconnected and the stream resumes *in the same
  recording*: the first index after the drop comes from the sensor clock when it
  has one that kept running in step with its counter (reference profile: a
  free-running µs clock), else from host receive times, taken against the clock
  fit's minimum-delay line rather than the last (possibly late) notification;
  see :meth:`StreamAssembler._first_index`.  The missing indices are the gap, and
  a ``link_drop`` event in the recording gives its host times and which clock
  measured it (``gap_from``).

Link events and data travel through the one queue, in order: a link drop queued
behind a backlog of frames is applied after them.

Event streams (the standard Heart Rate and Running Speed and Cadence services,
about one notification a second, :class:`EventStream`) share the queue and the
consumer but not the sample model: each notification is one row stamped with
its host receive time (UTC), written at once (:class:`sensing.chunked.EventWriter`).
A notification that does not decode, or carries a heart rate no heart beats
at (above :data:`MAX_HR_BPM`), is counted in ``corrupt_frames`` and never
written; a link drop is an event with its host times, and the stream goes on
after the reconnection, as does any IMU sensor beside it.
"""

from __future__ import annotations

import asyncio
import collections
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from analysis.constants import ACC_COLS, GYR_COLS, MAG_COLS
from analysis.streaming import LiveMetrics
from firmware_interface.base import Decoder, DecodedFrame
from firmware_interface.counters import CounterIndexer, TimestampIndexer
from sensing.timesync import ClockSync

STATES = ("connecting", "streaming", "reconnecting", "finished", "error")

#: Event-stream kind (:data:`sensing.chunked.EVENT_KINDS`) of each standard profile.
EVENT_PROFILES = {"heart-rate": "heart_rate", "running-speed-cadence": "rsc"}
#: Above any human heart rate (the highest recorded are near 300 bpm in infants' tachycardias; adults
#: stay below about 220): a larger value is a garbled notification, counted as corrupt.
MAX_HR_BPM = 300.0
#: Far above human running speed (sprint record about 12.4 m/s): a larger value is counted as corrupt.
MAX_SPEED_M_S = 20.0


@dataclass
class Block:
    """Indexed samples from one notification (SI units, sensor frame)."""

    sample_index: np.ndarray
    acc_m_s2: np.ndarray
    gyr_rad_s: np.ndarray | None
    mag_ut: np.ndarray | None
    host_time_s: float


class StreamAssembler:
    """Decoded notifications of one sensor → :class:`Block` objects with sample indices.

    Parameters
    ----------
    decoder
        The device's decoder (a fresh one per connection: see :meth:`reconnected`).
    sampling_rate_hz
        Nominal rate of the sample index.

    Attributes
    ----------
    samples_received_, lost_samples_, link_drops_, corrupt_frames_, duplicates_ : int
    events_ : list of dict
        Link drops with their host times and the index range they lost.
    clock_ : ClockSync
    """

    def __init__(self, decoder: Decoder, *, sampling_rate_hz: float, check_frame_rate: bool = False):
        self.decoder = decoder
        self.sampling_rate_hz = float(sampling_rate_hz)
        self.check_frame_rate = check_frame_rate
        self.clock_ = ClockSync(sampling_rate_hz=self.sampling_rate_hz)
        self.samples_received_ = 0
        self.lost_samples_ = 0
        self.link_drops_ = 0
        self.corrupt_frames_ = 0
        self.duplicates_ = 0
        self.ignored_frames_ = 0
        self.wrong_rate_frames_ = 0
        self.error_: str | None = None
        self.clock_jumps_ = 0
        self.events_: list[dict] = []
        self._arrivals: tuple[float, int] | None = None  # (host time, samples) at a connection's first frame
        self.timing_: str | None = None
        self._indexer = None
        self._seq_next = 0
        self._offset: int | None = None
        self._last_index: int | None = None
        self._last_sensor_time: float | None = None
        self._time_modulus: float | None = None
        self._last_host: float | None = None
        self._drop_host: float | None = None
        self._drop_open = False  # a link drop with no connection after it yet
        self._clock_consistent = True  # the sensor clock has run in step with the sample counter
        self._clock_offset_s: float | None = None

    # -- link events ---------------------------------------------------------------
    def link_lost(self, host_time_s: float) -> None:
        """The link dropped: the next frame starts a new connection (new counter, new decoder state)."""
        self.link_drops_ += 1
        self._drop_host = host_time_s
        self._drop_open = True
        self._indexer = None
        self._offset = None
        self._clock_offset_s = None  # a new connection restarts the counter: new offset, same clock
        self._arrivals = None
        self.decoder.reset()

    def reconnected(self, decoder: Decoder | None = None) -> None:
        """A new connection streams; optionally with a fresh decoder (settings such as FACTOR may change)."""
        if decoder is not None:
            self.decoder = decoder

    # -- data -------------------------------------------------------------------------
    def feed(self, host_time_s: float, payload: bytes) -> Block | None:
        frame = self.decoder.decode(payload)
        return self.assemble(host_time_s, frame)

    def flush(self, host_time_s: float) -> Block | None:
        return self.assemble(host_time_s, self.decoder.flush())

    def assemble(self, host_time_s: float, frame: DecodedFrame) -> Block | None:
        self.corrupt_frames_ += frame.n_corrupt
        if frame.n_samples == 0:
            return None
        if frame.acc_m_s2 is None:
            self.ignored_frames_ += 1  # e.g. a separate gyroscope stream: not merged (see module notes)
            return None
        rate = frame.extra.get("sampling_rate_hz") if self.check_frame_rate else None
        if rate is not None and len(rate) and abs(float(rate[0]) - self.sampling_rate_hz) > 0.005 * self.sampling_rate_hz:
            # The frame says the sensor samples at another rate than the recording's (it refused the rate
            # command, or was reconfigured): on the recording's time axis its samples would be garbage.
            self.wrong_rate_frames_ += 1
            self.error_ = (f"the sensor streams at {float(rate[0]):g} Hz, not the {self.sampling_rate_hz:g} Hz asked "
                           f"for (did it refuse the rate? give --rate {float(rate[0]):g} for it); "
                           f"{self.wrong_rate_frames_} frames not recorded")
            return None
        raw = self._raw_index(frame, host_time_s)
        jumped = self._offset is not None and self._implausible_jump(raw, host_time_s, frame.n_samples)
        if jumped:  # the counter or sensor clock leapt ahead of the time that passed: index anew from the host's
            self.clock_jumps_ += 1
            self._indexer, self._offset, self._clock_offset_s = None, None, None
            raw = self._raw_index(frame, host_time_s)
        keep = raw >= 0
        self.duplicates_ += int((~keep).sum())
        if self._offset is None:
            self._offset = (self._first_index(frame, raw, host_time_s, event="clock_jump" if jumped else "link_drop")
                            - int(raw[keep][0] if keep.any() else raw[0]))
        idx = raw + self._offset
        if self._last_index is not None:
            behind = keep & (idx <= self._last_index)  # already recorded: a repeat, never a new sample
            self.duplicates_ += int(behind.sum())
            keep &= ~behind
        if not keep.any():
            return None
        idx = idx[keep]
        prev = self._last_index
        if prev is not None and idx[0] > prev + 1:
            self.lost_samples_ += int(idx[0] - prev - 1)
        self.lost_samples_ += int((np.diff(idx) - 1).sum())
        self._last_index = int(idx[-1])
        if frame.sensor_time_s is not None:
            self._check_sensor_clock(frame, raw, keep)
            self._last_sensor_time = float(frame.sensor_time_s[-1])
            self._time_modulus = frame.time_modulus_s
        self._last_host = host_time_s
        self.samples_received_ += len(idx)
        self.clock_.update(self._last_index, host_time_s)
        if self.timing_ == "arrival-order":
            self._check_arrival_rate(host_time_s, len(idx))
        sel = lambda a: None if a is None else a[keep]  # noqa: E731
        return Block(idx, frame.acc_m_s2[keep], sel(frame.gyr_rad_s), sel(frame.mag_ut), host_time_s)

    def _implausible_jump(self, raw: np.ndarray, host_time_s: float, n: int) -> bool:
        """Whether a frame's first new sample lies further ahead of the last one than the host saw time pass: more
        than the host estimate (:meth:`_host_gap`, which can only be too large) plus 2 s or 10 %, the margin
        :meth:`_first_index` gives the sensor clock.  A counter that leapt (a corrupt frame) or a sensor clock set
        forward (a phone app setting a Polar's clock) would otherwise be taken for a gap of days, and every later
        sample for a repeat."""
        keep = raw >= 0
        if self._last_index is None or not keep.any():
            return False
        lost = int(raw[keep][0]) + self._offset - self._last_index - 1
        if lost <= 2.0 * self.sampling_rate_hz:  # within the least margin below: no clock fit needed (every frame)
            return False
        host_gap = self._host_gap(host_time_s, n)
        return lost > host_gap + max(2.0 * self.sampling_rate_hz, 0.1 * host_gap)

    #: A sensor without counter or clock is indexed in arrival order, so its samples must arrive at the recording's
    #: rate: checked once ARRIVAL_CHECK_S of a connection have passed.  Lost notifications only make arrivals slower,
    #: so faster than ARRIVAL_RATE_MAX times the rate is another rate; slower than ARRIVAL_RATE_MIN times it is another
    #: rate or a link that loses most notifications: either way the time axis would be wrong.
    ARRIVAL_CHECK_S = 10.0
    ARRIVAL_RATE_MIN = 0.6
    ARRIVAL_RATE_MAX = 1.1

    def _check_arrival_rate(self, host_time_s: float, n: int) -> None:
        if self._arrivals is None:
            self._arrivals = (host_time_s, -n)  # the first frame's samples were taken before its receipt
        t0, count = self._arrivals
        if count is None:
            return  # checked for this connection
        count += n
        self._arrivals = (t0, count)
        elapsed_s = host_time_s - t0
        if elapsed_s < self.ARRIVAL_CHECK_S:
            return
        self._arrivals = (t0, None)
        rate = count / elapsed_s
        if not self.ARRIVAL_RATE_MIN <= rate / self.sampling_rate_hz <= self.ARRIVAL_RATE_MAX:
            self.error_ = (f"samples arrive at {rate:.3g} per second, not the {self.sampling_rate_hz:g} Hz asked for: "
                           "the sensor streams at another rate (give --rate for it)"
                           + (", or the link loses most notifications" if rate < self.sampling_rate_hz else "")
                           + "; it has no sample counter, so its recording's time axis is wrong")

    def _check_sensor_clock(self, frame: DecodedFrame, raw: np.ndarray, keep: np.ndarray) -> None:
        """Whether the sensor clock runs in step with the sample index (needed to bridge a drop with it).

        With a sample counter: the clock must advance by one sample period per
        counter step, within half a period, from frame to frame.  Without a
        counter the index *is* the clock (always consistent).
        """
        if frame.sample_counter is None:
            self._clock_consistent = True
            return
        ok = keep & (raw >= 0)
        if not ok.any():
            return
        # sensor time minus counter time: constant while the clock is in step (it follows slow drift)
        off = np.asarray(frame.sensor_time_s, dtype=np.float64)[ok] - raw[ok] / self.sampling_rate_hz
        m = frame.time_modulus_s
        if self._clock_offset_s is None:
            self._clock_offset_s = float(off[0])
        dev = off - self._clock_offset_s
        if m:
            dev = np.mod(dev + m / 2, m) - m / 2
        if np.all(np.abs(dev) < 0.5 / self.sampling_rate_hz):
            self._clock_offset_s = float(off[-1])
        else:
            self._clock_consistent = False

    def _raw_index(self, frame: DecodedFrame, host_time_s: float) -> np.ndarray:
        """Index within the current connection."""
        if frame.sample_counter is not None:
            self.timing_ = "sample-counter"
            if self._indexer is None:
                self._indexer = CounterIndexer(counter_modulus=int(frame.counter_modulus or 2**32),
                                               sampling_rate_hz=self.sampling_rate_hz)
            return self._indexer.update(frame.sample_counter, host_time_s=host_time_s)
        if frame.sensor_time_s is not None:
            self.timing_ = "sensor-time"
            if self._indexer is None:
                self._indexer = TimestampIndexer(sampling_rate_hz=self.sampling_rate_hz, time_modulus_s=frame.time_modulus_s)
            return self._indexer.update(frame.sensor_time_s)
        self.timing_ = "arrival-order"
        if self._indexer is None:
            self._indexer = "sequential"
            self._seq_next = 0
        out = self._seq_next + np.arange(frame.n_samples, dtype=np.int64)
        self._seq_next += frame.n_samples
        return out

    def _first_index(self, frame: DecodedFrame, raw: np.ndarray, host_time_s: float, *, event: str = "link_drop"
                     ) -> int:
        """Index of the first sample of a connection: 0 at the start, after a drop from the clocks.

        The gap (samples the sensor took while the link was down) comes from, in
        order of preference:

        1. the sensor clock, when the sensor has one that kept running and ran
           in step with the sample index before the drop (``_clock_consistent``):
           exact, whatever the host was doing;
        2. host receive times.  Not the receive time of the last frame before
           the drop: under CPU starvation notifications reach us seconds late,
           and that lateness would be taken off the gap.  The clock fit's
           minimum-delay line (:mod:`sensing.timesync`) says when the last
           sample was *taken*; the gap runs from there to the new frame.

        The host estimate still vets the sensor clock: a sensor clock that says
        more time passed than the host saw (beyond 2 s or 10 %), or that went
        back, is not trusted (the sensor restarted); the host estimate can only
        be too large (the new frame's own delay), never too small.  With a wrapping
        sensor clock the host estimate also says how many times it wrapped.

        ``event`` names what broke the index: ``link_drop``, or ``clock_jump`` (a counter or sensor clock that leapt
        ahead within a connection: :meth:`_implausible_jump`), recorded with the index range it covers.
        """
        if self._last_index is None:
            return 0
        fs = self.sampling_rate_hz
        n = frame.n_samples
        host_gap = self._host_gap(host_time_s, n)
        gap, source = host_gap, "host time"
        if frame.sensor_time_s is not None and self._last_sensor_time is not None and self._clock_consistent:
            dt = float(frame.sensor_time_s[0]) - self._last_sensor_time
            if self._time_modulus:
                wraps = np.round((host_gap / fs - dt) / self._time_modulus)
                dt += max(0.0, float(wraps)) * self._time_modulus
                if dt < 0:
                    dt += self._time_modulus
            # samples strictly between the last one and this one, at the rate the clock fit measured (an IMU's
            # output rate can be 1-2 % off its nominal one, while its host's µs clock is a crystal)
            fit = self.clock_.fit()
            sensor_gap = dt * (fit.rate_hz if fit is not None else fs) - 1
            if -0.5 <= sensor_gap <= host_gap + max(2.0 * fs, 0.1 * host_gap):
                gap, source = sensor_gap, "sensor clock"
        first = self._last_index + 1 + max(0, int(round(gap)))
        lost_at = self._drop_host if event == "link_drop" and self._drop_host is not None else self._last_host
        if event == "link_drop":
            self._drop_open = False
        self.events_.append({
            "type": event, "lost_at_utc_s": lost_at,
            "resumed_utc_s": host_time_s, "last_index_before": self._last_index, "first_index_after": first,
            "lost_samples": first - self._last_index - 1, "gap_from": source,
        })
        return first

    def open_drop_event(self) -> dict | None:
        """The link drop the stream ended in (the sensor never came back), as an event without its end; else None."""
        if not self._drop_open:
            return None
        self._drop_open = False
        return {"type": "link_drop", "lost_at_utc_s": self._drop_host, "resumed_utc_s": None,
                "last_index_before": self._last_index, "first_index_after": None, "lost_samples": None,
                "gap_from": None}

    def _host_gap(self, host_time_s: float, n: int) -> float:
        """Samples missing between the last indexed sample and a frame of ``n`` received at ``host_time_s``."""
        fs = self.sampling_rate_hz
        fit = self.clock_.fit()
        # arrival-order indices run behind real time wherever samples were lost unseen, and a rate
        # that is off only shows in the fit after a minute: there the last receipt is the better anchor
        if fit is not None and self.timing_ != "arrival-order":
            taken_s = float(fit.utc_s(self._last_index))  # when the last sample was taken (+ the delay floor)
            return max(0.0, (host_time_s - taken_s) * fs - n)
        return max(0.0, (host_time_s - (self._last_host or host_time_s)) * fs - n)


def _write_error_text(writer, rows: str) -> str | None:
    """What a writer's refused chunks mean for the runner (None when the disk took everything)."""
    if writer is None or not writer.write_errors_:
        return None
    return f"could not write to {writer.path}: {writer.write_errors_[-1]}; {writer.unwritten_} {rows} not on disk"


@dataclass
class SensorRuntime:
    """Everything the consumer keeps for one sensor."""

    sensor_id: str
    label: str
    placement: str | None
    assembler: StreamAssembler
    metrics: LiveMetrics | None
    writer: object | None = None  # sensing.chunked.ChunkWriter
    state: str = "connecting"
    error: str | None = None
    t_s: float = 0.0
    ring_size: int = 12000
    samples: collections.deque = field(default_factory=collections.deque)
    n_ring_total: int = 0
    n_ring_samples: int = 0
    rate_window: collections.deque = field(default_factory=collections.deque)
    up: np.ndarray | None = None
    latencies_s: collections.deque = field(default_factory=lambda: collections.deque(maxlen=200000))
    metric_latencies_s: collections.deque = field(default_factory=lambda: collections.deque(maxlen=200000))
    pending_events: list = field(default_factory=list)
    control: Callable[[bytes], None] | None = None
    finished_event: asyncio.Event | None = None

    def writer_state(self, final: bool = False) -> dict:
        a = self.assembler
        fit = a.clock_.fit()
        if final and (drop := a.open_drop_event()) is not None:  # the link never came back: when it was lost
            self.pending_events.append(drop)
        events, self.pending_events = self.pending_events, []
        return {"clock": fit.to_dict() if fit else None, "lost_samples": a.lost_samples_, "link_drops": a.link_drops_,
                "corrupt_frames": a.corrupt_frames_, "samples_received": a.samples_received_, "timing": a.timing_,
                "duplicate_samples": a.duplicates_, "events": events, "error": a.error_, "final": final}

    def rate_hz(self) -> float | None:
        w = self.rate_window
        if len(w) < 2 or w[-1][0] - w[0][0] <= 0:
            return None
        return sum(n for _, n in list(w)[1:]) / (w[-1][0] - w[0][0])

    def snapshot(self) -> dict:
        a = self.assembler
        live = self.metrics.snapshot() if self.metrics is not None else {
            "cadence_spm": None, "trunk_lean_deg": None, "heel_strike": None, "sitting_s": None}
        return {"state": self.state, "error": self.error, "placement": self.placement, "sensor": self.label,
                "samples_received": a.samples_received_, "lost_samples": a.lost_samples_, "link_drops": a.link_drops_,
                "corrupt_frames": a.corrupt_frames_, "duplicate_samples": a.duplicates_, "t_s": self.t_s, "rate_hz": self.rate_hz(), **live}


class EventStream:
    """One event stream (heart rate or RSC) in the consumer: decode, check, write, keep the latest values.

    Attributes
    ----------
    notifications_, measurements_, corrupt_frames_, link_drops_, rr_intervals_ : int
    events_ : list of dict
        Link drops (``lost_at_utc_s``, ``resumed_utc_s``, ``last_before_utc_s``).
    latest_ : dict
        The last measurement's values (column → value) and its ``host_utc_s``.
    """

    def __init__(self, stream_id: str, *, kind: str, label: str, placement: str | None, decoder: Decoder, writer=None):
        if kind not in EVENT_PROFILES.values():
            raise ValueError(f"kind must be one of {', '.join(EVENT_PROFILES.values())}, got {kind!r}")
        self.stream_id = stream_id
        self.kind = kind
        self.label = label
        self.placement = placement
        self.decoder = decoder
        self.writer = writer
        self.state = "connecting"
        self.error: str | None = None
        self.link_error = False
        self.notifications_ = 0
        self.measurements_ = 0
        self.corrupt_frames_ = 0
        self.link_drops_ = 0
        self.rr_intervals_ = 0
        self.events_: list[dict] = []
        self.latest_: dict = {}
        self.finished_event: asyncio.Event | None = None
        self._pending_events: list[dict] = []
        self._drop: dict | None = None
        self._first_host: float | None = None
        self._last_host: float | None = None
        self._hr_sum = 0.0
        self._hr_n = 0
        self._times: collections.deque = collections.deque(maxlen=16)

    # -- link events ---------------------------------------------------------------------------
    def link_lost(self, host_time_s: float) -> None:
        self.link_drops_ += 1
        self._drop = {"type": "link_drop", "lost_at_utc_s": host_time_s, "last_before_utc_s": self._last_host,
                      "resumed_utc_s": None}

    def _end_drop(self, host_time_s: float | None) -> None:
        if self._drop is not None:
            self._drop["resumed_utc_s"] = host_time_s
            self.events_.append(self._drop)
            self._pending_events.append(self._drop)
            self._drop = None

    # -- data -----------------------------------------------------------------------------------
    def row(self, frame: DecodedFrame, host_time_s: float) -> dict | None:
        """The measurement of a decoded notification as a row, or None (counted as corrupt) if impossible."""
        x = frame.extra

        def one(name):
            return float(x[name][0]) if name in x and np.size(x[name]) else None

        if self.kind == "heart_rate":
            hr = one("hr_bpm")
            rr = np.asarray(x.get("rr_s", []), dtype=np.float64)
            if hr is None or not np.isfinite(hr) or hr > MAX_HR_BPM or not np.all(np.isfinite(rr)) or np.any(rr <= 0):
                self.error = f"{self.decoder.device}: heart rate {hr} bpm or RR intervals {rr.tolist()} s impossible"
                return None
            contact = bool(x["contact"][0]) if "contact" in x else None
            return {"host_utc_s": host_time_s, "hr_bpm": hr, "rr_s": rr.tolist(), "energy_kj": one("energy_kj"),
                    "contact": contact}
        speed = one("speed_m_s")
        if speed is None or not np.isfinite(speed) or speed > MAX_SPEED_M_S:
            self.error = f"{self.decoder.device}: speed {speed} m/s impossible"
            return None
        return {"host_utc_s": host_time_s, "speed_m_s": speed, "cadence_per_min": one("cadence_per_min"),
                "stride_length_m": one("stride_length_m"), "total_distance_m": one("total_distance_m"),
                "running": bool(x["running"][0]) if "running" in x else None}

    def feed(self, host_time_s: float, payload: bytes) -> dict | None:
        """Decode one notification; write it; returns its row (None: nothing usable)."""
        self.notifications_ += 1
        self._end_drop(host_time_s)
        frame = self.decoder.decode(payload)
        self.corrupt_frames_ += frame.n_corrupt
        if frame.errors:
            self.error = str(frame.errors[-1])
        if frame.n_samples == 0:
            return None
        row = self.row(frame, host_time_s)
        if row is None:
            self.corrupt_frames_ += 1
            return None
        self.measurements_ += 1
        if self._first_host is None:
            self._first_host = host_time_s
        self._last_host = host_time_s
        self._times.append(host_time_s)
        if self.kind == "heart_rate":
            self.rr_intervals_ += len(row["rr_s"])
            if row["hr_bpm"] > 0:
                self._hr_sum += row["hr_bpm"]
                self._hr_n += 1
        self.latest_ = row
        if self.writer is not None:
            self.writer.append([row], self.writer_state)
            if self.writer.write_errors_:
                self.error = _write_error_text(self.writer, "measurements")
        return row

    def writer_state(self, final: bool = False) -> dict:
        if final:
            self._end_drop(None)  # the link never came back: the gap runs to the end
        events, self._pending_events = self._pending_events, []
        return {"link_drops": self.link_drops_, "corrupt_frames": self.corrupt_frames_, "notifications": self.notifications_,
                "measurements": self.measurements_, "rr_intervals": self.rr_intervals_, "events": events, "final": final}

    def rate_hz(self) -> float | None:
        t = self._times
        if len(t) < 2 or t[-1] <= t[0]:
            return None
        return (len(t) - 1) / (t[-1] - t[0])

    def snapshot(self) -> dict:
        last = self.latest_
        hr_mean = self._hr_sum / self._hr_n if self._hr_n else None
        return {"kind": self.kind, "state": self.state, "error": self.error, "placement": self.placement,
                "sensor": self.label, "measurements": self.measurements_, "notifications": self.notifications_,
                "corrupt_frames": self.corrupt_frames_, "link_drops": self.link_drops_, "rr_intervals": self.rr_intervals_,
                "rate_hz": self.rate_hz(),
                "t_s": None if self._first_host is None else self._last_host - self._first_host,
                "hr_bpm": last.get("hr_bpm"), "hr_mean_bpm": hr_mean, "rr_s": list(last.get("rr_s") or []),
                "contact": last.get("contact"), "energy_kj": last.get("energy_kj"),
                "speed_m_s": last.get("speed_m_s"), "cadence_per_min": last.get("cadence_per_min"),
                "stride_length_m": last.get("stride_length_m"), "total_distance_m": last.get("total_distance_m"),
                "running": last.get("running")}


class IngestPipeline:
    """Queue, consumer and per-sensor state of one live session (one event loop).

    Create it inside the running loop.  ``on_update`` (optional) is called in
    the loop after each consumed batch of notifications.
    """

    def __init__(self, on_update: Callable[[], None] | None = None):
        self.queue: asyncio.Queue = asyncio.Queue()
        self.sensors: dict[str, SensorRuntime] = {}
        self.streams: dict[str, EventStream] = {}
        self.lock = threading.Lock()
        self.on_update = on_update
        self.loop = asyncio.get_running_loop()
        # host receive times: the wall clock read once, advanced by the monotonic clock, so that a wall-clock step
        # while recording (NTP setting the clock of a computer without a battery clock) moves no sample, no gap
        self._wall0_s, self._mono0_s = time.time(), time.monotonic()
        # the step detectors take milliseconds per window: they run on worker threads so that the
        # consumer (and the radio) never waits for them; one thread per sensor keeps each sensor's
        # blocks in order, and a sensor's window analysis never holds up another sensor's update

    def add_sensor(self, sensor_id: str, *, label: str, placement: str | None, decoder: Decoder, sampling_rate_hz: float,
                   writer=None, ring_s: float = 60.0, check_frame_rate: bool = False) -> SensorRuntime:
        """A sensor whose notifications come with ``sensor_id``; ``check_frame_rate``: frames that state
        another sampling rate than ``sampling_rate_hz`` (a sensor that refused the rate) are not used."""
        metrics = LiveMetrics(placement=placement, sampling_rate_hz=sampling_rate_hz) if placement else None
        rt = SensorRuntime(sensor_id, label, placement,
                           StreamAssembler(decoder, sampling_rate_hz=sampling_rate_hz, check_frame_rate=check_frame_rate),
                           metrics,
                           writer=writer, ring_size=int(ring_s * sampling_rate_hz))
        rt.finished_event = asyncio.Event()
        self.sensors[sensor_id] = rt
        return rt

    def add_stream(self, stream_id: str, *, kind: str, label: str, placement: str | None, decoder: Decoder,
                   writer=None) -> EventStream:
        """An event stream (``kind`` ``"heart_rate"`` or ``"rsc"``); its notifications come with ``stream_id``."""
        if stream_id in self.sensors or stream_id in self.streams:
            raise ValueError(f"id {stream_id!r} is already in use in this pipeline")
        es = EventStream(stream_id, kind=kind, label=label, placement=placement, decoder=decoder, writer=writer)
        es.finished_event = asyncio.Event()
        self.streams[stream_id] = es
        return es

    # -- the callback: enqueue only ----------------------------------------------------
    def host_clock(self) -> float:
        """Seconds since 1970 (UTC) by the wall clock as it was when the session began, advanced monotonically."""
        return self._wall0_s + (time.monotonic() - self._mono0_s)

    def callback(self, sensor_id: str, kind: str = "data", clock: Callable[[], float] | None = None):
        """A bleak notification callback ``(sender, data)`` that only enqueues, stamped by :meth:`host_clock`."""
        put = self.queue.put_nowait
        clock = clock or self.host_clock

        def on_notify(_sender, data: bytearray) -> None:
            put((sensor_id, kind, clock(), bytes(data)))

        return on_notify

    # -- link state (called by sources, in the loop) ---------------------------------------
    def set_state(self, sensor_id: str, state: str, error: str | None = None) -> None:
        """Queued too, so that it is applied in order with the data around it."""
        self.queue.put_nowait((sensor_id, "state", self.host_clock(), (state, error)))

    # -- consumer ---------------------------------------------------------------------------
    async def consume(self) -> None:
        """Run until :meth:`stop_consumer`; everything queued before the stop is processed."""
        while True:
            item = await self.queue.get()
            items = [item]
            while True:
                try:
                    items.append(self.queue.get_nowait())
                except asyncio.QueueEmpty:
                    break
            done = False
            with self.lock:
                for it in items:
                    if it is None:
                        done = True
                        continue
                    self._process(*it)
            if self.on_update is not None:
                self.on_update()
            if done:
                return

    def stop_consumer(self) -> None:
        self.queue.put_nowait(None)

    def _process(self, sensor_id: str, kind: str, host_time_s: float, payload) -> None:
        if sensor_id in self.streams:
            self._process_stream(self.streams[sensor_id], kind, host_time_s, payload)
            return
        rt = self.sensors[sensor_id]
        a = rt.assembler
        if kind == "state":
            state, error = payload
            if state == "reconnecting" and rt.state == "streaming":
                a.link_lost(host_time_s)
                if rt.writer is not None:  # what arrived before the drop goes to disk now
                    rt.writer.flush(rt.writer_state())
            if state in ("finished", "error"):
                blk = a.flush(host_time_s)
                if blk is not None:
                    self._use_block(rt, blk)
            # what the data or the disk showed stays said past the state change
            rt.state, rt.error = state, error or a.error_ or _write_error_text(rt.writer, "samples")
            if state in ("finished", "error") and rt.finished_event is not None:
                rt.finished_event.set()
            return
        if kind == "control":
            if rt.control is not None:
                try:
                    rt.control(payload)
                except ValueError as exc:  # a malformed response: counted, never fatal
                    a.corrupt_frames_ += 1
                    rt.error = str(exc)
            return
        if rt.state in ("connecting", "reconnecting"):
            rt.state = "streaming"
            if rt.metrics is not None:
                rt.error = None  # a connection error is over once data flow again
        blk = a.feed(host_time_s, payload)
        if a.error_ is not None:
            rt.error = a.error_
        if blk is not None:
            self._use_block(rt, blk)
            rt.latencies_s.append(self.host_clock() - host_time_s)

    def _process_stream(self, es: EventStream, kind: str, host_time_s: float, payload) -> None:
        if kind == "state":
            state, error = payload
            if state == "reconnecting" and es.state == "streaming":
                es.link_lost(host_time_s)
            if error is not None:
                es.error, es.link_error = error, True
            es.state = state
            if state in ("finished", "error") and es.finished_event is not None:
                es.finished_event.set()
            return
        if kind != "data":
            return
        if es.state in ("connecting", "reconnecting"):
            es.state = "streaming"
            if es.link_error:  # a connection error is over once data flow again
                es.error, es.link_error = None, False
        try:
            es.feed(host_time_s, payload)
        except (ValueError, TypeError) as exc:  # never lose the other streams over one bad notification
            es.corrupt_frames_ += 1
            es.error = f"{type(exc).__name__}: {exc}"

    def _use_block(self, rt: SensorRuntime, blk: Block) -> None:
        a = rt.assembler
        fs = a.sampling_rate_hz
        if a.events_:
            rt.pending_events.extend(a.events_)
            a.events_ = []
        if rt.writer is not None:
            values = dict(zip(ACC_COLS, blk.acc_m_s2.T))
            if blk.gyr_rad_s is not None:
                values.update(zip(GYR_COLS, blk.gyr_rad_s.T))
            if blk.mag_ut is not None:
                values.update(zip(MAG_COLS, blk.mag_ut.T))
            missing = [c for c in rt.writer.columns if c not in values]
            if missing:  # a channel the recording was opened with is absent in this frame: never write garbage
                a.corrupt_frames_ += 1
            else:
                rt.writer.append(blk.sample_index, values, rt.writer_state)
                if rt.writer.write_errors_:  # the disk refused a chunk: shown live, said in the file's next state
                    rt.error = _write_error_text(rt.writer, "samples")
        if rt.metrics is not None:
            self._update_metrics(rt, blk)
        rt.t_s = float(blk.sample_index[-1]) / fs
        rt.rate_window.append((blk.host_time_s, len(blk.sample_index)))
        while len(rt.rate_window) > 2 and rt.rate_window[-1][0] - rt.rate_window[0][0] > 2.0:
            rt.rate_window.popleft()
        # live chart: vertical specific force along a slowly updated gravity direction (EMA, ~2 s)
        mean = blk.acc_m_s2.mean(axis=0)
        alpha = min(1.0, len(blk.sample_index) / (2.0 * fs))
        rt.up = mean if rt.up is None else (1 - alpha) * rt.up + alpha * mean
        up = rt.up / (np.linalg.norm(rt.up) or 1.0)
        acc_v = blk.acc_m_s2 @ up
        rt.samples.append((blk.sample_index / fs, acc_v))
        rt.n_ring_samples += len(acc_v)
        rt.n_ring_total += len(acc_v)
        while rt.n_ring_samples - len(rt.samples[0][0]) >= rt.ring_size:
            rt.n_ring_samples -= len(rt.samples.popleft()[0])

    def _update_metrics(self, rt: SensorRuntime, blk: Block) -> None:
        try:
            rt.metrics.update(blk.sample_index, blk.acc_m_s2, blk.gyr_rad_s)
            rt.metric_latencies_s.append(self.host_clock() - blk.host_time_s)
        except Exception as exc:  # never lose the stream over the analysis: show it
            rt.error = f"live metrics: {type(exc).__name__}: {exc}"

    def samples_since(self, sensor_id: str, cursor: int) -> tuple[int, dict]:
        with self.lock:
            rt = self.sensors[sensor_id]
            total = rt.n_ring_total
            first = total - rt.n_ring_samples
            start = max(int(cursor), first)
            blocks = list(rt.samples) if start < total else []
        if not blocks:
            return total, {"t_s": [], "acc_v_m_s2": []}
        t = np.concatenate([b[0] for b in blocks])[start - first:]
        v = np.concatenate([b[1] for b in blocks])[start - first:]
        return total, {"t_s": t.tolist(), "acc_v_m_s2": v.tolist()}

    def snapshots(self) -> list[dict]:
        with self.lock:
            return [rt.snapshot() for rt in self.sensors.values()]

    def stream_snapshots(self) -> list[dict]:
        """Latest values and counts of every event stream (heart rate, RSC)."""
        with self.lock:
            return [es.snapshot() for es in self.streams.values()]


def close_writers(pipeline: IngestPipeline) -> None:
    """Flush and close every writer with its final state (file complete).  A writer the disk refuses to close
    (still full) is said on its sensor, and the others are closed all the same.  When the computer's wall clock
    was changed during the session (receive times follow the clock as it was at the start), the final state says
    by how much."""
    step_s = time.time() - pipeline.host_clock()
    extra = {"wall_clock_step_s": round(step_s, 3)} if abs(step_s) > 1.0 else {}
    for holder in [*pipeline.sensors.values(), *pipeline.streams.values()]:
        if holder.writer is None:
            continue
        try:
            holder.writer.close({**holder.writer_state(final=True), **extra})
        except (OSError, ValueError) as exc:  # (pyarrow's errors are OSError or ValueError subclasses)
            holder.error = f"could not close {holder.writer.path}: {type(exc).__name__}: {exc}"


# ------------------------------------------------------------------------------------------
# Replay: a recording through the reference profile's byte frames and the same queue


def replay_frames(rec) -> list[tuple[float, bytes]]:
    """(time of the frame's last sample in s, notification bytes) for a whole recording.

    Every contiguous segment is encoded with the reference profile's encoder
    (±16 g, ±2000 deg/s: values beyond saturate, and int16 quantisation is
    below 0.005 m/s² and 0.0011 rad/s); the sample counter carries the
    recording's sample index, so a gap in the recording reaches the live path
    as lost samples.
    """
    from firmware_interface import reference

    fs = rec.sampling_rate_hz
    rate_code = int(min(max(round(fs), 10), 2000))
    out = []
    for seg in rec.segments():
        mag = None
        if rec.has_mag:
            a, b = seg.start_index, seg.start_index + len(seg)
            mag = rec.data.loc[a:b - 1, list(MAG_COLS)].to_numpy()
        frames = reference.encode_stream(seg.acc, gyr_rad_s=seg.gyr, mag_ut=mag, first_counter=seg.start_index,
                                         first_time_us=int(round(seg.start_index * 1e6 / fs)),
                                         sampling_rate_hz=rate_code, acc_range_g=16, gyr_range_dps=2000)
        per = reference.samples_per_frame(gyr=seg.gyr is not None, mag=mag is not None)
        for k, frame in enumerate(frames):
            last = seg.start_index + min((k + 1) * per, len(seg)) - 1
            out.append((last / fs, frame))
    return out


async def replay_source(pipeline: IngestPipeline, sensor_id: str, rec, *, speed: float | None, stop: asyncio.Event,
                        start_utc_s: float | None = None) -> None:
    """Push a recording's frames into the pipeline's queue at ``speed`` × real time (None: as fast as possible).

    Host times are virtual (the recording's start plus the sample time), so the
    clock fit and rates look as they did live, whatever the speed.
    """
    t0 = start_utc_s if start_utc_s is not None else (rec.start_utc.timestamp() if rec.start_utc else time.time())
    await play_frames(pipeline, sensor_id, replay_frames(rec), t0_utc_s=t0, speed=speed, stop=stop)


def replay_event_frames(path, kind: str, *, start_utc) -> tuple[list[tuple[float, bytes]], dict]:
    """(time in s from ``start_utc``, notification bytes) of a recorded heart-rate or RSC stream, and its attrs.

    Each recorded notification is encoded again as the standard service sends
    it (Heart Rate Measurement 0x2A37, RSC Measurement 0x2A53), so a replay goes
    through the same decoder as a live strap or footpod; notifications before
    ``start_utc`` are played at time 0.
    """
    import math

    import pandas as pd

    from sensing.ble import encode_heart_rate, encode_rsc
    from sensing.chunked import read_events

    df = read_events(path, kind, start_utc=start_utc)

    def num(x):
        return None if x is None or (isinstance(x, float) and math.isnan(x)) else x

    out = []
    for row in df.itertuples(index=False):
        t_s = max(0.0, float(row.t_s))
        if kind == "heart_rate":
            contact = None if pd.isna(row.contact) else bool(row.contact)
            energy = num(row.energy_kj)
            payload = encode_heart_rate(int(row.hr_bpm), list(row.rr_s), contact=contact,
                                        energy_kj=None if energy is None else int(energy))
        else:
            payload = encode_rsc(float(row.speed_m_s), int(row.cadence_per_min),
                                 stride_length_m=num(row.stride_length_m), total_distance_m=num(row.total_distance_m),
                                 running=bool(row.running))
        out.append((t_s, payload))
    return out, dict(df.attrs)


async def play_frames(pipeline: IngestPipeline, sensor_id: str, frames: list[tuple[float, bytes]], *, t0_utc_s: float,
                      speed: float | None, stop: asyncio.Event) -> None:
    """Push ``(t_s, bytes)`` frames into the pipeline's queue at ``speed`` × real time (None: as fast as possible)."""
    t0 = t0_utc_s
    virtual = [t0]
    callback = pipeline.callback(sensor_id, "data", clock=lambda: virtual[0])
    loop = asyncio.get_running_loop()
    wall0 = loop.time()
    for k, (t_s, payload) in enumerate(frames):
        if stop.is_set():
            break
        if speed is None:
            while pipeline.queue.qsize() > 64:
                await asyncio.sleep(0.001)
            if k % 16 == 0:
                await asyncio.sleep(0)
        else:
            delay = wall0 + t_s / speed - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
        virtual[0] = t0 + t_s
        callback(None, payload)
    pipeline.set_state(sensor_id, "finished")


def default_out_dir(root: str | Path = "recordings") -> Path:
    from datetime import datetime, timezone

    return Path(root) / ("live-" + datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ"))
