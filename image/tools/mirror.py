"""Print the Debian mirror the build host's apt already uses for SUITE (the image is built from the
same place the host installs from; nothing is written into the repository).

    python3 image/tools/mirror.py bookworm      # MIRROR=... in the environment wins

Reads one-line sources (sources.list, *.list) and deb822 sources (*.sources); the first "deb"
entry that serves SUITE with the main component is the answer.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

APT = Path("/etc/apt")


def one_line_entries(text: str):
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) < 3 or words[0] != "deb":
            continue
        words = [w for w in words[1:] if not (w.startswith("[") or w.endswith("]") or "=" in w)]
        if len(words) >= 3:
            yield words[0], [words[1]], words[2:]


def deb822_entries(text: str):
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line or line[:1].isspace():
                continue
            key, value = line.split(":", 1)
            fields[key.strip().lower()] = value.strip()
        if "deb" not in fields.get("types", "").split() or fields.get("enabled", "yes").lower() == "no":
            continue
        for uri in fields.get("uris", "").split():
            yield uri, fields.get("suites", "").split(), fields.get("components", "").split()


def find_mirror(suite: str, apt_dir: Path = APT) -> str | None:
    files = [apt_dir / "sources.list"] + sorted((apt_dir / "sources.list.d").glob("*"))
    for path in files:
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        entries = deb822_entries(text) if path.suffix == ".sources" else (
            one_line_entries(text) if path.suffix == ".list" or path.name == "sources.list" else ())
        for uri, suites, components in entries:
            if suite in suites and "main" in components:
                return uri.rstrip("/")
    return None


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: mirror.py SUITE", file=sys.stderr)
        return 2
    if os.environ.get("MIRROR"):
        print(os.environ["MIRROR"].rstrip("/"))
        return 0
    found = find_mirror(argv[1])
    if found is None:
        print(f"mirror.py: no apt source of this host serves '{argv[1]} main'; set MIRROR=<url>", file=sys.stderr)
        return 2
    print(found)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
