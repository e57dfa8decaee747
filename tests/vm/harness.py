"""A throw-away QEMU guest with kernel Bluetooth, for full-stack BLE tests.

Why a virtual machine: the host kernel of a CI machine usually has no Bluetooth
(no ``/dev/vhci``, no ``AF_BLUETOOTH``), yet the only honest test of the BLE
ingest is unmodified bleak talking D-Bus to a real ``bluetoothd`` that drives a
real kernel HCI device.  The guest gives us that: Debian's stock kernel (which
has ``hci_vhci``) booted under QEMU with TCG (no KVM needed), a busybox
initramfs that mounts the *host's* root file system read-only over virtio-9p
with a tmpfs overlay, so the guest runs the very same ``.venv`` and checkout as
the host, and a second 9p share through which results come back.  See
``/work/shared/ble/TESTING.md`` §3 for what was learnt getting there.

Everything it needs is installed by this module (``apt-get`` for the host
packages, ``apt-get download`` for the kernel) into ``.cache/vm/`` of the
checkout (git-ignored); a machine where that is impossible gets a
:class:`HarnessUnavailable` that says why, and tests skip with that reason.

Command line (for humans debugging the harness)::

    python tests/vm/harness.py missing-packages # Debian packages still to install (for the Makefile)
    python tests/vm/harness.py build            # install, download, build; print paths
    python tests/vm/harness.py run -- CMD ...   # boot, run CMD in the checkout, print its output
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("BACKSTRIDE_VM_CACHE", ROOT / ".cache" / "vm"))
HERE = Path(__file__).resolve().parent

#: Host executables the harness needs → the Debian package that provides each.
HOST_TOOLS = {
    "qemu-system-x86_64": "qemu-system-x86",
    "busybox": "busybox-static",
    "cpio": "cpio",
    "depmod": "kmod",
    "modprobe": "kmod",
    "dbus-daemon": "dbus",
    "/usr/libexec/bluetooth/bluetoothd": "bluez",
}
#: Modules the initramfs loads to reach the host's root over virtio-9p and lay a tmpfs over it.
INITRAMFS_MODULES = ("virtio_pci", "9pnet_virtio", "9p", "overlay")
#: Guest memory; TCG guests with a Python process or two fit well within this.
GUEST_MEMORY_MB = 768


class HarnessUnavailable(RuntimeError):
    """The guest cannot be built on this machine (the message says what is missing)."""


@dataclass(frozen=True)
class GuestImage:
    kernel: Path
    initramfs: Path
    modules: Path  # the lib/modules directory of the unpacked kernel package
    kernel_release: str


@dataclass(frozen=True)
class GuestRun:
    exit_code: int | None  # of the command; None if the guest never reported one
    wall_s: float
    results: Path
    console: str

    def output(self) -> str:
        path = self.results / "cmd.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _log(msg: str) -> None:
    print(f"[vm] {msg}", file=sys.stderr, flush=True)


def _which(tool: str) -> str | None:
    if tool.startswith("/"):
        return tool if os.access(tool, os.X_OK) else None
    return shutil.which(tool) or next(
        (str(p) for d in ("/usr/sbin", "/sbin", "/usr/bin", "/bin") if os.access(p := Path(d) / tool, os.X_OK)), None
    )


def missing_packages() -> list[str]:
    """Debian packages of :data:`HOST_TOOLS` not installed here."""
    return sorted({pkg for tool, pkg in HOST_TOOLS.items() if _which(tool) is None})


def ensure_host_packages() -> None:
    """Install the Debian packages the guest needs, if any is missing (needs root and apt-get)."""
    missing = missing_packages()
    if not missing:
        return
    if sys.platform != "linux" or shutil.which("apt-get") is None:
        raise HarnessUnavailable(f"missing host packages {missing} and no apt-get to install them")
    if os.geteuid() != 0:
        raise HarnessUnavailable(f"missing host packages {missing}; install them as root: apt-get install {' '.join(missing)}")
    _log(f"apt-get install {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        subprocess.run(["apt-get", "update", "-q"], check=True, env=env, stdout=subprocess.DEVNULL)
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing], check=True, env=env, stdout=subprocess.DEVNULL
        )
    except subprocess.CalledProcessError as err:
        raise HarnessUnavailable(f"apt-get could not install {missing}: {err}") from err
    still = sorted({pkg for tool, pkg in HOST_TOOLS.items() if _which(tool) is None})
    if still:
        raise HarnessUnavailable(f"after apt-get, still missing {still}")


def _kernel_package() -> str:
    """Name of the current Debian kernel image package (``linux-image-6.1.0-NN-amd64``)."""
    out = subprocess.run(["apt-cache", "depends", "linux-image-amd64"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "Depends:" and parts[1].startswith("linux-image-"):
            return parts[1]
    raise HarnessUnavailable("apt-cache knows no linux-image-amd64 (is this Debian with its package lists?)")


def ensure_kernel() -> tuple[Path, Path, str]:
    """Download and unpack Debian's kernel package (has CONFIG_BT_HCIVHCI=m); run depmod on it."""
    unpacked = CACHE / "kernel"
    done = unpacked / ".unpacked"
    if not done.exists():
        if shutil.which("apt-get") is None:
            raise HarnessUnavailable("no apt-get to download a Debian kernel")
        package = _kernel_package()
        download = CACHE / "download"
        shutil.rmtree(download, ignore_errors=True)
        download.mkdir(parents=True)
        _log(f"apt-get download {package}")
        # apt's sandbox user cannot write into a root-owned cache; let it fetch unsandboxed there.
        result = subprocess.run(["apt-get", "download", "-q", package], cwd=download, capture_output=True, text=True)
        debs = list(download.glob("*.deb"))
        if result.returncode != 0 or not debs:
            raise HarnessUnavailable(f"apt-get download {package} failed: {result.stderr.strip()[-500:]}")
        shutil.rmtree(unpacked, ignore_errors=True)
        subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(unpacked)], check=True)
        shutil.rmtree(download)
        release = next((unpacked / "lib" / "modules").iterdir()).name
        subprocess.run([_which("depmod"), "-b", str(unpacked), release], check=True)
        done.write_text(release)
    release = done.read_text().strip()
    kernel = unpacked / "boot" / f"vmlinuz-{release}"
    return kernel, unpacked / "lib" / "modules", release


