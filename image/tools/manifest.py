"""The build manifest: one line per input of the image and one for the image itself, each with its
SHA-256, so a build can be audited and repeated (contract 21.1, line 3108: hashed builds and a
record of dependency provenance).

    npac-appliance-manifest 1
    suite bookworm
    source-date-epoch 1767225600
    mirror-release <sha256> <InRelease file name>       the signed index apt resolved from
    deb <package> <version> <arch> <sha256>             every package installed
    wheel <file> <sha256>                               every wheel in the venv (the project's too)
    source <path> <sha256>                              every file of the repository the build reads
    image <file> <sha256> <bytes>

    manifest.py write --out FILE ...            (build.sh)
    manifest.py check-python LOCK DIR           every locked file present with its locked hash
    manifest.py verify MANIFEST IMAGE           the image is the one the manifest describes
"""
from __future__ import annotations

import argparse
import hashlib
import re
import sys
from pathlib import Path
from urllib.parse import quote

HEADER = "npac-appliance-manifest 1"
KINDS = {"suite": 1, "source-date-epoch": 1, "mirror-release": 2, "deb": 4, "wheel": 2, "source": 2, "image": 3}
SHA = re.compile(r"^[0-9a-f]{64}$")


class ManifestError(Exception):
    pass


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def deb_file(name: str, version: str, arch: str) -> str:
    """The file name apt gives a downloaded package (an epoch's ':' is written %3a)."""
    return f"{name}_{quote(version, safe='+~.-')}_{arch}.deb".replace("%3A", "%3a")


def lock_entries(lock_text: str) -> dict[str, str]:
    """name==version -> sha256 from a pip hash lock."""
    out = {}
    for line in lock_text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)\s+--hash=sha256:([0-9a-f]{64})$", line)
        if not m:
            raise ManifestError(f"lock line not understood: {line!r}")
        out[f"{m[1].lower().replace('_', '-')}=={m[2]}"] = m[3]
    return out


def python_file_key(filename: str) -> str | None:
    """name==version of a wheel (name-version-tags.whl) or an sdist (name-version.tar.gz)."""
    if filename.endswith(".whl"):
        parts = filename[:-4].split("-")
        name, version = (parts[0], parts[1]) if len(parts) >= 5 else ("", "")
    elif filename.endswith(".tar.gz"):
        name, _, version = filename[:-7].rpartition("-")
    else:
        return None
    return f"{name.lower().replace('_', '-')}=={version}" if name and version else None


def check_python(lock: Path, directory: Path) -> list[Path]:
    """The locked files in `directory`, each checked against its hash; anything else is ignored."""
    wanted = lock_entries(lock.read_text())
    found: dict[str, Path] = {}
    for f in sorted(directory.iterdir()):
        key = python_file_key(f.name)
        if key in wanted:
            if sha256(f) != wanted[key]:
                raise ManifestError(f"{f.name}: hash differs from {lock.name}")
            found[key] = f
    missing = sorted(set(wanted) - set(found))
    if missing:
        raise ManifestError(f"not downloaded: {', '.join(missing)}")
    return [found[k] for k in sorted(found)]


def source_files(roots: list[Path]) -> list[Path]:
    files = []
    for r in roots:
        files += [r] if r.is_file() else [p for p in r.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    return sorted(files)


def build_lines(*, suite: str, epoch: int, releases: list[Path], installed: Path, debs: Path, wheels: Path,
                sources: list[Path], image: Path) -> list[str]:
    lines = [HEADER, f"suite {suite}", f"source-date-epoch {epoch}"]
    lines += [f"mirror-release {sha256(r)} {r.name}" for r in sorted(releases)]
    for row in installed.read_text().splitlines():
        name, version, arch = row.split()
        deb = debs / deb_file(name, version, arch)
        if not deb.is_file():
            raise ManifestError(f"no downloaded file for installed package {name} {version} ({deb.name})")
        lines.append(f"deb {name} {version} {arch} {sha256(deb)}")
    lines += [f"wheel {w.name} {sha256(w)}" for w in sorted(wheels.glob("*.whl"))]
    lines += [f"source {s.as_posix()} {sha256(s)}" for s in source_files(sources)]
    lines.append(f"image {image.name} {sha256(image)} {image.stat().st_size}")
    return lines


def parse(text: str) -> list[tuple[str, ...]]:
    """The records of a manifest, each checked for its shape."""
    rows = text.splitlines()
    if not rows or rows[0] != HEADER:
        raise ManifestError(f"not a manifest: the first line must be {HEADER!r}")
    out = []
    for n, row in enumerate(rows[1:], start=2):
        kind, *fields = row.split(" ")
        if kind not in KINDS or len(fields) != KINDS[kind]:
            raise ManifestError(f"line {n}: {row[:60]!r} is not a manifest record")
        digest = {"mirror-release": 0, "deb": 3, "wheel": 1, "source": 1, "image": 1}.get(kind)
        if digest is not None and not SHA.match(fields[digest]):
            raise ManifestError(f"line {n}: not a SHA-256")
        out.append((kind, *fields))
    if sum(1 for r in out if r[0] == "image") != 1:
        raise ManifestError("a manifest names exactly one image")
    return out


def verify(manifest: Path, image: Path) -> str:
    (record,) = [r for r in parse(manifest.read_text()) if r[0] == "image"]
    if image.stat().st_size != int(record[3]) or sha256(image) != record[2]:
        raise ManifestError(f"{image.name} is not the image {manifest.name} describes")
    return f"{image.name}: matches {manifest.name}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="manifest.py")
    sub = parser.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("write")
    w.add_argument("--out", type=Path, required=True)
    w.add_argument("--suite", required=True)
    w.add_argument("--mirror-release", type=Path, nargs="*", default=[])
    w.add_argument("--installed", type=Path, required=True)
    w.add_argument("--debs", type=Path, required=True)
    w.add_argument("--wheels", type=Path, required=True)
    w.add_argument("--sources", type=Path, nargs="+", required=True)
    w.add_argument("--image", type=Path, required=True)
    c = sub.add_parser("check-python")
    c.add_argument("lock", type=Path)
    c.add_argument("directory", type=Path)
    v = sub.add_parser("verify")
    v.add_argument("manifest", type=Path)
    v.add_argument("image", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.cmd == "write":
            import os
            lines = build_lines(suite=args.suite, epoch=int(os.environ.get("SOURCE_DATE_EPOCH", "0")),
                                releases=[r for r in args.mirror_release if r.is_file()], installed=args.installed,
                                debs=args.debs, wheels=args.wheels, sources=args.sources, image=args.image)
            args.out.write_text("\n".join(lines) + "\n")
        elif args.cmd == "check-python":
            check_python(args.lock, args.directory)
        else:
            print(verify(args.manifest, args.image))
    except (ManifestError, OSError, ValueError) as exc:
        print(f"manifest: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
