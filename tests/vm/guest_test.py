"""What runs inside the test guest: the emulated sensors, then one central run after another.

Order of events (each step writes what it saw into the results share, so that the
host-side test judges, not this script):

1. start ``peripheral.py`` once with every sensor of ``--sensors`` (Bumble: the
   vhci controller for bluetoothd + one controller per sensor, all advertising)
   and wait for its READY line;
2. find the adapter bluetoothd made of the vhci controller (by its public address:
   BlueZ 5.66 has no ``Adapter1.Manufacturer``) and power it on;
3. for every ``--run CENTRAL:TAG:STREAM_S``, in order, with the sensor ``TAG``:

   * ``bleak``: plain, unmodified bleak.  Scan, pick the sensor (by address) whose
     advertisement ``firmware_interface.registry.identify`` maps to its profile,
     connect, enable notifications, write the profile's start commands (Polar:
     after querying its settings; Thingy:52: with the configuration just read),
     keep every notification as ``(host time, characteristic, bytes)``; when the
     sensor drops the link, scan again and reconnect; after ``STREAM_S`` seconds
     of streaming in all, write the stop commands, disable notifications and
     disconnect.  Output: ``TAG/central.json``.
   * ``record``: the product, ``backstride record --sensor NAME --placement
     lower-back --out RESULTS/TAG/recording --rate HZ``, stopped with Ctrl-C once
     the play log shows ``STREAM_S`` seconds of streaming.  Output: the
     crash-safe recording folder, ``TAG/record.log`` and ``TAG/central.json``.
   * ``session``: the product's live path in this process, ``sensing.session.LiveSession.sensors``
     with ``out=``, which is what ``backstride record --sensor ADDRESS --placement P --rate HZ``
     runs (without its terminal view), stopped after ``STREAM_S`` seconds of streaming.  One import
     serves every profile: a ``backstride record`` process costs about two minutes of imports under
     emulation.  ``TAG`` may name several sensors, ``strap+footpod``: one session records them all
     (each at its spec's ``placement``, default lower-back), stopped when each has streamed
     ``STREAM_S`` seconds.  Output: ``TAG/recording`` and ``TAG/central.json`` (the live snapshot).

4. stop the sensors (SIGINT), which closes their play logs ``TAG/played.jsonl``.

    python tests/vm/guest_test.py --results /mnt/results --sensors '[…]' --run bleak:wit:20 --run record:ref:60
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bleak import BleakClient, BleakScanner  # noqa: E402
from dbus_fast import BusType, Message, MessageType, Variant  # noqa: E402
from dbus_fast.aio import MessageBus  # noqa: E402

from firmware_interface import polar_pmd, registry, thingy52  # noqa: E402

sys.path.insert(0, str(HERE))
from emulated_profiles import central_settings  # noqa: E402

HOST_CONTROLLER_ADDRESS = "F0:0D:BA:C0:00:01"  # same as peripheral.HOST_CONTROLLER_ADDRESS (no Bumble import here)


def say(msg: str) -> None:
    print(f"[guest {time.monotonic():8.1f}] {msg}", flush=True)


async def power_on_adapter(address: str, timeout_s: float = 60.0) -> str:
    """Wait for bluetoothd to publish the adapter with this address, power it on, return its name (hci0)."""
    bus = await MessageBus(bus_type=BusType.SYSTEM).connect()
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            reply = await bus.call(Message(destination="org.bluez", path="/", interface="org.freedesktop.DBus.ObjectManager",
                                           member="GetManagedObjects"))
            if reply.message_type == MessageType.METHOD_RETURN:
                for path, ifaces in reply.body[0].items():
                    adapter = ifaces.get("org.bluez.Adapter1")
                    if adapter and adapter["Address"].value.upper() == address:
                        for _ in range(50):
                            r = await bus.call(Message(destination="org.bluez", path=path, interface="org.freedesktop.DBus.Properties",
                                                       member="Set", signature="ssv",
                                                       body=["org.bluez.Adapter1", "Powered", Variant("b", True)]))
                            if r.message_type == MessageType.METHOD_RETURN:
                                return path.rsplit("/", 1)[-1]
                            await asyncio.sleep(0.2)
                        raise RuntimeError(f"adapter {path} would not power on: {r.body}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"no BlueZ adapter with address {address} after {timeout_s:.0f} s")
            await asyncio.sleep(0.5)
    finally:
        bus.disconnect()


async def scan_for_sensor(adapter: str, expected_profile: str, address: str, timeout_s: float = 30.0):
    """First advertisement of ``address`` that the registry maps to ``expected_profile``: (BLEDevice, advertisement, profile)."""
    found: asyncio.Future = asyncio.get_running_loop().create_future()

    def on_advertisement(device, adv):
        profile = registry.identify(adv.local_name or device.name, adv.service_uuids)
        if device.address.upper() == address.upper() and profile is not None and profile.key == expected_profile \
                and not found.done():
            found.set_result((device, adv, profile))

    async with BleakScanner(on_advertisement, bluez={"adapter": adapter}):
        return await asyncio.wait_for(found, timeout_s)


async def central_bleak(run: dict, out: dict) -> None:
    """Plain bleak: scan, connect, start, stream, survive a dropped link, stop."""
    adapter = out["adapter"]
    settings = central_settings(run["profile"], run["rate_hz"])
    streamed_s = 0.0
    while streamed_s < run["stream_s"] and len(out["sessions"]) < 4:
        t_scan = time.monotonic()
        device, adv, profile = await scan_for_sensor(adapter, run["profile"], run["address"])
        say(f"found {adv.local_name} {device.address} → {profile.key} in {time.monotonic() - t_scan:.1f} s")
        out.setdefault("found", []).append({"name": adv.local_name, "address": device.address,
                                            "service_uuids": list(adv.service_uuids), "profile": profile.key})
        session = {"notifications": [], "dropped_by_sensor": False, "writes": []}
        out["sessions"].append(session)
        lost = asyncio.Event()

        def on_notify(characteristic, data: bytearray, _session=session):
            # Only enqueue (host time, bytes): decoding happens later, off the event loop.
            _session["notifications"].append([time.time(), characteristic.uuid, bytes(data).hex()])

        client = BleakClient(device, disconnected_callback=lambda _c: lost.set())
        t_connect = time.monotonic()
        await client.connect(timeout=30.0)
        session["connect_s"] = round(time.monotonic() - t_connect, 3)
        session["mtu"] = client.mtu_size
        say(f"connected in {session['connect_s']} s, MTU {client.mtu_size}")

        async def write(char_uuid: str, data: bytes, response: bool = True) -> None:
            await client.write_gatt_char(char_uuid, data, response=response)
            session["writes"].append([time.time(), char_uuid, data.hex()])

        try:
            start_settings = dict(settings)
            if profile.key == "nordic-thingy52":  # read-modify-write of the motion configuration
                start_settings["current_config"] = bytes(await client.read_gatt_char(thingy52.MOTION_CONFIG_UUID))
                session["current_config"] = start_settings["current_config"].hex()
            for uuid in profile.notify_uuids:
                await client.start_notify(uuid, on_notify)
            if profile.key == "polar-verity-sense":  # Verity Sense: ask what it offers before starting
                for measurement in (polar_pmd.PmdMeasurement.ACC, polar_pmd.PmdMeasurement.GYRO):
                    await write(polar_pmd.CONTROL_POINT_UUID, polar_pmd.get_settings_command(measurement))
            for w in profile.start_commands(**start_settings):
                await write(w.char_uuid, w.data, w.with_response)
                if w.delay_after_s:
                    await asyncio.sleep(w.delay_after_s)
            t_start = time.monotonic()
            session["start_utc"] = time.time()
            try:
                await asyncio.wait_for(lost.wait(), timeout=run["stream_s"] - streamed_s)
                session["dropped_by_sensor"] = True
                say("link dropped by the sensor")
            except asyncio.TimeoutError:
                session["stop_begin_utc"] = time.time()
                for w in profile.stop_commands(**start_settings):
                    await write(w.char_uuid, w.data, w.with_response)
                await asyncio.sleep(0.5)  # let the answers arrive
                for uuid in profile.notify_uuids:
                    await client.stop_notify(uuid)
                session["stopped_utc"] = time.time()
            streamed_s += time.monotonic() - t_start
            session["streamed_s"] = round(time.monotonic() - t_start, 3)
        finally:
            # Also after the sensor dropped the link: only disconnect() closes this client's D-Bus
            # connection, and while it stays open BlueZ keeps its notification sessions and
            # re-enables them on the next connection, so every notification then arrives twice.
            await client.disconnect()
        say(f"session {len(out['sessions'])}: {len(session['notifications'])} notifications, {streamed_s:.1f} s in all")


def _played(path: Path) -> list[dict]:
    """The sensor's play log so far (complete lines only)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines(keepends=True) if line.endswith("\n")]