def _module_files(modules_root: Path, release: str, names) -> list[Path]:
    """The .ko files for ``names`` and their dependencies, in load order."""
    files: list[Path] = []
    for name in names:
        out = subprocess.run(
            [_which("modprobe"), "-d", str(modules_root.parent.parent), "-S", release, "--show-depends", name],
            capture_output=True, text=True, check=True,
        ).stdout
        for line in out.splitlines():
            parts = line.split()
            if parts and parts[0] == "insmod" and Path(parts[1]) not in files:
                files.append(Path(parts[1]))
    return files


def ensure_initramfs(modules_root: Path, release: str) -> Path:
    """Busybox initramfs whose /init mounts the host root (9p) under a tmpfs overlay, then hands over."""
    init_text = (HERE / "initramfs_init.sh").read_text()
    modules = _module_files(modules_root, release, INITRAMFS_MODULES)
    busybox = Path(_which("busybox"))
    key = hashlib.sha256(
        "\n".join([init_text, release, str(busybox.stat().st_size), *map(str, modules)]).encode()
    ).hexdigest()[:16]
    target = CACHE / f"initramfs-{key}.cpio.gz"
    if target.exists():
        return target
    for old in CACHE.glob("initramfs-*.cpio.gz"):
        old.unlink()
    _log(f"building {target.name}")
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp)
        for d in ("bin", "dev", "proc", "sys", "lower", "upper", "newroot", "modules"):
            (tree / d).mkdir()
        shutil.copy2(busybox, tree / "bin" / "busybox")
        for applet in ("sh", "mount", "mkdir", "insmod", "switch_root", "cat", "echo", "poweroff", "sleep", "ls"):
            (tree / "bin" / applet).symlink_to("busybox")
        order = []
        for i, ko in enumerate(modules):
            name = f"{i:02d}-{ko.name}"
            shutil.copy2(ko, tree / "modules" / name)
            order.append(name)
        (tree / "modules" / "order").write_text("\n".join(order) + "\n")
        (tree / "init").write_text(init_text)
        (tree / "init").chmod(0o755)
        listing = subprocess.run(["find", "."], cwd=tree, capture_output=True, check=True).stdout
        archive = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=tree, input=listing, capture_output=True, check=True).stdout
        target.write_bytes(gzip.compress(archive, compresslevel=6))
    return target


