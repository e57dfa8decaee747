"""Live ingest speed: four sensors at 200 Hz each through the whole host pipeline.

Four emulated reference-profile sensors (sensing.ble.EmulatedRadio, real time,
19 samples per notification, acc + gyro) stream into one LiveSession that
decodes, indexes, time-maps, records crash-safely (fsync every 0.5 s) and
computes the live metrics.  The sensors play the simulated lower-back and shoe
runs from sample_recordings/ (two of each, with their placements).

Measured:
* drops: samples the sensors sent vs. samples received and written (must be equal, 0 lost);
* CPU: process CPU time over the streaming period / wall time (one core = 100 %).
  The emulated sensors (frame encoding, timers) run in the same process, so the
  figure is an upper bound for the host pipeline; the emulators alone are
  measured too and subtracted;
* latency: notification callback (host time enqueued) → live metrics updated
  for that notification, p50 / p99 / max;
* per-update cost: one ``LiveMetrics.update`` per 19-sample notification at
  200 Hz, alone in one thread (no session, no other sensors), p50 / p99 / max per
  placement: the metrics' own cost, separable from the machine's load and the GIL.

    .venv/bin/python bench/speed_ingest.py [--duration 60] [--updates-only]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import Progress

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sensing.ble import EmulatedRadio, EmulatedReferenceSensor  # noqa: E402
from sensing.formats import open_recording  # noqa: E402
from sensing.session import LiveSession, wait_until  # noqa: E402

FS = 200
PLACEMENTS = ["lower-back", "foot-left", "chest", "foot-right"]


def sensors() -> list[EmulatedReferenceSensor]:
    back = open_recording(ROOT / "sample_recordings" / "sim_lower_back_run.parquet")
    shoe = open_recording(ROOT / "sample_recordings" / "sim_shoe_run.parquet")
    out = []
    for k, placement in enumerate(PLACEMENTS):
        rec = shoe if placement.startswith("foot") else back
        acc = rec.data[["acc_x", "acc_y", "acc_z"]].to_numpy()
        gyr = rec.data[["gyr_x", "gyr_y", "gyr_z"]].to_numpy()
        if rec.sampling_rate_hz != FS:  # play the 100 Hz run at 200 Hz by repeating samples: load matters, not form
            acc, gyr = np.repeat(acc, 2, axis=0), np.repeat(gyr, 2, axis=0)
        out.append(EmulatedReferenceSensor(f"AA:BB:CC:DD:EE:{k:02X}", f"backstride-bench{k}", acc, gyr, sampling_rate_hz=FS,
                                           clock_error_ppm=(-30, 10, 25, -5)[k]))
    return out


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def emulators_alone(duration_s: float) -> float:
    """CPU of the four emulated sensors with a sink that drops every notification."""
    sens = sensors()
    for s in sens:
        s.on_command(b"\x01", lambda _b: None, lambda _b: None)
    c0, t0 = cpu_s(), time.monotonic()
    await asyncio.sleep(duration_s)
    for s in sens:
        s.streaming = False
    return (cpu_s() - c0) / (time.monotonic() - t0)


def update_times_ms(duration_s: float) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per placement: wall time and thread CPU time (ms) of each ``LiveMetrics.update``, one
    19-sample block per call, alone in this thread.  The CPU time leaves out the time the thread
    waited for a core (the machine is shared), so it is the metrics' own cost."""
    from analysis.streaming import LiveMetrics

    out = {}
    sens = sensors()
    for placement, sensor in (("lower-back", sens[0]), ("foot-left", sens[1])):
        n = min(len(sensor.acc), int(duration_s * FS))
        lm = LiveMetrics(placement=placement, sampling_rate_hz=FS)
        wall, cpu = [], []
        for a in range(0, n, 19):
            b = min(n, a + 19)
            t0, c0 = time.perf_counter(), time.thread_time()
            lm.update(np.arange(a, b), sensor.acc[a:b], sensor.gyr[a:b])
            cpu.append(time.thread_time() - c0)
            wall.append(time.perf_counter() - t0)
        out[placement] = (np.array(wall) * 1e3, np.array(cpu) * 1e3)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of streaming (default 60)")
    ap.add_argument("--updates-only", action="store_true",
                    help="only the per-update cost of LiveMetrics (no session, a few seconds)")
    args = ap.parse_args()
    console = Console()
    console.print(f"load average before: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.updates_only:
        for placement, (wall, cpu) in update_times_ms(max(args.duration, 60.0)).items():
            for what, ms in (("wall", wall), ("thread CPU", cpu)):
                console.print(f"one LiveMetrics.update per notification, alone, {placement}, {len(ms)} updates, {what} "
                              f"p50 / p99 / max (ms): [bold]{np.percentile(ms, 50):.3f} / {np.percentile(ms, 99):.2f} / "
                              f"{ms.max():.2f}[/]", soft_wrap=True)
        return 0
    sens = sensors()
    radio = EmulatedRadio(sens)
    out = Path(tempfile.mkdtemp(prefix="bench-ingest-")) / "rec"
    session = LiveSession.sensors([(s.name, p) for s, p in zip(sens, PLACEMENTS)], out=out,
                                  client_backend=radio.client_backend, scanner_backend=radio.scanner_backend,
                                  scan_timeout_s=0.05, sampling_rate_hz=FS)
    session.start()
    if not wait_until(lambda: all(x["state"] == "streaming" for x in session.snapshot()["sensors"]) and
                      len(session.snapshot()["sensors"]) == 4, 120):
        console.print(f"[red]sensors did not start: {session.snapshot()}")
        return 1
    time.sleep(2.0)  # settle (imports, first windows)
    n_lat0 = len(session.latencies_s())
    n_mlat0 = len(session.latencies_s("metrics"))
    c0, t0 = cpu_s(), time.monotonic()
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("streaming 4 × 200 Hz", total=args.duration)
        while (el := time.monotonic() - t0) < args.duration:
            time.sleep(0.5)
            progress.update(task, completed=el)
    c1, t1 = cpu_s(), time.monotonic()
    session.stop()
    cpu_total = (c1 - c0) / (t1 - t0)
    lat = np.array(session.latencies_s()[n_lat0:]) * 1e3
    mlat = np.array(session.latencies_s("metrics")[n_mlat0:]) * 1e3
    snap = session.snapshot()
    sent = sum(sum(n for _, n in s.sent_log) for s in sens)
    received = sum(x["samples_received"] for x in snap["sensors"])
    lost = sum(x["lost_samples"] for x in snap["sensors"])
    written = sum(len(open_recording(out, placement=p).data) for p in PLACEMENTS)
    emu = asyncio.run(emulators_alone(min(args.duration, 20.0)))
    per_update = update_times_ms(max(args.duration, 60.0))
    rows = [
        ("duration (s)", f"{t1 - t0:.1f}"),
        ("samples sent / received / written", f"{sent} / {received} / {written}"),
        ("lost samples", str(lost)),
        ("CPU, whole process incl. emulated sensors (% of one core)", f"{100 * cpu_total:.1f}"),
        ("CPU, emulated sensors alone (% of one core)", f"{100 * emu:.1f}"),
        ("CPU, host pipeline = difference (% of one core)", f"{100 * (cpu_total - emu):.1f}"),
        ("latency notification → snapshot (samples, time, chart) p50 / p99 / max (ms)",
         f"{np.percentile(lat, 50):.2f} / {np.percentile(lat, 99):.2f} / {lat.max():.2f}"),
        ("latency notification → live metrics updated p50 / p99 / max (ms)",
         f"{np.percentile(mlat, 50):.2f} / {np.percentile(mlat, 99):.2f} / {mlat.max():.2f}"),
    ]
    for placement, (wall, cpu) in per_update.items():
        for what, ms in (("wall", wall), ("thread CPU", cpu)):
            rows.append((f"one LiveMetrics.update per notification, alone, {placement}, {len(ms)} updates, {what} "
                         "p50 / p99 / max (ms)", f"{np.percentile(ms, 50):.3f} / {np.percentile(ms, 99):.2f} / {ms.max():.2f}"))
    rows.append(("load average after (1 / 5 / 15 min)", " / ".join(f"{x:.2f}" for x in os.getloadavg())))
    for k, v in rows:
        console.print(f"{k}: [bold]{v}[/]", soft_wrap=True)
    ok = sent == received == written and lost == 0 and (cpu_total - emu) < 0.25 and np.percentile(mlat, 99) < 20
    console.print("targets (no drops, CPU < 25 %, p99 < 20 ms): " + ("[green]met[/]" if ok else "[red]not met[/]"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
