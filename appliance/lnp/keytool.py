"""`npac-keys`: generate, inspect and retire LNP key lists (FRS R7-107..R7-110).

    npac-keys generate --system-id 0001 --list-id 1 [--count 1000] [--bits 1024] --out DIR
    npac-keys hash FILE              (prints the MD5 acknowledgement of a public list)
    npac-keys retire FILE KEY_ID...  (marks keys retired in a list file, in place)
    npac-keys show FILE
"""
from __future__ import annotations

import argparse
import sys

from .keys import KeyListError, format_key_list, generate_key_list, hash_file_text, load_key_list, write_key_list


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="npac-keys", description="LNP key lists: generate, hash, retire, show")
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate", help="make a new key list with its public list and MD5 file")
    g.add_argument("--system-id", required=True)
    g.add_argument("--list-id", type=int, required=True)
    g.add_argument("--count", type=int, default=1000)
    g.add_argument("--bits", type=int, default=1024)
    g.add_argument("--out", required=True)
    h = sub.add_parser("hash", help="print the MD5 hashes of a key list")
    h.add_argument("file")
    r = sub.add_parser("retire", help="retire keys of a list file in place")
    r.add_argument("file")
    r.add_argument("key_ids", type=int, nargs="+")
    s = sub.add_parser("show", help="summarise a key list file")
    s.add_argument("file")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        if args.cmd == "generate":
            kl = generate_key_list(args.system_id, args.list_id, args.count, args.bits)
            paths = write_key_list(kl, args.out)
            for kind, path in paths.items():
                print(f"{kind}: {path}")
        elif args.cmd == "hash":
            sys.stdout.write(hash_file_text(load_key_list(args.file)))
        elif args.cmd == "retire":
            kl = load_key_list(args.file)
            missing = [k for k in args.key_ids if k not in kl.public]
            if missing:
                raise KeyListError(f"{args.file}: no key {missing[0]} in list {kl.list_id}")
            kl.retired.update(args.key_ids)
            with open(args.file, "w") as fh:
                fh.write(format_key_list(kl, private=bool(kl.private)))
            print(f"retired {len(args.key_ids)} key(s); {len(kl.active_ids())} active")
        else:
            kl = load_key_list(args.file)
            kind = "private" if kl.private else "public"
            print(f"{kind} key list {kl.list_id} of {kl.system_id}: {len(kl.public)} keys, "
                  f"{len(kl.retired)} retired, {min(k.key_size for k in kl.public.values())}+ bits")
    except KeyListError as exc:
        print(f"npac-keys: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
