"""The serial line's console: a prompt that runs `npac` (the operations console) commands and nothing
else, so drills can be run from the serial port without any login shell on the appliance. Operators
authenticate to the node itself (`session login`); the session file lives in /run and is forgotten
when the line hangs up or the node reboots.

    npac_serial_console.py [--socket /run/npac/node.sock] [--session /run/npac/console/session]
"""
from __future__ import annotations

import argparse
import os
import shlex
import socket
import subprocess
import sys
from pathlib import Path

BANNER = ("NPAC SMS appliance {host}: operations console on the serial line.\n"
          "Type npac commands (\"help\" lists them, \"session login USER\" first). No shell is reachable here.")


def words_of(line: str) -> list[str] | None:
    """The console arguments a typed line stands for; None for a line that is not one."""
    try:
        words = shlex.split(line)
    except ValueError:
        return None
    if words[:1] == ["npac"]:
        words = words[1:]
    if words in (["help"], ["?"]):
        return ["--help"]
    return words


def run(words: list[str], env: dict[str, str]) -> int:
    return subprocess.run([sys.executable, "-m", "appliance.console", *words], env=env).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="npac-serial-console")
    parser.add_argument("--socket", default="/run/npac/node.sock")
    parser.add_argument("--session", default="/run/npac/console/session")
    args = parser.parse_args(argv)
    Path(args.session).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    env = {**os.environ, "NPAC_CONTROL_SOCKET": args.socket, "NPAC_SESSION_FILE": args.session}
    print(BANNER.format(host=socket.gethostname()), flush=True)
    while True:
        try:
            line = input("npac> ")
        except EOFError:
            Path(args.session).unlink(missing_ok=True)  # hang-up: the next person on the line starts anew
            return 0
        except KeyboardInterrupt:
            print()
            continue
        words = words_of(line)
        if words is None:
            print("unbalanced quotes; nothing run", flush=True)
        elif words:
            run(words, env)


if __name__ == "__main__":
    sys.exit(main())
