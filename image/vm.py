"""One appliance under qemu, for the boot test and the cutover drill: UEFI (OVMF) boot of a copy of
the image, the serial console read line by line (and written to, for the npac console), user-mode
networking with forwarded ports, an i6300esb watchdog, and QMP for a clean ACPI power-down.
KVM when /dev/kvm can be opened, software emulation otherwise.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE_4M.fd")
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS_4M.fd")
KVM_GET_API_VERSION = 0xAE00
# some hosts (nested virtualisation) refuse the guest IA32_ARCH_CAPABILITIES MSR that "-cpu host" sets


class VmError(Exception):
    pass


_kvm: bool | None = None


def kvm_usable(probe_seconds: float = 4.0) -> bool:
    """/dev/kvm opens, speaks API 12, and really runs the UEFI firmware: some nested hosts expose a
    KVM that cannot execute firmware code ("KVM internal error ... emulation failure"), and then
    software emulation is the only way to boot."""
    global _kvm
    if _kvm is not None:
        return _kvm
    try:
        fd = os.open("/dev/kvm", os.O_RDWR)
    except OSError:
        _kvm = False
        return False
    try:
        api_ok = fcntl.ioctl(fd, KVM_GET_API_VERSION) == 12
    except OSError:
        api_ok = False
    finally:
        os.close(fd)
    if not api_ok:
        _kvm = False
        return False
    try:
        proc = subprocess.run(["qemu-system-x86_64", "-machine", "q35,accel=kvm", "-cpu", "host,-arch-capabilities",
                               "-m", "256", "-bios", str(OVMF_CODE.with_name("OVMF_CODE.fd")), "-nodefaults",
                               "-display", "none", "-serial", "none", "-monitor", "none"],
                              capture_output=True, text=True, timeout=probe_seconds)
        output = proc.stdout + proc.stderr  # exited by itself within the probe: it failed
        _kvm = False
    except subprocess.TimeoutExpired as exc:
        output = (exc.stdout or b"").decode(errors="replace") + (exc.stderr or b"").decode(errors="replace")
        _kvm = "KVM internal error" not in output and "failed to set MSR" not in output
    return _kvm


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config_partition(disk: Path, offset_mib: int, files: dict[str, Path]) -> None:
    """Put files on the FAT NPAC-CONFIG partition inside a disk image (mtools: no mount, no loop)."""
    target = f"{disk}@@{offset_mib * 1024 * 1024}"
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    dirs = sorted({str(Path(name).parent) for name in files if Path(name).parent != Path(".")})
    for d in dirs:
        subprocess.run(["mmd", "-D", "s", "-i", target, f"::/{d}"], check=False, env=env, capture_output=True)
    for name, source in files.items():
        subprocess.run(["mcopy", "-o", "-i", target, str(source), f"::/{name}"], check=True, env=env)


@dataclass
class Vm:
    name: str
    disk: Path
    workdir: Path
    forwards: dict[str, int] = field(default_factory=dict)   # "tcp:102" -> host port
    extra: list[str] = field(default_factory=list)            # more qemu arguments (drill: cable, interconnect)
    memory_mib: int = 1024
    cpus: int = 2
    proc: subprocess.Popen | None = None
    lines: list[str] = field(default_factory=list)
    started: float = 0.0

    @property
    def qmp_path(self) -> Path:
        return self.workdir / f"{self.name}.qmp"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}-serial.log"

    def command(self) -> list[str]:
        vars_copy = self.workdir / f"{self.name}-OVMF_VARS.fd"
        shutil.copyfile(OVMF_VARS, vars_copy)
        kvm = kvm_usable()
        fwd = ",".join(f"hostfwd={k.split(':')[0]}:127.0.0.1:{port}-:{k.split(':')[1]}" for k, port in self.forwards.items())
        return [
            "qemu-system-x86_64", "-name", self.name,
            "-machine", "q35,accel=" + ("kvm" if kvm else "tcg"), "-cpu", "host,-arch-capabilities" if kvm else "max",
            "-smp", str(self.cpus), "-m", str(self.memory_mib), "-rtc", "base=utc",
            "-drive", f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}",
            "-drive", f"if=pflash,format=raw,file={vars_copy}",
            "-drive", f"file={self.disk},format=raw,if=virtio,cache=unsafe",
            "-netdev", "user,id=carrier" + (f",{fwd}" if fwd else ""), "-device", "virtio-net-pci,netdev=carrier",
            "-object", "rng-random,filename=/dev/urandom,id=rng0", "-device", "virtio-rng-pci,rng=rng0",
            "-device", "i6300esb", "-action", "watchdog=reset",
            "-display", "none", "-monitor", "none", "-serial", "stdio",
            "-qmp", f"unix:{self.qmp_path},server=on,wait=off",
            *self.extra,
        ]

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.qmp_path.unlink(missing_ok=True)
        self.started = time.monotonic()
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        with open(self.log_path, "wb") as log:
            buf = b""
            while chunk := self.proc.stdout.read1(4096):
                log.write(chunk)
                log.flush()
                buf += chunk
                *done, buf = buf.split(b"\n")
                for raw in done:
                    # systemd's status lines carry colour escapes; match on the text
                    self.lines.append(re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", raw.decode("utf-8", "replace")).rstrip("\r"))

    def wait_for(self, patterns: list[str], timeout: float, fail: list[str] = (), grace: float = 10.0) -> dict[str, float]:
        """Seconds since start at which each pattern first appeared on the serial console."""
        seen: dict[str, float] = {}
        checked = 0
        deadline = time.monotonic() + timeout
        while len(seen) < len(patterns):
            while checked < len(self.lines):
                line = self.lines[checked]
                checked += 1
                for bad in fail:
                    if re.search(bad, line):
                        time.sleep(grace)  # the reason follows the failure line: let it reach the log
                        raise VmError(f"{self.name}: {line.strip()} (serial log {self.log_path})")
                for p in patterns:
                    if p not in seen and re.search(p, line):
                        seen[p] = round(time.monotonic() - self.started, 1)
            if self.proc is not None and self.proc.poll() is not None:
                raise VmError(f"{self.name}: qemu exited ({self.proc.returncode}) before {sorted(set(patterns) - set(seen))}")
            if time.monotonic() > deadline:
                raise VmError(f"{self.name}: not seen within {timeout:.0f} s: {sorted(set(patterns) - set(seen))} "
                              f"(serial log {self.log_path})")
            time.sleep(0.1)
        return seen

    def type_line(self, text: str) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(text.encode() + b"\r")
        self.proc.stdin.flush()

    def qmp(self, command: str, arguments: dict | None = None) -> None:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(10)
            s.connect(str(self.qmp_path))
            f = s.makefile("rwb")
            f.readline()
            for cmd, args in (("qmp_capabilities", None), (command, arguments)):
                f.write(json.dumps({"execute": cmd, **({"arguments": args} if args else {})}).encode() + b"\n")
                f.flush()
                while b'"return"' not in (answer := f.readline()):
                    if not answer or b'"error"' in answer:
                        raise VmError(f"{self.name}: QMP {cmd}: {answer!r}")

    def plug_cable(self, chardev: str, path: Path, server: bool) -> None:
        """Connect a serial port's chardev (started as null) to a Unix socket. The firmware treats
        every serial port as a console and reads keys from it, so the cable goes in only once
        Linux runs, as an engineer would plug it after power-on."""
        data = {"addr": {"type": "unix", "data": {"path": str(path)}}, "server": server}
        data.update({"wait": False} if server else {"reconnect": 1})
        self.qmp("chardev-change", {"id": chardev, "backend": {"type": "socket", "data": data}})

    def power_down(self, timeout: float) -> float:
        """ACPI power button; returns seconds until qemu exited by itself."""
        t0 = time.monotonic()
        self.qmp("system_powerdown")
        assert self.proc is not None
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise VmError(f"{self.name}: still running {timeout:.0f} s after the power button") from None
        self._reader.join(10)  # the last lines (the kernel's "Power down") are in self.lines now
        return round(time.monotonic() - t0, 1)

    def saw(self, pattern: str) -> bool:
        return any(re.search(pattern, line) for line in self.lines)

    def kill(self) -> None:
        """Pull the plug (the drill's failure; also cleanup)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
