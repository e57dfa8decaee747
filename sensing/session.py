"""A live session for the dashboard and the terminal: one event loop in its own daemon thread.

:class:`LiveSession` runs one long-lived asyncio loop in a daemon thread (so a
Dash or terminal UI beside it never blocks the radio, and the radio never
blocks the UI) and feeds live metrics:

* :meth:`LiveSession.replay` plays a recording through the *same* path as live
  data: its samples are encoded as backstride reference-profile notifications
  and pushed through the ingest queue's notification callback, then decoded,
  indexed and analysed exactly like a sensor's;
* :meth:`LiveSession.sensors` connects real BLE sensors with bleak (and, with
  ``out=``, records them crash-safely): IMU sensors, heart-rate straps and
  running speed/cadence footpods (recorded as event streams beside the IMU,
  ``heart_rate.arrows`` and ``rsc.arrows``), in any mix.

The other threads only call :meth:`snapshot` and :meth:`samples_since`, which
copy under a lock.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from pathlib import Path

from analysis.constants import PLACEMENTS

log = logging.getLogger(__name__)

#: Keys of :meth:`LiveSession.snapshot` for one sensor.
SNAPSHOT_KEYS = ("state", "error", "placement", "samples_received", "lost_samples", "duplicate_samples", "link_drops", "t_s",
                 "cadence_spm",
                 "trunk_lean_deg", "heel_strike", "sitting_s", "rate_hz", "hr_bpm", "speed_m_s")


def _empty_snapshot(state: str = "connecting", error: str | None = None, placement: str | None = None) -> dict:
    snap = dict.fromkeys(SNAPSHOT_KEYS)
    snap.update(state=state, error=error, placement=placement, samples_received=0, lost_samples=0, duplicate_samples=0, link_drops=0,
                t_s=0.0)
    return snap


class LoopThread:
    """One long-lived asyncio event loop in a daemon thread, shared by the live sessions of an app.

    BlueZ's D-Bus connection (bleak) belongs to the loop it was made on, so an
    app that starts and stops sessions (the dashboard's Live page) runs them all
    on this one loop rather than a new loop per session (STYLE.md, pitfall 5).
    """

    def __init__(self, name: str = "backstride-live-loop"):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._main, name=name, daemon=True)
        self.thread.start()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
        finally:
            # the worker threads of run_in_executor(None, ...) (file opening, writer closing) end with the loop,
            # not idle until the interpreter exits
            self.loop.run_until_complete(self.loop.shutdown_default_executor())
            self.loop.close()

    def submit(self, coro):
        """Run ``coro`` on the loop; a :class:`concurrent.futures.Future` of its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop the loop, end its executor's threads and join its thread (stop the sessions on it first)."""
        try:
            self.loop.call_soon_threadsafe(self.loop.stop)
        except RuntimeError:  # already closed: closing again is a no-op
            pass
        self.thread.join(timeout_s)


class LiveSession:
    """A live session: an asyncio loop feeding the ingest pipeline and its live metrics.

    Build it with :meth:`replay` or :meth:`sensors`, then :meth:`start` (on a
    loop of its own in a daemon thread, or on a shared :class:`LoopThread`);
    read :meth:`snapshot` and :meth:`samples_since` from any thread;
    :meth:`stop` ends it (idempotent, waits for it to finish).
    """

    def __init__(self, *, mode: str, path: str | Path | None = None, speed: float | None = 1.0, placement: str | None = None,
                 specs: list[tuple[str, str]] | None = None, out: str | Path | None = None, client_backend=None,
                 scanner_backend=None, scan_timeout_s: float = 10.0, sampling_rate_hz: int | None = None):
        self.mode = mode
        self.path = None if path is None else Path(path)
        self.speed = speed
        self.placement = placement
        self.specs = list(specs or [])
        self.out = None if out is None else Path(out)
        self.client_backend = client_backend
        self.scanner_backend = scanner_backend
        self.scan_timeout_s = scan_timeout_s
        self.sampling_rate_hz = sampling_rate_hz
        self._thread: threading.Thread | None = None
        self._started = False
        self._finished = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._stop_requested = threading.Event()
        self._pipeline = None
        self._fatal: str | None = None
        self._done = False
        self._lock = threading.Lock()
        self.recording_dir: Path | None = None

    # -- constructors -----------------------------------------------------------------
    @classmethod
    def replay(cls, path: str | Path, *, speed: float | None = 1.0, placement: str | None = None) -> "LiveSession":
        """Replay a recording (any format :func:`sensing.formats.open_recording` reads) at ``speed`` × real time.

        ``speed=None`` plays as fast as the pipeline takes it.  ``placement``
        overrides the recording's (and chooses the sensor in a multi-sensor
        live recording).
        """
        if speed is not None and not (isinstance(speed, (int, float)) and speed > 0):
            raise ValueError(f"speed must be a positive number (1 = real time) or None (as fast as possible), got {speed!r}")
        if placement is not None and placement not in PLACEMENTS:
            raise ValueError(f"placement must be one of {', '.join(PLACEMENTS)}, got {placement!r}")
        return cls(mode="replay", path=path, speed=speed, placement=placement)

    @classmethod
    def sensors(cls, specs: list[tuple[str, str]], *, out: str | Path | None = None, client_backend=None,
                scanner_backend=None, scan_timeout_s: float = 10.0,
                sampling_rate_hz: int | list[int | None] | None = None) -> "LiveSession":
        """Real BLE sensors: ``[(name_or_address, placement), ...]``; ``out``: record them into this folder.

        ``sampling_rate_hz``: the rate to ask every sensor for, or one per sensor
        (in the order of ``specs``; None: the profile's default) — sensors of
        different makes rarely share a rate.
        """
        if not specs:
            raise ValueError("give at least one (name_or_address, placement) pair")
        if isinstance(sampling_rate_hz, (list, tuple)) and len(sampling_rate_hz) != len(specs):
            raise ValueError(f"give one sampling rate for all sensors or one per sensor: {len(specs)} sensors, "
                             f"{len(sampling_rate_hz)} rates")
        for name, placement in specs:
            if placement not in PLACEMENTS:
                raise ValueError(f"placement of {name!r} must be one of {', '.join(PLACEMENTS)}, got {placement!r}")
        placements = [p for _, p in specs]
        if len(set(placements)) != len(placements):
            raise ValueError(f"each sensor needs its own placement, got {placements}")
        return cls(mode="sensors", specs=specs, out=out, client_backend=client_backend, scanner_backend=scanner_backend,
                   scan_timeout_s=scan_timeout_s, sampling_rate_hz=sampling_rate_hz)

    # -- life cycle ----------------------------------------------------------------------
    def start(self, loop: LoopThread | None = None) -> None:
        """Start (once): on ``loop`` if given, else on a new loop in a thread of its own."""
        if self._started:
            raise RuntimeError("this LiveSession was already started; create a new one")
        self._started = True
        if loop is not None:
            loop.submit(self._run())
            return
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), name=f"backstride-live-{self.mode}",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 15.0) -> None:
        """Stop sources, finish writing, end the loop and join the thread. Idempotent."""
        self._stop_requested.set()
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:  # loop already closed
                pass
        on_loop = loop is not None and not loop.is_closed() and _running_loop() is loop
        if self._started and not on_loop:  # never wait for the loop from the loop itself
            self._finished.wait(timeout_s)
            if self._thread is not None:
                self._thread.join(timeout_s)

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the session ends by itself (a replay finished) or is stopped; True if it ended."""
        if not self._started:
            return False
        return self._finished.wait(timeout_s)

    @property
    def running(self) -> bool:
        return self._started and not self._finished.is_set()

    @property
    def has_sources(self) -> bool:
        """True once the sensors (or the replayed recording) are set up; before, :meth:`snapshot` has none to show."""
        return self._pipeline is not None

    # -- reading (any thread) ---------------------------------------------------------------
    def snapshot(self) -> dict:
        """State and live metrics of the (first) sensor; ``"sensors"`` lists every IMU sensor's.

        ``"streams"`` lists the heart-rate and RSC streams (latest ``hr_bpm``,
        ``rr_s``, ``speed_m_s``, ``cadence_per_min`` …, with their counts);
        ``hr_bpm`` and ``speed_m_s`` at the top are the first such stream's
        latest values (None without one).
        """
        pipeline = self._pipeline
        if pipeline is None:
            snap = _empty_snapshot("error" if self._fatal else "connecting", self._fatal, self.placement)
            snap["sensors"] = [dict(snap)]
            snap["streams"] = []
            return snap
        sensors = pipeline.snapshots()
        streams = pipeline.stream_snapshots()
        if not sensors and not streams:
            snap = _empty_snapshot("error" if self._fatal else "connecting", self._fatal, self.placement)
            snap["sensors"], snap["streams"] = [], []
            return snap
        if sensors:
            snap = {k: sensors[0].get(k) for k in SNAPSHOT_KEYS}
        else:  # heart-rate strap or footpod only: their state is the session's
            snap = _empty_snapshot(streams[0]["state"], streams[0]["error"], streams[0]["placement"])
            snap["link_drops"] = streams[0]["link_drops"]
        hr = [x for x in streams if x["kind"] == "heart_rate"]
        speed = [x for x in streams if x["kind"] == "rsc"]
        snap["hr_bpm"] = hr[0]["hr_bpm"] if hr else None
        snap["speed_m_s"] = speed[0]["speed_m_s"] if speed else None
        if self._fatal:
            snap["state"], snap["error"] = "error", self._fatal
        elif self._done and snap["state"] not in ("error",):
            snap["state"] = "finished"
        snap["sensors"] = sensors
        snap["streams"] = streams
        return snap

    def samples_since(self, cursor: int, sensor: int = 0) -> tuple[int, dict]:
        """``(new_cursor, {"t_s": [...], "acc_v_m_s2": [...]})``: samples after ``cursor`` (start with 0).

        ``acc_v_m_s2`` is the vertical specific force (along a 2-s running mean
        of the acceleration, 9.81 m/s² at rest).  The last 60 s are kept; an
        older cursor gets what is kept.
        """
        pipeline = self._pipeline
        if pipeline is None or not pipeline.sensors:
            return int(cursor), {"t_s": [], "acc_v_m_s2": []}
        sensor_id = list(pipeline.sensors)[sensor]
        return pipeline.samples_since(sensor_id, cursor)

    def latencies_s(self, which: str = "snapshot") -> list[float]:
        """Delays measured so far (all sensors), seconds, from the notification callback to

        ``"snapshot"``: the snapshot holding its samples (counters, time, chart), or
        ``"metrics"``: the live metrics updated with its samples.
        """
        pipeline = self._pipeline
        if pipeline is None:
            return []
        with pipeline.lock:
            return [x for rt in pipeline.sensors.values()
                    for x in (rt.latencies_s if which == "snapshot" else rt.metric_latencies_s)]

    # -- the loop thread ------------------------------------------------------------------------
    async def _run(self) -> None:
        try:
            await self._main()
        except Exception as exc:  # a session must never die silently: the UI shows the error
            self._fatal = f"{type(exc).__name__}: {exc}"
        finally:
            self._done = True
            self._finished.set()

    async def _main(self) -> None:
        from sensing.ingest import IngestPipeline

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        if self._stop_requested.is_set():
            self._stop.set()
        pipeline = IngestPipeline()
        consumer = asyncio.ensure_future(pipeline.consume())
        try:
            if self.mode == "replay":
                await self._run_replay(pipeline)
            else:
                await self._run_sensors(pipeline)
        finally:
            pipeline.stop_consumer()
            await consumer
            from sensing.ingest import close_writers

            await asyncio.get_running_loop().run_in_executor(None, close_writers, pipeline)

    async def _run_replay(self, pipeline) -> None:
        from firmware_interface.reference import ReferenceDecoder
        from sensing.formats import open_recording
        from sensing.ingest import replay_source
        from sensing.recording import RecordingError

        try:
            rec = await asyncio.get_running_loop().run_in_executor(None, lambda: open_recording(self.path, placement=self.placement))
        except (RecordingError, OSError, ValueError) as exc:
            self._fatal = str(exc)
            return
        placement = rec.placement
        rt = pipeline.add_sensor("replay", label=self.path.name, placement=placement, decoder=ReferenceDecoder(),
                                 sampling_rate_hz=rec.sampling_rate_hz)
        self._pipeline = pipeline
        if placement is None:
            rt.error = "placement unknown: live metrics need one (give placement=)"
        task = asyncio.ensure_future(replay_source(pipeline, "replay", rec, speed=self.speed, stop=self._stop))
        streams = await self._replay_event_streams(pipeline, rec)
        await asyncio.gather(task, *streams)
        # the replay's last state change travels through the queue behind its data
        waiter = asyncio.ensure_future(rt.finished_event.wait())
        stopper = asyncio.ensure_future(self._stop.wait())
        await asyncio.wait([waiter, stopper], return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        stopper.cancel()

    async def _replay_event_streams(self, pipeline, rec) -> list:
        """Tasks playing the heart-rate and RSC streams recorded beside the IMU in a live session folder.

        Their notifications go through the same decoders and checks as a live
        strap's or footpod's, on the IMU recording's time axis; nothing is
        written (a replay records nothing).
        """
        from firmware_interface import heart_rate, rsc
        from sensing import chunked
        from sensing.ingest import play_frames, replay_event_frames

        if not self.path.is_dir():
            return []
        t0 = rec.start_utc.timestamp() if rec.start_utc else time.time()
        tasks = []
        for kind, profile in (("heart_rate", heart_rate.PROFILE), ("rsc", rsc.PROFILE)):
            for k, f in enumerate(chunked._event_files(self.path, kind)):
                try:
                    frames, attrs = await asyncio.get_running_loop().run_in_executor(
                        None, lambda f=f, kind=kind: replay_event_frames(f, kind, start_utc=rec.start_utc))
                except (ValueError, OSError) as exc:  # an unreadable strap file: the IMU still replays,
                    log.warning("%s: not replayed: %s", f, exc)  # and the stream shows the reason
                    es = pipeline.add_stream(f"replay-{kind}-{k}", kind=kind, label=f.name, placement=None,
                                             decoder=profile.decoder())
                    es.state, es.error = "error", f"not replayed: {exc}"
                    continue
                sid = f"replay-{kind}-{k}"
                pipeline.add_stream(sid, kind=kind, label=f.name, placement=attrs.get("placement"),
                                    decoder=profile.decoder())
                tasks.append(asyncio.ensure_future(
                    play_frames(pipeline, sid, frames, t0_utc_s=t0, speed=self.speed, stop=self._stop)))
        return tasks

    async def _run_sensors(self, pipeline) -> None:
        from datetime import datetime, timezone

        from sensing import ble, chunked
        from sensing.ingest import EVENT_PROFILES, default_out_dir
        from sensing.recording import SensorInfo

        found = []
        rates = (list(self.sampling_rate_hz) if isinstance(self.sampling_rate_hz, (list, tuple))
                 else [self.sampling_rate_hz] * len(self.specs))
        for (name, placement), rate_hz in zip(self.specs, rates):
            try:
                sensor = await ble.find(name, timeout_s=self.scan_timeout_s, backend=self.scanner_backend)
                settings = ble.default_settings(sensor.profile, sampling_rate_hz=rate_hz)
            except (LookupError, ValueError) as exc:
                self._fatal = str(exc)
                return
            except Exception as exc:  # no system D-Bus (OSError naming a socket), no BlueZ or no adapter (bleak's errors)
                self._fatal = (f"cannot scan for {name!r}: Bluetooth is not available on this machine "
                               f"({type(exc).__name__}: {exc}); is there an adapter, and is bluetoothd running?")
                return
            found.append((sensor, placement, settings))
        links = []
        index = []
        folder = None
        started = datetime.now(timezone.utc)
        if self.out is not None:
            folder = Path(self.out) if str(self.out) else default_out_dir()
            self.recording_dir = folder
        taken: set[str] = set()
        for k, (sensor, placement, settings) in enumerate(found):
            sid = f"s{k}"
            info = SensorInfo(make=sensor.profile.name, model=sensor.name, serial=sensor.address)
            label = f"{sensor.name or '?'} ({sensor.address})"
            # the device's event streams: its own standard service (a plain strap or footpod), or the
            # standard services it advertises beside its IMU profile (a Polar H10's heart rate)
            event_profiles = [sensor.profile] if sensor.profile.generic else list(ble.companion_profiles(sensor))
            companions = []
            for j, prof in enumerate(event_profiles):
                kind = EVENT_PROFILES[prof.key]
                stream_id = sid if sensor.profile.generic else f"{sid}-{kind}"
                writer = None
                if folder is not None:
                    fname = chunked.event_file_name(kind, placement, taken)
                    taken.add(fname)
                    writer = chunked.EventWriter(folder / fname, kind=kind, placement=placement, sensor=info,
                                                 profile=prof.key, address=sensor.address, session_start_utc=started)
                    index.append({"name": sensor.name, "address": sensor.address, "placement": placement,
                                  "profile": prof.key, "file": fname, "kind": kind})
                pipeline.add_stream(stream_id, kind=kind, label=label, placement=placement, decoder=prof.decoder(),
                                    writer=writer)
                if not sensor.profile.generic:
                    companions.append((prof, stream_id))
            if not sensor.profile.generic:
                fs = ble.nominal_rate_hz(sensor.profile, settings)
                decoder = sensor.profile.decoder(**{k2: v for k2, v in settings.items() if k2 != "current_config"}) \
                    if sensor.profile.key != "nordic-thingy52" else _thingy_decoder(settings)
                writer = None
                if folder is not None:
                    channels = ("acc", "gyr") if _has_gyr(sensor.profile, settings) else ("acc",)
                    writer = chunked.ChunkWriter(folder / f"{placement}{chunked.SUFFIX}", sampling_rate_hz=fs,
                                                 channels=channels, placement=placement, sensor=info,
                                                 profile=sensor.profile.key, address=sensor.address)
                    index.append({"name": sensor.name, "address": sensor.address, "placement": placement,
                                  "profile": sensor.profile.key, "file": writer.path.name, "sampling_rate_hz": fs,
                                  "kind": "imu"})
                rt = pipeline.add_sensor(sid, label=label, placement=placement, decoder=decoder, sampling_rate_hz=fs,
                                         writer=writer, check_frame_rate=True)
                if hasattr(decoder, "handle_control_point"):
                    rt.control = decoder.handle_control_point
            links.append(ble.SensorLink(pipeline, sid, sensor, settings, client_backend=self.client_backend,
                                        scanner_backend=self.scanner_backend, companions=companions))
        if folder is not None:
            chunked.write_session_index(folder, index, started_utc=started)
        self._pipeline = pipeline
        tasks = [asyncio.ensure_future(link.run(self._stop)) for link in links]
        await self._stop.wait()
        await asyncio.gather(*tasks, return_exceptions=True)
        # wait until the consumer has seen every link's final state
        for rt in list(pipeline.sensors.values()) + list(pipeline.streams.values()):
            try:
                await asyncio.wait_for(rt.finished_event.wait(), timeout=5.0)
            except asyncio.TimeoutError:
                pass


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _has_gyr(profile, settings) -> bool:
    if profile.key in ("backstride-reference",):
        return bool(settings.get("gyr", True))
    return profile.key in ("witmotion-wt901ble", "nordic-thingy52", "movesense-gatt-sensordata") and (
        profile.key != "movesense-gatt-sensordata" or "IMU" in next(iter(settings["resources"].values())))


def _thingy_decoder(settings):
    from firmware_interface.thingy52 import Thingy52Decoder

    return Thingy52Decoder()


def wait_until(predicate, timeout_s: float, poll_s: float = 0.02) -> bool:
    """Poll ``predicate`` until true or ``timeout_s`` passes (for callers without their own loop)."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(poll_s)
    return bool(predicate())