def central_record(run: dict, out: dict, played_path: Path) -> None:
    """``backstride record`` as a user runs it; stopped with Ctrl-C (SIGINT) after a minute of streaming.

    When to stop is read off the sensor's play log: ``--stream-s`` seconds of
    streaming in all (from each START to the drop, and from the last START on).
    """
    folder = run["folder"] / "recording"
    command = [str(Path(sys.executable).with_name("backstride")), "record", "--sensor", run["name"],
               "--placement", "lower-back", "--out", str(folder), "--rate", str(run["rate_hz"])]
    out["command"] = command
    say("running " + " ".join(command))
    log = open(run["folder"] / "record.log", "w")
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                            env=dict(os.environ, COLUMNS="120", TERM="dumb"))
    deadline = time.monotonic() + run["stream_s"] + 300  # imports under TCG take most of a minute
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"backstride record ended by itself with code {proc.returncode}; see record.log")
            streamed = _streamed_s(_played(played_path))
            if streamed >= run["stream_s"]:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {streamed:.0f} s streamed before the deadline; see record.log and played.jsonl")
            time.sleep(1.0)
        say(f"{streamed:.0f} s streamed; Ctrl-C to backstride record")
        proc.send_signal(signal.SIGINT)
        out["record_exit_code"] = proc.wait(timeout=120)
        out["recording"] = str(folder)
        say(f"backstride record exited with {out['record_exit_code']}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


def central_session(run: dict, out: dict, played_paths: list[Path]) -> None:
    """The product's live path in this process: ``sensing.session.LiveSession.sensors`` with ``out=``,
    exactly what ``backstride record --sensor ADDRESS --placement lower-back --rate HZ`` runs (without its
    terminal view).  One import for all sensors: a ``backstride record`` process per profile would cost
    about two minutes of imports each under emulation.  Stopped once the play log shows ``STREAM_S``
    seconds of streaming.  Output: ``TAG/recording`` and the live snapshot in ``central.json``.
    """
    from sensing.session import LiveSession

    folder = run["folder"] / "recording"
    session = LiveSession.sensors([(s["address"], s.get("placement", "lower-back")) for s in run["specs"]], out=folder,
                                  scan_timeout_s=3.0, sampling_rate_hz=[int(s["rate_hz"]) for s in run["specs"]])
    session.start()
    deadline = time.monotonic() + run["stream_s"] + 120
    try:
        while True:
            snap = session.snapshot()
            if snap["state"] == "error" or not session.running:
                raise RuntimeError(f"the live session ended by itself: {snap.get('error')}")
            streamed = min(_streamed_s(_played(path)) for path in played_paths)
            if streamed >= run["stream_s"]:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {streamed:.0f} s streamed before the deadline; state {snap['state']}")
            time.sleep(0.5)
        say(f"{streamed:.0f} s streamed; stopping the session")
    finally:
        out["stop_begin_utc"] = time.time()
        session.stop(timeout_s=60)
        out["snapshot"] = {k: v for k, v in session.snapshot().items() if k != "sensors"}
        out["recording"] = str(folder)
        out["running_after_stop"] = session.running
    say(f"session: {out['snapshot']}")


def _streamed_s(events: list[dict]) -> float:
    """Seconds of streaming in a play log: from each start to the next drop or disconnection, and to now.

    A device with two streams (an H10's accelerometer and heart rate) starts both in one connection:
    their intervals overlap and count once.
    """
    starts = sorted(e["t_s"] for e in events if e["kind"] == "start")
    if not starts:
        return 0.0
    now = max(e["t_s"] for e in events)
    ends = [e["t_s"] for e in events if e["kind"] in ("drop", "disconnected")] + [now]
    total, covered_to = 0.0, -float("inf")
    for st in starts:
        end = next((d for d in ends if d >= st), now)
        total += max(0.0, end - max(st, covered_to))
        covered_to = max(covered_to, end)
    return total


def _jsonable(value):
    """NumPy scalars as Python numbers, anything else as its text: the results must always be written."""
    return value.item() if hasattr(value, "item") else str(value)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path(os.environ.get("BACKSTRIDE_RESULTS", "/mnt/results")))
    parser.add_argument("--recording", type=Path, default=ROOT / "sample_recordings" / "sim_lower_back_run.parquet")
    parser.add_argument("--sensors", required=True, help="JSON list of sensor specs (see peripheral.py)")
    parser.add_argument("--run", action="append", required=True, metavar="CENTRAL:TAG:STREAM_S",
                        help="bleak or record, with the sensor TAG, for STREAM_S seconds of streaming; in order")
    args = parser.parse_args(argv)
    results = args.results
    results.mkdir(parents=True, exist_ok=True)
    specs = {s["tag"]: s for s in json.loads(args.sensors)}
    runs = []
    for text in args.run:
        central, tag, stream_s = text.split(":")
        tags = tag.split("+")
        if central not in ("bleak", "record", "session") or not set(tags) <= set(specs) or (len(tags) > 1 and central != "session"):
            raise SystemExit(f"--run {text}: central must be bleak, record or session and TAG one of {sorted(specs)} "
                             "(several joined by + for a session)")
        runs.append({**specs[tags[0]], "tags": tags, "specs": [specs[t] for t in tags], "central": central,
                     "stream_s": float(stream_s), "folder": results / tag})
    for run in runs:
        run["folder"].mkdir(parents=True, exist_ok=True)
        (run["folder"] / "central.json").unlink(missing_ok=True)
    for tag in specs:  # the sensors append to their play logs
        (results / tag / "played.jsonl").unlink(missing_ok=True)
    say("starting the emulated sensors")
    peripheral = subprocess.Popen(
        [sys.executable, str(HERE / "peripheral.py"), "--recording", str(args.recording), "--log-dir", str(results),
         "--sensors", args.sensors],
        stdout=subprocess.PIPE, stderr=open(results / "peripheral.log", "w"), text=True,
    )
    code = 0
    try:
        line = peripheral.stdout.readline()
        if not line.startswith("READY"):
            raise RuntimeError(f"emulated sensors did not start (said {line!r}); see peripheral.log")
        say(f"sensors: {line.strip()}")
        names = {s["tag"]: s["name"] for s in json.loads(line.split(" ", 1)[1])}
        adapter = asyncio.run(power_on_adapter(HOST_CONTROLLER_ADDRESS))
        say(f"adapter {adapter} powered")
    except Exception as err:  # noqa: BLE001 - written out for the host-side test to show
        for run in runs:
            (run["folder"] / "central.json").write_text(json.dumps({"error": f"{type(err).__name__}: {err}"}))
        peripheral.kill()
        raise
    try:
        for run in runs:
            run["name"] = names[run["tags"][0]]
            say(f"--- {run['central']} central, sensor {run['tag']} ({run['profile']}, {run['name']})")
            out = {"central": run["central"], "profile": run["profile"], "adapter": adapter, "sessions": [],
                   "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in run.items()},
                   "t0_utc": time.time()}
            try:
                if run["central"] == "bleak":
                    asyncio.run(central_bleak(run, out))
                elif run["central"] == "session":
                    central_session(run, out, [results / t / "played.jsonl" for t in run["tags"]])
                else:
                    central_record(run, out, run["folder"] / "played.jsonl")
            except Exception as err:  # noqa: BLE001 - written out for the host-side test to show
                out["error"] = f"{type(err).__name__}: {err}"
                say(f"ERROR {out['error']}")
                import traceback

                traceback.print_exc()
                code = 1
            out["t1_utc"] = time.time()
            (run["folder"] / "central.json").write_text(json.dumps(out, default=_jsonable))
    finally:
        peripheral.send_signal(signal.SIGINT)
        try:
            peripheral.wait(timeout=20)
        except subprocess.TimeoutExpired:
            peripheral.kill()
    return code


if __name__ == "__main__":
    sys.exit(main())