def build() -> GuestImage:
    """Everything the guest needs, built once into :data:`CACHE` and reused."""
    if sys.platform != "linux" or os.uname().machine != "x86_64":
        raise HarnessUnavailable(f"the VM harness needs an x86_64 Linux host, this is {sys.platform}/{os.uname().machine}")
    ensure_host_packages()
    CACHE.mkdir(parents=True, exist_ok=True)
    kernel, modules, release = ensure_kernel()
    initramfs = ensure_initramfs(modules, release)
    return GuestImage(kernel, initramfs, modules, release)


def run(command: str, *, results: Path, timeout_s: float = 900.0, image: GuestImage | None = None,
        memory_mb: int = GUEST_MEMORY_MB) -> GuestRun:
    """Boot the guest, run ``command`` (a shell line, in the checkout, with bluetoothd up), power off.

    The command runs as root with ``BACKSTRIDE_RESULTS`` pointing at ``results``
    (shared read-write with the host); its output goes to ``results/cmd.log``,
    bluetoothd's to ``results/bluetoothd.log``, the guest console to
    ``results/console.log``.
    """
    image = image or build()
    results = Path(results).resolve()
    results.mkdir(parents=True, exist_ok=True)
    for stale in ("exit_code", "cmd.log", "bluetoothd.log", "console.log", "guest_ready"):
        (results / stale).unlink(missing_ok=True)
    (results / "cmd.sh").write_text(f"cd {shlex.quote(str(ROOT))}\n{command}\n")
    append = " ".join([
        "console=ttyS0", "panic=-1", "loglevel=4", "tsc=reliable",
        f"bs_stage2={HERE / 'guest_init.sh'}", f"bs_modules={image.modules}",
    ])
    qemu = [
        _which("qemu-system-x86_64"), "-accel", "tcg", "-cpu", "max", "-smp", "1", "-m", str(memory_mb),
        "-nographic", "-no-reboot", "-nic", "none", "-monitor", "none", "-serial", "stdio",
        "-kernel", str(image.kernel), "-initrd", str(image.initramfs), "-append", append,
        "-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
        "-virtfs", f"local,path={results},mount_tag=results,security_model=none",
    ]
    start = time.monotonic()
    _log(f"booting guest (TCG, 1 CPU, {memory_mb} MB); console → {results / 'console.log'}")
    with open(results / "console.log", "wb") as console:
        proc = subprocess.Popen(qemu, stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT)
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            _log(f"guest killed after {timeout_s:.0f} s")
    wall_s = time.monotonic() - start
    code_file = results / "exit_code"
    exit_code = int(code_file.read_text().strip()) if code_file.exists() and code_file.read_text().strip() else None
    console_text = (results / "console.log").read_text(errors="replace")
    _log(f"guest done in {wall_s:.0f} s, command exit code {exit_code}")
    return GuestRun(exit_code, wall_s, results, console_text)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("build", "run", "missing-packages"):
        print(__doc__)
        return 2
    if argv[0] == "missing-packages":
        print(" ".join(missing_packages()))
        return 0
    image = build()
    if argv[0] == "build":
        print(image)
        return 0
    command = argv[1:]
    if command and command[0] == "--":
        command = command[1:]
    results = Path(os.environ.get("BACKSTRIDE_VM_RESULTS") or tempfile.mkdtemp(prefix="vm-results-"))
    outcome = run(shlex.join(command), results=results, image=image)
    print(outcome.output())
    print(f"exit code {outcome.exit_code}, {outcome.wall_s:.0f} s, results in {results}")
    return 0 if outcome.exit_code == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
