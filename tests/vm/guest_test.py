"""What runs inside the test guest: the emulated sensor plus a central, then the evidence.

Order of events (each step writes what it saw into the results share, so that the
host-side test judges, not this script):

1. start ``peripheral.py`` (Bumble: vhci controller for bluetoothd + the sensor) and
   wait for its READY line;
2. find the adapter bluetoothd made of the vhci controller (by its public address:
   BlueZ 5.66 has no ``Adapter1.Manufacturer``) and power it on;
3. run the central:

   * ``--central bleak``: plain, unmodified bleak.  Scan, pick the sensor whose
     advertisement ``firmware_interface.registry.identify`` maps to the expected
     profile, connect, enable notifications, write the profile's start commands,
     keep every notification as ``(host time, characteristic, bytes)``; when the
     sensor drops the link, scan again and reconnect; stop after
     ``--stream-s`` seconds of streaming in all.  Output: ``central.json``.
   * ``--central record``: the product, ``backstride record --sensor NAME
     --placement lower-back --out RESULTS/recording --rate HZ``, stopped with
     Ctrl-C once the play log shows ``--stream-s`` seconds of streaming.  Output:
     the crash-safe recording folder, ``record.log`` and ``central.json``.

4. stop the sensor (SIGINT), which closes its play log ``played.jsonl``.

    python tests/vm/guest_test.py --results /mnt/results --stream-s 60 --drop-after-s 30
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

from firmware_interface import registry  # noqa: E402

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


async def scan_for_sensor(adapter: str, expected_profile: str, timeout_s: float = 30.0):
    """First advertisement that the registry maps to ``expected_profile``: (BLEDevice, advertisement, profile)."""
    found: asyncio.Future = asyncio.get_running_loop().create_future()

    def on_advertisement(device, adv):
        profile = registry.identify(adv.local_name or device.name, adv.service_uuids)
        if profile is not None and profile.key == expected_profile and not found.done():
            found.set_result((device, adv, profile))

    async with BleakScanner(on_advertisement, bluez={"adapter": adapter}):
        return await asyncio.wait_for(found, timeout_s)


async def central_bleak(args, out: dict) -> None:
    """Plain bleak: scan, connect, start, stream, survive a dropped link, stop."""
    adapter = out["adapter"]
    settings = dict(sampling_rate_hz=args.rate_hz, acc_range_g=args.acc_range_g, gyr_range_dps=args.gyr_range_dps)
    streamed_s = 0.0
    while streamed_s < args.stream_s and len(out["sessions"]) < 4:
        t_scan = time.monotonic()
        device, adv, profile = await scan_for_sensor(adapter, args.profile)
        say(f"found {adv.local_name} {device.address} → {profile.key} in {time.monotonic() - t_scan:.1f} s")
        out.setdefault("found", []).append({"name": adv.local_name, "address": device.address,
                                            "service_uuids": list(adv.service_uuids), "profile": profile.key})
        session = {"notifications": [], "dropped_by_sensor": False}
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
        try:
            for uuid in profile.notify_uuids:
                await client.start_notify(uuid, on_notify)
            for write in profile.start_commands(**settings):
                await client.write_gatt_char(write.char_uuid, write.data, response=write.with_response)
                if write.delay_after_s:
                    await asyncio.sleep(write.delay_after_s)
            t_start = time.monotonic()
            session["start_utc"] = time.time()
            try:
                await asyncio.wait_for(lost.wait(), timeout=args.stream_s - streamed_s)
                session["dropped_by_sensor"] = True
                say("link dropped by the sensor")
            except asyncio.TimeoutError:
                for write in profile.stop_commands(**settings):
                    await client.write_gatt_char(write.char_uuid, write.data, response=write.with_response)
                await asyncio.sleep(0.5)  # let the STOP answer arrive
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


def central_record(args, out: dict, played_path: Path) -> None:
    """``backstride record`` as a user runs it; stopped with Ctrl-C (SIGINT) after a minute of streaming.

    When to stop is read off the sensor's play log: ``--stream-s`` seconds of
    streaming in all (from each START to the drop, and from the last START on).
    """
    folder = args.results / "recording"
    command = [str(Path(sys.executable).with_name("backstride")), "record", "--sensor", args.sensor_name,
               "--placement", "lower-back", "--out", str(folder), "--rate", str(args.rate_hz)]
    out["command"] = command
    say("running " + " ".join(command))
    log = open(args.results / "record.log", "w")
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                            env=dict(os.environ, COLUMNS="120", TERM="dumb"))
    deadline = time.monotonic() + args.stream_s + 300  # imports under TCG take most of a minute
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"backstride record ended by itself with code {proc.returncode}; see record.log")
            events = _played(played_path)
            starts = [e["t_s"] for e in events if e["kind"] == "start"]
            drops = [e["t_s"] for e in events if e["kind"] in ("drop", "disconnected")]
            streamed = 0.0
            if starts:
                now = max(e["t_s"] for e in events)
                ends = drops + [now]
                streamed = sum(next((d for d in ends if d >= st), now) - st for st in starts)
            if streamed >= args.stream_s:
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path(os.environ.get("BACKSTRIDE_RESULTS", "/mnt/results")))
    parser.add_argument("--central", choices=["bleak", "record"], default="bleak")
    parser.add_argument("--sensor-name", default="backstride-2A01", help="what the record central asks for")
    parser.add_argument("--profile", default="backstride-reference")
    parser.add_argument("--recording", type=Path, default=ROOT / "sample_recordings" / "sim_lower_back_run.parquet")
    parser.add_argument("--stream-s", type=float, default=60.0)
    parser.add_argument("--drop-after-s", type=float, default=30.0)
    parser.add_argument("--sensor-clock-start-us", type=int, default=2**32 - 20_000_000)
    parser.add_argument("--rate-hz", type=int, default=100)
    parser.add_argument("--acc-range-g", type=int, default=16)
    parser.add_argument("--gyr-range-dps", type=int, default=2000)
    args = parser.parse_args(argv)
    results = args.results
    results.mkdir(parents=True, exist_ok=True)
    played = results / "played.jsonl"
    played.unlink(missing_ok=True)
    say("starting the emulated sensor")
    peripheral = subprocess.Popen(
        [sys.executable, str(HERE / "peripheral.py"), "--profile", args.profile, "--recording", str(args.recording),
         "--log", str(played), "--drop-after-s", str(args.drop_after_s),
         "--sensor-clock-start-us", str(args.sensor_clock_start_us)],
        stdout=subprocess.PIPE, stderr=open(results / "peripheral.log", "w"), text=True,
    )
    out = {"central": args.central, "profile": args.profile, "settings": vars(args) | {"results": str(results),
                                                                                    "recording": str(args.recording)},
           "sessions": []}
    out["settings"]["recording"] = str(args.recording)
    code = 1
    try:
        line = peripheral.stdout.readline()
        if not line.startswith("READY"):
            raise RuntimeError(f"emulated sensor did not start (said {line!r}); see peripheral.log")
        say(f"sensor: {line.strip()}")
        out["adapter"] = asyncio.run(power_on_adapter(HOST_CONTROLLER_ADDRESS))
        say(f"adapter {out['adapter']} powered")
        if args.central == "bleak":
            asyncio.run(central_bleak(args, out))
        else:
            central_record(args, out, played)
        code = 0
    except Exception as err:  # noqa: BLE001 - written out for the host-side test to show
        out["error"] = f"{type(err).__name__}: {err}"
        say(f"ERROR {out['error']}")
        import traceback

        traceback.print_exc()
    finally:
        peripheral.send_signal(signal.SIGINT)
        try:
            peripheral.wait(timeout=20)
        except subprocess.TimeoutExpired:
            peripheral.kill()
        (results / "central.json").write_text(json.dumps(out))
    return code


if __name__ == "__main__":
    sys.exit(main())
